"""schemathesis hooks for tests/e2e/test_schemathesis_e2e.py: cursor fuzzing on every listing.

The document declares ``cursor`` as any unpadded base64url string, so schemathesis alone
draws random ones, which almost never decode to JSON. This hook also sends what a hostile
client crafts (issue #23 item 1): deeply nested JSON (the 500 the attack run found), a
well-formed key without the server's seal, a huge number. Each must be a 400, never a 5xx.
"""

from __future__ import annotations

import base64
import itertools
import json
from typing import Any

import schemathesis


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


HOSTILE_CURSORS = [
    _b64("[" * 1200),
    _b64("[" * 900),
    _b64('{"a":' * 300),
    _b64("9" * 1500),
    _b64(
        json.dumps({"catalogue": {"S": "PRODUCT"}, "nameKey": {"S": "a"}, "productId": {"S": "p"}})
    ),
    _b64(json.dumps({"pk": {"S": "USER#x"}})),
    _b64(json.dumps({"orderId": {"S": "o"}, "userId": {"S": "u"}, "createdAt": {"S": "c"}})),
    _b64(json.dumps([None, None, None, "done"])),
]


_drawn = itertools.count()


@schemathesis.hook
def map_query(context: Any, query: Any) -> Any:
    """Every other query of a listing carries the next hostile cursor, in turn."""
    operation = context.operation
    names = {p.name for p in operation.query} if operation is not None else set()
    if "cursor" not in names or not isinstance(query, dict | None):
        return query
    turn = next(_drawn)
    if turn % 2:
        return query
    # Also when schemathesis drew no query at all (every parameter is optional).
    return {**(query or {}), "cursor": HOSTILE_CURSORS[turn // 2 % len(HOSTILE_CURSORS)]}
