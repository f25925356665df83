"""The order as the API (and every event message) shows it.

Shared by :mod:`chalicelib.orders`, :mod:`chalicelib.publisher` and
:mod:`chalicelib.subscriber`; the statuses live in :mod:`chalicelib.order_lifecycle`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalicelib import money
from chalicelib.encoding import json_number
from chalicelib.order_lifecycle import AWAITING_PAYMENT
from chalicelib.payments import browser_fields

if TYPE_CHECKING:
    from chalicelib.models import Order, OrderLine


def _line_view(line: OrderLine) -> dict[str, Any]:
    view: dict[str, Any] = {
        "productId": line.product_id,
        "name": line.name,
        "quantity": int(line.quantity),
        "unitPrice": json_number(line.unit_price),
        "lineTotal": json_number(line.line_total),
    }
    if line.discount is not None:
        view["discount"] = money.text(line.discount)
    return view


def order_view(order: Order) -> dict[str, Any]:
    view: dict[str, Any] = {
        "orderId": order.order_id,
        "userId": order.user_id,
        "status": order.status,
        "items": [_line_view(line) for line in order.items],
        "total": json_number(order.total),
        "createdAt": order.created_at,
    }
    if order.updated_at:
        view["updatedAt"] = order.updated_at
    if order.discount_code:
        view["discountCode"] = order.discount_code
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
