"""Rotating the token signing key mid-session signs nobody out (chalicelib/signing_keys.py).

The key is in (emulated) Secrets Manager, rotated by ``make rotate-token-key``'s own
function; time is the app's clock (``auth.now``), moved by the test, never slept.
"""

from __future__ import annotations

import time

import pytest

from chalicelib import auth, signing_keys, tokens
from scripts.rotate_key import RotationRefused, rotate
from tests.api.conftest import SIGNING_SECRET_ID

CACHE = signing_keys.KEY_CACHE_SECONDS


@pytest.fixture
def clock(monkeypatch):
    """The app's clock, set by the test: ``clock.at = ...``."""

    class Clock:
        at = int(time.time())

    monkeypatch.setattr(auth, "now", lambda: Clock.at)
    return Clock


def rotated(secretsmanager) -> int:
    """Rotate as the operator does; when the new key became current (epoch seconds)."""
    rotate(secretsmanager, SIGNING_SECRET_ID, signing_keys.grace_seconds(), now=0, force=True)
    version = secretsmanager.get_secret_value(SecretId=SIGNING_SECRET_ID)
    return int(version["CreatedDate"].timestamp())


def secret_of(secretsmanager, stage: str) -> bytes:
    value = secretsmanager.get_secret_value(SecretId=SIGNING_SECRET_ID, VersionStage=stage)
    return str(value["SecretString"]).encode()


def kid_of(token: str) -> str | None:
    return tokens.unverified_kid(token)


def signed_in(api, account) -> bool:
    reply = api.get(f"/users/{account.user_id}", token=account.token)
    assert reply.status in (200, 401), reply.body
    return reply.status == 200


def test_a_rotation_mid_session_signs_nobody_out(api, secret_from_secrets_manager, clock):
    secretsmanager = secret_from_secrets_manager
    before = api.register()
    old_kid = kid_of(before.token)
    assert old_kid == tokens.key_id(secret_of(secretsmanager, "AWSCURRENT"))

    rotated_at = rotated(secretsmanager)
    clock.at = max(clock.at, rotated_at)
    # This container still signs with the key it read, for up to the cache time...
    assert kid_of(api.login(before.email, before.password).token) == old_kid
    assert signed_in(api, before)
    # ...then reads the new one; the old session goes on.
    clock.at += CACHE
    after = api.login(before.email, before.password)
    assert kid_of(after.token) == tokens.key_id(secret_of(secretsmanager, "AWSCURRENT"))
    assert kid_of(after.token) != old_kid
    assert signed_in(api, before) and signed_in(api, after)


def test_a_retired_key_verifies_nothing_after_the_grace(api, secret_from_secrets_manager, clock):
    secretsmanager = secret_from_secrets_manager
    account = api.register()
    old_key = secret_of(secretsmanager, "AWSCURRENT")
    rotated_at = rotated(secretsmanager)
    grace = signing_keys.grace_seconds()
    # A token the old key signed, valid far beyond the grace (as if issued with a long life).
    claims = {**auth_claims(account.token), "exp": rotated_at + 10 * grace}
    long_lived = tokens.encode(claims, old_key, kid=tokens.key_id(old_key))
    legacy = tokens.encode(claims, old_key)  # no kid: issued before tokens named their key
    for token in (long_lived, legacy):
        clock.at = rotated_at + grace - 1
        assert api.get(f"/users/{account.user_id}", token=token).status == 200
        clock.at = rotated_at + grace
        assert api.get(f"/users/{account.user_id}", token=token).status == 401


def auth_claims(token: str) -> dict:
    import json

    from chalicelib.encoding import b64url_decode

    claims: dict = json.loads(b64url_decode(token.split(".")[1]))
    return claims


def test_a_container_that_has_not_seen_the_new_key_accepts_tokens_signed_with_it(
    api, secret_from_secrets_manager, clock
):
    """Two containers: the one that reads first after the rotation signs with the new key;
    the other, whose cache is younger, re-reads when a token names a key it does not know."""
    secretsmanager = secret_from_secrets_manager
    account = api.register()  # this container has read the old key
    stale = signing_keys.keys
    rotated_at = rotated(secretsmanager)
    clock.at = max(clock.at, rotated_at) + signing_keys.REFRESH_FLOOR_SECONDS
    fresh = signing_keys.KeyRing()  # a container started after the rotation
    new_key = fresh.current(clock.at)
    token = tokens.encode(auth_claims(account.token) | {"iat": clock.at}, new_key.secret,
                          kid=new_key.kid)  # fmt: skip
    assert stale.current(clock.at).kid != new_key.kid  # still cached
    assert api.get(f"/users/{account.user_id}", token=token).status == 200
    assert stale.current(clock.at).kid == new_key.kid  # re-read for the unknown kid


def test_an_unknown_kid_rereads_the_key_at_most_every_floor_seconds(
    api, secret_from_secrets_manager, clock, aws_calls
):
    account = api.register()
    forged = tokens.encode(auth_claims(account.token), b"not-our-key", kid="unknown-kid")
    floor = signing_keys.REFRESH_FLOOR_SECONDS
    read_at = clock.at
    reads = []
    for offset in (0, floor - 1, floor, floor + 1):
        clock.at = read_at + offset
        aws_calls.clear()
        assert api.get(f"/users/{account.user_id}", token=forged).status == 401
        reads.append([p["VersionStage"] for s, _, p in aws_calls.calls if s == "secretsmanager"])
    # The previous key is read once (it might have been that one); the current one is
    # re-read once the floor has passed since the last read, not for every forged token.
    assert reads == [["AWSPREVIOUS"], [], ["AWSCURRENT"], []]


def test_a_second_rotation_within_the_grace_is_refused(secret_from_secrets_manager):
    secretsmanager = secret_from_secrets_manager
    grace = signing_keys.grace_seconds()
    created = secretsmanager.get_secret_value(SecretId=SIGNING_SECRET_ID)["CreatedDate"]
    before = secret_of(secretsmanager, "AWSCURRENT")
    with pytest.raises(RotationRefused, match="sign those people out"):
        rotate(secretsmanager, SIGNING_SECRET_ID, grace, now=created.timestamp() + grace - 1)
    assert secret_of(secretsmanager, "AWSCURRENT") == before
    rotate(secretsmanager, SIGNING_SECRET_ID, grace, now=created.timestamp() + grace)
    assert secret_of(secretsmanager, "AWSPREVIOUS") == before
    assert len(secret_of(secretsmanager, "AWSCURRENT")) == 64
