"""Order events end to end, with the handler failing on purpose: none lost, duplicates harmless.

The whole path runs on moto's real services, in this process: the API writes the order
(no SNS call), the orders table's stream holds the change, the stream handler
(``publish_order_events``, handed the stream by ``devstack.streams.StreamPoller`` as
Lambda's mapping would) publishes it to the SNS topic, the topic delivers to an SQS
queue, and each delivery is handed to the subscriber (``on_order_event``) as SNS would.
Failures are injected where Lambda would retry: the stream handler failing after it
published (so the retry publishes again) and SNS refusing a ``PublishBatch``.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from chalicelib import publisher
from chalicelib.models import Order, Product
from tests.conftest import unannounced
from tests.factories import DELIVERY

REGION = "us-east-1"
ADMIN = ("admin@example.com", "admin-password")


class Shop:
    """The app as API Gateway, the stream's event source mapping and SNS drive it."""

    def __init__(self, client: Any, stream_arn: str, topic_arn: str) -> None:
        from devstack.streams import StreamPoller

        self.client = client
        self.handler_failures: list[str] = []  # "after-publish" per injected failure
        self.stream = StreamPoller(self._invoke_stream_handler, stream_arn, "publish_order_events")
        sqs = boto3.client("sqs", region_name=REGION)
        self.sqs = sqs
        self.queue = sqs.create_queue(QueueName="order-events")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=self.queue, AttributeNames=["QueueArn"])
        boto3.client("sns", region_name=REGION).subscribe(
            TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn["Attributes"]["QueueArn"]
        )
        self.delivered: list[tuple[str, str]] = []
        self.outcomes: Counter[str] = Counter()

    def _invoke_stream_handler(self, event: dict[str, Any], context: Any) -> None:
        self.client.lambda_.invoke("publish_order_events", event)
        if self.handler_failures:
            # The batch was published, then the function died (a timeout, say): Lambda
            # retries the same records.
            self.handler_failures.pop()
            raise RuntimeError("injected: the stream handler failed after publishing")

    def call(self, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        payload = json.dumps(body) if body is not None else b""
        response = self.client.http.request(method, path, body=payload, headers=headers)
        assert response.status_code in (200, 201), (path, response.body)
        return json.loads(response.body)

    def run_stream(self) -> None:
        """Poll like Lambda: a failed batch is retried until the handler succeeds."""
        for _ in range(20):
            try:
                if self.stream.drain() == 0:
                    return
            except Exception:  # retried, as Lambda retries a stream batch
                continue
        raise AssertionError("the stream handler never caught up")

    def deliver(self) -> int:
        """Hand every queued SNS delivery to the subscriber; returns how many."""
        count = 0
        while True:
            received = self.sqs.receive_message(QueueUrl=self.queue, MaxNumberOfMessages=10)
            messages = received.get("Messages", [])
            if not messages:
                return count
            for message in messages:
                raw = json.loads(message["Body"])["Message"]
                decoded = json.loads(raw)
                self.delivered.append((decoded["type"], decoded["orderId"]))
                event = self.client.events.generate_sns_event(message=raw)
                self.client.lambda_.invoke("on_order_event", event)
                self.sqs.delete_message(QueueUrl=self.queue, ReceiptHandle=message["ReceiptHandle"])
                count += 1

    def settle(self) -> None:
        """Stream, then deliveries, until neither has anything left."""
        for _ in range(10):
            self.run_stream()
            if self.deliver() == 0:
                return
        raise AssertionError("events kept coming")


@pytest.fixture
def shop(aws: dict[str, str]) -> Iterator[Shop]:
    from chalice.test import Client

    from app import app
    from chalicelib.users import ensure_admin

    ensure_admin(*ADMIN)
    with Client(app) as client:
        yield Shop(client, aws["OrdersTableStreamArn"], aws["OrderEventsTopicArn"])


def place_and_cancel(shop: Shop) -> tuple[list[str], list[str], str]:
    """Six orders placed, two of them cancelled; returns (kept, cancelled, product id)."""
    admin = shop.call("POST", "/users/login", {"email": ADMIN[0], "password": ADMIN[1]})["token"]
    product = shop.call("POST", "/products", {"name": "Lamp", "price": "4", "stock": 50}, admin)
    line = {"items": [{"productId": product["productId"], "quantity": 2}], **DELIVERY}
    ids = [shop.call("POST", "/orders", line, admin)["orderId"] for _ in range(6)]
    for order_id in ids[:2]:
        shop.call("POST", f"/orders/{order_id}/cancel", token=admin)
    return ids[2:], ids[:2], product["productId"]


def assert_every_event_arrived_and_settled(shop: Shop, kept: list[str], cancelled: list[str]):
    expected = {("OrderPlaced", o) for o in kept + cancelled} | {
        ("OrderCancelled", o) for o in cancelled
    }
    assert set(shop.delivered) == expected  # none lost, none invented
    for order_id in kept:
        order = Order.get(order_id, consistent_read=True)
        assert (order.status, order.pending_event) == ("CONFIRMED", None)
    for order_id in cancelled:
        order = Order.get(order_id, consistent_read=True)
        assert (order.status, order.pending_event) == ("CANCELLED", None)
    # Nothing is left for the safety net.
    later = datetime.now(UTC) + timedelta(hours=1)
    assert unannounced("OrderPlaced") == []
    assert unannounced("OrderCancelled") == []
    assert publisher.republish_unannounced(now=later) == 0


def test_every_event_arrives_once_when_nothing_fails(shop):
    kept, cancelled, _ = place_and_cancel(shop)

    shop.settle()

    assert_every_event_arrived_and_settled(shop, kept, cancelled)
    assert len(shop.delivered) == len(set(shop.delivered))


def test_a_handler_that_fails_once_after_publishing_loses_nothing(shop):
    kept, cancelled, product_id = place_and_cancel(shop)
    shop.handler_failures.append("after-publish")

    shop.settle()

    assert shop.stream.failures == 1
    assert_every_event_arrived_and_settled(shop, kept, cancelled)
    duplicates = [event for event, seen in Counter(shop.delivered).items() if seen > 1]
    assert duplicates  # the retried batch was published again ...
    # ... and the duplicates changed nothing: 4 kept orders of 2 lamps each.
    assert Product.get(product_id, consistent_read=True).stock == 50 - 4 * 2


def test_sns_refusing_a_batch_once_loses_nothing(shop, monkeypatch):
    kept, cancelled, _ = place_and_cancel(shop)
    original = BaseClient._make_api_call
    refused: list[str] = []

    def throttled_once(client: Any, operation: str, params: dict[str, Any]) -> Any:
        if operation == "PublishBatch" and not refused:
            refused.append(operation)
            error = {"Error": {"Code": "Throttling", "Message": "Rate exceeded"}}
            raise ClientError(error, operation)
        return original(client, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", throttled_once)

    shop.settle()

    assert refused == ["PublishBatch"]
    assert shop.stream.failures == 1
    assert_every_event_arrived_and_settled(shop, kept, cancelled)
