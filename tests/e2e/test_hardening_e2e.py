"""Hardening over real HTTP against ``python -m devstack``: methods the API does not define,
http.server's refusals, keep-alive after HEAD, login backoff, the body limit, headers, CORS."""

from __future__ import annotations

import http.client
import json
import socket
import uuid
from urllib.parse import urlsplit

import pytest

ORIGIN = "https://shop.example.com"


def connect(url: str) -> http.client.HTTPConnection:
    parts = urlsplit(url)
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)


def exchange(conn, method, path, body=None, headers=None):
    """One request on a kept-alive connection: (status, headers, raw body)."""
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()


MISSING = {"message": "Missing Authentication Token"}


@pytest.mark.parametrize("method", ["TRACE", "HEAD", "PATCH", "CONNECT", "FOO", "DELETE"])
def test_a_method_the_api_does_not_define_is_a_json_403_and_the_connection_survives(stack, method):
    conn = connect(stack.url)
    try:
        body = b'{"a": 1}' if method in ("PATCH", "FOO") else None
        status, headers, raw = exchange(conn, method, "/products", body=body)
        assert status == 403
        if method == "HEAD":
            assert raw == b""  # headers only: the next response is not shifted
        else:
            assert headers["content-type"] == "application/json"
            assert json.loads(raw) == MISSING
        # The same connection carries on with the next request.
        status, headers, raw = exchange(conn, "GET", "/products?limit=1")
        assert status == 200
        assert "items" in json.loads(raw)
    finally:
        conn.close()


def test_an_unknown_path_is_the_same_json_403(http):
    assert http.get("/no/such/path") == (403, MISSING)


def raw_exchange(stack, request: bytes) -> tuple[int, dict]:
    parts = urlsplit(stack.url)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    if not data.startswith(b"HTTP/"):
        return 400, json.loads(data)  # an HTTP/0.9-style answer: no status line, body only
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ")[1])
    assert b"content-type: application/json" in head.lower()
    return status, json.loads(body)


@pytest.mark.parametrize(
    "request_bytes",
    [
        pytest.param(b"GET /products HTTP/1.1\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n", id="long"),
        pytest.param(
            b"GET /products HTTP/1.1\r\n" + b"".join(b"X-%d: 1\r\n" % i for i in range(120))
            + b"\r\n", id="many",
        ),
        pytest.param(b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n", id="long-uri"),
        pytest.param(b"GARBAGE\r\n\r\n", id="bad-request-line"),
        pytest.param(b"GET /products HTTP/2.0\r\n\r\n", id="bad-version"),
    ],
)  # fmt: skip
def test_http_servers_own_refusals_are_json(stack, request_bytes):
    status, body = raw_exchange(stack, request_bytes)
    assert 400 <= status < 500
    assert isinstance(body["message"], str) and body["message"]


def test_login_backoff_over_http(stack, http):
    email = f"backoff-{uuid.uuid4().hex[:8]}@example.com"
    assert http.post("/users/register", {"email": email, "name": "B", "password": "right-pw-1"})[
        0
    ] == 201  # fmt: skip
    for _ in range(5):
        assert http.post("/users/login", {"email": email, "password": "wrong-pw-1"})[0] == 401
    conn = connect(stack.url)
    try:
        body = json.dumps({"email": email, "password": "right-pw-1"})
        status, headers, raw = exchange(
            conn, "POST", "/users/login", body, {"Content-Type": "application/json"}
        )
    finally:
        conn.close()
    assert status == 429
    assert json.loads(raw)["code"] == "TooManyAttempts"
    assert 0 < int(headers["retry-after"]) <= 60


def test_an_oversized_body_is_413_over_http(stack):
    conn = connect(stack.url)
    try:
        status, _, raw = exchange(
            conn, "POST", "/users/login", b"{" + b" " * 70_000 + b"}",
            {"Content-Type": "application/json"},
        )  # fmt: skip
        assert status == 413
        assert json.loads(raw)["code"] == "PayloadTooLarge"
        assert exchange(conn, "GET", "/products?limit=1")[0] == 200  # connection still usable
    finally:
        conn.close()


def test_security_headers_over_http(stack, admin):
    conn = connect(stack.url)
    try:
        body = json.dumps({"email": stack.admin_email, "password": stack.admin_password})
        status, login, _ = exchange(
            conn, "POST", "/users/login", body, {"Content-Type": "application/json"}
        )
        assert status == 200
        _, products, _ = exchange(conn, "GET", "/products")
        _, users, _ = exchange(conn, "GET", "/users", headers={"Authorization": f"Bearer {admin}"})
    finally:
        conn.close()
    for headers in (login, products, users):
        assert headers["x-content-type-options"] == "nosniff"
    assert login["cache-control"] == users["cache-control"] == "no-store"
    assert "cache-control" not in products
    assert "access-control-allow-origin" not in products  # no origins configured: no CORS


@pytest.fixture(scope="module")
def cors_stack(stack_launcher):
    with stack_launcher(env={"CORS_ALLOWED_ORIGINS": ORIGIN}) as running:
        yield running


def test_cors_preflight_and_requests_from_an_allowed_origin(cors_stack):
    conn = connect(cors_stack.url)
    try:
        status, headers, raw = exchange(
            conn, "OPTIONS", "/users/login",
            headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST",
                     "Access-Control-Request-Headers": "content-type"},
        )  # fmt: skip
        assert status == 204 and raw == b""
        assert headers["access-control-allow-origin"] == ORIGIN
        assert "POST" in headers["access-control-allow-methods"]
        assert "content-type" in headers["access-control-allow-headers"].lower()

        body = json.dumps({"email": "nobody@example.com", "password": "wrong-pw-1"})
        status, headers, _ = exchange(
            conn, "POST", "/users/login", body,
            {"Origin": ORIGIN, "Content-Type": "application/json"},
        )  # fmt: skip
        assert status == 401  # an error a browser can read
        assert headers["access-control-allow-origin"] == ORIGIN
        assert headers["vary"] == "Origin"

        status, headers, _ = exchange(conn, "GET", "/products", headers={"Origin": ORIGIN})
        assert status == 200
        assert headers["access-control-allow-origin"] == ORIGIN

        status, headers, _ = exchange(
            conn, "GET", "/products", headers={"Origin": "https://evil.example"}
        )
        assert status == 200
        assert "access-control-allow-origin" not in headers
    finally:
        conn.close()
