"""Who is calling: bearer tokens in, a :class:`Principal` out.

Enforcement is an in-handler check rather than an API Gateway authorizer: it
costs no second Lambda invocation, behaves identically under ``chalice local``,
``chalice.test.Client`` and API Gateway, and revocation (password change,
deletion) takes effect on the very next request because the profile read that
follows the signature check compares the token's version with the stored one.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from chalicelib import tokens
from chalicelib.clock import iso_z
from chalicelib.config import get_settings
from chalicelib.errors import Forbidden, Unauthorized
from chalicelib.roles import ADMIN


@dataclass(frozen=True)
class Principal:
    user_id: str
    role: str
    token_version: int

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN


def now() -> int:
    return int(time.time())


@functools.cache
def signing_key() -> bytes:
    """The stage's HS256 key: ``TOKEN_SECRET`` locally, else Secrets Manager.

    Read once per container. A throttled or unavailable Secrets Manager is a 503.
    """
    settings = get_settings()
    if settings.token_secret:
        return settings.token_secret.encode("utf-8")
    if not settings.token_secret_id:
        raise RuntimeError("neither TOKEN_SECRET nor TOKEN_SECRET_ID is configured")
    from chalicelib.aws import secret_string

    return secret_string(settings.token_secret_id).encode("utf-8")


def issue_token(user_id: str, role: str, token_version: int) -> tuple[str, str]:
    """A signed token and its expiry (ISO 8601 UTC)."""
    settings = get_settings()
    issued = now()
    expires = issued + settings.token_ttl_seconds
    claims = {
        "sub": user_id,
        "role": role,
        "ver": token_version,
        "iat": issued,
        "exp": expires,
        "iss": settings.token_issuer,
    }
    expires_at = iso_z(datetime.fromtimestamp(expires, tz=UTC), "seconds")
    return tokens.encode(claims, signing_key()), expires_at


def principal_from_token(token: str | None) -> Principal:
    """Verify the token's signature, issuer and expiry (no database access)."""
    if token is None:
        raise Unauthorized("sign in first: missing Authorization header")
    claims = tokens.decode(token, signing_key(), issuer=get_settings().token_issuer, now=now())
    return Principal(user_id=claims["sub"], role=claims["role"], token_version=claims["ver"])


def require_admin(principal: Principal) -> None:
    """The one place the admin-only rule lives."""
    if not principal.is_admin:
        raise Forbidden("this action requires an administrator")
