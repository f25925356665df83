"""HS256 JSON Web Tokens with the standard library only.

PyJWT would pull ``cryptography`` into the import path when present (~90 ms of
cold start); HS256 needs nothing but ``hmac``. Only our own header is accepted,
so algorithm-confusion tricks (``alg: none``, RS256) are rejected outright.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from chalicelib.encoding import b64url_decode, b64url_encode
from chalicelib.errors import Unauthorized
from chalicelib.roles import ROLES

_HEADER = {"alg": "HS256", "typ": "JWT"}


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


def encode(claims: dict[str, Any], secret: bytes) -> str:
    header = b64url_encode(json.dumps(_HEADER, separators=(",", ":")).encode())
    payload = b64url_encode(json.dumps(claims, separators=(",", ":")).encode())
    signing_input = f"{header}.{payload}".encode("ascii")
    return f"{header}.{payload}.{b64url_encode(_sign(signing_input, secret))}"


def decode(token: str, secret: bytes, *, issuer: str, now: int) -> dict[str, Any]:
    """Verify signature, issuer and expiry; every failure is the same 401."""
    invalid = Unauthorized("invalid or expired token")
    try:
        header_b64, payload_b64, signature_b64 = token.split(".")
        header = json.loads(_b64decode(header_b64))
        payload = _b64decode(payload_b64)  # also proves the signing input is ASCII
        signature = _b64decode(signature_b64)
    except (ValueError, TypeError, RecursionError):
        raise invalid from None
    if header != _HEADER:
        raise invalid
    expected = _sign(f"{header_b64}.{payload_b64}".encode("ascii"), secret)
    if not hmac.compare_digest(signature, expected):
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
