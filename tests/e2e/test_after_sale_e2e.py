"""After the sale, end to end on the local stack: staff refunds (raced for real) and a
return, with the buyer's emails in the outbox. Refunds through localstripe are in
tests/e2e/test_payments_e2e.py (a stack with a payment provider)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from chalicelib.notifications import money as in_email
from tests.e2e.concurrency import race
from tests.e2e.mail import emails_to, verify_address
from tests.e2e.test_notifications_e2e import eventually
from tests.e2e.test_orders_e2e import wait_for_status
from tests.factories import line


@pytest.fixture
def buyer(stack, http) -> dict[str, Any]:
    """A buyer with a verified address: only verified addresses get order emails."""
    account = http.sign_up()
    verify_address(stack, http, account["email"])
    return account


def confirmed(http, admin, buyer, price: float = 12.5, quantity: int = 2) -> dict[str, Any]:
    status, product = http.post(
        "/products", {"name": "Kettle", "price": price, "stock": 10}, token=admin
    )
    assert status == 201, product
    order = http.place_order(buyer, line(product, quantity))
    assert wait_for_status(http, buyer["token"], order["orderId"], "CONFIRMED")["status"] == (
        "CONFIRMED"
    )
    return {**order, "product": product}


def refund(http, admin, order, amount: str, key: str) -> Any:
    return http.post(
        f"/orders/{order['orderId']}/refunds",
        {"amount": amount, "reason": "damaged"},
        token=admin,
        headers={"Idempotency-Key": key},
    )


def test_two_concurrent_refunds_that_exceed_what_was_paid_one_gets_409(http, admin, buyer):
    order = confirmed(http, admin, buyer)  # 25.00

    replies = race(2, lambda i: refund(http, admin, order, "15.00", f"race-{i}"))

    assert sorted(r.status for r in replies) == [201, 409]
    [refused] = [r for r in replies if r.status == 409]
    assert refused.body["code"] == "RefundExceedsPaid" and refused.body["refundable"] == "10.00"
    shown = http.get(f"/orders/{order['orderId']}", token=admin).body
    assert shown["amountRefunded"] == "15.00" and len(shown["refunds"]) == 1


def test_many_concurrent_refunds_never_exceed_and_a_repeated_key_refunds_once(http, admin, buyer):
    order = confirmed(http, admin, buyer)  # 25.00

    replies = race(4, lambda i: refund(http, admin, order, "10.00", f"many-{i}"))
    repeated = race(3, lambda i: refund(http, admin, order, "1.00", "same-key"))

    assert Counter(r.status for r in replies) == {201: 2, 409: 2}
    assert {r.body["code"] for r in replies if r.status == 409} == {"RefundExceedsPaid"}
    assert [r.status for r in repeated] == [201, 201, 201]
    shown = http.get(f"/orders/{order['orderId']}", token=admin).body
    assert shown["amountRefunded"] == "21.00"
    assert sorted(r["amount"] for r in shown["refunds"]) == ["1.00", "10.00", "10.00"]


def test_a_refund_emails_the_buyer_once(stack, http, admin, buyer):
    order = confirmed(http, admin, buyer)
    subject = f"We refunded {in_email('5.00')} for your order {order['orderId'][:8]}…"

    assert refund(http, admin, order, "5.00", "email-1").status == 201
    assert refund(http, admin, order, "5.00", "email-1").status == 201  # the same refund

    [email] = eventually(lambda: emails_to(stack, buyer["email"], subject))
    assert order["orderId"] in email["text"] and "Reason:    damaged" in email["text"]
    status, shown = http.get(f"/orders/{order['orderId']}", token=buyer["token"])
    assert status == 200 and shown["amountRefunded"] == "5.00"
    assert [r["status"] for r in shown["refunds"]] == ["succeeded"]
    assert len(emails_to(stack, buyer["email"], subject)) == 1


def test_a_return_is_asked_approved_received_refunded_and_emailed(stack, http, admin, buyer):
    order = confirmed(http, admin, buyer, price=8, quantity=3)  # 24.00
    path = f"/orders/{order['orderId']}"
    product = order["product"]
    for step in ("ship", "deliver"):
        status, body = http.post(f"{path}/{step}", token=admin)
        assert status == 200, body
    short = order["orderId"][:8]

    status, body = http.post(
        f"{path}/returns",
        {"lines": [line(product, 2)], "reason": "Too heavy"},
        token=buyer["token"],
    )
    assert (status, body["status"]) == (201, "RETURN_REQUESTED"), body
    approve = {"lines": [{"productId": product["productId"], "restock": True}]}
    status, body = http.post(f"{path}/returns/approve", approve, token=admin)
    assert (status, body["status"]) == (200, "RETURN_APPROVED"), body
    approved = f"Your return for order {short}… is approved — {in_email('24.00')}"
    assert eventually(lambda: emails_to(stack, buyer["email"], approved))
    status, body = http.post(f"{path}/returns/receive", token=admin)

    assert (status, body["status"]) == (200, "RETURNED"), body
    assert [(r["amount"], r["reason"]) for r in body["refunds"]] == [("16.00", "return")]
    assert http.stock_of(product) == 9  # 10 - 3 sold + 2 back
    for subject in (
        f"Your return for order {short}… arrived — {in_email('24.00')}",
        f"We refunded {in_email('16.00')} for your order {short}…",
    ):
        assert len(eventually(lambda s=subject: emails_to(stack, buyer["email"], s))) == 1
