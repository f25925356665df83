"""The test factories every suite shares: accounts, products, orders, stock.

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

from scripts.http_client import JsonClient, Reply

DEFAULT_PASSWORD = "correct-horse"
# Where the tests' orders go unless a test says otherwise: Oregon has no sales tax, and the
# Portland store's pickup is free, so an order's total is its goods (chalicelib/stages/local).
ADDRESS = {
    "name": "Test Buyer",
    "line1": "1 Main St",
    "city": "Portland",
    "region": "OR",
    "postalCode": "97201",
    "country": "US",
}
PICKUP = "pickup"
# The delivery fields of an order or checkout body that ships like the tests' default.
DELIVERY = {"shippingAddress": ADDRESS, "shippingMethod": PICKUP}
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


def line(product: dict[str, Any] | str, quantity: int = 1) -> dict[str, Any]:
    """One line of an order or checkout body, for a product (or its id)."""
    product_id = product if isinstance(product, str) else product["productId"]
    return {"productId": product_id, "quantity": quantity}


def an_address(**changes: Any) -> dict[str, Any]:
    """A valid US address (AddressInput), with ``changes``; a change to None drops the field."""
    address = {
        "name": "Ada Lovelace",
        "line1": "1 Main Street",
        "city": "Springfield",
        "region": "IL",
        "postalCode": "62701",
        "country": "US",
        **changes,
    }
    return {name: value for name, value in address.items() if value is not None}


def token_of(buyer: Account | dict[str, Any] | str) -> str:
    """The bearer token of an ``Account``, a signed-in profile dict, or a token itself."""
    if isinstance(buyer, Account):
        return buyer.token
    return buyer if isinstance(buyer, str) else str(buyer["token"])


def stored(order_id: str) -> Any:
    """The order as stored now (a consistent read of the ``Order`` model)."""
    from chalicelib.models import Order

    return Order.get(order_id, consistent_read=True)


def stored_product(product_id: str) -> Any:
    """The product as stored now (a consistent read of the ``Product`` model)."""
    from chalicelib.models import Product

    return Product.get(product_id, consistent_read=True)


class ShopClient(JsonClient):
    """The JSON client plus registration, sign-in and product creation, asserted."""

    def register(
        self, email: str | None = None, password: str = DEFAULT_PASSWORD, name: str = "Test User"
    ) -> Account:
        profile = self.sign_up(email, password, name)
        return Account(profile["userId"], profile["email"], password, profile["token"])

    def sign_up(
        self, email: str | None = None, password: str = DEFAULT_PASSWORD, name: str = "Test User"
    ) -> dict[str, Any]:
        """Register and sign in, asserted: the new profile plus its ``token`` and ``password``."""
        email = email or unique_email()
        reply = self.post("/users/register", {"email": email, "name": name, "password": password})
        assert reply.status == 201, reply.body
        signed_in = self.login(email, password)
        return {**reply.body, "token": signed_in.token, "password": password}

    def login(self, email: str, password: str) -> Account:
        reply = self.post("/users/login", {"email": email, "password": password})
        assert reply.status == 200, reply.body
        return Account(reply.body["userId"], email, password, reply.body["token"])

    def create_product(self, admin: Account, **fields: Any) -> dict[str, Any]:
        body = {"name": "Widget", "price": "9.99", "stock": 10, **fields}
        reply = self.post("/products", body, token=admin.token)
        assert reply.status == 201, reply.body
        return dict(reply.body)

    def add_address(self, buyer: Account, **changes: Any) -> dict[str, Any]:
        """``POST /users/{id}/addresses`` of ``an_address(**changes)``, asserted added (201)."""
        path = f"/users/{buyer.user_id}/addresses"
        reply = self.post(path, an_address(**changes), token=buyer.token)
        assert reply.status == 201, reply.body
        return dict(reply.body)

    def order(
        self,
        buyer: Account | dict[str, Any] | str,
        *lines: dict[str, Any],
        key: str | None = None,
        **extra: Any,
    ) -> Reply:
        """``POST /orders`` with these ``line(...)``s (and an ``Idempotency-Key``), as answered.

        Collected (:data:`PICKUP`) at :data:`ADDRESS` unless ``extra`` names an address
        (``shippingAddress`` or ``addressId``); ``extra`` may name a ``shippingMethod``."""
        headers = {"Idempotency-Key": key} if key is not None else None
        named = {"shippingAddress", "addressId"} & set(extra)
        delivery = {} if named else {"shippingAddress": ADDRESS, "shippingMethod": PICKUP}
        body = {"items": list(lines), **delivery, **extra}
        return self.post("/orders", body, token=token_of(buyer), headers=headers)

    def place_order(
        self, buyer: Account | dict[str, Any] | str, *lines: dict[str, Any], **options: Any
    ) -> dict[str, Any]:
        """``order(...)``, asserted placed (201): the order."""
        reply = self.order(buyer, *lines, **options)
        assert reply.status == 201, reply.body
        return dict(reply.body)

    def stock_of(self, product: dict[str, Any] | str) -> int:
        """A product's stock, as ``GET /products/{id}`` shows it now."""
        product_id = product if isinstance(product, str) else product["productId"]
        reply = self.get(f"/products/{product_id}")
        assert reply.status == 200, reply.body
        return int(reply.body["stock"])


def give_default_address(user_id: str, address: dict[str, str] | None = None) -> None:
    """Store an address book whose default is ``address`` (:data:`ADDRESS`) for this user,
    as the address book's routes would: orders and checkouts naming no address use it."""
    from chalicelib.addresses import entry_attributes, parse_address
    from chalicelib.models import AddressBook, AddressEntry

    entry = entry_attributes(parse_address(address or ADDRESS, ""))
    AddressBook(AddressBook.key_for(user_id)).delete(
        add_version_condition=False
    )  # a new book, whatever was there
    AddressBook(
        AddressBook.key_for(user_id),
        user_id=user_id,
        addresses=[AddressEntry(address_id="home", created_at="2030-01-01T00:00:00.000Z", **entry)],
        default_id="home",
        updated_at="2030-01-01T00:00:00.000Z",
    ).save()


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

    It received the order's total in minor units of its (two-decimal) currency unless
    ``amount_received`` says otherwise.
    """
    if amount_received is None:
        amount_received = int(Decimal(order["total"]).scaleb(2))
    return {
        "id": "evt_1",
        "type": event_type,
        "data": {
            "object": {
                "id": order["payment"]["paymentIntentId"],
                "metadata": {"orderId": order["orderId"]},
                "amount_received": amount_received,
                "currency": order["currency"].lower(),
            }
        },
    }
