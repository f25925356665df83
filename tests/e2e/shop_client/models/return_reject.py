from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="ReturnReject")


@_attrs_define
class ReturnReject:
    """
    Attributes:
        reason (str): Characters beyond U+FFFF that the same rule refuses are refused by the server (format printable,
            or printable-email for emails), not by the pattern, which must compile as an ECMAScript RegExp without the u
            flag.
    """

    reason: str

    def to_dict(self) -> dict[str, Any]:
        reason = self.reason

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "reason": reason,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        reason = d.pop("reason")

        return_reject = cls(
            reason=reason,
        )

        return return_reject
