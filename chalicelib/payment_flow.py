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

from chalicelib import events, payments, transactions
from chalicelib.clock import iso_z, now_iso
from chalicelib.errors import NotFound, is_transient
from chalicelib.models import AWAITING_PAYMENT_KEY, Order, Product
from chalicelib.observability import metric
from chalicelib.order_view import AWAITING_PAYMENT, CANCELLED, CONFIRMED, EXPIRED
from chalicelib.orders import cancel_intent_quietly, refund_quietly
from chalicelib.schemas import is_id
from chalicelib.shards import shard_keys
from chalicelib.transactions import ConditionsFailed, Transaction

logger = logging.getLogger(__name__)

EXPIRY_BATCH = 100
_NOT_AWAITING = "no longer awaiting this payment"
_PRODUCT_GONE = "product gone"


class _Gone:
    def __init__(self, product_id: str) -> None:
        self.product_id = product_id


def _provider() -> payments.PaymentProvider:
    provider = payments.provider()
    if provider is None:
        raise NotFound("payments are not enabled on this stage")
    return provider


def handle_webhook(payload: bytes | str, signature: str | None) -> dict[str, str]:
    """Verify and apply one provider notification; what was done, for the 200 answer."""
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
    return {"result": _released(order, CANCELLED, events.ORDER_CANCELLED)}


def _order_paid_by(event: payments.WebhookEvent) -> Order | None:
    if event.order_id is None or not is_id(event.order_id):
        return None
    try:
        order = Order.get(event.order_id, consistent_read=True)
    except DoesNotExist:
        return None
    return order if order.payment_intent_id == event.intent_id else None


def _paid(order: Order) -> str:
    paid_at = now_iso()
    try:
        transactions.write(
            lambda tx: tx.update(
                order,
                [
                    Order.status.set(CONFIRMED),
                    Order.status_shard.set(Order.status_shard_for(order.order_id, CONFIRMED)),
                    Order.updated_at.set(paid_at),
                    Order.awaiting_shard.remove(),
                    Order.payment_client_secret.remove(),
                    Order.pending_event.set(
                        Order.pending_event_for(order.order_id, events.ORDER_PAID)
                    ),
                    Order.event_at.set(paid_at),
                ],
                condition=_still_awaiting(order),
                on_fail=_NOT_AWAITING,
            )
        )
    except ConditionsFailed:
        return _paid_too_late(order)
    order.status = CONFIRMED
    order.updated_at = order.event_at = paid_at
    order.pending_event = Order.pending_event_for(order.order_id, events.ORDER_PAID)
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
        payments.minor_units(order.total),
        payments.CURRENCY,
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


def _still_awaiting(order: Order) -> Condition:
    awaiting: Condition = Order.status == AWAITING_PAYMENT
    same_intent: Condition = Order.payment_intent_id == (order.payment_intent_id or "")
    both: Condition = awaiting & same_intent
    return both


def _released(order: Order, status: str, event_type: str) -> str:
    """``AWAITING_PAYMENT`` -> ``status`` with every line's stock given back, in one transaction."""
    at = now_iso()
    restock = {line.product_id: int(line.quantity) for line in order.items}

    def build(tx: Transaction) -> None:
        tx.update(
            order,
            [
                Order.status.set(status),
                Order.status_shard.set(Order.status_shard_for(order.order_id, status)),
                Order.updated_at.set(at),
                Order.awaiting_shard.remove(),
                Order.payment_client_secret.remove(),
                Order.pending_event.set(Order.pending_event_for(order.order_id, event_type)),
                Order.event_at.set(at),
            ],
            condition=_still_awaiting(order),
            on_fail=_NOT_AWAITING,
        )
        for product_id, quantity in restock.items():
            # version=0 only makes PynamoDB bump the version (ADD 1) instead of resetting it.
            tx.update(
                Product(product_id, version=0),
                [Product.stock.add(quantity)],
                on_fail=_Gone(product_id),
            )

    def drop_deleted_products(failed: ConditionsFailed) -> bool:
        if _NOT_AWAITING in failed.meanings:
            return False
        gone = [m.product_id for m in failed.meanings if isinstance(m, _Gone)]
        for product_id in gone:
            del restock[product_id]
        return bool(gone)

    try:
        transactions.write(build, retry_if=drop_deleted_products)
    except ConditionsFailed as failed:
        if _NOT_AWAITING in failed.meanings:
            return "ignored"  # already paid, failed, cancelled or expired
        raise
    order.status = status
    order.updated_at = order.event_at = at
    order.pending_event = Order.pending_event_for(order.order_id, event_type)
    metric("OrdersExpired" if status == EXPIRED else "PaymentsFailed")
    # Nobody may pay it any more (a failed attempt would otherwise allow another card).
    cancel_intent_quietly(order)
    return "expired" if status == EXPIRED else "cancelled"


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
                expired += _released(order, EXPIRED, events.ORDER_EXPIRED) == "expired"
    except Exception as exc:
        if not is_transient(exc):
            raise
        # What was not reached stays in the index; the next run starts there.
        logger.warning("expiry stopped early, a dependency is busy: %s", exc)
        metric("SweepInterrupted")
    return expired
