"""Refunds by staff (chalicelib/refunds.py): the limit, idempotency, the provider, the email."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from chalicelib import orders, payments, publisher, refunds, subscriber
from chalicelib.auth import Principal
from chalicelib.errors import InvalidTransition, RefundExceedsPaid, ServiceBusy
from chalicelib.models import Order
from chalicelib.notifications import money as in_email
from chalicelib.order_lifecycle import ORDER_REFUNDED
from tests.api.conftest import verify
from tests.api.test_buyer_emails import outbox
from tests.api.test_payments import RecordingStripe, webhook
from tests.api.test_products import assert_error
from tests.factories import line, stored


class RefundingStripe(RecordingStripe):
    """The recording fake, refunding as Stripe does: the same key, the same refund."""

    def __init__(self) -> None:
        super().__init__()
        self.refunds: dict[str, tuple[str, Decimal]] = {}
        self.outcome: Exception | None = None

    def refund(self, intent_id: str, refund_id: str, amount: Decimal) -> str:
        self.calls.append(("partial refund", refund_id))
        if self.outcome is not None:
            raise self.outcome
        self.refunds.setdefault(refund_id, (intent_id, amount))
        return "re_" + refund_id[-8:]


@pytest.fixture
def confirmed(api, admin, customer) -> dict[str, Any]:
    """A CONFIRMED order of 25.00 on a stage without a payment provider."""
    product = api.create_product(admin, name="Teapot", price=12.5, stock=10)
    order = api.place_order(customer, line(product, 2))
    raw = json.dumps({"type": "OrderPlaced", "orderId": order["orderId"]})
    assert subscriber.handle_message(raw) == "confirmed"
    return order


def refund(api, admin, order, amount: str, key: str = "k1", **fields: Any) -> Any:
    body = {"amount": amount, "reason": "damaged", **fields}
    return api.post(
        f"/orders/{order['orderId']}/refunds",
        body,
        token=admin.token,
        headers={"Idempotency-Key": key},
    )


def test_a_bookkeeping_refund_is_recorded_shown_and_announced(api, admin, confirmed, aws_calls):
    aws_calls.clear()
    product_id = confirmed["items"][0]["productId"]
    lines = [{"productId": product_id, "quantity": 1}, {"productId": product_id, "quantity": 1}]
    reply = refund(api, admin, confirmed, "5", note="cracked lid", lines=lines)

    assert reply.status == 201, reply.body
    # The caller and the order in one read, then the conditional transaction.
    assert aws_calls.dynamodb() == ["BatchGetItem", "TransactWriteItems"]
    assert reply.body["amountRefunded"] == "5.00"
    [shown] = reply.body["refunds"]
    assert shown["amount"] == "5.00" and shown["status"] == "succeeded"
    assert shown["reason"] == "damaged" and shown["note"] == "cracked lid"
    assert shown["by"] == admin.user_id and "providerRefundId" not in shown
    assert shown["lines"] == [{"productId": product_id, "quantity": 2}]  # merged
    assert stored(confirmed["orderId"]).pending_event_type == ORDER_REFUNDED
    assert reply.body["status"] == "CONFIRMED"  # a refund changes no status


def test_the_same_key_refunds_once_and_another_body_with_it_is_a_422(api, admin, confirmed):
    first = refund(api, admin, confirmed, "5.00")
    again = refund(api, admin, confirmed, "5.00")

    assert (first.status, again.status) == (201, 201)
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert len(again.body["refunds"]) == 1 and again.body["amountRefunded"] == "5.00"
    assert_error(refund(api, admin, confirmed, "6.00"), 422, "IdempotencyKeyReused")
    assert refund(api, admin, confirmed, "5.00", key="k2").body["amountRefunded"] == "10.00"


def test_a_refund_never_exceeds_what_is_left(api, admin, confirmed):
    assert refund(api, admin, confirmed, "20.00", key="a").status == 201

    reply = refund(api, admin, confirmed, "5.01", key="b")

    assert_error(reply, 409, "RefundExceedsPaid", "5.00")
    assert reply.body["refundable"] == "5.00"
    assert refund(api, admin, confirmed, "5.00", key="c").body["amountRefunded"] == "25.00"
    assert stored(confirmed["orderId"]).amount_refunded == Decimal("25.00")


def test_two_refunds_read_together_that_exceed_the_total_one_gets_409(admin, confirmed):
    """Both read the order before either wrote: the second's condition fails, it reads the
    order again and is checked against what the first refunded."""
    stale = Order.get(confirmed["orderId"])
    principal = Principal(admin.user_id, "admin", 0)
    body = {"amount": "15.00", "reason": "other"}

    refunds.refund_order(principal, Order.get(confirmed["orderId"]), "x", body, "first")
    with pytest.raises(RefundExceedsPaid):
        refunds.refund_order(principal, stale, "x", body, "second")

    order = stored(confirmed["orderId"])
    assert order.amount_refunded == Decimal("15.00") and len(order.refunds) == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"amount": "0", "reason": "damaged"}, "amount"),
        ({"amount": "1.001", "reason": "damaged"}, "amount"),
        ({"amount": 5, "reason": "damaged"}, "amount"),
        ({"amount": "5", "reason": "because"}, "reason"),
        ({"amount": "5", "reason": "other", "lines": [{"productId": "nope", "quantity": 1}]}, None),
        ({"amount": "5", "reason": "other", "note": "x" * 501}, "note"),
    ],
)
def test_bad_refunds_are_400_and_write_nothing(api, admin, confirmed, body, field):
    reply = api.post(
        f"/orders/{confirmed['orderId']}/refunds",
        body,
        token=admin.token,
        headers={"Idempotency-Key": "bad"},
    )

    assert_error(reply, 400, "ValidationError")
    assert stored(confirmed["orderId"]).refunds is None


def test_a_refund_needs_a_key_an_admin_and_a_paid_order(api, admin, customer, confirmed):
    path = f"/orders/{confirmed['orderId']}/refunds"
    body = {"amount": "1.00", "reason": "other"}
    assert_error(api.post(path, body, token=admin.token), 400, "ValidationError", "Idempotency")
    assert_error(api.post(path, body, token=customer.token, headers={"Idempotency-Key": "k"}), 403)
    assert_error(
        api.post("/orders/none/refunds", body, token=admin.token, headers={"Idempotency-Key": "k"}),
        404,
    )
    product = api.create_product(admin, price=3, stock=1)
    pending = api.place_order(customer, line(product))  # never confirmed
    assert_error(refund(api, admin, pending, "1.00"), 409, "InvalidTransition", "PENDING")


# --- with a payment provider -------------------------------------------------


@pytest.fixture
def stripe(monkeypatch) -> RefundingStripe:
    fake = RefundingStripe()
    monkeypatch.setattr(payments, "provider", lambda: fake)
    return fake


@pytest.fixture
def paid(api, admin, customer, stripe) -> dict[str, Any]:
    product = api.create_product(admin, name="Kettle", price=12.5, stock=10)
    order = api.place_order(customer, line(product, 2))
    assert webhook(api, "payment_intent.succeeded", order).body == {"result": "confirmed"}
    return order


def test_a_refund_goes_through_the_provider_once_per_key(api, admin, paid, stripe, aws_calls):
    aws_calls.clear()
    reply = refund(api, admin, paid, "7.50")

    assert reply.status == 201, reply.body
    # Recorded pending, refunded at the provider, then marked succeeded (and announced).
    assert aws_calls.dynamodb() == ["BatchGetItem", "TransactWriteItems", "UpdateItem"]
    [shown] = reply.body["refunds"]
    assert shown["status"] == "succeeded"
    assert stripe.refunds == {
        shown["refundId"]: (paid["payment"]["paymentIntentId"], Decimal("7.50"))
    }
    assert shown["providerRefundId"] == "re_" + shown["refundId"][-8:]
    assert stored(paid["orderId"]).pending_event_type == ORDER_REFUNDED
    assert refund(api, admin, paid, "7.50").status == 201
    assert [c for c in stripe.calls if c[0] == "partial refund"] == [
        ("partial refund", shown["refundId"])
    ]


def test_a_refused_refund_gives_its_amount_back(api, admin, paid, stripe):
    stripe.outcome = payments.RefundRefused("charge already refunded")

    reply = refund(api, admin, paid, "7.50")

    assert_error(reply, 409, "RefundDeclined")
    order = stored(paid["orderId"])
    assert [r.status for r in order.refunds] == ["failed"]
    assert order.amount_refunded == Decimal("0.00")
    assert order.pending_event_type != ORDER_REFUNDED  # nothing to tell the buyer


def test_a_busy_provider_leaves_the_refund_pending_and_the_retry_finishes_it(
    api, admin, paid, stripe
):
    stripe.outcome = ServiceBusy("the payment provider is busy; please retry")

    assert_error(refund(api, admin, paid, "25.00"), 503)
    order = stored(paid["orderId"])
    assert [r.status for r in order.refunds] == ["pending"]
    assert order.amount_refunded == Decimal("25.00")  # held: nothing else can refund it
    assert_error(refund(api, admin, paid, "0.01", key="other"), 409, "RefundExceedsPaid")

    stripe.outcome = None
    retried = refund(api, admin, paid, "25.00")

    assert retried.status == 201 and retried.body["refunds"][0]["status"] == "succeeded"
    assert retried.body["amountRefunded"] == "25.00"
    assert len(stripe.refunds) == 1


# --- the buyer's email ---------------------------------------------------------


def test_each_refund_emails_the_buyer_once(api, admin, customer, confirmed, sender):
    verify(api, customer)
    refund(api, admin, confirmed, "5.00", key="a")
    refund(api, admin, confirmed, "2.50", key="b")
    new = Order.get(confirmed["orderId"]).serialize()
    old = {k: v for k, v in new.items() if k != "eventAt"}
    # The stream announces the notice; both refunds were written before any delivery.
    event = publisher.announced_event("MODIFY", old, new)
    assert event is not None
    event_type, order = event
    assert publisher.announced_event("MODIFY", new, new) is None  # e.g. the acknowledgment
    message = json.dumps(publisher.event_message(event_type, order), default=str)

    assert subscriber.handle_message(message) == "acknowledged"
    assert subscriber.handle_message(message) == "ignored"  # a second delivery

    subjects = sorted(m["subject"] for m in outbox())
    short = confirmed["orderId"][:8]
    assert subjects == [
        f"We refunded {in_email('2.50')} for your order {short}…",
        f"We refunded {in_email('5.00')} for your order {short}…",
    ]
    assert all(r.emailed for r in stored(confirmed["orderId"]).refunds)


def test_a_partly_refunded_order_cannot_be_cancelled_and_a_refund_first_wins(
    api, admin, customer, confirmed
):
    """Cancelling refunds the whole payment: after a partial refund, the rest goes through
    the refund route so amountRefunded stays exact. A refund landing between a cancel's read
    and its write makes the cancel lose (409), and stock stays sold."""
    read_before = stored(confirmed["orderId"])  # the cancel's read, before the refund lands
    assert refund(api, admin, confirmed, "5.00").status == 201

    reply = api.post(f"/orders/{confirmed['orderId']}/cancel", token=customer.token)
    assert (reply.status, reply.body["code"]) == (409, "InvalidTransition"), reply.body
    assert "refund the rest" in reply.body["error"]

    principal = Principal(customer.user_id, "customer", 0)
    with pytest.raises(InvalidTransition):
        orders.cancel_order(principal, read_before, confirmed["orderId"])
    after = stored(confirmed["orderId"])
    assert after.status == "CONFIRMED" and after.amount_refunded == Decimal("5.00")
