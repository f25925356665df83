from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="CartLine")


@_attrs_define
class CartLine:
    """name, unitPrice and lineTotal are null when the product is no longer sold

    Attributes:
        product_id (str):
        name (None | str):
        unit_price (None | str):
        quantity (int):
        line_total (None | str):
        available (bool):
    """

    product_id: str
    name: None | str
    unit_price: None | str
    quantity: int
    line_total: None | str
    available: bool
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        product_id = self.product_id

        name: None | str
        name = self.name

        unit_price: None | str
        unit_price = self.unit_price

        quantity = self.quantity

        line_total: None | str
        line_total = self.line_total

        available = self.available

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "productId": product_id,
                "name": name,
                "unitPrice": unit_price,
                "quantity": quantity,
                "lineTotal": line_total,
                "available": available,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        product_id = d.pop("productId")

        def _parse_name(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        name = _parse_name(d.pop("name"))

        def _parse_unit_price(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        unit_price = _parse_unit_price(d.pop("unitPrice"))

        quantity = d.pop("quantity")

        def _parse_line_total(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        line_total = _parse_line_total(d.pop("lineTotal"))

        available = d.pop("available")

        cart_line = cls(
            product_id=product_id,
            name=name,
            unit_price=unit_price,
            quantity=quantity,
            line_total=line_total,
            available=available,
        )

        cart_line.additional_properties = d
        return cart_line

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
