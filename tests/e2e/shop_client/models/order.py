from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.order_status import OrderStatus
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.order_line import OrderLine
    from ..models.payment import Payment
    from ..models.refund import Refund
    from ..models.return_ import Return


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
        currency (str): ISO 4217 code of every amount in this object (the stage's currency)
        created_at (datetime.datetime):
        updated_at (datetime.datetime | Unset):
        payment (Payment | Unset): Only with a payment provider (docs/payments.md)
        delivered_at (datetime.datetime | Unset): The return window starts here
        amount_refunded (str | Unset): Refunds so far, pending ones included
        refunds (list[Refund] | Unset):
        returns (list[Return] | Unset):
        discount_code (str | Unset): The discount code redeemed
    """

    order_id: str
    user_id: str
    status: OrderStatus
    items: list[OrderLine]
    total: str
    currency: str
    created_at: datetime.datetime
    updated_at: datetime.datetime | Unset = UNSET
    payment: Payment | Unset = UNSET
    delivered_at: datetime.datetime | Unset = UNSET
    amount_refunded: str | Unset = UNSET
    refunds: list[Refund] | Unset = UNSET
    returns: list[Return] | Unset = UNSET
    discount_code: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        order_id = self.order_id

        user_id = self.user_id

        status = self.status.value

        items = []
        for items_item_data in self.items:
            items_item = items_item_data.to_dict()
            items.append(items_item)

        total = self.total

        currency = self.currency

        created_at = self.created_at.isoformat()

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

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "orderId": order_id,
                "userId": user_id,
                "status": status,
                "items": items,
                "total": total,
                "currency": currency,
                "createdAt": created_at,
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

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.order_line import OrderLine
        from ..models.payment import Payment
        from ..models.refund import Refund
        from ..models.return_ import Return

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

        currency = d.pop("currency")

        created_at = datetime.datetime.fromisoformat(d.pop("createdAt"))

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

        order = cls(
            order_id=order_id,
            user_id=user_id,
            status=status,
            items=items,
            total=total,
            currency=currency,
            created_at=created_at,
            updated_at=updated_at,
            payment=payment,
            delivered_at=delivered_at,
            amount_refunded=amount_refunded,
            refunds=refunds,
            returns=returns,
            discount_code=discount_code,
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
