"""The one JSON client of the shop API, for the scripts and the tests. Standard library only.

``JsonClient`` speaks the API's conventions (JSON bodies, ``Authorization: Bearer``) over
a *transport*: ``UrllibTransport`` for real HTTP (``make smoke``, the end-to-end tests),
or any callable with the same signature (the API tests pass requests to
``chalice.test.Client``). So the smoke script and every test send requests the same way.

    client = JsonClient(UrllibTransport("http://127.0.0.1:8000"))
    reply = client.post("/users/login", {"email": ..., "password": ...})
    reply.status, reply.body, reply.headers
    status, body = client.get("/products")  # a reply is also the tuple (status, body)
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple, Self

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
DEFAULT_TIMEOUT_SECONDS = 30.0

# (method, path with query, body bytes or None, headers) -> (status, body bytes, headers)
Transport = Callable[[str, str, bytes | None, dict[str, str]], tuple[int, bytes, dict[str, str]]]


class _StatusAndBody(NamedTuple):
    status: int
    body: Any


class Reply(_StatusAndBody):
    """One response: the status, the body parsed as JSON (or its text, or None), headers.

    It is the tuple ``(status, body)`` (``status, body = client.get(...)``, ``reply[0]``),
    with the response headers as an attribute.
    """

    headers: dict[str, str]

    def __new__(cls, status: int, body: Any, headers: Mapping[str, str] | None = None) -> Self:
        reply = super().__new__(cls, status, body)
        reply.headers = dict(headers or {})
        return reply

    def __repr__(self) -> str:
        return f"Reply(status={self.status!r}, body={self.body!r})"


class UrllibTransport:
    """Real HTTP with ``urllib``; 4xx/5xx are replies, not exceptions.

    A host that does not answer raises ``OSError`` (``urllib.error.URLError``). Loopback
    never goes through a proxy from the environment; anything else may.
    """

    def __init__(self, base_url: str, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        host = urllib.parse.urlsplit(self.base_url).hostname or ""
        handlers = [urllib.request.ProxyHandler({})] if host in LOOPBACK_HOSTS else []
        self._opener = urllib.request.build_opener(*handlers)

    def __call__(
        self, method: str, path: str, data: bytes | None, headers: dict[str, str]
    ) -> tuple[int, bytes, dict[str, str]]:
        request = urllib.request.Request(self.base_url + path, data, headers, method=method)
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                return response.status, response.read(), dict(response.headers)
        except urllib.error.HTTPError as error:  # 4xx/5xx still carry a body
            return error.code, error.read(), dict(error.headers)


class JsonClient:
    """JSON in, ``Reply`` out, over any transport.

    ``parse_float=decimal.Decimal`` compares money exactly; ``default_headers`` go with
    every request (after ``Content-Type: application/json``); a request's own
    ``headers`` win over both and over ``token``.
    """

    def __init__(
        self,
        transport: Transport,
        *,
        parse_float: Callable[[str], Any] = float,
        default_headers: Mapping[str, str] | None = None,
    ) -> None:
        self.transport = transport
        self.parse_float = parse_float
        self.default_headers = dict(default_headers or {})

    @classmethod
    def for_url(cls, base_url: str, **options: Any) -> Self:
        return cls(UrllibTransport(base_url), **options)

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        token: str | None = None,
        headers: Mapping[str, str] | None = None,
        raw: bytes | str | None = None,
    ) -> Reply:
        """Send ``body`` as JSON (or ``raw`` exactly as given) and parse the answer."""
        sent = {"Content-Type": "application/json", **self.default_headers}
        if token:
            sent["Authorization"] = f"Bearer {token}"
        sent.update(headers or {})
        if raw is not None:
            data: bytes | None = raw.encode() if isinstance(raw, str) else raw
        else:
            data = json.dumps(body).encode() if body is not None else None
        status, payload, received = self.transport(method, path, data, sent)
        return Reply(status, self._parse(payload), received)

    def _parse(self, payload: bytes) -> Any:
        if not payload:
            return None
        text = payload.decode("utf-8", "replace")
        try:
            return json.loads(text, parse_float=self.parse_float)
        except ValueError:
            return text

    def get(self, path: str, **options: Any) -> Reply:
        return self.request("GET", path, **options)

    def post(self, path: str, body: Any = None, **options: Any) -> Reply:
        return self.request("POST", path, body, **options)

    def put(self, path: str, body: Any = None, **options: Any) -> Reply:
        return self.request("PUT", path, body, **options)

    def delete(self, path: str, **options: Any) -> Reply:
        return self.request("DELETE", path, **options)
