from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="AddressInput")


@_attrs_define
class AddressInput:
    """A postal address (docs/api.md#addresses)

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
    """

    name: str
    line1: str
    city: str
    country: str
    line2: str | Unset = UNSET
    region: str | Unset = UNSET
    postal_code: str | Unset = UNSET
    phone: str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        line1 = self.line1

        city = self.city

        country = self.country

        line2 = self.line2

        region = self.region

        postal_code = self.postal_code

        phone = self.phone

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

        address_input = cls(
            name=name,
            line1=line1,
            city=city,
            country=country,
            line2=line2,
            region=region,
            postal_code=postal_code,
            phone=phone,
        )

        return address_input
