from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="DiscountCreate")


@_attrs_define
class DiscountCreate:
    """Exactly one of percentOff and amountOff; at most one of productIds and categories (the code's scope: without one,
    every line)

        Attributes:
            code (str): 3-32 letters, digits, - and _; any case (compared upper-cased)
            percent_off (int | Unset):
            amount_off (str | Unset): USD, a decimal string with at most 2 decimals (responses: exactly 2)
            min_subtotal (str | Unset): USD, a decimal string with at most 2 decimals (responses: exactly 2)
            starts_at (str | Unset): An ISO 8601 date-time with a time zone (2030-01-31T09:00:00Z)
            ends_at (str | Unset): An ISO 8601 date-time with a time zone (2030-01-31T09:00:00Z)
            max_redemptions (int | Unset):
            once_per_customer (bool | Unset):
            product_ids (list[str] | Unset):
            categories (list[str] | Unset):
    """

    code: str
    percent_off: int | Unset = UNSET
    amount_off: str | Unset = UNSET
    min_subtotal: str | Unset = UNSET
    starts_at: str | Unset = UNSET
    ends_at: str | Unset = UNSET
    max_redemptions: int | Unset = UNSET
    once_per_customer: bool | Unset = UNSET
    product_ids: list[str] | Unset = UNSET
    categories: list[str] | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        code = self.code

        percent_off = self.percent_off

        amount_off = self.amount_off

        min_subtotal = self.min_subtotal

        starts_at = self.starts_at

        ends_at = self.ends_at

        max_redemptions = self.max_redemptions

        once_per_customer = self.once_per_customer

        product_ids: list[str] | Unset = UNSET
        if not isinstance(self.product_ids, Unset):
            product_ids = self.product_ids

        categories: list[str] | Unset = UNSET
        if not isinstance(self.categories, Unset):
            categories = self.categories

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "code": code,
            }
        )
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
        code = d.pop("code")

        percent_off = d.pop("percentOff", UNSET)

        amount_off = d.pop("amountOff", UNSET)

        min_subtotal = d.pop("minSubtotal", UNSET)

        starts_at = d.pop("startsAt", UNSET)

        ends_at = d.pop("endsAt", UNSET)

        max_redemptions = d.pop("maxRedemptions", UNSET)

        once_per_customer = d.pop("oncePerCustomer", UNSET)

        product_ids = cast(list[str], d.pop("productIds", UNSET))

        categories = cast(list[str], d.pop("categories", UNSET))

        discount_create = cls(
            code=code,
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

        return discount_create
