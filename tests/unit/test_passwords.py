"""Password hashing (``chalicelib.passwords``): scrypt, parameters stored, constant-time compare."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from chalicelib import passwords
from chalicelib.encoding import b64url_encode


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_hash_format_stores_scheme_parameters_salt_and_digest():
    encoded = passwords.hash_password("correct horse")
    scheme, n, r, p, salt, digest = encoded.split("$")
    assert (scheme, n, r, p) == ("scrypt", "16384", "8", "1")
    assert len(unb64(salt)) == 16
    expected = hashlib.scrypt(
        b"correct horse", salt=unb64(salt), n=16384, r=8, p=1, maxmem=2**28, dklen=32
    )
    assert unb64(digest) == expected


def test_the_password_itself_is_not_in_the_hash():
    encoded = passwords.hash_password("correct horse")
    assert "correct horse" not in encoded
    assert base64.urlsafe_b64encode(b"correct horse").decode().rstrip("=") not in encoded


def test_each_hash_has_its_own_salt():
    first, second = passwords.hash_password("same"), passwords.hash_password("same")
    assert first != second
    assert first.split("$")[4] != second.split("$")[4]
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


def test_verify_uses_the_parameters_stored_with_the_hash():
    # A hash made with other (e.g. older, cheaper) parameters still verifies.
    salt = b"0123456789abcdef"
    digest = hashlib.scrypt(b"legacy", salt=salt, n=2**10, r=4, p=2, dklen=32)
    encoded = f"scrypt$1024$4$2${b64url_encode(salt)}${b64url_encode(digest)}"
    assert passwords.verify_password("legacy", encoded)
    assert not passwords.verify_password("legacy!", encoded)


def test_verify_compares_in_constant_time(monkeypatch):
    compared = []
    real = hmac.compare_digest

    def spy(a, b):
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(passwords.hmac, "compare_digest", spy)
    encoded = passwords.hash_password("correct horse")
    assert passwords.verify_password("correct horse", encoded)
    assert not passwords.verify_password("wrong horse", encoded)
    assert len(compared) == 2
    assert all(isinstance(a, bytes) and len(a) == len(b) == 32 for a, b in compared)


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
    ],
)
def test_a_malformed_stored_hash_never_verifies_and_never_raises(stored):
    assert passwords.verify_password("anything", stored) is False


def test_a_password_that_is_not_encodable_does_not_verify():
    assert passwords.verify_password("\ud800abcdefgh", passwords.hash_password("abcdefgh")) is False


def test_burn_time_runs_a_full_scrypt_with_the_same_parameters(monkeypatch):
    passwords.hash_password("warm-up")  # the dummy hash is made lazily; make sure it exists
    passwords.burn_time("warm-up")
    calls = []
    real = hashlib.scrypt

    def spy(password, **kw):
        calls.append(kw)
        return real(password, **kw)

    monkeypatch.setattr(passwords.hashlib, "scrypt", spy)
    passwords.burn_time("whatever-password")
    assert len(calls) == 1
    assert (calls[0]["n"], calls[0]["r"], calls[0]["p"]) == (
        passwords.SCRYPT_N,
        passwords.SCRYPT_R,
        passwords.SCRYPT_P,
    )


def test_burn_time_goes_through_verify_and_compare(monkeypatch):
    verified = []
    real = passwords.verify_password

    def spy(password, encoded):
        verified.append(password)
        return real(password, encoded)

    monkeypatch.setattr(passwords, "verify_password", spy)
    assert passwords.burn_time("some-password") is None
    assert verified == ["some-password"]


def test_burn_time_never_matches_a_guess_of_the_dummy():
    # The dummy password is random per container: no one can "log in" to it.
    dummy = passwords._dummy_hash()
    assert dummy == passwords._dummy_hash()
    assert dummy.startswith("scrypt$16384$8$1$")
    assert not passwords.verify_password("", dummy)
