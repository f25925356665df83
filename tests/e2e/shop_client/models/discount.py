from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="Discount")


@_attrs_define
class Discount:
    """
    Attributes:
        code (str):
        once_per_customer (bool):
        redemptions (int):
        retired (bool):
        version (int):
        created_at (datetime.datetime):
        percent_off (int | Unset):
        amount_off (str | Unset): USD, a decimal string with at most 2 decimals (responses: exactly 2)
        min_subtotal (str | Unset): USD, a decimal string with at most 2 decimals (responses: exactly 2)
        max_redemptions (int | Unset):
        product_ids (list[str] | Unset):
        categories (list[str] | Unset):
        starts_at (datetime.datetime | Unset):
        ends_at (datetime.datetime | Unset):
        retired_at (datetime.datetime | Unset):
        updated_at (datetime.datetime | Unset):
    """

    code: str
    once_per_customer: bool
    redemptions: int
    retired: bool
    version: int
    created_at: datetime.datetime
    percent_off: int | Unset = UNSET
    amount_off: str | Unset = UNSET
    min_subtotal: str | Unset = UNSET
    max_redemptions: int | Unset = UNSET
    product_ids: list[str] | Unset = UNSET
    categories: list[str] | Unset = UNSET
    starts_at: datetime.datetime | Unset = UNSET
    ends_at: datetime.datetime | Unset = UNSET
    retired_at: datetime.datetime | Unset = UNSET
    updated_at: datetime.datetime | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        code = self.code

        once_per_customer = self.once_per_customer

        redemptions = self.redemptions

        retired = self.retired

        version = self.version

        created_at = self.created_at.isoformat()

        percent_off = self.percent_off

        amount_off = self.amount_off

        min_subtotal = self.min_subtotal

        max_redemptions = self.max_redemptions

        product_ids: list[str] | Unset = UNSET
        if not isinstance(self.product_ids, Unset):
            product_ids = self.product_ids

        categories: list[str] | Unset = UNSET
        if not isinstance(self.categories, Unset):
            categories = self.categories

        starts_at: str | Unset = UNSET
        if not isinstance(self.starts_at, Unset):
            starts_at = self.starts_at.isoformat()

        ends_at: str | Unset = UNSET
        if not isinstance(self.ends_at, Unset):
            ends_at = self.ends_at.isoformat()

        retired_at: str | Unset = UNSET
        if not isinstance(self.retired_at, Unset):
            retired_at = self.retired_at.isoformat()

        updated_at: str | Unset = UNSET
        if not isinstance(self.updated_at, Unset):
            updated_at = self.updated_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "code": code,
                "oncePerCustomer": once_per_customer,
                "redemptions": redemptions,
                "retired": retired,
                "version": version,
                "createdAt": created_at,
            }
        )
        if percent_off is not UNSET:
            field_dict["percentOff"] = percent_off
        if amount_off is not UNSET:
            field_dict["amountOff"] = amount_off
        if min_subtotal is not UNSET:
            field_dict["minSubtotal"] = min_subtotal
        if max_redemptions is not UNSET:
            field_dict["maxRedemptions"] = max_redemptions
        if product_ids is not UNSET:
            field_dict["productIds"] = product_ids
        if categories is not UNSET:
            field_dict["categories"] = categories
        if starts_at is not UNSET:
            field_dict["startsAt"] = starts_at
        if ends_at is not UNSET:
            field_dict["endsAt"] = ends_at
        if retired_at is not UNSET:
            field_dict["retiredAt"] = retired_at
        if updated_at is not UNSET:
            field_dict["updatedAt"] = updated_at

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        code = d.pop("code")

        once_per_customer = d.pop("oncePerCustomer")

        redemptions = d.pop("redemptions")

        retired = d.pop("retired")

        version = d.pop("version")

        created_at = datetime.datetime.fromisoformat(d.pop("createdAt"))

        percent_off = d.pop("percentOff", UNSET)

        amount_off = d.pop("amountOff", UNSET)

        min_subtotal = d.pop("minSubtotal", UNSET)

        max_redemptions = d.pop("maxRedemptions", UNSET)

        product_ids = cast(list[str], d.pop("productIds", UNSET))

        categories = cast(list[str], d.pop("categories", UNSET))

        _starts_at = d.pop("startsAt", UNSET)
        starts_at: datetime.datetime | Unset
        if isinstance(_starts_at, Unset):
            starts_at = UNSET
        else:
            starts_at = datetime.datetime.fromisoformat(_starts_at)

        _ends_at = d.pop("endsAt", UNSET)
        ends_at: datetime.datetime | Unset
        if isinstance(_ends_at, Unset):
            ends_at = UNSET
        else:
            ends_at = datetime.datetime.fromisoformat(_ends_at)

        _retired_at = d.pop("retiredAt", UNSET)
        retired_at: datetime.datetime | Unset
        if isinstance(_retired_at, Unset):
            retired_at = UNSET
        else:
            retired_at = datetime.datetime.fromisoformat(_retired_at)

        _updated_at = d.pop("updatedAt", UNSET)
        updated_at: datetime.datetime | Unset
        if isinstance(_updated_at, Unset):
            updated_at = UNSET
        else:
            updated_at = datetime.datetime.fromisoformat(_updated_at)

        discount = cls(
            code=code,
            once_per_customer=once_per_customer,
            redemptions=redemptions,
            retired=retired,
            version=version,
            created_at=created_at,
            percent_off=percent_off,
            amount_off=amount_off,
            min_subtotal=min_subtotal,
            max_redemptions=max_redemptions,
            product_ids=product_ids,
            categories=categories,
            starts_at=starts_at,
            ends_at=ends_at,
            retired_at=retired_at,
            updated_at=updated_at,
        )

        discount.additional_properties = d
        return discount

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
