"""Shipping and tax through the API: the options route, and orders priced with them."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from tests.factories import ADDRESS, give_default_address, line, stored


def test_shipping_options_list_what_ships_to_the_country_priced_for_the_subtotal(api):
    reply = api.get("/shipping/options?country=us&subtotal=20.00")
    assert reply.status == 200, reply.body
    assert reply.body["country"] == "US"
    assert reply.body["currency"] == "USD"
    assert [(o["id"], o["price"]) for o in reply.body["items"]] == [
        ("standard", "5.99"),
        ("express", "19.99"),
        ("pickup", "0.00"),
    ]
    assert reply.body["items"][0]["estimatedDays"] == {"min": 3, "max": 5}
    free = api.get("/shipping/options?country=US&subtotal=75")
    assert free.body["items"][0]["price"] == "0.00"  # free from 75.00


def test_a_country_nothing_ships_to_has_no_options(api):
    reply = api.get("/shipping/options?country=JP")
    assert reply.status == 200
    assert reply.body["items"] == []


def test_a_bad_country_or_subtotal_is_a_400_naming_it(api):
    for query, field in [
        ("country=USA", "country"),
        ("", "country"),
        ("country=U1", "country"),
        ("country=UK", "country"),  # the United Kingdom is GB: not "nothing ships there"
        ("country=US&subtotal=1.999", "subtotal"),
        ("country=US&subtotal=-1", "subtotal"),
    ]:
        reply = api.get(f"/shipping/options?{query}")
        assert reply.status == 400, (query, reply.body)
        assert reply.body["field"] == field, query


# --- orders ship somewhere, priced with shipping and tax -----------------------------

TO_CALIFORNIA = {**ADDRESS, "city": "Oakland", "region": "CA", "postalCode": "94612"}
TO_NEW_YORK = {**ADDRESS, "city": "Albany", "region": "NY", "postalCode": "12207"}
TO_TOKYO = {"name": "Taro", "line1": "1-1 Marunouchi", "city": "Tokyo", "postalCode": "100-0001",
            "country": "JP"}  # fmt: skip
TO_BERLIN = {
    "name": "Erika Mustermann",
    "line1": "Unter den Linden 1",
    "city": "Berlin",
    "postalCode": "10117",
    "country": "DE",
}


@pytest.fixture
def lamp(api, admin) -> dict:
    return api.create_product(admin, name="Lamp", price=10.00, stock=100)


def test_an_order_to_california_by_post_adds_shipping_and_the_states_tax(api, customer, lamp):
    reply = api.order(
        customer, line(lamp, 2), shippingAddress=TO_CALIFORNIA, shippingMethod="standard"
    )
    assert reply.status == 201, reply.body
    order = reply.body
    # 20.00 at 7.25 % = 1.45; California does not tax shipping.
    assert order["totals"] == {
        "subtotal": "20.00",
        "shipping": "5.99",
        "tax": "1.45",
        "discount": "0.00",
        "total": "27.44",
    }
    assert order["total"] in (27.44, "27.44")  # the amount charged is the new total
    assert order["items"][0]["tax"] == "1.45"
    assert order["shippingMethod"] == {"id": "standard", "name": "Standard (USPS Ground Advantage)"}
    assert order["shippingAddress"] == TO_CALIFORNIA
    kept = stored(order["orderId"])
    assert (kept.subtotal, kept.shipping_price, kept.tax, kept.total) == (
        Decimal("20.00"),
        Decimal("5.99"),
        Decimal("1.45"),
        Decimal("27.44"),
    )
    assert kept.currency == "USD" and kept.items[0].tax == Decimal("1.45")


def test_new_york_taxes_shipping_and_germany_taxes_both_at_19_percent(api, customer, lamp):
    ny = api.place_order(
        customer, line(lamp), shippingAddress=TO_NEW_YORK, shippingMethod="express"
    )
    # 10.00 x 4 % = 0.40; 19.99 x 4 % = 0.7996 -> 0.80.
    assert ny["totals"]["tax"] == "1.20"
    assert ny["totals"]["total"] == "31.19"
    de = api.place_order(customer, line(lamp, 20), shippingAddress=TO_BERLIN)
    # Default: the cheapest method (standard, 18.00; free only from 200.00 of goods).
    assert de["shippingMethod"]["id"] == "standard"
    assert de["totals"] == {
        "subtotal": "200.00",
        "shipping": "0.00",
        "tax": "38.00",
        "discount": "0.00",
        "total": "238.00",
    }


def test_no_address_uses_the_books_default_in_the_same_two_calls(api, customer, lamp, aws_calls):
    aws_calls.clear()
    reply = api.post("/orders", {"items": [line(lamp)]}, token=customer.token)
    assert reply.status == 201, reply.body
    assert reply.body["shippingAddress"] == ADDRESS
    assert reply.body["shippingMethod"]["id"] == "pickup"  # the cheapest
    assert aws_calls.dynamodb() == ["BatchGetItem", "TransactWriteItems"]
    batch = next(p for s, op, p in aws_calls.calls if op == "BatchGetItem")
    keys = [k for table in batch["RequestItems"].values() for k in table["Keys"]]
    assert {"pk": {"S": f"ADDRESSES#{customer.user_id}"}} in keys


def test_an_address_id_picks_from_the_book_and_the_order_keeps_a_copy(api, customer, lamp):
    give_default_address(customer.user_id, TO_CALIFORNIA)  # stored as "home"
    order = api.place_order(customer, line(lamp), addressId="home", shippingMethod="standard")
    assert order["shippingAddress"] == TO_CALIFORNIA
    give_default_address(customer.user_id, TO_NEW_YORK)  # the book changes afterwards
    again = api.get(f"/orders/{order['orderId']}", token=customer.token).body
    assert again["shippingAddress"] == TO_CALIFORNIA
    assert again["totals"] == order["totals"]


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({}, "shippingAddress"),
        ({"addressId": "nowhere"}, "addressId"),
        ({"shippingAddress": ADDRESS, "addressId": "home"}, "addressId"),
        (
            {"shippingAddress": TO_BERLIN, "shippingMethod": "pickup"},
            "shippingMethod",
        ),
        (
            {"shippingAddress": TO_TOKYO},
            "shippingAddress.country",
        ),
        ({"shippingAddress": {**ADDRESS, "postalCode": "ABCDE"}}, "shippingAddress.postalCode"),
        ({"shippingAddress": ADDRESS, "shippingMethod": "Teleport!"}, "shippingMethod"),
    ],
)
def test_where_or_how_is_missing_or_wrong_is_a_400_naming_it_and_nothing_changes(
    api, lamp, extra, field
):
    buyer = api.register()  # no address book
    reply = api.post("/orders", {"items": [line(lamp)], **extra}, token=buyer.token)
    assert reply.status == 400, reply.body
    assert reply.body["field"] == field, reply.body
    assert api.stock_of(lamp) == 100
    assert api.get("/orders", token=buyer.token).body["items"] == []


def test_the_price_guard_compares_with_the_new_total(api, customer, lamp):
    body = {"shippingAddress": TO_CALIFORNIA, "shippingMethod": "standard"}
    stale = api.order(customer, line(lamp, 2), expectedTotal=20, **body)
    assert stale.status == 409 and stale.body["code"] == "PriceChanged", stale.body
    agreed = api.order(customer, line(lamp, 2), expectedTotal=27.44, **body)
    assert agreed.status == 201, agreed.body


def test_an_idempotency_key_stands_for_the_delivery_too(api, customer, lamp):
    first = api.order(customer, line(lamp), key="k1", shippingAddress=TO_CALIFORNIA)
    assert first.status == 201
    again = api.order(customer, line(lamp), key="k1", shippingAddress=TO_CALIFORNIA)
    assert again.headers.get("Idempotent-Replayed") == "true"
    elsewhere = api.order(customer, line(lamp), key="k1", shippingAddress=TO_NEW_YORK)
    assert elsewhere.status == 422, elsewhere.body


def test_checkout_ships_to_the_default_address_or_the_one_given(api, customer, lamp, aws_calls):
    assert (
        api.put(f"/cart/items/{lamp['productId']}", {"quantity": 2}, token=customer.token).status
        == 200
    )
    aws_calls.clear()
    cart = api.get("/cart", token=customer.token).body
    assert aws_calls.dynamodb() == ["BatchGetItem", "BatchGetItem"]  # as before: book joins
    assert cart["totalsFor"] == {"country": "US", "region": "OR", "shippingMethod": "pickup"}
    assert cart["totals"]["total"] == "20.00"
    aws_calls.clear()
    placed = api.post(
        "/cart/checkout",
        {"shippingAddress": TO_CALIFORNIA, "shippingMethod": "standard"},
        token=customer.token,
    )
    assert placed.status == 201, placed.body
    assert placed.body["totals"]["total"] == "27.44"
    assert aws_calls.dynamodb() == ["BatchGetItem", "BatchGetItem", "TransactWriteItems"]


def test_a_cart_without_a_default_address_shows_goods_only(api, lamp):
    buyer = api.register()
    api.put(f"/cart/items/{lamp['productId']}", {"quantity": 1}, token=buyer.token)
    cart = api.get("/cart", token=buyer.token).body
    assert cart["totalsFor"] is None
    assert cart["totals"] == {
        "subtotal": "10.00",
        "shipping": "0.00",
        "tax": "0.00",
        "discount": "0.00",
        "total": "10.00",
    }
    reply = api.post("/cart/checkout", token=buyer.token)
    assert reply.status == 400 and reply.body["field"] == "shippingAddress", reply.body


# --- fulfilment ------------------------------------------------------------------------


def test_the_ship_step_records_carrier_and_tracking_and_the_queue_shows_where(
    api, admin, customer, lamp
):
    from chalicelib import subscriber

    order = api.place_order(
        customer, line(lamp), shippingAddress=TO_CALIFORNIA, shippingMethod="standard"
    )
    subscriber.handle_message(json.dumps({"type": "OrderPlaced", "orderId": order["orderId"]}))
    queue = api.get("/orders?status=CONFIRMED", token=admin.token).body["items"]
    [queued] = [o for o in queue if o["orderId"] == order["orderId"]]
    assert queued["shippingAddress"] == TO_CALIFORNIA
    assert queued["shippingMethod"]["id"] == "standard"

    path = f"/orders/{order['orderId']}/ship"
    bad = api.post(path, {"carrier": "x" * 51}, token=admin.token)
    assert bad.status == 400 and bad.body["field"].startswith("carrier"), bad.body
    bad = api.post(path, {"trackingNumber": "1Z\u0007"}, token=admin.token)
    assert bad.status == 400, bad.body
    shipped = api.post(path, {"carrier": "UPS", "trackingNumber": "1Z999AA10123456784"},
                       token=admin.token)  # fmt: skip
    assert shipped.status == 200, shipped.body
    assert shipped.body["fulfilment"] == {"carrier": "UPS", "trackingNumber": "1Z999AA10123456784"}
    kept = stored(order["orderId"])
    assert (kept.carrier, kept.tracking_number) == ("UPS", "1Z999AA10123456784")


def test_the_ship_step_without_a_body_records_nothing(api, admin, customer, lamp):
    from chalicelib import subscriber

    order = api.place_order(customer, line(lamp))
    subscriber.handle_message(json.dumps({"type": "OrderPlaced", "orderId": order["orderId"]}))
    shipped = api.post(f"/orders/{order['orderId']}/ship", token=admin.token)
    assert shipped.status == 200, shipped.body
    assert "fulfilment" not in shipped.body


def test_a_legacy_order_reads_marked_with_derived_totals(api, customer):
    from tests.factories import make_order

    make_order("legacy-1", user_id=customer.user_id).save()
    view = api.get("/orders/legacy-1", token=customer.token).body
    assert view["legacy"] is True
    assert view["currency"] == "USD"
    assert view["totals"]["subtotal"] == view["totals"]["total"] == "0.50"
    assert view["shippingAddress"] is None


def test_the_cart_is_priced_for_the_destination_asked(api, customer, lamp, aws_calls):
    api.put(f"/cart/items/{lamp['productId']}", {"quantity": 2}, token=customer.token)
    aws_calls.clear()
    cart = api.get("/cart?country=us&region=ca&shippingMethod=standard", token=customer.token)
    assert cart.status == 200, cart.body
    assert aws_calls.dynamodb() == ["BatchGetItem", "BatchGetItem"]
    assert cart.body["totalsFor"] == {"country": "US", "region": "CA", "shippingMethod": "standard"}
    assert cart.body["totals"]["total"] == "27.44"  # what the checkout below charges
    placed = api.post(
        "/cart/checkout",
        {"expectedTotal": 27.44, "shippingAddress": TO_CALIFORNIA, "shippingMethod": "standard"},
        token=customer.token,
    )
    assert placed.status == 201, placed.body
    api.put(f"/cart/items/{lamp['productId']}", {"quantity": 1}, token=customer.token)
    express = api.get("/cart?shippingMethod=express", token=customer.token).body  # the book's
    assert express["totalsFor"] == {"country": "US", "region": "OR", "shippingMethod": "express"}
    assert express["totals"]["total"] == "29.99"
    for query, field in [
        ("country=GB&shippingMethod=pickup", "shippingMethod"),
        ("region=CA", "region"),
        ("country=USA", "country"),
    ]:
        reply = api.get(f"/cart?{query}", token=customer.token)
        assert reply.status == 400 and reply.body["field"] == field, (query, reply.body)


def test_the_payment_charges_the_total_with_shipping_and_tax(api, customer, lamp, monkeypatch):
    from chalicelib import money, payments

    charged: list[Decimal] = []

    class Recording(payments.StripeProvider):
        def create_intent(self, order_id: str, user_id: str, amount: Decimal) -> payments.Intent:
            charged.append(amount)
            return payments.Intent(f"pi_{order_id[:8]}", f"pi_{order_id[:8]}_secret_s")

    monkeypatch.setattr(payments, "provider", lambda: Recording("sk_test_unused", "whsec_x"))
    order = api.place_order(
        customer, line(lamp, 2), shippingAddress=TO_CALIFORNIA, shippingMethod="standard"
    )
    assert order["status"] == "AWAITING_PAYMENT"
    assert charged == [Decimal("27.44")]
    assert money.minor_units(charged[0]) == 2744


@pytest.mark.parametrize(
    ("shown", "status"),
    [("25.29", 201), ("27.44", 201), ("26.00", 409)],
    ids=["the-total", "the-total-before-the-code", "anything-else"],
)
def test_a_code_is_taken_off_before_tax_and_the_guard_takes_either_total(
    api, admin, customer, lamp, shown, status
):
    """Two lamps to Oakland by standard: 20.00 + 5.99 + 7.25 % of the goods. 10 % off comes
    off the goods before tax: 18.00 taxed 1.305 -> 1.30 (half to even), 25.29 in all; 27.44
    is what the cart showed before the code."""
    made = api.post("/discounts", {"code": "TENOFF", "percentOff": 10}, token=admin.token)
    assert made.status == 201, made.body
    body = {"shippingAddress": TO_CALIFORNIA, "shippingMethod": "standard"}
    reply = api.order(customer, line(lamp, 2), expectedTotal=shown, discountCode="tenoff", **body)
    assert reply.status == status, reply.body
    if status == 409:
        assert (reply.body["code"], reply.body["total"]) == ("PriceChanged", "25.29")
        assert api.stock_of(lamp) == 100
        return
    assert reply.body["totals"] == {
        "subtotal": "20.00",
        "shipping": "5.99",
        "tax": "1.30",
        "discount": "2.00",
        "total": "25.29",
    }
    assert reply.body["items"][0]["discount"] == "2.00"
