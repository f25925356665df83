from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="ShipOrder")


@_attrs_define
class ShipOrder:
    """
    Attributes:
        carrier (str | Unset): Characters beyond U+FFFF that the same rule refuses are refused by the server (format
            printable, or printable-email for emails), not by the pattern, which must compile as an ECMAScript RegExp
            without the u flag.
        tracking_number (str | Unset): Characters beyond U+FFFF that the same rule refuses are refused by the server
            (format printable, or printable-email for emails), not by the pattern, which must compile as an ECMAScript
            RegExp without the u flag.
    """

    carrier: str | Unset = UNSET
    tracking_number: str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        carrier = self.carrier

        tracking_number = self.tracking_number

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if carrier is not UNSET:
            field_dict["carrier"] = carrier
        if tracking_number is not UNSET:
            field_dict["trackingNumber"] = tracking_number

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        carrier = d.pop("carrier", UNSET)

        tracking_number = d.pop("trackingNumber", UNSET)

        ship_order = cls(
            carrier=carrier,
            tracking_number=tracking_number,
        )

        return ship_order
