from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.shipping_options_currency import ShippingOptionsCurrency

if TYPE_CHECKING:
    from ..models.shipping_option import ShippingOption


T = TypeVar("T", bound="ShippingOptions")


@_attrs_define
class ShippingOptions:
    """An order naming none ships by the lowest flat price

    Attributes:
        country (str):
        currency (ShippingOptionsCurrency):
        items (list[ShippingOption]):
    """

    country: str
    currency: ShippingOptionsCurrency
    items: list[ShippingOption]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        country = self.country

        currency = self.currency.value

        items = []
        for items_item_data in self.items:
            items_item = items_item_data.to_dict()
            items.append(items_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "country": country,
                "currency": currency,
                "items": items,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.shipping_option import ShippingOption

        d = dict(src_dict)
        country = d.pop("country")

        currency = ShippingOptionsCurrency(d.pop("currency"))

        items = []
        _items = d.pop("items")
        for items_item_data in _items:
            items_item = ShippingOption.from_dict(items_item_data)

            items.append(items_item)

        shipping_options = cls(
            country=country,
            currency=currency,
            items=items,
        )

        shipping_options.additional_properties = d
        return shipping_options

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
