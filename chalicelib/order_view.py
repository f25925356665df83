"""The order as the API (and every event message) shows it.

Shared by :mod:`chalicelib.orders`, :mod:`chalicelib.publisher` and
:mod:`chalicelib.subscriber`; the statuses live in :mod:`chalicelib.order_lifecycle`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from chalicelib import money
from chalicelib.order_lifecycle import AWAITING_PAYMENT
from chalicelib.payments import browser_fields

if TYPE_CHECKING:
    from chalicelib.models import Order, OrderLine, RefundEntry, ReturnEntry


def _line_view(line: OrderLine) -> dict[str, Any]:
    view: dict[str, Any] = {
        "productId": line.product_id,
        "name": line.name,
        "quantity": int(line.quantity),
        "unitPrice": money.text(line.unit_price),
        "lineTotal": money.text(line.line_total),
    }
    if line.tax is not None:
        view["tax"] = money.text(line.tax)
    if line.discount is not None:
        view["discount"] = money.text(line.discount)
    return view


def order_view(order: Order) -> dict[str, Any]:
    view: dict[str, Any] = {
        "orderId": order.order_id,
        "userId": order.user_id,
        "status": order.status,
        "items": [_line_view(line) for line in order.items],
        "total": money.text(order.total),
        "createdAt": order.created_at,
        **money_view(order),
        **delivery_view(order),
    }
    if order.updated_at:
        view["updatedAt"] = order.updated_at
    if order.discount_code:
        view["discountCode"] = order.discount_code
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
    if order.delivered_at:
        view["deliveredAt"] = order.delivered_at
    if order.amount_refunded is not None:
        view["amountRefunded"] = money.text(order.amount_refunded)
    if order.refunds:
        view["refunds"] = [refund_view(refund) for refund in order.refunds]
    if order.returns:
        view["returns"] = [_return_view(entry) for entry in order.returns]
    return view


def _counts(lines: Any) -> list[dict[str, Any]]:
    shown = []
    for line in lines:
        count: dict[str, Any] = {"productId": line.product_id, "quantity": int(line.quantity)}
        if line.restock is not None:
            count["restock"] = line.restock
        shown.append(count)
    return shown


def refund_view(refund: RefundEntry) -> dict[str, Any]:
    view: dict[str, Any] = {
        "refundId": refund.refund_id,
        "amount": money.text(refund.amount),
        "reason": refund.reason,
        "lines": _counts(refund.lines or []),
        "status": refund.status,
        "createdAt": refund.created_at,
        "by": refund.by,
    }
    if refund.note:
        view["note"] = refund.note
    if refund.provider_refund_id:
        view["providerRefundId"] = refund.provider_refund_id
    return view


def _return_view(entry: ReturnEntry) -> dict[str, Any]:
    view: dict[str, Any] = {
        "returnId": entry.return_id,
        "lines": _counts(entry.lines),
        "status": entry.status,
        "requestedAt": entry.requested_at,
    }
    for key, value in (
        ("reason", entry.reason),
        ("decidedAt", entry.decided_at),
        ("decidedBy", entry.decided_by),
        ("rejectReason", entry.reject_reason),
        ("receivedAt", entry.received_at),
        ("refundId", entry.refund_id),
    ):
        if value is not None:
            view[key] = value
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
