"""The SNS subscriber Lambda (``on_order_event``): confirms orders, acknowledges events."""

from __future__ import annotations

import json
import os

import boto3
import pytest
from pynamodb.exceptions import DoesNotExist

from chalicelib.orders import idempotency_key
from tests.conftest import delivered_to, unannounced
from tests.factories import line, stored


@pytest.fixture
def deliver(api):
    """Invoke the subscriber the way SNS does, with one message."""

    def invoke(message: str | dict) -> object:
        raw = message if isinstance(message, str) else json.dumps(message)
        event = api.client.events.generate_sns_event(
            message=raw,
            subject="",
            message_attributes={"type": {"Type": "String", "Value": "whatever"}},
        )
        return api.client.lambda_.invoke("on_order_event", event).payload

    return invoke


@pytest.fixture
def order(api, admin, customer) -> dict:
    product = api.create_product(admin, price="2.5", stock=10)
    return api.place_order(customer, line(product, 2))


def raw_item(order_id: str) -> dict | None:
    """The order exactly as stored, to prove a delivery changed nothing."""
    client = boto3.client("dynamodb", region_name="us-east-1")
    found = client.get_item(
        TableName=os.environ["ORDERS_TABLE"], Key={"orderId": {"S": order_id}}, ConsistentRead=True
    )
    return found.get("Item")


def placed_event(order: dict) -> dict:
    return {
        "type": "OrderPlaced",
        "orderId": order["orderId"],
        "userId": order["userId"],
        "total": order["total"],
        "items": order["items"],
        "createdAt": order["createdAt"],
    }


def test_order_placed_confirms_the_order(api, customer, order, deliver):
    deliver(placed_event(order))

    record = stored(order["orderId"])
    assert record.status == "CONFIRMED"
    assert record.pending_event is None
    assert record.event_at is None
    assert record.updated_at >= order["createdAt"]
    seen = api.get(f"/orders/{order['orderId']}", token=customer.token).body
    assert seen["status"] == "CONFIRMED"
    assert seen["items"] == order["items"]
    assert unannounced("OrderPlaced") == []


def test_the_published_message_itself_confirms_the_order(
    api, admin, customer, deliver, aws_calls, stream
):
    product = api.create_product(admin, price="1", stock=1)
    reply = api.post(
        "/orders",
        {"items": [{"productId": product["productId"], "quantity": 1}]},
        token=customer.token,
    )
    aws_calls.clear()
    stream.drain()
    [batch] = [p for s, op, p in aws_calls.calls if (s, op) == ("sns", "PublishBatch")]
    [published] = batch["PublishBatchRequestEntries"]

    deliver(delivered_to(published, "lambda"))

    assert stored(reply.body["orderId"]).status == "CONFIRMED"


def test_a_duplicate_delivery_is_harmless(order, deliver):
    deliver(placed_event(order))
    first = raw_item(order["orderId"])

    deliver(placed_event(order))
    deliver(placed_event(order))

    assert raw_item(order["orderId"]) == first
    assert first["status"] == {"S": "CONFIRMED"}


def test_order_placed_after_a_cancel_leaves_it_cancelled(api, customer, order, deliver):
    assert api.post(f"/orders/{order['orderId']}/cancel", token=customer.token).status == 200
    before = raw_item(order["orderId"])

    deliver(placed_event(order))

    assert raw_item(order["orderId"]) == before
    record = stored(order["orderId"])
    assert record.status == "CANCELLED"
    assert record.pending_event_type == "OrderCancelled"


def test_order_cancelled_is_acknowledged(api, customer, order, deliver):
    cancelled = api.post(f"/orders/{order['orderId']}/cancel", token=customer.token).body

    deliver({**placed_event(order), "type": "OrderCancelled"})

    record = stored(order["orderId"])
    assert record.status == "CANCELLED"
    assert record.pending_event is None
    assert record.event_at is None
    assert record.updated_at == cancelled["updatedAt"]
    assert unannounced("OrderCancelled") == []


def test_a_stale_order_cancelled_does_not_touch_a_live_order(order, deliver):
    before = raw_item(order["orderId"])

    deliver({**placed_event(order), "type": "OrderCancelled"})

    assert raw_item(order["orderId"]) == before
    assert stored(order["orderId"]).pending_event_type == "OrderPlaced"


def test_the_events_of_a_cancelled_confirmed_order_settle_in_any_order(
    api, customer, order, deliver
):
    deliver(placed_event(order))
    api.post(f"/orders/{order['orderId']}/cancel", token=customer.token)
    deliver({**placed_event(order), "type": "OrderCancelled"})
    deliver(placed_event(order))  # a late duplicate

    record = stored(order["orderId"])
    assert (record.status, record.pending_event) == ("CANCELLED", None)


@pytest.mark.parametrize(
    "message",
    [
        "",
        "not json",
        "{",
        "[]",
        '"OrderPlaced"',
        "42",
        "null",
        json.dumps({"orderId": "ORDER"}),
        json.dumps({"type": "OrderPlaced"}),
        json.dumps({"type": "OrderLost", "orderId": "ORDER"}),
        json.dumps({"type": "orderplaced", "orderId": "ORDER"}),
        json.dumps({"type": ["OrderPlaced"], "orderId": "ORDER"}),
        json.dumps({"type": "OrderPlaced", "orderId": 12345}),
        json.dumps({"type": "OrderPlaced", "orderId": ["ORDER"]}),
        json.dumps({"type": "OrderPlaced", "orderId": {"S": "ORDER"}}),
        json.dumps({"type": "OrderPlaced", "orderId": None}),
        json.dumps({"type": "OrderPlaced", "orderId": ""}),
        json.dumps({"type": "OrderPlaced", "orderId": "x" * 5000}),
    ],
    ids=lambda message: repr(message[:50]),
)
def test_malformed_messages_are_dropped_without_touching_anything(
    order, deliver, aws_calls, caplog, message
):
    before = raw_item(order["orderId"])
    message = message.replace("ORDER", order["orderId"])

    aws_calls.clear()
    deliver(message)  # no exception: SNS would only retry it

    assert aws_calls.dynamodb() == []
    assert raw_item(order["orderId"]) == before
    assert "dropping malformed order event" in caplog.text


@pytest.mark.parametrize("event_type", ["OrderPlaced", "OrderCancelled"])
@pytest.mark.parametrize(
    "order_id", ["00000000-0000-0000-0000-000000000000", "IDEM#0123456789abcdef"]
)
def test_events_for_unknown_orders_create_nothing(deliver, event_type, order_id):
    deliver({"type": event_type, "orderId": order_id})

    with pytest.raises(DoesNotExist):
        stored(order_id)


def test_an_event_for_an_idempotency_record_leaves_it_alone(api, admin, customer, deliver):
    product = api.create_product(admin, price="1", stock=1)
    api.post(
        "/orders",
        {"items": [{"productId": product["productId"], "quantity": 1}]},
        token=customer.token,
        headers={"Idempotency-Key": "k"},
    )
    record_id = idempotency_key(customer.user_id, "k")
    before = raw_item(record_id)
    assert before is not None

    for event_type in ("OrderPlaced", "OrderCancelled"):
        deliver({"type": event_type, "orderId": record_id})

    assert raw_item(record_id) == before
