from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="AddressCreate")


@_attrs_define
class AddressCreate:
    """An address (AddressInput's fields) for the address book; isDefault: true makes it the default (the first address is
    the default anyway)

        Attributes:
            name (str): Characters beyond U+FFFF that the same rule refuses are refused by the server (format printable, or
                printable-email for emails), not by the pattern, which must compile as an ECMAScript RegExp without the u flag.
            line1 (str): Characters beyond U+FFFF that the same rule refuses are refused by the server (format printable, or
                printable-email for emails), not by the pattern, which must compile as an ECMAScript RegExp without the u flag.
            city (str): Characters beyond U+FFFF that the same rule refuses are refused by the server (format printable, or
                printable-email for emails), not by the pattern, which must compile as an ECMAScript RegExp without the u flag.
            country (str): ISO 3166-1 alpha-2 code, any case (stored upper-case)
            line2 (str | Unset): Characters beyond U+FFFF that the same rule refuses are refused by the server (format
                printable, or printable-email for emails), not by the pattern, which must compile as an ECMAScript RegExp
                without the u flag.
            region (str | Unset): State, province or territory: required for US, CA and AU, as its postal abbreviation (CA,
                ON, NSW). Characters beyond U+FFFF that the same rule refuses are refused by the server (format printable, or
                printable-email for emails), not by the pattern, which must compile as an ECMAScript RegExp without the u flag.
            postal_code (str | Unset): Required and checked for the countries listed in docs/api.md#addresses (normalised:
                12345-6789, K1A 0B1, 1234 AB, 123-4567). Characters beyond U+FFFF that the same rule refuses are refused by the
                server (format printable, or printable-email for emails), not by the pattern, which must compile as an
                ECMAScript RegExp without the u flag.
            phone (str | Unset): Digits, spaces, ( ) and -, an optional leading +: 4 to 15 digits
            is_default (bool | Unset):
    """

    name: str
    line1: str
    city: str
    country: str
    line2: str | Unset = UNSET
    region: str | Unset = UNSET
    postal_code: str | Unset = UNSET
    phone: str | Unset = UNSET
    is_default: bool | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        line1 = self.line1

        city = self.city

        country = self.country

        line2 = self.line2

        region = self.region

        postal_code = self.postal_code

        phone = self.phone

        is_default = self.is_default

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "name": name,
                "line1": line1,
                "city": city,
                "country": country,
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
        if is_default is not UNSET:
            field_dict["isDefault"] = is_default

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        name = d.pop("name")

        line1 = d.pop("line1")

        city = d.pop("city")

        country = d.pop("country")

        line2 = d.pop("line2", UNSET)

        region = d.pop("region", UNSET)

        postal_code = d.pop("postalCode", UNSET)

        phone = d.pop("phone", UNSET)

        is_default = d.pop("isDefault", UNSET)

        address_create = cls(
            name=name,
            line1=line1,
            city=city,
            country=country,
            line2=line2,
            region=region,
            postal_code=postal_code,
            phone=phone,
            is_default=is_default,
        )

        return address_create
