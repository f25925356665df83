"""``?limit=&cursor=`` pagination over PynamoDB result iterators.

The cursor is the DynamoDB key of the last item returned, as JSON, sealed with
an HMAC tag (:func:`seal`) and base64url-encoded: opaque to clients. Only a
cursor this server issued for the same listing opens again; anything else
(forged, tampered, truncated, nested JSON, another listing's) is a 400 before
its JSON is even parsed. The tag's key is derived from the stage's token
signing key, so rotating that key turns outstanding cursors into 400s (a
client starts again from the first page).
One extra item is read to know whether another page exists, so a page of N
reads at most N + 1 items and ``nextCursor`` is null exactly on the last page.
"""

from __future__ import annotations

import binascii
import functools
import hashlib
import hmac
import json
import re
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from pynamodb.exceptions import QueryError, ScanError
from pynamodb.pagination import ResultIterator

from chalicelib.encoding import b64url_decode, b64url_encode
from chalicelib.errors import ValidationError
from chalicelib.signing_keys import keys

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
# What encode_cursor writes: unpadded base64url (documented in /openapi.json).
CURSOR_PATTERN = "^[A-Za-z0-9_-]+$"
# The longest cursor accepted: a sharded listing's holds one key per shard.
MAX_CURSOR_LENGTH = 8192
_TAG_BYTES = 16  # HMAC-SHA256 truncated to 128 bits
CURSOR_INVALID = "cursor is invalid; use the nextCursor of a previous page"

T = TypeVar("T")


def parse_limit(query: Mapping[str, str] | None) -> int:
    raw = (query or {}).get("limit")
    if raw is None:
        return DEFAULT_LIMIT
    # isdigit() alone admits digits int() refuses ("²") and strings too long to convert.
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 10) or not 1 <= int(raw) <= MAX_LIMIT:
        raise ValidationError(f"limit must be an integer between 1 and {MAX_LIMIT}")
    return int(raw)


@functools.lru_cache(maxsize=4)
def _cursor_key(signing_secret: bytes) -> bytes:
    # Derived, so a cursor tag can never stand in for a token signature or vice versa.
    return hmac.new(signing_secret, b"shop cursor v1", hashlib.sha256).digest()


def _tag(context: str, payload: bytes, signing_secret: bytes) -> bytes:
    message = context.encode() + b"\0" + payload
    return hmac.new(_cursor_key(signing_secret), message, hashlib.sha256).digest()[:_TAG_BYTES]


def seal(value: Any, context: str) -> str:
    """``value`` as an opaque cursor that only :func:`unseal` with the same ``context`` opens."""
    payload = json.dumps(value, separators=(",", ":"), sort_keys=True).encode()
    signing_secret = keys.current(int(time.time())).secret
    return b64url_encode(_tag(context, payload, signing_secret) + payload)


def unseal(cursor: str, context: str) -> Any:
    """The JSON value :func:`seal` put in ``cursor`` for ``context``; anything else is a 400.

    The tag is checked before the JSON is parsed, so what reaches the parser is only
    ever what this server wrote (no deep nesting, no oversized numbers).
    """
    invalid = ValidationError(CURSOR_INVALID)
    try:
        if not 0 < len(cursor) <= MAX_CURSOR_LENGTH or not re.fullmatch(CURSOR_PATTERN, cursor):
            raise ValueError
        raw = b64url_decode(cursor)
    except (ValueError, binascii.Error):
        raise invalid from None
    tag, payload = raw[:_TAG_BYTES], raw[_TAG_BYTES:]
    # The token signing keys' own rotation: a cursor sealed just before one still opens.
    secrets = keys.verifying(None, int(time.time()))
    if not payload or not any(hmac.compare_digest(tag, _tag(context, payload, k)) for k in secrets):
        raise invalid
    try:
        return json.loads(payload)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise invalid from None


def _context(key_names: set[str], fixed: Mapping[str, str] | None, scope: str) -> str:
    """What a cursor is bound to: the listing's key attributes, pinned values and filter."""
    return json.dumps([sorted(key_names), sorted((fixed or {}).items()), scope])


def encode_cursor(
    key: Mapping[str, Any],
    key_names: set[str] | None = None,
    fixed: Mapping[str, str] | None = None,
    scope: str = "",
) -> str:
    names = key_names if key_names is not None else set(key)
    return seal(key, _context(names, fixed, scope))


def decode_cursor(
    cursor: str | None,
    key_names: set[str],
    fixed: Mapping[str, str] | None = None,
    scope: str = "",
) -> dict[str, Any] | None:
    """The start key a cursor stands for; ``fixed`` pins attributes (e.g. the queried user),
    ``scope`` names anything else the listing was filtered by (e.g. a name prefix)."""
    if cursor is None:
        return None
    invalid = ValidationError(CURSOR_INVALID)
    key = unseal(cursor, _context(key_names, fixed, scope))
    # Defence in depth: a sealed cursor was written by encode_cursor, so this always holds.
    if not isinstance(key, dict) or set(key) != key_names:
        raise invalid
    for value in key.values():
        if not (
            isinstance(value, dict)
            and len(value) == 1
            and isinstance(value.get("S"), str)
            and 0 < len(value["S"]) <= 1024
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
    scope: str = "",
) -> tuple[list[T], str | None]:
    """Run ``run(limit=, page_size=, last_evaluated_key=)`` and cut one page out of it."""
    start = decode_cursor(cursor, key_names, fixed, scope)
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
            raise ValidationError(CURSOR_INVALID) from None
        raise
    return items, (encode_cursor(next_key, key_names, fixed, scope) if next_key else None)
