"""Payments end to end: a stack started with PAYMENT_PROVIDER=stripe, against localstripe.

The stack runs the real Stripe SDK against localstripe (a stateful fake Stripe server
on loopback); localstripe sends its signed webhooks to the stack's /payments/webhook.
Payments are made as a buyer's browser would (payment method, attach, confirm), with
Stripe's test cards. Expiry is shortened (PAYMENT_TIMEOUT_SECONDS) and the sweep runs
every second (LOCAL_SWEEP_SECONDS), so "nobody paid" is seen within seconds.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest

from devstack.payments import CARD_DECLINED, CARD_OK, LOCAL_API_KEY, intent_status, pay
from tests.e2e.concurrency import race
from tests.e2e.conftest import RunningStack, free_port, run_stack
from tests.e2e.mail import emails_to, verify_address
from tests.e2e.test_notifications_e2e import eventually
from tests.factories import DELIVERY, ShopClient, line, stripe_signed

TIMEOUT_SECONDS = 12  # PAYMENT_TIMEOUT_SECONDS of this stack
WAIT_SECONDS = 40  # how long a test waits for a webhook or the sweep before failing
WEBHOOK_SECRET = "whsec_" + uuid.uuid4().hex  # shared with the stack, to sign test events


@pytest.fixture(scope="module")
def pay_stack() -> Iterator[tuple[RunningStack, str]]:
    stripe_port = free_port()
    env = {
        "PAYMENT_PROVIDER": "stripe",
        "PAYMENT_TIMEOUT_SECONDS": str(TIMEOUT_SECONDS),
        "LOCAL_SWEEP_SECONDS": "1",
        "LOCALSTRIPE_PORT": str(stripe_port),
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
    }
    with run_stack(env=env) as running:
        yield running, f"http://127.0.0.1:{stripe_port}"


@pytest.fixture(scope="module")
def shop(pay_stack) -> ShopClient:
    return pay_stack[0].client()


@pytest.fixture(scope="module")
def stripe_url(pay_stack) -> str:
    return pay_stack[1]


@pytest.fixture(scope="module")
def admin_token(shop: ShopClient, pay_stack) -> str:
    stack = pay_stack[0]
    return shop.login(stack.admin_email, stack.admin_password).token


@pytest.fixture
def product(shop: ShopClient, admin_token: str) -> Callable[[int], dict[str, Any]]:
    def create(stock: int) -> dict[str, Any]:
        reply = shop.post(
            "/products", {"name": "Ticket", "price": "12.50", "stock": stock}, token=admin_token
        )
        assert reply.status == 201, reply.body
        return dict(reply.body)

    return create


def wait_for_status(shop: ShopClient, token: str, order_id: str, status: str) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        body = shop.get(f"/orders/{order_id}", token=token).body
        if body["status"] == status or time.monotonic() > deadline:
            return dict(body)
        time.sleep(0.3)


def signed(event: dict[str, Any], secret: str = WEBHOOK_SECRET) -> tuple[bytes, str]:
    return stripe_signed(event, secret)


def intent_event(event_type: str, placed: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "evt_" + uuid.uuid4().hex[:14],
        "object": "event",
        "type": event_type,
        "created": int(time.time()),
        "data": {
            "object": {
                "id": placed["payment"]["paymentIntentId"],
                "object": "payment_intent",
                "metadata": {"orderId": placed["orderId"]},
                "amount_received": int(Decimal(placed["total"]).scaleb(2)),  # minor units
                "currency": placed["currency"].lower(),
            }
        },
    }


def post_webhook(shop: ShopClient, payload: bytes, signature: str | None) -> Any:
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["Stripe-Signature"] = signature
    return shop.request("POST", "/payments/webhook", raw=payload, headers=headers)


def test_an_order_waits_for_payment_and_paying_confirms_it(shop, stripe_url, product):
    item = product(3)
    buyer = shop.register()

    placed = shop.order(buyer, line(item, 2))

    assert placed.status == 201, placed.body
    assert placed.body["status"] == "AWAITING_PAYMENT"
    payment = placed.body["payment"]
    assert payment["provider"] == "stripe"
    assert payment["paymentIntentId"].startswith("pi_")
    assert payment["clientSecret"].startswith(payment["paymentIntentId"] + "_secret_")
    assert payment["expiresAt"] > placed.body["createdAt"]
    assert shop.stock_of(item) == 1  # reserved while unpaid

    assert pay(stripe_url, payment["paymentIntentId"], CARD_OK) == "succeeded"
    paid = wait_for_status(shop, buyer.token, placed.body["orderId"], "CONFIRMED")

    assert paid["status"] == "CONFIRMED"
    assert "clientSecret" not in paid["payment"]
    assert shop.stock_of(item) == 1  # sold, not given back


def test_a_declined_payment_cancels_the_order_and_gives_the_stock_back(shop, stripe_url, product):
    item = product(3)
    buyer = shop.register()
    placed = shop.order(buyer, line(item, 2)).body
    assert shop.stock_of(item) == 1

    assert pay(stripe_url, placed["payment"]["paymentIntentId"], CARD_DECLINED).startswith(
        "declined"
    )
    failed = wait_for_status(shop, buyer.token, placed["orderId"], "CANCELLED")

    assert failed["status"] == "CANCELLED"
    assert shop.stock_of(item) == 3


def test_an_unpaid_order_expires_and_gives_the_stock_back(shop, stripe_url, product):
    item = product(2)
    buyer = shop.register()
    placed = shop.order(buyer, line(item, 2)).body
    intent = placed["payment"]["paymentIntentId"]
    assert shop.stock_of(item) == 0

    expired = wait_for_status(shop, buyer.token, placed["orderId"], "EXPIRED")

    assert expired["status"] == "EXPIRED"
    assert shop.stock_of(item) == 2
    # Expiry cancels the PaymentIntent too (just after the transaction): it can no longer be paid.
    deadline = time.monotonic() + WAIT_SECONDS
    while intent_status(stripe_url, intent) != "canceled" and time.monotonic() < deadline:
        time.sleep(0.3)
    assert intent_status(stripe_url, intent) == "canceled"


@pytest.mark.parametrize(
    "signature",
    [None, "t=1,v1=" + "0" * 64, "garbage", "sign with another secret"],
    ids=["missing", "wrong", "malformed", "other-secret"],
)
def test_a_forged_webhook_is_a_400_and_changes_nothing(shop, product, signature):
    item = product(1)
    buyer = shop.register()
    placed = shop.order(buyer, line(item)).body
    payload, good = signed(intent_event("payment_intent.succeeded", placed))
    if signature == "sign with another secret":
        _, signature = signed(intent_event("payment_intent.succeeded", placed), "whsec_other")

    reply = post_webhook(shop, payload, signature)

    assert reply.status == 400, reply.body
    assert reply.body["code"] == "ValidationError"
    after = shop.get(f"/orders/{placed['orderId']}", token=buyer.token).body
    assert after["status"] == "AWAITING_PAYMENT"
    assert shop.stock_of(item) == 0
    # The very same payload, correctly signed, is accepted: the signature made the difference.
    assert post_webhook(shop, payload, good).body == {"result": "confirmed"}


def _priced(shop: ShopClient, admin_token: str, price: str, stock: int = 5) -> dict[str, Any]:
    reply = shop.post(
        "/products", {"name": "Priced", "price": price, "stock": stock}, token=admin_token
    )
    assert reply.status == 201, reply.body
    return dict(reply.body)


@pytest.mark.parametrize(
    ("price", "quantity", "limit"),
    [("0", 1, "0.50 USD"), ("0.25", 1, "0.50 USD"), ("600000", 2, "999999.99 USD")],
)
def test_a_total_stripe_refuses_is_a_400_naming_the_limit(
    shop, admin_token, price, quantity, limit
):
    """#23 item 2, before: 500 (stripe create failed: InvalidRequestError)."""
    item = _priced(shop, admin_token, price)
    buyer = shop.register()

    placed = shop.order(buyer, line(item, quantity))
    in_cart = shop.put(
        f"/cart/items/{item['productId']}", {"quantity": quantity}, token=buyer.token
    )
    assert in_cart.status == 200, in_cart.body
    checkout = shop.post("/cart/checkout", DELIVERY, token=buyer.token)

    for reply in (placed, checkout):
        assert reply.status == 400, reply.body
        assert reply.body["code"] == "ValidationError" and reply.body["field"] == "total"
        assert limit in reply.body["error"]
    assert shop.stock_of(item) == 5
    assert shop.get("/orders", token=buyer.token).body["items"] == []
    assert shop.get("/cart", token=buyer.token).body["items"][0]["quantity"] == quantity


def test_a_payment_of_another_amount_is_refunded_never_confirmed(shop, stripe_url, admin_token):
    """#23 item 4, before: the intent changed to 1 cent, then paid, left the order CONFIRMED."""
    item = _priced(shop, admin_token, "1000", stock=1)
    buyer = shop.register()
    placed = shop.order(buyer, line(item)).body
    intent_id = placed["payment"]["paymentIntentId"]
    changed = _stripe_post(f"{stripe_url}/v1/payment_intents/{intent_id}", {"amount": "1"})
    assert int(changed["amount"]) == 1

    assert pay(stripe_url, intent_id, CARD_OK) == "succeeded"  # localstripe's webhook follows

    refund = eventually(lambda: _refund_of(stripe_url, intent_id), WAIT_SECONDS)
    assert refund["metadata"]["orderId"] == placed["orderId"]
    after = shop.get(f"/orders/{placed['orderId']}", token=buyer.token).body
    assert after["status"] == "AWAITING_PAYMENT"  # never CONFIRMED; expiry gives the stock back
    assert wait_for_status(shop, buyer.token, placed["orderId"], "EXPIRED")["status"] == "EXPIRED"
    assert shop.stock_of(item) == 1


def _stripe_post(url: str, form: dict[str, str]) -> dict[str, Any]:
    request = urllib.request.Request(
        url,
        data=urllib.parse.urlencode(form).encode(),
        headers={"Authorization": f"Bearer {LOCAL_API_KEY}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return dict(json.loads(response.read()))


def _refund_of(stripe_url: str, intent_id: str) -> dict[str, Any] | None:
    request = urllib.request.Request(
        f"{stripe_url}/v1/refunds?limit=100", headers={"Authorization": f"Bearer {LOCAL_API_KEY}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        refunds = json.loads(response.read())["data"]
    return next((r for r in refunds if r.get("payment_intent") == intent_id), None)


def test_duplicate_and_out_of_order_webhooks_change_nothing(shop, stripe_url, product):
    item = product(2)
    buyer = shop.register()
    placed = shop.order(buyer, line(item)).body
    assert pay(stripe_url, placed["payment"]["paymentIntentId"], CARD_OK) == "succeeded"
    wait_for_status(shop, buyer.token, placed["orderId"], "CONFIRMED")

    duplicate = post_webhook(shop, *signed(intent_event("payment_intent.succeeded", placed)))
    late_failure = post_webhook(
        shop, *signed(intent_event("payment_intent.payment_failed", placed))
    )
    late_cancel = post_webhook(shop, *signed(intent_event("payment_intent.canceled", placed)))

    assert duplicate.status == 200 and duplicate.body == {"result": "ignored"}
    assert late_failure.body == {"result": "ignored"}
    assert late_cancel.body == {"result": "ignored"}
    after = shop.get(f"/orders/{placed['orderId']}", token=buyer.token).body
    assert after["status"] == "CONFIRMED"
    assert shop.stock_of(item) == 1


def test_a_customer_cancel_cancels_the_payment_intent(shop, stripe_url, product):
    item = product(1)
    buyer = shop.register()
    placed = shop.order(buyer, line(item)).body

    cancelled = shop.post(f"/orders/{placed['orderId']}/cancel", token=buyer.token)

    assert cancelled.status == 200 and cancelled.body["status"] == "CANCELLED"
    assert shop.stock_of(item) == 1
    assert intent_status(stripe_url, placed["payment"]["paymentIntentId"]) == "canceled"


def test_twenty_buyers_for_five_units_three_never_pay_three_come_back(shop, stripe_url, product):
    item = product(5)
    buyers = [shop.register() for _ in range(20)]

    replies = race(20, lambda i: shop.order(buyers[i], line(item)))

    placed = [(buyers[i], r.body) for i, r in enumerate(replies) if r.status == 201]
    refused = [r for r in replies if r.status != 201]
    assert len(placed) == 5
    assert {r.status for r in refused} == {409}
    assert shop.stock_of(item) == 0
    payers, idle = placed[:2], placed[2:]
    for _, body in payers:
        assert pay(stripe_url, body["payment"]["paymentIntentId"], CARD_OK) == "succeeded"

    for buyer, body in idle:
        assert wait_for_status(shop, buyer.token, body["orderId"], "EXPIRED")["status"] == "EXPIRED"
    for buyer, body in payers:
        paid = wait_for_status(shop, buyer.token, body["orderId"], "CONFIRMED")
        assert paid["status"] == "CONFIRMED"
    assert shop.stock_of(item) == 3
    latecomer = shop.register()
    assert shop.order(latecomer, line(item, 3)).status == 201


def test_the_buyer_is_emailed_when_paid_declined_or_expired(pay_stack, shop, stripe_url, product):
    stack = pay_stack[0]
    item = product(3)
    buyer = shop.register(name="Paula Payer")
    verify_address(stack, shop, buyer.email)  # only verified addresses get order emails
    paid, declined, unpaid = (shop.order(buyer, line(item)).body for _ in range(3))

    assert pay(stripe_url, paid["payment"]["paymentIntentId"], CARD_OK) == "succeeded"
    assert pay(stripe_url, declined["payment"]["paymentIntentId"], CARD_DECLINED).startswith(
        "declined"
    )
    assert wait_for_status(shop, buyer.token, unpaid["orderId"], "EXPIRED")["status"] == "EXPIRED"

    # One email per outcome (events leave through the orders stream, after the change).
    eventually(lambda: emails_to(stack, buyer.email)[3:], timeout=WAIT_SECONDS)  # + verification
    received = {
        o["orderId"]: [m for m in emails_to(stack, buyer.email) if o["orderId"] in m["text"]]
        for o in (paid, declined, unpaid)
    }

    [paid_email] = received[paid["orderId"]]
    [declined_email] = received[declined["orderId"]]
    [expired_email] = received[unpaid["orderId"]]  # none said "confirmed" at placement
    assert (
        paid_email["subject"]
        == f"Your payment for order {paid['orderId'][:8]}… was received — 12.50 USD"
    )
    assert "We received your payment" in paid_email["text"]
    assert (
        declined_email["subject"]
        == f"Your order {declined['orderId'][:8]}… is cancelled — 12.50 USD"
    )
    assert expired_email["subject"] == f"Your order {unpaid['orderId'][:8]}… expired — 12.50 USD"
    assert "not paid in time" in expired_email["text"]
    for email in (paid_email, declined_email, expired_email):
        assert email["text"].startswith("Hello,\n")  # never the name the buyer typed


_LOOPBACK = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def confirm_as_the_browser(payment: dict[str, Any], client_secret: str) -> tuple[int, Any]:
    """What the web page sends to Stripe: publishable key, client secret, test card."""
    form = {
        "key": payment["publishableKey"],
        "client_secret": client_secret,
        "payment_method": "pm_card_visa",
    }
    url = f"{payment['apiBase']}/v1/payment_intents/{payment['paymentIntentId']}/confirm"
    request = urllib.request.Request(url, data=urllib.parse.urlencode(form).encode())
    try:
        with _LOOPBACK.open(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_the_browser_confirms_with_the_publishable_key_and_the_client_secret_only(
    shop, stripe_url, product
):
    item = product(1)
    buyer = shop.register()
    placed = shop.order(buyer, line(item)).body
    payment = placed["payment"]
    assert payment["publishableKey"].startswith("pk_test_")
    assert payment["apiBase"] == stripe_url

    forged = confirm_as_the_browser(payment, payment["paymentIntentId"] + "_secret_guess")
    assert forged[0] == 401
    assert intent_status(stripe_url, payment["paymentIntentId"]) == "requires_payment_method"

    status, intent = confirm_as_the_browser(payment, payment["clientSecret"])

    assert (status, intent["status"]) == (200, "succeeded")
    paid = wait_for_status(shop, buyer.token, placed["orderId"], "CONFIRMED")
    assert paid["status"] == "CONFIRMED"


def test_a_staff_refund_goes_to_stripe_in_part_and_once(shop, stripe_url, product, admin_token):
    buyer = shop.register()
    placed = shop.order(buyer, line(product(3), 2)).body  # 25.00
    intent_id = placed["payment"]["paymentIntentId"]
    assert pay(stripe_url, intent_id, CARD_OK) == "succeeded"
    wait_for_status(shop, buyer.token, placed["orderId"], "CONFIRMED")

    def refund(key: str) -> Any:
        return shop.post(
            f"/orders/{placed['orderId']}/refunds",
            {"amount": "7.25", "reason": "damaged"},
            token=admin_token,
            headers={"Idempotency-Key": key},
        )

    first, again = refund("stripe-1"), refund("stripe-1")

    assert (first.status, again.status) == (201, 201), first.body
    [shown] = again.body["refunds"]
    assert shown["status"] == "succeeded" and shown["providerRefundId"].startswith("re_")
    at_stripe = _refund_of(stripe_url, intent_id)
    assert at_stripe is not None
    assert (at_stripe["id"], at_stripe["amount"]) == (shown["providerRefundId"], 725)
    assert at_stripe["metadata"] == {"refundId": shown["refundId"]}
    too_much = shop.post(
        f"/orders/{placed['orderId']}/refunds",
        {"amount": "17.76", "reason": "other"},
        token=admin_token,
        headers={"Idempotency-Key": "stripe-2"},
    )
    assert too_much.status == 409 and too_much.body["refundable"] == "17.75"
