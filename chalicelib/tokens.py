"""HS256 JSON Web Tokens with the standard library only.

PyJWT would pull ``cryptography`` into the import path when present (~90 ms of
cold start); HS256 needs nothing but ``hmac``. Only our own header is accepted,
so algorithm-confusion tricks (``alg: none``, RS256) are rejected outright.

A token names its signing key in the header (``kid``, :func:`key_id`), so that a verifier
holding the current and the previous key (chalicelib/signing_keys.py) knows which to use.
A token without one (issued before keys had ids) is tried against every key given.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Sequence
from typing import Any

from chalicelib.encoding import b64url_decode, b64url_encode
from chalicelib.errors import Unauthorized
from chalicelib.roles import ROLES

_HEADER = {"alg": "HS256", "typ": "JWT"}
_KID_LENGTH = 64  # longer is not one of ours


def key_id(secret: bytes) -> str:
    """A key's public name: a truncated hash (a 256-bit key cannot be found from it)."""
    return b64url_encode(hashlib.sha256(b"token-key-id:" + secret).digest()[:9])


def _b64decode(text: str) -> bytes:
    if not text or len(text) > 4096:
        raise ValueError("bad segment")
    raw = b64url_decode(text)
    # The decoder skips characters outside the alphabet and accepts padding and
    # standard "+/": only the canonical unpadded base64url spelling is one token.
    if b64url_encode(raw) != text:
        raise ValueError("non-canonical segment")
    return raw


def _sign(signing_input: bytes, secret: bytes) -> bytes:
    return hmac.new(secret, signing_input, hashlib.sha256).digest()


def encode(claims: dict[str, Any], secret: bytes, *, kid: str | None = None) -> str:
    fields = _HEADER if kid is None else {**_HEADER, "kid": kid}
    header = b64url_encode(json.dumps(fields, separators=(",", ":")).encode())
    payload = b64url_encode(json.dumps(claims, separators=(",", ":")).encode())
    signing_input = f"{header}.{payload}".encode("ascii")
    return f"{header}.{payload}.{b64url_encode(_sign(signing_input, secret))}"


def _header(header_b64: str) -> dict[str, Any]:
    header = json.loads(_b64decode(header_b64))
    if not isinstance(header, dict):
        raise ValueError("not an object")
    return header


def unverified_kid(token: str) -> str | None:
    """The key id a token's header names, unverified (None when absent or unreadable):
    only to choose the key that :func:`decode` then checks the signature with."""
    try:
        kid = _header(token.split(".", 1)[0]).get("kid")
    except (ValueError, TypeError, RecursionError):
        return None
    return kid if isinstance(kid, str) and 0 < len(kid) <= _KID_LENGTH else None


def decode(token: str, secret: bytes | Sequence[bytes], *, issuer: str, now: int) -> dict[str, Any]:
    """Verify signature (by any of the keys given), issuer and expiry; every failure is
    the same 401."""
    invalid = Unauthorized("invalid or expired token")
    try:
        header_b64, payload_b64, signature_b64 = token.split(".")
        header = _header(header_b64)
        payload = _b64decode(payload_b64)  # also proves the signing input is ASCII
        signature = _b64decode(signature_b64)
    except (ValueError, TypeError, RecursionError):
        raise invalid from None
    named = "kid" in header
    kid = header.pop("kid", None)
    if header != _HEADER or (named and (kid is None or kid != unverified_kid(token))):
        raise invalid  # another field, or a kid that is no key id (null, empty, too long)
    signing_input = f"{header_b64}.{payload_b64}".encode("ascii")
    secrets = [secret] if isinstance(secret, bytes) else secret
    # A key id, when given, must name the key that verifies. Every key is checked (no
    # early exit), so the time taken says nothing about which one matched.
    matched = [
        hmac.compare_digest(signature, _sign(signing_input, key)) and kid in (None, key_id(key))
        for key in secrets
    ]
    if not any(matched):
        raise invalid
    try:
        claims = json.loads(payload)
    except (ValueError, TypeError, RecursionError):
        raise invalid from None
    if not isinstance(claims, dict):
        raise invalid
    exp, iat = claims.get("exp"), claims.get("iat")
    if type(exp) is not int or type(iat) is not int:  # bool is an int subclass: refused
        raise invalid
    if claims.get("iss") != issuer or exp <= now or iat > now + 60:
        raise invalid
    version = claims.get("ver")
    if not isinstance(claims.get("sub"), str) or type(version) is not int:
        raise invalid
    if claims.get("role") not in ROLES:
        raise invalid
    return claims
