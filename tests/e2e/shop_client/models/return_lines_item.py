from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="ReturnLinesItem")


@_attrs_define
class ReturnLinesItem:
    """
    Attributes:
        product_id (str):
        quantity (int):
        restock (bool | Unset):
    """

    product_id: str
    quantity: int
    restock: bool | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        product_id = self.product_id

        quantity = self.quantity

        restock = self.restock

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "productId": product_id,
                "quantity": quantity,
            }
        )
        if restock is not UNSET:
            field_dict["restock"] = restock

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        product_id = d.pop("productId")

        quantity = d.pop("quantity")

        restock = d.pop("restock", UNSET)

        return_lines_item = cls(
            product_id=product_id,
            quantity=quantity,
            restock=restock,
        )

        return_lines_item.additional_properties = d
        return return_lines_item

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
