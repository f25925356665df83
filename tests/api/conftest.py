"""HTTP-level fixtures: the app through ``chalice.test.Client`` on the emulated stack.

The requests go through the same JSON client as the smoke script and the end-to-end
tests (``scripts/http_client.py``); only the transport differs.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.factories import Account, ShopClient

ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "admin-password"


class ChaliceTransport:
    """Hands requests to ``chalice.test.Client`` instead of the network."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def __call__(
        self, method: str, path: str, data: bytes | None, headers: dict[str, str]
    ) -> tuple[int, bytes, dict[str, str]]:
        response = self.client.http.request(method, path, body=data or b"", headers=headers)
        return response.status_code, response.body or b"", dict(response.headers)


class Api(ShopClient):
    """The shared client over ``chalice.test.Client``; ``client`` is that Client (for
    its ``events`` and ``lambda_`` helpers)."""

    def __init__(self, client: Any) -> None:
        super().__init__(ChaliceTransport(client))
        self.client = client


@pytest.fixture
def api(aws: dict[str, str]) -> Iterator[Api]:
    from chalice.test import Client

    from app import app

    with Client(app) as client:
        yield Api(client)


@pytest.fixture
def admin(api: Api) -> Account:
    from chalicelib.users import ensure_admin

    ensure_admin(ADMIN_EMAIL, ADMIN_PASSWORD)
    return api.login(ADMIN_EMAIL, ADMIN_PASSWORD)


@pytest.fixture
def customer(api: Api) -> Account:
    return api.register()
