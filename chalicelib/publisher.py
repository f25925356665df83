"""Order events on SNS, published from the orders table's stream, and the sweep.

No request path calls SNS. An order write (placing, cancelling, ...) changes the
order's ``status`` in DynamoDB, and the orders table's stream hands that change to
:func:`publish_changes`, which maps the status change to its event type (the
lifecycle's table, :func:`chalicelib.order_lifecycle.announced`) and publishes the
batch's events with ``PublishBatch``. A publish error fails the batch, so Lambda
retries it: an event may go out twice, and the subscriber
(:mod:`chalicelib.subscriber`) is idempotent.

End to end, every order write that announces an event also sets
``pendingEvent``/``eventAt`` (a sparse GSI). The subscriber's conditional update
that handles the event removes them, so it doubles as the acknowledgment. The
scheduled sweep re-publishes whatever is still unacknowledged after a grace period
(e.g. a subscriber that failed past SNS's retries). docs/events.md says which
mechanism covers which failure.

One message per protocol: the JSON document below for Lambda, SQS and HTTP(S)
subscribers (SNS's ``default``), a readable email for ``email`` subscriptions.

Under faults: the sweep stops at the first throttled call and returns normally; what
it did not reach is still in the index, oldest first, so its next run starts there.
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

from chalicelib.aws import client
from chalicelib.clock import iso_z
from chalicelib.config import get_settings
from chalicelib.errors import is_transient
from chalicelib.models import IDEMPOTENCY_PREFIX, Order
from chalicelib.notifications import staff_email
from chalicelib.observability import metric
from chalicelib.order_lifecycle import NOTICES, announced, stage_event_types
from chalicelib.order_view import order_view
from chalicelib.shards import shard_keys

logger = logging.getLogger(__name__)

SWEEP_GRACE = timedelta(minutes=2)
SWEEP_BATCH = 100  # events per page of the backlog
# A run starts another page only with this much time left plus twice its slowest page so
# far: the page, the count of what is left and the metrics must fit before the timeout.
SWEEP_MARGIN_MS = 1_000
SWEEP_COUNT_CAP = 1_000_000  # the count of what is left stops here ("at least")
PUBLISH_BATCH = 10  # SNS PublishBatch's limit on entries per call
EVENT_FIELDS = ("orderId", "userId", "total", "currency", "items", "createdAt")
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
    default = json.dumps(event_message(event_type, order))
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

    A change of ``status`` that the lifecycle's table gives an event announces it, and so
    does a notice (:func:`_notice`); any other change (the subscriber's acknowledgment
    that only clears ``pendingEvent``, an idempotency record, a deletion) announces nothing.
    """
    if event_name not in _WRITES or not new_image:
        return None
    order_id = new_image.get("orderId", {}).get("S", "")
    if order_id.startswith(IDEMPOTENCY_PREFIX):
        return None
    new_status = new_image.get("status", {}).get("S")
    old_status = (old_image or {}).get("status", {}).get("S")
    event_type = announced(old_status, new_status) or _notice(old_image, new_image)
    if event_type is None:
        return None
    order = Order.from_raw_data(dict(new_image))
    event_message(event_type, order)  # raises here for an order it cannot show
    return event_type, order


def _notice(old_image: Mapping[str, Any] | None, new_image: Mapping[str, Any]) -> str | None:
    """A notice (e.g. ``OrderRefunded``): a write that left the status as it was but set a
    notice's pending event with a new ``eventAt``. The subscriber's acknowledgment removes
    both, so it announces nothing."""
    pending = new_image.get("pendingEvent", {}).get("S", "").partition("#")[0]
    event_at = new_image.get("eventAt", {}).get("S")
    if pending not in NOTICES or event_at is None:
        return None
    return pending if (old_image or {}).get("eventAt", {}).get("S") != event_at else None


def publish_changes(
    changes: Iterable[tuple[str, Mapping[str, Any] | None, Mapping[str, Any] | None]],
) -> int:
    """Publish the events a batch of stream records announces; returns how many.

    ``changes`` are (event name, old image, new image). A record that cannot be read
    is logged and skipped: retrying it would block the shard. A publish error raises
    :class:`PublishFailed`, so that Lambda retries the whole batch (the events that did
    go out are published again; the subscriber ignores duplicates).
    """
    due: list[Event] = []
    for event_name, old_image, new_image in changes:
        try:
            event = announced_event(event_name, old_image, new_image)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            logger.error("skipping unreadable orders stream record: %s", exc)
            metric("StreamRecordErrors")
            continue
        if event is not None:
            due.append(event)
    if not due:
        return 0  # e.g. a batch of acknowledgments
    failed = publish(due)
    metric("EventsPublished", len(due) - len(failed))
    if failed:
        # The function's Errors and the stream's iterator age alarm on this.
        raise PublishFailed(f"{len(failed)} of {len(due)} order event(s) not published")
    return len(due)


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
        for event_type in stage_event_types()
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
