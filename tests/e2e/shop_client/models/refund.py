from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.refund_reason import RefundReason
from ..models.refund_status import RefundStatus
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.order_line_input import OrderLineInput


T = TypeVar("T", bound="Refund")


@_attrs_define
class Refund:
    """A refund of the order (docs/api.md#refunds)

    Attributes:
        refund_id (str):
        amount (str): USD, a decimal string with at most 2 decimals (responses: exactly 2)
        reason (RefundReason):
        lines (list[OrderLineInput]):
        status (RefundStatus):
        created_at (datetime.datetime):
        by (str): Who refunded: a staff user's id
        note (str | Unset):
        provider_refund_id (str | Unset):
    """

    refund_id: str
    amount: str
    reason: RefundReason
    lines: list[OrderLineInput]
    status: RefundStatus
    created_at: datetime.datetime
    by: str
    note: str | Unset = UNSET
    provider_refund_id: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        refund_id = self.refund_id

        amount = self.amount

        reason = self.reason.value

        lines = []
        for lines_item_data in self.lines:
            lines_item = lines_item_data.to_dict()
            lines.append(lines_item)

        status = self.status.value

        created_at = self.created_at.isoformat()

        by = self.by

        note = self.note

        provider_refund_id = self.provider_refund_id

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "refundId": refund_id,
                "amount": amount,
                "reason": reason,
                "lines": lines,
                "status": status,
                "createdAt": created_at,
                "by": by,
            }
        )
        if note is not UNSET:
            field_dict["note"] = note
        if provider_refund_id is not UNSET:
            field_dict["providerRefundId"] = provider_refund_id

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.order_line_input import OrderLineInput

        d = dict(src_dict)
        refund_id = d.pop("refundId")

        amount = d.pop("amount")

        reason = RefundReason(d.pop("reason"))

        lines = []
        _lines = d.pop("lines")
        for lines_item_data in _lines:
            lines_item = OrderLineInput.from_dict(lines_item_data)

            lines.append(lines_item)

        status = RefundStatus(d.pop("status"))

        created_at = datetime.datetime.fromisoformat(d.pop("createdAt"))

        by = d.pop("by")

        note = d.pop("note", UNSET)

        provider_refund_id = d.pop("providerRefundId", UNSET)

        refund = cls(
            refund_id=refund_id,
            amount=amount,
            reason=reason,
            lines=lines,
            status=status,
            created_at=created_at,
            by=by,
            note=note,
            provider_refund_id=provider_refund_id,
        )

        refund.additional_properties = d
        return refund

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
