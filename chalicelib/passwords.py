"""Password hashing: Argon2id (OWASP's first choice), with scrypt hashes still verified.

New hashes are Argon2id at OWASP's minimum (m=19 MiB, t=2, p=1) in the PHC string
format, which carries its own parameters. Hashes made earlier (scrypt, or Argon2id with
other parameters) still verify, and :func:`needs_rehash` tells login to replace them.

Why Argon2id rather than scrypt at N=2**17: on the same core it costs ~40 ms per hash
against ~1.9 s for scrypt (``make bench``); a 512 MB Lambda has a third of a vCPU, so
scrypt at OWASP's minimum would make every login take seconds. argon2-cffi adds ~60 KB
of wheels plus cffi to the bundle; it is imported on first use, not at cold start.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from chalicelib.config import get_settings
from chalicelib.encoding import b64url_decode

if TYPE_CHECKING:
    from argon2 import PasswordHasher


@dataclass(frozen=True)
class Argon2Parameters:
    time_cost: int
    memory_kib: int
    parallelism: int


# OWASP Password Storage Cheat Sheet: Argon2id, m=19 MiB, t=2, p=1 (the minimum).
PRODUCTION = Argon2Parameters(time_cost=2, memory_kib=19 * 1024, parallelism=1)
# Only for test suites that hash thousands of passwords; never used unless configured.
FAST_INSECURE_FOR_TESTS = Argon2Parameters(time_cost=1, memory_kib=64, parallelism=1)
PROFILES = {"production": PRODUCTION, "fast-insecure-for-tests": FAST_INSECURE_FOR_TESTS}

_HASH_BYTES = 32
_SALT_BYTES = 16
_SCRYPT = "scrypt"


def parameters() -> Argon2Parameters:
    return PROFILES[get_settings().password_hashing]


@functools.cache
def _hasher(params: Argon2Parameters) -> PasswordHasher:
    # Imported here: argon2/cffi cost ~40 ms of import, which only routes that hash pay.
    from argon2 import PasswordHasher, Type

    return PasswordHasher(
        time_cost=params.time_cost,
        memory_cost=params.memory_kib,
        parallelism=params.parallelism,
        hash_len=_HASH_BYTES,
        salt_len=_SALT_BYTES,
        type=Type.ID,
    )


def hash_password(password: str) -> str:
    """``$argon2id$v=19$m=...,t=...,p=...$salt$hash``: the cost travels with the hash."""
    return _hasher(parameters()).hash(password)


def _verify_scrypt(password: str, encoded: str) -> bool:
    """Hashes from before Argon2id: ``scrypt$n$r$p$salt$hash``."""
    try:
        scheme, n, r, p, salt, digest = encoded.split("$")
        if scheme != _SCRYPT:
            return False
        expected = b64url_decode(digest)
        actual = hashlib.scrypt(
            password.encode("utf-8"),
            salt=b64url_decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            maxmem=256 * 1024 * 1024,
            dklen=len(expected) or _HASH_BYTES,
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def verify_password(password: str, encoded: str) -> bool:
    if encoded.startswith(_SCRYPT + "$"):
        return _verify_scrypt(password, encoded)
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        # argon2 compares in constant time and reads the parameters from the hash.
        return bool(_hasher(parameters()).verify(encoded, password))
    except (VerificationError, InvalidHashError, ValueError, TypeError):
        return False


def needs_rehash(encoded: str) -> bool:
    """True for any hash not made with the current algorithm and parameters."""
    if not encoded.startswith("$argon2id$"):
        return True
    try:
        return bool(_hasher(parameters()).check_needs_rehash(encoded))
    except (ValueError, TypeError):
        return True


@functools.cache
def _dummy_hash(params: Argon2Parameters) -> str:
    # Made on first use, not at import, to keep cold starts cheap.
    return _hasher(params).hash(secrets.token_urlsafe(16))


def burn_time(password: str) -> None:
    """Spend what a real verification costs, for unknown users (no timing oracle)."""
    verify_password(password, _dummy_hash(parameters()))
