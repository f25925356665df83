"""Requests the fuzzer (``test_fuzz.py``) found answered wrongly, replayed on every run.

Each is checked like a fuzzed request (no 5xx, the answer is one the document declares, no
DynamoDB key outside DynamoDB's limits) and, where one status is clearly right, against it.
Paths may name ``{customer}``, ``{admin}``, ``{product}`` and ``{order}``: ids of the fuzz
world's customer, admin, first product and the customer's order. ``role`` signs the request
in as that account ("customer", "other", "admin") or not at all ("anonymous").
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Regression:
    name: str
    method: str
    path: str
    role: str = "anonymous"
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    expect: int | None = None  # the status the app should answer, when one is clearly right


def _cursor(key: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


_TEXT = {"Content-Type": "text/plain"}
_JWT_HEADER = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"

_NESTED = base64.urlsafe_b64encode(b"[" * 1200).decode().rstrip("=")

REGRESSIONS: list[Regression] = [
    # Fixed: kept so they stay fixed.
    # A forged cursor whose key holds a lone surrogate was sent to DynamoDB as is; cursors
    # are sealed now (issue #23 item 1): one the app never issued is a 400 like every other.
    Regression("products-cursor-lone-surrogate", "GET",
               "/products?cursor=" + _cursor({"productId": {"S": "\ud800"}}), expect=400),
    # The attack run of issue #23: 1,200 nested '[' raised a RecursionError (500) on every
    # listing, anonymous ones included.
    Regression("products-cursor-nested", "GET", "/products?cursor=" + _NESTED, expect=400),
    Regression("products-category-cursor-nested", "GET",
               "/products?category=general&cursor=" + _NESTED, expect=400),
    Regression("orders-cursor-nested", "GET", "/orders?cursor=" + _NESTED, "customer", expect=400),
    Regression("all-orders-cursor-nested", "GET", "/orders?cursor=" + _NESTED, "admin",
               expect=400),
    Regression("orders-status-cursor-nested", "GET", "/orders?status=PENDING&cursor=" + _NESTED,
               "admin", expect=400),
    Regression("users-cursor-nested", "GET", "/users?cursor=" + _NESTED, "admin", expect=400),
    # An empty ?userId= reached DynamoDB as an empty key value (ValidationException, 500).
    Regression("orders-empty-userId-as-admin", "GET", "/orders?userId=", "admin", expect=400),
    # Moto answered 200, but a key value over 2048 bytes is a ValidationException (500) on
    # DynamoDB: the query parameter had no length bound before it became the byUser key.
    Regression("orders-2049-byte-userId-as-admin", "GET", "/orders?userId=" + "a" * 2049, "admin",
               expect=400),
    Regression(
        "register-lone-surrogate-password", "POST", "/users/register",
        body=b'{"email": "s@example.com", "name": "S", "password": "\\ud800-long-enough"}',
        expect=400,
    ),
    Regression("product-lone-surrogate-name", "POST", "/products", "admin",
               body=b'{"name": "\\udfff", "price": 1}', expect=400),
    Regression("product-price-huge-exponent", "POST", "/products", "admin",
               body=b'{"name": "N", "price": 1e999999999999}', expect=400),
    Regression("products-cursor-oversized-key", "GET",
               "/products?cursor=" + _cursor({"productId": {"S": "\U0001f600" * 1024}}),
               expect=400),
    Regression("products-limit-superscript-two", "GET", "/products?limit=%C2%B2", expect=400),
    Regression("token-non-ascii-payload", "GET", "/users/{customer}",
               headers={"Authorization": f"Bearer {_JWT_HEADER}.\u00e9.AAAA"}, expect=401),
    # Open: Chalice checks Content-Type on every route (default content_types), so a body-less
    # request carrying a non-JSON Content-Type is a 415 the document does not declare.
    Regression("openapi-text-plain", "GET", "/openapi.json", headers=_TEXT),
    Regression("products-list-text-plain", "GET", "/products", headers=_TEXT),
    Regression("products-read-text-plain", "GET", "/products/{product}", headers=_TEXT),
    Regression("users-list-text-plain", "GET", "/users", "admin", headers=_TEXT),
    Regression("users-read-text-plain", "GET", "/users/{customer}", "customer", headers=_TEXT),
    Regression("orders-list-text-plain", "GET", "/orders", "customer", headers=_TEXT),
    Regression("orders-read-text-plain", "GET", "/orders/{order}", "customer", headers=_TEXT),
    Regression("orders-cancel-text-plain", "POST", "/orders/{order}/cancel", "customer",
               headers=_TEXT),
    # (All cases share one world, run in this order: the ones that delete things come last.)
    Regression("products-delete-empty-type", "DELETE", "/products/{product}", "admin",
               headers={"Content-Type": ""}),
    Regression("users-delete-text-plain", "DELETE", "/users/{customer}", "customer",
               headers=_TEXT),
]  # fmt: skip
