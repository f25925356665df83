"""Encodings shared by tokens, password hashes and cursors.

base64url without padding (RFC 7515 §2), the spelling of tokens and cursors.
"""

from __future__ import annotations

import base64
import binascii
import re


def b64url_encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


_B64URL = re.compile(r"[A-Za-z0-9_-]*")


def b64url_decode(text: str) -> bytes:
    """Lenient about padding; raises ``ValueError`` (``binascii.Error``) on bad input,
    including characters outside the alphabet (which base64 would silently skip)."""
    if not _B64URL.fullmatch(text):
        raise binascii.Error("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
