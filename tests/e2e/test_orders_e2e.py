"""Orders over real HTTP against the local stack: no oversell, idempotency, events, cancels."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.concurrency import race
from tests.factories import ADDRESS, DELIVERY

CONFIRM_TIMEOUT_SECONDS = 10


@pytest.fixture
def new_product(http, admin) -> Callable[..., dict[str, Any]]:
    def create(stock: int, price: str = "7.25", name: str = "Widget") -> dict[str, Any]:
        status, body = http.post(
            "/products", {"name": name, "price": price, "stock": stock}, token=admin
        )
        assert status == 201, body
        return body

    return create


@pytest.fixture
def buyer(http) -> dict[str, Any]:
    return http.sign_up()


def order_body(*lines: tuple[dict[str, Any], int]) -> dict[str, Any]:
    return {"items": [{"productId": p["productId"], "quantity": q} for p, q in lines], **DELIVERY}


def wait_for_status(http, token: str, order_id: str, wanted: str) -> dict[str, Any]:
    deadline = time.monotonic() + CONFIRM_TIMEOUT_SECONDS
    while True:
        status, order = http.get(f"/orders/{order_id}", token=token)
        assert status == 200, order
        if order["status"] == wanted or time.monotonic() > deadline:
            return order
        time.sleep(0.1)


def test_an_order_is_priced_from_the_catalogue_and_confirmed(http, admin, buyer, new_product):
    kettle = new_product(stock=4, price="19.99", name="Kettle")
    mug = new_product(stock=9, price="4.50", name="Mug")

    # To California by post: 7.25 % per line (shipping untaxed there), 5.99 under 75.00.
    oakland = {**ADDRESS, "city": "Oakland", "region": "CA", "postalCode": "94612"}
    body = {**order_body((kettle, 2), (mug, 1)), "shippingAddress": oakland,
            "shippingMethod": "standard"}  # fmt: skip
    status, order = http.post("/orders", body, token=buyer["token"])

    assert status == 201, order
    assert order["userId"] == buyer["userId"]
    assert order["status"] in ("PENDING", "CONFIRMED")
    assert order["items"] == [
        {
            "productId": kettle["productId"],
            "name": "Kettle",
            "quantity": 2,
            "unitPrice": "19.99",
            "lineTotal": "39.98",
            "tax": "2.90",  # 2.89855
        },
        {
            "productId": mug["productId"],
            "name": "Mug",
            "quantity": 1,
            "unitPrice": "4.50",
            "lineTotal": "4.50",
            "tax": "0.33",  # 0.32625
        },
    ]
    assert order["totals"] == {
        "subtotal": "44.48",
        "shipping": "5.99",
        "tax": "3.23",
        "discount": "0.00",
        "total": "53.70",
    }
    assert (order["total"], order["currency"]) == ("53.70", "USD")  # what is charged
    assert order["shippingAddress"] == oakland
    assert order["createdAt"].endswith("Z")
    assert (http.stock_of(kettle), http.stock_of(mug)) == (2, 8)

    confirmed = wait_for_status(http, buyer["token"], order["orderId"], "CONFIRMED")
    assert confirmed["status"] == "CONFIRMED"
    assert {k: v for k, v in confirmed.items() if k not in ("status", "updatedAt")} == {
        k: v for k, v in order.items() if k not in ("status", "updatedAt")
    }
    # The order keeps the name and price it was placed at.
    status, _ = http.put(
        f"/products/{kettle['productId']}", {"name": "Kettle v2", "price": "25"}, token=admin
    )
    assert status == 200
    assert http.get(f"/orders/{order['orderId']}", token=buyer["token"]) == (200, confirmed)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"items": []}, "ValidationError"),
        ({"items": [{"productId": "x", "quantity": 0}]}, "ValidationError"),
        ({"items": [{"productId": "x", "quantity": 1}], "coupon": "FREE"}, "ValidationError"),
        ({"items": [{"productId": str(uuid.uuid4()), "quantity": 1}]}, "ValidationError"),
    ],
    ids=["no-items", "zero-quantity", "unknown-field", "unknown-product"],
)
def test_an_invalid_order_is_a_400(http, buyer, body, code):
    status, error = http.post("/orders", body, token=buyer["token"])

    assert (status, error["code"]) == (400, code), error
    assert http.get("/orders", token=buyer["token"]) == (200, {"items": [], "nextCursor": None})


def test_twenty_buyers_racing_for_five_items_never_oversell(http, new_product):
    buyers = race(20, lambda i: http.sign_up())
    product = new_product(stock=5)

    results = race(
        20, lambda i: http.post("/orders", order_body((product, 1)), token=buyers[i]["token"])
    )

    statuses = sorted(status for status, _ in results)
    assert statuses == [201] * 5 + [409] * 15, results
    for status, body in results:
        if status == 409:
            assert body["code"] == "InsufficientStock", body
            assert body["productIds"] == [product["productId"]]
    orders = [body for status, body in results if status == 201]
    assert len({o["orderId"] for o in orders}) == 5
    assert http.stock_of(product) == 0
    # Each winner has exactly their one order; each loser has none.
    for buyer, (status, _) in zip(buyers, results, strict=True):
        _, page = http.get("/orders", token=buyer["token"])
        assert len(page["items"]) == (1 if status == 201 else 0)


def test_one_idempotency_key_sent_ten_times_at_once_places_one_order(http, buyer, new_product):
    product = new_product(stock=10)
    body = order_body((product, 3))
    key = {"Idempotency-Key": f"checkout-{uuid.uuid4()}"}

    results = race(10, lambda i: http.post("/orders", body, token=buyer["token"], headers=key))

    assert {status for status, _ in results} <= {200, 201}, results
    assert len({order["orderId"] for _, order in results}) == 1, results
    first = results[0][1]
    # The same order, as it is when each answer is made (the subscriber may confirm it
    # in between: a replay tells the current status).
    same = {"orderId", "items", "total", "createdAt", "userId"}
    assert all({k: order[k] for k in same} == {k: first[k] for k in same} for _, order in results)
    assert {order["status"] for _, order in results} <= {"PENDING", "CONFIRMED"}
    assert http.stock_of(product) == 7
    _, page = http.get("/orders", token=buyer["token"])
    assert [o["orderId"] for o in page["items"]] == [first["orderId"]]

    # A later replay still answers with that order; the key cannot be reused for another.
    status, again = http.post("/orders", body, token=buyer["token"], headers=key)
    assert (status, again["orderId"]) in ((200, first["orderId"]), (201, first["orderId"]))
    status, error = http.post(
        "/orders", order_body((product, 1)), token=buyer["token"], headers=key
    )
    assert (status, error["code"]) == (422, "IdempotencyKeyReused"), error
    assert http.stock_of(product) == 7
    # Keys belong to their user: another buyer's identical key is another order.
    other = http.sign_up()
    status, theirs = http.post("/orders", body, token=other["token"], headers=key)
    assert status == 201, theirs
    assert theirs["orderId"] != first["orderId"]
    assert http.stock_of(product) == 4


def test_a_replay_after_a_cancel_answers_with_the_cancelled_order(http, buyer, new_product):
    """Issue #23 item 6, over HTTP: a replay tells the order's current status."""
    product = new_product(stock=5)
    body = order_body((product, 2))
    key = {"Idempotency-Key": f"then-cancel-{uuid.uuid4()}"}
    status, order = http.post("/orders", body, token=buyer["token"], headers=key)
    assert status == 201, order
    status, cancelled = http.post(f"/orders/{order['orderId']}/cancel", token=buyer["token"])
    assert status == 200, cancelled

    status, replay = http.post("/orders", body, token=buyer["token"], headers=key)

    assert (status, replay["orderId"], replay["status"]) == (201, order["orderId"], "CANCELLED")
    assert http.stock_of(product) == 5


def test_a_stale_expected_total_is_a_409_with_the_new_total(http, admin, buyer, new_product):
    """Issue #23 item 5, over HTTP: POST /orders and cart checkout refuse a changed total."""
    product = new_product(stock=5, price="20")
    path = f"/products/{product['productId']}"
    assert http.put(path, {"price": "999999"}, token=admin)[0] == 200
    body = {**order_body((product, 2)), "expectedTotal": "40.00"}

    status, error = http.post("/orders", body, token=buyer["token"])

    assert (status, error["code"], error["total"]) == (409, "PriceChanged", "1999998.00"), error
    assert (
        http.put(f"/cart/items/{product['productId']}", {"quantity": 2}, token=buyer["token"])[0]
        == 200
    )
    status, error = http.post(
        "/cart/checkout", {"expectedTotal": "40", **DELIVERY}, token=buyer["token"]
    )
    assert (status, error["code"], error["total"]) == (409, "PriceChanged", "1999998.00"), error
    assert http.stock_of(product) == 5
    assert http.get("/orders", token=buyer["token"])[1]["items"] == []
    status, order = http.post(
        "/cart/checkout", {"expectedTotal": "1999998.00", **DELIVERY}, token=buyer["token"]
    )
    assert (status, order["total"]) == (201, "1999998.00"), order


def test_a_cart_checkout_key_reused_for_another_cart_is_a_422(http, buyer, new_product):
    """Issue #23 item 6, over HTTP: the key stands for the cart's content."""
    product = new_product(stock=9)
    line = f"/cart/items/{product['productId']}"
    key = {"Idempotency-Key": f"cart-{uuid.uuid4()}"}
    assert http.put(line, {"quantity": 1}, token=buyer["token"])[0] == 200
    status, first = http.post("/cart/checkout", DELIVERY, token=buyer["token"], headers=key)
    assert status == 201, first
    status, again = http.post("/cart/checkout", DELIVERY, token=buyer["token"], headers=key)
    assert (status, again["orderId"]) == (201, first["orderId"])  # emptied cart: a retry
    assert http.put(line, {"quantity": 3}, token=buyer["token"])[0] == 200

    status, error = http.post("/cart/checkout", DELIVERY, token=buyer["token"], headers=key)

    assert (status, error["code"]) == (422, "IdempotencyKeyReused"), error
    assert http.stock_of(product) == 8


def test_five_simultaneous_cancels_cancel_once(http, buyer, new_product):
    product = new_product(stock=6)
    status, order = http.post("/orders", order_body((product, 4)), token=buyer["token"])
    assert status == 201, order
    assert http.stock_of(product) == 2
    path = f"/orders/{order['orderId']}/cancel"

    results = race(5, lambda i: http.post(path, token=buyer["token"]))

    statuses = sorted(status for status, _ in results)
    assert statuses == [200] + [409] * 4, results
    (cancelled,) = [body for status, body in results if status == 200]
    assert cancelled["status"] == "CANCELLED"
    assert all(body["code"] == "InvalidTransition" for status, body in results if status == 409)
    assert http.stock_of(product) == 6  # restored exactly once
    status, current = http.get(f"/orders/{order['orderId']}", token=buyer["token"])
    assert (status, current["status"]) == (200, "CANCELLED")
    # Still not cancellable afterwards, and the stock stays put.
    assert http.post(path, token=buyer["token"])[0] == 409
    assert http.stock_of(product) == 6


def test_an_admin_cancels_a_customers_order(http, admin, buyer, new_product):
    product = new_product(stock=2)
    _, order = http.post("/orders", order_body((product, 2)), token=buyer["token"])
    path = f"/orders/{order['orderId']}"

    status, cancelled = http.post(f"{path}/cancel", token=admin)

    assert (status, cancelled["status"]) == (200, "CANCELLED"), cancelled
    assert http.stock_of(product) == 2
    assert http.get(path, token=buyer["token"])[1]["status"] == "CANCELLED"


def test_admins_list_all_orders_newest_first_and_filter_by_user(http, admin, new_product):
    product = new_product(stock=10)
    alice, bob = http.sign_up(), http.sign_up()
    placed = []
    for customer in (alice, bob, alice):
        status, order = http.post("/orders", order_body((product, 1)), token=customer["token"])
        assert status == 201, order
        placed.append(order)

    status, page = http.get("/orders?limit=100", token=admin)
    assert status == 200, page
    listed = page["items"]
    created = [o["createdAt"] for o in listed]
    assert created == sorted(created, reverse=True)
    # Tests run one at a time, so nothing was ordered after these three.
    assert [o["orderId"] for o in listed[:3]] == [o["orderId"] for o in reversed(placed)]

    status, page = http.get(f"/orders?userId={alice['userId']}", token=admin)
    assert status == 200, page
    assert [o["orderId"] for o in page["items"]] == [placed[2]["orderId"], placed[0]["orderId"]]
    assert page["nextCursor"] is None

    # A customer sees only their own, newest first, one page at a time.
    seen, cursor = [], None
    while True:
        path = "/orders?limit=1" + (f"&cursor={cursor}" if cursor else "")
        status, page = http.get(path, token=alice["token"])
        assert status == 200, page
        seen += [o["orderId"] for o in page["items"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert seen == [placed[2]["orderId"], placed[0]["orderId"]]
    _, page = http.get("/orders", token=bob["token"])
    assert [o["orderId"] for o in page["items"]] == [placed[1]["orderId"]]
    # Another user's order is a 404 to a customer, visible to the admin.
    assert http.get(f"/orders/{placed[1]['orderId']}", token=alice["token"])[0] == 404
    assert http.get(f"/orders/{placed[1]['orderId']}", token=admin)[0] == 200


def test_an_empty_user_filter_is_a_400(http, admin):
    status, error = http.get("/orders?userId=", token=admin)

    assert (status, error["code"]) == (400, "ValidationError"), error
