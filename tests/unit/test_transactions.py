"""The data layer's transactions: each failed condition is reported by what it means."""

from __future__ import annotations

import pytest
from pynamodb.connection import Connection
from pynamodb.exceptions import CancellationReason, TransactWriteError, VerboseClientError
from pynamodb.transactions import TransactWrite

from chalicelib import transactions
from chalicelib.errors import Conflict, NotFound
from chalicelib.models import Order, Product, UserRecord

FAILED = CancellationReason(code="ConditionalCheckFailed")
KIND_OF_MEANING = {
    "update": "Update",
    "create": "Put",
    "require": "ConditionCheck",
    "delete": "Delete",
}


def new_order(order_id: str) -> Order:
    return Order(order_id, user_id="u1", status="PENDING", items=[], total=0, created_at="t")


def add_one_of_each(tx: transactions.Transaction) -> None:
    # Added in the opposite of the order PynamoDB sends them in.
    tx.update(Product("p1", version=0), [Product.stock.add(1)], on_fail="update")
    tx.create(new_order("o1"), on_fail="create")
    tx.delete(UserRecord("USER#gone"), on_fail="delete")
    tx.require(UserRecord, "USER#u1", on_fail="require")


def cancelled(reasons: list) -> TransactWriteError:
    cause = VerboseClientError(
        {"Error": {"Code": "TransactionCanceledException", "Message": "cancelled"}},
        "TransactWriteItems",
        {},
        cancellation_reasons=reasons,
    )
    return TransactWriteError("Failed to write transaction items", cause=cause)


@pytest.fixture
def sent(monkeypatch):
    """The TransactItems of each request PynamoDB would send; nothing reaches AWS."""
    requests: list[list[dict]] = []

    def dispatch(self, operation_name, operation_kwargs):
        requests.append(operation_kwargs["TransactItems"])
        return {}

    monkeypatch.setattr(Connection, "dispatch", dispatch)
    return requests


def test_sent_meanings_follow_the_request_pynamodb_actually_sends(sent):
    built: list[transactions.Transaction] = []

    def build(tx):
        built.append(tx)
        add_one_of_each(tx)

    transactions.write(build)

    (items,) = sent
    kinds = [next(iter(item)) for item in items]
    assert kinds == [KIND_OF_MEANING[m] for m in built[0].sent_meanings()]
    assert set(kinds) == {"Update", "Put", "Delete", "ConditionCheck"}


def test_failures_are_reported_by_meaning_in_the_order_added():
    tx = transactions.Transaction(TransactWrite(connection=Connection()))
    add_one_of_each(tx)
    reasons = [FAILED if m in ("update", "require") else None for m in tx.sent_meanings()]

    failures = tx.failures(cancelled(reasons))

    assert [meaning for meaning, _ in failures] == ["update", "require"]
    with pytest.raises(transactions.ConditionsFailed) as raised:
        transactions.raise_failures(tx, cancelled(reasons))
    assert raised.value.meanings == ["update", "require"]


def test_the_first_failed_error_meaning_is_raised(monkeypatch):
    def build(tx):
        tx.create(new_order("o1"), on_fail="label")
        tx.update(Order("o2"), [Order.status.set("X")], on_fail=NotFound("o2"))
        tx.update(Order("o3"), [Order.status.set("X")], on_fail=Conflict("o3"))

    def reject(self, operation_name, operation_kwargs):
        raise cancelled([FAILED] * len(operation_kwargs["TransactItems"])).cause

    monkeypatch.setattr(Connection, "dispatch", reject)
    with pytest.raises(NotFound):
        transactions.write(build)


def test_retry_if_rebuilds_until_the_failed_operations_are_dropped(monkeypatch):
    requests = []

    def dispatch(self, operation_name, operation_kwargs):
        items = operation_kwargs["TransactItems"]
        requests.append(len(items))
        if len(items) > 1:
            raise cancelled([None] + [FAILED] * (len(items) - 1)).cause
        return {}

    monkeypatch.setattr(Connection, "dispatch", dispatch)
    products = ["p1", "p2"]

    def build(tx):
        tx.update(Order("o1"), [Order.status.set("X")], on_fail=Conflict("o1"))
        for product_id in products:
            tx.update(Product(product_id, version=0), [Product.stock.add(1)], on_fail=product_id)

    def drop(failed):
        for product_id in failed.meanings:
            products.remove(product_id)
        return True

    transactions.write(build, retry_if=drop)

    assert requests == [3, 1]
    assert products == []


def test_an_unexplained_cancellation_is_raised_as_it_is(monkeypatch):
    def dispatch(self, operation_name, operation_kwargs):
        raise cancelled([CancellationReason(code="ThrottlingError")]).cause

    monkeypatch.setattr(Connection, "dispatch", dispatch)
    with pytest.raises(TransactWriteError):
        transactions.write(lambda tx: tx.create(new_order("o1"), on_fail=Conflict("taken")))
