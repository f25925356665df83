"""HTTP-level fixtures: the app through ``chalice.test.Client`` on a fresh moto world."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from typing import Any

import pytest

ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "admin-password"
_emails = itertools.count(1)


@dataclass
class Reply:
    status: int
    body: Any
    headers: dict[str, str]


@dataclass
class Account:
    user_id: str
    email: str
    password: str
    token: str


class Api:
    def __init__(self, client: Any) -> None:
        self.client = client

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        raw: bytes | str | None = None,
    ) -> Reply:
        sent = {"Content-Type": "application/json"}
        if token:
            sent["Authorization"] = f"Bearer {token}"
        sent.update(headers or {})
        payload = raw if raw is not None else (json.dumps(body) if body is not None else b"")
        response = self.client.http.request(method, path, body=payload, headers=sent)
        parsed = json.loads(response.body) if response.body else None
        return Reply(response.status_code, parsed, dict(response.headers))

    def get(self, path: str, **kw: Any) -> Reply:
        return self.request("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Reply:
        return self.request("POST", path, body, **kw)

    def put(self, path: str, body: Any = None, **kw: Any) -> Reply:
        return self.request("PUT", path, body, **kw)

    def delete(self, path: str, **kw: Any) -> Reply:
        return self.request("DELETE", path, **kw)

    def register(self, email: str | None = None, password: str = "correct-horse") -> Account:
        email = email or f"user{next(_emails)}@example.com"
        reply = self.post(
            "/users/register", {"email": email, "name": "Test User", "password": password}
        )
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
        return reply.body


@pytest.fixture
def api(aws):
    from chalice.test import Client

    from app import app

    with Client(app) as client:
        yield Api(client)


@pytest.fixture
def admin(api) -> Account:
    from chalicelib.users import ensure_admin

    ensure_admin(ADMIN_EMAIL, ADMIN_PASSWORD)
    return api.login(ADMIN_EMAIL, ADMIN_PASSWORD)


@pytest.fixture
def customer(api) -> Account:
    return api.register()


@pytest.fixture
def stream(api, aws):
    """The orders table's stream, handed to ``publish_order_events`` as Lambda's mapping would.

    Nothing runs by itself: a test calls ``stream.drain()`` where Lambda would poll.
    """
    from devstack.streams import StreamPoller

    def invoke(event: dict, context: Any) -> Any:
        return api.client.lambda_.invoke("publish_order_events", event).payload

    return StreamPoller(invoke, aws["OrdersTableStreamArn"], "publish_order_events")
