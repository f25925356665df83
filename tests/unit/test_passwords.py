"""Password hashing (``chalicelib.passwords``): Argon2id at OWASP's minimum, scrypt still read."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest
from argon2.low_level import Type, hash_secret_raw

from chalicelib import passwords
from chalicelib.config import Settings

ROOT = Path(__file__).resolve().parents[2]


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4))


def scrypt_hash(password: str, n: int = 2**10, r: int = 8, p: int = 1) -> str:
    salt = b"0123456789abcdef"
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=32)
    return f"scrypt${n}${r}${p}${b64(salt)}${b64(digest)}"


def test_hash_is_argon2id_at_owasps_minimum_in_phc_format():
    encoded = passwords.hash_password("correct horse")
    _, scheme, version, params, salt, digest = encoded.split("$")
    assert (scheme, version, params) == ("argon2id", "v=19", "m=19456,t=2,p=1")
    assert len(unb64(salt)) == 16
    expected = hash_secret_raw(
        b"correct horse", unb64(salt), time_cost=2, memory_cost=19456, parallelism=1,
        hash_len=32, type=Type.ID,
    )  # fmt: skip
    assert unb64(digest) == expected


def test_production_parameters_are_owasps_and_every_deployed_stage_uses_them():
    assert (
        passwords.Argon2Parameters(time_cost=2, memory_kib=19 * 1024, parallelism=1)
        == passwords.PRODUCTION
    )
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    for stage, stage_config in config["stages"].items():
        environ = {**config.get("environment_variables", {}), **stage_config.get(
            "environment_variables", {})}  # fmt: skip
        settings = Settings.from_environ(environ)
        assert passwords.PROFILES[settings.password_hashing] is passwords.PRODUCTION, stage
    # Unset means production: a stage can only be cheap by saying so.
    assert Settings.from_environ({}).password_hashing == "production"


def test_the_cheap_profile_is_only_used_when_configured(monkeypatch):
    cheap = Settings.from_environ({"PASSWORD_HASHING": "fast-insecure-for-tests"})
    monkeypatch.setattr(passwords, "get_settings", lambda: cheap)
    encoded = passwords.hash_password("pw")
    assert "$m=64,t=1,p=1$" in encoded
    assert passwords.verify_password("pw", encoded)
    monkeypatch.undo()
    assert passwords.needs_rehash(encoded)  # production would replace it at the next login


def test_the_password_itself_is_not_in_the_hash():
    encoded = passwords.hash_password("correct horse")
    assert "correct horse" not in encoded
    assert b64(b"correct horse") not in encoded


def test_each_hash_has_its_own_salt():
    first, second = passwords.hash_password("same"), passwords.hash_password("same")
    assert first != second
    assert passwords.verify_password("same", first)
    assert passwords.verify_password("same", second)


@pytest.mark.parametrize(
    "password", ["correct horse", "pässwörd-ünïcode", "密码密码密码密码", " spaced out ", "x" * 128]
)
def test_verify_accepts_the_right_password(password):
    assert passwords.verify_password(password, passwords.hash_password(password))


@pytest.mark.parametrize(
    "attempt", ["wrong horse", "Correct horse", "correct horse ", "", "correct hors"]
)
def test_verify_rejects_anything_else(attempt):
    assert not passwords.verify_password(attempt, passwords.hash_password("correct horse"))


def test_legacy_scrypt_hashes_still_verify_and_need_a_rehash():
    encoded = scrypt_hash("legacy", n=2**14)
    assert passwords.verify_password("legacy", encoded)
    assert not passwords.verify_password("legacy!", encoded)
    assert passwords.needs_rehash(encoded)


def test_a_current_hash_needs_no_rehash_but_weaker_argon2_does():
    assert not passwords.needs_rehash(passwords.hash_password("pw"))
    weaker = passwords._hasher(passwords.FAST_INSECURE_FOR_TESTS).hash("pw")
    assert passwords.verify_password("pw", weaker)  # parameters come from the hash
    assert passwords.needs_rehash(weaker)


@pytest.mark.parametrize(
    "stored",
    [
        "",
        "plaintext",
        "bcrypt$16384$8$1$c2FsdA$ZGlnZXN0",
        "scrypt$16384$8$1$c2FsdA",
        "scrypt$16384$8$1$c2FsdA$ZGln$extra",
        "scrypt$abc$8$1$c2FsdA$ZGlnZXN0",
        "scrypt$1000$8$1$c2FsdA$ZGlnZXN0",  # n not a power of two
        "scrypt$16384$8$1$!!!$ZGlnZXN0",
        "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA",
        "$argon2id$v=19$m=abc,t=2,p=1$c2FsdHNhbHRzYWx0$ZGlnZXN0ZGlnZXN0",
        "$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$ZGlnZXN0ZGlnZXN0",
    ],
)
def test_a_malformed_stored_hash_never_verifies_and_never_raises(stored):
    assert passwords.verify_password("anything", stored) is False
    assert passwords.needs_rehash(stored)


def test_a_password_that_is_not_encodable_does_not_verify():
    assert passwords.verify_password("\ud800abcdefgh", passwords.hash_password("abcdefgh")) is False
    assert passwords.verify_password("\ud800abcdefgh", scrypt_hash("abcdefgh")) is False


def test_burn_time_runs_a_full_verification_with_the_current_parameters(monkeypatch):
    verified = []
    real = passwords.verify_password

    def spy(password, encoded):
        verified.append(encoded)
        return real(password, encoded)

    monkeypatch.setattr(passwords, "verify_password", spy)
    assert passwords.burn_time("some-password") is None
    assert len(verified) == 1
    assert not passwords.needs_rehash(verified[0])  # same algorithm and cost as real hashes


def test_burn_time_never_matches_a_guess_of_the_dummy():
    # The dummy password is random per container: no one can "log in" to it.
    dummy = passwords._dummy_hash(passwords.PRODUCTION)
    assert dummy == passwords._dummy_hash(passwords.PRODUCTION)
    assert dummy.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert not passwords.verify_password("", dummy)
