"""How many DynamoDB calls each authenticated single-item request costs (issue #15).

The caller's profile (token revocation) and the item the request is about are read in
one ``BatchGetItem`` across tables; counts, never time.
"""

from __future__ import annotations

import pytest

from tests.factories import line


@pytest.fixture
def widget(api, admin) -> dict:
    return api.create_product(admin, name="Widget", price="2.5", stock=10)


def _batch_tables(aws_calls) -> list[list[str]]:
    return [
        sorted(params["RequestItems"])
        for service, op, params in aws_calls.calls
        if (service, op) == ("dynamodb", "BatchGetItem")
    ]


def test_reading_an_order_is_one_batch_get_across_users_and_orders(
    api, customer, widget, aws_calls
):
    order = api.place_order(customer, line(widget))
    aws_calls.clear()

    reply = api.get(f"/orders/{order['orderId']}", token=customer.token)

    assert reply.status == 200 and reply.body["orderId"] == order["orderId"]
    assert aws_calls.dynamodb() == ["BatchGetItem"]
    [tables] = _batch_tables(aws_calls)
    assert len(tables) == 2 and any(t.endswith("-orders") for t in tables)


@pytest.mark.parametrize("who", ["stranger", "missing"])
def test_a_hidden_or_missing_order_is_a_404_for_the_same_one_call(
    api, customer, widget, aws_calls, who
):
    order = api.place_order(customer, line(widget))
    stranger = api.register()
    order_id = order["orderId"] if who == "stranger" else "no-such-order"
    aws_calls.clear()

    reply = api.get(f"/orders/{order_id}", token=stranger.token)

    assert reply.status == 404 and reply.body["code"] == "NotFound"
    assert aws_calls.dynamodb() == ["BatchGetItem"]


def test_cancelling_is_one_batch_get_and_one_transaction(api, customer, widget, aws_calls):
    order = api.place_order(customer, line(widget))
    aws_calls.clear()

    reply = api.post(f"/orders/{order['orderId']}/cancel", token=customer.token)

    assert reply.status == 200 and reply.body["status"] == "CANCELLED"
    assert aws_calls.dynamodb() == ["BatchGetItem", "TransactWriteItems"]
    assert api.get(f"/products/{widget['productId']}").body["stock"] == 10


def test_an_admin_cancels_anyones_order_for_the_same_two_calls(
    api, admin, customer, widget, aws_calls
):
    order = api.place_order(customer, line(widget))
    aws_calls.clear()

    reply = api.post(f"/orders/{order['orderId']}/cancel", token=admin.token)

    assert reply.status == 200
    assert aws_calls.dynamodb() == ["BatchGetItem", "TransactWriteItems"]


@pytest.mark.parametrize("whose", ["own", "another (admin)"])
def test_reading_a_user_is_one_call(api, admin, customer, aws_calls, whose):
    reader = customer if whose == "own" else admin
    aws_calls.clear()

    reply = api.get(f"/users/{customer.user_id}", token=reader.token)

    assert reply.status == 200 and reply.body["userId"] == customer.user_id
    assert aws_calls.dynamodb() == ["BatchGetItem"]


def test_a_customer_cannot_read_another_user_even_though_the_batch_fetched_it(
    api, customer, aws_calls
):
    other = api.register()
    aws_calls.clear()

    reply = api.get(f"/users/{other.user_id}", token=customer.token)

    assert reply.status == 404
    assert other.email not in str(reply.body)
    assert aws_calls.dynamodb() == ["BatchGetItem"]


def test_placing_an_order_stays_at_two_calls(api, customer, widget, aws_calls):
    aws_calls.clear()
    api.place_order(customer, line(widget))
    assert aws_calls.dynamodb() == ["BatchGetItem", "TransactWriteItems"]


@pytest.mark.parametrize("route", ["order", "cancel", "user"])
def test_revocation_is_still_immediate_on_the_one_call_reads(api, customer, widget, route):
    order = api.place_order(customer, line(widget))
    old_token = customer.token
    changed = api.put(
        f"/users/{customer.user_id}",
        {"password": "a-new-password", "currentPassword": customer.password},
        token=old_token,
    )
    assert changed.status == 200

    if route == "order":
        reply = api.get(f"/orders/{order['orderId']}", token=old_token)
    elif route == "cancel":
        reply = api.post(f"/orders/{order['orderId']}/cancel", token=old_token)
    else:
        reply = api.get(f"/users/{customer.user_id}", token=old_token)

    assert reply.status == 401
    fresh = api.login(customer.email, "a-new-password")
    assert api.get(f"/orders/{order['orderId']}", token=fresh.token).body["status"] == "PENDING"
