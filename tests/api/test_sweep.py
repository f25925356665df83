"""The sweep drains its whole backlog, a page at a time, until the function's time runs low
(issue #15); and it rescues an event the subscriber failed on until Lambda gave up."""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib import order_lifecycle, publisher
from chalicelib import subscriber as subscriber_lambda
from chalicelib.models import Order, OrderLine
from chalicelib.order_lifecycle import CONFIRMED, PENDING
from chalicelib.shards import SHARDS, shard_of
from tests.conftest import delivered_to

BACKLOG = 5_000
LONG_AGO = datetime(2026, 1, 1, tzinfo=UTC)
# Each event type's backlog is sharded, plus its pre-sharding partition (publisher.py); only
# OrderPlaced's shards have a backlog here.
EMPTY_PARTITIONS = len(order_lifecycle.EVENT_TYPES) * (SHARDS + 1) - SHARDS


def _by_shard(ids: list[str]) -> dict[int, list[str]]:
    shards: dict[int, list[str]] = {}
    for order_id in ids:
        shards.setdefault(shard_of(order_id), []).append(order_id)
    return shards


def _backlog_left() -> list[Order]:
    return [
        order
        for partition in publisher.unannounced_partitions(order_lifecycle.ORDER_PLACED)
        for order in Order.unannounced.query(partition)
    ]


def _unacknowledged(count: int) -> list[str]:
    """``count`` PENDING orders whose OrderPlaced nobody acknowledged, written directly."""
    ids = []
    with Order.batch_write() as batch:
        for i in range(count):
            at = (LONG_AGO + timedelta(seconds=i)).isoformat(timespec="milliseconds")
            at = at.replace("+00:00", "Z")
            order_id = f"backlog-{i:05d}"
            ids.append(order_id)
            batch.save(
                Order(
                    order_id,
                    user_id="someone",
                    status=PENDING,
                    items=[
                        OrderLine(product_id="p", name="P", quantity=1, unit_price=1, line_total=1)
                    ],
                    total=1,
                    created_at=at,
                    pending_event=Order.pending_event_for(order_id, order_lifecycle.ORDER_PLACED),
                    event_at=at,
                    status_shard=Order.status_shard_for(order_id, PENDING),
                )
            )
    return ids


@pytest.fixture
def subscriber(monkeypatch):
    """SNS and a healthy subscriber: every publish is delivered and handled at once."""
    published: list[str] = []
    real_publish = publisher.publish

    def publish_and_deliver(due, **options):
        failed = real_publish(due, **options)
        for event_type, order in due:
            if (event_type, order) in failed:
                continue
            published.append(order.order_id)
            message = publisher.event_message(event_type, order)
            subscriber_lambda.handle_message(json.dumps(message, default=str))
        return failed

    monkeypatch.setattr(publisher, "publish", publish_and_deliver)
    return published


def _pages_of_time(pages: int):
    """A Lambda context's clock with time for ``pages`` pages, then almost none."""
    checks = itertools.count()
    return lambda: 600_000 if next(checks) < pages else 500


def test_a_backlog_of_5000_drains_over_runs_that_stop_when_time_runs_low(aws, subscriber, caplog):
    ids = _unacknowledged(BACKLOG)
    now = LONG_AGO + timedelta(days=1)

    with caplog.at_level(logging.WARNING, logger="chalicelib.publisher"):
        # The other event types' partitions are empty: one page each, in the first round.
        first = publisher.sweep(now, remaining_ms=_pages_of_time(10 + EMPTY_PARTITIONS))

    assert first.complete is False
    assert first.pages == 10 + EMPTY_PARTITIONS
    assert first.published == first.found == 10 * publisher.SWEEP_BATCH
    assert first.left == BACKLOG - 1_000
    assert "at least 4000 unacknowledged event(s) left" in caplog.text
    # Oldest first in each shard, each once: the run stopped cleanly between pages.
    assert len(set(subscriber)) == 1_000
    for shard, published in _by_shard(subscriber).items():
        assert published == _by_shard(ids)[shard][: len(published)]

    second = publisher.sweep(now, remaining_ms=_pages_of_time(1_000))
    assert second.complete is True and second.left == 0
    assert second.published == BACKLOG - 1_000
    assert sorted(subscriber) == ids
    assert _backlog_left() == []
    assert {o.status for o in Order.batch_get(ids[::250])} == {CONFIRMED}

    assert publisher.sweep(now).published == 0


def test_a_sweep_without_a_time_limit_drains_everything_in_one_run(aws, subscriber):
    ids = _unacknowledged(450)
    report = publisher.sweep(LONG_AGO + timedelta(days=1))
    assert (report.published, report.complete, report.left) == (450, True, 0)
    # A shard of n events takes n // 100 + 1 pages (the last one short, or empty).
    pages = sum(len(shard) // publisher.SWEEP_BATCH + 1 for shard in _by_shard(ids).values())
    assert report.pages == pages + EMPTY_PARTITIONS


def test_the_sweep_reads_rows_written_before_the_sharding(aws, subscriber):
    """Until ``make migrate`` rewrites them, bare ``pendingEvent`` rows are swept too."""
    ids = _unacknowledged(3)
    for order_id in ids:
        Order(order_id).update(actions=[Order.pending_event.set(order_lifecycle.ORDER_PLACED)])
    report = publisher.sweep(LONG_AGO + timedelta(days=1))
    assert report.published == 3
    assert sorted(subscriber) == ids
    assert {o.status for o in Order.batch_get(ids)} == {CONFIRMED}
    assert _backlog_left() == []


def test_the_scheduled_function_passes_its_remaining_time(api, aws, subscriber, monkeypatch):
    _unacknowledged(30)
    reports: list[tuple[int, publisher.SweepReport]] = []
    real_sweep = publisher.sweep

    def sweep(now=None, remaining_ms=None):
        assert remaining_ms is not None
        reports.append((remaining_ms(), real_sweep(now, remaining_ms)))
        return reports[-1][1]

    monkeypatch.setattr(publisher, "sweep", sweep)
    # chalice.test's Lambda context gives a function 3 s: time for some of the ~30 pages
    # (one per shard and event type) on a busy machine, every one of them on a quiet one.
    event = api.client.events.generate_cw_event(
        source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]
    )
    api.client.lambda_.invoke("republish_unannounced", event)
    [(remaining, report)] = reports
    assert 0 < remaining <= 3_000
    assert report.published == len(subscriber) > 0
    assert report.published + report.left == 30


def _published_entries(aws_calls) -> list[dict]:
    return [
        entry
        for s, op, p in aws_calls.calls
        if (s, op) == ("sns", "PublishBatch")
        for entry in p["PublishBatchRequestEntries"]
    ]


def test_an_event_the_subscriber_gave_up_on_is_confirmed_by_the_next_sweep(
    api, admin, customer, aws_calls, monkeypatch, caplog, stream
):
    product = api.create_product(admin, price="3", stock=5)
    aws_calls.clear()
    reply = api.post(
        "/orders", {"items": [{"productId": product["productId"], "quantity": 1}]},
        token=customer.token,
    )  # fmt: skip
    assert reply.status == 201
    stream.drain()  # the orders stream publishes OrderPlaced
    [delivered] = _published_entries(aws_calls)

    def deliver(message: str) -> None:
        event = api.client.events.generate_sns_event(message=message, subject="")
        api.client.lambda_.invoke("on_order_event", event)

    # SNS delivered; the subscriber failed, and Lambda's two asynchronous retries too.
    def broken(self, *args, **kwargs):
        raise RuntimeError("DynamoDB is unreachable")

    with monkeypatch.context() as patch:
        patch.setattr(Order, "update", broken)
        for _ in range(3):
            # Lambda sees the invocation fail (raised, or reported by the middleware).
            with contextlib.suppress(RuntimeError):
                deliver(delivered_to(delivered, "lambda"))
    order_id = reply.body["orderId"]
    assert Order.get(order_id, consistent_read=True).status == PENDING

    # Inside the grace period the sweep leaves it alone; after it, it publishes again.
    created = datetime.fromisoformat(reply.body["createdAt"])
    aws_calls.clear()
    assert publisher.sweep(created + timedelta(seconds=30)).published == 0
    report = publisher.sweep(created + publisher.SWEEP_GRACE + timedelta(seconds=1))
    assert report.published == 1
    [again] = _published_entries(aws_calls)
    assert json.loads(delivered_to(again, "lambda"))["orderId"] == order_id

    deliver(delivered_to(again, "lambda"))  # the subscriber works again
    assert Order.get(order_id, consistent_read=True).status == CONFIRMED
    assert api.get(f"/orders/{order_id}", token=customer.token).body["status"] == CONFIRMED
    assert publisher.sweep(created + timedelta(hours=1)).found == 0
