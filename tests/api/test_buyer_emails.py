"""Buyer emails through SES (moto's): one per event of an order, whatever SNS does."""

from __future__ import annotations

import dataclasses
import json
import logging

import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from chalicelib import mailer, order_lifecycle, subscriber
from chalicelib.config import get_settings
from chalicelib.models import Order
from chalicelib.order_lifecycle import (
    ORDER_CANCELLED,
    ORDER_EXPIRED,
    ORDER_PAID,
    ORDER_PLACED,
    PENDING,
)
from tests.api.conftest import SENDER, ses_outbox, verify
from tests.factories import DELIVERY, line, stored

ACCOUNT_SUBJECTS = ("Confirm your email address", "Reset your password")


def outbox() -> list[dict]:
    """The order emails SES sent (account emails, such as the verification, left out)."""
    return [m for m in ses_outbox() if m["subject"] not in ACCOUNT_SUBJECTS]


@pytest.fixture
def customer(api, customer):
    """The buyer, with a verified address: only verified addresses get order emails."""
    verify(api, customer)
    return customer


@pytest.fixture
def order(api, admin, customer) -> dict:
    product = api.create_product(admin, name="Teapot", price="12.5", stock=10)
    return api.place_order(customer, line(product, 2))


def event(event_type: str, order: dict) -> str:
    fields = ("orderId", "userId", "total", "items", "createdAt")
    return json.dumps({"type": event_type, **{f: order[f] for f in fields}})


def cancelled(api, customer, order: dict) -> dict:
    reply = api.post(f"/orders/{order['orderId']}/cancel", token=customer.token)
    assert reply.status == 200, reply.body
    return reply.body


class SesOutage:
    """Makes the next ``n`` SendEmail calls fail with ``code`` before reaching moto."""

    def __init__(self, monkeypatch, code: str, n: int = 1) -> None:
        self.left = n
        original = BaseClient._make_api_call

        def call(client, operation, params):
            if operation == "SendEmail" and self.left > 0:
                self.left -= 1
                raise ClientError({"Error": {"Code": code, "Message": "x"}}, operation)
            return original(client, operation, params)

        monkeypatch.setattr(BaseClient, "_make_api_call", call)


def test_a_confirmed_order_emails_its_buyer(sender, order, customer):
    assert subscriber.handle_message(event(ORDER_PLACED, order)) == "confirmed"

    [sent] = outbox()
    assert sent["to"] == [customer.email]
    assert sent["subject"] == f"Your order {order['orderId'][:8]}… is confirmed — 25.00 USD"
    assert sent["text"].startswith("Hello,\n\n")  # never the name the buyer typed
    assert "    2  Teapot   12.50 USD   25.00 USD" in sent["text"]
    assert stored(order["orderId"]).emailed == {ORDER_PLACED}


def test_a_cancelled_order_emails_its_buyer_again(api, sender, order, customer):
    subscriber.handle_message(event(ORDER_PLACED, order))
    view = cancelled(api, customer, order)

    assert subscriber.handle_message(event(ORDER_CANCELLED, view)) == "acknowledged"

    assert [m["subject"].split(" — ")[0] for m in outbox()] == [
        f"Your order {order['orderId'][:8]}… is confirmed",
        f"Your order {order['orderId'][:8]}… is cancelled",
    ]
    assert stored(order["orderId"]).emailed == {ORDER_PLACED, ORDER_CANCELLED}


def takes_payments(monkeypatch) -> None:
    """The subscriber of a stage with a payment provider (it then knows OrderPaid/OrderExpired)."""
    settings = dataclasses.replace(get_settings(), payment_provider="stripe")
    monkeypatch.setattr(order_lifecycle, "get_settings", lambda: settings)
    monkeypatch.setattr(subscriber, "get_settings", lambda: settings)


@pytest.mark.parametrize(
    ("event_type", "status", "subject"),
    [
        (ORDER_PAID, "CONFIRMED", "Your payment for order {short}… was received"),
        (ORDER_EXPIRED, "EXPIRED", "Your order {short}… expired"),
        (ORDER_CANCELLED, "CANCELLED", "Your order {short}… is cancelled"),  # payment failed
    ],
)
def test_the_outcome_of_a_payment_emails_the_buyer(
    monkeypatch, sender, order, customer, event_type, status, subject
):
    takes_payments(monkeypatch)
    # As the webhook or the expiry leaves it: moved out of AWAITING_PAYMENT, event pending.
    Order(order["orderId"]).update(
        actions=[Order.status.set(status), Order.pending_event.set(event_type)]
    )

    assert subscriber.handle_message(event(event_type, order)) == "acknowledged"
    assert subscriber.handle_message(event(event_type, order)) == "ignored"

    [sent] = outbox()
    assert sent["to"] == [customer.email]
    assert sent["subject"] == subject.format(short=order["orderId"][:8]) + " — 25.00 USD"
    assert sent["text"].startswith("Hello,\n\n")  # never the name the buyer typed
    assert stored(order["orderId"]).emailed == {event_type}


@pytest.mark.parametrize("event_type", sorted(order_lifecycle.BUYER_EMAIL_STATUS))
def test_duplicate_deliveries_send_one_email(api, monkeypatch, sender, order, customer, event_type):
    if event_type in order_lifecycle.PAYMENT_EVENT_TYPES:
        takes_payments(monkeypatch)
    if event_type != ORDER_PLACED:
        # The order as it is when its event goes out: in the new status, event pending.
        Order(order["orderId"]).update(
            actions=[
                Order.status.set(order_lifecycle.BUYER_EMAIL_STATUS[event_type]),
                Order.pending_event.set(event_type),
            ]
        )
    message = event(event_type, order)

    outcomes = [subscriber.handle_message(message) for _ in range(3)]

    assert outcomes[1:] == ["ignored", "ignored"]
    assert len(outbox()) == 1
    assert stored(order["orderId"]).status == order_lifecycle.BUYER_EMAIL_STATUS[event_type]


@pytest.mark.parametrize("code", ["Throttling", "ServiceUnavailable"])
def test_a_failed_send_is_retried_by_the_next_delivery(monkeypatch, sender, order, code):
    SesOutage(monkeypatch, code)

    with pytest.raises(mailer.EmailNotSent):
        subscriber.handle_message(event(ORDER_PLACED, order))
    after_failure = stored(order["orderId"])
    assert after_failure.status == "CONFIRMED"  # the order is confirmed all the same
    assert not after_failure.emailed  # ... and its email is due again
    assert outbox() == []

    assert subscriber.handle_message(event(ORDER_PLACED, order)) == "emailed"
    assert subscriber.handle_message(event(ORDER_PLACED, order)) == "ignored"
    assert len(outbox()) == 1


def test_a_permanent_refusal_is_not_retried(monkeypatch, sender, order, caplog):
    SesOutage(monkeypatch, "MessageRejected")

    assert subscriber.handle_message(event(ORDER_PLACED, order)) == "confirmed"
    assert subscriber.handle_message(event(ORDER_PLACED, order)) == "ignored"

    assert outbox() == []
    assert stored(order["orderId"]).emailed == {ORDER_PLACED}
    assert "MessageRejected" in caplog.text


def test_a_later_event_stops_an_earlier_retried_email(api, monkeypatch, sender, order, customer):
    SesOutage(monkeypatch, "Throttling")
    with pytest.raises(mailer.EmailNotSent):
        subscriber.handle_message(event(ORDER_PLACED, order))
    cancelled(api, customer, order)

    # The retried "confirmed" delivery arrives after the cancellation: no confirmation.
    assert subscriber.handle_message(event(ORDER_PLACED, order)) == "ignored"
    assert outbox() == []


def test_a_deleted_buyer_gets_nothing(api, sender, order, customer):
    assert api.delete(f"/users/{customer.user_id}", token=customer.token).status == 204

    assert subscriber.handle_message(event(ORDER_PLACED, order)) == "confirmed"

    assert outbox() == []
    assert stored(order["orderId"]).status == "CONFIRMED"


def test_no_address_or_body_reaches_a_log(api, monkeypatch, sender, order, customer, caplog):
    caplog.set_level(logging.DEBUG)
    subscriber.handle_message(event(ORDER_PLACED, order))
    SesOutage(monkeypatch, "Throttling")
    view = cancelled(api, customer, order)
    with pytest.raises(mailer.EmailNotSent) as failure:
        subscriber.handle_message(event(ORDER_CANCELLED, view))

    [sent] = outbox()
    logged = caplog.text + str(failure.value)
    assert order["orderId"] in caplog.text  # the log does say which order
    assert customer.email not in logged and SENDER not in logged
    assert sent["subject"] not in logged
    assert "Teapot" not in logged


def test_with_no_sender_there_is_no_email_and_no_extra_call(
    monkeypatch, aws, order, aws_calls, caplog
):
    caplog.set_level(logging.INFO)
    monkeypatch.setattr(mailer, "get_settings", lambda: get_settings())
    assert get_settings().email_sender is None
    mailer._log_disabled_once.cache_clear()
    aws_calls.clear()

    assert subscriber.handle_message(event(ORDER_PLACED, order)) == "confirmed"
    assert subscriber.handle_message(event(ORDER_PLACED, order)) == "ignored"

    assert aws_calls.operations() == ["UpdateItem", "UpdateItem"]  # as before buyer emails
    assert caplog.text.count("buyer emails are off") == 1
    assert stored(order["orderId"]).emailed is None


def test_the_email_adds_one_read_and_one_send_to_the_delivery(sender, order, aws_calls):
    aws_calls.clear()

    subscriber.handle_message(event(ORDER_PLACED, order))

    assert aws_calls.operations() == ["UpdateItem", "GetItem", "SendEmail"]
    assert stored(order["orderId"]).status != PENDING


SPOOF = "Your account is suspended, log in at http://evil.example/login"


def test_an_unverified_address_gets_no_order_email(api, sender, admin):
    """Issue #23 item 7: the attack run's email to an address nobody verified."""
    victim = api.register("someone@victim.example", name=SPOOF)
    product = api.create_product(admin, name="Teapot", price="12.5", stock=10)
    body = {"items": [{"productId": product["productId"], "quantity": 1}], **DELIVERY}
    placed = api.post("/orders", body, token=victim.token).body
    subscriber.handle_message(event(ORDER_PLACED, placed))
    view = cancelled(api, victim, placed)
    subscriber.handle_message(event(ORDER_CANCELLED, view))

    assert outbox() == []
    # Only the verification email went out, in the shop's words alone.
    [verification] = ses_outbox()
    assert verification["subject"] == "Confirm your email address"
    assert SPOOF not in verification["text"] and "evil.example" not in verification["text"]


def test_a_verified_buyer_never_reads_their_name_as_the_shops_words(api, sender, admin):
    buyer = api.register(name=SPOOF)
    verify(api, buyer)
    product = api.create_product(admin, name="Teapot", price="12.5", stock=10)
    body = {"items": [{"productId": product["productId"], "quantity": 1}], **DELIVERY}
    placed = api.post("/orders", body, token=buyer.token).body
    subscriber.handle_message(event(ORDER_PLACED, placed))

    [sent] = outbox()
    assert sent["to"] == [buyer.email]
    assert SPOOF not in sent["text"] and "evil.example" not in sent["text"]
    assert sent["text"].startswith("Hello,\n\n")
