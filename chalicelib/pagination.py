"""``?limit=&cursor=`` pagination over PynamoDB result iterators.

The cursor is the DynamoDB key of the last item returned, base64url-encoded
JSON: opaque to clients, validated on the way back in (a bad one is a 400).
One extra item is read to know whether another page exists, so a page of N
reads at most N + 1 items and ``nextCursor`` is null exactly on the last page.
"""

from __future__ import annotations

import binascii
import json
import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from pynamodb.exceptions import QueryError, ScanError
from pynamodb.pagination import ResultIterator

from chalicelib.encoding import b64url_decode, b64url_encode
from chalicelib.errors import ValidationError

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
# What encode_cursor writes: unpadded base64url (documented in /openapi.json).
CURSOR_PATTERN = "^[A-Za-z0-9_-]+$"

T = TypeVar("T")


def parse_limit(query: Mapping[str, str] | None) -> int:
    raw = (query or {}).get("limit")
    if raw is None:
        return DEFAULT_LIMIT
    # isdigit() alone admits digits int() refuses ("²") and strings too long to convert.
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 10) or not 1 <= int(raw) <= MAX_LIMIT:
        raise ValidationError(f"limit must be an integer between 1 and {MAX_LIMIT}")
    return int(raw)


def encode_cursor(key: Mapping[str, Any]) -> str:
    raw = json.dumps(key, separators=(",", ":"), sort_keys=True).encode()
    return b64url_encode(raw)


def decode_cursor(
    cursor: str | None, key_names: set[str], fixed: Mapping[str, str] | None = None
) -> dict[str, Any] | None:
    """The start key a cursor stands for; ``fixed`` pins attributes (e.g. the queried user)."""
    if cursor is None:
        return None
    invalid = ValidationError("cursor is invalid; use the nextCursor of a previous page")
    try:
        if len(cursor) > 2048 or not re.fullmatch(CURSOR_PATTERN, cursor):
            raise ValueError
        key = json.loads(b64url_decode(cursor))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise invalid from None
    if not isinstance(key, dict) or set(key) != key_names:
        raise invalid
    for value in key.values():
        if not (
            isinstance(value, dict)
            and len(value) == 1
            and isinstance(value.get("S"), str)
            and 0 < len(value["S"]) <= 1024
            and value["S"].isprintable()
        ):
            raise invalid
    for name, expected in (fixed or {}).items():
        if key[name]["S"] != expected:
            raise invalid
    return key


def paginate(
    run: Callable[..., ResultIterator[T]],
    *,
    limit: int,
    cursor: str | None,
    key_names: set[str],
    fixed: Mapping[str, str] | None = None,
) -> tuple[list[T], str | None]:
    """Run ``run(limit=, page_size=, last_evaluated_key=)`` and cut one page out of it."""
    start = decode_cursor(cursor, key_names, fixed)
    results = run(limit=limit + 1, page_size=limit + 1, last_evaluated_key=start)
    items: list[T] = []
    last_key = next_key = None
    try:
        for item in results:
            if len(items) == limit:
                # There is at least one more item: resume after the last one returned.
                next_key = last_key
                break
            items.append(item)
            last_key = results.last_evaluated_key
    except (QueryError, ScanError) as exc:
        # DynamoDB rejects a start key that does not belong to the table or index.
        if start is not None and "ValidationException" in str(getattr(exc, "cause", exc)):
            raise ValidationError(
                "cursor is invalid; use the nextCursor of a previous page"
            ) from None
        raise
    return items, (encode_cursor(next_key) if next_key else None)
