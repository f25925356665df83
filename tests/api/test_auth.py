"""Sign-in, tokens and who may call what, through the HTTP API."""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import time
from datetime import UTC, datetime

import pytest

import app as app_module
from chalicelib import auth, login_backoff, openapi, passwords, tokens
from chalicelib.config import Settings, get_settings

SECRET = os.environ["TOKEN_SECRET"].encode()
UNAUTHORIZED = "Unauthorized"


# --- helpers -------------------------------------------------------------------


def claims_of(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def forge(account, **overrides) -> str:
    """A correctly signed token for ``account`` with some claims changed (``...`` drops one)."""
    claims = {**claims_of(account.token), **overrides}
    return tokens.encode({k: v for k, v in claims.items() if v is not ...}, SECRET)


def assert_401(reply) -> None:
    assert reply.status == 401, reply.body
    assert set(reply.body) == {"error", "code"}
    assert reply.body["code"] == UNAUTHORIZED
    assert isinstance(reply.body["error"], str) and reply.body["error"]


def me(api, account, token: str | None = None, **kw):
    return api.get(f"/users/{account.user_id}", token=token, **kw)


# --- login ------------------------------------------------------------------------------


def test_login_returns_a_token_with_the_documented_claims(api):
    account = api.register()
    reply = api.post("/users/login", {"email": account.email, "password": account.password})
    assert reply.status == 200
    assert set(reply.body) == {"userId", "name", "token", "expiresAt"}
    assert reply.body["userId"] == account.user_id
    assert reply.body["name"] == "Test User"
    token = reply.body["token"]
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    # The key id names the signing key (chalicelib/signing_keys.py: rotation).
    assert header == {"alg": "HS256", "typ": "JWT", "kid": tokens.key_id(SECRET)}
    claims = claims_of(token)
    assert set(claims) == {"sub", "role", "exp", "iat", "iss", "ver"}
    assert claims["sub"] == account.user_id
    assert claims["role"] == "customer"
    assert claims["iss"] == "shop-test" == get_settings().token_issuer
    assert claims["ver"] == 0
    assert abs(claims["iat"] - time.time()) < 60
    assert claims["exp"] - claims["iat"] == int(os.environ["TOKEN_TTL_SECONDS"])
    expires = datetime.fromtimestamp(claims["exp"], tz=UTC).isoformat().replace("+00:00", "Z")
    assert reply.body["expiresAt"] == expires
    # ...and it is the one secret that signs it.
    assert tokens.decode(token, SECRET, issuer="shop-test", now=claims["iat"]) == claims


def test_token_lifetime_comes_from_the_settings(api, monkeypatch):
    account = api.register()
    short = dataclasses.replace(get_settings(), token_ttl_seconds=120)
    monkeypatch.setattr(auth, "get_settings", lambda: short)
    claims = claims_of(api.login(account.email, account.password).token)
    assert claims["exp"] - claims["iat"] == 120


def test_issuer_is_per_stage():
    environ = {"APP_NAME": "shop"}
    assert Settings.from_environ({**environ, "APP_STAGE": "dev"}).token_issuer == "shop-dev"
    assert Settings.from_environ({**environ, "APP_STAGE": "prod"}).token_issuer == "shop-prod"


def test_login_reserves_the_attempt_before_the_check_and_clears_it_on_success(api, aws_calls):
    account = api.register()
    for email, password, expected in (
        # Read the login item, reserve the check (conditional UpdateItem), clear it.
        (account.email, account.password, ["GetItem", "UpdateItem", "UpdateItem"]),
        # A wrong password: the reservation is the failure count.
        (account.email, "wrong-password", ["GetItem", "UpdateItem"]),
        # An unknown email: the same reservation, refused by its condition.
        ("nobody@example.com", "wrong-password", ["GetItem", "UpdateItem"]),
        (account.email, account.password, ["GetItem", "UpdateItem", "UpdateItem"]),
    ):
        aws_calls.clear()
        api.post("/users/login", {"email": email, "password": password})
        assert aws_calls.dynamodb() == expected, (email, password)
    assert login_backoff.load("EMAIL#nobody@example.com") is None  # no stub written


def test_login_costs_the_same_whether_or_not_the_account_exists(api, aws_calls, monkeypatch):
    """Issue #23 item 3: the same AWS calls and the same Argon2id work for both cases."""
    account = api.register()
    checks: list[str] = []
    real_verify = passwords.verify_password

    def counting_verify(password: str, encoded: str) -> bool:
        checks.append(encoded.split("$")[3])  # the parameters the hash was made with
        return real_verify(password, encoded)

    monkeypatch.setattr(passwords, "verify_password", counting_verify)
    costs = {}
    for case, email in (("existing", account.email), ("unknown", "nobody@example.com")):
        aws_calls.clear()
        checks.clear()
        reply = api.post("/users/login", {"email": email, "password": "wrong-password"})
        assert reply.status == 401
        operations = [(service, op) for service, op, _ in aws_calls.calls]
        costs[case] = (operations, list(checks))
    assert costs["existing"] == costs["unknown"]
    operations, checks_made = costs["existing"]
    assert [op for _, op in operations] == ["GetItem", "UpdateItem"]
    assert len(checks_made) == 1 and checks_made[0].startswith("m=")


def test_email_is_matched_case_insensitively_and_trimmed(api):
    account = api.register("Mixed.Case@Example.com")
    for spelling in ("mixed.case@example.com", "  MIXED.CASE@EXAMPLE.COM  "):
        assert api.login(spelling, account.password).user_id == account.user_id


def test_unknown_email_and_wrong_password_get_the_same_answer(api, monkeypatch):
    account = api.register()
    burned = []
    real_burn = passwords.burn_time

    def counting_burn(password):
        burned.append(password)
        return real_burn(password)

    monkeypatch.setattr(passwords, "burn_time", counting_burn)

    wrong = api.post("/users/login", {"email": account.email, "password": "wrong-password"})
    assert burned == []
    unknown = api.post("/users/login", {"email": "nobody@example.com", "password": "wrong-pw-2"})
    assert burned == ["wrong-pw-2"]  # the unknown email still costs a full verification

    assert wrong.status == unknown.status == 401
    assert (
        wrong.body
        == unknown.body
        == {
            "error": "email or password is incorrect",
            "code": UNAUTHORIZED,
        }
    )

    def stable(headers):  # per-request values (ids, dates) aside, the headers match too
        return {
            k.lower(): v
            for k, v in headers.items()
            if "request" not in k.lower() and k.lower() not in ("date", "x-amzn-trace-id")
        }

    assert stable(wrong.headers) == stable(unknown.headers)


def test_a_wrong_password_runs_one_verification(api, monkeypatch):
    account = api.register()
    verified = []
    real_verify = passwords.verify_password
    monkeypatch.setattr(
        passwords,
        "verify_password",
        lambda password, encoded: verified.append(password) or real_verify(password, encoded),
    )
    assert api.post("/users/login", {"email": account.email, "password": "nope-nope"}).status == 401
    assert verified == ["nope-nope"]


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"email": "a@example.com"}, id="no-password"),
        pytest.param({"password": "whatever-password"}, id="no-email"),
        pytest.param({"email": 1, "password": "whatever-password"}, id="email-number"),
        pytest.param({"email": "a@example.com", "password": None}, id="password-null"),
        pytest.param(
            {"email": "a@example.com", "password": "whatever-password", "role": "admin"},
            id="extra-field",
        ),
        pytest.param({"email": "a@example.com", "password": "p" * 129}, id="password-too-long"),
    ],
)
def test_malformed_login_bodies_are_400(api, body):
    reply = api.post("/users/login", body)
    assert reply.status == 400
    assert reply.body["code"] == "ValidationError"


def test_an_empty_email_is_just_a_failed_login(api):
    assert_401(api.post("/users/login", {"email": "", "password": "whatever-password"}))


# --- tokens ------------------------------------------------------------------------------


def test_a_fresh_token_works(api, customer):
    assert me(api, customer, customer.token).status == 200


def test_the_bearer_scheme_is_case_insensitive(api, customer):
    headers = {"Authorization": f"bearer {customer.token}"}
    assert me(api, customer, headers=headers).status == 200


def test_a_token_expires_after_its_lifetime(api, customer, monkeypatch):
    issued = claims_of(customer.token)["iat"]
    ttl = get_settings().token_ttl_seconds
    monkeypatch.setattr(auth, "now", lambda: issued + ttl - 1)
    assert me(api, customer, customer.token).status == 200
    monkeypatch.setattr(auth, "now", lambda: issued + ttl)
    assert_401(me(api, customer, customer.token))
    monkeypatch.setattr(auth, "now", lambda: issued + 10 * ttl)
    assert_401(me(api, customer, customer.token))


def test_expiry_also_applies_where_no_profile_is_read(api, admin, customer, monkeypatch):
    product = api.create_product(admin, stock=3)
    issued = claims_of(customer.token)["iat"]
    monkeypatch.setattr(auth, "now", lambda: issued + get_settings().token_ttl_seconds)
    body = {"items": [{"productId": product["productId"], "quantity": 1}]}
    assert_401(api.post("/orders", body, token=customer.token))
    monkeypatch.undo()
    assert api.get(f"/products/{product['productId']}").body["stock"] == 3


def _tampered_payload(account) -> str:
    header, _, signature = account.token.split(".")
    payload = b64(json.dumps({**claims_of(account.token), "role": "admin"}).encode())
    return f"{header}.{payload}.{signature}"


def _tampered_signature(account) -> str:
    head, signature = account.token.rsplit(".", 1)
    return f"{head}.{('A' if signature[0] != 'A' else 'B') + signature[1:]}"


def _alg_none(account) -> str:
    header = b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    return f"{header}.{account.token.split('.')[1]}."


BAD_TOKENS = {
    "expired": lambda a: forge(a, iat=int(time.time()) - 7200, exp=int(time.time()) - 1),
    "payload-changed": _tampered_payload,
    "signature-changed": _tampered_signature,
    "signature-dropped": lambda a: a.token.rsplit(".", 1)[0] + ".",
    "signed-with-another-secret": lambda a: tokens.encode(claims_of(a.token), b"other-secret"),
    "wrong-issuer": lambda a: forge(a, iss="shop-prod"),
    "no-issuer": lambda a: forge(a, iss=...),
    "alg-none": _alg_none,
    "issued-in-the-future": lambda a: forge(a, iat=int(time.time()) + 600),
    "unknown-user": lambda a: forge(a, sub="00000000-0000-0000-0000-000000000000"),
    "stale-version": lambda a: forge(a, ver=1),
    "one-segment": lambda a: a.token.split(".")[0],
    "two-segments": lambda a: ".".join(a.token.split(".")[:2]),
    "four-segments": lambda a: a.token + ".AAAA",
    "not-base64": lambda a: "!!!!.@@@@.####",
    "not-json": lambda a: f"{b64(b'not json')}.{b64(b'also not')}.{b64(b'sig')}",
    "non-ascii-header": lambda a: "é" + a.token,
    "non-ascii-payload": lambda a: a.token.replace(".", ".é", 1),
    "deeply-nested-header": lambda a: f"{b64(b'[' * 3000)}.e30.{a.token.rsplit('.', 1)[1]}",
    "garbage": lambda a: "x" * 10_000,
}


@pytest.mark.parametrize("make", BAD_TOKENS.values(), ids=BAD_TOKENS.keys())
def test_bad_tokens_are_401_json(api, customer, make):
    assert_401(me(api, customer, make(customer)))


@pytest.mark.parametrize(
    "make", [BAD_TOKENS["payload-changed"], BAD_TOKENS["alg-none"], BAD_TOKENS["expired"]]
)
def test_bad_tokens_are_401_on_routes_that_read_no_profile(api, customer, make):
    body = {"items": [{"productId": "p-1", "quantity": 1}]}
    assert_401(api.post("/orders", body, token=make(customer)))


@pytest.mark.parametrize(
    "authorization",
    [
        pytest.param(lambda t: t, id="no-scheme"),
        pytest.param(lambda t: f"Token {t}", id="other-scheme"),
        pytest.param(lambda t: f"Basic {b64(b'user:pass')}", id="basic"),
        pytest.param(lambda t: "Bearer", id="scheme-only"),
        pytest.param(lambda t: "Bearer    ", id="scheme-and-spaces"),
        pytest.param(lambda t: f"Bearer{t}", id="no-space"),
        pytest.param(lambda t: f"Bearer {t} {t}", id="two-tokens"),
    ],
)
def test_an_authorization_header_without_a_bearer_token_is_401(api, customer, authorization):
    assert_401(me(api, customer, headers={"Authorization": authorization(customer.token)}))


def test_a_missing_authorization_header_is_401(api, customer):
    assert_401(me(api, customer))


def test_a_token_claiming_admin_does_not_make_a_customer_one(api, customer):
    # Even correctly signed, the role comes from the stored user, not from the claim.
    forged = forge(customer, role="admin")
    assert api.get("/users", token=forged).status == 403
    assert api.post("/products", {"name": "X", "price": "1"}, token=forged).status == 403


# --- who may call what -------------------------------------------------------------------

# Each admin route's example body and the status an admin gets with it; the routes
# themselves come from the route table (app.OPERATIONS), so a new admin route without an
# example here fails test_every_admin_route_has_an_example.
ADMIN_EXAMPLES = {
    ("POST", "/products"): ({"name": "Lamp", "price": "5"}, 201),
    ("PUT", "/products/{productId}"): ({"price": "7"}, 200),
    ("DELETE", "/products/{productId}"): (None, 204),
    ("GET", "/users"): (None, 200),
    ("POST", "/orders/{orderId}/ship"): (None, 409),  # the order is PENDING: let in, then 409
    ("POST", "/orders/{orderId}/deliver"): (None, 409),
    ("POST", "/discounts"): ({"code": "NEW10", "percentOff": 10}, 201),
    ("GET", "/discounts"): (None, 200),
    ("GET", "/discounts/{code}"): (None, 200),
    ("PUT", "/discounts/{code}"): ({"percentOff": 20}, 200),
    ("POST", "/discounts/{code}/retire"): (None, 200),
    ("GET", "/audit"): (None, 200),
    # Let in, then refused for what the order is (PENDING) or lacks (an Idempotency-Key).
    ("POST", "/orders/{orderId}/refunds"): ({"amount": "1.00", "reason": "other"}, 400),
    ("POST", "/orders/{orderId}/returns/approve"): (
        {"lines": [{"productId": "p", "restock": True}]},
        409,
    ),
    ("POST", "/orders/{orderId}/returns/reject"): ({"reason": "Worn"}, 409),
    ("POST", "/orders/{orderId}/returns/receive"): (None, 409),
}
ADMIN_ONLY = sorted(
    (op.method.upper(), op.path) for op in app_module.OPERATIONS if op.access == openapi.ADMIN
)


def test_every_admin_route_has_an_example():
    assert set(ADMIN_ONLY) == set(ADMIN_EXAMPLES)


@pytest.fixture
def product(api, admin) -> dict:
    return api.create_product(admin, name="Original", price="3", stock=4)


@pytest.fixture
def ids(api, admin, customer, product) -> dict:
    body = {"items": [{"productId": product["productId"], "quantity": 1}]}
    order = api.post("/orders", body, token=customer.token)
    assert order.status == 201, order.body
    code = api.post("/discounts", {"code": "AUTH10", "percentOff": 10}, token=admin.token)
    assert code.status == 201, code.body
    return {
        "productId": product["productId"],
        "orderId": order.body["orderId"],
        "code": code.body["code"],
    }


@pytest.fixture
def token_of(admin, customer):
    return {"anonymous": None, "customer": customer.token, "admin": admin.token}


@pytest.mark.parametrize(("role", "expected"), [("anonymous", 401), ("customer", 403)])
@pytest.mark.parametrize(("method", "path"), ADMIN_ONLY)
def test_admin_only_routes_refuse_everyone_else(api, ids, token_of, role, expected, method, path):
    body = ADMIN_EXAMPLES[(method, path)][0]
    product_before = api.get(f"/products/{ids['productId']}").body
    order_before = api.get(f"/orders/{ids['orderId']}", token=token_of["admin"]).body

    reply = api.request(method, path.format(**ids), body=body, token=token_of[role])

    assert reply.status == expected, reply.body
    assert set(reply.body) == {"error", "code"}
    assert reply.body["code"] == ("Unauthorized" if expected == 401 else "Forbidden")
    # Nothing happened.
    assert api.get(f"/products/{ids['productId']}").body == product_before
    assert len(api.get("/products").body["items"]) == 1
    assert api.get(f"/orders/{ids['orderId']}", token=token_of["admin"]).body == order_before


@pytest.mark.parametrize(("method", "path"), ADMIN_ONLY)
def test_admin_only_routes_serve_admins(api, ids, token_of, method, path):
    body, admin_status = ADMIN_EXAMPLES[(method, path)]
    reply = api.request(method, path.format(**ids), body=body, token=token_of["admin"])
    assert reply.status == admin_status, reply.body


@pytest.mark.parametrize(
    ("method", "path"), [("POST", "/products"), ("PUT", "/products/{productId}")]
)
def test_a_customer_gets_403_before_the_body_is_even_looked_at(
    api, product, token_of, method, path
):
    reply = api.request(method, path.format(**product), raw="{not json", token=token_of["customer"])
    assert reply.status == 403


SIGNED_IN_ONLY = [
    ("GET", "/users"),
    ("GET", "/users/{userId}"),
    ("PUT", "/users/{userId}"),
    ("DELETE", "/users/{userId}"),
    ("POST", "/products"),
    ("PUT", "/products/{productId}"),
    ("DELETE", "/products/{productId}"),
    ("POST", "/orders"),
    ("GET", "/orders"),
    ("GET", "/orders/{orderId}"),
    ("POST", "/orders/{orderId}/cancel"),
]


@pytest.mark.parametrize(("method", "path"), SIGNED_IN_ONLY, ids=lambda v: v)
def test_every_protected_route_is_401_without_a_token(api, customer, product, method, path):
    ids = {"userId": customer.user_id, "orderId": "o-1", **product}
    reply = api.request(method, path.format(**ids), body={})
    assert_401(reply)
    assert api.get(f"/users/{customer.user_id}", token=customer.token).status == 200


def test_public_routes_need_no_token(api, product):
    assert api.get("/products").status == 200
    assert api.get(f"/products/{product['productId']}").status == 200


# --- hash upgrade -------------------------------------------------------------------------


def test_an_old_scrypt_hash_is_upgraded_at_the_next_successful_login(api, aws_calls):
    import hashlib

    from chalicelib.models import UserRecord

    account = api.register()
    salt = b"0123456789abcdef"
    digest = hashlib.scrypt(account.password.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    legacy = f"scrypt$16384$8$1${b64(salt)}${b64(digest)}"
    keys = ("USER#" + account.user_id, "EMAIL#" + account.email)
    for key in keys:
        UserRecord(key).update(actions=[UserRecord.password_hash.set(legacy)])

    assert api.post("/users/login", {"email": account.email, "password": "wrong-pw"}).status == 401
    assert {UserRecord.get(k).password_hash for k in keys} == {legacy}  # a failure changes none

    aws_calls.clear()
    assert api.login(account.email, account.password).user_id == account.user_id
    # Read, reserve the check, clear the count, then upgrade both items at once.
    assert aws_calls.dynamodb() == ["GetItem", "UpdateItem", "UpdateItem", "TransactWriteItems"]
    upgraded = {UserRecord.get(k).password_hash for k in keys}
    assert len(upgraded) == 1
    (new_hash,) = upgraded
    assert new_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert UserRecord.get(keys[1]).failed_logins is None  # the failure count is cleared

    aws_calls.clear()
    assert api.login(account.email, account.password).user_id == account.user_id
    assert aws_calls.dynamodb() == ["GetItem", "UpdateItem", "UpdateItem"]  # upgraded once
