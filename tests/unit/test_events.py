"""Order events without I/O: the message, the subscriber's decisions, publishing, the sweep."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError
from pynamodb.exceptions import UpdateError

from chalicelib import order_lifecycle, publisher, subscriber
from chalicelib.models import Order
from chalicelib.schemas import MAX_ID_LENGTH
from chalicelib.shards import SHARDS
from tests.conftest import delivered_to
from tests.factories import make_order

# --- event_message -----------------------------------------------------------------


@pytest.mark.parametrize("event_type", order_lifecycle.EVENT_TYPES)
def test_event_message_carries_the_documented_fields(event_type):
    message = publisher.event_message(event_type, make_order(updated_at="2030-01-02T00:00:00.000Z"))

    assert set(message) == {
        "type",
        "orderId",
        "userId",
        "total",
        "currency",
        "items",
        "createdAt",
    }
    assert message["type"] == event_type
    assert message["orderId"] == "order-1"
    assert message["userId"] == "user-1"
    assert message["createdAt"] == "2030-01-01T00:00:00.000Z"
    # The same decimal strings the API shows for the order.
    assert message["total"] == "0.50"
    assert message["currency"] == "USD"
    assert message["items"][0] == {
        "productId": "p1",
        "name": "Dime",
        "quantity": 3,
        "unitPrice": "0.10",
        "lineTotal": "0.30",
    }


def test_event_message_serializes_money_exactly():
    text = json.dumps(publisher.event_message("OrderPlaced", make_order()))

    decoded = json.loads(text)
    assert decoded["total"] == "0.50"
    assert [i["lineTotal"] for i in decoded["items"]] == ["0.30", "0.20"]
    assert '"total": "0.50",' in text
    assert isinstance(decoded["items"][0]["quantity"], int)


# --- handle_message ------------------------------------------------------------------


class UpdateRecorder:
    """Stands in for ``Order.update``: records what the subscriber would write."""

    def __init__(self, error: Exception | None = None) -> None:
        self.calls: list[tuple[str, list[str], str]] = []
        self.error = error

    def __call__(self, order: Order, actions, condition=None, **kwargs):
        self.calls.append((order.order_id, [str(a) for a in actions], str(condition)))
        if self.error is not None:
            raise self.error
        return {}


def patch_update(monkeypatch, error: Exception | None = None) -> UpdateRecorder:
    recorder = UpdateRecorder(error)

    def update(order: Order, actions, condition=None, **kwargs):
        return recorder(order, actions, condition, **kwargs)

    monkeypatch.setattr(Order, "update", update)
    return recorder


@pytest.fixture
def updates(monkeypatch):
    return patch_update(monkeypatch)


def update_error(code: str) -> UpdateError:
    cause = ClientError({"Error": {"Code": code, "Message": code}}, "UpdateItem")
    return UpdateError("Failed to update item", cause=cause)


def conditional_check_failed() -> UpdateError:
    return update_error("ConditionalCheckFailedException")


def pending(event_type: str) -> str:
    """The condition "order-1 still waits for this event": its shard, or the bare type
    of a row written before the ``unannounced`` index was sharded."""
    sharded = Order.pending_event_for("order-1", event_type)
    assert sharded.startswith(f"{event_type}#")
    return f"pendingEvent IN ({{'S': '{sharded}'}}, {{'S': '{event_type}'}})"


def test_order_placed_confirms_only_a_pending_order_and_acknowledges_it(updates):
    result = subscriber.handle_message(json.dumps({"type": "OrderPlaced", "orderId": "order-1"}))

    assert result == "confirmed"
    [(order_id, actions, condition)] = updates.calls
    assert order_id == "order-1"
    assert "status = {'S': 'CONFIRMED'}" in actions
    assert "pendingEvent" in actions  # REMOVE
    assert "eventAt" in actions
    assert any(a.startswith("updatedAt = ") for a in actions)
    assert "status = {'S': 'PENDING'}" in condition
    assert pending("OrderPlaced") in condition


def test_order_cancelled_only_acknowledges(updates):
    result = subscriber.handle_message(json.dumps({"type": "OrderCancelled", "orderId": "order-1"}))

    assert result == "acknowledged"
    [(_, actions, condition)] = updates.calls
    assert sorted(actions) == ["eventAt", "pendingEvent"]
    assert condition == pending("OrderCancelled")


@pytest.mark.parametrize("event_type", ["OrderShipped", "OrderDelivered"])
def test_fulfilment_events_only_acknowledge(updates, event_type):
    result = subscriber.handle_message(json.dumps({"type": event_type, "orderId": "order-1"}))

    assert result == "acknowledged"
    [(_, actions, condition)] = updates.calls
    assert sorted(actions) == ["eventAt", "pendingEvent"]
    assert condition == pending(event_type)


def test_extra_fields_are_ignored(updates):
    message = publisher.event_message("OrderPlaced", make_order())
    raw = json.dumps({**message, "extra": 1})

    assert subscriber.handle_message(raw) == "confirmed"
    assert updates.calls[0][0] == "order-1"


def test_a_failed_condition_means_a_duplicate_or_overtaken_event(monkeypatch):
    recorder = patch_update(monkeypatch, conditional_check_failed())

    for event_type in order_lifecycle.EVENT_TYPES:
        raw = json.dumps({"type": event_type, "orderId": "order-1"})
        assert subscriber.handle_message(raw) == "ignored"
    assert len(recorder.calls) == len(order_lifecycle.EVENT_TYPES) == 9


def test_other_database_errors_are_raised_so_the_delivery_is_retried(monkeypatch):
    patch_update(monkeypatch, update_error("ThrottlingException"))

    with pytest.raises(UpdateError):
        subscriber.handle_message(json.dumps({"type": "OrderPlaced", "orderId": "order-1"}))


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "{",
        "not json",
        "NaN",
        "[]",
        "[1, 2]",
        '"OrderPlaced"',
        "7",
        "true",
        "null",
        "{}",
        json.dumps({"type": "OrderPlaced"}),
        json.dumps({"orderId": "order-1"}),
        json.dumps({"type": "OrderLost", "orderId": "order-1"}),
        json.dumps({"type": None, "orderId": "order-1"}),
        json.dumps({"type": {"a": 1}, "orderId": "order-1"}),
        json.dumps({"type": "OrderPlaced", "orderId": 1}),
        json.dumps({"type": "OrderPlaced", "orderId": 1.5}),
        json.dumps({"type": "OrderPlaced", "orderId": True}),
        json.dumps({"type": "OrderPlaced", "orderId": None}),
        json.dumps({"type": "OrderPlaced", "orderId": ""}),
        json.dumps({"type": "OrderPlaced", "orderId": ["order-1"]}),
        json.dumps({"type": "OrderCancelled", "orderId": "x" * (MAX_ID_LENGTH + 1)}),
    ],
    ids=lambda raw: repr(raw[:50]),
)
def test_malformed_messages_are_logged_and_dropped_without_io(updates, aws_calls, caplog, raw):
    with caplog.at_level(logging.ERROR, logger="chalicelib.subscriber"):
        assert subscriber.handle_message(raw) == "dropped"

    assert updates.calls == []
    assert aws_calls.calls == []
    assert "dropping malformed order event" in caplog.text


def test_the_longest_order_id_is_still_handled(updates):
    order_id = "x" * MAX_ID_LENGTH

    assert subscriber.handle_message(json.dumps({"type": "OrderPlaced", "orderId": order_id})) == (
        "confirmed"
    )
    assert updates.calls[0][0] == order_id


# --- publish ---------------------------------------------------------------------


class FakeSns:
    """``PublishBatch`` that fails whole calls (``error``) or single entries (``fail_ids``)."""

    def __init__(self, error: Exception | None = None) -> None:
        self.calls: list[dict] = []
        self.error = error
        self.fail_ids: set[str] = set()
        self.drop_ids: set[str] = set()  # in neither list, as moto does for some errors

    @property
    def published(self) -> list[dict]:
        return [entry for call in self.calls for entry in call["PublishBatchRequestEntries"]]

    def publish_batch(self, **params):
        self.calls.append(params)
        if self.error is not None:
            raise self.error
        entries = params["PublishBatchRequestEntries"]
        assert len(entries) <= 10
        ids = [e["Id"] for e in entries]
        return {
            "Successful": [
                {"Id": i, "MessageId": f"m-{i}"}
                for i in ids
                if i not in self.fail_ids | self.drop_ids
            ],
            "Failed": [
                {"Id": i, "Code": "InternalError", "Message": "boom", "SenderFault": False}
                for i in ids
                if i in self.fail_ids
            ],
        }


@pytest.fixture
def sns(monkeypatch):
    fake = FakeSns()
    monkeypatch.setattr(publisher, "client", lambda service: fake)
    return fake


def test_publish_sends_the_message_with_its_type_attribute(sns):
    assert publisher.publish([("OrderCancelled", make_order())]) == []

    [call] = sns.calls
    assert call["TopicArn"] == publisher.topic_arn()
    [entry] = call["PublishBatchRequestEntries"]
    assert entry["MessageAttributes"] == {
        "type": {"DataType": "String", "StringValue": "OrderCancelled"}
    }
    assert entry["MessageStructure"] == "json"
    message = json.loads(json.loads(entry["Message"])["default"])
    assert message["type"] == "OrderCancelled"
    assert message["total"] == "0.50"


def test_publish_sends_ten_events_per_call(sns):
    batch = [("OrderPlaced", Order(f"o-{i}", **_fields(make_order()))) for i in range(23)]

    assert publisher.publish(batch) == []

    assert [len(c["PublishBatchRequestEntries"]) for c in sns.calls] == [10, 10, 3]
    ids = [json.loads(delivered_to(e, "lambda"))["orderId"] for e in sns.published]
    assert ids == [f"o-{i}" for i in range(23)]


def test_publish_makes_no_call_for_no_events(sns):
    assert publisher.publish([]) == []
    assert sns.calls == []


def _fields(order: Order) -> dict:
    return {k: v for k, v in order.attribute_values.items() if k != "order_id"}


def test_a_failed_call_returns_its_events_and_is_logged_not_raised(sns, caplog):
    sns.error = ConnectionError("endpoint unreachable")
    batch = [("OrderPlaced", make_order()), ("OrderCancelled", make_order())]

    assert publisher.publish(batch) == batch
    assert "publishing 2 order event(s) failed" in caplog.text


def test_failed_and_unlisted_entries_count_as_not_published(sns):
    batch = [("OrderPlaced", Order(f"o-{i}", **_fields(make_order()))) for i in range(4)]
    sns.fail_ids = {"1"}
    sns.drop_ids = {"3"}

    failed = publisher.publish(batch)

    assert [order.order_id for _, order in failed] == ["o-1", "o-3"]


# --- the stream handler ----------------------------------------------------------


def image(order: Order) -> dict:
    """The order as a NEW_AND_OLD_IMAGES stream record shows it (DynamoDB JSON)."""
    return order.serialize()


def placed() -> Order:
    return make_order()


def confirmed() -> Order:
    return make_order(status="CONFIRMED", pending_event=None, event_at=None)


def cancelled(**overrides) -> Order:
    fields = {
        "status": "CANCELLED",
        "pending_event": "OrderCancelled",
        "event_at": "2030-01-01T00:01:00.000Z",
        "updated_at": "2030-01-01T00:01:00.000Z",
    }
    return make_order(**{**fields, **overrides})


@pytest.mark.parametrize(
    ("event_name", "old", "new", "expected"),
    [
        ("INSERT", None, placed, "OrderPlaced"),
        ("MODIFY", placed, cancelled, "OrderCancelled"),
        ("MODIFY", confirmed, cancelled, "OrderCancelled"),
        # The subscriber's acknowledgments: PENDING -> CONFIRMED, and clearing pendingEvent.
        ("MODIFY", placed, confirmed, None),
        ("MODIFY", cancelled, lambda: cancelled(pending_event=None, event_at=None), None),
        # A rewrite that leaves the status alone, and a deletion.
        ("MODIFY", placed, placed, None),
        ("REMOVE", placed, None, None),
    ],
)
def test_the_status_transition_decides_the_event(event_name, old, new, expected):
    event = publisher.announced_event(
        event_name, image(old()) if old else None, image(new()) if new else None
    )

    assert (event[0] if event else None) == expected
    if event:
        assert event[1].order_id == "order-1"
        assert publisher.event_message(*event)["total"] == "0.50"


def test_every_status_that_announces_an_event_is_an_order_status():
    from chalicelib.order_lifecycle import ORDER_STATUSES

    assert set(order_lifecycle.STATUS_EVENTS) <= set(ORDER_STATUSES)
    assert set(order_lifecycle.STATUS_EVENTS.values()) <= set(order_lifecycle.EVENT_TYPES)
    # DELIVERED is reached by delivery and by a rejected return: the status alone says neither.
    assert order_lifecycle.DELIVERED not in order_lifecycle.STATUS_EVENTS
    assert set(order_lifecycle.EVENT_TYPES) == {
        step.event for step in order_lifecycle.TRANSITIONS if step.event and not step.with_payment
    } | set(order_lifecycle.NOTICES)


def test_idempotency_records_announce_nothing():
    record = {
        "orderId": {"S": "IDEM#abc"},
        "status": {"S": "PENDING"},  # even one that looked like an order
        "requestHash": {"S": "h"},
    }

    assert publisher.announced_event("INSERT", None, record) is None


def _changes(*pairs):
    return [
        ("INSERT" if old is None else "MODIFY", image(old) if old else None, image(new))
        for old, new in pairs
    ]


def test_a_batch_is_published_in_one_call(sns):
    changes = _changes((None, placed()), (placed(), confirmed()), (placed(), cancelled()))

    assert publisher.publish_changes(changes) == 2

    [call] = sns.calls
    entries = call["PublishBatchRequestEntries"]
    types = [json.loads(delivered_to(e, "lambda"))["type"] for e in entries]
    assert types == ["OrderPlaced", "OrderCancelled"]


def test_a_batch_that_announces_nothing_calls_nothing(sns):
    assert publisher.publish_changes(_changes((placed(), confirmed()))) == 0
    assert sns.calls == []


def test_a_publish_error_fails_the_batch_so_lambda_retries_it(sns):
    sns.fail_ids = {"1"}

    with pytest.raises(publisher.PublishFailed, match="1 of 2"):
        publisher.publish_changes(_changes((None, placed()), (placed(), cancelled())))


def test_an_unreachable_topic_fails_the_batch(sns):
    sns.error = ClientError({"Error": {"Code": "Throttling", "Message": "slow down"}}, "Publish")

    with pytest.raises(publisher.PublishFailed):
        publisher.publish_changes(_changes((None, placed())))


def test_an_unreadable_record_is_skipped_not_retried_forever(sns, caplog):
    broken = ("INSERT", None, {"orderId": {"S": "o-9"}, "status": {"S": "PENDING"}})
    changes = [broken, *_changes((None, placed()))]

    assert publisher.publish_changes(changes) == 1
    assert "skipping unreadable orders stream record" in caplog.text
    assert len(sns.published) == 1


# --- the sweep -------------------------------------------------------------------


class _Page(list):
    """One page of a PynamoDB query: here always the last one."""

    last_evaluated_key = None


class QueryRecorder:
    def __init__(self, found: dict[str, list[Order]]) -> None:
        self.found = found
        self.calls: list[tuple[str, str, dict]] = []

    def __call__(self, hash_key, range_key_condition=None, **kwargs):
        self.calls.append((hash_key, str(range_key_condition), kwargs))
        return _Page(self.found.get(hash_key, []))


def test_the_sweep_queries_each_event_type_before_the_grace_period(monkeypatch, sns):
    order = make_order()
    shard = Order.pending_event_for(order.order_id, "OrderPlaced")
    query = QueryRecorder({shard: [order]})
    monkeypatch.setattr(Order.unannounced, "query", query)
    now = datetime(2030, 1, 1, 0, 10, tzinfo=UTC)

    assert publisher.republish_unannounced(now=now) == 1

    # Every shard of every event type, then its pre-sharding partition (the bare type).
    partitions = [f"{t}#{i}" for t in order_lifecycle.EVENT_TYPES for i in range(SHARDS)]
    assert sorted(c[0] for c in query.calls) == sorted(
        partitions + list(order_lifecycle.EVENT_TYPES)
    )
    assert shard in partitions
    expected = (now - publisher.SWEEP_GRACE).isoformat(timespec="milliseconds")
    expected = expected.replace("+00:00", "Z")
    assert all(c[1] == f"eventAt < {{'S': '{expected}'}}" for c in query.calls)
    assert all(c[2]["limit"] == publisher.SWEEP_BATCH for c in query.calls)
    assert [json.loads(json.loads(p["Message"])["default"])["type"] for p in sns.published] == [
        "OrderPlaced"
    ]


def test_the_sweep_cutoff_is_utc_whatever_the_callers_timezone(monkeypatch, sns):
    query = QueryRecorder({})
    monkeypatch.setattr(Order.unannounced, "query", query)
    utc = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)

    publisher.republish_unannounced(now=utc)
    publisher.republish_unannounced(now=utc.astimezone(timezone(timedelta(hours=9))))

    second_run = len(query.calls) // 2
    assert (
        query.calls[0][1]
        == query.calls[second_run][1]
        == "eventAt < {'S': '2030-01-01T11:58:00.000Z'}"
    )


def test_the_sweep_counts_only_successful_publishes(monkeypatch, sns):
    sns.error = ConnectionError("still down")
    query = QueryRecorder({"OrderPlaced": [make_order()], "OrderCancelled": [make_order()]})
    monkeypatch.setattr(Order.unannounced, "query", query)

    assert publisher.republish_unannounced(now=datetime(2030, 1, 2, tzinfo=UTC)) == 0
    assert len(sns.published) == 2
