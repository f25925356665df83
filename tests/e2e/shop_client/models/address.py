from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="Address")


@_attrs_define
class Address:
    """An address of the address book, normalised (docs/api.md#addresses)

    Attributes:
        address_id (str):
        name (str):
        line1 (str):
        city (str):
        country (str):
        is_default (bool):
        line2 (str | Unset):
        region (str | Unset):
        postal_code (str | Unset):
        phone (str | Unset):
    """

    address_id: str
    name: str
    line1: str
    city: str
    country: str
    is_default: bool
    line2: str | Unset = UNSET
    region: str | Unset = UNSET
    postal_code: str | Unset = UNSET
    phone: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        address_id = self.address_id

        name = self.name

        line1 = self.line1

        city = self.city

        country = self.country

        is_default = self.is_default

        line2 = self.line2

        region = self.region

        postal_code = self.postal_code

        phone = self.phone

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "addressId": address_id,
                "name": name,
                "line1": line1,
                "city": city,
                "country": country,
                "isDefault": is_default,
            }
        )
        if line2 is not UNSET:
            field_dict["line2"] = line2
        if region is not UNSET:
            field_dict["region"] = region
        if postal_code is not UNSET:
            field_dict["postalCode"] = postal_code
        if phone is not UNSET:
            field_dict["phone"] = phone

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        address_id = d.pop("addressId")

        name = d.pop("name")

        line1 = d.pop("line1")

        city = d.pop("city")

        country = d.pop("country")

        is_default = d.pop("isDefault")

        line2 = d.pop("line2", UNSET)

        region = d.pop("region", UNSET)

        postal_code = d.pop("postalCode", UNSET)

        phone = d.pop("phone", UNSET)

        address = cls(
            address_id=address_id,
            name=name,
            line1=line1,
            city=city,
            country=country,
            is_default=is_default,
            line2=line2,
            region=region,
            postal_code=postal_code,
            phone=phone,
        )

        address.additional_properties = d
        return address

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
