"""Every listing's ``?cursor=`` opens only what this server issued for it (issue #23 item 1).

Before: a cursor was base64url JSON read as is, so ``GET /products?cursor=<1,200 '['>``
raised a ``RecursionError`` (a 500, anonymous), and a forged position was read as one.
After: cursors are sealed with an HMAC tag (chalicelib/pagination.py); anything else, a
cursor of another listing included, is a 400 before any JSON is parsed.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from tests.factories import Account

NESTED = "[" * 1200  # the attack run's 500; 900 deep was a 400 already


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


# A well-formed key of each listing, exactly as cursors used to be written (no tag).
UNSIGNED = {
    "products": {"catalogue": {"S": "PRODUCT"}, "nameKey": {"S": "a"}, "productId": {"S": "p"}},
    "orders": {"orderId": {"S": "o"}, "userId": {"S": "u"}, "createdAt": {"S": "c"}},
    "users": {"pk": {"S": "USER#u"}},
    "shards": [None, None, None, "done"],
}


@pytest.fixture
def listings(api, admin, customer) -> dict[str, tuple[str, Account | None]]:
    """Each listing, with the caller that reads it, holding at least two pages of 1."""
    product_ids = [
        api.create_product(admin, name=f"Item {i}", price="1", stock=5, category="books")[
            "productId"
        ]
        for i in range(2)
    ]
    for product_id in product_ids:
        reply = api.post(
            "/orders", {"items": [{"productId": product_id, "quantity": 1}]}, token=customer.token
        )
        assert reply.status == 201, reply.body
    return {
        "products": ("/products", None),
        "products by category": ("/products?category=books", None),
        "products by name": ("/products?q=item", None),
        "own orders": ("/orders", customer),
        "all orders": ("/orders", admin),
        "orders by status": ("/orders?status=PENDING", admin),
        "one user's orders": (f"/orders?userId={customer.user_id}", admin),
        "users": ("/users", admin),
    }


def _get(api, path: str, caller: Account | None, **params: str) -> Any:
    joiner = "&" if "?" in path else "?"
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return api.get(f"{path}{joiner}{query}", token=caller.token if caller else None)


def _bad(reply: Any) -> None:
    assert reply.status == 400, reply.body
    assert reply.body["code"] == "ValidationError"
    assert "cursor" in reply.body["error"]


def test_every_listing_walks_its_pages_with_the_cursors_it_issued(api, listings):
    for name, (path, caller) in listings.items():
        first = _get(api, path, caller, limit="1")
        assert first.status == 200, (name, first.body)
        cursor = first.body["nextCursor"]
        assert cursor, name
        second = _get(api, path, caller, limit="1", cursor=cursor)
        assert second.status == 200, (name, second.body)
        assert second.body["items"] and second.body["items"] != first.body["items"], name


@pytest.mark.parametrize(
    "cursor",
    [
        pytest.param(_b64(NESTED), id="nested-1200"),
        pytest.param(_b64("{" + '"a":{' * 1500), id="nested-objects"),
        pytest.param(_b64("1" * 5000), id="huge-number"),
        *(pytest.param(_b64(json.dumps(v)), id=f"unsigned-{k}") for k, v in UNSIGNED.items()),
    ],
)
def test_every_listing_answers_400_to_a_cursor_it_did_not_issue(api, listings, cursor):
    for path, caller in listings.values():
        _bad(_get(api, path, caller, cursor=cursor))


def test_a_cursor_is_refused_by_every_other_listing(api, listings):
    issued = {
        name: _get(api, path, caller, limit="1").body["nextCursor"]
        for name, (path, caller) in listings.items()
    }
    for name, (path, caller) in listings.items():
        for other, cursor in issued.items():
            # The customer's own orders and an admin's view of them are one listing.
            same = {name, other} == {"own orders", "one user's orders"}
            if other != name and not same:
                _bad(_get(api, path, caller, limit="1", cursor=cursor))


def test_another_users_order_cursor_is_refused(api, listings, customer):
    path, admin = listings["one user's orders"]
    cursor = _get(api, path, admin, limit="1").body["nextCursor"]
    someone = api.register()
    _bad(_get(api, "/orders", someone, cursor=cursor))


@pytest.mark.parametrize("space", ["\u00a0", "\u3000"])
def test_a_page_ending_on_a_name_with_a_non_ascii_space_pages_on(api, admin, space):
    """Seen in the e2e run: a product named with a no-break or ideographic space (which
    Python's isprintable() refuses) ended the first page, and its cursor was a 400."""
    for name in (f"A{space}lamp", "B lamp"):
        api.create_product(admin, name=name, price="1", stock=1)
    first = api.get("/products?limit=1")
    assert first.status == 200 and first.body["nextCursor"], first.body
    second = api.get(f"/products?limit=1&cursor={first.body['nextCursor']}")
    assert second.status == 200, second.body
    assert [p["name"] for p in first.body["items"] + second.body["items"]] == [
        f"A{space}lamp",
        "B lamp",
    ]
