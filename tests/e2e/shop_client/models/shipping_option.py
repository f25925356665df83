from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.shipping_option_estimated_days import ShippingOptionEstimatedDays


T = TypeVar("T", bound="ShippingOption")


@_attrs_define
class ShippingOption:
    """
    Attributes:
        id (str): The order's shippingMethod
        name (str):
        price (str): USD, a decimal string with at most 2 decimals (responses: exactly 2)
        estimated_days (ShippingOptionEstimatedDays):
    """

    id: str
    name: str
    price: str
    estimated_days: ShippingOptionEstimatedDays
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        name = self.name

        price = self.price

        estimated_days = self.estimated_days.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "name": name,
                "price": price,
                "estimatedDays": estimated_days,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.shipping_option_estimated_days import ShippingOptionEstimatedDays

        d = dict(src_dict)
        id = d.pop("id")

        name = d.pop("name")

        price = d.pop("price")

        estimated_days = ShippingOptionEstimatedDays.from_dict(d.pop("estimatedDays"))

        shipping_option = cls(
            id=id,
            name=name,
            price=price,
            estimated_days=estimated_days,
        )

        shipping_option.additional_properties = d
        return shipping_option

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
