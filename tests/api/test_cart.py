"""The cart and its checkout (issue #12): calls, limits, atomicity, idempotency."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.models import CartRecord, Product
from tests.api.test_products import assert_error


@pytest.fixture
def goods(api, admin) -> list[dict]:
    return [
        api.create_product(admin, name="Pen", price="1.50", stock=10),
        api.create_product(admin, name="Ink", price="4.00", stock=2),
    ]


def fill(api, account, goods, quantities=(2, 1)) -> dict:
    reply = None
    for product, quantity in zip(goods, quantities, strict=True):
        reply = api.put(
            f"/cart/items/{product['productId']}", {"quantity": quantity}, token=account.token
        )
        assert reply.status == 200, reply.body
    return reply.body


def test_an_empty_cart(api, customer):
    assert api.get("/cart", token=customer.token).body == {
        "items": [],
        "total": "0.00",
        "currency": "USD",
        "updatedAt": None,
        "totals": dict.fromkeys(("subtotal", "shipping", "tax", "discount", "total"), "0.00"),
        "totalsFor": None,
    }
    assert_error(api.get("/cart"), 401)


def test_fill_read_and_remove(api, customer, goods, aws_calls):
    body = fill(api, customer, goods)
    assert [(i["name"], i["quantity"], i["lineTotal"]) for i in body["items"]] == [
        ("Pen", 2, "3.00"),
        ("Ink", 1, "4.00"),
    ]
    assert body["total"] == "7.00" and body["updatedAt"]
    assert body["currency"] == "USD"
    assert all(i["available"] for i in body["items"])
    aws_calls.clear()
    assert api.get("/cart", token=customer.token).body == body
    assert aws_calls.dynamodb() == ["BatchGetItem", "BatchGetItem"]
    tables = set(aws_calls.calls[0][2]["RequestItems"])
    assert tables == {CartRecord.Meta.table_name}
    keys = aws_calls.calls[0][2]["RequestItems"][CartRecord.Meta.table_name]["Keys"]
    assert len(keys) == 2  # profile and cart together
    reply = api.delete(f"/cart/items/{goods[0]['productId']}", token=customer.token)
    assert [i["name"] for i in reply.body["items"]] == ["Ink"]
    # Removing a line that is not there is fine.
    again = api.delete(f"/cart/items/{goods[0]['productId']}", token=customer.token)
    assert again.status == 200 and len(again.body["items"]) == 1
    assert api.delete("/cart", token=customer.token).status == 204
    assert api.get("/cart", token=customer.token).body["items"] == []


def test_prices_are_current_and_availability_follows_stock(api, admin, customer, goods):
    fill(api, customer, goods, (2, 3))
    api.put(f"/products/{goods[0]['productId']}", {"price": "2.00"}, token=admin.token)
    body = api.get("/cart", token=customer.token).body
    assert body["items"][0]["unitPrice"] == "2.00" and body["items"][0]["available"] is True
    assert body["items"][1]["available"] is False  # 3 wanted, 2 in stock
    api.delete(f"/products/{goods[0]['productId']}", token=admin.token)
    gone = api.get("/cart", token=customer.token).body["items"][0]
    assert gone["available"] is False and gone["name"] is None
    assert gone["unitPrice"] is None and gone["lineTotal"] is None


def test_carts_are_private(api, customer, goods):
    fill(api, customer, goods)
    other = api.register()
    assert api.get("/cart", token=other.token).body["items"] == []


def test_bad_lines(api, admin, customer, goods):
    path = f"/cart/items/{goods[0]['productId']}"
    for quantity in (0, 1001, "1", 1.5, None):
        assert_error(api.put(path, {"quantity": quantity}, token=customer.token), 400)
    assert_error(api.put(path, {"quantity": 1, "extra": 1}, token=customer.token), 400)
    assert_error(api.put("/cart/items/nope", {"quantity": 1}, token=customer.token), 404)
    assert_error(api.put(f"/cart/items/{'x' * 200}", {"quantity": 1}, token=customer.token), 404)
    assert_error(api.put(path, {"quantity": 1}), 401)


def test_the_26th_product_is_a_400(api, admin, customer):
    from decimal import Decimal

    from chalicelib import products

    made = [
        products.create_product({"name": f"n{i}", "price": Decimal(1), "stock": 5})["productId"]
        for i in range(26)
    ]
    for product_id in made[:25]:
        reply = api.put(f"/cart/items/{product_id}", {"quantity": 1}, token=customer.token)
        assert reply.status == 200
    assert_error(api.put(f"/cart/items/{made[25]}", {"quantity": 1}, token=customer.token), 400)
    # Changing a line already there is still fine.
    assert api.put(f"/cart/items/{made[0]}", {"quantity": 3}, token=customer.token).status == 200


def test_the_cart_expires_30_days_after_its_last_change(api, customer, goods):
    fill(api, customer, goods)
    stored = CartRecord.get(CartRecord.key_for(customer.user_id))
    expected = datetime.now(UTC) + timedelta(days=30)
    assert abs((stored.expires_at - expected).total_seconds()) < 60


def test_checkout_places_the_order_and_empties_the_cart(api, customer, goods, aws_calls):
    fill(api, customer, goods)
    aws_calls.clear()
    reply = api.post("/cart/checkout", token=customer.token)
    assert reply.status == 201, reply.body
    assert aws_calls.dynamodb() == ["BatchGetItem", "BatchGetItem", "TransactWriteItems"]
    order = reply.body
    assert order["status"] == "PENDING" and order["total"] == "7.00"
    assert [(i["productId"], i["quantity"]) for i in order["items"]] == [
        (goods[0]["productId"], 2),
        (goods[1]["productId"], 1),
    ]
    assert api.get(f"/orders/{order['orderId']}", token=customer.token).body == order
    assert api.get("/cart", token=customer.token).body["items"] == []
    assert int(Product.get(goods[1]["productId"]).stock) == 1
    assert_error(api.post("/cart/checkout", token=customer.token), 409, "CartEmpty")


def test_insufficient_stock_names_products_and_keeps_the_cart(api, customer, goods):
    before = fill(api, customer, goods, (2, 3))
    reply = api.post("/cart/checkout", token=customer.token)
    assert_error(reply, 409, "InsufficientStock")
    assert reply.body["productIds"] == [goods[1]["productId"]]
    assert api.get("/cart", token=customer.token).body["updatedAt"] == before["updatedAt"]
    assert int(Product.get(goods[0]["productId"]).stock) == 10


def test_a_deleted_product_is_a_409_naming_it(api, admin, customer, goods):
    fill(api, customer, goods)
    api.delete(f"/products/{goods[1]['productId']}", token=admin.token)
    reply = api.post("/cart/checkout", token=customer.token)
    assert_error(reply, 409, mentions=goods[1]["productId"])
    assert reply.body["productIds"] == [goods[1]["productId"]]
    assert len(api.get("/cart", token=customer.token).body["items"]) == 2


def test_checkout_with_an_idempotency_key_replays(api, customer, goods):
    fill(api, customer, goods)
    headers = {"Idempotency-Key": "cart-1"}
    first = api.post("/cart/checkout", token=customer.token, headers=headers)
    assert first.status == 201
    again = api.post("/cart/checkout", token=customer.token, headers=headers)
    assert again.status == 201 and again.body == first.body
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert int(Product.get(goods[0]["productId"]).stock) == 8
    listed = api.get("/orders", token=customer.token).body["items"]
    assert len(listed) == 1
    assert_error(
        api.post("/cart/checkout", token=customer.token, headers={"Idempotency-Key": ""}), 400
    )


def test_a_cart_changed_during_checkout_is_not_emptied(api, customer, goods, monkeypatch):
    """The cart's deletion is conditional on the cart read: an edit in between wins."""
    from chalicelib import cart

    fill(api, customer, goods)
    original = cart.place

    def edit_then_commit(*args, **kwargs):
        api.put(f"/cart/items/{goods[0]['productId']}", {"quantity": 5}, token=customer.token)
        return original(*args, **kwargs)

    monkeypatch.setattr(cart, "place", edit_then_commit)
    assert_error(api.post("/cart/checkout", token=customer.token), 409)
    assert api.get("/cart", token=customer.token).body["items"][0]["quantity"] == 5
    assert int(Product.get(goods[0]["productId"]).stock) == 10
    assert api.get("/orders", token=customer.token).body["items"] == []


# --- issue #23: the price guard and truthful replays -------------------------------


def test_checkout_with_a_stale_expected_total_is_409_and_writes_nothing(
    api, admin, customer, goods, aws_calls
):
    cart = fill(api, customer, goods)
    api.put(f"/products/{goods[0]['productId']}", {"price": "999999"}, token=admin.token)
    aws_calls.clear()

    reply = api.post("/cart/checkout", {"expectedTotal": cart["total"]}, token=customer.token)

    assert_error(reply, 409, "PriceChanged")
    now = api.get("/cart", token=customer.token).body
    assert reply.body["total"] == now["total"] != cart["total"]
    assert "TransactWriteItems" not in aws_calls.dynamodb()
    assert len(now["items"]) == 2
    assert int(Product.get(goods[0]["productId"]).stock) == 10
    assert api.get("/orders", token=customer.token).body["items"] == []
    # The total the buyer has now seen is accepted.
    agreed = api.post("/cart/checkout", {"expectedTotal": now["total"]}, token=customer.token)
    assert agreed.status == 201, agreed.body
    assert agreed.body["total"] == now["total"]


def test_the_same_key_with_a_different_cart_is_422(api, customer, goods):
    headers = {"Idempotency-Key": "cart-2"}
    fill(api, customer, goods)
    first = api.post("/cart/checkout", token=customer.token, headers=headers)
    assert first.status == 201, first.body
    fill(api, customer, goods, quantities=(1, 3))

    reply = api.post("/cart/checkout", token=customer.token, headers=headers)

    assert_error(reply, 422, "IdempotencyKeyReused")
    assert len(api.get("/cart", token=customer.token).body["items"]) == 2  # untouched
    assert [o["orderId"] for o in api.get("/orders", token=customer.token).body["items"]] == [
        first.body["orderId"]
    ]


def test_a_checkout_replay_shows_the_order_as_it_is_now(api, customer, goods):
    headers = {"Idempotency-Key": "cart-3"}
    fill(api, customer, goods)
    first = api.post("/cart/checkout", token=customer.token, headers=headers).body
    cancelled = api.post(f"/orders/{first['orderId']}/cancel", token=customer.token)
    assert cancelled.status == 200

    again = api.post("/cart/checkout", token=customer.token, headers=headers)

    assert again.status == 201 and again.headers.get("Idempotent-Replayed") == "true"
    assert again.body["status"] == "CANCELLED"
    assert again.body == cancelled.body
