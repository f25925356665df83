"""Returns (chalicelib/returns.py): asked by the buyer, decided by staff, received and refunded."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest

from chalicelib import payments, returns, subscriber
from chalicelib.clock import iso_z
from chalicelib.config import get_settings
from chalicelib.errors import InvalidTransition
from chalicelib.models import Order, Product
from chalicelib.notifications import money as in_email
from chalicelib.order_lifecycle import (
    REQUEST_RETURN,
    RETURN_APPROVED_EVENT,
    RETURN_RECEIVED_EVENT,
    RETURN_REJECTED_EVENT,
)
from chalicelib.order_transitions import transition
from chalicelib.transactions import ConditionsFailed
from tests.api.conftest import verify
from tests.api.test_buyer_emails import outbox
from tests.api.test_payments import webhook
from tests.api.test_products import assert_error
from tests.api.test_refunds import RefundingStripe
from tests.factories import line, stored


@pytest.fixture
def products(api, admin) -> tuple[dict[str, Any], dict[str, Any]]:
    return (
        api.create_product(admin, name="Teapot", price=12.5, stock=10),
        api.create_product(admin, name="Cup", price=3, stock=10),
    )


def deliver(api, admin, order: dict[str, Any]) -> dict[str, Any]:
    path = f"/orders/{order['orderId']}"
    if order["status"] == "PENDING":
        raw = json.dumps({"type": "OrderPlaced", "orderId": order["orderId"]})
        assert subscriber.handle_message(raw) == "confirmed"
    assert api.post(f"{path}/ship", token=admin.token).status == 200
    delivered = api.post(f"{path}/deliver", token=admin.token)
    assert delivered.status == 200, delivered.body
    return dict(delivered.body)


@pytest.fixture
def delivered(api, admin, customer, products) -> dict[str, Any]:
    """A DELIVERED order: 2 teapots (25.00) and 4 cups (12.00), 37.00."""
    teapot, cup = products
    return deliver(api, admin, api.place_order(customer, line(teapot, 2), line(cup, 4)))


def ask(api, customer, order, *counts: tuple[dict[str, Any], int], reason: str = "Too big"):
    lines = [{"productId": p["productId"], "quantity": q} for p, q in counts]
    return api.post(
        f"/orders/{order['orderId']}/returns",
        {"lines": lines, "reason": reason},
        token=customer.token,
    )


def decide(api, admin, order, step: str, body: dict[str, Any] | None = None):
    return api.post(f"/orders/{order['orderId']}/returns/{step}", body, token=admin.token)


def test_a_return_asked_approved_and_received_refunds_and_restocks_the_chosen_lines(
    api, admin, customer, delivered, products, aws_calls
):
    teapot, cup = products
    assert delivered["deliveredAt"] >= delivered["createdAt"]
    asked = ask(api, customer, delivered, (teapot, 1), (cup, 4))
    assert asked.status == 201, asked.body
    assert asked.body["status"] == "RETURN_REQUESTED"
    [entry] = asked.body["returns"]
    assert entry["status"] == "requested" and entry["reason"] == "Too big"

    approve = {
        "lines": [
            {"productId": teapot["productId"], "restock": True},
            {"productId": cup["productId"], "restock": False},  # broken: not sold again
        ]
    }
    approved = decide(api, admin, delivered, "approve", approve)
    assert approved.status == 200, approved.body
    assert approved.body["status"] == "RETURN_APPROVED"
    assert approved.body["returns"][0]["decidedBy"] == admin.user_id
    aws_calls.clear()
    received = decide(api, admin, delivered, "receive")

    assert received.status == 200, received.body
    # The caller and order, then one transaction (status, refund, restock, audit entry).
    assert aws_calls.dynamodb() == ["BatchGetItem", "TransactWriteItems"]
    body = received.body
    assert body["status"] == "RETURNED" and body["returns"][0]["status"] == "received"
    [refund] = body["refunds"]
    # One teapot (12.50) and all four cups (12.00); shipping stays: one teapot is kept.
    assert (refund["amount"], refund["reason"], refund["status"]) == (
        "24.50",
        "return",
        "succeeded",
    )
    assert body["returns"][0]["refundId"] == refund["refundId"]
    assert body["amountRefunded"] == "24.50"
    assert (api.stock_of(teapot), api.stock_of(cup)) == (9, 6)  # only the teapot came back


def test_a_rejected_return_is_delivered_again_and_may_be_asked_again(
    api, admin, customer, delivered, products
):
    teapot, _ = products
    assert ask(api, customer, delivered, (teapot, 1)).status == 201
    assert_error(ask(api, customer, delivered, (teapot, 1)), 409, "InvalidTransition")
    assert_error(decide(api, admin, delivered, "receive"), 409, "InvalidTransition")

    rejected = decide(api, admin, delivered, "reject", {"reason": "Used"})

    assert rejected.status == 200, rejected.body
    assert rejected.body["status"] == "DELIVERED"
    assert rejected.body["returns"][0]["status"] == "rejected"
    assert rejected.body["returns"][0]["rejectReason"] == "Used"
    again = ask(api, customer, delivered, (teapot, 2))
    assert again.status == 201 and len(again.body["returns"]) == 2


def test_who_may_return_what_and_when(api, admin, customer, delivered, products, monkeypatch):
    teapot, cup = products
    stranger = api.register()
    assert_error(ask(api, stranger, delivered, (teapot, 1)), 404)
    assert_error(ask(api, customer, delivered, (teapot, 3)), 400, "ValidationError", "at most 2")
    assert_error(
        api.post(
            f"/orders/{delivered['orderId']}/returns",
            {"lines": [{"productId": "nope", "quantity": 1}]},
            token=customer.token,
        ),
        400,
    )
    undelivered = api.place_order(customer, line(cup))
    assert_error(ask(api, customer, undelivered, (cup, 1)), 409, "InvalidTransition", "PENDING")
    long_ago = iso_z(datetime.now(UTC) - timedelta(days=31))
    Order(delivered["orderId"]).update(actions=[Order.delivered_at.set(long_ago)])
    assert_error(ask(api, customer, delivered, (teapot, 1)), 409, "ReturnWindowClosed", "30 days")
    settings = dataclasses.replace(get_settings(), return_window_days=60)
    monkeypatch.setattr(returns, "get_settings", lambda: settings)
    assert ask(api, customer, delivered, (teapot, 1)).status == 201
    assert_error(decide(api, customer, delivered, "reject", {"reason": "x"}), 403)
    stored_order = stored(delivered["orderId"])
    assert stored_order.status == "RETURN_REQUESTED"


def test_an_approval_names_each_returned_line_once(api, admin, customer, delivered, products):
    teapot, cup = products
    assert ask(api, customer, delivered, (teapot, 1)).status == 201

    for lines in (
        [{"productId": cup["productId"], "restock": True}],
        [
            {"productId": teapot["productId"], "restock": True},
            {"productId": teapot["productId"], "restock": False},
        ],
    ):
        assert_error(decide(api, admin, delivered, "approve", {"lines": lines}), 400)
    assert stored(delivered["orderId"]).status == "RETURN_REQUESTED"


def test_a_whole_return_refunds_what_is_left_after_staff_refunds(
    api, admin, customer, delivered, products
):
    teapot, cup = products
    staff = api.post(
        f"/orders/{delivered['orderId']}/refunds",
        {"amount": "30.00", "reason": "damaged"},
        token=admin.token,
        headers={"Idempotency-Key": "goodwill"},
    )
    assert staff.status == 201, staff.body
    assert ask(api, customer, delivered, (teapot, 2), (cup, 4)).status == 201
    restock = [{"productId": p["productId"], "restock": True} for p in products]
    assert decide(api, admin, delivered, "approve", {"lines": restock}).status == 200

    received = decide(api, admin, delivered, "receive")

    assert received.status == 200, received.body
    assert [r["amount"] for r in received.body["refunds"]] == ["30.00", "7.00"]
    assert received.body["amountRefunded"] == "37.00"


def test_the_share_of_a_line_counts_its_tax_and_discount_and_shipping_only_when_whole():
    lines = [
        SimpleNamespace(
            product_id="a", quantity=3, line_total=Decimal("10.00"), tax=Decimal("1.00")
        ),
        SimpleNamespace(
            product_id="b", quantity=1, line_total=Decimal("5.00"), discount=Decimal("1.00")
        ),
    ]
    order: Any = SimpleNamespace(items=lines, shipping_price=Decimal("4.99"))

    def due(*counts: tuple[str, int]) -> Decimal:
        entry: Any = SimpleNamespace(
            lines=[SimpleNamespace(product_id=p, quantity=q) for p, q in counts]
        )
        return returns.refund_due(order, entry)

    assert due(("a", 1)) == Decimal("3.67")  # (10 + 1) / 3, rounded half-even
    assert due(("a", 2)) == Decimal("7.33")
    assert due(("b", 1)) == Decimal("4.00")  # what was paid for it: less its discount
    assert due(("a", 3), ("b", 1)) == Decimal("19.99")  # everything: shipping too
    settings = dataclasses.replace(get_settings(), prices_include_tax=True)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(returns, "get_settings", lambda: settings)
        assert due(("a", 1)) == Decimal("3.33")  # the line's total already holds its tax


# --- with a payment provider, and the buyer's emails ---------------------------


def test_a_received_return_is_refunded_through_the_provider(api, admin, customer, monkeypatch):
    stripe = RefundingStripe()
    monkeypatch.setattr(payments, "provider", lambda: stripe)
    product = api.create_product(admin, name="Kettle", price=20, stock=5)
    order = api.place_order(customer, line(product, 1))
    assert webhook(api, "payment_intent.succeeded", order).body == {"result": "confirmed"}
    deliver(api, admin, {**order, "status": "CONFIRMED"})
    assert ask(api, customer, order, (product, 1)).status == 201
    approve = {"lines": [{"productId": product["productId"], "restock": True}]}
    assert decide(api, admin, order, "approve", approve).status == 200

    received = decide(api, admin, order, "receive")

    assert received.status == 200, received.body
    [refund] = received.body["refunds"]
    assert refund["status"] == "succeeded" and refund["amount"] == "20.00"  # shipping: none
    assert stripe.refunds == {refund["refundId"]: (order["payment"]["paymentIntentId"], 20)}
    assert api.stock_of(product) == 5
    assert decide(api, admin, order, "receive").status == 200  # again: nothing more
    assert len([c for c in stripe.calls if c[0] == "partial refund"]) == 1


def test_the_buyer_is_emailed_about_each_decision_and_the_refund(
    api, admin, customer, delivered, products, sender
):
    verify(api, customer)
    teapot, _ = products
    order_id = delivered["orderId"]

    def handled(event_type: str) -> str:
        return subscriber.handle_message(json.dumps({"type": event_type, "orderId": order_id}))

    ask(api, customer, delivered, (teapot, 1))
    decide(api, admin, delivered, "reject", {"reason": "Used"})
    assert handled(RETURN_REJECTED_EVENT) == "acknowledged"
    ask(api, customer, delivered, (teapot, 1))
    decide(
        api,
        admin,
        delivered,
        "approve",
        {"lines": [{"productId": teapot["productId"], "restock": True}]},
    )
    assert handled(RETURN_APPROVED_EVENT) == "acknowledged"
    decide(api, admin, delivered, "receive")
    assert handled(RETURN_RECEIVED_EVENT) == "acknowledged"
    assert handled(RETURN_RECEIVED_EVENT) == "ignored"  # a second delivery sends nothing

    short = order_id[:8]
    assert [m["subject"].split(" — ")[0] for m in outbox()] == [
        f"Your return for order {short}… was not accepted",
        f"Your return for order {short}… is approved",
        f"Your return for order {short}… arrived",
        f"We refunded {in_email('12.50')} for your order {short}…",
    ]


def test_a_transition_writes_what_also_adds_in_its_own_transaction(
    api, admin, customer, delivered, products, aws_calls
):
    """How an audit entry joins a return decision: ``transition(..., also=...)``."""
    order = Order.get(delivered["orderId"])

    def gone(tx):
        tx.require(Product, "no-such-product", on_fail="gone")

    with pytest.raises(ConditionsFailed):
        transition(order, REQUEST_RETURN, on_fail=InvalidTransition("x"), also=gone)
    assert stored(order.order_id).status == "DELIVERED"  # nothing written
    aws_calls.clear()

    def there(tx):
        tx.require(Product, products[0]["productId"], on_fail="gone")

    transition(order, REQUEST_RETURN, on_fail=InvalidTransition("x"), also=there)

    assert aws_calls.dynamodb() == ["TransactWriteItems"]
    assert stored(order.order_id).status == "RETURN_REQUESTED"
