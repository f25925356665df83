from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.return_status import ReturnStatus
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.return_lines_item import ReturnLinesItem


T = TypeVar("T", bound="Return")


@_attrs_define
class Return:
    """A return request of the order (docs/api.md#returns)

    Attributes:
        return_id (str):
        lines (list[ReturnLinesItem]):
        status (ReturnStatus):
        requested_at (datetime.datetime):
        reason (str | Unset):
        decided_at (datetime.datetime | Unset):
        decided_by (str | Unset):
        reject_reason (str | Unset):
        received_at (datetime.datetime | Unset):
        refund_id (str | Unset):
    """

    return_id: str
    lines: list[ReturnLinesItem]
    status: ReturnStatus
    requested_at: datetime.datetime
    reason: str | Unset = UNSET
    decided_at: datetime.datetime | Unset = UNSET
    decided_by: str | Unset = UNSET
    reject_reason: str | Unset = UNSET
    received_at: datetime.datetime | Unset = UNSET
    refund_id: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return_id = self.return_id

        lines = []
        for lines_item_data in self.lines:
            lines_item = lines_item_data.to_dict()
            lines.append(lines_item)

        status = self.status.value

        requested_at = self.requested_at.isoformat()

        reason = self.reason

        decided_at: str | Unset = UNSET
        if not isinstance(self.decided_at, Unset):
            decided_at = self.decided_at.isoformat()

        decided_by = self.decided_by

        reject_reason = self.reject_reason

        received_at: str | Unset = UNSET
        if not isinstance(self.received_at, Unset):
            received_at = self.received_at.isoformat()

        refund_id = self.refund_id

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "returnId": return_id,
                "lines": lines,
                "status": status,
                "requestedAt": requested_at,
            }
        )
        if reason is not UNSET:
            field_dict["reason"] = reason
        if decided_at is not UNSET:
            field_dict["decidedAt"] = decided_at
        if decided_by is not UNSET:
            field_dict["decidedBy"] = decided_by
        if reject_reason is not UNSET:
            field_dict["rejectReason"] = reject_reason
        if received_at is not UNSET:
            field_dict["receivedAt"] = received_at
        if refund_id is not UNSET:
            field_dict["refundId"] = refund_id

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.return_lines_item import ReturnLinesItem

        d = dict(src_dict)
        return_id = d.pop("returnId")

        lines = []
        _lines = d.pop("lines")
        for lines_item_data in _lines:
            lines_item = ReturnLinesItem.from_dict(lines_item_data)

            lines.append(lines_item)

        status = ReturnStatus(d.pop("status"))

        requested_at = datetime.datetime.fromisoformat(d.pop("requestedAt"))

        reason = d.pop("reason", UNSET)

        _decided_at = d.pop("decidedAt", UNSET)
        decided_at: datetime.datetime | Unset
        if isinstance(_decided_at, Unset):
            decided_at = UNSET
        else:
            decided_at = datetime.datetime.fromisoformat(_decided_at)

        decided_by = d.pop("decidedBy", UNSET)

        reject_reason = d.pop("rejectReason", UNSET)

        _received_at = d.pop("receivedAt", UNSET)
        received_at: datetime.datetime | Unset
        if isinstance(_received_at, Unset):
            received_at = UNSET
        else:
            received_at = datetime.datetime.fromisoformat(_received_at)

        refund_id = d.pop("refundId", UNSET)

        return_ = cls(
            return_id=return_id,
            lines=lines,
            status=status,
            requested_at=requested_at,
            reason=reason,
            decided_at=decided_at,
            decided_by=decided_by,
            reject_reason=reject_reason,
            received_at=received_at,
            refund_id=refund_id,
        )

        return_.additional_properties = d
        return return_

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
