"""Who is calling: bearer tokens in, a :class:`Principal` out.

Enforcement is an in-handler check rather than an API Gateway authorizer: it
costs no second Lambda invocation, behaves identically under ``chalice local``,
``chalice.test.Client`` and API Gateway, and revocation (password change,
deletion) takes effect on the very next request because the profile read that
follows the signature check compares the token's version with the stored one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

from chalicelib import signing_keys, tokens
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
    key = signing_keys.keys.current(issued)
    return tokens.encode(claims, key.secret, kid=key.kid), expires_at


def principal_from_token(token: str | None) -> Principal:
    """Verify the token's signature, issuer and expiry (no database access)."""
    if token is None:
        raise Unauthorized("sign in first: missing Authorization header")
    at = now()
    # The keys are chosen by the unverified kid; the signature check then decides.
    verifying = signing_keys.keys.verifying(tokens.unverified_kid(token), at)
    claims = tokens.decode(token, verifying, issuer=get_settings().token_issuer, now=at)
    return Principal(user_id=claims["sub"], role=claims["role"], token_version=claims["ver"])


def require_admin(principal: Principal) -> None:
    """The one place the admin-only rule lives."""
    if not principal.is_admin:
        raise Forbidden("this action requires an administrator")
