"""HTTP-level fixtures: the app through ``chalice.test.Client`` on the emulated stack.

The requests go through the same JSON client as the smoke script and the end-to-end
tests (``scripts/http_client.py``); only the transport differs.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.factories import Account, ShopClient, give_default_address

ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "admin-password"
SENDER = "shop@example.com"
ACCOUNT = "123456789012"


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


# Real scrypt results, remembered for the session: password -> hash, and
# (password, hash) -> verdict. See ``remembered_password_hashing``.
_HASHES: dict[str, str] = {}
_VERDICTS: dict[tuple[str, str], bool] = {}


@contextlib.contextmanager
def remembered_password_hashing() -> Iterator[None]:
    """Within this block, each password is hashed (and each hash verified) once a session.

    For the accounts fixtures create, nothing else: scrypt is slow on purpose, and the
    admin and customer fixtures would otherwise spend four hashes on every test. The
    hashes are real scrypt hashes and the sign-in is the real route; requests made by the
    test itself hash and verify afresh, since the block ends before the test begins.
    """
    from chalicelib import passwords

    real_hash, real_verify = passwords.hash_password, passwords.verify_password

    def hash_once(password: str) -> str:
        if password not in _HASHES:
            _HASHES[password] = real_hash(password)
        return _HASHES[password]

    def verify_once(password: str, encoded: str) -> bool:
        if (password, encoded) not in _VERDICTS:
            _VERDICTS[password, encoded] = real_verify(password, encoded)
        return _VERDICTS[password, encoded]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(passwords, "hash_password", hash_once)
        patch.setattr(passwords, "verify_password", verify_once)
        yield


SIGNING_SECRET_ID = "shop/test/token-signing"


@pytest.fixture
def secret_from_secrets_manager(aws: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Any:
    """The signing key comes from Secrets Manager (as on AWS), read fresh by this test;
    the Secrets Manager client is returned (to rotate the key)."""
    from dataclasses import replace

    import boto3

    from chalicelib import auth, signing_keys
    from chalicelib.config import get_settings

    secretsmanager = boto3.client("secretsmanager", region_name="us-east-1")
    secretsmanager.create_secret(
        Name=SIGNING_SECRET_ID, SecretString="a-signing-key-from-secrets-manager"
    )
    settings = replace(get_settings(), token_secret=None, token_secret_id=SIGNING_SECRET_ID)
    monkeypatch.setattr(auth, "get_settings", lambda: settings)
    monkeypatch.setattr(signing_keys, "get_settings", lambda: settings)
    signing_keys.keys.clear()
    yield secretsmanager
    signing_keys.keys.clear()


@pytest.fixture
def admin(api: Api) -> Account:
    from chalicelib.users import ensure_admin

    with remembered_password_hashing():
        ensure_admin(ADMIN_EMAIL, ADMIN_PASSWORD)
        account = api.login(ADMIN_EMAIL, ADMIN_PASSWORD)
    give_default_address(account.user_id)  # orders naming no address ship there
    return account


@pytest.fixture
def customer(api: Api) -> Account:
    with remembered_password_hashing():
        account = api.register()
    give_default_address(account.user_id)  # orders naming no address ship there
    return account


@pytest.fixture
def stream(api: Api, aws: dict[str, str]) -> Any:
    """The orders table's stream, handed to ``publish_order_events`` as Lambda's mapping would.

    Nothing runs by itself: a test calls ``stream.drain()`` where Lambda would poll.
    """
    from devstack.streams import StreamPoller

    def invoke(event: dict[str, Any], context: Any) -> Any:
        return api.client.lambda_.invoke("publish_order_events", event).payload

    return StreamPoller(invoke, aws["OrdersTableStreamArn"], "publish_order_events")


@pytest.fixture
def sender(monkeypatch: pytest.MonkeyPatch, aws: dict[str, str]) -> str:
    """Emails on: a verified sender, as a stage with ``EMAIL_SENDER`` has."""
    import dataclasses

    import boto3

    from chalicelib import mailer
    from chalicelib.config import get_settings

    settings = dataclasses.replace(get_settings(), email_sender=SENDER)
    monkeypatch.setattr(mailer, "get_settings", lambda: settings)
    boto3.client("ses", region_name="us-east-1").verify_email_identity(EmailAddress=SENDER)
    return SENDER


def ses_outbox() -> list[dict[str, Any]]:
    """Every email moto's SES sent, oldest first."""
    from moto.ses.models import ses_backends

    return [
        {"to": m.destinations["ToAddresses"], "subject": m.subject, "text": m.body}
        for m in ses_backends[ACCOUNT]["us-east-1"].sent_messages
    ]


def verify(api: Api, account: Account) -> None:
    """Verify ``account``'s address through the routes: a new link, then the link used.

    The link is taken on its way to SES (whether or not emails are on in the test), a
    minute after registration (a resend waits that long).
    """
    from chalicelib import account_links

    links: list[str] = []
    later = time.time() + account_links.LINK_COOLDOWN_SECONDS + 1  # past the registration email
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(account_links, "now", lambda: later)
        patch.setattr(account_links, "send_verification", lambda _to, link: links.append(link))
        reply = api.post("/users/verify-email/resend", token=account.token)
        assert reply.status == 202, reply.body
    reply = api.post("/users/verify-email", {"token": links[0]})
    assert reply.status == 200, reply.body
