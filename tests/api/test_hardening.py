"""Body limit, security headers and CORS through the HTTP API (``chalicelib.http``)."""

from __future__ import annotations

import dataclasses
import json

import pytest

from chalicelib import http, validation
from chalicelib.config import get_settings
from tests.api.conftest import Api

ORIGIN = "https://shop.example.com"


# --- body limit ----------------------------------------------------------------------------


def padded_body(size: int) -> bytes:
    """A JSON object of exactly ``size`` bytes."""
    head = b'{"email": "a@example.com", "name": "A", "password": "correct-horse", "x": "'
    tail = b'"}'
    return head + b"a" * (size - len(head) - len(tail)) + tail


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/users/register"), ("POST", "/users/login"), ("POST", "/orders"),
     ("PUT", "/products/p1"), ("GET", "/products")],
)  # fmt: skip
def test_a_body_over_64_kib_is_413_before_it_is_parsed(api, monkeypatch, method, path):
    parsed = []
    monkeypatch.setattr(validation, "parse_json", lambda raw: parsed.append(raw))
    reply = api.request(method, path, raw=padded_body(http.MAX_BODY_BYTES + 1))
    assert reply.status == 413, reply.body
    assert reply.body == {
        "error": "request body must be at most 65536 bytes",
        "code": "PayloadTooLarge",
    }
    assert parsed == []
    assert reply.headers["X-Content-Type-Options"] == "nosniff"


def test_a_million_keys_are_refused_without_touching_dynamodb(api, aws_calls):
    body = "{" + ",".join(f'"k{i}":1' for i in range(1_000_000)) + "}"
    aws_calls.clear()
    assert api.request("POST", "/users/login", raw=body).status == 413
    assert aws_calls.dynamodb() == []


def test_a_body_of_exactly_64_kib_is_parsed(api):
    reply = api.request("POST", "/users/register", raw=padded_body(http.MAX_BODY_BYTES))
    assert reply.status == 400  # parsed and validated: the extra field is named
    assert "unknown field(s): x" in reply.body["error"]


# --- headers -------------------------------------------------------------------------------


def test_every_answer_has_nosniff(api, customer):
    replies = [
        api.get("/products"),
        api.get("/openapi.json"),
        api.get("/products/nope"),
        api.get(f"/users/{customer.user_id}", token=customer.token),
        api.get("/users/x"),
        api.post("/users/login", {"email": "x@example.com", "password": "wrong-password"}),
        api.request("POST", "/users/login", raw="{", headers={}),
        api.request("POST", "/users/login", raw="{}", headers={"Content-Type": "text/plain"}),
    ]
    assert [r.headers.get("X-Content-Type-Options") for r in replies] == ["nosniff"] * 8


def test_login_and_authenticated_routes_are_no_store_public_reads_are_not(api, admin, customer):
    login = api.post("/users/login", {"email": customer.email, "password": customer.password})
    assert login.status == 200
    private = [
        login,
        api.post("/users/login", {"email": customer.email, "password": "wrong-password"}),
        api.post("/users/register", {"email": "n@example.com", "name": "N", "password": "x" * 8}),
        api.get(f"/users/{customer.user_id}", token=customer.token),
        api.get("/users", token=admin.token),
        api.get("/orders", token=customer.token),
        api.get("/orders"),  # a 401 too
        api.post("/products", {"name": "W", "price": "1"}, token=admin.token),
    ]
    assert [r.headers.get("Cache-Control") for r in private] == ["no-store"] * len(private)
    public = [api.get("/products"), api.get("/openapi.json")]
    assert [r.headers.get("Cache-Control") for r in public] == [None, None]


# --- CORS ----------------------------------------------------------------------------------


@pytest.fixture
def cors(aws, monkeypatch):
    """The app as a stage allowing ORIGIN builds it: preflight routes, origin checked.

    (app.py registers the routes at import when CORS_ALLOWED_ORIGINS is set; the test stage
    has none, so they are added here and taken away afterwards.)
    """
    from chalice.test import Client

    from app import app

    allowed = dataclasses.replace(get_settings(), cors_allowed_origins=(ORIGIN,))
    monkeypatch.setattr(http, "get_settings", lambda: allowed)
    http.register_preflight_routes(app)
    try:
        with Client(app) as client:
            yield Api(client)
    finally:
        for entries in app.routes.values():
            entries.pop("OPTIONS", None)


def preflight(api, path, method="POST", origin=ORIGIN):
    headers = {"Origin": origin, "Access-Control-Request-Method": method,
               "Access-Control-Request-Headers": "authorization,content-type"}  # fmt: skip
    return api.request("OPTIONS", path, raw=b"", headers=headers)


def test_without_configured_origins_there_are_no_cors_headers(api):
    from app import app

    # No preflight routes: API Gateway answers OPTIONS itself (403), without CORS headers.
    assert all("OPTIONS" not in entries for entries in app.routes.values())
    answers = [
        api.get("/products", headers={"Origin": ORIGIN}),
        api.get("/orders", headers={"Origin": ORIGIN}),
    ]
    for reply in answers:
        assert not [h for h in reply.headers if h.lower().startswith("access-control")]
        assert "Vary" not in reply.headers


def test_a_preflight_from_an_allowed_origin_is_answered(cors):
    reply = preflight(cors, "/users/{id}".replace("{id}", "someone"), method="PUT")
    assert reply.status == 204
    assert reply.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert reply.headers["Access-Control-Allow-Methods"] == "DELETE, GET, PUT"
    allowed_headers = reply.headers["Access-Control-Allow-Headers"].lower()
    for name in ("authorization", "content-type", "idempotency-key"):
        assert name in allowed_headers
    assert int(reply.headers["Access-Control-Max-Age"]) > 0
    assert reply.headers["Vary"] == "Origin"


@pytest.mark.parametrize(
    ("origin", "method"),
    [("https://evil.example", "POST"), (ORIGIN + ".evil.example", "POST"), (ORIGIN, "PATCH")],
)
def test_a_preflight_from_elsewhere_or_for_another_method_gets_no_grant(cors, origin, method):
    reply = preflight(cors, "/orders", method=method, origin=origin)
    assert reply.status == 204
    assert "Access-Control-Allow-Origin" not in reply.headers
    assert "Access-Control-Allow-Methods" not in reply.headers


def test_real_requests_and_errors_carry_the_origin(api, cors, customer):
    sent = {"Origin": ORIGIN}
    as_text = {**sent, "Content-Type": "text/plain"}
    new_user = {"email": "c@example.com", "name": "C", "password": "x" * 8}
    answers = {
        "ok": api.get("/products", headers=sent),
        "created": api.post("/users/register", new_user, headers=sent),
        "401": api.get("/orders", headers=sent),
        "400": api.request("POST", "/users/login", raw="{", headers=sent),
        "415": api.request("POST", "/users/login", raw="{}", headers=as_text),
        "413": api.request("POST", "/users/login", raw=b"x" * 70_000, headers=sent),
        "404": api.get("/orders/nope", token=customer.token, headers=sent),
    }
    for name, reply in answers.items():
        assert reply.headers.get("Access-Control-Allow-Origin") == ORIGIN, name
        assert "Retry-After" in reply.headers["Access-Control-Expose-Headers"], name
        assert reply.headers["Vary"] == "Origin", name
    other = api.get("/products", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers


def test_every_path_has_a_preflight_route_and_the_document_does_not_list_them(api, cors):
    from app import app

    paths = json.loads(json.dumps(api.get("/openapi.json").body))["paths"]
    for path, methods in app.routes.items():
        assert "OPTIONS" in methods, path
        assert "options" not in paths.get(path, {}), path
