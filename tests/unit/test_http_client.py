"""The one JSON client (scripts/http_client.py), over a recording transport."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from scripts.http_client import JsonClient, Reply, UrllibTransport


class Recorded:
    """A transport that answers ``answer`` and remembers what it was sent."""

    def __init__(self, status: int = 200, body: bytes = b"", headers=None) -> None:
        self.answer = (status, body, headers or {})
        self.sent: list[tuple[str, str, bytes | None, dict[str, str]]] = []

    def __call__(self, method, path, data, headers):
        self.sent.append((method, path, data, headers))
        return self.answer


def test_a_body_goes_as_json_with_the_token():
    transport = Recorded(201, b'{"orderId": "o-1", "total": 44.48}', {"X-Id": "1"})

    reply = JsonClient(transport).post("/orders", {"items": []}, token="t0k")

    assert transport.sent == [
        (
            "POST",
            "/orders",
            b'{"items": []}',
            {"Content-Type": "application/json", "Authorization": "Bearer t0k"},
        )
    ]
    assert (reply.status, reply.body, reply.headers) == (
        201,
        {"orderId": "o-1", "total": 44.48},
        {"X-Id": "1"},
    )


def test_a_reply_is_the_tuple_of_status_and_body():
    reply = JsonClient(Recorded(404, b'{"code": "NotFound"}')).get("/products/x")

    status, body = reply
    assert (status, body) == (404, {"code": "NotFound"})
    assert reply == (404, {"code": "NotFound"})
    assert reply[0] == 404
    assert isinstance(reply, Reply)


def test_no_body_sends_nothing_and_an_empty_answer_is_none():
    transport = Recorded(204)

    reply = JsonClient(transport).delete("/products/p-1")

    assert transport.sent[0][2] is None
    assert reply.body is None


def test_an_answer_that_is_not_json_is_its_text():
    assert JsonClient(Recorded(502, b"Bad Gateway")).get("/").body == "Bad Gateway"


def test_raw_goes_as_given_and_explicit_headers_win():
    transport = Recorded()
    client = JsonClient(transport, default_headers={"Accept": "application/json"})

    client.post("/x", raw="{not json", token="t", headers={"Authorization": "Basic abc"})
    client.post("/x", raw=b"\xff")

    (_, _, data, headers), (_, _, raw_bytes, _) = transport.sent
    assert data == b"{not json"
    assert headers == {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "Authorization": "Basic abc",
    }
    assert raw_bytes == b"\xff"


def test_money_can_be_read_as_exact_decimals():
    body = json.dumps({"total": 44.48}).encode()

    reply = JsonClient(Recorded(200, body), parse_float=Decimal).get("/orders/o-1")

    assert reply.body["total"] == Decimal("44.48")


def test_an_unreachable_host_raises_os_error():
    client = JsonClient(UrllibTransport("http://127.0.0.1:9", timeout=5))

    with pytest.raises(OSError):
        client.get("/products")
