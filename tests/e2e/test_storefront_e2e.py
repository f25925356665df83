"""The storefront over real HTTP against the local stack: carts racing for the last units,
a checkout retried at once, ship racing cancel (issue #12)."""

from __future__ import annotations

import uuid

from tests.e2e.concurrency import race
from tests.e2e.test_orders_e2e import (
    new_product,  # noqa: F401 (fixture)
    wait_for_status,
)
from tests.factories import DELIVERY


def fill_cart(http, buyer, product, quantity: int = 1) -> dict:
    status, cart = http.put(
        f"/cart/items/{product['productId']}", {"quantity": quantity}, token=buyer["token"]
    )
    assert status == 200, cart
    return cart


def test_twenty_carts_racing_for_the_last_five_units(http, new_product):  # noqa: F811
    buyers = race(20, lambda i: http.sign_up())
    product = new_product(stock=5)
    carts = [fill_cart(http, buyer, product) for buyer in buyers]

    results = race(20, lambda i: http.post("/cart/checkout", DELIVERY, token=buyers[i]["token"]))

    statuses = sorted(status for status, _ in results)
    assert statuses == [201] * 5 + [409] * 15, results
    assert http.stock_of(product) == 0
    assert len({body["orderId"] for status, body in results if status == 201}) == 5
    for buyer, cart, (status, body) in zip(buyers, carts, results, strict=True):
        _, now = http.get("/cart", token=buyer["token"])
        if status == 201:
            assert now["items"] == []
        else:
            assert body["code"] == "InsufficientStock", body
            # The losing cart is intact: same line, same last change.
            assert [i["quantity"] for i in now["items"]] == [1]
            assert now["updatedAt"] == cart["updatedAt"]
            assert now["items"][0]["available"] is False


def test_one_checkout_retried_ten_times_at_once_places_one_order(http, new_product):  # noqa: F811
    buyer = http.sign_up()
    product = new_product(stock=10)
    fill_cart(http, buyer, product, 3)
    key = {"Idempotency-Key": f"cart-{uuid.uuid4()}"}

    results = race(
        10, lambda i: http.post("/cart/checkout", DELIVERY, token=buyer["token"], headers=key)
    )

    assert {status for status, _ in results} == {201}, results
    assert len({body["orderId"] for _, body in results}) == 1
    assert http.stock_of(product) == 7
    _, page = http.get("/orders", token=buyer["token"])
    assert len(page["items"]) == 1


def test_ship_and_cancel_of_one_confirmed_order_exactly_one_wins(http, admin, new_product):  # noqa: F811
    buyer = http.sign_up()
    product = new_product(stock=4)
    fill_cart(http, buyer, product, 2)
    status, order = http.post("/cart/checkout", DELIVERY, token=buyer["token"])
    assert status == 201, order
    confirmed = wait_for_status(http, buyer["token"], order["orderId"], "CONFIRMED")
    assert confirmed["status"] == "CONFIRMED"
    path = f"/orders/{order['orderId']}"

    def act(i: int):
        if i % 2:
            return http.post(f"{path}/ship", token=admin)
        return http.post(f"{path}/cancel", token=buyer["token"])

    results = race(2, act)

    assert sorted(status for status, _ in results) == [200, 409], results
    (winner,) = [body for status, body in results if status == 200]
    _, final = http.get(path, token=buyer["token"])
    assert final["status"] == winner["status"] in ("SHIPPED", "CANCELLED")
    assert http.stock_of(product) == (4 if final["status"] == "CANCELLED" else 2)
