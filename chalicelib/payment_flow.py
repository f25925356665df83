"""What happens to an order after it asked for payment: paid, failed, or expired.

Each transition is one conditional write from ``AWAITING_PAYMENT`` (and, for a
webhook, on the very PaymentIntent the order is waiting for), so duplicate or
out-of-order webhooks and a webhook racing the expiry sweep change nothing twice.
Failures and expiries give the stock back in the same transaction as the status.
A success that arrives for an order no longer awaiting payment (expired, or
cancelled by its buyer) is refunded, logged and counted.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.condition import Condition

from chalicelib import money, payments
from chalicelib.clock import iso_z
from chalicelib.errors import NotFound, ValidationError, is_transient
from chalicelib.models import AWAITING_PAYMENT_KEY, Order
from chalicelib.observability import metric
from chalicelib.order_lifecycle import (
    CANCELLED,
    EXPIRE,
    EXPIRED,
    FAIL,
    PAY,
    Transition,
)
from chalicelib.order_transitions import transition
from chalicelib.orders import cancel_intent_quietly, refund_quietly
from chalicelib.schemas import is_id
from chalicelib.shards import shard_keys

logger = logging.getLogger(__name__)

EXPIRY_BATCH = 100


class _NotAwaiting(Exception):
    """The order no longer awaits this payment (paid, failed, cancelled or expired)."""


def _provider() -> payments.PaymentProvider:
    provider = payments.provider()
    if provider is None:
        raise NotFound("payments are not enabled on this stage")
    return provider


def handle_webhook(payload: bytes | str, signature: str | None) -> dict[str, str]:
    """Verify and apply one provider notification; what was done, for the 200 answer."""
    if not signature:  # malformed whatever the stage: the document makes the header required
        raise ValidationError("the Stripe-Signature header is required", field="Stripe-Signature")
    event = _provider().verify_webhook(payload, signature)
    if event.event_type not in (
        payments.PAYMENT_SUCCEEDED,
        payments.PAYMENT_FAILED,
        payments.PAYMENT_CANCELED,
    ):
        return {"result": "ignored"}
    order = _order_paid_by(event)
    if order is None:
        logger.warning("webhook %s names no order of ours", event.event_type)
        return {"result": "ignored"}
    if event.event_type == payments.PAYMENT_SUCCEEDED:
        if not payments.paid_in_full(event, order.total):
            return {"result": _paid_wrong_amount(order, event)}
        return {"result": _paid(order)}
    return {"result": _released(order, FAIL)}


def _order_paid_by(event: payments.WebhookEvent) -> Order | None:
    if event.order_id is None or not is_id(event.order_id):
        return None
    try:
        order = Order.get(event.order_id, consistent_read=True)
    except DoesNotExist:
        return None
    return order if order.payment_intent_id == event.intent_id else None


def _paid(order: Order) -> str:
    try:
        transition(order, PAY, on_fail=_NotAwaiting(), condition=_same_intent(order))
    except _NotAwaiting:
        return _paid_too_late(order)
    metric("OrdersPaid")  # the orders table's stream publishes OrderPaid
    return "confirmed"


def _paid_wrong_amount(order: Order, event: payments.WebhookEvent) -> str:
    """Never confirm a payment of another amount or currency: refund it, log it, count it.

    The order stays ``AWAITING_PAYMENT`` (its intent is spent, so nobody can pay it
    again) until the sweep expires it and gives its stock back.
    """
    logger.error(
        "payment for order %s received %s %s, expected %s %s: refunding, not confirming",
        order.order_id,
        event.amount_received,
        event.currency,
        money.minor_units(order.total),
        payments.stripe_currency(),
    )
    metric("PaymentAmountMismatches")
    refunded = refund_quietly(order, "amount or currency mismatch")
    return "refunded" if refunded else "refund failed"


def _paid_too_late(order: Order) -> str:
    current = Order.get(order.order_id, consistent_read=True)
    if current.status in (EXPIRED, CANCELLED):
        # Its stock may be sold again already: the money goes back (idempotent at Stripe).
        logger.warning(
            "payment for order %s arrived while it was %s: refunding",
            order.order_id,
            current.status,
        )
        metric("LatePayments")
        refunded = refund_quietly(current, f"paid while {current.status}")
        return "refunded" if refunded else "refund failed"
    return "ignored"  # a duplicate: already CONFIRMED (or later)


def _same_intent(order: Order) -> Condition:
    """Still waiting for the very PaymentIntent the webhook is about."""
    same: Condition = Order.payment_intent_id == (order.payment_intent_id or "")
    return same


def _released(order: Order, step: Transition) -> str:
    """``AWAITING_PAYMENT`` -> failed or expired, the stock given back in one transaction."""
    try:
        transition(order, step, on_fail=_NotAwaiting(), condition=_same_intent(order))
    except _NotAwaiting:
        return "ignored"  # already paid, failed, cancelled or expired
    metric("OrdersExpired" if step is EXPIRE else "PaymentsFailed")
    # Nobody may pay it any more (a failed attempt would otherwise allow another card).
    cancel_intent_quietly(order)
    return "expired" if step is EXPIRE else "cancelled"


def expire_unpaid(now: datetime | None = None) -> int:
    """Expire every order whose payment deadline passed; how many were expired.

    Found through the sparse ``awaitingPayment`` index (one query per shard, oldest
    deadline first), never a Scan. A no-op on stages without a payment provider.
    """
    if payments.provider() is None:
        return 0
    cutoff = iso_z(now or datetime.now(UTC))
    expired = 0
    try:
        for shard in shard_keys(AWAITING_PAYMENT_KEY):
            for order in Order.awaiting_payment.query(
                shard,
                range_key_condition=Order.payment_expires_at < cutoff,
                limit=EXPIRY_BATCH,
            ):
                expired += _released(order, EXPIRE) == "expired"
    except Exception as exc:
        if not is_transient(exc):
            raise
        # What was not reached stays in the index; the next run starts there.
        logger.warning("expiry stopped early, a dependency is busy: %s", exc)
        metric("SweepInterrupted")
    return expired
