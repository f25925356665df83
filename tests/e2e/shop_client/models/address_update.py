from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="AddressUpdate")


@_attrs_define
class AddressUpdate:
    """The fields to change (an empty string clears an optional one); isDefault: true makes the address the default

    Attributes:
        name (str | Unset): Characters beyond U+FFFF that the same rule refuses are refused by the server (format
            printable, or printable-email for emails), not by the pattern, which must compile as an ECMAScript RegExp
            without the u flag.
        line1 (str | Unset): Characters beyond U+FFFF that the same rule refuses are refused by the server (format
            printable, or printable-email for emails), not by the pattern, which must compile as an ECMAScript RegExp
            without the u flag.
        line2 (str | Unset): Characters beyond U+FFFF that the same rule refuses are refused by the server (format
            printable, or printable-email for emails), not by the pattern, which must compile as an ECMAScript RegExp
            without the u flag.
        city (str | Unset): Characters beyond U+FFFF that the same rule refuses are refused by the server (format
            printable, or printable-email for emails), not by the pattern, which must compile as an ECMAScript RegExp
            without the u flag.
        region (str | Unset): State, province or territory: required for US, CA and AU, as its postal abbreviation (CA,
            ON, NSW). Characters beyond U+FFFF that the same rule refuses are refused by the server (format printable, or
            printable-email for emails), not by the pattern, which must compile as an ECMAScript RegExp without the u flag.
        postal_code (str | Unset): Required and checked for the countries listed in docs/api.md#addresses (normalised:
            12345-6789, K1A 0B1, 1234 AB, 123-4567). Characters beyond U+FFFF that the same rule refuses are refused by the
            server (format printable, or printable-email for emails), not by the pattern, which must compile as an
            ECMAScript RegExp without the u flag.
        country (str | Unset): ISO 3166-1 alpha-2 code, any case (stored upper-case)
        phone (str | Unset): Digits, spaces, ( ) and -, an optional leading +: 4 to 15 digits
        is_default (bool | Unset):
    """

    name: str | Unset = UNSET
    line1: str | Unset = UNSET
    line2: str | Unset = UNSET
    city: str | Unset = UNSET
    region: str | Unset = UNSET
    postal_code: str | Unset = UNSET
    country: str | Unset = UNSET
    phone: str | Unset = UNSET
    is_default: bool | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        line1 = self.line1

        line2 = self.line2

        city = self.city

        region = self.region

        postal_code = self.postal_code

        country = self.country

        phone = self.phone

        is_default = self.is_default

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if name is not UNSET:
            field_dict["name"] = name
        if line1 is not UNSET:
            field_dict["line1"] = line1
        if line2 is not UNSET:
            field_dict["line2"] = line2
        if city is not UNSET:
            field_dict["city"] = city
        if region is not UNSET:
            field_dict["region"] = region
        if postal_code is not UNSET:
            field_dict["postalCode"] = postal_code
        if country is not UNSET:
            field_dict["country"] = country
        if phone is not UNSET:
            field_dict["phone"] = phone
        if is_default is not UNSET:
            field_dict["isDefault"] = is_default

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        name = d.pop("name", UNSET)

        line1 = d.pop("line1", UNSET)

        line2 = d.pop("line2", UNSET)

        city = d.pop("city", UNSET)

        region = d.pop("region", UNSET)

        postal_code = d.pop("postalCode", UNSET)

        country = d.pop("country", UNSET)

        phone = d.pop("phone", UNSET)

        is_default = d.pop("isDefault", UNSET)

        address_update = cls(
            name=name,
            line1=line1,
            line2=line2,
            city=city,
            region=region,
            postal_code=postal_code,
            country=country,
            phone=phone,
            is_default=is_default,
        )

        return address_update
