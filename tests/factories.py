"""The test factories every suite shares: accounts, products, orders.

``ShopClient`` is the one JSON client (``scripts/http_client.py``) plus the few steps
most tests start from; the API tests run it over ``chalice.test.Client``, the
end-to-end tests over real HTTP.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from scripts.http_client import JsonClient

DEFAULT_PASSWORD = "correct-horse"
_emails = itertools.count(1)


@dataclass
class Account:
    """A signed-in user."""

    user_id: str
    email: str
    password: str
    token: str


def unique_email(prefix: str = "user") -> str:
    """An address no other test of this run has used."""
    return f"{prefix}{next(_emails)}@example.com"


class ShopClient(JsonClient):
    """The JSON client plus registration, sign-in and product creation, asserted."""

    def register(
        self, email: str | None = None, password: str = DEFAULT_PASSWORD, name: str = "Test User"
    ) -> Account:
        email = email or unique_email()
        reply = self.post("/users/register", {"email": email, "name": name, "password": password})
        assert reply.status == 201, reply.body
        return self.login(email, password)

    def login(self, email: str, password: str) -> Account:
        reply = self.post("/users/login", {"email": email, "password": password})
        assert reply.status == 200, reply.body
        return Account(reply.body["userId"], email, password, reply.body["token"])

    def create_product(self, admin: Account, **fields: Any) -> dict[str, Any]:
        body = {"name": "Widget", "price": 9.99, "stock": 10, **fields}
        reply = self.post("/products", body, token=admin.token)
        assert reply.status == 201, reply.body
        return dict(reply.body)


def make_order(order_id: str = "order-1", **overrides: Any) -> Any:
    """A stored-shape ``Order`` of user-1: 3 x 0.10 + 1 x 0.20 = 0.50, PENDING, unannounced."""
    from chalicelib.models import Order, OrderLine

    fields: dict[str, Any] = {
        "user_id": "user-1",
        "status": "PENDING",
        "items": [
            OrderLine(
                product_id="p1",
                name="Dime",
                quantity=3,
                unit_price=Decimal("0.10"),
                line_total=Decimal("0.30"),
            ),
            OrderLine(
                product_id="p2",
                name="Fifth",
                quantity=1,
                unit_price=Decimal("0.20"),
                line_total=Decimal("0.20"),
            ),
        ],
        "total": Decimal("0.50"),
        "created_at": "2030-01-01T00:00:00.000Z",
        "pending_event": "OrderPlaced",
        "event_at": "2030-01-01T00:00:00.000Z",
    }
    return Order(order_id, **{**fields, **overrides})


def stripe_signed(event: dict[str, Any], secret: str) -> tuple[bytes, str]:
    """A webhook body and its ``Stripe-Signature`` header, signed as Stripe signs them."""
    payload = json.dumps(event).encode()
    timestamp = int(time.time())
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256)
    return payload, f"t={timestamp},v1={mac.hexdigest()}"


def payment_intent_event(
    event_type: str, order: dict[str, Any], amount_received: int | None = None
) -> dict[str, Any]:
    """The smallest Stripe event about an order's PaymentIntent that the webhook reads.

    It received the order's total in USD cents unless ``amount_received`` says otherwise.
    """
    if amount_received is None:
        amount_received = int(Decimal(str(order["total"])) * 100)
    return {
        "id": "evt_1",
        "type": event_type,
        "data": {
            "object": {
                "id": order["payment"]["paymentIntentId"],
                "metadata": {"orderId": order["orderId"]},
                "amount_received": amount_received,
                "currency": "usd",
            }
        },
    }
