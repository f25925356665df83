"""The order as the API (and every event message) shows it.

Shared by :mod:`chalicelib.orders`, :mod:`chalicelib.publisher` and
:mod:`chalicelib.subscriber`; the statuses live in :mod:`chalicelib.order_lifecycle`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from chalicelib import money
from chalicelib.encoding import json_number
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
                "unitPrice": json_number(line.unit_price),
                "lineTotal": json_number(line.line_total),
                **({} if line.tax is None else {"tax": money.text(line.tax)}),
            }
            for line in order.items
        ],
        "total": json_number(order.total),
        "createdAt": order.created_at,
        **money_view(order),
        **delivery_view(order),
    }
    if order.updated_at:
        view["updatedAt"] = order.updated_at
    if order.carrier or order.tracking_number:
        view["fulfilment"] = {"carrier": order.carrier, "trackingNumber": order.tracking_number}
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


# Orders placed before shipping and tax store only ``total``, in US dollars (every stage was).
LEGACY_CURRENCY = "USD"


def money_view(order: Order) -> dict[str, Any]:
    """``currency`` and ``totals``; a legacy order's are derived: its subtotal is its total,
    and shipping, tax and discount are 0 (it had none), with ``legacy: true``."""
    subtotal: Decimal | None = order.subtotal  # null on legacy orders (typed non-null)
    if subtotal is None:
        zero = money.text(0)
        return {
            "currency": order.currency or LEGACY_CURRENCY,
            "totals": {
                "subtotal": money.text(order.total),
                "shipping": zero,
                "tax": zero,
                "discount": zero,
                "total": money.text(order.total),
            },
            "legacy": True,
        }
    return {
        "currency": order.currency or LEGACY_CURRENCY,
        "totals": {
            "subtotal": money.text(subtotal),
            "shipping": money.text(order.shipping_price or 0),
            "tax": money.text(order.tax or 0),
            "discount": money.text(order.discount or 0),
            "total": money.text(order.total),
        },
    }


def stored_map(value: Any) -> dict[str, Any]:
    """A raw ``MapAttribute``'s content, whether read from the table or set in memory."""
    return dict(value.as_dict() if hasattr(value, "as_dict") else value)


def delivery_view(order: Order) -> dict[str, Any]:
    """The stored copy of the address and the method (null on legacy orders)."""
    address = order.shipping_address
    method = order.shipping_method
    return {
        "shippingAddress": None if address is None else stored_map(address),
        "shippingMethod": None
        if method is None
        else {"id": method, "name": order.shipping_method_name or method},
    }
