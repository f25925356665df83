"""Encodings shared by tokens, password hashes and cursors.

JSON output of numbers: ``Decimal`` inside, plain JSON numbers outside.
base64url without padding (RFC 7515 §2), the spelling of tokens and cursors.
"""

from __future__ import annotations

import base64
import binascii
import re
from decimal import Decimal
from typing import Any


def json_number(value: Decimal | int) -> int | float:
    """12 for 12.00, 12.5 for 12.50: the same text whichever serializer writes it."""
    value = Decimal(value)
    return int(value) if value == value.to_integral_value() else float(value)


def json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return json_number(value)
    raise TypeError(f"cannot serialize {type(value).__name__}")


def b64url_encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


_B64URL = re.compile(r"[A-Za-z0-9_-]*")


def b64url_decode(text: str) -> bytes:
    """Lenient about padding; raises ``ValueError`` (``binascii.Error``) on bad input,
    including characters outside the alphabet (which base64 would silently skip)."""
    if not _B64URL.fullmatch(text):
        raise binascii.Error("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
