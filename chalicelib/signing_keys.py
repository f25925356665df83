"""The token signing keys: the current one signs, the previous one verifies for a while.

On AWS the key is the Secrets Manager secret ``TOKEN_SECRET_ID``. ``make rotate-token-key``
(scripts/rotate_key.py) puts a new version: Secrets Manager labels it ``AWSCURRENT`` and
moves ``AWSPREVIOUS`` to the key before it. Nobody is signed out by that:

- a container re-reads the current key after :data:`KEY_CACHE_SECONDS`, so within that
  bound every container signs with the new key;
- a token naming a key this container does not know (signed by a container that already
  has the new one) makes it re-read at once, at most every :data:`REFRESH_FLOOR_SECONDS`;
- the previous key still verifies for :func:`grace_seconds` after the rotation (the
  current version's creation): a token's lifetime plus the cache time, so that every token
  signed with the old key, even by a container that had not yet seen the new one, expires
  inside the grace. After it, the previous key verifies nothing.

A token without a key id (issued before tokens had one) is tried against the current key,
and the previous one within the grace. Locally (``TOKEN_SECRET``) there is one key.
The previous key is read only when a token needs it, so the usual request reads one
version per container and cache period.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from chalicelib import tokens
from chalicelib.config import get_settings

KEY_CACHE_SECONDS = 300
REFRESH_FLOOR_SECONDS = 30
CURRENT, PREVIOUS = "AWSCURRENT", "AWSPREVIOUS"


@dataclass(frozen=True)
class Key:
    kid: str
    secret: bytes
    created: int  # epoch seconds; when this key became current (0: always was)


def _key(secret: str, created: int) -> Key:
    raw = secret.encode("utf-8")
    return Key(tokens.key_id(raw), raw, created)


def grace_seconds() -> int:
    """How long after a rotation the previous key still verifies."""
    return get_settings().token_ttl_seconds + KEY_CACHE_SECONDS


class KeyRing:
    """What this container knows of the keys, and when it read them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.clear()

    def clear(self) -> None:
        self._current: Key | None = None
        self._previous: Key | None = None
        self._previous_read = False
        self._read_at = 0

    def _read(self, at: int) -> Key:
        settings = get_settings()
        if settings.token_secret:
            current = _key(settings.token_secret, 0)
        elif settings.token_secret_id:
            from chalicelib.aws import secret_version

            version = secret_version(settings.token_secret_id, CURRENT)
            if version is None:
                raise RuntimeError(f"secret {settings.token_secret_id} has no current version")
            current = _key(*version)
        else:
            raise RuntimeError("neither TOKEN_SECRET nor TOKEN_SECRET_ID is configured")
        with self._lock:
            if current != self._current:
                self._previous, self._previous_read = None, False
            self._current, self._read_at = current, at
        return current

    def current(self, at: int) -> Key:
        """The key that signs, re-read once :data:`KEY_CACHE_SECONDS` have passed."""
        current = self._current
        if current is None or at >= self._read_at + KEY_CACHE_SECONDS:
            current = self._read(at)
        return current

    def _previous_key(self) -> Key | None:
        if not self._previous_read:
            settings = get_settings()
            previous = None
            if settings.token_secret_id and not settings.token_secret:
                from chalicelib.aws import secret_version

                version = secret_version(settings.token_secret_id, PREVIOUS)
                previous = _key(*version) if version else None
            self._previous, self._previous_read = previous, True
        return self._previous

    def verifying(self, kid: str | None, at: int) -> list[bytes]:
        """The keys that may verify a token naming ``kid`` (None: any of ours) at ``at``."""
        current = self.current(at)
        if kid == current.kid:
            return [current.secret]
        if kid is not None and at >= self._read_at + REFRESH_FLOOR_SECONDS:
            current = self._read(at)  # another container may already sign with a newer key
            if kid == current.kid:
                return [current.secret]
        keys = [current.secret] if kid is None else []
        if at < current.created + grace_seconds():
            previous = self._previous_key()
            if previous is not None and kid in (None, previous.kid):
                keys.append(previous.secret)
        return keys


keys = KeyRing()
