from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="Product")


@_attrs_define
class Product:
    """
    Attributes:
        product_id (str):
        name (str):
        category (str):
        price (str): USD, a decimal string with at most 2 decimals (responses: exactly 2)
        currency (str): ISO 4217 code of every amount in this object (the stage's currency)
        stock (int):
        version (int):
        created_at (datetime.datetime):
        description (str | Unset):
        updated_at (datetime.datetime | Unset):
    """

    product_id: str
    name: str
    category: str
    price: str
    currency: str
    stock: int
    version: int
    created_at: datetime.datetime
    description: str | Unset = UNSET
    updated_at: datetime.datetime | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        product_id = self.product_id

        name = self.name

        category = self.category

        price = self.price

        currency = self.currency

        stock = self.stock

        version = self.version

        created_at = self.created_at.isoformat()

        description = self.description

        updated_at: str | Unset = UNSET
        if not isinstance(self.updated_at, Unset):
            updated_at = self.updated_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "productId": product_id,
                "name": name,
                "category": category,
                "price": price,
                "currency": currency,
                "stock": stock,
                "version": version,
                "createdAt": created_at,
            }
        )
        if description is not UNSET:
            field_dict["description"] = description
        if updated_at is not UNSET:
            field_dict["updatedAt"] = updated_at

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        product_id = d.pop("productId")

        name = d.pop("name")

        category = d.pop("category")

        price = d.pop("price")

        currency = d.pop("currency")

        stock = d.pop("stock")

        version = d.pop("version")

        created_at = datetime.datetime.fromisoformat(d.pop("createdAt"))

        description = d.pop("description", UNSET)

        _updated_at = d.pop("updatedAt", UNSET)
        updated_at: datetime.datetime | Unset
        if isinstance(_updated_at, Unset):
            updated_at = UNSET
        else:
            updated_at = datetime.datetime.fromisoformat(_updated_at)

        product = cls(
            product_id=product_id,
            name=name,
            category=category,
            price=price,
            currency=currency,
            stock=stock,
            version=version,
            created_at=created_at,
            description=description,
            updated_at=updated_at,
        )

        product.additional_properties = d
        return product

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
