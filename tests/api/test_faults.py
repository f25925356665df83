"""Faults become answers clients can act on (issue 17).

Each test injects a throttled, unavailable or slow AWS dependency with the ``faults``
fixture (tests/faults.py) and asserts the answer (status, code, ``Retry-After``), what
was written and what was published.
"""

from __future__ import annotations

import json
import os
from typing import Any

import boto3
import pytest
from pynamodb.exceptions import UpdateError

from chalicelib import observability, publisher, subscriber
from chalicelib.config import get_settings
from chalicelib.models import Order
from chalicelib.shards import shard_of
from tests.conftest import delivered_to
from tests.faults import (
    FaultInjector,
    client_error,
    read_timeout,
    throttled_transaction,
)

# Every code the issue names, plus the 5xx answers: all mean "try again shortly".
DYNAMODB_TRANSIENT = [
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
]


def assert_busy(reply: Any) -> None:
    assert reply.status == 503, reply.body
    assert reply.body["code"] == "ServiceBusy"
    assert reply.body["retryable"] is True
    assert reply.headers.get("Retry-After") == "1"


def emf(out: str) -> dict[str, float]:
    """The metrics of the EMF lines printed, summed by name."""
    totals: dict[str, float] = {}
    for raw in out.splitlines():
        if raw.startswith("{") and '"_aws"' in raw:
            document = json.loads(raw)
            for entry in document["_aws"]["CloudWatchMetrics"][0]["Metrics"]:
                totals[entry["Name"]] = totals.get(entry["Name"], 0) + document[entry["Name"]]
    return totals


def table_items(table: str) -> list[dict[str, Any]]:
    client = boto3.client("dynamodb", region_name="us-east-1")
    return client.scan(TableName=os.environ[table], ConsistentRead=True)["Items"]


def orders_in_table() -> list[dict[str, Any]]:
    return [i for i in table_items("ORDERS_TABLE") if not i["orderId"]["S"].startswith("IDEM#")]


def idempotency_records() -> list[dict[str, Any]]:
    return [i for i in table_items("ORDERS_TABLE") if i["orderId"]["S"].startswith("IDEM#")]


def published(faults: FaultInjector) -> list[dict[str, Any]]:
    return [
        json.loads(delivered_to(entry, "lambda"))
        for c in faults.calls
        if c.operation == "PublishBatch" and c.injected is None
        for entry in c.params["PublishBatchRequestEntries"]
    ]


@pytest.fixture
def widget(api, admin) -> dict[str, Any]:
    return api.create_product(admin, price="4.5", stock=10)


def order_body(product: dict[str, Any], quantity: int = 2) -> dict[str, Any]:
    return {"items": [{"productId": product["productId"], "quantity": quantity}]}


# --- the probe of issue 17: every route, DynamoDB throttled ---------------------------

PROBE_LINK = "00000000-0000-4000-8000-000000000000." + "A" * 43  # well formed: its user is read
PROBE_BODIES = {
    "UserRegister": {"email": "probe@example.com", "name": "Probe", "password": "correct-horse"},
    "UserLogin": {"email": "admin@example.com", "password": "admin-password"},
    "UserUpdate": {"name": "Renamed"},
    "ProductCreate": {"name": "Probe", "price": "1.5"},
    "ProductUpdate": {"stock": 3},
    "CartLineSet": {"quantity": 1},
    "ShipOrder": {"carrier": "UPS", "trackingNumber": "1Z999AA10123456784"},
    "VerifyEmail": {"token": PROBE_LINK},
    "PasswordResetRequest": {"email": "admin@example.com"},
    "PasswordReset": {"token": PROBE_LINK, "password": "correct-horse"},
}


def _probed_operations() -> list[tuple[str, str, str | None]]:
    from app import OPERATIONS

    return [
        (op.method.upper(), op.path, op.request)
        for op in OPERATIONS
        # The routes that call no AWS service here: the webhook, without a payment
        # provider (this suite's default), answers 404 before anything else; shipping
        # options come from configuration.
        if op.path not in ("/openapi.json", "/payments/webhook", "/shipping/options")
    ]


@pytest.mark.parametrize("method,template,request_schema", _probed_operations())
def test_every_route_answers_a_throttled_dynamodb_with_a_documented_503(
    api, admin, widget, faults, method, template, request_schema
):
    from tests.api.test_openapi import CONTRACT

    order = api.post("/orders", order_body(widget), token=admin.token).body
    path = (
        template.replace("{userId}", admin.user_id)
        .replace("{productId}", widget["productId"])
        .replace("{orderId}", order["orderId"])
    )
    body = PROBE_BODIES.get(request_schema or "", order_body(widget) if request_schema else None)
    faults.throttle("dynamodb")

    reply = api.request(method, path, body, token=admin.token)

    assert_busy(reply)
    CONTRACT.check(method, path, reply.status, reply.body, reply.headers)


# --- reads, lists, authenticated reads -----------------------------------------------


@pytest.mark.parametrize("code", DYNAMODB_TRANSIENT)
def test_a_throttled_read_is_a_503_with_retry_after(api, widget, faults, code, capsys):
    faults.throttle("dynamodb", "GetItem", code=code)
    capsys.readouterr()

    reply = api.get(f"/products/{widget['productId']}")

    assert_busy(reply)
    metrics = emf(capsys.readouterr().out)
    assert metrics["ServiceBusy"] == 1
    assert metrics["ServiceBusyDynamoDB"] == 1
    assert "InternalErrors" not in metrics


@pytest.mark.parametrize("path", ["/products", "/orders", "/users"])
def test_a_throttled_list_is_a_503(api, admin, widget, faults, path):
    faults.throttle("dynamodb", "Scan")
    faults.throttle("dynamodb", "Query")

    assert_busy(api.get(path, token=admin.token))


def test_a_throttled_authentication_read_is_a_503(api, customer, faults):
    faults.throttle("dynamodb", "BatchGetItem")  # the profile, read with the item asked for

    assert_busy(api.get(f"/users/{customer.user_id}", token=customer.token))


def test_a_throttled_read_of_profile_and_order_is_a_503(api, customer, widget, faults):
    order = api.post("/orders", order_body(widget), token=customer.token).body
    faults.calls.clear()
    faults.throttle("dynamodb", "BatchGetItem")  # profile and order: one call

    assert_busy(api.get(f"/orders/{order['orderId']}", token=customer.token))
    assert set(faults.operations("dynamodb")) == {"BatchGetItem"}


@pytest.mark.parametrize("error", [read_timeout, client_error("InternalServerError")])
def test_a_timed_out_or_failing_login_read_is_a_503(api, customer, faults, error):
    faults.fail("dynamodb", "GetItem", error=error)

    assert_busy(api.post("/users/login", {"email": customer.email, "password": "correct-horse"}))


def test_a_bug_is_still_a_500_and_counted_apart(api, widget, faults, capsys):
    faults.fail("dynamodb", "GetItem", error=client_error("ValidationException"))
    capsys.readouterr()

    reply = api.get(f"/products/{widget['productId']}")

    assert reply.status == 500
    assert reply.body["code"] == "InternalError"
    assert "Retry-After" not in reply.headers
    metrics = emf(capsys.readouterr().out)
    assert metrics["InternalErrors"] == 1
    assert "ServiceBusy" not in metrics


# --- transactions -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "error",
    [
        client_error("ThrottlingException"),
        client_error("ProvisionedThroughputExceededException"),
        throttled_transaction,
        read_timeout,
    ],
    ids=["throttled", "provisioned-throughput", "cancelled-ThrottlingError", "read-timeout"],
)
def test_a_throttled_order_wrote_nothing_and_its_retry_places_it_once(
    api, customer, widget, faults, error, stream
):
    faults.fail("dynamodb", "TransactWriteItems", error=error, times=1)
    headers = {"Idempotency-Key": "order-under-faults"}

    first = api.post("/orders", order_body(widget), token=customer.token, headers=headers)

    assert_busy(first)
    assert orders_in_table() == []
    assert idempotency_records() == []
    assert api.stock_of(widget) == 10
    assert published(faults) == []

    retry = api.post("/orders", order_body(widget), token=customer.token, headers=headers)
    again = api.post("/orders", order_body(widget), token=customer.token, headers=headers)

    assert retry.status == 201, retry.body
    assert again.status == 201 and again.body == retry.body
    assert [o["orderId"]["S"] for o in orders_in_table()] == [retry.body["orderId"]]
    assert api.stock_of(widget) == 8
    stream.drain()  # the events: one order, one event
    assert [(e["type"], e["orderId"]) for e in published(faults)] == [
        ("OrderPlaced", retry.body["orderId"])
    ]


@pytest.mark.parametrize("headers", [{"Idempotency-Key": "resent-order"}, {}])
def test_an_order_transaction_resent_after_a_lost_answer_places_it_once(
    api, customer, widget, faults, headers, stream
):
    # moto ignores ClientRequestToken (DynamoDB would answer the resend with success), so
    # here the resend really runs again, and is cancelled: the new order's id is taken.
    faults.resend("dynamodb", "TransactWriteItems")

    reply = api.post("/orders", order_body(widget), token=customer.token, headers=headers)

    assert reply.status == 201, reply.body
    assert [o["orderId"]["S"] for o in orders_in_table()] == [reply.body["orderId"]]
    assert api.stock_of(widget) == 8
    stream.drain()
    assert [e["orderId"] for e in published(faults)] == [reply.body["orderId"]]


def test_a_throttled_product_read_before_the_order_transaction_is_a_503(
    api, customer, widget, faults
):
    faults.throttle("dynamodb", "BatchGetItem")

    assert_busy(api.post("/orders", order_body(widget), token=customer.token))
    assert "TransactWriteItems" not in faults.operations("dynamodb")
    assert orders_in_table() == []


def test_a_throttled_registration_wrote_nothing(api, faults):
    faults.fail("dynamodb", "TransactWriteItems", error=throttled_transaction, times=1)
    body = {"email": "busy@example.com", "name": "Busy", "password": "correct-horse"}

    assert_busy(api.post("/users/register", body))
    assert table_items("USERS_TABLE") == []
    assert api.post("/users/register", body).status == 201


def test_a_registration_resent_after_a_lost_answer_creates_the_user_once(api, faults):
    faults.resend("dynamodb", "TransactWriteItems")
    body = {"email": "resent@example.com", "name": "Resent", "password": "correct-horse"}

    assert api.post("/users/register", body).status == 201
    assert len(table_items("USERS_TABLE")) == 2  # one profile, one login record
    faults.faults.clear()
    assert (
        api.post("/users/login", {"email": body["email"], "password": body["password"]}).status
        == 200
    )
    assert api.post("/users/register", body).status == 409  # a real duplicate still is one


def test_a_throttled_cancel_changed_nothing(api, customer, widget, faults):
    order = api.post("/orders", order_body(widget), token=customer.token).body
    faults.throttle("dynamodb", "TransactWriteItems")
    faults.calls.clear()

    assert_busy(api.post(f"/orders/{order['orderId']}/cancel", token=customer.token))
    assert Order.get(order["orderId"], consistent_read=True).status == "PENDING"
    assert api.stock_of(widget) == 8
    assert published(faults) == []

    faults.faults.clear()
    assert api.post(f"/orders/{order['orderId']}/cancel", token=customer.token).status == 200
    assert api.stock_of(widget) == 10


def test_a_product_write_that_times_out_is_a_503(api, admin, widget, faults):
    # A product edit is one transaction with its category counter (storefront).
    faults.fail("dynamodb", "TransactWriteItems", error=read_timeout)

    reply = api.put(f"/products/{widget['productId']}", {"stock": 3}, token=admin.token)

    assert_busy(reply)


def test_a_product_put_resent_after_a_lost_answer_creates_it_once(api, admin, faults):
    faults.resend("dynamodb", "TransactWriteItems")

    reply = api.post("/products", {"name": "Once", "price": "2.5", "stock": 4}, token=admin.token)

    assert reply.status == 201, reply.body
    assert (reply.body["stock"], reply.body["version"]) == (4, 1)
    assert faults.injected() == [("dynamodb", "TransactWriteItems", "resent")]
    ids = [i["productId"]["S"] for i in table_items("PRODUCTS_TABLE")]
    assert ids == [reply.body["productId"], "CATEGORY#general"] or ids == [
        "CATEGORY#general",
        reply.body["productId"],
    ]
    # Counted once, though the transaction was sent twice.
    assert api.get("/categories").body == {"items": [{"category": "general", "count": 1}]}


def test_a_product_delete_and_a_discount_code_resent_after_a_lost_answer_succeed_once(
    api, admin, faults
):
    """Their audit entry's fresh id tells the transaction's own landed attempt apart."""
    product = api.create_product(admin)
    faults.resend("dynamodb", "TransactWriteItems")
    deleted = api.delete(f"/products/{product['productId']}", token=admin.token)
    faults.resend("dynamodb", "TransactWriteItems")
    created = api.post("/discounts", {"code": "ONCE", "percentOff": 5}, token=admin.token)

    assert deleted.status == 204, deleted.body
    assert created.status == 201, created.body
    assert [k for k, _, how in faults.injected()] == ["dynamodb", "dynamodb"]
    actions = [e["action"] for e in api.get("/audit", token=admin.token).body["items"]]
    assert actions == ["discount.create", "product.delete", "product.create"]


# --- publish ----------------------------------------------------------------------------


def test_a_throttled_sns_does_not_touch_placing_an_order(api, customer, widget, faults):
    faults.throttle("sns")

    reply = api.post("/orders", order_body(widget), token=customer.token)

    assert reply.status == 201
    stored = Order.get(reply.body["orderId"], consistent_read=True)
    assert stored.pending_event_type == "OrderPlaced"
    assert faults.operations("sns") == []  # the stream publishes it, not the request


def test_a_throttled_publish_fails_the_stream_batch_for_lambda_to_retry(
    api, customer, widget, faults, stream, capsys
):
    order = api.post("/orders", order_body(widget), token=customer.token).body
    faults.throttle("sns", "PublishBatch", times=1)
    capsys.readouterr()

    with pytest.raises(publisher.PublishFailed):
        stream.poll_once()
    assert emf(capsys.readouterr().out)["HandlerErrors"] == 1

    assert stream.drain() == 1  # the same record, retried
    assert [e["orderId"] for e in published(faults)] == [order["orderId"]]


# --- the signing key ------------------------------------------------------------------


@pytest.mark.parametrize("error", [client_error("ThrottlingException"), read_timeout])
def test_a_signing_key_fetch_that_fails_at_cold_start_is_a_503_and_retried_next_time(
    api, secret_from_secrets_manager, faults, error, capsys
):
    body = {"email": "key@example.com", "name": "Key", "password": "correct-horse"}
    assert api.post("/users/register", body).status == 201
    credentials = {"email": body["email"], "password": body["password"]}
    faults.fail("secretsmanager", "GetSecretValue", error=error, times=1)
    capsys.readouterr()

    assert_busy(api.post("/users/login", credentials))
    assert emf(capsys.readouterr().out)["ServiceBusySecretsManager"] == 1

    reply = api.post("/users/login", credentials)
    assert reply.status == 200, reply.body
    assert api.get(f"/users/{reply.body['userId']}", token=reply.body["token"]).status == 200
    # Fetched again after the failure, then cached: two fetches in all.
    assert faults.operations("secretsmanager") == ["GetSecretValue", "GetSecretValue"]


# --- the request's time budget --------------------------------------------------------


@pytest.fixture
def tight_budget(monkeypatch):
    """Call it to set 0.5 s per request, 0.1 s per attempt: a third slow call cannot start
    in time. (Called after the set-up requests, which a busy machine could make miss it.)"""

    def tighten() -> None:
        monkeypatch.setenv("REQUEST_BUDGET_SECONDS", "0.5")
        monkeypatch.setenv("SDK_CONNECT_TIMEOUT_SECONDS", "0.05")
        monkeypatch.setenv("SDK_READ_TIMEOUT_SECONDS", "0.05")
        get_settings.cache_clear()

    yield tighten
    get_settings.cache_clear()


def test_a_request_stops_calling_a_slow_dependency_when_its_budget_is_spent(
    api, customer, widget, faults, tight_budget, capsys
):
    order = api.post("/orders", order_body(widget), token=customer.token).body
    tight_budget()
    faults.calls.clear()
    faults.delay("dynamodb", seconds=0.45)
    capsys.readouterr()

    reply = api.post(f"/orders/{order['orderId']}/cancel", token=customer.token)

    assert_busy(reply)
    # After the 0.45 s read of profile and order, the transaction (an attempt's 0.1 s at
    # least) could not finish within 0.5 s: it was not sent.
    assert "TransactWriteItems" not in faults.operations("dynamodb")
    assert Order.get(order["orderId"], consistent_read=True).status == "PENDING"
    assert emf(capsys.readouterr().out)["ServiceBusyDynamoDB"] == 1


# --- event handlers -------------------------------------------------------------------


@pytest.fixture
def deliver(api):
    def invoke(message: dict[str, Any]) -> Any:
        event = api.client.events.generate_sns_event(message=json.dumps(message), subject="")
        return api.client.lambda_.invoke("on_order_event", event).payload

    return invoke


@pytest.mark.parametrize(
    "error", [client_error("ProvisionedThroughputExceededException"), read_timeout]
)
def test_a_throttled_subscriber_raises_so_sns_retries(
    api, customer, widget, faults, deliver, error, capsys, stream
):
    order = api.post("/orders", order_body(widget), token=customer.token).body
    stream.drain()
    event = published(faults)[0]
    faults.fail("dynamodb", "UpdateItem", error=error, times=1)
    capsys.readouterr()

    with pytest.raises(UpdateError):
        deliver(event)

    metrics = emf(capsys.readouterr().out)
    assert metrics.get("HandlerErrors") == 1
    assert "SubscriberErrors" not in metrics  # not taken for a malformed message
    assert Order.get(order["orderId"], consistent_read=True).status == "PENDING"

    deliver(event)  # SNS's retry
    assert Order.get(order["orderId"], consistent_read=True).status == "CONFIRMED"


def test_the_sweep_stops_when_throttled_and_resumes_next_run(api, customer, widget, faults, capsys):
    from datetime import datetime, timedelta

    placed = [
        api.post("/orders", order_body(widget, 1), token=customer.token).body for _ in range(3)
    ]
    cancelled = placed[0]["orderId"]
    assert api.post(f"/orders/{cancelled}/cancel", token=customer.token).status == 200
    later = datetime.fromisoformat(placed[-1]["createdAt"]) + timedelta(hours=1)
    faults.calls.clear()
    # One PublishBatch per shard with a backlog: the OrderPlaced ones (2 orders, in 1 or 2
    # shards) go out, the OrderCancelled one after them is throttled.
    placed_shards = len({shard_of(o["orderId"]) for o in placed[1:]})
    faults.throttle("sns", "PublishBatch", on_calls={placed_shards + 1})
    capsys.readouterr()

    tokens = observability.begin()  # metrics are recorded per invocation
    assert publisher.republish_unannounced(now=later) == 2  # returns, does not raise
    observability.end(tokens)
    # Stopped at the throttle.
    assert faults.operations("sns") == ["PublishBatch"] * (placed_shards + 1)
    metrics = emf(capsys.readouterr().out)
    assert metrics["SweepInterrupted"] == 1

    # The subscriber confirms what did go out; the next run starts at what did not.
    for event in published(faults):
        subscriber.handle_message(json.dumps(event))
    faults.calls.clear()
    assert publisher.republish_unannounced(now=later) == 1
    assert [(e["type"], e["orderId"]) for e in published(faults)] == [("OrderCancelled", cancelled)]


def test_a_throttled_sweep_query_stops_cleanly(api, customer, widget, faults):
    from datetime import datetime, timedelta

    order = api.post("/orders", order_body(widget), token=customer.token).body
    later = datetime.fromisoformat(order["createdAt"]) + timedelta(hours=1)
    faults.throttle("dynamodb", "Query", times=1)
    faults.calls.clear()

    assert publisher.republish_unannounced(now=later) == 0
    assert publisher.republish_unannounced(now=later) == 1
    assert [e["orderId"] for e in published(faults)] == [order["orderId"]]
