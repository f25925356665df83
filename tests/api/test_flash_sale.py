"""The flash-sale measurement's conflict injection (devstack/contention.py), counted.

``python -m bench.flash_sale`` relies on :class:`TransactionContention` to cancel
overlapping order transactions as DynamoDB does. These tests hold a rival transaction
in flight on the product's stock item and count what the app does with the
``TransactionConflict`` cancellations: retries, a 503 when they persist, and never a
unit sold that the stock item did not give up.
"""

from __future__ import annotations

import os
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from chalicelib import transactions
from devstack.contention import TransactionContention
from tests.factories import line


@pytest.fixture
def backoffs(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The app's backoff sleeps between conflicting attempts, recorded instead of slept."""
    delays: list[float] = []
    monkeypatch.setattr(transactions.time, "sleep", delays.append)
    return delays


def stock_item(product: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return os.environ["PRODUCTS_TABLE"], {"productId": {"S": product["productId"]}}


def test_a_conflict_that_persists_is_retried_then_503_and_writes_nothing(
    api, admin, customer, backoffs, aws_calls
):
    product = api.create_product(admin, stock=1)
    contention = TransactionContention(duration=0)
    with contention.installed(), contention.hold(*stock_item(product)):
        aws_calls.clear()
        reply = api.order(customer, line(product))

    assert reply.status == 503, reply.body
    assert reply.body["code"] == "ServiceBusy"
    assert "conflicted" in reply.body["error"]
    assert contention.transactions == transactions.MAX_ATTEMPTS
    assert contention.conflicts == transactions.MAX_ATTEMPTS
    assert len(backoffs) == transactions.MAX_ATTEMPTS - 1
    assert "TransactWriteItems" not in aws_calls.dynamodb()  # cancelled, never applied
    assert api.stock_of(product) == 1
    assert api.get("/orders", token=customer.token).body["items"] == []


def test_a_conflict_that_clears_is_retried_and_the_order_placed_once(
    api, admin, customer, backoffs, aws_calls
):
    product = api.create_product(admin, stock=1)
    contention = TransactionContention(duration=0)
    rival = contention.hold(*stock_item(product))
    rival.__enter__()

    def backoff(seconds: float) -> None:
        backoffs.append(seconds)
        if len(backoffs) == 2:  # the rival commits during the second backoff
            rival.__exit__(None, None, None)

    transactions.time.sleep = backoff  # restored by the backoffs fixture's monkeypatch
    with contention.installed():
        aws_calls.clear()
        placed = api.order(customer, line(product))
        sold_out = api.order(customer, line(product))

    assert placed.status == 201, placed.body
    assert contention.conflicts == 2
    assert contention.transactions == 4  # 2 cancelled + the one that placed + the sold-out one
    assert sold_out.status == 409, sold_out.body
    assert sold_out.body["code"] == "InsufficientStock"
    assert aws_calls.dynamodb().count("TransactWriteItems") == 2
    assert api.stock_of(product) == 0
    orders = api.get("/orders", token=customer.token).body["items"]
    assert [o["orderId"] for o in orders] == [placed.body["orderId"]]


def test_an_edit_of_the_product_during_the_sale_conflicts_too(api, admin, backoffs):
    product = api.create_product(admin, stock=5)
    contention = TransactionContention(duration=0)
    with contention.installed(), contention.hold(*stock_item(product)):
        reply = api.put(
            f"/products/{product['productId']}",
            {"name": "Widget", "price": "9.99", "stock": 7},
            token=admin.token,
        )
    assert reply.status == 503, reply.body
    assert contention.conflicts == transactions.MAX_ATTEMPTS
    assert api.stock_of(product) == 5


def test_a_single_item_write_to_an_item_in_flight_is_refused(api, admin):
    product = api.create_product(admin, stock=5)
    table, key = stock_item(product)
    client = boto3.client("dynamodb", region_name="us-east-1")
    update = {
        "TableName": table,
        "Key": key,
        "UpdateExpression": "SET stock = :s",
        "ExpressionAttributeValues": {":s": {"N": "9"}},
    }
    contention = TransactionContention(duration=0)
    with contention.installed():
        with contention.hold(table, key), pytest.raises(ClientError) as refused:
            client.update_item(**update)
        client.update_item(**update)  # once the rival is done
    assert refused.value.response["Error"]["Code"] == "TransactionConflictException"
    assert contention.write_conflicts == 1
    assert api.stock_of(product) == 9


def test_overlapping_transactions_on_one_item_conflict_and_others_do_not(api, admin, monkeypatch):
    """Transaction B sent while A is in flight: cancelled if they share an item, as DynamoDB
    cancels it (reason per item), and applied if they do not. No threads: B runs inside A's
    in-flight time."""
    from devstack import contention as model

    hot, cold = api.create_product(admin, stock=5), api.create_product(admin, stock=5)
    client = boto3.client("dynamodb", region_name="us-east-1")

    def take_one(*products: dict[str, Any]) -> dict[str, Any]:
        return {
            "TransactItems": [
                {
                    "Update": {
                        "TableName": stock_item(p)[0],
                        "Key": stock_item(p)[1],
                        "UpdateExpression": "SET stock = stock - :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}},
                    }
                }
                for p in products
            ]
        }

    outcomes: list[object] = []

    def while_a_is_in_flight(seconds: float) -> None:
        if outcomes:
            return  # B's own in-flight time
        for rival in (take_one(cold, hot), take_one(cold)):
            try:
                client.transact_write_items(**rival)
                outcomes.append("applied")
            except ClientError as error:
                outcomes.append([r["Code"] for r in error.response["CancellationReasons"]])

    monkeypatch.setattr(model, "_sleep", while_a_is_in_flight)
    contention = TransactionContention()
    with contention.installed():
        client.transact_write_items(**take_one(hot))  # A

    assert outcomes == [["None", "TransactionConflict"], "applied"]
    assert (contention.transactions, contention.conflicts) == (3, 1)
    assert (api.stock_of(hot), api.stock_of(cold)) == (4, 4)  # A and the second B, once each
