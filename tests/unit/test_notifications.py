"""The readable forms of order events, and the per-protocol SNS message that carries them."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from chalicelib import order_lifecycle, publisher
from chalicelib.models import Order, OrderLine
from chalicelib.notifications import (
    MAX_SUBJECT,
    RENDERED_EVENT_TYPES,
    buyer_email,
    buyer_recipient,
    staff_email,
)
from chalicelib.order_lifecycle import ORDER_CANCELLED, ORDER_DELIVERED, ORDER_PLACED, ORDER_SHIPPED
from chalicelib.order_view import order_view
from tests.conftest import delivered_to

ORDER_ID = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
SNS_MAX_MESSAGE_BYTES = 256 * 1024


def make_order(lines: int = 3, **overrides) -> Order:
    items = [
        OrderLine(
            product_id=f"p{i}",
            name=f"Widget {i}",
            quantity=i,
            unit_price=Decimal("19.99"),
            line_total=Decimal("19.99") * i,
        )
        for i in range(1, lines + 1)
    ]
    fields = {
        "user_id": "user-7",
        "status": "CONFIRMED",
        "items": items,
        "total": sum((line.line_total for line in items), Decimal(0)),
        "created_at": "2030-01-01T09:00:00.000Z",
        "updated_at": "2030-01-02T10:30:00.000Z",
    }
    return Order(ORDER_ID, **{**fields, **overrides})


def test_every_event_type_has_a_readable_form():
    assert set(RENDERED_EVENT_TYPES) == {
        ORDER_PLACED,
        ORDER_CANCELLED,
        ORDER_SHIPPED,
        ORDER_DELIVERED,
        order_lifecycle.ORDER_PAID,
        order_lifecycle.ORDER_EXPIRED,
        order_lifecycle.RETURN_REQUESTED_EVENT,
        order_lifecycle.RETURN_APPROVED_EVENT,
        order_lifecycle.RETURN_REJECTED_EVENT,
        order_lifecycle.RETURN_RECEIVED_EVENT,
        order_lifecycle.ORDER_REFUNDED,
    }
    assert set(order_lifecycle.EVENT_TYPES + order_lifecycle.PAYMENT_EVENT_TYPES) <= set(
        RENDERED_EVENT_TYPES
    )
    assert set(order_lifecycle.EVENT_TYPES) <= set(RENDERED_EVENT_TYPES)
    assert set(order_lifecycle.BUYER_EMAIL_STATUS) <= set(RENDERED_EVENT_TYPES)


def test_new_order_subject_and_body():
    email = staff_email(ORDER_PLACED, order_view(make_order(lines=2)))

    assert email.subject == "New order 1a2b3c4d… — 3 items, 59.97 USD"
    assert email.text == (
        f"A new order was placed: {ORDER_ID}\n"
        "\n"
        f"Order:     {ORDER_ID}\n"
        "Buyer:     user-7\n"
        "Placed:    2030-01-01T09:00:00.000Z\n"
        "\n"
        "  Qty  Item      Unit price  Line total\n"
        "    1  Widget 1   19.99 USD   19.99 USD\n"
        "    2  Widget 2   19.99 USD   39.98 USD\n"
        "\n"
        "Total:     59.97 USD\n"
    )


@pytest.mark.parametrize(
    ("event_type", "subject", "headline", "time_line"),
    [
        (
            ORDER_CANCELLED,
            "Order 1a2b3c4d… cancelled — 1 item, 19.99 USD",
            f"Order {ORDER_ID} was cancelled",
            "Cancelled: 2030-01-02T10:30:00.000Z",
        ),
        (
            ORDER_SHIPPED,
            "Order 1a2b3c4d… shipped — 1 item, 19.99 USD",
            f"Order {ORDER_ID} was shipped.",
            "Shipped:   2030-01-02T10:30:00.000Z",
        ),
        (
            ORDER_DELIVERED,
            "Order 1a2b3c4d… delivered — 1 item, 19.99 USD",
            f"Order {ORDER_ID} was delivered.",
            "Delivered: 2030-01-02T10:30:00.000Z",
        ),
    ],
)
def test_later_events_read_as_what_happened_and_when(event_type, subject, headline, time_line):
    email = staff_email(event_type, order_view(make_order(lines=1)))

    assert email.subject == subject
    assert email.text.startswith(headline)
    assert time_line in email.text.splitlines()
    assert "    1  Widget 1   19.99 USD   19.99 USD" in email.text
    assert email.text.endswith("Total:     19.99 USD\n")


@pytest.mark.parametrize(
    ("event_type", "subject", "headline"),
    [
        (ORDER_PLACED, "Your order 1a2b3c4d… is confirmed — 19.99 USD", "It is confirmed."),
        (ORDER_CANCELLED, "Your order 1a2b3c4d… is cancelled — 19.99 USD", "is cancelled."),
        (ORDER_SHIPPED, "Your order 1a2b3c4d… has shipped — 19.99 USD", "is on its way."),
        (ORDER_DELIVERED, "Your order 1a2b3c4d… was delivered — 19.99 USD", "was delivered."),
        (
            order_lifecycle.ORDER_PAID,
            "Your payment for order 1a2b3c4d… was received — 19.99 USD",
            "We received your payment",
        ),
        (
            order_lifecycle.ORDER_EXPIRED,
            "Your order 1a2b3c4d… expired — 19.99 USD",
            "not paid in time",
        ),
    ],
)
def test_the_buyer_is_greeted_without_a_name_and_told_what_happened(event_type, subject, headline):
    email = buyer_email(event_type, order_view(make_order(lines=1)))

    assert email.subject == subject
    first, blank, said = email.text.splitlines()[:3]
    # A name is whatever the registrant typed: it never opens the shop's email (#23 item 7).
    assert (first, blank) == ("Hello,", "")
    assert headline in said and ORDER_ID in said
    assert email.text.endswith("Total:     19.99 USD\n")


@pytest.mark.parametrize(
    ("event_type", "status", "time_line"),
    [
        (order_lifecycle.ORDER_PAID, "CONFIRMED", "Paid:      2030-01-02T10:30:00.000Z"),
        (order_lifecycle.ORDER_EXPIRED, "EXPIRED", "Expired:   2030-01-02T10:30:00.000Z"),
    ],
)
def test_payment_events_email_the_buyer_with_when_it_happened(event_type, status, time_line):
    assert order_lifecycle.BUYER_EMAIL_STATUS[event_type] == status  # the subscriber emails them
    order = make_order(lines=1, status=status, payment_intent_id="pi_1", payment_provider="stripe")

    email = buyer_email(event_type, order_view(order))

    assert time_line in email.text.splitlines()
    assert "pi_1" not in email.text  # the payment's ids are ours, not the buyer's


def test_money_is_shown_with_two_decimals_and_the_currency():
    view = order_view(
        make_order(
            lines=1,
            items=[
                OrderLine(
                    product_id="p",
                    name="Car",
                    quantity=1,
                    unit_price=Decimal("12345.5"),
                    line_total=Decimal("12345.5"),
                )
            ],
            total=Decimal("12345.5"),
        )
    )
    assert staff_email(ORDER_PLACED, view).subject.endswith("1 item, 12345.50 USD")


@pytest.mark.parametrize("event_type", RENDERED_EVENT_TYPES)
def test_subjects_fit_sns_whatever_the_order(event_type):
    huge = make_order(lines=25, user_id="u" * 300)
    huge.order_id = "o" * 300
    view = order_view(huge)
    for email in (staff_email(event_type, view), buyer_email(event_type, view)):
        assert len(email.subject) <= MAX_SUBJECT < 100
        assert "\n" not in email.subject and "\r" not in email.subject


def test_buyer_emails_go_only_to_verified_addresses():
    assert buyer_recipient("a@example.com", True) == "a@example.com"
    assert buyer_recipient("a@example.com", False) is None
    assert buyer_recipient("a@example.com", None) is None  # older accounts: unverified


# --- the SNS message ---------------------------------------------------------------


@pytest.mark.parametrize("event_type", order_lifecycle.EVENT_TYPES)
def test_the_message_structure_is_what_sns_documents(event_type):
    message, subject = publisher.sns_message(event_type, make_order(lines=25))

    structure = json.loads(message)
    assert "default" in structure
    assert all(isinstance(value, str) for value in structure.values())
    assert set(structure) == {"default", "email"}
    assert len(message.encode()) < SNS_MAX_MESSAGE_BYTES
    assert subject == staff_email(event_type, order_view(make_order(lines=25))).subject


@pytest.mark.parametrize("protocol", ["lambda", "sqs", "http", "https", "email-json"])
def test_machines_get_exactly_the_event_json(protocol):
    order = make_order()
    message, subject = publisher.sns_message(ORDER_PLACED, order)
    published = {"Message": message, "MessageStructure": "json", "Subject": subject}

    delivered = json.loads(delivered_to(published, protocol))

    assert delivered == json.loads(json.dumps(publisher.event_message(ORDER_PLACED, order)))
    assert set(delivered) == {"type", *publisher.EVENT_FIELDS}


def test_email_subscribers_get_the_readable_form():
    order = make_order()
    message, _ = publisher.sns_message(ORDER_CANCELLED, order)
    published = {"Message": message, "MessageStructure": "json"}

    assert delivered_to(published, "email") == staff_email(ORDER_CANCELLED, order_view(order)).text


SPOOFED_ADDRESS = {
    "name": "Shop Support: your card was declined, call +1 555 0100",
    "line1": "1 Main St",
    "city": "Oakland",
    "region": "CA",
    "postalCode": "94612",
    "country": "US",
}


def shipped_to_california(**overrides) -> Order:
    return make_order(
        1,
        subtotal=Decimal("19.99"),
        shipping_price=Decimal("5.99"),
        tax=Decimal("1.45"),
        discount=Decimal("0"),
        total=Decimal("27.43"),
        currency="USD",
        shipping_address=SPOOFED_ADDRESS,
        shipping_method="standard",
        shipping_method_name="Standard (USPS Ground Advantage)",
        **overrides,
    )


def test_the_placed_email_shows_the_breakdown_and_quotes_the_address():
    text = buyer_email(ORDER_PLACED, order_view(shipped_to_california())).text
    breakdown = (
        "Subtotal:  19.99 USD",
        "Shipping:  5.99 USD",
        "Tax:       1.45 USD",
        "Total:     27.43 USD",
    )
    for expected in (*breakdown, "Delivery:  Standard (USPS Ground Advantage)"):
        assert expected in text, text
    assert "Discount" not in text  # none given
    # What the buyer typed sits quoted under a label, never at the start of a line.
    assert "Ship to (as entered):\n  | Shop Support: your card" in text
    assert "\nShop Support" not in text
    assert "  | Oakland CA 94612" in text


def test_the_shipped_email_names_the_carrier_and_tracking_number():
    order = shipped_to_california(
        status="SHIPPED", carrier="UPS", tracking_number="1Z999AA10123456784"
    )
    for email in (buyer_email(ORDER_SHIPPED, order_view(order)),
                  staff_email(ORDER_SHIPPED, order_view(order))):  # fmt: skip
        assert "Carrier:   UPS" in email.text
        assert "Tracking:  1Z999AA10123456784" in email.text


def test_a_legacy_order_email_has_its_total_only():
    text = buyer_email(ORDER_PLACED, order_view(make_order())).text
    assert "Total:" in text and "Subtotal" not in text and "Ship to" not in text
