"""Order logic without I/O: merging lines, idempotency keys and hashes, cancellation reasons."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from pynamodb.connection import Connection
from pynamodb.exceptions import CancellationReason
from pynamodb.transactions import TransactWrite

from chalicelib import orders, transactions
from chalicelib.auth import Principal
from chalicelib.errors import (
    AppError,
    Forbidden,
    IdempotencyMismatch,
    InsufficientStock,
    Unauthorized,
    ValidationError,
)
from chalicelib.models import IdempotencyRecord, Order, OrderLine, Product
from chalicelib.order_view import order_view
from chalicelib.orders import Idempotency, NewOrder, _explain_cancellation, merge_lines
from chalicelib.schemas import MAX_QUANTITY
from chalicelib.transactions import Transaction
from tests.factories import ADDRESS, PICKUP, make_order
from tests.unit.test_transactions import cancelled

CUSTOMER = Principal("user-1", "customer", 3)
ADMIN = Principal("admin-1", "admin", 0)


def lines(*pairs: tuple[str, int]) -> list[dict]:
    return [{"productId": product_id, "quantity": quantity} for product_id, quantity in pairs]


# --- merge_lines -----------------------------------------------------------------


def test_merge_lines_keeps_distinct_products_in_order():
    assert merge_lines(lines(("b", 2), ("a", 1), ("c", 7))) == {"b": 2, "a": 1, "c": 7}
    assert list(merge_lines(lines(("b", 2), ("a", 1), ("c", 7)))) == ["b", "a", "c"]


def test_merge_lines_adds_up_repeated_products_at_their_first_position():
    merged = merge_lines(lines(("a", 2), ("b", 1), ("a", 3), ("c", 1), ("b", 4)))

    assert merged == {"a": 5, "b": 5, "c": 1}
    assert list(merged) == ["a", "b", "c"]


def test_merge_lines_allows_exactly_the_maximum():
    assert merge_lines(lines(("a", MAX_QUANTITY - 1), ("a", 1))) == {"a": MAX_QUANTITY}
    assert merge_lines(lines(("a", MAX_QUANTITY))) == {"a": MAX_QUANTITY}


def test_merge_lines_rejects_a_merged_quantity_over_the_maximum_naming_the_product():
    with pytest.raises(ValidationError) as raised:
        merge_lines(lines(("ok", 1), ("big", 600), ("big", 401)))

    assert raised.value.status_code == 400
    assert "big" in raised.value.message
    assert "ok" not in raised.value.message
    assert str(MAX_QUANTITY) in raised.value.message


def test_merge_lines_does_not_touch_its_input():
    items = lines(("a", 1), ("a", 2))

    merge_lines(items)

    assert items == lines(("a", 1), ("a", 2))


# --- the request hash of an Idempotency-Key ----------------------------------------


def _request_hash(owner: str, quantities: dict[str, int], route: str = orders.ORDERS_ROUTE) -> str:
    idempotency = orders.idempotency(route, owner, "key", quantities)
    assert idempotency is not None
    return idempotency.request_hash


def test_request_hash_tells_the_routes_apart():
    assert _request_hash("u", {"a": 1}) != _request_hash("u", {"a": 1}, orders.CART_ROUTE)
    assert orders.idempotency(orders.ORDERS_ROUTE, "u", None, {"a": 1}) is None


def test_request_hash_is_a_stable_sha256():
    digest = _request_hash("user-1", {"a": 1, "b": 2})

    assert digest == _request_hash("user-1", {"a": 1, "b": 2})
    assert len(digest) == 64
    assert int(digest, 16) >= 0


def test_request_hash_tells_deliveries_apart_and_still_knows_the_hash_before_them():
    here = orders.Delivery(ADDRESS, None, PICKUP)
    there = orders.Delivery({**ADDRESS, "city": "Salem"}, None, PICKUP)
    by_post = orders.Delivery(ADDRESS, None, "standard")
    hashes = {
        orders.idempotency(orders.ORDERS_ROUTE, "u", "k", {"a": 1}, delivery).request_hash
        for delivery in (here, there, by_post, orders.Delivery(None, "home", None))
    }
    assert len(hashes) == 4
    idem = orders.idempotency(orders.ORDERS_ROUTE, "u", "k", {"a": 1}, here)
    before = hashlib.sha256(
        json.dumps({"route": "orders", "userId": "u", "items": [["a", 1]]}).encode()
    ).hexdigest()
    assert before in idem.legacy_hashes  # a retry of a request made before this release


def test_a_legacy_order_reads_with_derived_totals():
    view = order_view(make_order())
    assert view["legacy"] is True
    assert view["currency"] == "USD"
    assert view["totals"] == {
        "subtotal": "0.50",
        "shipping": "0.00",
        "tax": "0.00",
        "discount": "0.00",
        "total": "0.50",
    }
    assert view["shippingAddress"] is None and view["shippingMethod"] is None
    assert all("tax" not in line for line in view["items"])


def test_request_hash_ignores_line_order():
    assert _request_hash("u", {"a": 1, "b": 2}) == _request_hash("u", {"b": 2, "a": 1})
    assert _request_hash("u", merge_lines(lines(("a", 1), ("b", 2), ("a", 1)))) == _request_hash(
        "u", merge_lines(lines(("b", 2), ("a", 2)))
    )


@pytest.mark.parametrize(
    "other",
    [
        ("v", {"a": 1, "b": 2}),
        ("u", {"a": 2, "b": 2}),
        ("u", {"a": 1, "c": 2}),
        ("u", {"a": 1}),
        ("u", {"a": 1, "b": 2, "c": 1}),
        ("u", {"a": 12}),
    ],
)
def test_request_hash_changes_with_the_buyer_or_any_line(other):
    assert _request_hash("u", {"a": 1, "b": 2}) != _request_hash(*other)


def test_request_hash_is_not_fooled_by_separators_in_ids():
    assert _request_hash("u", {"a,b": 1}) != _request_hash("u", {"a": 1, "b": 1})
    assert _request_hash("u", {"a": 11}) != _request_hash("u", {"a1": 1})


# --- Idempotency-Key -----------------------------------------------------------------


def test_idempotency_record_ids_are_hashed_and_scoped_to_the_buyer():
    key = orders.idempotency_key("user-1", "my-key")

    assert key.startswith("IDEM#")
    assert "my-key" not in key
    assert key == orders.idempotency_key("user-1", "my-key")
    assert key != orders.idempotency_key("user-2", "my-key")
    assert key != orders.idempotency_key("user-1", "my-key2")


@pytest.mark.parametrize("key", ["", "k" * 256, "tab\there", "new\nline", "\x00"])
def test_bad_idempotency_keys_are_rejected(key):
    with pytest.raises(ValidationError) as raised:
        orders.idempotency_key("user-1", key)

    assert "Idempotency-Key" in raised.value.message


@pytest.mark.parametrize("key", ["k", "k" * 255, "a b", "ünïcödé-✓", "550e8400-e29b-41d4"])
def test_good_idempotency_keys_are_accepted(key):
    assert orders.idempotency_key("user-1", key).startswith("IDEM#")


# --- who the order is for -------------------------------------------------------------


def test_the_buyer_is_the_caller_unless_an_admin_names_someone():
    assert orders._owner(CUSTOMER, {}) == "user-1"
    assert orders._owner(CUSTOMER, {"userId": "user-1"}) == "user-1"
    assert orders._owner(ADMIN, {}) == "admin-1"
    assert orders._owner(ADMIN, {"userId": "user-9"}) == "user-9"
    with pytest.raises(Forbidden):
        orders._owner(CUSTOMER, {"userId": "user-9"})


# --- cancellation reasons -------------------------------------------------------------

FAILED = CancellationReason(code="ConditionalCheckFailed", message="The conditional request failed")
QUANTITIES = {"p1": 1, "p2": 2, "p3": 3}
PRODUCTS = {pid: Product(pid, name=pid, price=Decimal(1), stock=9, version=1) for pid in QUANTITIES}


def order_transaction(caller=CUSTOMER, owner="user-1", idem_key=None) -> Transaction:
    """The order transaction place_order builds (built only, never sent)."""
    tx = Transaction(TransactWrite(connection=Connection()))
    request = NewOrder(caller, owner, QUANTITIES, delivery=orders.Delivery(ADDRESS, None, PICKUP))
    order = orders._new_order(request, PRODUCTS)
    record = None
    if idem_key:
        record = IdempotencyRecord(idem_key, request_hash="h", target_order_id="o", response="{}")
    orders._build_order(tx, request, order, record, PRODUCTS)
    return tx


def explain(tx: Transaction, fail, idem_key=None, owner="user-1"):
    """Cancel ``tx`` with a reason for each operation ``fail(meaning)`` names, as DynamoDB would."""
    try:
        transactions.raise_failures(tx, cancelled([fail(m) for m in tx.sent_meanings()]))
    except transactions.ConditionsFailed as failed:
        idem = Idempotency(idem_key, _request_hash(owner, QUANTITIES)) if idem_key else None
        return _explain_cancellation(failed, NewOrder(CUSTOMER, owner, QUANTITIES, idem))
    raise AssertionError("raise_failures returned")


def stock_short(*product_ids):
    return lambda m: FAILED if getattr(m, "product_id", None) in product_ids else None


def either(*fails):
    return lambda m: next((r for r in (f(m) for f in fails) if r is not None), None)


def caller_check(m):
    return FAILED if isinstance(m, Unauthorized) else None


def buyer_check(m):
    return FAILED if isinstance(m, ValidationError) else None


def idempotency_put(reason):
    return lambda m: reason if m == orders.Replay() else None


@pytest.mark.parametrize(
    ("failed_products", "short"),
    [({"p1"}, ["p1"]), ({"p2"}, ["p2"]), ({"p3"}, ["p3"]), ({"p1", "p3"}, ["p1", "p3"])],
)
def test_stock_failures_name_the_products_whatever_else_is_in_the_transaction(
    failed_products, short
):
    transactions_ = [
        (order_transaction(), None, "user-1"),
        (order_transaction(ADMIN, "user-9"), None, "user-9"),
        (order_transaction(idem_key="IDEM#k"), "IDEM#k", "user-1"),
    ]
    for tx, idem_key, owner in transactions_:
        with pytest.raises(InsufficientStock) as raised:
            explain(tx, stock_short(*failed_products), idem_key, owner=owner)

        assert raised.value.details == {"productIds": short}
        assert raised.value.status_code == 409


def test_a_failed_caller_check_is_401_even_if_stock_is_short_too():
    with pytest.raises(Unauthorized):
        explain(order_transaction(), either(caller_check, stock_short("p2")))


def test_a_missing_buyer_is_400_naming_them():
    with pytest.raises(ValidationError) as raised:
        explain(order_transaction(ADMIN, "user-9"), buyer_check, owner="user-9")

    assert raised.value.details == {"userId": "user-9"}


def stored_record(owner: str, quantities: dict[str, int], response: dict) -> dict:
    record = IdempotencyRecord(
        "IDEM#k",
        request_hash=_request_hash(owner, quantities),
        target_order_id=response["orderId"],
        response=json.dumps(response),
        expires_at=datetime.now(UTC) + timedelta(hours=1),
    )
    return record.serialize()


def test_a_failed_idempotency_put_replays_the_order_as_it_is_now(monkeypatch):
    response = {"orderId": "order-1", "status": "PENDING", "total": 0.5}
    idem = CancellationReason(
        code="ConditionalCheckFailed", raw_item=stored_record("user-1", QUANTITIES, response)
    )
    now = make_order(status="CANCELLED", updated_at="2030-01-02T00:00:00.000Z")
    read: list[str] = []
    monkeypatch.setattr(Order, "get", lambda key, **kw: read.append(key) or now)
    # Stock is short now too, but the replay wins: the first request already succeeded.
    fail = either(idempotency_put(idem), stock_short("p1"))

    replay = explain(order_transaction(idem_key="IDEM#k"), fail, idem_key="IDEM#k")

    assert read == ["order-1"]
    assert replay == order_view(now)
    assert replay["status"] == "CANCELLED"


def test_a_failed_idempotency_put_for_another_request_is_a_mismatch():
    raw = stored_record("user-1", {"p1": 1}, {"orderId": "o-1"})
    fail = idempotency_put(CancellationReason(code="ConditionalCheckFailed", raw_item=raw))

    with pytest.raises(IdempotencyMismatch) as raised:
        explain(order_transaction(idem_key="IDEM#k"), fail, idem_key="IDEM#k")

    assert raised.value.status_code == 422
    assert raised.value.code == "IdempotencyKeyReused"


def test_unexplained_cancellations_are_not_disguised_as_client_errors():
    throttled = CancellationReason(code="ThrottlingError")

    unexplained = [
        idempotency_put(throttled),
        lambda m: throttled if getattr(m, "product_id", None) == "p2" else None,
        lambda m: None,
    ]
    for fail in unexplained:
        with pytest.raises(Exception) as raised:
            explain(order_transaction(idem_key="IDEM#k"), fail, idem_key="IDEM#k")
        assert not isinstance(raised.value, AppError)
        assert not isinstance(raised.value, AssertionError)


# --- order_view ---------------------------------------------------------------------


def test_order_view_writes_money_as_decimal_strings_in_the_currency():
    dime = make_order().items[0]
    ten = OrderLine(
        product_id="p2",
        name="Ten",
        quantity=1,
        unit_price=Decimal("10.00"),
        line_total=Decimal("10.00"),
    )
    order = make_order("o-1", items=[dime, ten], total=Decimal("10.30"))

    view = order_view(order)

    assert json.dumps(view["items"][0]) == (
        '{"productId": "p1", "name": "Dime", "quantity": 3, "unitPrice": "0.10",'
        ' "lineTotal": "0.30"}'
    )
    assert view["items"][1]["unitPrice"] == "10.00"
    assert view["total"] == "10.30"
    assert view["currency"] == "USD"
    delivery = {"currency", "totals", "legacy", "shippingAddress", "shippingMethod"}
    assert set(view) == {"orderId", "userId", "status", "items", "total", "createdAt", *delivery}
    order.updated_at = "2030-01-01T00:01:00.000Z"
    assert order_view(order)["updatedAt"] == "2030-01-01T00:01:00.000Z"
