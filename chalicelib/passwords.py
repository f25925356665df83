"""Password hashing with ``hashlib.scrypt``; parameters are stored with each hash."""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets

from chalicelib.encoding import b64url_decode, b64url_encode

# n=2**14, r=8, p=1: OWASP's scrypt minimum; ~16 MiB and tens of ms per hash.
SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
_DKLEN = 32
_SCHEME = "scrypt"


def _derive(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=256 * 1024 * 1024, dklen=_DKLEN
    )


def hash_password(password: str) -> str:
    """``scrypt$n$r$p$salt$hash``: the cost travels with the hash, so it can be raised."""
    salt = secrets.token_bytes(16)
    digest = _derive(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    encoded = f"{b64url_encode(salt)}${b64url_encode(digest)}"
    return f"{_SCHEME}${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${encoded}"


def verify_password(password: str, encoded: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = encoded.split("$")
        if scheme != _SCHEME:
            return False
        expected = b64url_decode(digest)
        actual = _derive(password, b64url_decode(salt), int(n), int(r), int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


@functools.cache
def _dummy_hash() -> str:
    # Made on first use, not at import, to keep cold starts cheap.
    return hash_password(secrets.token_urlsafe(16))


def burn_time(password: str) -> None:
    """Spend what a real verification costs, for unknown users (no timing oracle)."""
    verify_password(password, _dummy_hash())
