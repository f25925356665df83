"""Hypothesis against every operation of the OpenAPI document: no 5xx, every answer documented.

Each operation gets ``FUZZ_EXAMPLES`` requests (default 25), drawn as anonymous, a customer,
another customer, an admin, or a bad/revoked token, with bodies that are schema-valid (derived
from the request schema, with real ids), mutated (dropped, extra, retyped fields, odd numbers)
or arbitrary (any JSON, broken JSON, bad UTF-8, deep nesting), random path ids (real ones
included) and random query parameters (limit, cursor garbage, real cursors).

Found failures are kept as explicit cases in ``fuzz_regressions.py`` and replayed below.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import itertools
import json
import math
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, Phase, event, given, note, settings
from jsonschema import Draft202012Validator, FormatChecker, ValidationError, validators

from chalicelib import errors, money, schemas, text, validation
from chalicelib.text import EMAIL_PATTERN
from tests.api.fuzz_regressions import REGRESSIONS, Regression
from tests.api.test_openapi import CONTRACT
from tests.factories import Account, an_address, give_default_address

FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
FUZZ_SETTINGS = settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    database=None,  # the world changes between runs: stored examples would not replay
    # No shrinking: requests change the world, so a shrunk example rarely fails the same
    # way, and shrinking through scrypt-hashing routes takes minutes. Failures print the
    # request as drawn.
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)
PASSWORD = "correct-horse"  # what Api.register gives every account

# --- strings and JSON ----------------------------------------------------------------------

# Any code point, lone surrogates included: JSON text can carry "\ud800" escapes.
_ANY_CHAR = st.characters(exclude_categories=[])
_CHAR = st.characters(exclude_categories=["Cs"])
# What survives in a URL path segment through API Gateway's router and the test client.
_PATH_CHAR = st.characters(exclude_categories=["Cs"], exclude_characters="/?#;\t\r\n")
# Printable Latin-1: what an HTTP header value can carry.
_HEADER_CHAR = st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f")


def texts(min_size: int = 0, max_size: int | None = None) -> st.SearchStrategy[str]:
    """Mostly valid Unicode, sometimes with lone surrogates, sometimes plain ASCII."""
    return st.one_of(
        st.text(_CHAR, min_size=min_size, max_size=max_size),
        st.text(st.characters(max_codepoint=0x7E), min_size=min_size, max_size=max_size),
        st.text(_ANY_CHAR, min_size=min_size, max_size=max_size),
    )


def json_values(max_leaves: int = 12) -> st.SearchStrategy[Any]:
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(allow_nan=False, allow_infinity=False),
        texts(max_size=40),
    )
    return st.recursive(
        scalars,
        lambda children: st.one_of(
            st.lists(children, max_size=5),
            st.dictionaries(texts(max_size=12), children, max_size=5),
        ),
        max_leaves=max_leaves,
    )


# JSON numerals Python's json.dumps never writes.
_ODD_NUMBERS = st.one_of(
    st.sampled_from(
        [
            "1e400", "-1e400", "1E-400", "-0", "-0.0", "0.0", "1.0", "5.00", "1e2", "1E+2",
            "0.1000000000000000000001", "123456789012345678901234567890", "9" * 5000,
            "0.005", "999999.999", "1000000.001", "1e-7", "2.50", "0e0", "-1",
        ]
    ),
    st.from_regex(r"-?(0|[1-9][0-9]{0,25})(\.[0-9]{1,25})?([eE][+-]?[0-9]{1,4})?", fullmatch=True),
)  # fmt: skip
_SENTINEL = "\x00fuzz-odd-number\x00"

_BROKEN_BODIES = st.one_of(
    st.binary(max_size=60),
    st.sampled_from(
        [
            b"", b"null", b"[]", b'""', b"1", b"true", b"{", b'{"a":1}x', b"\xef\xbb\xbf{}",
            b"\xff\xfe{}", b'{"items": [{"productId": "\xc3", "quantity": 1}]}', b"NaN",
            b'{"price": Infinity}', b"[" * 3000 + b"]" * 3000, b'{"a":' * 3000 + b"1" + b"}" * 3000,
            b'{"name": "a", "name": "b"}', b"{}" * 2, b" " * 10,
        ]
    ),
    texts(max_size=60).map(lambda t: t.encode("utf-8", "surrogatepass")),
)  # fmt: skip


def to_raw(value: Any) -> bytes:
    """JSON text as a client would send it (non-ASCII and lone surrogates as \\u escapes)."""
    return json.dumps(value).encode("ascii")


# --- schema-valid values, derived from the request schemas ----------------------------------

_SCHEMA_KEYWORDS = {
    "type", "properties", "required", "additionalProperties", "minProperties", "items",
    "minItems", "maxItems", "minLength", "maxLength", "pattern", "minimum", "maximum",
    "multipleOf", "enum", "default", "description", "format", "anyOf", "deprecated", "examples",
    "uniqueItems",
}  # fmt: skip


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def from_schema(
    schema: dict[str, Any], overrides: dict[str, st.SearchStrategy] | None = None
) -> st.SearchStrategy[Any]:
    """Values valid against ``schema``; ``overrides`` supply values for named properties.

    Only the keywords our request schemas use are understood; any other one is an error,
    so a schema that grows a keyword cannot silently be fuzzed as if it had not.
    """
    overrides = overrides or {}
    unknown = set(schema) - _SCHEMA_KEYWORDS
    if unknown:
        raise NotImplementedError(f"schema keywords not understood by the fuzzer: {unknown}")
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "anyOf" in schema:
        return st.one_of(*(from_schema(option, overrides) for option in schema["anyOf"]))
    kind = schema.get("type")
    if kind == "object":
        return _objects(schema, overrides)
    if kind == "array":
        return st.lists(
            from_schema(schema["items"], overrides),
            min_size=schema.get("minItems", 0),
            max_size=schema.get("maxItems", 10),
            unique_by=(lambda v: json.dumps(v, sort_keys=True))
            if schema.get("uniqueItems")
            else None,
        )
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    if kind == "string":
        low, high = schema.get("minLength", 0), schema.get("maxLength", 300)
        strings = texts(low, high)
        if schema.get("pattern") == EMAIL_PATTERN:
            # Random text almost never is an email: start from emails instead.
            strings = st.one_of(st.emails(), strings)
        if schema.get("pattern") == money.AMOUNT_PATTERN:
            # Nor an amount: start from amounts ("19.99") too.
            strings = st.one_of(st.from_regex(money.AMOUNT_PATTERN, fullmatch=True), strings)
        strings = strings.filter(lambda s: low <= len(s) <= high)
        if "pattern" in schema:
            strings = strings.filter(lambda s: re.search(schema["pattern"], s) is not None)
        return strings
    if kind == "boolean":
        return st.booleans()
    if kind == "integer":
        return st.integers(schema.get("minimum"), schema.get("maximum"))
    if kind == "boolean":
        return st.booleans()
    if kind == "number":
        step = Decimal(str(schema.get("multipleOf", "0.001")))
        low = math.ceil(Decimal(str(schema.get("minimum", -(10**9)))) / step)
        high = math.floor(Decimal(str(schema.get("maximum", 10**9))) / step)
        return st.integers(low, high).map(lambda k: _number(k * step))
    raise NotImplementedError(f"schema type not understood by the fuzzer: {kind!r}")


def _objects(schema: dict[str, Any], overrides: dict[str, st.SearchStrategy]):
    properties = schema.get("properties", {})
    required = list(schema.get("required", []))
    optional = [name for name in properties if name not in required]

    def value_for(name: str) -> st.SearchStrategy:
        generated = from_schema(properties[name], overrides)
        if name not in overrides:
            return generated
        checker = _ExactValidator(properties[name])
        # Mostly the given values (real ids, known emails): they reach the success paths.
        known = overrides[name].filter(checker.is_valid)
        return st.one_of(known, known, generated)

    @st.composite
    def build(draw: Callable) -> dict[str, Any]:
        chosen = draw(st.lists(st.sampled_from(optional), unique=True)) if optional else []
        missing = schema.get("minProperties", 0) - len(required) - len(chosen)
        chosen += [name for name in optional if name not in chosen][: max(missing, 0)]
        return {name: draw(value_for(name)) for name in required + chosen}

    return build()


# --- mutations of a valid body ---------------------------------------------------------------


def _locations(value: Any, path: tuple = ()) -> Iterable[tuple]:
    yield path
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _locations(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _locations(child, (*path, index))


def _replace(value: Any, path: tuple, new: Callable[[Any], Any]) -> Any:
    """A copy of ``value`` with the node at ``path`` replaced by ``new(node)``."""
    if not path:
        return new(value)
    head, *rest = path
    copy = list(value) if isinstance(value, list) else dict(value)
    copy[head] = _replace(value[head], tuple(rest), new)
    return copy


@st.composite
def mutated(draw: Callable, valid: Any) -> bytes:
    """``valid`` with one spot broken: a field dropped, added, retyped or an odd numeral."""
    path = draw(st.sampled_from(list(_locations(valid))))
    how = draw(st.sampled_from(["retype", "odd-number", "drop", "extra", "nest"]))
    if how == "drop" and path:
        *parent, last = path
        trimmed = _replace(valid, tuple(parent), lambda h: _without(h, last))
        return to_raw(trimmed)
    if how == "extra":
        key = draw(st.one_of(st.sampled_from(["role", "admin", "userId", "version", "__proto__"]),
                             texts(max_size=10)))  # fmt: skip
        extra = draw(json_values(4))
        return to_raw(_replace(valid, path, lambda v: _with(v, key, extra)))
    if how == "odd-number":
        numeral = draw(_ODD_NUMBERS)
        text = to_raw(_replace(valid, path, lambda _: _SENTINEL)).decode("ascii")
        return text.replace(json.dumps(_SENTINEL), numeral, 1).encode("ascii")
    if how == "nest":
        return to_raw(_replace(valid, path, lambda v: [v] if draw(st.booleans()) else {"v": v}))
    return to_raw(_replace(valid, path, lambda _: draw(json_values(6))))


def _without(holder: Any, key: Any) -> Any:
    if isinstance(holder, dict):
        return {k: v for k, v in holder.items() if k != key}
    return [v for i, v in enumerate(holder) if i != key]


def _with(value: Any, key: str, extra: Any) -> Any:
    if isinstance(value, dict):
        return {**value, key: extra}
    return value


def pooled(pool: list[str]) -> st.SearchStrategy[str]:
    """An element of a list that grows between examples.

    Drawn as an index of fixed range, so the draws of an example keep their shape when the
    list has grown by the time Hypothesis replays it.
    """
    return st.integers(0, 63).map(lambda i: pool[i % len(pool)])


# --- the world the requests run in ----------------------------------------------------------


@dataclass
class Answer:
    status: int
    body: Any
    headers: dict[str, str]
    raw: bytes


def send(api, method: str, path: str, headers: dict[str, str], raw: bytes) -> Answer:
    response = api.client.http.request(method, path, body=raw, headers=headers)
    text = response.body or b""
    try:
        body = json.loads(text) if text else None
    except ValueError:
        body = NotJson(text[:200])
    return Answer(response.status_code, body, dict(response.headers), text)


@dataclass(frozen=True)
class NotJson:
    """A response body that is not JSON (never conforms: every answer is JSON or empty)."""

    text: bytes


_admins = itertools.count(1)


@dataclass
class World:
    """Accounts, ids and cursors the fuzzer draws from; repaired when a request revokes them."""

    api: Any
    accounts: dict[str, Account] = field(default_factory=dict)
    user_ids: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    product_ids: list[str] = field(default_factory=list)
    order_ids: list[str] = field(default_factory=list)
    address_ids: list[str] = field(default_factory=list)
    cursors: list[str] = field(default_factory=list)
    revoked_tokens: list[str] = field(default_factory=list)
    aws_calls: Any = None
    idempotency_keys: list[str] = field(default_factory=lambda: ["fuzz-key-1", "fuzz-key-2"])
    accounts_changed: bool = False

    @classmethod
    def build(cls, api, admin) -> World:
        world = cls(api)
        world.accounts["admin"] = Account(admin.user_id, admin.email, admin.password, admin.token)
        for role in ("customer", "other"):
            world.accounts[role] = world._register()
        for name, price, stock in (("Lamp", "12.50", 1000), ("Mug", "3", 5), ("Gone", "1", 0)):
            body = {"name": name, "price": price, "stock": stock}
            reply = api.request("POST", "/products", body, token=world.accounts["admin"].token)
            assert reply.status == 201, reply.body
            world.product_ids.append(reply.body["productId"])
        for role in ("customer", "other"):
            body = {"items": [{"productId": world.product_ids[0], "quantity": 1}]}
            reply = api.request("POST", "/orders", body, token=world.accounts[role].token)
            assert reply.status == 201, reply.body
            world.order_ids.append(reply.body["orderId"])
        customer = world.accounts["customer"]
        reply = api.request(
            "POST", f"/users/{customer.user_id}/addresses", an_address(), token=customer.token
        )
        assert reply.status == 201, reply.body
        world.address_ids.append(reply.body["addressId"])
        for path in ("/products?limit=1", "/orders?limit=1", "/users?limit=1"):
            reply = api.request("GET", path, token=world.accounts["admin"].token)
            assert reply.body["nextCursor"], reply.body
            world.cursors.append(reply.body["nextCursor"])
        # Well signed, but for an account that is gone, and from before a password change.
        from chalicelib.auth import issue_token

        world.revoked_tokens.append(issue_token("deleted-user", "customer", 0)[0])
        stale = issue_token(world.accounts["customer"].user_id, "customer", 7)[0]
        world.revoked_tokens.append(stale)
        return world

    def _register(self) -> Account:
        account = self.api.register(password=PASSWORD)
        give_default_address(account.user_id)  # orders naming no address ship there
        self.user_ids.append(account.user_id)
        self.emails.append(account.email)
        return Account(account.user_id, account.email, PASSWORD, account.token)

    def _new_admin(self) -> Account:
        from chalicelib.users import ensure_admin

        email = f"fuzz-admin-{next(_admins)}@example.com"
        ensure_admin(email, PASSWORD)
        account = self.api.login(email, PASSWORD)
        self.user_ids.append(account.user_id)
        return Account(account.user_id, email, PASSWORD, account.token)

    def repair(self) -> None:
        """Accounts a previous request deleted or revoked are signed in again or replaced."""
        if not self.accounts_changed:
            return
        self.accounts_changed = False
        for role, account in list(self.accounts.items()):
            check = self.api.request("GET", f"/users/{account.user_id}", token=account.token)
            if check.status == 200:
                continue
            self.revoked_tokens.append(account.token)
            login = {"email": account.email, "password": account.password}
            reply = self.api.request("POST", "/users/login", login)
            if reply.status == 200:
                self.accounts[role] = dataclasses.replace(account, token=reply.body["token"])
            else:
                self.accounts[role] = self._new_admin() if role == "admin" else self._register()

    def observe(self, method: str, template: str, answer: Answer) -> None:
        body = answer.body
        if method in ("PUT", "DELETE") and template == "/users/{userId}":
            self.accounts_changed = True
        if not 200 <= answer.status < 300 or not isinstance(body, dict):
            return
        for key, pool in (
            ("productId", self.product_ids),
            ("orderId", self.order_ids),
            ("userId", self.user_ids),
            ("addressId", self.address_ids),
        ):
            if isinstance(body.get(key), str) and body[key] not in pool:
                pool.append(body[key])
                del pool[:-40]
        if isinstance(body.get("nextCursor"), str):
            self.cursors.append(body["nextCursor"])
            del self.cursors[:-40]


@pytest.fixture
def world(api, admin, aws_calls) -> World:
    world = World.build(api, admin)
    world.aws_calls = aws_calls
    return world


# --- drawing one request ---------------------------------------------------------------------

# Signed-in callers reach the most code: they come up most often.
ROLES = ["admin", "admin", "customer", "customer", "other", "anonymous", "bad-token"]
# The key attributes behind each list's cursor: products, users, one user's and all orders.
_KEY_NAMES = [
    ["productId"],
    ["pk"],
    ["orderId", "userId", "createdAt"],
    ["orderId", "listPartition", "createdAt"],
]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _cursors(world: World) -> st.SearchStrategy[str]:
    key_value = st.one_of(
        st.builds(lambda s: {"S": s}, texts(max_size=1100)),
        st.sampled_from([{"S": ""}, {"N": "1"}, {"S": "ORDER"}, {"S": 1}, "x", None]),
    )
    shaped = st.sampled_from(_KEY_NAMES).flatmap(
        lambda names: st.fixed_dictionaries({n: key_value for n in names})
    )
    return st.one_of(
        pooled(world.cursors),
        st.text(_CHAR, max_size=60),
        st.sampled_from(["", "=", "e30", "bnVsbA", "W10", "A" * 3000, "%%%"]),
        shaped.map(lambda key: _b64(json.dumps(key).encode())),
        json_values(4).map(lambda v: _b64(json.dumps(v).encode())),
        _nested_cursors(),
    )


def _nested_cursors() -> st.SearchStrategy[str]:
    """Deeply nested JSON: 1,200 '[' was an anonymous 500 before issue #23 item 1 (hypothesis
    raises the recursion limit to about 2,000 while it runs, hence depths up to 6,100)."""
    depths = st.sampled_from([1200, 2500, 4000, 6000]) | st.integers(1, 6100)
    openers = st.sampled_from(["[", "[{}", '{"a":'])
    return st.tuples(openers, depths).map(lambda pair: _b64((pair[0] * pair[1]).encode()))


_LIMITS = st.one_of(
    st.integers(-5, 150).map(str),
    st.sampled_from(["", "abc", "1.5", "1e1", " 5", "5 ", "+5", "0x10", "²", "١٢", "10" * 30]),
    st.text(_CHAR, max_size=8),
)


def _query(
    draw: Callable, world: World, operation: dict, caller: Account | None
) -> list[tuple[str, str]]:
    names = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
    params: list[tuple[str, str]] = []
    if "limit" in names and draw(st.booleans()):
        params.append(("limit", draw(_LIMITS)))
    if "cursor" in names and draw(st.booleans()):
        params.append(("cursor", draw(_cursors(world))))
    if "userId" in names and draw(st.booleans()):
        own = [st.just(caller.user_id)] if caller else []
        odd = st.sampled_from(["", " ", "%", "USER#x"])
        user_ids = st.one_of(*own, pooled(world.user_ids), odd, _ids())
        params.append(("userId", draw(user_ids)))
    if draw(st.integers(0, 9)) == 0:
        name = draw(st.sampled_from(["limit", "cursor", "userId", "x", ""]))
        params.append((name, draw(texts(0, 10))))
    return [(k, v) for k, v in params if _encodable(k) and _encodable(v)]


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _ids() -> st.SearchStrategy[str]:
    return st.one_of(
        st.text(_PATH_CHAR, min_size=1, max_size=80),
        st.text(_PATH_CHAR, min_size=60, max_size=1200),
        # No "#": the test client would read it as a fragment (API Gateway gets it as %23).
        st.sampled_from(["IDEM", "USER", "0", "null", "%2F", "%23", "..", "."]),
        st.uuids().map(str),
    ).filter(lambda s: s != "register")  # GET /users/register is another resource


def _path(draw: Callable, world: World, template: str, caller: Account | None) -> str:
    known = {
        "userId": st.one_of(st.just(caller.user_id), pooled(world.user_ids))
        if caller
        else pooled(world.user_ids),
        "productId": pooled(world.product_ids),
        "orderId": pooled(world.order_ids),
        "addressId": pooled(world.address_ids),
    }
    path = template
    for name, ids in known.items():
        if "{" + name + "}" in path:
            path = path.replace("{" + name + "}", draw(st.one_of(ids, _ids())))
    return path


def _authorization(draw: Callable, world: World, role: str) -> str | None:
    if role == "anonymous":
        return None
    if role in world.accounts:
        token = world.accounts[role].token
        return draw(st.sampled_from([f"Bearer {token}", f"bearer {token}", f"Bearer  {token} "]))
    token = world.accounts["customer"].token
    header, payload, signature = token.split(".")
    forged = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    return draw(
        st.one_of(
            pooled(world.revoked_tokens).map(lambda t: f"Bearer {t}"),
            st.sampled_from(
                [
                    "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", token, "Bearer a.b.c",
                    f"Bearer {header}.{payload}.", f"Bearer {forged}.{payload}.",
                    f"Bearer {header}.{payload}.{signature[:-2]}AA",
                    f"Bearer {header}..{signature}",
                    f"Bearer {header}.{payload}.{signature}.x", f"Token {token}",
                ]
            ),
            st.text(_HEADER_CHAR, max_size=60).map(lambda t: f"Bearer {t}"),
            st.builds(
                lambda t: f"Bearer {header}.{t}.{signature}", st.text(_HEADER_CHAR, max_size=40)
            ),
            st.text(_HEADER_CHAR, max_size=60),
        )
    )  # fmt: skip


_CONTENT_TYPES = st.sampled_from(
    ["application/json"] * 12
    + ["application/json; charset=utf-8", "APPLICATION/JSON", "*/*", "text/plain", ""]
)


def _overrides(world: World, caller: Account | None) -> dict[str, st.SearchStrategy]:
    users = pooled(world.user_ids)
    return {
        "productId": pooled(world.product_ids),
        "userId": st.one_of(st.just(caller.user_id), users) if caller else users,
        "email": st.one_of(pooled(world.emails), st.emails()),
        "password": st.just(PASSWORD),
        "currentPassword": st.sampled_from([PASSWORD, "wrong-password"]),
        # Addresses: countries whose other rules random text can meet, and one it cannot.
        "country": st.sampled_from(["GB", "ie", "DE", "XX"]),
        "postalCode": st.sampled_from(["10115", "SW1A 1AA", " 1011 "]),
    }


def _body(draw: Callable, world: World, operation: dict, caller: Account | None) -> bytes:
    request = operation.get("requestBody")
    if request is None:
        # The app ignores a body here; send one now and then anyway.
        return draw(st.one_of(st.just(b""), st.just(b""), st.just(b""), _BROKEN_BODIES))
    ref = request["content"]["application/json"]["schema"]["$ref"]
    schema = schemas.resolved(CONTRACT.document["components"]["schemas"][ref.rsplit("/", 1)[1]])
    valid = from_schema(schema, _overrides(world, caller))
    kind = draw(st.sampled_from(["valid", "valid", "valid", "mutated", "mutated", "any", "broken"]))
    note(f"body kind: {kind}")
    if kind == "valid":
        return to_raw(draw(valid))
    if kind == "mutated":
        return draw(valid.flatmap(mutated))
    if kind == "any":
        return to_raw(draw(json_values()))
    return draw(_BROKEN_BODIES)


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    query: tuple[tuple[str, str], ...] = ()

    def __str__(self) -> str:
        # Tokens shortened: which account sent the request is all that matters to read it.
        headers = {k: v if len(v) <= 40 else v[:30] + "..." for k, v in self.headers.items()}
        return f"{self.method} {self.path[:300]} headers={headers} body={self.body[:500]!r}"


def draw_request(draw: Callable, world: World, method: str, template: str) -> Request:
    operation = CONTRACT.operation(method, template)
    role = draw(st.sampled_from(ROLES))
    caller = world.accounts.get(role)
    headers = {"Content-Type": draw(_CONTENT_TYPES)}
    authorization = _authorization(draw, world, role)
    if authorization is not None:
        headers["Authorization"] = authorization
    if any(p["name"] == "Idempotency-Key" for p in operation.get("parameters", [])):
        key = draw(
            st.one_of(
                st.none(),
                st.sampled_from(world.idempotency_keys),
                st.text(_HEADER_CHAR, max_size=300),
            )
        )
        if key is not None:
            headers["Idempotency-Key"] = key
    path = _path(draw, world, template, caller)
    query = _query(draw, world, operation, caller)
    if query:
        path += "?" + "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in query)
    return Request(method, path, headers, _body(draw, world, operation, caller), tuple(query))


def parameters_out_of_schema(operation: dict, request: Request) -> list[str]:
    """Documented parameters the request gives a value their schema does not allow."""
    query = dict(request.query)  # the last of repeated names wins, as in Chalice
    headers = {k.lower(): v for k, v in request.headers.items()}
    out = []
    for parameter in operation.get("parameters", []):
        sent = query if parameter["in"] == "query" else headers
        name = parameter["name"] if parameter["in"] == "query" else parameter["name"].lower()
        if parameter["in"] not in ("query", "header") or name not in sent:
            continue
        value: Any = sent[name]
        if parameter["schema"].get("type") == "integer" and re.fullmatch(r"-?[0-9]+", value):
            value = int(value)
        if not _ExactValidator(parameter["schema"]).is_valid(value):
            out.append(f"{parameter['name']}={sent[name][:80]!r}")
    return out


def dynamodb_key_problems(calls: list[tuple[str, str, dict]]) -> list[str]:
    """DynamoDB limits moto does not enforce, broken by a request's calls.

    A key attribute value (``Key``, ``Keys``, and the values of our queries' key conditions)
    must be 1 to 2048 bytes: an empty or longer one is a ValidationException on AWS, i.e. a
    500 there even though moto answers. ``ExclusiveStartKey`` is left out on purpose: the
    app sends cursor keys as they come and turns DynamoDB's rejection into a 400.
    """
    problems = []
    for service, operation, params in calls:
        if service != "dynamodb":
            continue
        keys: list[dict] = []
        pending: list[Any] = [params]
        while pending:
            node = pending.pop()
            if isinstance(node, dict):
                for name, value in node.items():
                    if name == "Key":
                        keys.append(value)
                    elif name == "Keys":
                        keys.extend(value)
                    elif name != "ExclusiveStartKey":
                        pending.append(value)
            elif isinstance(node, list):
                pending.extend(node)
        if operation == "Query":
            keys.append(params.get("ExpressionAttributeValues", {}))
        for key in keys:
            for name, value in key.items():
                text = value.get("S") if isinstance(value, dict) else None
                size = len(text.encode("utf-8", "surrogatepass")) if text is not None else 1
                if not 1 <= size <= 2048:
                    problems.append(f"{operation}: key value {name} is {size} bytes: {text[:60]!r}")
    return problems


def assert_dynamodb_keys_fit(request: Request, calls: list[tuple[str, str, dict]]) -> None:
    problems = dynamodb_key_problems(calls)
    assert not problems, f"{request}\n" + "\n".join(problems)


def assert_answer_conforms(request: Request, template: str, answer: Answer) -> None:
    assert answer.status < 500, f"{request}\n-> {answer.status} {answer.raw[:500]!r}"
    if isinstance(answer.body, NotJson):
        raise AssertionError(f"{request}\n-> {answer.status}, body is not JSON: {answer.raw!r}")
    problems = CONTRACT.violations(
        request.method, template, answer.status, answer.body, answer.headers
    )
    assert not problems, f"{request}\n" + "\n".join(problems)


# --- the tests -------------------------------------------------------------------------------


@pytest.mark.parametrize("method,template", sorted(CONTRACT.operations()))
def test_operation_answers_as_documented_whatever_it_is_sent(world, method, template):
    @FUZZ_SETTINGS
    @given(data=st.data())
    def run(data):
        world.repair()
        request = draw_request(data.draw, world, method, template)
        note(str(request))
        world.aws_calls.clear()
        answer = send(world.api, request.method, request.path, request.headers, request.body)
        world.observe(method, template, answer)
        event(f"status {answer.status}")
        assert_answer_conforms(request, template, answer)
        assert_dynamodb_keys_fit(request, world.aws_calls.calls)
        refused = parameters_out_of_schema(CONTRACT.operation(method, template), request)
        assert not refused or not 200 <= answer.status < 300, (
            f"{request}\n-> {answer.status}: accepted {refused}, outside the documented schema"
        )

    run()


# The money rule the document states in prose (docs/api.md#money) and the domain applies
# with money.parse: no more decimals than the currency has, at most the field's maximum.
# A schema cannot say it without multipleOf, which standard validators get wrong for 19.99.
_AMOUNT_MAXIMA = {"price": money.MAX_AMOUNT, "expectedTotal": money.MAX_TOTAL}


def _money_rule_holds(data: Any) -> bool:
    try:
        for field, maximum in _AMOUNT_MAXIMA.items():
            if isinstance(data, dict) and field in data:
                money.parse(data[field], field, maximum=maximum)
    except errors.ValidationError:
        return False
    return True


def _app_accepts(name: str, raw: bytes) -> bool:
    """What the app's validation (and the money rule the domain applies next) says of a body."""
    try:
        data = validation.parse_body(raw, name)
    except errors.ValidationError:
        return False
    return _money_rule_holds(data)


def _is_integer(checker: Any, instance: Any) -> bool:
    # JSON Schema's "integer" is any number with a zero fractional part (1.0, -0.0, 1e2);
    # jsonschema knows that of a float, but the numbers here are read exactly, as Decimal.
    if isinstance(instance, Decimal):
        return instance.is_finite() and instance == instance.to_integral_value()
    return bool(Draft202012Validator.TYPE_CHECKER.is_type(instance, "integer"))


def _ecma_pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Any:
    # ECMA-262's "$" (JSON Schema's dialect) is the end of the text; Python's also matches
    # before a final newline, so jsonschema accepts "abc\n" for ^[a-z]+$. Found by the
    # fuzzer in CI: a productId ending in "\n", which the app refuses.
    if not validator.is_type(instance, "string"):
        return
    python = (
        pattern[:-1] + r"\Z" if pattern.endswith("$") and not pattern.endswith("\\$") else pattern
    )
    if not re.search(python, instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


_ExactValidator = validators.extend(
    Draft202012Validator,
    validators={"pattern": _ecma_pattern},
    type_checker=Draft202012Validator.TYPE_CHECKER.redefine("integer", _is_integer),
)


@functools.cache
def _document_validator(name: str) -> Any:
    # Numbers read exactly (Decimal), as the app reads them.
    schema = schemas.resolved(CONTRACT.document["components"]["schemas"][name])
    return _ExactValidator(
        json.loads(json.dumps(schema), parse_float=Decimal), format_checker=_DOCUMENT_FORMATS
    )


# The formats the document names for what its patterns leave to the server (chalicelib.text).
_DOCUMENT_FORMATS = FormatChecker(formats=())
for _format, _check in text.FORMATS.items():
    _DOCUMENT_FORMATS.checks(_format)(_check)


def _document_accepts(name: str, raw: bytes) -> bool:
    """What the published document says: JSON Schema 2020-12 over I-JSON (RFC 7493) text."""
    try:
        body = json.loads(raw, parse_float=Decimal)
        # I-JSON: text that does not encode as UTF-8 (a lone surrogate escape) is no JSON text.
        json.dumps(body, ensure_ascii=False, default=str).encode("utf-8")
    except ValueError:
        return False
    return _document_validator(name).is_valid(body) and _money_rule_holds(body)


def _listings(world: World) -> dict[str, tuple[str, str | None]]:
    """Every listing (issue #23 item 1), with the role that reads it."""
    customer = world.accounts["customer"].user_id
    return {
        "products": ("/products", None),
        "products by category": ("/products?category=general", None),
        "products by name": ("/products?q=l", None),
        "own orders": ("/orders", "customer"),
        "all orders": ("/orders", "admin"),
        "orders by status": ("/orders?status=PENDING", "admin"),
        "one user's orders": (f"/orders?userId={customer}", "admin"),
        "users": ("/users", "admin"),
    }


def test_every_listing_answers_any_cursor_with_200_or_400(world):
    """Cursor fuzzing on every listing: only a cursor that listing issued opens (else 400)."""
    listings = _listings(world)

    @FUZZ_SETTINGS
    @given(data=st.data())
    def run(data):
        world.repair()
        name = data.draw(st.sampled_from(sorted(listings)))
        path, role = listings[name]
        hostile = data.draw(st.booleans())
        cursor = data.draw(_nested_cursors() if hostile else _cursors(world))
        if not _encodable(cursor):
            return
        joiner = "&" if "?" in path else "?"
        url = f"{path}{joiner}limit=1&cursor={quote(cursor, safe='')}"
        token = world.accounts[role].token if role else None
        reply = world.api.request("GET", url, token=token)
        note(f"{name}: GET {url} -> {reply.status} {reply.body!r}")
        event(f"status {reply.status}")
        assert reply.status in (200, 400), reply.body
        if reply.status == 400:
            assert reply.body["code"] == "ValidationError" and "cursor" in reply.body["error"]
        else:
            assert cursor in world.cursors, "a cursor the server never issued was accepted"
        if isinstance(reply.body, dict) and isinstance(reply.body.get("nextCursor"), str):
            world.cursors.append(reply.body["nextCursor"])
            del world.cursors[:-40]

    run()


@pytest.mark.parametrize("name", sorted(schemas.REQUEST_SCHEMAS))
def test_validation_and_document_agree_on_every_body(name):
    schema = schemas.resolved(schemas.REQUEST_SCHEMAS[name])
    bodies = st.one_of(
        from_schema(schema).map(to_raw),
        from_schema(schema).flatmap(mutated),
        json_values().map(to_raw),
    )

    @settings(FUZZ_SETTINGS, max_examples=FUZZ_EXAMPLES * 4)
    @given(raw=bodies)
    def run(raw):
        assert _app_accepts(name, raw) == _document_accepts(name, raw), raw

    run()


def test_regressions(world):
    """Every case of ``fuzz_regressions.py`` (one world for all: building one is the cost)."""
    failures = []
    for case in REGRESSIONS:
        try:
            _replay(world, case)
        except AssertionError as failure:
            failures.append(f"[{case.name}] {failure}")
    assert not failures, f"{len(failures)} of {len(REGRESSIONS)} cases fail:\n" + "\n\n".join(
        failures
    )


def _replay(world: World, case: Regression) -> None:
    headers = {"Content-Type": "application/json", **case.headers}
    if case.role != "anonymous":
        headers["Authorization"] = f"Bearer {world.accounts[case.role].token}"
    path = case.path
    for name, value in (
        ("{customer}", world.accounts["customer"].user_id),
        ("{admin}", world.accounts["admin"].user_id),
        ("{product}", world.product_ids[0]),
        ("{order}", world.order_ids[0]),
    ):
        path = path.replace(name, value)
    request = Request(case.method, path, headers, case.body)
    world.aws_calls.clear()
    answer = send(world.api, case.method, path, headers, case.body)
    template = CONTRACT.template_for(case.method, path)
    assert template is not None, f"{request}: no documented operation"
    assert_answer_conforms(request, template, answer)
    assert_dynamodb_keys_fit(request, world.aws_calls.calls)
    if case.expect is not None:
        assert answer.status == case.expect, f"{request}\n-> {answer.status} {answer.body!r}"


@pytest.mark.parametrize("stock", [b"1.0", b"-0.0", b"1e2", b"-0E+50", b"0e-7", b"1.5", b"1e25"])
def test_a_whole_number_with_a_fraction_is_an_integer_to_both(stock):
    # Found by the fuzzer in CI: {"stock": -0.0}; JSON Schema counts it an integer (0).
    raw = b'{"name": "table", "price": 0, "stock": ' + stock + b"}"
    accepted = _app_accepts("ProductCreate", raw)
    assert accepted == _document_accepts("ProductCreate", raw)
    assert accepted == (stock in (b"1.0", b"-0.0", b"1e2", b"-0E+50", b"0e-7"))


@pytest.mark.parametrize("product_id", ["abc", "abc\n", "ab\nc"])
def test_a_trailing_newline_is_refused_by_both(product_id):
    # Found by the fuzzer in CI: "$" ends the text in the document's regex dialect.
    raw = json.dumps({"items": [{"productId": product_id, "quantity": 1}]}).encode()
    accepted = _app_accepts("OrderCreate", raw)
    assert accepted == _document_accepts("OrderCreate", raw)
    assert accepted == (product_id == "abc")


@pytest.mark.parametrize("name", ["lamp", "lamp \U0001f642", "lamp\U000e0001", "\U000f0000"])
def test_a_forbidden_character_beyond_u_ffff_is_refused_by_both(name):
    # The pattern leaves these to the server, the document says so with its format.
    raw = json.dumps({"name": name, "price": "1"}, ensure_ascii=False).encode("utf-8")
    accepted = _app_accepts("ProductCreate", raw)
    assert accepted == _document_accepts("ProductCreate", raw)
    assert accepted == (name in ("lamp", "lamp \U0001f642"))
