"""Notifications on the local stack: the buyer's email in the outbox, the topic's readable email."""

from __future__ import annotations

import time
import uuid
from typing import Any

import boto3

from tests.e2e.mail import POLL_SECONDS, emails_to, get_json, moto_url, verify_address
from tests.e2e.test_orders_e2e import wait_for_status
from tests.factories import line

EMAIL_TIMEOUT_SECONDS = 1.0


def place(http, admin, buyer, quantity: int = 2) -> dict[str, Any]:
    status, product = http.post(
        "/products", {"name": "Kettle", "price": "12.5", "stock": 10}, token=admin
    )
    assert status == 201, product
    return http.place_order(buyer, line(product, quantity))


def eventually(read: Any, timeout: float = 5.0) -> Any:
    """``read()`` once it is truthy (events leave through the orders stream, after the answer)."""
    deadline = time.monotonic() + timeout
    while not (value := read()) and time.monotonic() < deadline:
        time.sleep(POLL_SECONDS)
    return value


def test_the_banner_prints_the_outbox(stack):
    assert f"mail:  {moto_url(stack, '/_devstack/outbox')}" in stack.output_text()


def order_emails_to(stack, address: str) -> list[dict[str, Any]]:
    return [m for m in emails_to(stack, address) if "order" in m["subject"]]


def test_the_buyer_gets_a_confirmation_email_within_a_second(stack, http, admin):
    buyer = http.sign_up()
    verify_address(stack, http, buyer["email"])  # only verified addresses get order emails
    order = place(http, admin, buyer)

    deadline = time.monotonic() + EMAIL_TIMEOUT_SECONDS
    while not (received := order_emails_to(stack, buyer["email"])) and time.monotonic() < deadline:
        time.sleep(POLL_SECONDS)

    [email] = received
    assert email["text"].startswith("Hello,\n")  # never the name the buyer typed
    assert email["subject"] == f"Your order {order['orderId'][:8]}… is confirmed — 25.00 USD"
    assert order["orderId"] in email["text"]
    assert "    2  Kettle   12.50 USD   25.00 USD" in email["text"]
    assert email["sentAt"].endswith("Z")
    wait_for_status(http, buyer["token"], order["orderId"], "CONFIRMED")

    status, _ = http.post(f"/orders/{order['orderId']}/cancel", token=buyer["token"])
    assert status == 200
    later = eventually(lambda: order_emails_to(stack, buyer["email"])[1:])
    subjects = [m["subject"] for m in later]
    assert subjects == [f"Your order {order['orderId'][:8]}… is cancelled — 25.00 USD"]
    outbox = get_json(moto_url(stack, "/_devstack/outbox"))
    assert [m["sentAt"] for m in outbox] == sorted(m["sentAt"] for m in outbox)


def test_an_email_subscription_on_the_topic_gets_the_readable_form(stack, http, admin):
    sns = boto3.client("sns", region_name="us-east-1", endpoint_url=moto_url(stack))
    [topic_arn] = [
        t["TopicArn"] for t in sns.list_topics()["Topics"] if t["TopicArn"].endswith("order-events")
    ]
    staff = f"staff-{uuid.uuid4().hex[:8]}@example.com"
    sns.subscribe(TopicArn=topic_arn, Protocol="email", Endpoint=staff)
    buyer = http.sign_up()

    order = place(http, admin, buyer, quantity=3)

    [delivery] = eventually(
        lambda: [
            d
            for d in get_json(moto_url(stack, "/_devstack/sns-email"))
            if d["to"] == staff and order["orderId"] in d["text"]
        ]
    )
    assert delivery["subject"] == f"New order {order['orderId'][:8]}… — 3 items, 37.50 USD"
    assert delivery["text"].startswith(f"A new order was placed: {order['orderId']}\n")
    assert f"Buyer:     {buyer['userId']}" in delivery["text"]
    assert "    3  Kettle   12.50 USD   37.50 USD" in delivery["text"]
    # ... while the app's own subscriber got the JSON and confirmed the order.
    wait_for_status(http, buyer["token"], order["orderId"], "CONFIRMED")
