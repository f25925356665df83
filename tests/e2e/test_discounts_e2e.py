"""Discount codes and the audit trail over real HTTP against the local stack (issue #26):
50 checkouts racing for a code's last redemptions, a code's whole life, and the audit
trail of the admin's changes."""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

from tests.e2e.concurrency import race
from tests.e2e.test_orders_e2e import new_product  # noqa: F401 (fixture)
from tests.e2e.test_storefront_e2e import fill_cart
from tests.factories import DELIVERY


def new_code(http, admin: str, **terms: Any) -> dict[str, Any]:
    code = f"E2E-{uuid.uuid4().hex[:8]}".upper()
    status, body = http.post("/discounts", {"code": code, **terms}, token=admin)
    assert status == 201, body
    return dict(body)


def redemptions(http, admin: str, code: str) -> int:
    status, body = http.get(f"/discounts/{code}", token=admin)
    assert status == 200, body
    return int(body["redemptions"])


def test_fifty_checkouts_at_a_code_s_limit_redeem_exactly_the_limit(http, admin, new_product):  # noqa: F811
    limit = 5
    buyers = race(50, lambda i: http.sign_up())
    product = new_product(stock=100)
    code = new_code(http, admin, percentOff=20, maxRedemptions=limit)["code"]
    for buyer in buyers:
        fill_cart(http, buyer, product)

    results = race(
        50,
        lambda i: http.post(
            "/cart/checkout", {"discountCode": code, **DELIVERY}, token=buyers[i]["token"]
        ),
    )

    statuses = Counter(status for status, _ in results)
    assert statuses == {201: limit, 409: 50 - limit}, results
    for status, body in results:
        if status == 409:
            assert (body["code"], body["reason"]) == ("DiscountUnavailable", "used-up"), body
        else:
            assert body["discountCode"] == code
            assert body["items"][0]["discount"] == "1.45"  # 20% of 7.25
    assert redemptions(http, admin, code) == limit
    assert http.stock_of(product) == 100 - limit  # the refused checkouts wrote nothing
    refused = [b for b, (status, _) in zip(buyers, results, strict=True) if status == 409]
    for buyer in refused:
        _, cart = http.get("/cart", token=buyer["token"])
        assert [line["quantity"] for line in cart["items"]] == [1]


def test_a_code_from_creation_to_retirement_with_its_audit_trail(http, admin, new_product):  # noqa: F811
    product = new_product(stock=10, price=20)
    code = new_code(http, admin, amountOff="5", minSubtotal="30", oncePerCustomer=True)["code"]
    buyer = http.sign_up()
    body = {
        "items": [{"productId": product["productId"], "quantity": 1}],
        "discountCode": code,
        **DELIVERY,
    }

    status, below = http.post("/orders", body, token=buyer["token"])
    assert (status, below["reason"]) == (409, "below-minimum")
    body["items"][0]["quantity"] = 2
    status, order = http.post("/orders", body, token=buyer["token"])
    assert status == 201, order
    assert order["discountCode"] == code
    assert order["items"][0]["discount"] == "5.00"
    assert order["total"] == "35.00"  # collected from the store in Oregon: no tax
    status, again = http.post("/orders", body, token=buyer["token"])
    assert (status, again["reason"]) == (409, "already-used")
    assert redemptions(http, admin, code) == 1

    status, _ = http.post(f"/orders/{order['orderId']}/cancel", token=buyer["token"])
    assert status == 200
    assert redemptions(http, admin, code) == 0  # given back with the cancellation
    status, reordered = http.post("/orders", body, token=buyer["token"])
    assert status == 201, reordered

    status, _ = http.put(f"/discounts/{code}", {"amountOff": "6"}, token=admin)
    assert status == 200
    status, retired = http.post(f"/discounts/{code}/retire", token=admin)
    assert (status, retired["retired"], retired["redemptions"]) == (200, True, 1)
    other = http.sign_up()
    status, refused = http.post("/orders", body, token=other["token"])
    assert (status, refused["reason"]) == (409, "retired")

    status, trail = http.get(f"/audit?entity=discount:{code}", token=admin)
    assert status == 200, trail
    assert [e["action"] for e in trail["items"]] == [
        "discount.retire",
        "discount.update",
        "discount.create",
    ]
    assert trail["items"][1]["before"] == {"amountOff": "5.00"}
    assert trail["items"][1]["after"] == {"amountOff": "6.00"}
    status, products = http.get(f"/audit?entity=product:{product['productId']}", token=admin)
    assert [e["action"] for e in products["items"]] == ["product.create"]
    assert http.delete("/audit", token=admin)[0] in (403, 405)
