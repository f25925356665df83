from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="Totals")


@_attrs_define
class Totals:
    """total = subtotal + shipping + tax - discount (docs/api.md#totals)

    Attributes:
        subtotal (str): USD, a decimal string with at most 2 decimals (responses: exactly 2)
        shipping (str): USD, a decimal string with at most 2 decimals (responses: exactly 2)
        tax (str): USD, a decimal string with at most 2 decimals (responses: exactly 2)
        discount (str): USD, a decimal string with at most 2 decimals (responses: exactly 2)
        total (str): USD, a decimal string with at most 2 decimals (responses: exactly 2)
    """

    subtotal: str
    shipping: str
    tax: str
    discount: str
    total: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        subtotal = self.subtotal

        shipping = self.shipping

        tax = self.tax

        discount = self.discount

        total = self.total

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "subtotal": subtotal,
                "shipping": shipping,
                "tax": tax,
                "discount": discount,
                "total": total,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        subtotal = d.pop("subtotal")

        shipping = d.pop("shipping")

        tax = d.pop("tax")

        discount = d.pop("discount")

        total = d.pop("total")

        totals = cls(
            subtotal=subtotal,
            shipping=shipping,
            tax=tax,
            discount=discount,
            total=total,
        )

        totals.additional_properties = d
        return totals

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
