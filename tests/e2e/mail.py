"""The local stack's outbox (``/_devstack/outbox`` on moto's port), read as a person reads
their mail: the emails to one address, and the links in them."""

from __future__ import annotations

import json
import re
import time
import urllib.request
from typing import Any

POLL_SECONDS = 0.05
_LOOPBACK = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def get_json(url: str) -> Any:
    with _LOOPBACK.open(url, timeout=10) as response:
        assert response.headers.get_content_type() == "application/json"
        return json.loads(response.read())


def moto_url(stack: Any, path: str = "") -> str:
    return f"http://127.0.0.1:{stack.moto_port}{path}"


def emails_to(stack: Any, address: str, subject: str | None = None) -> list[dict[str, Any]]:
    return [
        m
        for m in get_json(moto_url(stack, "/_devstack/outbox"))
        if address in m["to"] and subject in (None, m["subject"])
    ]


def link_in(stack: Any, address: str, subject: str, timeout: float = 5.0) -> str:
    """The link of the last email with ``subject`` to ``address`` (waiting for it)."""
    deadline = time.monotonic() + timeout
    while not (received := emails_to(stack, address, subject)) and time.monotonic() < deadline:
        time.sleep(POLL_SECONDS)
    assert received, f"no {subject!r} email to {address}"
    found = re.search(r"(http\S+#/[a-z-]+\?token=\S+)", received[-1]["text"])
    assert found, received[-1]["text"]
    return found.group(1)


def token_of(link: str) -> str:
    return link.split("?token=", 1)[1]


def verify_address(stack: Any, http: Any, address: str) -> None:
    """Follow the registration email's link, through the API (as the page does)."""
    token = token_of(link_in(stack, address, "Confirm your email address"))
    status, body = http.post("/users/verify-email", {"token": token})
    assert status == 200, body
