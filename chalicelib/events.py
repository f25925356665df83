"""Order events on SNS, and the subscriber's reaction to them.

Delivery guarantee without an extra DynamoDB call on the request path: every
order write also sets ``pendingEvent``/``eventAt`` (a sparse GSI). The
subscriber's conditional update that handles the event removes them, so it
doubles as the acknowledgment. A publish that fails only logs; the scheduled
sweep re-publishes whatever is still unacknowledged after a grace period.

Under faults: a throttled or unavailable DynamoDB call in the subscriber raises, so
SNS delivers the message again (only malformed messages are dropped). The sweep stops
at the first throttled call and returns normally; what it did not reach is still in
the index, oldest first, so its next run starts there.
"""

from __future__ import annotations

import functools
import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from pynamodb.exceptions import UpdateError
from pynamodb.expressions.update import Action

from chalicelib.aws import client
from chalicelib.clock import iso_z, now_iso
from chalicelib.config import get_settings
from chalicelib.encoding import json_default
from chalicelib.errors import aws_error_code, is_transient
from chalicelib.models import Order
from chalicelib.observability import metric
from chalicelib.order_view import AWAITING_PAYMENT, CONFIRMED, PENDING, order_view
from chalicelib.schemas import is_id

logger = logging.getLogger(__name__)

ORDER_PLACED = "OrderPlaced"
ORDER_CANCELLED = "OrderCancelled"
# With a payment provider (chalicelib/payment_flow.py): the webhook's success, and the timeout.
ORDER_PAID = "OrderPaid"
ORDER_EXPIRED = "OrderExpired"
EVENT_TYPES = (ORDER_PLACED, ORDER_CANCELLED)
PAYMENT_EVENT_TYPES = (ORDER_PAID, ORDER_EXPIRED)


def _event_types() -> tuple[str, ...]:
    """The types this stage can produce: payment events only with a payment provider."""
    if get_settings().payment_provider == "none":
        return EVENT_TYPES
    return EVENT_TYPES + PAYMENT_EVENT_TYPES


SWEEP_GRACE = timedelta(minutes=2)
SWEEP_BATCH = 100
EVENT_FIELDS = ("orderId", "userId", "total", "items", "createdAt")


def event_message(event_type: str, order: Order) -> dict[str, Any]:
    """The published JSON: the order as the API shows it, with the event type."""
    view = order_view(order)
    return {"type": event_type, **{field: view[field] for field in EVENT_FIELDS}}


@functools.cache
def topic_arn() -> str:
    """The configured ARN, else built from the caller's account and region (``chalice deploy``)."""
    settings = get_settings()
    if settings.order_events_topic_arn:
        return settings.order_events_topic_arn
    identity = client("sts").get_caller_identity()
    partition = identity["Arn"].split(":")[1]
    region = client("sns").meta.region_name
    return f"arn:{partition}:sns:{region}:{identity['Account']}:{settings.order_events_topic}"


def _send(event_type: str, order: Order) -> None:
    client("sns").publish(
        TopicArn=topic_arn(),
        Message=json.dumps(event_message(event_type, order), default=json_default),
        MessageAttributes={"type": {"DataType": "String", "StringValue": event_type}},
    )


def publish(event_type: str, order: Order) -> bool:
    """Best effort: a failure is logged and left to the sweep, never raised to the caller."""
    try:
        _send(event_type, order)
    except Exception:
        logger.warning(
            "publishing %s for order %s failed; the sweep will retry it",
            event_type,
            order.order_id,
            exc_info=True,
        )
        metric("PublishFailures")
        return False
    return True


def handle_message(raw: str) -> str:
    """React to one SNS message; returns what was done. Never raises for bad input."""
    try:
        message = json.loads(raw)
        event_type = message["type"]
        order_id = message["orderId"]
        if event_type not in _event_types():
            raise ValueError(f"unknown event type {event_type!r}")
        # DynamoDB rejects oversized keys with a ValidationException, which would be retried.
        if not is_id(order_id):
            raise ValueError(f"invalid orderId {order_id!r:.80}")
    except (ValueError, TypeError, KeyError) as exc:
        logger.error("dropping malformed order event: %s", exc)
        metric("SubscriberErrors")
        return "dropped"
    order = Order(order_id)
    actions: list[Action]
    if event_type == ORDER_PLACED:
        actions = [
            Order.status.set(CONFIRMED),
            Order.updated_at.set(now_iso()),
            Order.pending_event.remove(),
            Order.event_at.remove(),
        ]
        condition = (Order.status == PENDING) & (Order.pending_event == ORDER_PLACED)
    else:
        actions = [Order.pending_event.remove(), Order.event_at.remove()]
        condition = Order.pending_event == event_type
    if _update_unless_overtaken(order, actions, condition):
        return "confirmed" if event_type == ORDER_PLACED else "acknowledged"
    # Only stages with a payment provider place AWAITING_PAYMENT orders.
    if (
        event_type == ORDER_PLACED
        and get_settings().payment_provider != "none"
        and _update_unless_overtaken(
            order,
            [Order.pending_event.remove(), Order.event_at.remove()],
            (Order.status == AWAITING_PAYMENT) & (Order.pending_event == ORDER_PLACED),
        )
    ):
        # Placed with a payment provider: the payment, not this event, confirms it.
        return "acknowledged"
    return "ignored"


def _update_unless_overtaken(order: Order, actions: list[Action], condition: Any) -> bool:
    try:
        order.update(actions=actions, condition=condition)
    except UpdateError as exc:
        if aws_error_code(exc) == "ConditionalCheckFailedException":
            # A duplicate, or an event overtaken by a later one: nothing to do.
            return False
        raise
    return True


def republish_unannounced(now: datetime | None = None) -> int:
    """Re-publish events the subscriber has not acknowledged within the grace period."""
    cutoff = iso_z((now or datetime.now(UTC)) - SWEEP_GRACE)  # eventAt's own spelling
    found = published = 0
    try:
        for event_type in _event_types():
            for order in Order.unannounced.query(
                event_type, range_key_condition=Order.event_at < cutoff, limit=SWEEP_BATCH
            ):
                found += 1
                published += _republish(event_type, order)
    except Exception as exc:
        if not is_transient(exc):
            raise
        # Hammering a throttled service helps nobody; the next run starts where this one stopped.
        logger.warning("sweep stopped early, a dependency is busy: %s", exc)
        metric("SweepInterrupted")
    # Events still unacknowledged after the grace period: the alarm watches this.
    metric("EventsNotAnnounced", found)
    metric("EventsRepublished", published)
    return published


def _republish(event_type: str, order: Order) -> bool:
    """Publish once more; a transient failure stops the sweep, any other skips this order."""
    try:
        _send(event_type, order)
    except Exception as exc:
        metric("PublishFailures")
        if is_transient(exc):
            raise
        logger.warning(
            "re-publishing %s for order %s failed", event_type, order.order_id, exc_info=True
        )
        return False
    return True
