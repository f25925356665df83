"""Order statuses and the order as the API (and every event message) shows it.

Shared by :mod:`chalicelib.orders` and :mod:`chalicelib.events`, which both
import it; neither imports the other's internals.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalicelib.encoding import json_number

if TYPE_CHECKING:
    from chalicelib.models import Order

PENDING = "PENDING"
CONFIRMED = "CONFIRMED"
SHIPPED = "SHIPPED"
DELIVERED = "DELIVERED"
CANCELLED = "CANCELLED"
ORDER_STATUSES = (PENDING, CONFIRMED, SHIPPED, DELIVERED, CANCELLED)
CANCELLABLE = (PENDING, CONFIRMED)
# Fulfilment steps an admin takes: the status it requires -> the status it sets.
FULFILMENT_STEPS = {SHIPPED: CONFIRMED, DELIVERED: SHIPPED}


def order_view(order: Order) -> dict[str, Any]:
    view: dict[str, Any] = {
        "orderId": order.order_id,
        "userId": order.user_id,
        "status": order.status,
        "items": [
            {
                "productId": line.product_id,
                "name": line.name,
                "quantity": int(line.quantity),
                "unitPrice": json_number(line.unit_price),
                "lineTotal": json_number(line.line_total),
            }
            for line in order.items
        ],
        "total": json_number(order.total),
        "createdAt": order.created_at,
    }
    if order.updated_at:
        view["updatedAt"] = order.updated_at
    return view
