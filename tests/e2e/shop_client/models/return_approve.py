from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.return_approve_lines_item import ReturnApproveLinesItem


T = TypeVar("T", bound="ReturnApprove")


@_attrs_define
class ReturnApprove:
    """
    Attributes:
        lines (list[ReturnApproveLinesItem]):
    """

    lines: list[ReturnApproveLinesItem]

    def to_dict(self) -> dict[str, Any]:
        lines = []
        for lines_item_data in self.lines:
            lines_item = lines_item_data.to_dict()
            lines.append(lines_item)

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "lines": lines,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.return_approve_lines_item import ReturnApproveLinesItem

        d = dict(src_dict)
        lines = []
        _lines = d.pop("lines")
        for lines_item_data in _lines:
            lines_item = ReturnApproveLinesItem.from_dict(lines_item_data)

            lines.append(lines_item)

        return_approve = cls(
            lines=lines,
        )

        return return_approve
