from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.order_status import OrderStatus
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.order_fulfilment import OrderFulfilment
    from ..models.order_line import OrderLine
    from ..models.order_shipping_method_type_0 import OrderShippingMethodType0
    from ..models.payment import Payment
    from ..models.refund import Refund
    from ..models.return_ import Return
    from ..models.shipping_address import ShippingAddress
    from ..models.totals import Totals


T = TypeVar("T", bound="Order")


@_attrs_define
class Order:
    """
    Attributes:
        order_id (str):
        user_id (str):
        status (OrderStatus):
        items (list[OrderLine]):
        total (str): USD, a decimal string with at most 2 decimals (responses: exactly 2)
        created_at (datetime.datetime):
        currency (str): ISO 4217: the stage's (USD on legacy orders)
        totals (Totals): total = subtotal + shipping + tax - discount (docs/api.md#totals)
        shipping_address (None | ShippingAddress):
        shipping_method (None | OrderShippingMethodType0):
        updated_at (datetime.datetime | Unset):
        payment (Payment | Unset): Only with a payment provider (docs/payments.md)
        delivered_at (datetime.datetime | Unset): The return window starts here
        amount_refunded (str | Unset): Refunds so far, pending ones included
        refunds (list[Refund] | Unset):
        returns (list[Return] | Unset):
        discount_code (str | Unset): The discount code redeemed
        legacy (bool | Unset): Placed before shipping and tax: totals derived (docs/api.md)
        fulfilment (OrderFulfilment | Unset): What the ship step recorded (either may be null)
    """

    order_id: str
    user_id: str
    status: OrderStatus
    items: list[OrderLine]
    total: str
    created_at: datetime.datetime
    currency: str
    totals: Totals
    shipping_address: None | ShippingAddress
    shipping_method: None | OrderShippingMethodType0
    updated_at: datetime.datetime | Unset = UNSET
    payment: Payment | Unset = UNSET
    delivered_at: datetime.datetime | Unset = UNSET
    amount_refunded: str | Unset = UNSET
    refunds: list[Refund] | Unset = UNSET
    returns: list[Return] | Unset = UNSET
    discount_code: str | Unset = UNSET
    legacy: bool | Unset = UNSET
    fulfilment: OrderFulfilment | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.order_shipping_method_type_0 import OrderShippingMethodType0
        from ..models.shipping_address import ShippingAddress

        order_id = self.order_id

        user_id = self.user_id

        status = self.status.value

        items = []
        for items_item_data in self.items:
            items_item = items_item_data.to_dict()
            items.append(items_item)

        total = self.total

        created_at = self.created_at.isoformat()

        currency = self.currency

        totals = self.totals.to_dict()

        shipping_address: dict[str, Any] | None
        if isinstance(self.shipping_address, ShippingAddress):
            shipping_address = self.shipping_address.to_dict()
        else:
            shipping_address = self.shipping_address

        shipping_method: dict[str, Any] | None
        if isinstance(self.shipping_method, OrderShippingMethodType0):
            shipping_method = self.shipping_method.to_dict()
        else:
            shipping_method = self.shipping_method

        updated_at: str | Unset = UNSET
        if not isinstance(self.updated_at, Unset):
            updated_at = self.updated_at.isoformat()

        payment: dict[str, Any] | Unset = UNSET
        if not isinstance(self.payment, Unset):
            payment = self.payment.to_dict()

        delivered_at: str | Unset = UNSET
        if not isinstance(self.delivered_at, Unset):
            delivered_at = self.delivered_at.isoformat()

        amount_refunded = self.amount_refunded

        refunds: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.refunds, Unset):
            refunds = []
            for refunds_item_data in self.refunds:
                refunds_item = refunds_item_data.to_dict()
                refunds.append(refunds_item)

        returns: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.returns, Unset):
            returns = []
            for returns_item_data in self.returns:
                returns_item = returns_item_data.to_dict()
                returns.append(returns_item)

        discount_code = self.discount_code

        legacy = self.legacy

        fulfilment: dict[str, Any] | Unset = UNSET
        if not isinstance(self.fulfilment, Unset):
            fulfilment = self.fulfilment.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "orderId": order_id,
                "userId": user_id,
                "status": status,
                "items": items,
                "total": total,
                "createdAt": created_at,
                "currency": currency,
                "totals": totals,
                "shippingAddress": shipping_address,
                "shippingMethod": shipping_method,
            }
        )
        if updated_at is not UNSET:
            field_dict["updatedAt"] = updated_at
        if payment is not UNSET:
            field_dict["payment"] = payment
        if delivered_at is not UNSET:
            field_dict["deliveredAt"] = delivered_at
        if amount_refunded is not UNSET:
            field_dict["amountRefunded"] = amount_refunded
        if refunds is not UNSET:
            field_dict["refunds"] = refunds
        if returns is not UNSET:
            field_dict["returns"] = returns
        if discount_code is not UNSET:
            field_dict["discountCode"] = discount_code
        if legacy is not UNSET:
            field_dict["legacy"] = legacy
        if fulfilment is not UNSET:
            field_dict["fulfilment"] = fulfilment

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.order_fulfilment import OrderFulfilment
        from ..models.order_line import OrderLine
        from ..models.order_shipping_method_type_0 import OrderShippingMethodType0
        from ..models.payment import Payment
        from ..models.refund import Refund
        from ..models.return_ import Return
        from ..models.shipping_address import ShippingAddress
        from ..models.totals import Totals

        d = dict(src_dict)
        order_id = d.pop("orderId")

        user_id = d.pop("userId")

        status = OrderStatus(d.pop("status"))

        items = []
        _items = d.pop("items")
        for items_item_data in _items:
            items_item = OrderLine.from_dict(items_item_data)

            items.append(items_item)

        total = d.pop("total")

        created_at = datetime.datetime.fromisoformat(d.pop("createdAt"))

        currency = d.pop("currency")

        totals = Totals.from_dict(d.pop("totals"))

        def _parse_shipping_address(data: object) -> None | ShippingAddress:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                shipping_address_type_0 = ShippingAddress.from_dict(data)

                return shipping_address_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | ShippingAddress, data)

        shipping_address = _parse_shipping_address(d.pop("shippingAddress"))

        def _parse_shipping_method(data: object) -> None | OrderShippingMethodType0:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                shipping_method_type_0 = OrderShippingMethodType0.from_dict(data)

                return shipping_method_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | OrderShippingMethodType0, data)

        shipping_method = _parse_shipping_method(d.pop("shippingMethod"))

        _updated_at = d.pop("updatedAt", UNSET)
        updated_at: datetime.datetime | Unset
        if isinstance(_updated_at, Unset):
            updated_at = UNSET
        else:
            updated_at = datetime.datetime.fromisoformat(_updated_at)

        _payment = d.pop("payment", UNSET)
        payment: Payment | Unset
        if isinstance(_payment, Unset):
            payment = UNSET
        else:
            payment = Payment.from_dict(_payment)

        _delivered_at = d.pop("deliveredAt", UNSET)
        delivered_at: datetime.datetime | Unset
        if isinstance(_delivered_at, Unset):
            delivered_at = UNSET
        else:
            delivered_at = datetime.datetime.fromisoformat(_delivered_at)

        amount_refunded = d.pop("amountRefunded", UNSET)

        _refunds = d.pop("refunds", UNSET)
        refunds: list[Refund] | Unset = UNSET
        if _refunds is not UNSET:
            refunds = []
            for refunds_item_data in _refunds:
                refunds_item = Refund.from_dict(refunds_item_data)

                refunds.append(refunds_item)

        _returns = d.pop("returns", UNSET)
        returns: list[Return] | Unset = UNSET
        if _returns is not UNSET:
            returns = []
            for returns_item_data in _returns:
                returns_item = Return.from_dict(returns_item_data)

                returns.append(returns_item)

        discount_code = d.pop("discountCode", UNSET)

        legacy = d.pop("legacy", UNSET)

        _fulfilment = d.pop("fulfilment", UNSET)
        fulfilment: OrderFulfilment | Unset
        if isinstance(_fulfilment, Unset):
            fulfilment = UNSET
        else:
            fulfilment = OrderFulfilment.from_dict(_fulfilment)

        order = cls(
            order_id=order_id,
            user_id=user_id,
            status=status,
            items=items,
            total=total,
            created_at=created_at,
            currency=currency,
            totals=totals,
            shipping_address=shipping_address,
            shipping_method=shipping_method,
            updated_at=updated_at,
            payment=payment,
            delivered_at=delivered_at,
            amount_refunded=amount_refunded,
            refunds=refunds,
            returns=returns,
            discount_code=discount_code,
            legacy=legacy,
            fulfilment=fulfilment,
        )

        order.additional_properties = d
        return order

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
