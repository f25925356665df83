"""Payment paths through the app with a fake provider in Stripe's place (no HTTP).

The signature check is the real one (StripeProvider.verify_webhook); only the calls that
would reach Stripe's API are recorded instead. tests/e2e/test_payments_e2e.py runs the
same flows against localstripe over real HTTP.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from chalicelib import payment_flow, payments, web
from chalicelib.config import get_settings
from chalicelib.models import Order
from tests.factories import line, payment_intent_event, stripe_signed

SECRET = "whsec_api_tests"


class RecordingStripe(payments.StripeProvider):
    def __init__(self) -> None:
        super().__init__("sk_test_unused", SECRET)
        self.calls: list[tuple[str, str]] = []

    def create_intent(self, order_id: str, user_id: str, amount: Decimal) -> payments.Intent:
        self.calls.append(("create", order_id))
        return payments.Intent(f"pi_{order_id[:8]}", f"pi_{order_id[:8]}_secret_s")

    def cancel_intent(self, intent_id: str) -> bool:
        self.calls.append(("cancel", intent_id))
        return True

    def refund_intent(self, intent_id: str, order_id: str) -> None:
        self.calls.append(("refund", intent_id))


@pytest.fixture
def stripe(monkeypatch) -> RecordingStripe:
    fake = RecordingStripe()
    monkeypatch.setattr(payments, "provider", lambda: fake)
    return fake


def signed_event(event_type: str, order: dict[str, Any]) -> tuple[bytes, str]:
    return stripe_signed(payment_intent_event(event_type, order), SECRET)


def webhook(api, event_type: str, order: dict[str, Any]) -> Any:
    payload, signature = signed_event(event_type, order)
    return api.request(
        "POST", "/payments/webhook", raw=payload, headers={"Stripe-Signature": signature}
    )


@pytest.fixture
def ticket(api, admin) -> dict[str, Any]:
    body = {"name": "Ticket", "price": "4.50", "stock": 3}
    reply = api.post("/products", body, token=admin.token)
    assert reply.status == 201, reply.body
    return dict(reply.body)


def test_without_a_provider_the_webhook_is_a_404_and_orders_are_pending(api, customer, ticket):
    reply = api.request("POST", "/payments/webhook", raw="{}", headers={"Stripe-Signature": "x"})

    assert reply.status == 404
    assert api.place_order(customer, line(ticket))["status"] == "PENDING"


def test_a_payment_after_expiry_is_refunded_logged_and_counted(
    api, customer, ticket, stripe, capsys
):
    order = api.place_order(customer, line(ticket, 2))
    assert order["status"] == "AWAITING_PAYMENT"
    later = datetime.now(UTC) + timedelta(seconds=901)

    assert payment_flow.expire_unpaid(now=later) == 1
    assert api.stock_of(ticket["productId"]) == 3
    capsys.readouterr()
    reply = webhook(api, "payment_intent.succeeded", order)

    assert reply.status == 200 and reply.body == {"result": "refunded"}
    assert ("refund", order["payment"]["paymentIntentId"]) in stripe.calls
    out = capsys.readouterr().out
    assert "LatePayments" in out and "PaymentsRefunded" in out
    assert api.get(f"/orders/{order['orderId']}", token=customer.token).body["status"] == "EXPIRED"
    assert api.stock_of(ticket["productId"]) == 3


def test_expiry_only_touches_overdue_orders_through_the_index(api, customer, ticket, stripe):
    order = api.place_order(customer, line(ticket))

    assert payment_flow.expire_unpaid(now=datetime.now(UTC)) == 0
    stored = Order.get(order["orderId"])
    assert stored.status == "AWAITING_PAYMENT" and stored.awaiting_shard
    assert payment_flow.expire_unpaid(now=datetime.now(UTC) + timedelta(hours=1)) == 1
    stored = Order.get(order["orderId"])
    assert stored.status == "EXPIRED" and stored.awaiting_shard is None  # out of the index
    assert ("cancel", order["payment"]["paymentIntentId"]) in stripe.calls
    assert payment_flow.expire_unpaid(now=datetime.now(UTC) + timedelta(hours=2)) == 0


def test_cancelling_a_paid_order_refunds_it(api, customer, ticket, stripe):
    order = api.place_order(customer, line(ticket))
    assert webhook(api, "payment_intent.succeeded", order).body == {"result": "confirmed"}

    reply = api.post(f"/orders/{order['orderId']}/cancel", token=customer.token)

    assert reply.status == 200 and reply.body["status"] == "CANCELLED"
    assert ("refund", order["payment"]["paymentIntentId"]) in stripe.calls
    assert api.stock_of(ticket["productId"]) == 3


def test_a_failed_transaction_cancels_the_unused_intent(api, customer, ticket, stripe):
    body = {"items": [{"productId": ticket["productId"], "quantity": 4}]}

    reply = api.post("/orders", body, token=customer.token)

    assert reply.status == 409
    [(_, order_id)] = [c for c in stripe.calls if c[0] == "create"]
    assert ("cancel", f"pi_{order_id[:8]}") in stripe.calls


def test_a_checkout_waits_for_payment_like_an_order(api, customer, ticket, stripe):
    line = api.put(f"/cart/items/{ticket['productId']}", {"quantity": 2}, token=customer.token)
    assert line.status == 200, line.body

    reply = api.post("/cart/checkout", token=customer.token)

    assert reply.status == 201, reply.body
    assert reply.body["status"] == "AWAITING_PAYMENT"
    assert reply.body["payment"]["paymentIntentId"] == f"pi_{reply.body['orderId'][:8]}"
    assert api.stock_of(ticket["productId"]) == 1
    assert payment_flow.expire_unpaid(now=datetime.now(UTC) + timedelta(hours=1)) == 1
    assert api.stock_of(ticket["productId"]) == 3


@pytest.fixture
def stripe_stage(monkeypatch, stripe) -> Iterator[None]:
    """Settings of a stage that takes payments through Stripe, with a test publishable key."""
    monkeypatch.setenv("PAYMENT_PROVIDER", "stripe")
    monkeypatch.setenv("STRIPE_API_KEY", "sk_test_never_shown")
    monkeypatch.setenv("STRIPE_PUBLISHABLE_KEY", "pk_test_shown")
    get_settings.cache_clear()
    web.content_security_policy.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()
    web.content_security_policy.cache_clear()


def test_an_order_awaiting_payment_gives_the_browser_the_public_key_only(
    api, customer, ticket, stripe_stage
):
    order = api.place_order(customer, line(ticket))

    payment = order["payment"]
    assert payment["publishableKey"] == "pk_test_shown"
    assert payment["apiBase"] == "https://api.stripe.com"
    assert payment["clientSecret"].startswith(payment["paymentIntentId"])
    listed = api.get("/orders", token=customer.token).body["items"][0]["payment"]
    assert listed == payment  # the page's list has what it needs to pay
    assert "sk_test" not in json.dumps(order) and "sk_test" not in json.dumps(listed)
    # Settled: nothing left to confirm with.
    assert payment_flow.expire_unpaid(now=datetime.now(UTC) + timedelta(hours=1)) == 1
    expired = api.get(f"/orders/{order['orderId']}", token=customer.token).body["payment"]
    assert set(expired) == {"provider", "paymentIntentId", "expiresAt"}


def test_the_page_may_call_stripe_only_on_a_stage_that_takes_payments(api, monkeypatch):
    def connect_sources() -> str:
        web.content_security_policy.cache_clear()
        policy = api.get("/web/app.js").headers["Content-Security-Policy"]
        return next(p for p in policy.split("; ") if p.startswith("connect-src"))

    assert connect_sources() == "connect-src 'self'"
    monkeypatch.setenv("PAYMENT_PROVIDER", "stripe")
    monkeypatch.setenv("STRIPE_API_BASE", "http://127.0.0.1:8420")
    get_settings.cache_clear()
    try:
        assert connect_sources() == "connect-src 'self' http://127.0.0.1:8420"
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
        web.content_security_policy.cache_clear()


def test_a_replay_shows_the_client_secret_only_while_the_order_awaits_payment(
    api, stripe, customer, ticket
):
    body = {"items": [{"productId": ticket["productId"], "quantity": 1}]}
    headers = {"Idempotency-Key": "pay-once"}
    first = api.post("/orders", body, token=customer.token, headers=headers).body
    assert first["status"] == "AWAITING_PAYMENT" and first["payment"]["clientSecret"]

    waiting = api.post("/orders", body, token=customer.token, headers=headers)
    assert waiting.headers["Idempotent-Replayed"] == "true"
    assert waiting.body["payment"]["clientSecret"] == first["payment"]["clientSecret"]

    assert api.post(f"/orders/{first['orderId']}/cancel", token=customer.token).status == 200
    replay = api.post("/orders", body, token=customer.token, headers=headers)

    assert replay.status == 201 and replay.headers["Idempotent-Replayed"] == "true"
    assert replay.body["status"] == "CANCELLED"
    assert "clientSecret" not in replay.body["payment"]
    assert first["payment"]["clientSecret"] not in json.dumps(replay.body)


def test_a_stale_expected_total_creates_no_payment_intent(api, admin, stripe, customer, ticket):
    body = {"items": [{"productId": ticket["productId"], "quantity": 1}], "expectedTotal": "4.00"}

    reply = api.post("/orders", body, token=customer.token)

    assert reply.status == 409 and reply.body["code"] == "PriceChanged", reply.body
    assert reply.body["total"] == "4.50"
    assert stripe.calls == []
