"""Bounded keys and echoes (issue #23 item 9).

moto does not enforce DynamoDB's key limits (2,048 bytes for a partition key, 1,024 for a
sort key), so these tests measure what would reach DynamoDB. Before: a login email of
254 x U+3316 became a 4,572-byte key (a 500 on AWS), an email of 130 x "é" (272 bytes)
registered, a product name of 200 x "ΐ" made a 1,200-byte index sort key, and 404 messages
repeated path ids of any length.
"""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.models import MAX_NAME_KEY_BYTES, Product
from chalicelib.text import ECHO_LIMIT, MAX_EMAIL_BYTES

KEY_LIMIT = {"hash": 2048, "range": 1024}
LONG_ID = "x" * 5000


def _key_sizes(aws_calls) -> list[int]:
    """The byte size of every string key value sent in a Key/Keys of a DynamoDB call."""
    sizes = []
    for service, _, params in aws_calls.calls:
        if service != "dynamodb":
            continue
        pending: list[Any] = [params]
        while pending:
            node = pending.pop()
            if isinstance(node, dict):
                for name, value in node.items():
                    keys = [value] if name == "Key" else value if name == "Keys" else None
                    if keys is None:
                        pending.append(value)
                        continue
                    for key in keys:
                        sizes += [len(v["S"].encode()) for v in key.values() if "S" in v]
            elif isinstance(node, list):
                pending.extend(node)
    return sizes


def _bad_email(reply: Any) -> None:
    assert reply.status == 400, reply.body
    assert reply.body["code"] == "ValidationError" and reply.body["field"] == "email"
    assert f"{MAX_EMAIL_BYTES} bytes" in reply.body["error"]


def test_a_login_email_that_normalises_past_254_bytes_is_a_400_without_a_lookup(api, aws_calls):
    email = "\u3316" * 254  # 254 characters; NFKC makes 4,572 bytes of it
    reply = api.post("/users/login", {"email": email, "password": "whatever-it-is"})
    _bad_email(reply)
    assert aws_calls.dynamodb() == []


def test_registration_counts_the_normalised_email_in_bytes(api, aws_calls):
    local = "é" * 130  # 142 characters with the domain, 272 bytes in UTF-8
    _bad_email(
        api.post(
            "/users/register",
            {"email": f"{local}@example.com", "name": "E", "password": "long-enough"},
        )
    )
    # 254 bytes exactly is fine.
    fits = "é" * 120 + "a" * 2 + "@example.com"
    assert len(fits.encode()) == MAX_EMAIL_BYTES
    reply = api.post("/users/register", {"email": fits, "name": "E", "password": "long-enough"})
    assert reply.status == 201, reply.body
    assert all(size <= KEY_LIMIT["hash"] for size in _key_sizes(aws_calls))


def test_a_product_name_never_makes_an_index_sort_key_over_the_limit(api, admin):
    name = "\u0390" * 200  # case-folds to 1,200 bytes
    created = api.create_product(admin, name=name, price="1", stock=1)
    stored = Product.get(created["productId"])
    assert stored.name == name  # the name itself is kept whole
    assert len(stored.name_key.encode()) <= MAX_NAME_KEY_BYTES < KEY_LIMIT["range"]
    # A search by a prefix of the name still finds it, however long the prefix.
    for q in ("\u0390" * 3, "\u0390" * 100):
        found = api.get(f"/products?q={q}").body["items"]
        assert [p["productId"] for p in found] == [created["productId"]], q


@pytest.mark.parametrize(
    ("method", "path", "role"),
    [
        ("GET", "/products/{id}", None),
        ("PUT", "/products/{id}", "admin"),
        ("DELETE", "/products/{id}", "admin"),
        ("GET", "/orders/{id}", "customer"),
        ("POST", "/orders/{id}/cancel", "customer"),
        ("GET", "/users/{id}", "admin"),
        ("DELETE", "/users/{id}", "admin"),
        ("PUT", "/cart/items/{id}", "customer"),
        ("DELETE", "/cart/items/{id}", "customer"),
    ],
)
def test_a_404_repeats_at_most_a_short_prefix_of_the_id(api, admin, customer, method, path, role):
    token = {"admin": admin.token, "customer": customer.token, None: None}[role]
    body = (
        {"quantity": 1} if path.startswith("/cart") else {"name": "n"} if method == "PUT" else None
    )
    reply = api.request(method, path.replace("{id}", LONG_ID), body, token=token)
    assert reply.status == 404, reply.body
    assert LONG_ID[: ECHO_LIMIT + 1] not in reply.body["error"]
    assert len(reply.body["error"]) < ECHO_LIMIT + 40, reply.body


def test_an_unknown_product_in_an_order_is_named_by_a_short_prefix(api, customer):
    long_id = "y" * 64  # the longest id the schema admits
    reply = api.post(
        "/orders", {"items": [{"productId": long_id, "quantity": 1}]}, token=customer.token
    )
    assert reply.status == 400, reply.body
    assert long_id not in reply.body["error"] and long_id[:ECHO_LIMIT] in reply.body["error"]
    assert reply.body["productIds"] == [long_id]  # the machine-readable list is whole
