from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="OrderLine")


@_attrs_define
class OrderLine:
    """As it was when the order was placed

    Attributes:
        product_id (str):
        name (str):
        quantity (int):
        unit_price (str): USD, a decimal string with at most 2 decimals (responses: exactly 2)
        line_total (str): USD, a decimal string with at most 2 decimals (responses: exactly 2)
        discount (str | Unset): This line's share of the discount
        tax (str | Unset): The line's tax (absent on legacy orders)
    """

    product_id: str
    name: str
    quantity: int
    unit_price: str
    line_total: str
    discount: str | Unset = UNSET
    tax: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        product_id = self.product_id

        name = self.name

        quantity = self.quantity

        unit_price = self.unit_price

        line_total = self.line_total

        discount = self.discount

        tax = self.tax

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "productId": product_id,
                "name": name,
                "quantity": quantity,
                "unitPrice": unit_price,
                "lineTotal": line_total,
            }
        )
        if discount is not UNSET:
            field_dict["discount"] = discount
        if tax is not UNSET:
            field_dict["tax"] = tax

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        product_id = d.pop("productId")

        name = d.pop("name")

        quantity = d.pop("quantity")

        unit_price = d.pop("unitPrice")

        line_total = d.pop("lineTotal")

        discount = d.pop("discount", UNSET)

        tax = d.pop("tax", UNSET)

        order_line = cls(
            product_id=product_id,
            name=name,
            quantity=quantity,
            unit_price=unit_price,
            line_total=line_total,
            discount=discount,
            tax=tax,
        )

        order_line.additional_properties = d
        return order_line

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
