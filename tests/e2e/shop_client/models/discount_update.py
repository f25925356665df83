from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="DiscountUpdate")


@_attrs_define
class DiscountUpdate:
    """The fields to change; null clears minSubtotal, startsAt, endsAt, maxRedemptions, productIds, categories

    Attributes:
        percent_off (int | Unset):
        amount_off (str | Unset): USD, a decimal string with at most 2 decimals (responses: exactly 2)
        min_subtotal (None | str | Unset):
        starts_at (None | str | Unset):
        ends_at (None | str | Unset):
        max_redemptions (int | None | Unset):
        once_per_customer (bool | Unset):
        product_ids (list[str] | None | Unset):
        categories (list[str] | None | Unset):
    """

    percent_off: int | Unset = UNSET
    amount_off: str | Unset = UNSET
    min_subtotal: None | str | Unset = UNSET
    starts_at: None | str | Unset = UNSET
    ends_at: None | str | Unset = UNSET
    max_redemptions: int | None | Unset = UNSET
    once_per_customer: bool | Unset = UNSET
    product_ids: list[str] | None | Unset = UNSET
    categories: list[str] | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        percent_off = self.percent_off

        amount_off = self.amount_off

        min_subtotal: None | str | Unset
        if isinstance(self.min_subtotal, Unset):
            min_subtotal = UNSET
        else:
            min_subtotal = self.min_subtotal

        starts_at: None | str | Unset
        if isinstance(self.starts_at, Unset):
            starts_at = UNSET
        else:
            starts_at = self.starts_at

        ends_at: None | str | Unset
        if isinstance(self.ends_at, Unset):
            ends_at = UNSET
        else:
            ends_at = self.ends_at

        max_redemptions: int | None | Unset
        if isinstance(self.max_redemptions, Unset):
            max_redemptions = UNSET
        else:
            max_redemptions = self.max_redemptions

        once_per_customer = self.once_per_customer

        product_ids: list[str] | None | Unset
        if isinstance(self.product_ids, Unset):
            product_ids = UNSET
        elif isinstance(self.product_ids, list):
            product_ids = self.product_ids

        else:
            product_ids = self.product_ids

        categories: list[str] | None | Unset
        if isinstance(self.categories, Unset):
            categories = UNSET
        elif isinstance(self.categories, list):
            categories = self.categories

        else:
            categories = self.categories

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if percent_off is not UNSET:
            field_dict["percentOff"] = percent_off
        if amount_off is not UNSET:
            field_dict["amountOff"] = amount_off
        if min_subtotal is not UNSET:
            field_dict["minSubtotal"] = min_subtotal
        if starts_at is not UNSET:
            field_dict["startsAt"] = starts_at
        if ends_at is not UNSET:
            field_dict["endsAt"] = ends_at
        if max_redemptions is not UNSET:
            field_dict["maxRedemptions"] = max_redemptions
        if once_per_customer is not UNSET:
            field_dict["oncePerCustomer"] = once_per_customer
        if product_ids is not UNSET:
            field_dict["productIds"] = product_ids
        if categories is not UNSET:
            field_dict["categories"] = categories

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        percent_off = d.pop("percentOff", UNSET)

        amount_off = d.pop("amountOff", UNSET)

        def _parse_min_subtotal(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        min_subtotal = _parse_min_subtotal(d.pop("minSubtotal", UNSET))

        def _parse_starts_at(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        starts_at = _parse_starts_at(d.pop("startsAt", UNSET))

        def _parse_ends_at(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        ends_at = _parse_ends_at(d.pop("endsAt", UNSET))

        def _parse_max_redemptions(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        max_redemptions = _parse_max_redemptions(d.pop("maxRedemptions", UNSET))

        once_per_customer = d.pop("oncePerCustomer", UNSET)

        def _parse_product_ids(data: object) -> list[str] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                product_ids_type_0 = cast(list[str], data)

                return product_ids_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[str] | None | Unset, data)

        product_ids = _parse_product_ids(d.pop("productIds", UNSET))

        def _parse_categories(data: object) -> list[str] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                categories_type_0 = cast(list[str], data)

                return categories_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[str] | None | Unset, data)

        categories = _parse_categories(d.pop("categories", UNSET))

        discount_update = cls(
            percent_off=percent_off,
            amount_off=amount_off,
            min_subtotal=min_subtotal,
            starts_at=starts_at,
            ends_at=ends_at,
            max_redemptions=max_redemptions,
            once_per_customer=once_per_customer,
            product_ids=product_ids,
            categories=categories,
        )

        return discount_update
