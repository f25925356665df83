"""The order-events subscriber: it acknowledges each event and emails the buyer.

Every order write that announces an event also sets ``pendingEvent``/``eventAt`` (a
sparse GSI, see :mod:`chalicelib.publisher`). The subscriber's conditional update
that handles the event removes them, so it doubles as the acknowledgment; for
``OrderPlaced`` that update is the lifecycle's confirmation
(:data:`chalicelib.order_lifecycle.CONFIRM`).

Buyer emails, at most one per event of an order: the same conditional update adds
the event type to the order's ``emailed`` set, so of two deliveries only the one
whose update succeeds sends. A send that fails takes the event type out again and
raises; the retried delivery finds the update done and claims the email with a
second conditional update (``emailed`` must not hold it yet). Which events email
the buyer is the lifecycle's table (:data:`chalicelib.order_lifecycle.BUYER_EMAIL_STATUS`);
:func:`email_buyer` is where a buyer email is decided and sent.

Under faults: a throttled or unavailable DynamoDB call raises, so SNS delivers the
message again (only malformed messages are dropped).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from pynamodb.exceptions import DoesNotExist, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from chalicelib import mailer
from chalicelib.config import get_settings
from chalicelib.errors import aws_error_code
from chalicelib.models import Order, RefundEntry, UserRecord
from chalicelib.notifications import Email, buyer_email, buyer_recipient, refund_email
from chalicelib.observability import metric
from chalicelib.order_lifecycle import (
    ACKNOWLEDGED_BY,
    AWAITING_PAYMENT,
    BUYER_EMAIL_STATUS,
    ORDER_PLACED,
    ORDER_REFUNDED,
    RETURN_RECEIVED_EVENT,
    stage_event_types,
)
from chalicelib.order_transitions import transition
from chalicelib.order_view import order_view, refund_view
from chalicelib.schemas import is_id

logger = logging.getLogger(__name__)


# Events after which every refund that went through and was not emailed yet is emailed:
# a refund's own notice, and a received return (refunded in the same write without a provider).
REFUND_EMAIL_EVENTS = (ORDER_REFUNDED, RETURN_RECEIVED_EVENT)


class _NotPending(Exception):
    """The event is no longer pending (a duplicate, or overtaken by a later one)."""


def handle_message(raw: str) -> str:
    """React to one SNS message; returns what was done. Never raises for bad input."""
    try:
        message = json.loads(raw)
        event_type = message["type"]
        order_id = message["orderId"]
        if event_type not in stage_event_types():
            raise ValueError(f"unknown event type {event_type!r}")
        # DynamoDB rejects oversized keys with a ValidationException, which would be retried.
        if not is_id(order_id):
            raise ValueError(f"invalid orderId {order_id!r:.80}")
    except (ValueError, TypeError, KeyError) as exc:
        logger.error("dropping malformed order event: %s", exc)
        metric("SubscriberErrors")
        return "dropped"
    order = Order(order_id)
    emails = event_type in BUYER_EMAIL_STATUS and mailer.sender() is not None
    actions: list[Action] = [Order.emailed.add({event_type})] if emails else []
    pending = _pending(order_id, event_type)
    try:
        step = ACKNOWLEDGED_BY.get(event_type)
        if step is not None:
            # OrderPlaced: the lifecycle's confirmation is the acknowledgment.
            transition(order, step, on_fail=_NotPending(), condition=pending, actions=actions)
        else:
            # Cancelled, shipped, delivered, ...: the status is already written; acknowledge it.
            _acknowledge(order, pending, actions)
    except _NotPending:
        # Placed with a payment provider: the payment, not this event, confirms it.
        if event_type == ORDER_PLACED and _acknowledge_awaiting_payment(order):
            return "acknowledged"
        # A duplicate, or an event overtaken by a later one; its email may still be due
        # if an earlier delivery's send failed.
        if emails and _claim_email(order, event_type):
            return "emailed" if email_buyer(order, event_type) else "ignored"
        if event_type in REFUND_EMAIL_EVENTS and mailer.sender() is not None:
            return "emailed" if email_refunds(order_id) else "ignored"
        return "ignored"
    if emails:
        email_buyer(order, event_type)
    if event_type in REFUND_EMAIL_EVENTS and mailer.sender() is not None:
        email_refunds(order_id)
    return "confirmed" if event_type in ACKNOWLEDGED_BY else "acknowledged"


def _pending(order_id: str, event_type: str) -> Condition:
    """The order still waits for this event's acknowledgment (in either key layout)."""
    return Order.pending_event.is_in(Order.pending_event_for(order_id, event_type), event_type)


def _acknowledge(order: Order, condition: Condition, actions: list[Action]) -> None:
    """Remove the pending event (the acknowledgment) of an order whose status is written."""
    try:
        order.update(
            actions=[Order.pending_event.remove(), Order.event_at.remove(), *actions],
            condition=condition,
        )
    except UpdateError as exc:
        if aws_error_code(exc) == "ConditionalCheckFailedException":
            raise _NotPending() from None
        raise


def _acknowledge_awaiting_payment(order: Order) -> bool:
    """Acknowledge the OrderPlaced of an AWAITING_PAYMENT order (stages with a provider only)."""
    if get_settings().payment_provider == "none":
        return False
    try:
        order.update(
            actions=[Order.pending_event.remove(), Order.event_at.remove()],
            condition=(Order.status == AWAITING_PAYMENT) & _pending(order.order_id, ORDER_PLACED),
        )
    except UpdateError as exc:
        if aws_error_code(exc) == "ConditionalCheckFailedException":
            return False
        raise
    return True


def _claim_email(order: Order, event_type: str) -> bool:
    """Take the email of an already-handled event, unless it is sent or being sent."""
    try:
        order.update(
            actions=[Order.emailed.add({event_type})],
            condition=(Order.status == BUYER_EMAIL_STATUS[event_type])
            & ~Order.emailed.contains(event_type),
        )
    except UpdateError as exc:
        if aws_error_code(exc) == "ConditionalCheckFailedException":
            return False
        raise
    return True


def email_buyer(order: Order, event_type: str) -> bool:
    """Send the claimed email (``order`` as just updated); returns whether one was sent.

    A permanent refusal and a deleted buyer keep the claim (nothing to retry); any
    other failure gives the claim back and raises, so that SNS delivers again.
    """
    return _send(
        order,
        event_type,
        lambda: buyer_email(event_type, order_view(order)),
        lambda: _release_email(order, event_type),
    )


def email_refunds(order_id: str) -> bool:
    """Email the buyer once per refund that went through and was not emailed yet.

    Each email is claimed on its refund (``emailed``, a conditional update), so two
    deliveries never send one twice; a failed send gives the claim back and raises.
    """
    order = Order.get(order_id, consistent_read=True)
    sent = False
    for index, refund in enumerate(order.refunds or []):
        if refund.status == "succeeded" and not refund.emailed:
            sent |= _email_refund(order, index, refund)
    return sent


def _email_refund(order: Order, index: int, refund: RefundEntry) -> bool:
    entry: Any = Order.refunds[index]  # the entry's attributes as document paths
    try:
        order.update(
            actions=[entry.emailed.set(True)],
            condition=(entry.refund_id == refund.refund_id) & entry.emailed.does_not_exist(),
        )
    except UpdateError as exc:
        if aws_error_code(exc) == "ConditionalCheckFailedException":
            return False  # another delivery claimed it
        raise
    return _send(
        order,
        ORDER_REFUNDED,
        lambda: refund_email(order_view(order), refund_view(refund)),
        lambda: order.update(actions=[entry.emailed.remove()]),
    )


def _send(
    order: Order, event_type: str, render: Callable[[], Email], release: Callable[[], Any]
) -> bool:
    try:
        buyer = UserRecord.get(UserRecord.profile_key(order.user_id), consistent_read=True)
    except DoesNotExist:
        logger.info("order %s: its buyer is deleted; no %s email", order.order_id, event_type)
        metric("BuyerEmailsSkipped")
        return False
    to = buyer_recipient(buyer.email, buyer.email_verified)
    if to is None:
        logger.info(
            "order %s: its buyer's email is not verified; no %s email", order.order_id, event_type
        )
        metric("BuyerEmailsSkipped")
        return False
    email = render()
    try:
        mailer.send(to, email)
    except mailer.EmailRejected as rejected:
        logger.error(
            "order %s: SES rejected the %s email (%s); not retried",
            order.order_id,
            event_type,
            rejected.code,
        )
        metric("BuyerEmailsRejected")
        return False
    except Exception:
        try:
            release()
        except Exception:
            # The email is then lost rather than sent twice; the alarm on failures shows it.
            logger.exception("order %s: could not release the %s email", order.order_id, event_type)
        metric("BuyerEmailsFailed")
        raise
    logger.info("order %s: emailed the buyer about %s", order.order_id, event_type)
    metric("BuyerEmailsSent")
    return True


def _release_email(order: Order, event_type: str) -> None:
    order.update(actions=[Order.emailed.delete({event_type})])
