from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.cart_line import CartLine
    from ..models.cart_totals_for_type_0 import CartTotalsForType0
    from ..models.totals import Totals


T = TypeVar("T", bound="Cart")


@_attrs_define
class Cart:
    """
    Attributes:
        items (list[CartLine]):
        total (str): USD, a decimal string with at most 2 decimals (responses: exactly 2)
        currency (str): ISO 4217 code of every amount in this object (the stage's currency)
        updated_at (datetime.datetime | None):
        totals (Totals): total = subtotal + shipping + tax - discount (docs/api.md#totals)
        totals_for (CartTotalsForType0 | None): Where totals were priced for: the default address of your book and its
            cheapest method; null: no default address, so shipping and tax are 0 until checkout (docs/api.md#cart-totals)
    """

    items: list[CartLine]
    total: str
    currency: str
    updated_at: datetime.datetime | None
    totals: Totals
    totals_for: CartTotalsForType0 | None
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.cart_totals_for_type_0 import CartTotalsForType0

        items = []
        for items_item_data in self.items:
            items_item = items_item_data.to_dict()
            items.append(items_item)

        total = self.total

        currency = self.currency

        updated_at: None | str
        if isinstance(self.updated_at, datetime.datetime):
            updated_at = self.updated_at.isoformat()
        else:
            updated_at = self.updated_at

        totals = self.totals.to_dict()

        totals_for: dict[str, Any] | None
        if isinstance(self.totals_for, CartTotalsForType0):
            totals_for = self.totals_for.to_dict()
        else:
            totals_for = self.totals_for

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "items": items,
                "total": total,
                "currency": currency,
                "updatedAt": updated_at,
                "totals": totals,
                "totalsFor": totals_for,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.cart_line import CartLine
        from ..models.cart_totals_for_type_0 import CartTotalsForType0
        from ..models.totals import Totals

        d = dict(src_dict)
        items = []
        _items = d.pop("items")
        for items_item_data in _items:
            items_item = CartLine.from_dict(items_item_data)

            items.append(items_item)

        total = d.pop("total")

        currency = d.pop("currency")

        def _parse_updated_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                updated_at_type_0 = datetime.datetime.fromisoformat(data)

                return updated_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        updated_at = _parse_updated_at(d.pop("updatedAt"))

        totals = Totals.from_dict(d.pop("totals"))

        def _parse_totals_for(data: object) -> CartTotalsForType0 | None:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                totals_for_type_0 = CartTotalsForType0.from_dict(data)

                return totals_for_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(CartTotalsForType0 | None, data)

        totals_for = _parse_totals_for(d.pop("totalsFor"))

        cart = cls(
            items=items,
            total=total,
            currency=currency,
            updated_at=updated_at,
            totals=totals,
            totals_for=totals_for,
        )

        cart.additional_properties = d
        return cart

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
