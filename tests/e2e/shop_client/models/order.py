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


T = TypeVar("T", bound="Order")


@_attrs_define
class Order:
    """
    Attributes:
        order_id (str):
        user_id (str):
        status (OrderStatus):
        items (list[OrderLine]):
        total (float):
        created_at (datetime.datetime):
        updated_at (datetime.datetime | Unset):
        payment (Payment | Unset): Only with a payment provider (docs/payments.md)
        discount_code (str | Unset): The discount code redeemed
    """

    order_id: str
    user_id: str
    status: OrderStatus
    items: list[OrderLine]
    total: float
    created_at: datetime.datetime
    updated_at: datetime.datetime | Unset = UNSET
    payment: Payment | Unset = UNSET
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

        created_at = self.created_at.isoformat()

        updated_at: str | Unset = UNSET
        if not isinstance(self.updated_at, Unset):
            updated_at = self.updated_at.isoformat()

        payment: dict[str, Any] | Unset = UNSET
        if not isinstance(self.payment, Unset):
            payment = self.payment.to_dict()

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
                "createdAt": created_at,
            }
        )
        if updated_at is not UNSET:
            field_dict["updatedAt"] = updated_at
        if payment is not UNSET:
            field_dict["payment"] = payment
        if discount_code is not UNSET:
            field_dict["discountCode"] = discount_code

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.order_line import OrderLine
        from ..models.payment import Payment

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

        discount_code = d.pop("discountCode", UNSET)

        order = cls(
            order_id=order_id,
            user_id=user_id,
            status=status,
            items=items,
            total=total,
            created_at=created_at,
            updated_at=updated_at,
            payment=payment,
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
