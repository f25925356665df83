"""Amounts the payment provider refuses or did not get (issue #23 items 2 and 4).

Item 2, before: a total Stripe refuses (0, under 0.50 or over 999999.99 USD) reached
``PaymentIntent.create`` and came back as a 500. After: a 400 naming the limit, before
any intent or write. Item 4, before: ``payment_intent.succeeded`` confirmed the order
whatever amount was received. After: a mismatch never confirms; it refunds and counts
``PaymentAmountMismatches``.
"""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest

from chalicelib import money, payments
from chalicelib.errors import ValidationError
from chalicelib.models import Order
from tests.api.test_payments import SECRET, RecordingStripe
from tests.factories import line, payment_intent_event, stripe_signed


@pytest.fixture
def stripe(monkeypatch) -> RecordingStripe:
    """Stripe's place taken by tests/api/test_payments.py's recorder."""
    fake = RecordingStripe()
    monkeypatch.setattr(payments, "provider", lambda: fake)
    return fake


def _product(api, admin, price: str, stock: int = 5) -> dict[str, Any]:
    reply = api.post(
        "/products", {"name": "Thing", "price": price, "stock": stock}, token=admin.token
    )
    assert reply.status == 201, reply.body
    return dict(reply.body)


def _order(api, customer, product: dict[str, Any], quantity: int = 1) -> Any:
    body = {"items": [{"productId": product["productId"], "quantity": quantity}]}
    return api.post("/orders", body, token=customer.token)


def _nothing_written(api, customer, stripe, product: dict[str, Any]) -> None:
    assert stripe.calls == []  # no PaymentIntent
    assert api.stock_of(product) == product["stock"]
    assert api.get("/orders", token=customer.token).body["items"] == []


def _refused(reply: Any, mentions: str) -> None:
    assert reply.status == 400, reply.body
    assert reply.body["code"] == "ValidationError"
    assert reply.body["field"] == "total"
    assert mentions in reply.body["error"], reply.body


# --- item 2: totals the provider refuses ---------------------------------------------------


@pytest.mark.parametrize(("price", "quantity"), [("0", 1), ("0.49", 1), ("0.10", 4)])
def test_a_total_below_the_minimum_is_refused_naming_it(
    api, admin, customer, stripe, price, quantity
):
    product = _product(api, admin, price)
    _refused(_order(api, customer, product, quantity), "0.50 USD")
    _nothing_written(api, customer, stripe, product)


def test_a_total_above_the_maximum_is_refused_naming_it(api, admin, customer, stripe):
    product = _product(api, admin, "500000")
    _refused(_order(api, customer, product, 2), "above 999999.99 USD")
    _nothing_written(api, customer, stripe, product)


def test_totals_at_the_limits_are_charged(api, admin, customer, stripe):
    for price in ("0.50", "999999.99"):
        reply = _order(api, customer, _product(api, admin, price))
        assert reply.status == 201, reply.body
        assert reply.body["status"] == "AWAITING_PAYMENT"
    assert [call for call, _ in stripe.calls] == ["create", "create"]


def test_a_cart_checkout_with_a_refused_total_keeps_the_cart(api, admin, customer, stripe):
    product = _product(api, admin, "0")
    line = api.put(f"/cart/items/{product['productId']}", {"quantity": 3}, token=customer.token)
    assert line.status == 200, line.body

    _refused(api.post("/cart/checkout", token=customer.token), "0.50 USD")

    _nothing_written(api, customer, stripe, product)
    assert api.get("/cart", token=customer.token).body["items"][0]["quantity"] == 3


def test_without_a_provider_a_free_order_is_placed(api, admin, customer):
    reply = _order(api, customer, _product(api, admin, "0"))
    assert reply.status == 201, reply.body
    assert reply.body["status"] == "PENDING"


# --- item 4: the webhook's amount ----------------------------------------------------------


def _succeeded(api, order: dict[str, Any], **object_fields: Any) -> Any:
    event = payment_intent_event("payment_intent.succeeded", order)
    event["data"]["object"].update(object_fields)
    payload, signature = stripe_signed(event, SECRET)
    return api.request(
        "POST", "/payments/webhook", raw=payload, headers={"Stripe-Signature": signature}
    )


@pytest.mark.parametrize(
    "paid",
    [
        {"amount_received": 1},  # the attack: the intent's amount changed to 1 cent
        {"amount_received": 100_001},  # a cent too much
        {"currency": "eur"},
        {"amount_received": None},
        {"amount_received": "100000"},
        {"amount_received": True},
    ],
    ids=["one-cent", "one-cent-more", "other-currency", "no-amount", "string", "bool"],
)
def test_a_payment_of_another_amount_is_refunded_never_confirmed(
    api,
    admin,
    customer,
    stripe,
    capsys,
    paid,
):
    product = _product(api, admin, "1000", stock=1)
    order = api.place_order(customer, line(product))
    assert order["total"] == "1000.00"
    capsys.readouterr()

    reply = _succeeded(api, order, **paid)

    assert reply.status == 200 and reply.body == {"result": "refunded"}, reply.body
    assert ("refund", order["payment"]["paymentIntentId"]) in stripe.calls
    stored = Order.get(order["orderId"])
    assert stored.status == "AWAITING_PAYMENT"  # never CONFIRMED; the sweep expires it
    assert api.stock_of(product) == 0
    out = capsys.readouterr().out
    assert "PaymentAmountMismatches" in out and "PaymentsRefunded" in out
    # A redelivery refunds again (idempotent at Stripe) and still never confirms.
    assert _succeeded(api, order, **paid).body == {"result": "refunded"}
    assert Order.get(order["orderId"]).status == "AWAITING_PAYMENT"


def test_the_exact_amount_in_usd_confirms(api, admin, customer, stripe):
    order = api.place_order(customer, line(_product(api, admin, "1000", stock=1)))
    reply = _succeeded(api, order, amount_received=100_000, currency="usd")
    assert reply.body == {"result": "confirmed"}
    assert not [call for call in stripe.calls if call[0] == "refund"]


# --- the stage's currency (issue #25 item 5) ----------------------------------------------


def test_every_currency_a_stage_may_use_has_its_stripe_minimum():
    # A currency without a documented minimum is not offered (money.CURRENCY_EXPONENTS).
    assert set(payments.MIN_CHARGE) == set(money.CURRENCY_EXPONENTS)
    for code, minimum in payments.MIN_CHARGE.items():
        assert minimum > 0
        assert minimum == minimum.quantize(Decimal(1).scaleb(-money.CURRENCY_EXPONENTS[code]))


@pytest.fixture
def yen(monkeypatch) -> None:
    """The stage's currency as if CURRENCY=JPY (no minor unit)."""
    monkeypatch.setattr(money, "CURRENCY", "JPY")
    monkeypatch.setattr(money, "EXPONENT", 0)
    monkeypatch.setattr(money, "QUANTUM", Decimal(1))


@pytest.mark.usefixtures("yen")
def test_the_limits_follow_the_stage_currency():
    with pytest.raises(ValidationError, match="below 50 JPY"):
        payments.check_chargeable(Decimal(49))
    payments.check_chargeable(Decimal(50))
    payments.check_chargeable(Decimal(99_999_999))
    with pytest.raises(ValidationError, match="above 99999999 JPY"):
        payments.check_chargeable(Decimal(100_000_000))


@pytest.mark.parametrize(
    ("currency", "amount", "minor"), [("USD", "19.99", 1999), ("JPY", "1999", 1999)]
)
def test_stripe_is_asked_for_minor_units_in_the_stage_currency(
    monkeypatch, currency, amount, minor
):
    monkeypatch.setattr(money, "CURRENCY", currency)
    monkeypatch.setattr(money, "EXPONENT", money.CURRENCY_EXPONENTS[currency])
    monkeypatch.setattr(money, "QUANTUM", Decimal(1).scaleb(-money.EXPONENT))
    sent: list[dict[str, Any]] = []

    def create(params: dict[str, Any], options: dict[str, Any]) -> Any:
        sent.append(params)
        return SimpleNamespace(id="pi_1", client_secret="pi_1_secret_s")

    provider = payments.StripeProvider("sk_test_unused", SECRET)
    provider._client = SimpleNamespace(  # type: ignore[assignment]
        v1=SimpleNamespace(payment_intents=SimpleNamespace(create=create))
    )
    provider.create_intent("order-1", "user-1", Decimal(amount))

    assert sent[0]["amount"] == minor
    assert sent[0]["currency"] == currency.lower()


def test_the_webhook_compares_minor_units_and_currency():
    def paid(amount: Any, currency: Any) -> bool:
        event = payments.WebhookEvent("evt", "t", "pi", "o", amount, currency)
        return payments.paid_in_full(event, Decimal("19.99"))

    assert paid(1999, "usd")
    assert not paid(1999, "eur")
    assert not paid(1998, "usd")
    assert not paid(None, "usd")
