"""Order events on SNS: published from the orders table's stream, and the subscriber's reaction.

No request path calls SNS. An order write (placing, cancelling, ...) changes the
order's ``status`` in DynamoDB, and the orders table's stream hands that change to
:func:`publish_changes`, which maps the status transition to an event type
(:data:`STATUS_EVENTS`) and publishes the batch's events with ``PublishBatch``. A
publish error fails the batch, so Lambda retries it: an event may go out twice, and
the subscriber is idempotent.

End to end, every order write that announces an event also sets
``pendingEvent``/``eventAt`` (a sparse GSI). The subscriber's conditional update
that handles the event removes them, so it doubles as the acknowledgment. The
scheduled sweep re-publishes whatever is still unacknowledged after a grace period
(e.g. a subscriber that failed past SNS's retries). docs/events.md says which
mechanism covers which failure.

One message per protocol: the JSON document below for Lambda, SQS and HTTP(S)
subscribers (SNS's ``default``), a readable email for ``email`` subscriptions.

Buyer emails, at most one per event of an order: the same conditional update adds
the event type to the order's ``emailed`` set, so of two deliveries only the one
whose update succeeds sends. A send that fails takes the event type out again and
raises; the retried delivery finds the update done and claims the email with a
second conditional update (``emailed`` must not hold it yet).

Under faults: a throttled or unavailable DynamoDB call in the subscriber raises, so
SNS delivers the message again (only malformed messages are dropped). The sweep stops
at the first throttled call and returns normally; what it did not reach is still in
the index, oldest first, so its next run starts there.
"""

from __future__ import annotations

import functools
import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from chalicelib import mailer
from chalicelib.aws import client
from chalicelib.clock import iso_z, now_iso
from chalicelib.config import get_settings
from chalicelib.encoding import json_default
from chalicelib.errors import aws_error_code, is_transient

# Re-exported: orders.py and the tests name events through this module.
from chalicelib.event_types import ORDER_CANCELLED as ORDER_CANCELLED
from chalicelib.event_types import ORDER_DELIVERED as ORDER_DELIVERED
from chalicelib.event_types import ORDER_EXPIRED as ORDER_EXPIRED
from chalicelib.event_types import ORDER_PAID as ORDER_PAID
from chalicelib.event_types import ORDER_PLACED as ORDER_PLACED
from chalicelib.event_types import ORDER_SHIPPED as ORDER_SHIPPED
from chalicelib.models import IDEMPOTENCY_PREFIX, Order, UserRecord
from chalicelib.notifications import buyer_email, buyer_recipient, staff_email
from chalicelib.observability import metric
from chalicelib.order_view import (
    AWAITING_PAYMENT,
    CANCELLED,
    CONFIRMED,
    DELIVERED,
    EXPIRED,
    PENDING,
    SHIPPED,
    order_view,
)
from chalicelib.schemas import is_id
from chalicelib.shards import shard_keys

logger = logging.getLogger(__name__)

# The event an order's new status announces. A status that is not here announces
# nothing: CONFIRMED is the subscriber's own acknowledgment of OrderPlaced.
STATUS_EVENTS: dict[str, str] = {
    PENDING: ORDER_PLACED,  # only ever a new order's status
    CANCELLED: ORDER_CANCELLED,
    SHIPPED: ORDER_SHIPPED,
    DELIVERED: ORDER_DELIVERED,
}
EVENT_TYPES = tuple(STATUS_EVENTS.values())
# The status each buyer-emailed event leaves the order in (a retried email needs it).
BUYER_EMAIL_STATUS = {
    ORDER_PLACED: CONFIRMED,
    ORDER_CANCELLED: CANCELLED,
    ORDER_SHIPPED: SHIPPED,
    ORDER_DELIVERED: DELIVERED,
    # With a payment provider: paid (the buyer's confirmation) and expired unpaid. A failed
    # payment is an OrderCancelled and emails as one.
    ORDER_PAID: CONFIRMED,
    ORDER_EXPIRED: EXPIRED,
}
PAYMENT_EVENT_TYPES = (ORDER_PAID, ORDER_EXPIRED)


def _event_types() -> tuple[str, ...]:
    """The types this stage can produce: payment events only with a payment provider."""
    if get_settings().payment_provider == "none":
        return EVENT_TYPES
    return EVENT_TYPES + PAYMENT_EVENT_TYPES


SWEEP_GRACE = timedelta(minutes=2)
SWEEP_BATCH = 100  # events per page of the backlog
# A run starts another page only with this much time left plus twice its slowest page so
# far: the page, the count of what is left and the metrics must fit before the timeout.
SWEEP_MARGIN_MS = 1_000
SWEEP_COUNT_CAP = 1_000_000  # the count of what is left stops here ("at least")
PUBLISH_BATCH = 10  # SNS PublishBatch's limit on entries per call
EVENT_FIELDS = ("orderId", "userId", "total", "items", "createdAt")
# Stream record event names (REMOVE, e.g. an idempotency record's TTL expiry, announces nothing).
_WRITES = ("INSERT", "MODIFY")

Event = tuple[str, Order]  # (event type, the order as written)


class PublishFailed(Exception):
    """Some events of a stream batch were not published: Lambda retries the batch."""


def event_message(event_type: str, order: Order) -> dict[str, Any]:
    """The published JSON: the order as the API shows it, with the event type."""
    view = order_view(order)
    return {"type": event_type, **{field: view[field] for field in EVENT_FIELDS}}


def sns_message(event_type: str, order: Order) -> tuple[str, str]:
    """``(Message, Subject)`` for ``Publish`` with ``MessageStructure="json"``.

    ``default`` (what Lambda, SQS, HTTP(S) and email-json subscribers get) is exactly
    :func:`event_message`; ``email`` is the readable form. The subject is SNS's for
    every protocol; only email shows it, the others carry it beside the message.
    """
    default = json.dumps(event_message(event_type, order), default=json_default)
    readable = staff_email(event_type, order_view(order))
    return json.dumps({"default": default, "email": readable.text}), readable.subject


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


def _entry(entry_id: str, event_type: str, order: Order) -> dict[str, Any]:
    """One ``PublishBatch`` entry: what every order event looks like on the topic."""
    message, subject = sns_message(event_type, order)
    return {
        "Id": entry_id,
        "Message": message,
        "MessageStructure": "json",
        "Subject": subject,
        "MessageAttributes": {"type": {"DataType": "String", "StringValue": event_type}},
    }


def publish(events: Sequence[Event], *, stop_when_busy: bool = False) -> list[Event]:
    """Publish ``events``, ten per ``PublishBatch`` call; returns those not published.

    The one place that sends order events: the stream handler and the sweep both
    call it. A failed call's events come back as failed; with ``stop_when_busy`` (the
    sweep) a throttled or unavailable SNS raises instead, so nothing more is sent.
    """
    failed: list[Event] = []
    for start in range(0, len(events), PUBLISH_BATCH):
        chunk = events[start : start + PUBLISH_BATCH]
        entries = [_entry(str(i), event_type, order) for i, (event_type, order) in enumerate(chunk)]
        try:
            response = client("sns").publish_batch(
                TopicArn=topic_arn(), PublishBatchRequestEntries=entries
            )
        except Exception as exc:
            if stop_when_busy and is_transient(exc):
                raise
            logger.warning("publishing %d order event(s) failed", len(chunk), exc_info=True)
            failed.extend(chunk)
            continue
        # Only what SNS lists as successful counts: an entry in neither list is not published.
        published = {item["Id"] for item in response.get("Successful", [])}
        for item in response.get("Failed", []):
            logger.warning(
                "publishing order event %s failed: %s %s",
                item.get("Id"),
                item.get("Code"),
                item.get("Message"),
            )
        failed.extend(event for i, event in enumerate(chunk) if str(i) not in published)
    return failed


def announced_event(
    event_name: str, old_image: Mapping[str, Any] | None, new_image: Mapping[str, Any] | None
) -> Event | None:
    """The event one orders-table stream record announces, if any.

    A change of ``status`` to one in :data:`STATUS_EVENTS` announces its event; any
    other change (the subscriber's acknowledgment that only clears ``pendingEvent``,
    an idempotency record, a deletion) announces nothing.
    """
    if event_name not in _WRITES or not new_image:
        return None
    order_id = new_image.get("orderId", {}).get("S", "")
    if order_id.startswith(IDEMPOTENCY_PREFIX):
        return None
    new_status = new_image.get("status", {}).get("S")
    old_status = (old_image or {}).get("status", {}).get("S")
    if new_status == old_status:
        return None
    event_type = _payment_event(old_status, new_status) or STATUS_EVENTS.get(new_status or "")
    if event_type is None:
        return None
    order = Order.from_raw_data(dict(new_image))
    event_message(event_type, order)  # raises here for an order it cannot show
    return event_type, order


def _payment_event(old_status: str | None, new_status: str | None) -> str | None:
    """The events of a stage with a payment provider (docs/payments.md)."""
    if new_status == AWAITING_PAYMENT:
        return ORDER_PLACED  # a new order waiting for its payment
    if old_status == AWAITING_PAYMENT and new_status == CONFIRMED:
        return ORDER_PAID
    if new_status == EXPIRED:
        return ORDER_EXPIRED
    return None


def publish_changes(
    changes: Iterable[tuple[str, Mapping[str, Any] | None, Mapping[str, Any] | None]],
) -> int:
    """Publish the events a batch of stream records announces; returns how many.

    ``changes`` are (event name, old image, new image). A record that cannot be read
    is logged and skipped: retrying it would block the shard. A publish error raises
    :class:`PublishFailed`, so that Lambda retries the whole batch (the events that did
    go out are published again; the subscriber ignores duplicates).
    """
    announced: list[Event] = []
    for event_name, old_image, new_image in changes:
        try:
            event = announced_event(event_name, old_image, new_image)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            logger.error("skipping unreadable orders stream record: %s", exc)
            metric("StreamRecordErrors")
            continue
        if event is not None:
            announced.append(event)
    if not announced:
        return 0  # e.g. a batch of acknowledgments
    failed = publish(announced)
    metric("EventsPublished", len(announced) - len(failed))
    if failed:
        # The function's Errors and the stream's iterator age alarm on this.
        raise PublishFailed(f"{len(failed)} of {len(announced)} order event(s) not published")
    return len(announced)


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
            Order.status_shard.set(Order.status_shard_for(order_id, CONFIRMED)),
            Order.updated_at.set(now_iso()),
            Order.pending_event.remove(),
            Order.event_at.remove(),
        ]
        condition = (Order.status == PENDING) & _pending(order_id, ORDER_PLACED)
    else:
        # Cancelled, shipped, delivered: the status is already written; acknowledge it.
        actions = [Order.pending_event.remove(), Order.event_at.remove()]
        condition = _pending(order_id, event_type)
    emails = event_type in BUYER_EMAIL_STATUS and mailer.sender() is not None
    if emails:
        actions.append(Order.emailed.add({event_type}))
    try:
        order.update(actions=actions, condition=condition)
    except UpdateError as exc:
        if aws_error_code(exc) != "ConditionalCheckFailedException":
            raise
        # Placed with a payment provider: the payment, not this event, confirms it.
        if event_type == ORDER_PLACED and _acknowledge_awaiting_payment(order):
            return "acknowledged"
        # A duplicate, or an event overtaken by a later one; its email may still be due
        # if an earlier delivery's send failed.
        if emails and _claim_email(order, event_type):
            return "emailed" if email_buyer(order, event_type) else "ignored"
        return "ignored"
    if emails:
        email_buyer(order, event_type)
    return "confirmed" if event_type == ORDER_PLACED else "acknowledged"


def _pending(order_id: str, event_type: str) -> Condition:
    """The order still waits for this event's acknowledgment (in either key layout)."""
    return Order.pending_event.is_in(Order.pending_event_for(order_id, event_type), event_type)


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
    email = buyer_email(event_type, order_view(order))
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
        _release_email(order, event_type)
        metric("BuyerEmailsFailed")
        raise
    logger.info("order %s: emailed the buyer about %s", order.order_id, event_type)
    metric("BuyerEmailsSent")
    return True


def _release_email(order: Order, event_type: str) -> None:
    try:
        order.update(actions=[Order.emailed.delete({event_type})])
    except Exception:
        # The email is then lost rather than sent twice; the alarm on failures shows it.
        logger.exception("order %s: could not release the %s email", order.order_id, event_type)


def unannounced_partitions(event_type: str) -> list[str]:
    """The ``unannounced`` index partitions holding this event type's backlog: its shards,
    then the bare event type, which rows written before the sharding carry until
    ``make migrate`` has rewritten them (one query per event type and run, usually empty)."""
    return [*shard_keys(event_type), event_type]


@dataclass
class _Backlog:
    """One partition of the backlog being swept: where the next page starts."""

    partition: str
    event_type: str
    start: dict[str, Any] | None = None
    done: bool = False


@dataclass
class SweepReport:
    """What one sweep run did, and what it left for the next run."""

    found: int = 0
    published: int = 0
    pages: int = 0
    complete: bool = True
    left: int = 0  # unacknowledged events past the grace period not reached (a lower bound)


def republish_unannounced(
    now: datetime | None = None, remaining_ms: Callable[[], int] | None = None
) -> int:
    """Re-publish events the subscriber has not acknowledged within the grace period.

    Returns how many were re-published; see :func:`sweep` for the whole report.
    """
    return sweep(now, remaining_ms).published


def sweep(
    now: datetime | None = None, remaining_ms: Callable[[], int] | None = None
) -> SweepReport:
    """Page through the whole backlog until the function's time runs low.

    ``remaining_ms`` is the Lambda context's ``get_remaining_time_in_millis`` (``None``:
    no limit). Partitions are swept a page at a time, in turn, so a long backlog of one
    event type cannot starve the others. A run that stops early (time low, or a busy
    dependency) logs how many events it left; the next run starts over from the oldest.
    """
    cutoff = iso_z((now or datetime.now(UTC)) - SWEEP_GRACE)  # eventAt's own spelling
    backlog = [
        _Backlog(partition, event_type)
        for event_type in _event_types()
        for partition in unannounced_partitions(event_type)
    ]
    report = SweepReport()
    stopped = ""
    slowest_page_ms = 0.0
    try:
        while not stopped and any(not b.done for b in backlog):
            for part in (b for b in backlog if not b.done):
                if (
                    remaining_ms is not None
                    and remaining_ms() < SWEEP_MARGIN_MS + 2 * slowest_page_ms
                ):
                    stopped = "the function's remaining time is low"
                    break
                started = time.monotonic()
                page = Order.unannounced.query(
                    part.partition,
                    range_key_condition=Order.event_at < cutoff,
                    limit=SWEEP_BATCH,
                    last_evaluated_key=part.start,
                )
                report.pages += 1
                due: list[Event] = [(part.event_type, order) for order in page]
                report.found += len(due)
                report.published += len(due) - len(publish(due, stop_when_busy=True))
                part.start = page.last_evaluated_key
                part.done = part.start is None
                slowest_page_ms = max(slowest_page_ms, (time.monotonic() - started) * 1000)
    except Exception as exc:
        if not is_transient(exc):
            raise
        # Hammering a throttled service helps nobody; the next run starts where this one stopped.
        stopped = f"a dependency is busy: {exc}"
        metric("SweepInterrupted")
    if stopped:
        report.complete = False
        report.left = _count_left(backlog, cutoff)
        logger.warning(
            "sweep stopped early (%s) after re-publishing %d event(s); at least %d "
            "unacknowledged event(s) left for the next run",
            stopped,
            report.published,
            report.left,
        )
    # Events still unacknowledged after the grace period: the alarm watches this.
    metric("EventsNotAnnounced", report.found + report.left)
    metric("EventsRepublished", report.published)
    metric("EventsLeftBySweep", report.left)
    return report


def _count_left(backlog: list[_Backlog], cutoff: str) -> int:
    """How many events the sweep did not reach: one ``Select=COUNT`` query per unfinished
    partition, from where it stopped, up to :data:`SWEEP_COUNT_CAP` (so a lower bound)."""
    left = 0
    try:
        for part in backlog:
            start = part.start
            while not part.done and left < SWEEP_COUNT_CAP:
                answer = Order._get_connection().query(
                    part.partition,
                    range_key_condition=Order.event_at < cutoff,
                    exclusive_start_key=start,
                    index_name=Order.unannounced.Meta.index_name,
                    select="COUNT",
                )
                left += int(answer.get("Count", 0))
                start = answer.get("LastEvaluatedKey")
                if start is None:
                    break
    except Exception as exc:
        if not is_transient(exc):
            raise
        logger.warning("counting the events left failed, a dependency is busy: %s", exc)
    return left
