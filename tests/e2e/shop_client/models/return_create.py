from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.order_line_input import OrderLineInput


T = TypeVar("T", bound="ReturnCreate")


@_attrs_define
class ReturnCreate:
    """
    Attributes:
        lines (list[OrderLineInput]):
        reason (str | Unset): Characters beyond U+FFFF that the same rule refuses are refused by the server (format
            printable, or printable-email for emails), not by the pattern, which must compile as an ECMAScript RegExp
            without the u flag.
    """

    lines: list[OrderLineInput]
    reason: str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        lines = []
        for lines_item_data in self.lines:
            lines_item = lines_item_data.to_dict()
            lines.append(lines_item)

        reason = self.reason

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "lines": lines,
            }
        )
        if reason is not UNSET:
            field_dict["reason"] = reason

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.order_line_input import OrderLineInput

        d = dict(src_dict)
        lines = []
        _lines = d.pop("lines")
        for lines_item_data in _lines:
            lines_item = OrderLineInput.from_dict(lines_item_data)

            lines.append(lines_item)

        reason = d.pop("reason", UNSET)

        return_create = cls(
            lines=lines,
            reason=reason,
        )

        return return_create
