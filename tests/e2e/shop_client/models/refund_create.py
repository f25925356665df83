from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define

from ..models.refund_create_reason import RefundCreateReason
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.order_line_input import OrderLineInput


T = TypeVar("T", bound="RefundCreate")


@_attrs_define
class RefundCreate:
    """
    Attributes:
        amount (str): USD, a decimal string with at most 2 decimals (responses: exactly 2)
        reason (RefundCreateReason):
        note (str | Unset): Characters beyond U+FFFF that the same rule refuses are refused by the server (format
            printable, or printable-email for emails), not by the pattern, which must compile as an ECMAScript RegExp
            without the u flag.
        lines (list[OrderLineInput] | Unset):
    """

    amount: str
    reason: RefundCreateReason
    note: str | Unset = UNSET
    lines: list[OrderLineInput] | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        amount = self.amount

        reason = self.reason.value

        note = self.note

        lines: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.lines, Unset):
            lines = []
            for lines_item_data in self.lines:
                lines_item = lines_item_data.to_dict()
                lines.append(lines_item)

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "amount": amount,
                "reason": reason,
            }
        )
        if note is not UNSET:
            field_dict["note"] = note
        if lines is not UNSET:
            field_dict["lines"] = lines

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.order_line_input import OrderLineInput

        d = dict(src_dict)
        amount = d.pop("amount")

        reason = RefundCreateReason(d.pop("reason"))

        note = d.pop("note", UNSET)

        _lines = d.pop("lines", UNSET)
        lines: list[OrderLineInput] | Unset = UNSET
        if _lines is not UNSET:
            lines = []
            for lines_item_data in _lines:
                lines_item = OrderLineInput.from_dict(lines_item_data)

                lines.append(lines_item)

        refund_create = cls(
            amount=amount,
            reason=reason,
            note=note,
            lines=lines,
        )

        return refund_create
