"""The order as the API (and every event message) shows it.

Shared by :mod:`chalicelib.orders`, :mod:`chalicelib.publisher` and
:mod:`chalicelib.subscriber`; the statuses live in :mod:`chalicelib.order_lifecycle`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalicelib import money
from chalicelib.order_lifecycle import AWAITING_PAYMENT
from chalicelib.payments import browser_fields

if TYPE_CHECKING:
    from chalicelib.models import Order


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
                "unitPrice": money.text(line.unit_price),
                "lineTotal": money.text(line.line_total),
            }
            for line in order.items
        ],
        "total": money.text(order.total),
        "currency": money.CURRENCY,
        "createdAt": order.created_at,
    }
    if order.updated_at:
        view["updatedAt"] = order.updated_at
    if order.payment_intent_id:
        payment: dict[str, Any] = {
            "provider": order.payment_provider,
            "paymentIntentId": order.payment_intent_id,
            "expiresAt": order.payment_expires_at,
        }
        # What the buyer's browser confirms the payment with; useless once it is settled.
        if order.status == AWAITING_PAYMENT and order.payment_client_secret:
            payment["clientSecret"] = order.payment_client_secret
            payment.update(browser_fields())
        view["payment"] = payment
    return view
