"""Orders through the HTTP API: placing, idempotency, reading, listing, cancelling, events."""

from __future__ import annotations

import itertools
import json
import os
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from urllib.parse import quote

import boto3
import pytest
from pynamodb.exceptions import CancellationReason, TransactWriteError, VerboseClientError
from pynamodb.transactions import TransactWrite

from chalicelib import aws, orders, publisher, subscriber, transactions
from chalicelib.models import IdempotencyRecord, Order, Product
from tests.conftest import delivered_to
from tests.factories import ADDRESS, line, stored

TOPIC_ARN = os.environ["ORDER_EVENTS_TOPIC_ARN"]
CLOCK_START = datetime(2030, 1, 1, tzinfo=UTC)


# --- helpers -------------------------------------------------------------------


def stock_and_version(api, product: dict) -> tuple[int, int]:
    body = api.get(f"/products/{product['productId']}").body
    return body["stock"], body["version"]


def stocks(api, *products: dict) -> list[int]:
    return [stock_and_version(api, p)[0] for p in products]


def order_ids(api, account, query: str = "") -> list[str]:
    reply = api.get(f"/orders?limit=100{query}", token=account.token)
    assert reply.status == 200, reply.body
    return [o["orderId"] for o in reply.body["items"]]


def own_order_ids(api, account) -> list[str]:
    return order_ids(api, account, f"&userId={account.user_id}")


def publishes(aws_calls) -> list[dict]:
    """The order events published so far: the decoded message plus its type attribute."""
    sent = []
    for service, operation, params in aws_calls.calls:
        if service == "sns":
            assert operation == "PublishBatch"
            assert params["TopicArn"] == TOPIC_ARN
            for entry in params["PublishBatchRequestEntries"]:
                message = json.loads(delivered_to(entry, "lambda"))
                message["_attribute"] = entry["MessageAttributes"]["type"]
                sent.append(message)
    return sent


def walk(api, path: str, token: str, limit: int) -> tuple[list[dict], int]:
    """Every item of a paginated listing, following nextCursor; also the number of pages."""
    items, cursor, pages = [], None, 0
    while True:
        separator = "&" if "?" in path else "?"
        url = f"{path}{separator}limit={limit}" + (f"&cursor={quote(cursor)}" if cursor else "")
        reply = api.get(url, token=token)
        assert reply.status == 200, reply.body
        assert len(reply.body["items"]) <= limit
        items += reply.body["items"]
        pages += 1
        cursor = reply.body["nextCursor"]
        if cursor is None:
            return items, pages


def conflict() -> TransactWriteError:
    """What PynamoDB raises when DynamoDB cancels a transaction racing another one."""
    cause = VerboseClientError(
        {"Error": {"Code": "TransactionCanceledException", "Message": "Transaction cancelled"}},
        "TransactWriteItems",
        {},
        cancellation_reasons=[
            None,
            CancellationReason(code="TransactionConflict", message="Transaction is ongoing"),
        ],
    )
    return TransactWriteError("Failed to write transaction items", cause=cause)


@pytest.fixture
def clock(monkeypatch):
    """Order timestamps one second apart from CLOCK_START, so "newest first" is unambiguous."""
    ticks = itertools.count()

    def now_iso() -> str:
        moment = CLOCK_START + timedelta(seconds=next(ticks))
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")

    monkeypatch.setattr(orders, "now_iso", now_iso)
    return ticks


@pytest.fixture
def other(api):
    return api.register()


@pytest.fixture
def widget(api, admin) -> dict:
    return api.create_product(admin, name="Widget", price="19.99", stock=10)


@pytest.fixture
def gadget(api, admin) -> dict:
    return api.create_product(admin, name="Gadget", price="0.10", stock=10)


@pytest.fixture
def no_sleep(monkeypatch):
    delays: list[float] = []
    monkeypatch.setattr(transactions.time, "sleep", delays.append)
    return delays


# --- placing -------------------------------------------------------------------


def test_order_is_placed_with_catalogue_names_and_prices(api, customer, widget):
    reply = api.order(customer, line(widget, 3))

    assert reply.status == 201
    order = reply.body
    assert order["userId"] == customer.user_id
    assert order["status"] == "PENDING"
    assert order["items"] == [
        {
            "productId": widget["productId"],
            "name": "Widget",
            "quantity": 3,
            "unitPrice": "19.99",
            "lineTotal": "59.97",
            "tax": "0.00",  # Oregon has no sales tax
        }
    ]
    assert order["total"] == "59.97"
    assert order["totals"] == {
        "subtotal": "59.97",
        "shipping": "0.00",  # collected from the store
        "tax": "0.00",
        "discount": "0.00",
        "total": "59.97",
    }
    assert order["currency"] == "USD"
    assert order["shippingAddress"] == ADDRESS
    assert order["shippingMethod"] == {
        "id": "pickup",
        "name": "Collect from our Portland, OR store",
    }
    assert "legacy" not in order and "fulfilment" not in order
    assert datetime.fromisoformat(order["createdAt"]).tzinfo is not None
    assert order["createdAt"].endswith("Z")
    assert "Idempotent-Replayed" not in reply.headers
    assert api.get(f"/orders/{order['orderId']}", token=customer.token).body == order
    assert stock_and_version(api, widget) == (7, widget["version"] + 1)


def test_totals_are_decimal_exact(api, admin, customer):
    dime = api.create_product(admin, price="0.10", stock=5)
    fifth = api.create_product(admin, price="0.20", stock=5)

    order = api.place_order(customer, line(dime, 3), line(fifth, 1))

    assert [i["lineTotal"] for i in order["items"]] == ["0.30", "0.20"]
    assert order["total"] == "0.50"
    record = stored(order["orderId"])
    assert record.total == Decimal("0.5")
    assert [line.line_total for line in record.items] == [Decimal("0.3"), Decimal("0.2")]
    assert [line.unit_price for line in record.items] == [Decimal("0.1"), Decimal("0.2")]


def test_order_keeps_the_name_and_price_it_was_placed_with(api, admin, customer, widget):
    order = api.place_order(customer, line(widget, 2))

    changed = api.put(
        f"/products/{widget['productId']}", {"price": "25", "name": "Widget v2"}, token=admin.token
    )
    assert changed.status == 200, changed.body

    again = api.get(f"/orders/{order['orderId']}", token=customer.token).body
    assert again["items"][0]["name"] == "Widget"
    assert again["items"][0]["unitPrice"] == "19.99"
    assert again["total"] == "39.98"
    newer = api.place_order(customer, line(widget, 2))
    assert newer["items"][0]["name"] == "Widget v2"
    assert newer["total"] == "50.00"


def test_client_cannot_set_prices_or_names(api, customer, widget):
    reply = api.order(customer, {**line(widget), "unitPrice": "0.01", "name": "Cheap"})

    assert reply.status == 400
    assert reply.body["code"] == "ValidationError"
    assert stocks(api, widget) == [10]


def test_repeated_products_are_merged_into_one_line(api, customer, widget, gadget):
    order = api.place_order(customer, line(widget, 2), line(gadget, 1), line(widget, 3))

    assert [(i["productId"], i["quantity"]) for i in order["items"]] == [
        (widget["productId"], 5),
        (gadget["productId"], 1),
    ]
    assert order["items"][0]["lineTotal"] == "99.95"
    assert stocks(api, widget, gadget) == [5, 9]


def test_merged_quantity_may_reach_but_not_exceed_the_limit(api, admin, customer):
    bulk = api.create_product(admin, price="1", stock=5000)

    too_many = api.order(customer, line(bulk, 600), line(bulk, 401))
    assert too_many.status == 400
    assert too_many.body["code"] == "ValidationError"
    assert bulk["productId"] in too_many.body["error"]
    assert stocks(api, bulk) == [5000]

    order = api.place_order(customer, line(bulk, 500), line(bulk, 500))
    assert order["items"][0]["quantity"] == 1000
    assert stocks(api, bulk) == [4000]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"items": []},
        {"items": "widget"},
        {"items": [{"productId": "p"}]},
        {"items": [{"quantity": 1}]},
        {"items": [{"productId": "p", "quantity": 0}]},
        {"items": [{"productId": "p", "quantity": 1001}]},
        {"items": [{"productId": "p", "quantity": -1}]},
        {"items": [{"productId": "p", "quantity": 1.5}]},
        {"items": [{"productId": "p", "quantity": "2"}]},
        {"items": [{"productId": "p", "quantity": True}]},
        {"items": [{"productId": "", "quantity": 1}]},
        {"items": [{"productId": "p" * 65, "quantity": 1}]},
        {"items": [{"productId": 7, "quantity": 1}]},
        {"items": [{"productId": f"p{i}", "quantity": 1} for i in range(26)]},
        {"items": [{"productId": "p", "quantity": 1}], "coupon": "FREE"},
        {"items": [{"productId": "p", "quantity": 1}], "userId": ""},
    ],
    ids=lambda body: json.dumps(body)[:40],
)
def test_invalid_order_bodies_are_400(api, customer, body):
    reply = api.post("/orders", body, token=customer.token)

    assert reply.status == 400
    assert reply.body["code"] == "ValidationError"
    assert reply.body["error"]


@pytest.mark.parametrize("raw", ["", "not json", "[1, 2]", '{"items": [NaN]}'])
def test_unparseable_order_bodies_are_400(api, customer, raw):
    reply = api.request("POST", "/orders", token=customer.token, raw=raw)

    assert reply.status == 400
    assert reply.body["code"] == "ValidationError"


def test_unknown_products_are_400_naming_them(api, customer, widget):
    reply = api.order(
        customer,
        line(widget),
        line({"productId": "nope-1"}),
        {**line({"productId": "nope-2"})},
    )

    assert reply.status == 400
    assert reply.body["code"] == "ValidationError"
    assert reply.body["productIds"] == ["nope-1", "nope-2"]
    assert "nope-1" in reply.body["error"]
    assert stocks(api, widget) == [10]
    assert own_order_ids(api, customer) == []


def test_placing_an_order_requires_a_valid_token(api, widget):
    body = {"items": [line(widget)]}

    assert api.post("/orders", body).status == 401
    assert api.post("/orders", body, token="not-a-token").status == 401
    assert api.post("/orders", body, headers={"Authorization": "Basic abc"}).status == 401
    assert stocks(api, widget) == [10]


def test_a_deleted_users_token_cannot_place_orders(api, customer, widget, aws_calls):
    assert api.delete(f"/users/{customer.user_id}", token=customer.token).status == 204

    aws_calls.clear()
    reply = api.order(customer, line(widget))

    assert reply.status == 401
    assert reply.body["code"] == "Unauthorized"
    # No separate profile read: the check is part of the order transaction.
    assert aws_calls.dynamodb() == ["BatchGetItem", "TransactWriteItems"]
    assert stocks(api, widget) == [10]


def test_a_revoked_token_cannot_place_orders(api, customer, widget):
    changed = api.put(
        f"/users/{customer.user_id}",
        {"password": "another-password", "currentPassword": customer.password},
        token=customer.token,
    )
    assert changed.status == 200, changed.body

    assert api.order(customer, line(widget)).status == 401
    fresh = api.login(customer.email, "another-password")
    assert api.order(fresh, line(widget)).status == 201
    assert stocks(api, widget) == [9]


def test_customer_cannot_order_on_someone_elses_behalf(api, customer, other, widget):
    reply = api.order(customer, line(widget), userId=other.user_id)

    assert reply.status == 403
    assert reply.body["code"] == "Forbidden"
    assert stocks(api, widget) == [10]
    assert own_order_ids(api, other) == []


def test_customer_may_name_themselves_as_buyer(api, customer, widget):
    order = api.place_order(customer, line(widget), userId=customer.user_id)

    assert order["userId"] == customer.user_id


def test_admin_orders_on_a_customers_behalf(api, admin, customer, widget):
    order = api.place_order(admin, line(widget, 2), userId=customer.user_id)

    assert order["userId"] == customer.user_id
    assert own_order_ids(api, customer) == [order["orderId"]]
    assert own_order_ids(api, admin) == []
    assert api.get(f"/orders/{order['orderId']}", token=customer.token).status == 200


def demote(user_id: str) -> None:
    """An operator's demotion straight in the table, leaving earlier tokens' version alone."""
    from chalicelib.models import UserRecord

    profile = UserRecord.get(UserRecord.profile_key(user_id), consistent_read=True)
    for key in (UserRecord.profile_key(user_id), UserRecord.login_key(profile.email)):
        UserRecord(key).update(actions=[UserRecord.role.set("customer")])


def test_a_demoted_admins_token_cannot_order_on_someones_behalf(
    api, admin, customer, widget, aws_calls
):
    demote(admin.user_id)
    aws_calls.clear()
    reply = api.order(admin, line(widget), userId=customer.user_id)

    assert reply.status == 403, reply.body
    assert reply.body["code"] == "Forbidden"
    # The role is checked inside the order transaction; the read only explains the refusal.
    assert aws_calls.dynamodb() == ["BatchGetItem", "TransactWriteItems", "GetItem"]
    assert stocks(api, widget) == [10]
    assert own_order_ids(api, customer) == []
    # Ordering for themselves still works: the token is valid, only the role is gone.
    assert api.order(admin, line(widget)).status == 201


def test_ordering_on_someones_behalf_checks_the_stored_role_in_the_transaction(
    api, admin, customer, widget, aws_calls
):
    aws_calls.clear()
    api.place_order(admin, line(widget), userId=customer.user_id)

    assert aws_calls.dynamodb() == ["BatchGetItem", "TransactWriteItems"]
    transaction = next(p for s, op, p in aws_calls.calls if op == "TransactWriteItems")
    caller_check = transaction["TransactItems"][0]["ConditionCheck"]
    assert caller_check["Key"]["pk"]["S"] == "USER#" + admin.user_id
    names = caller_check["ExpressionAttributeNames"].values()
    values = [v.get("S") for v in caller_check["ExpressionAttributeValues"].values()]
    assert "role" in names
    assert "admin" in values


def test_a_revoked_admin_token_ordering_for_someone_is_401(api, admin, customer, widget):
    from chalicelib.auth import issue_token

    stale = issue_token(admin.user_id, "admin", 99)[0]
    reply = api.post("/orders", {"items": [line(widget)], "userId": customer.user_id}, token=stale)
    assert reply.status == 401, reply.body


def test_admin_cannot_order_for_a_user_that_does_not_exist(api, admin, customer, widget):
    assert api.delete(f"/users/{customer.user_id}", token=admin.token).status == 204

    for user_id in (customer.user_id, "no-such-user"):
        reply = api.order(admin, line(widget), userId=user_id)
        assert reply.status == 400, reply.body
        assert reply.body["code"] == "ValidationError"
        assert reply.body["userId"] == user_id
    assert stocks(api, widget) == [10]


# --- DynamoDB calls and stock ----------------------------------------------------


@pytest.mark.parametrize("lines", [1, 25])
def test_an_order_costs_one_batch_get_and_one_transaction(api, admin, customer, aws_calls, lines):
    products = [api.create_product(admin, price="1", stock=5) for _ in range(lines)]

    aws_calls.clear()
    order = api.place_order(customer, *(line(p, 2) for p in products))

    assert aws_calls.dynamodb() == ["BatchGetItem", "TransactWriteItems"]
    transaction = next(p for s, op, p in aws_calls.calls if op == "TransactWriteItems")
    # The buyer check, the order, and one conditional decrement per product.
    assert len(transaction["TransactItems"]) == 2 + lines
    assert len(order["items"]) == lines
    assert order["total"] == f"{2 * lines}.00"
    assert set(stocks(api, *products)) == {3}


def test_insufficient_stock_names_the_short_product_and_changes_nothing(
    api, admin, customer, aws_calls
):
    first = api.create_product(admin, price="1", stock=5)
    middle = api.create_product(admin, price="1", stock=1)
    last = api.create_product(admin, price="1", stock=5)
    before = [stock_and_version(api, p) for p in (first, middle, last)]

    aws_calls.clear()
    reply = api.order(customer, line(first, 2), line(middle, 2), line(last, 2))

    assert reply.status == 409
    assert reply.body["code"] == "InsufficientStock"
    assert reply.body["productIds"] == [middle["productId"]]
    assert middle["productId"] in reply.body["error"]
    assert aws_calls.dynamodb() == ["BatchGetItem", "TransactWriteItems"]  # not retried
    assert publishes(aws_calls) == []
    assert [stock_and_version(api, p) for p in (first, middle, last)] == before
    assert own_order_ids(api, customer) == []


def test_insufficient_stock_with_an_idempotency_key_names_the_right_product(api, admin, customer):
    first = api.create_product(admin, price="1", stock=0)
    second = api.create_product(admin, price="1", stock=5)
    third = api.create_product(admin, price="1", stock=0)

    reply = api.order(customer, line(first), line(second), line(third), key="k")

    assert reply.status == 409
    assert reply.body["productIds"] == [first["productId"], third["productId"]]
    assert stocks(api, first, second, third) == [0, 5, 0]


def test_stock_never_goes_negative(api, admin, customer):
    product = api.create_product(admin, price="1", stock=5)

    api.place_order(customer, line(product, 3))
    assert api.order(customer, line(product, 3)).status == 409
    api.place_order(customer, line(product, 2))
    assert stocks(api, product) == [0]
    assert api.order(customer, line(product, 1)).status == 409
    assert stocks(api, product) == [0]


def test_stock_is_checked_in_the_transaction_not_on_the_read(api, admin, customer, monkeypatch):
    """Another order takes the stock between this order's read and its transaction."""
    product = api.create_product(admin, price="1", stock=5)
    original = transactions.batch_get

    def read_then_race(*args, **kwargs):
        found = original(*args, **kwargs)
        Product(product["productId"], version=0).update(
            actions=[Product.stock.set(1)], add_version_condition=False
        )
        return found

    monkeypatch.setattr(transactions, "batch_get", read_then_race)
    reply = api.order(customer, line(product, 4))

    assert reply.status == 409
    assert reply.body["productIds"] == [product["productId"]]
    assert stocks(api, product) == [1]


# --- transaction conflicts -----------------------------------------------------


def test_transaction_conflicts_are_retried(api, customer, widget, monkeypatch, no_sleep):
    original = TransactWrite._commit
    commits = []

    def flaky_commit(self):
        commits.append(1)
        if len(commits) <= transactions.MAX_ATTEMPTS - 1:
            raise conflict()
        return original(self)

    monkeypatch.setattr(TransactWrite, "_commit", flaky_commit)
    reply = api.order(customer, line(widget, 2))

    assert reply.status == 201, reply.body
    assert len(commits) == transactions.MAX_ATTEMPTS
    assert len(no_sleep) == transactions.MAX_ATTEMPTS - 1
    assert all(0 <= delay <= 1 for delay in no_sleep)
    assert stocks(api, widget) == [8]
    assert own_order_ids(api, customer) == [reply.body["orderId"]]


def test_persistent_conflicts_give_503_and_write_nothing(
    api, customer, widget, monkeypatch, no_sleep, aws_calls
):
    commits = []

    def always_conflicting(self):
        commits.append(1)
        raise conflict()

    monkeypatch.setattr(TransactWrite, "_commit", always_conflicting)
    aws_calls.clear()
    reply = api.order(customer, line(widget, 2), key="busy")
    monkeypatch.undo()

    assert reply.status == 503
    assert reply.body["code"] == "ServiceBusy"
    assert reply.body["error"]
    assert reply.headers.get("Retry-After") == "1"
    assert len(commits) == transactions.MAX_ATTEMPTS
    assert publishes(aws_calls) == []
    assert stocks(api, widget) == [10]
    assert own_order_ids(api, customer) == []
    # The key was not consumed either: the client's retry places the order.
    retry = api.order(customer, line(widget, 2), key="busy")
    assert retry.status == 201
    assert "Idempotent-Replayed" not in retry.headers


# --- Idempotency-Key -------------------------------------------------------------


def test_a_replay_returns_the_first_order_and_changes_nothing(api, customer, widget, aws_calls):
    first = api.order(customer, line(widget, 2), key="order-1")
    assert first.status == 201
    assert "Idempotent-Replayed" not in first.headers

    aws_calls.clear()
    replay = api.order(customer, line(widget, 2), key="order-1")

    assert replay.status == 201
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.body == first.body
    # The read finds the key's record, then the order as it is now: still two calls.
    assert aws_calls.dynamodb() == ["BatchGetItem", "GetItem"]
    assert publishes(aws_calls) == []
    assert stocks(api, widget) == [8]
    assert own_order_ids(api, customer) == [first.body["orderId"]]


def test_a_replay_after_a_cancel_shows_the_order_as_it_is_now(api, customer, widget):
    first = api.place_order(customer, line(widget, 2), key="then-cancel")
    cancelled = api.post(f"/orders/{first['orderId']}/cancel", token=customer.token)
    assert cancelled.status == 200

    replay = api.order(customer, line(widget, 2), key="then-cancel")

    assert replay.status == 201 and replay.headers["Idempotent-Replayed"] == "true"
    assert replay.body["status"] == "CANCELLED"
    assert replay.body == cancelled.body
    assert stocks(api, widget) == [10]


def test_an_order_with_a_stale_expected_total_is_409_and_writes_nothing(
    api, admin, customer, widget, aws_calls
):
    api.put(f"/products/{widget['productId']}", {"price": "999999"}, token=admin.token)
    aws_calls.clear()

    reply = api.order(customer, line(widget, 2), key="guarded", expectedTotal="39.98")

    assert reply.status == 409, reply.body
    assert reply.body["code"] == "PriceChanged"
    assert reply.body["total"] == "1999998.00"
    assert reply.body["error"] == "the total is now 1999998.00 USD, not 39.98 USD"
    assert aws_calls.dynamodb() == ["BatchGetItem"]
    assert stocks(api, widget) == [10]
    assert own_order_ids(api, customer) == []
    # The key was not used up: the same request with the new total is placed.
    agreed = api.order(customer, line(widget, 2), key="guarded", expectedTotal="1999998.00")
    assert agreed.status == 201, agreed.body
    assert "Idempotent-Replayed" not in agreed.headers
    assert agreed.body["total"] == "1999998.00"


def test_a_matching_expected_total_places_the_order(api, customer, widget):
    reply = api.order(customer, line(widget, 2), expectedTotal="39.98")

    assert reply.status == 201, reply.body
    assert reply.body["total"] == "39.98"


@pytest.mark.parametrize(
    ("expected", "status"),
    [('"39.98"', 201), ("39.98", 201), ("39.980", 201), ('"39.980"', 400), ("39.981", 400)],
)
def test_the_expected_total_is_compared_exactly_in_either_form(
    api, customer, widget, expected, status
):
    # The string has at most two decimals; the deprecated number may carry a trailing zero.
    raw = f'{{"items": [{json.dumps(line(widget, 2))}], "expectedTotal": {expected}}}'
    reply = api.post("/orders", raw=raw, token=customer.token)
    assert reply.status == status, reply.body
    if status == 400:
        assert reply.body["field"] == "expectedTotal"


def test_a_replay_matches_the_merged_request(api, customer, widget, gadget):
    first = api.place_order(customer, line(widget, 2), line(gadget), key="same")

    replay = api.order(customer, line(gadget), line(widget, 1), line(widget, 1), key="same")

    assert replay.status == 201
    assert replay.body == first
    assert stocks(api, widget, gadget) == [8, 9]


def test_a_replay_still_works_when_stock_ran_out(api, admin, customer):
    product = api.create_product(admin, price="1", stock=2)
    first = api.place_order(customer, line(product, 2), key="all-of-it")

    replay = api.order(customer, line(product, 2), key="all-of-it")

    assert replay.status == 201
    assert replay.body == first
    assert stocks(api, product) == [0]


def test_a_replay_returns_the_original_prices(api, admin, customer, widget):
    first = api.place_order(customer, line(widget), key="k")
    api.put(f"/products/{widget['productId']}", {"price": "1"}, token=admin.token)

    replay = api.order(customer, line(widget), key="k")

    assert replay.body == first
    assert replay.body["total"] == "19.99"


def test_a_replay_still_works_after_a_product_was_deleted(api, admin, customer, widget, gadget):
    first = api.place_order(customer, line(widget), line(gadget), key="k")
    assert api.delete(f"/products/{gadget['productId']}", token=admin.token).status == 204

    replay = api.order(customer, line(widget), line(gadget), key="k")

    assert replay.status == 201, replay.body
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.body == first
    assert stocks(api, widget) == [9]
    # Without a live record it is still the unknown-product error.
    fresh = api.order(customer, line(widget), line(gadget), key="other-key")
    assert fresh.status == 400
    assert fresh.body["productIds"] == [gadget["productId"]]


def test_a_key_reused_for_a_different_request_is_422(api, customer, widget, gadget):
    api.place_order(customer, line(widget, 2), key="k")

    for lines in ([line(widget, 3)], [line(gadget, 2)], [line(widget, 2), line(gadget)]):
        reply = api.order(customer, *lines, key="k")
        assert reply.status == 422
        assert reply.body["code"] == "IdempotencyKeyReused"
    assert stocks(api, widget, gadget) == [8, 10]
    assert len(own_order_ids(api, customer)) == 1


def test_keys_are_scoped_to_the_user(api, customer, other, widget):
    mine = api.place_order(customer, line(widget), key="shared")
    theirs = api.place_order(other, line(widget), key="shared")

    assert mine["orderId"] != theirs["orderId"]
    assert theirs["userId"] == other.user_id
    assert stocks(api, widget) == [8]


def test_a_key_whose_request_failed_is_not_consumed(api, admin, customer):
    product = api.create_product(admin, price="1", stock=1)
    assert api.order(customer, line(product, 2), key="retry-me").status == 409

    api.put(f"/products/{product['productId']}", {"stock": 5}, token=admin.token)
    reply = api.order(customer, line(product, 2), key="retry-me")

    assert reply.status == 201
    assert "Idempotent-Replayed" not in reply.headers
    assert stocks(api, product) == [3]


def test_an_expired_key_places_a_new_order(api, customer, widget):
    first = api.place_order(customer, line(widget), key="old")
    record_id = orders.idempotency_key(customer.user_id, "old")
    table = boto3.client("dynamodb", region_name="us-east-1")
    past = int((datetime.now(UTC) - timedelta(minutes=1)).timestamp())
    table.update_item(
        TableName=os.environ["ORDERS_TABLE"],
        Key={"orderId": {"S": record_id}},
        UpdateExpression="SET expiresAt = :past",
        ExpressionAttributeValues={":past": {"N": str(past)}},
    )

    second = api.order(customer, line(widget), key="old")

    assert second.status == 201
    assert "Idempotent-Replayed" not in second.headers
    assert second.body["orderId"] != first["orderId"]
    assert stocks(api, widget) == [8]
    # The fresh record now guards the key again.
    third = api.order(customer, line(widget), key="old")
    assert third.body == second.body
    assert third.headers["Idempotent-Replayed"] == "true"


def test_the_idempotency_record_expires_a_day_later(api, customer, widget):
    before = datetime.now(UTC)
    api.place_order(customer, line(widget), key="ttl")

    record = IdempotencyRecord.get(orders.idempotency_key(customer.user_id, "ttl"))

    window = record.expires_at - before
    assert timedelta(hours=23, minutes=59) <= window <= timedelta(hours=24, minutes=1)


def test_a_replay_with_a_revoked_token_is_401(api, customer, widget):
    api.place_order(customer, line(widget), key="k")
    assert api.delete(f"/users/{customer.user_id}", token=customer.token).status == 204

    assert api.order(customer, line(widget), key="k").status == 401


@pytest.mark.parametrize("key", ["", "k" * 256], ids=["empty", "256-chars"])
def test_bad_idempotency_keys_are_400(api, customer, widget, key):
    reply = api.order(customer, line(widget), key=key)

    assert reply.status == 400
    assert reply.body["code"] == "ValidationError"
    assert "Idempotency-Key" in reply.body["error"]
    assert stocks(api, widget) == [10]


def test_the_longest_idempotency_key_is_accepted(api, customer, widget):
    first = api.place_order(customer, line(widget), key="k" * 255)

    assert api.order(customer, line(widget), key="k" * 255).body == first


def test_idempotency_records_never_show_up_as_orders(api, admin, customer, widget):
    order = api.place_order(customer, line(widget), key="k")
    record_id = orders.idempotency_key(customer.user_id, "k")

    assert own_order_ids(api, customer) == [order["orderId"]]
    assert order_ids(api, admin) == [order["orderId"]]
    for token in (customer.token, admin.token):
        reply = api.get(f"/orders/{quote(record_id, safe='')}", token=token)
        assert reply.status == 404
        assert api.post(f"/orders/{quote(record_id, safe='')}/cancel", token=token).status == 404
    # The batch read never even asks for an idempotency record's key.
    assert orders.order_key(record_id) is None


# --- reading one order -----------------------------------------------------------


def test_an_order_is_visible_to_its_owner_and_admins_only(api, admin, customer, other, widget):
    order = api.place_order(customer, line(widget))
    path = f"/orders/{order['orderId']}"

    assert api.get(path, token=customer.token).body == order
    assert api.get(path, token=admin.token).body == order
    hidden = api.get(path, token=other.token)
    missing = api.get("/orders/00000000-0000-0000-0000-000000000000", token=customer.token)
    assert hidden.status == missing.status == 404
    assert hidden.body["code"] == missing.body["code"] == "NotFound"
    assert api.get(path).status == 401


@pytest.mark.parametrize("order_id", ["x" * 65, "x" * 3000, "%20"])
def test_odd_order_ids_are_404(api, customer, order_id):
    reply = api.get(f"/orders/{order_id}", token=customer.token)

    assert reply.status == 404
    assert reply.body["code"] == "NotFound"


# --- listing ---------------------------------------------------------------------


def test_customers_list_their_own_orders_newest_first(api, customer, other, widget, clock):
    mine = [api.place_order(customer, line(widget))["orderId"] for _ in range(5)]
    api.place_order(other, line(widget))

    reply = api.get("/orders", token=customer.token)

    assert reply.status == 200
    assert [o["orderId"] for o in reply.body["items"]] == mine[::-1]
    assert reply.body["nextCursor"] is None
    explicit = api.get(f"/orders?userId={customer.user_id}", token=customer.token)
    assert explicit.body == reply.body


def test_the_order_listing_pages_without_gaps_or_duplicates(api, customer, widget, clock):
    mine = [api.place_order(customer, line(widget))["orderId"] for _ in range(7)]

    items, pages = walk(api, "/orders", customer.token, limit=3)

    assert [o["orderId"] for o in items] == mine[::-1]
    assert pages == 3
    exact, exact_pages = walk(api, "/orders", customer.token, limit=7)
    assert len(exact) == 7
    assert exact_pages == 1


def test_a_customer_cannot_list_someone_elses_orders(api, customer, other, widget):
    api.place_order(other, line(widget))

    reply = api.get(f"/orders?userId={other.user_id}", token=customer.token)

    assert reply.status == 403
    assert reply.body["code"] == "Forbidden"
    assert api.get("/orders").status == 401


def test_admins_list_one_users_orders_or_everyones(api, admin, customer, other, widget, clock):
    timeline = [
        api.place_order(customer, line(widget))["orderId"],
        api.place_order(other, line(widget))["orderId"],
        api.place_order(customer, line(widget))["orderId"],
        api.place_order(admin, line(widget))["orderId"],
        api.place_order(other, line(widget))["orderId"],
    ]

    theirs = api.get(f"/orders?userId={other.user_id}", token=admin.token).body
    assert [o["orderId"] for o in theirs["items"]] == [timeline[4], timeline[1]]
    everyone, _ = walk(api, "/orders", admin.token, limit=2)
    assert [o["orderId"] for o in everyone] == timeline[::-1]
    nobody = api.get("/orders?userId=nobody", token=admin.token)
    assert nobody.status == 200
    assert nobody.body == {"items": [], "nextCursor": None}


def test_a_deleted_users_orders_stay_visible_to_admins(api, admin, customer, widget):
    order = api.place_order(customer, line(widget))
    assert api.delete(f"/users/{customer.user_id}", token=admin.token).status == 204

    by_user = api.get(f"/orders?userId={customer.user_id}", token=admin.token).body
    assert [o["orderId"] for o in by_user["items"]] == [order["orderId"]]
    assert order_ids(api, admin) == [order["orderId"]]
    assert api.get(f"/orders/{order['orderId']}", token=admin.token).body == order
    assert api.get(f"/orders/{order['orderId']}", token=customer.token).status == 401


def test_cursors_only_work_for_the_listing_that_issued_them(
    api, admin, customer, other, widget, gadget, clock
):
    for account in (customer, customer, other, other):
        api.place_order(account, line(widget))
    customers_cursor = api.get("/orders?limit=1", token=customer.token).body["nextCursor"]
    admins_cursor = api.get("/orders?limit=1", token=admin.token).body["nextCursor"]
    product_cursor = api.get("/products?limit=1").body["nextCursor"]
    assert customers_cursor and admins_cursor and product_cursor

    attempts = [
        (other.token, f"/orders?cursor={customers_cursor}"),
        (admin.token, f"/orders?userId={other.user_id}&cursor={customers_cursor}"),
        (admin.token, f"/orders?cursor={customers_cursor}"),
        (customer.token, f"/orders?cursor={admins_cursor}"),
        (customer.token, f"/orders?cursor={product_cursor}"),
        (customer.token, "/orders?cursor=garbage"),
        (customer.token, "/orders?cursor=" + "A" * 3000),
    ]
    for token, path in attempts:
        reply = api.get(path, token=token)
        assert reply.status == 400, (path, reply.body)
        assert reply.body["code"] == "ValidationError"
    follow = api.get(
        f"/orders?userId={customer.user_id}&cursor={customers_cursor}", token=admin.token
    )
    assert follow.status == 200
    assert len(follow.body["items"]) == 1


@pytest.mark.parametrize("limit", ["0", "101", "-1", "abc", "1.5", ""])
def test_bad_limits_are_400(api, customer, limit):
    reply = api.get(f"/orders?limit={limit}", token=customer.token)

    assert reply.status == 400
    assert reply.body["code"] == "ValidationError"


# --- cancelling ------------------------------------------------------------------


def test_the_owner_cancels_and_stock_is_restored(api, customer, widget, gadget, aws_calls):
    order = api.place_order(customer, line(widget, 3), line(gadget, 2))
    after_order = [stock_and_version(api, p) for p in (widget, gadget)]
    assert after_order == [(7, widget["version"] + 1), (8, gadget["version"] + 1)]

    aws_calls.clear()
    reply = api.post(f"/orders/{order['orderId']}/cancel", token=customer.token)

    assert reply.status == 200, reply.body
    assert reply.body["status"] == "CANCELLED"
    assert reply.body["updatedAt"] >= order["createdAt"]
    assert {k: v for k, v in reply.body.items() if k not in ("status", "updatedAt")} == {
        k: v for k, v in order.items() if k != "status"
    }
    assert aws_calls.dynamodb().count("TransactWriteItems") == 1
    assert "Scan" not in aws_calls.dynamodb()
    assert [stock_and_version(api, p) for p in (widget, gadget)] == [
        (10, widget["version"] + 2),
        (10, gadget["version"] + 2),
    ]
    assert api.get(f"/orders/{order['orderId']}", token=customer.token).body == reply.body


def test_a_confirmed_order_can_be_cancelled(api, customer, widget):
    order = api.place_order(customer, line(widget, 4))
    subscriber.handle_message(json.dumps({"type": "OrderPlaced", "orderId": order["orderId"]}))
    assert api.get(f"/orders/{order['orderId']}", token=customer.token).body["status"] == (
        "CONFIRMED"
    )

    reply = api.post(f"/orders/{order['orderId']}/cancel", token=customer.token)

    assert reply.status == 200
    assert reply.body["status"] == "CANCELLED"
    assert stocks(api, widget) == [10]


def test_an_admin_cancels_a_customers_order(api, admin, customer, widget):
    order = api.place_order(customer, line(widget, 4))

    reply = api.post(f"/orders/{order['orderId']}/cancel", token=admin.token)

    assert reply.status == 200
    assert reply.body["status"] == "CANCELLED"
    assert stocks(api, widget) == [10]


def test_a_second_cancel_is_409_and_restores_nothing(api, customer, widget):
    order = api.place_order(customer, line(widget, 4))
    assert api.post(f"/orders/{order['orderId']}/cancel", token=customer.token).status == 200
    restored = stock_and_version(api, widget)

    again = api.post(f"/orders/{order['orderId']}/cancel", token=customer.token)

    assert again.status == 409
    assert again.body["code"] == "InvalidTransition"
    assert stock_and_version(api, widget) == restored == (10, widget["version"] + 2)


def test_a_cancel_racing_another_cancel_restores_stock_once(api, customer, widget, monkeypatch):
    """The status read says PENDING, but the order was cancelled before our transaction."""
    order = api.place_order(customer, line(widget, 4))
    stale = stored(order["orderId"])
    assert api.post(f"/orders/{order['orderId']}/cancel", token=customer.token).status == 200
    monkeypatch.setattr(Order, "get", classmethod(lambda cls, *a, **kw: stale))

    again = api.post(f"/orders/{order['orderId']}/cancel", token=customer.token)

    assert again.status == 409
    assert again.body["code"] == "InvalidTransition"
    assert stocks(api, widget) == [10]


def test_other_customers_cannot_cancel(api, customer, other, widget):
    order = api.place_order(customer, line(widget, 4))

    reply = api.post(f"/orders/{order['orderId']}/cancel", token=other.token)

    assert reply.status == 404
    assert reply.body["code"] == "NotFound"
    assert stocks(api, widget) == [6]
    assert stored(order["orderId"]).status == "PENDING"
    assert api.post("/orders/unknown-order/cancel", token=customer.token).status == 404
    assert api.post(f"/orders/{order['orderId']}/cancel").status == 401


def test_cancel_restores_what_is_left_when_a_product_was_deleted(
    api, admin, customer, widget, gadget
):
    order = api.place_order(customer, line(widget, 3), line(gadget, 2))
    assert api.delete(f"/products/{widget['productId']}", token=admin.token).status == 204

    reply = api.post(f"/orders/{order['orderId']}/cancel", token=customer.token)

    assert reply.status == 200, reply.body
    assert reply.body["status"] == "CANCELLED"
    assert stocks(api, gadget) == [10]
    # The deleted product is not resurrected by the restock.
    assert api.get(f"/products/{widget['productId']}").status == 404


def test_cancel_works_when_every_product_was_deleted(api, admin, customer, widget, gadget):
    order = api.place_order(customer, line(widget), line(gadget))
    for product in (widget, gadget):
        assert api.delete(f"/products/{product['productId']}", token=admin.token).status == 204

    reply = api.post(f"/orders/{order['orderId']}/cancel", token=customer.token)

    assert reply.status == 200
    assert stored(order["orderId"]).status == "CANCELLED"
    assert api.get(f"/products/{widget['productId']}").status == 404
    assert api.get(f"/products/{gadget['productId']}").status == 404


# --- events ----------------------------------------------------------------------


def test_placing_an_order_makes_no_sns_call(api, customer, widget, aws_calls):
    aws_calls.clear()
    order = api.place_order(customer, line(widget, 3))

    # Two round trips in all: the products read and the order transaction.
    assert aws_calls.operations() == ["BatchGetItem", "TransactWriteItems"]
    assert stored(order["orderId"]).pending_event_type == "OrderPlaced"


def test_cancelling_makes_no_sns_call(api, customer, widget, aws_calls):
    order = api.place_order(customer, line(widget, 3))

    aws_calls.clear()
    assert api.post(f"/orders/{order['orderId']}/cancel", token=customer.token).status == 200

    assert aws_calls.operations("sns") == []
    assert stored(order["orderId"]).pending_event_type == "OrderCancelled"


def test_the_stream_publishes_order_placed(api, customer, widget, aws_calls, stream):
    order = api.place_order(customer, line(widget, 3))

    aws_calls.clear()
    stream.drain()

    assert publishes(aws_calls) == [
        {
            "type": "OrderPlaced",
            "orderId": order["orderId"],
            "userId": customer.user_id,
            "total": "59.97",
            "currency": "USD",
            "items": order["items"],
            "createdAt": order["createdAt"],
            "_attribute": {"DataType": "String", "StringValue": "OrderPlaced"},
        }
    ]


def test_the_stream_publishes_order_cancelled(api, customer, widget, aws_calls, stream):
    order = api.place_order(customer, line(widget, 3))
    stream.drain()

    aws_calls.clear()
    api.post(f"/orders/{order['orderId']}/cancel", token=customer.token)
    stream.drain()

    [event] = publishes(aws_calls)
    assert event["type"] == "OrderCancelled"
    assert event["_attribute"]["StringValue"] == "OrderCancelled"
    assert (event["orderId"], event["userId"], event["total"]) == (
        order["orderId"],
        customer.user_id,
        "59.97",
    )
    assert event["items"] == order["items"]
    assert event["createdAt"] == order["createdAt"]


def test_a_batch_of_changes_is_published_ten_per_call(api, customer, widget, aws_calls, stream):
    orders_placed = [api.place_order(customer, line(widget)) for _ in range(8)]
    api.post(f"/orders/{orders_placed[0]['orderId']}/cancel", token=customer.token)
    # Idempotency records and stock updates are in the batch too; they announce nothing.
    api.place_order(customer, line(widget), key="k-1")

    aws_calls.clear()
    stream.drain()

    calls = [params for service, _, params in aws_calls.calls if service == "sns"]
    assert [len(params["PublishBatchRequestEntries"]) for params in calls] == [10]
    assert (
        sorted(e["type"] for e in publishes(aws_calls)) == ["OrderCancelled"] + ["OrderPlaced"] * 9
    )


def test_the_subscribers_acknowledgments_publish_nothing(api, customer, widget, aws_calls, stream):
    kept = api.place_order(customer, line(widget))
    gone = api.place_order(customer, line(widget))
    api.post(f"/orders/{gone['orderId']}/cancel", token=customer.token)
    stream.drain()
    for event_type, order in (("OrderPlaced", kept), ("OrderCancelled", gone)):
        message = json.dumps({"type": event_type, "orderId": order["orderId"]})
        assert subscriber.handle_message(message) in ("confirmed", "acknowledged")

    aws_calls.clear()
    assert stream.drain() == 2  # the confirmation and the acknowledgment
    assert aws_calls.operations("sns") == []


def test_events_reach_a_queue_subscribed_to_the_topic(api, customer, widget, stream):
    sqs = boto3.client("sqs", region_name="us-east-1")
    queue_url = sqs.create_queue(QueueName="order-events")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    boto3.client("sns", region_name="us-east-1").subscribe(
        TopicArn=TOPIC_ARN, Protocol="sqs", Endpoint=queue_arn
    )

    order = api.place_order(customer, line(widget, 2))
    api.post(f"/orders/{order['orderId']}/cancel", token=customer.token)
    stream.drain()

    received = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    envelopes = [json.loads(m["Body"]) for m in received]
    messages = [json.loads(e["Message"]) for e in envelopes]
    assert sorted(m["type"] for m in messages) == ["OrderCancelled", "OrderPlaced"]
    assert {m["orderId"] for m in messages} == {order["orderId"]}
    assert all(
        set(m) == {"type", "orderId", "userId", "total", "currency", "items", "createdAt"}
        for m in messages
    )
    assert sorted(e["MessageAttributes"]["type"]["Value"] for e in envelopes) == [
        "OrderCancelled",
        "OrderPlaced",
    ]


@pytest.fixture
def sns_down(monkeypatch):
    def refuse(**kwargs):
        raise ConnectionError("SNS is unreachable")

    monkeypatch.setattr(aws.client("sns"), "publish_batch", refuse)


def test_with_sns_down_orders_are_placed_and_cancelled(api, customer, widget, sns_down):
    reply = api.order(customer, line(widget))
    assert reply.status == 201
    assert api.post(f"/orders/{reply.body['orderId']}/cancel", token=customer.token).status == 200
    record = stored(reply.body["orderId"])
    assert record.pending_event_type == "OrderCancelled"
    assert stocks(api, widget) == [10]


def test_a_failed_publish_fails_the_stream_batch_until_sns_is_back(
    api, customer, widget, stream, aws_calls, monkeypatch
):
    order = api.place_order(customer, line(widget))

    def refuse(**kwargs):
        raise ConnectionError("SNS is unreachable")

    with monkeypatch.context() as patch:
        patch.setattr(aws.client("sns"), "publish_batch", refuse)
        for _ in range(2):
            with pytest.raises(publisher.PublishFailed):
                stream.poll_once()

    aws_calls.clear()
    assert stream.drain() == 1  # the same record, retried
    [event] = publishes(aws_calls)
    assert (event["type"], event["orderId"]) == ("OrderPlaced", order["orderId"])


def test_the_sweep_republishes_exactly_the_unacknowledged_events(
    api, customer, widget, clock, aws_calls
):
    acknowledged = api.place_order(customer, line(widget))
    subscriber.handle_message(
        json.dumps({"type": "OrderPlaced", "orderId": acknowledged["orderId"]})
    )
    unconfirmed = api.place_order(customer, line(widget))
    cancelled = api.place_order(customer, line(widget))
    api.post(f"/orders/{cancelled['orderId']}/cancel", token=customer.token)
    latest = api.place_order(customer, line(widget))
    latest_at = datetime.fromisoformat(latest["createdAt"])

    aws_calls.clear()
    assert publisher.republish_unannounced(now=latest_at + publisher.SWEEP_GRACE) == 2
    early = {(e["type"], e["orderId"]) for e in publishes(aws_calls)}
    assert early == {
        ("OrderPlaced", unconfirmed["orderId"]),
        ("OrderCancelled", cancelled["orderId"]),
    }

    aws_calls.clear()
    assert publisher.republish_unannounced(now=latest_at + timedelta(minutes=10)) == 3
    swept = publishes(aws_calls)
    assert {(e["type"], e["orderId"]) for e in swept} == early | {
        ("OrderPlaced", latest["orderId"])
    }
    assert "Scan" not in aws_calls.dynamodb()
    assert set(aws_calls.dynamodb()) == {"Query"}
    republished = next(e for e in swept if e["orderId"] == unconfirmed["orderId"])
    assert republished["items"] == unconfirmed["items"]
    assert republished["total"] == unconfirmed["total"]


def test_the_sweep_republishes_an_event_the_stream_did_not_get_out(
    api, customer, widget, clock, aws_calls, stream, monkeypatch
):
    # E.g. the batch failed until its records aged out of the stream (24 hours).
    order = api.place_order(customer, line(widget))
    with monkeypatch.context() as patch:
        patch.setattr(aws.client("sns"), "publish_batch", lambda **_: {"Failed": []})
        with pytest.raises(publisher.PublishFailed):
            stream.poll_once()
    created = datetime.fromisoformat(order["createdAt"])

    aws_calls.clear()
    assert publisher.republish_unannounced(now=created + timedelta(minutes=1)) == 0
    assert publisher.republish_unannounced(now=created + timedelta(minutes=3)) == 1
    [event] = publishes(aws_calls)
    assert (event["type"], event["orderId"]) == ("OrderPlaced", order["orderId"])


def test_the_sweep_republishes_an_unacknowledged_event(api, customer, widget, clock, aws_calls):
    order = api.place_order(customer, line(widget))
    created = datetime.fromisoformat(order["createdAt"])

    aws_calls.clear()
    assert publisher.republish_unannounced(now=created + timedelta(minutes=1)) == 0
    assert publishes(aws_calls) == []
    assert publisher.republish_unannounced(now=created + timedelta(minutes=3)) == 1
    [event] = publishes(aws_calls)
    assert (event["type"], event["orderId"]) == ("OrderPlaced", order["orderId"])
    # A non-UTC "now" means the same instant.
    local = (created + timedelta(minutes=3)).astimezone(timezone(timedelta(hours=-5)))
    assert publisher.republish_unannounced(now=local) == 1

    # Once the subscriber has confirmed it, the sweep leaves it alone.
    assert subscriber.handle_message(json.dumps(event)) == "confirmed"
    assert publisher.republish_unannounced(now=created + timedelta(hours=1)) == 0


@pytest.mark.parametrize("user_filter", ["", "x" * 65])
def test_an_empty_or_oversized_user_filter_is_a_400_not_a_dynamodb_error(api, admin, user_filter):
    reply = api.get(f"/orders?userId={user_filter}", token=admin.token)
    assert reply.status == 400
    assert reply.body["code"] == "ValidationError"
    assert "userId" in reply.body["error"]
