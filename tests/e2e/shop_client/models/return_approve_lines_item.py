from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="ReturnApproveLinesItem")


@_attrs_define
class ReturnApproveLinesItem:
    """
    Attributes:
        product_id (str): Characters beyond U+FFFF that the same rule refuses are refused by the server (format
            printable, or printable-email for emails), not by the pattern, which must compile as an ECMAScript RegExp
            without the u flag.
        restock (bool):
    """

    product_id: str
    restock: bool

    def to_dict(self) -> dict[str, Any]:
        product_id = self.product_id

        restock = self.restock

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "productId": product_id,
                "restock": restock,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        product_id = d.pop("productId")

        restock = d.pop("restock")

        return_approve_lines_item = cls(
            product_id=product_id,
            restock=restock,
        )

        return return_approve_lines_item
