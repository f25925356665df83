"""What the attack run of issue #23 tried, over HTTP against the local stack.

Item 1: hostile cursors on every listing are a 400 (1,200 '[' was an anonymous 500).
Item 9: emails longer than 254 bytes once normalised are a 400; errors echo a short id prefix.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest

from tests.factories import DELIVERY, ShopClient


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


HOSTILE = {
    "nested-1200": _b64("[" * 1200),
    "nested-4000": _b64("[" * 4000),
    "unsigned-key": _b64(
        json.dumps({"catalogue": {"S": "PRODUCT"}, "nameKey": {"S": "a"}, "productId": {"S": "p"}})
    ),
    "unsigned-positions": _b64(json.dumps([None, None, None, "done"])),
}


@pytest.fixture(scope="module")
def listings(http: ShopClient, admin: str) -> dict[str, tuple[str, str | None]]:
    customer = http.register()
    placed_ids: list[str] = []
    for i in range(2):
        reply = http.post(
            "/products",
            {"name": f"Cursor item {i}", "price": "2", "stock": 5, "category": "cursors"},
            token=admin,
        )
        assert reply.status == 201, reply.body
        placed = http.post(
            "/orders",
            {"items": [{"productId": reply.body["productId"], "quantity": 1}], **DELIVERY},
            token=customer.token,
        )
        assert placed.status == 201, placed.body
        placed_ids.append(placed.body["orderId"])
    # The subscriber confirms them within a moment: then CONFIRMED has two pages of one.
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        statuses = {http.get(f"/orders/{o}", token=admin).body["status"] for o in placed_ids}
        if statuses == {"CONFIRMED"}:
            break
        time.sleep(0.2)
    return {
        "products": ("/products", None),
        "products by category": ("/products?category=cursors", None),
        "products by name": ("/products?q=cursor", None),
        "own orders": ("/orders", customer.token),
        "all orders": ("/orders", admin),
        "orders by status": ("/orders?status=CONFIRMED", admin),
        "one user's orders": (f"/orders?userId={customer.user_id}", admin),
        "users": ("/users", admin),
    }


def _page(http: ShopClient, path: str, token: str | None, cursor: str | None = None) -> Any:
    query = "limit=1" + (f"&cursor={cursor}" if cursor is not None else "")
    return http.get(f"{path}{'&' if '?' in path else '?'}{query}", token=token)


@pytest.mark.parametrize("hostile", sorted(HOSTILE))
def test_every_listing_answers_a_hostile_cursor_with_400(http, listings, hostile):
    for name, (path, token) in listings.items():
        reply = _page(http, path, token, HOSTILE[hostile])
        assert reply.status == 400, (name, reply.status, reply.body)
        assert reply.body["code"] == "ValidationError" and "cursor" in reply.body["error"]


def test_issued_cursors_page_on_and_are_refused_by_other_listings(http, listings):
    issued = {}
    for name, (path, token) in listings.items():
        first = _page(http, path, token)
        assert first.status == 200 and first.body["nextCursor"], (name, first.body)
        issued[name] = first.body["nextCursor"]
        second = _page(http, path, token, issued[name])
        assert second.status == 200, (name, second.body)
    same_listing = {"own orders", "one user's orders"}
    for name, (path, token) in listings.items():
        for other, cursor in issued.items():
            if other != name and {name, other} != same_listing:
                assert _page(http, path, token, cursor).status == 400, (name, other)


# --- item 9: bounded keys and echoes --------------------------------------------------------


def test_emails_over_254_bytes_once_normalised_are_a_400(http):
    for path, body in (
        ("/users/login", {"email": "\u3316" * 254, "password": "whatever-it-is"}),
        (
            "/users/register",
            {"email": "é" * 130 + "@example.com", "name": "E", "password": "long-enough"},
        ),
    ):
        reply = http.post(path, body)
        assert reply.status == 400, (path, reply.body)
        assert reply.body["field"] == "email" and "254 bytes" in reply.body["error"]


def test_a_404_repeats_only_a_short_prefix_of_a_long_id(http, admin):
    long_id = "z" * 20_000
    for path, token in (
        (f"/products/{long_id}", None),
        (f"/orders/{long_id}", admin),
        (f"/users/{long_id}", admin),
    ):
        reply = http.get(path, token=token)
        assert reply.status == 404, (path, reply.body)
        assert len(reply.body["error"]) < 80, reply.body


def test_a_long_folded_name_is_stored_and_found(http, admin):
    name = "\u0390" * 200  # case-folds to 1,200 bytes, over DynamoDB's 1,024 for a sort key
    created = http.post("/products", {"name": name, "price": "3", "stock": 1}, token=admin)
    assert created.status == 201, created.body
    found = http.get(f"/products?q={'%CE%90' * 100}").body["items"]
    assert created.body["productId"] in [p["productId"] for p in found]
