from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="ProductCreate")


@_attrs_define
class ProductCreate:
    """
    Attributes:
        name (str): Characters beyond U+FFFF that the same rule refuses are refused by the server (format printable, or
            printable-email for emails), not by the pattern, which must compile as an ECMAScript RegExp without the u flag.
        price (float | str):
        description (str | Unset): Characters beyond U+FFFF that the same rule refuses are refused by the server (format
            printable, or printable-email for emails), not by the pattern, which must compile as an ECMAScript RegExp
            without the u flag.
        stock (int | Unset):
        category (str | Unset):
    """

    name: str
    price: float | str
    description: str | Unset = UNSET
    stock: int | Unset = UNSET
    category: str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        price: float | str
        price = self.price

        description = self.description

        stock = self.stock

        category = self.category

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "name": name,
                "price": price,
            }
        )
        if description is not UNSET:
            field_dict["description"] = description
        if stock is not UNSET:
            field_dict["stock"] = stock
        if category is not UNSET:
            field_dict["category"] = category

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        name = d.pop("name")

        def _parse_price(data: object) -> float | str:
            return cast(float | str, data)

        price = _parse_price(d.pop("price"))

        description = d.pop("description", UNSET)

        stock = d.pop("stock", UNSET)

        category = d.pop("category", UNSET)

        product_create = cls(
            name=name,
            price=price,
            description=description,
            stock=stock,
            category=category,
        )

        return product_create
