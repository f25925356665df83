"""HS256 tokens (``chalicelib.tokens``): what is accepted, and that everything else is a 401."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib import tokens
from chalicelib.errors import Unauthorized

SECRET = b"unit-test-secret"
ISSUER = "shop-test"
NOW = 1_700_000_000


def claims(**overrides):
    base = {
        "sub": "user-1",
        "role": "customer",
        "ver": 0,
        "iat": NOW,
        "exp": NOW + 3600,
        "iss": ISSUER,
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not ...}


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def b64json(value) -> str:
    return b64(json.dumps(value, separators=(",", ":")).encode())


def signed(header_b64: str, payload_b64: str, secret: bytes = SECRET) -> str:
    signing_input = f"{header_b64}.{payload_b64}".encode()
    signature = hmac.new(secret, signing_input, hashlib.sha256).digest()
    return f"{header_b64}.{payload_b64}.{b64(signature)}"


HS256 = b64json({"alg": "HS256", "typ": "JWT"})


def lenient_b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def decode(token: str, now: int = NOW):
    return tokens.decode(token, SECRET, issuer=ISSUER, now=now)


def rejected(token: str, now: int = NOW) -> None:
    with pytest.raises(Unauthorized) as info:
        decode(token, now)
    assert info.value.status_code == 401
    assert info.value.body() == {"error": "invalid or expired token", "code": "Unauthorized"}


def test_round_trip_returns_the_claims():
    token = tokens.encode(claims(), SECRET)
    assert decode(token) == claims()


def test_encoding_is_a_standard_hs256_jwt():
    token = tokens.encode(claims(), SECRET)
    header_b64, payload_b64, _ = token.split(".")
    assert json.loads(base64.urlsafe_b64decode(header_b64 + "==")) == {
        "alg": "HS256",
        "typ": "JWT",
    }
    assert "=" not in token
    assert token == signed(header_b64, payload_b64)
    assert set(json.loads(base64.urlsafe_b64decode(payload_b64 + "=="))) == {
        "sub",
        "role",
        "ver",
        "iat",
        "exp",
        "iss",
    }


def test_admin_role_is_accepted():
    assert decode(tokens.encode(claims(role="admin"), SECRET))["role"] == "admin"


def test_expiry_is_exclusive():
    token = tokens.encode(claims(exp=NOW + 10), SECRET)
    assert decode(token, now=NOW + 9)["sub"] == "user-1"
    rejected(token, now=NOW + 10)
    rejected(token, now=NOW + 11)


def test_small_clock_skew_on_iat_is_tolerated_but_a_future_token_is_not():
    assert decode(tokens.encode(claims(iat=NOW + 60), SECRET))["iat"] == NOW + 60
    rejected(tokens.encode(claims(iat=NOW + 61), SECRET))


def test_wrong_secret_is_rejected():
    rejected(tokens.encode(claims(), b"another-secret"))


@pytest.mark.parametrize("issuer", ["shop-prod", "shop-dev", "", None, 1])
def test_wrong_issuer_is_rejected(issuer):
    rejected(tokens.encode(claims(iss=issuer), SECRET))


def test_missing_issuer_is_rejected():
    rejected(tokens.encode(claims(iss=...), SECRET))


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"sub": ...}, id="no-sub"),
        pytest.param({"sub": 7}, id="sub-not-string"),
        pytest.param({"role": ...}, id="no-role"),
        pytest.param({"role": "superuser"}, id="unknown-role"),
        pytest.param({"role": "ADMIN"}, id="role-wrong-case"),
        pytest.param({"ver": ...}, id="no-ver"),
        pytest.param({"ver": "0"}, id="ver-string"),
        pytest.param({"ver": False}, id="ver-bool-false"),
        pytest.param({"ver": True}, id="ver-bool-true"),
        pytest.param({"exp": ...}, id="no-exp"),
        pytest.param({"exp": float(NOW + 3600)}, id="exp-float"),
        pytest.param({"exp": str(NOW + 3600)}, id="exp-string"),
        pytest.param({"exp": True}, id="exp-bool"),
        pytest.param({"iat": ...}, id="no-iat"),
        pytest.param({"iat": None}, id="iat-null"),
    ],
)
def test_claims_of_the_wrong_shape_are_rejected_even_when_signed(overrides):
    rejected(tokens.encode(claims(**overrides), SECRET))


@pytest.mark.parametrize("payload", [[], "text", 42, None], ids=repr)
def test_signed_payload_that_is_not_an_object_is_rejected(payload):
    rejected(signed(HS256, b64json(payload)))


def test_signed_payload_that_is_not_json_is_rejected():
    rejected(signed(HS256, b64(b"{not json")))
    rejected(signed(HS256, b64(b"\xff\xfe")))


def test_changed_payload_with_the_old_signature_is_rejected():
    header, _, signature = tokens.encode(claims(), SECRET).split(".")
    forged_payload = b64json(claims(role="admin"))
    rejected(f"{header}.{forged_payload}.{signature}")


def test_changed_signature_is_rejected():
    token = tokens.encode(claims(), SECRET)
    head, signature = token.rsplit(".", 1)
    flipped = ("B" if signature[0] == "A" else "A") + signature[1:]
    rejected(f"{head}.{flipped}")
    rejected(f"{head}.{signature[:-1]}")
    rejected(f"{head}.{signature}A")


@pytest.mark.parametrize(
    "respell",
    [
        pytest.param(lambda s: s + "==", id="padding"),
        pytest.param(lambda s: s[:5] + "!!" + s[5:], id="junk-chars"),
        pytest.param(lambda s: s[:5] + "\t\t" + s[5:], id="whitespace"),
        pytest.param(lambda s: s.replace("-", "+").replace("_", "/"), id="std-alphabet"),
    ],
)
def test_only_the_canonical_spelling_of_the_signature_is_accepted(respell):
    # Find a token whose signature contains '-' or '_' so the alphabet swap changes it.
    for n in range(200):
        token = tokens.encode(claims(sub=f"user-{n}"), SECRET)
        head, signature = token.rsplit(".", 1)
        if "-" in signature or "_" in signature:
            break
    respelled = respell(signature)
    assert respelled != signature
    # A forgiving decoder (the one this module used to rely on) reads the same bytes.
    assert lenient_b64decode(respelled) == lenient_b64decode(signature)
    rejected(f"{head}.{respelled}")


def test_non_canonical_trailing_bits_are_rejected():
    token = tokens.encode(claims(), SECRET)
    head, signature = token.rsplit(".", 1)
    # 32 bytes are 43 characters: the last one carries 2 unused bits, so 4 spellings exist.
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(signature[-1])
    sibling = signature[:-1] + alphabet[last ^ 1]
    assert base64.urlsafe_b64decode(sibling + "=") == base64.urlsafe_b64decode(signature + "=")
    rejected(f"{head}.{sibling}")


@pytest.mark.parametrize(
    "header",
    [
        {"alg": "none", "typ": "JWT"},
        {"alg": "None"},
        {"alg": "HS512", "typ": "JWT"},
        {"alg": "RS256", "typ": "JWT"},
        {"alg": "HS256"},
        {"alg": "HS256", "typ": "JWT", "kid": "other"},
        ["HS256"],
    ],
    ids=lambda h: json.dumps(h),
)
def test_any_other_header_is_rejected_even_when_signed(header):
    payload = b64json(claims())
    rejected(signed(b64json(header), payload))


def test_alg_none_with_an_empty_signature_is_rejected():
    header = b64json({"alg": "none", "typ": "JWT"})
    rejected(f"{header}.{b64json(claims())}.")


def test_alg_none_with_our_header_and_no_signature_is_rejected():
    rejected(f"{HS256}.{b64json(claims())}.")


@pytest.mark.parametrize(
    "token",
    [
        pytest.param("", id="empty"),
        pytest.param("abc", id="one-segment"),
        pytest.param("abc.def", id="two-segments"),
        pytest.param(f"{HS256}.{b64json(claims())}", id="two-real-segments"),
        pytest.param("a.b.c.d", id="four-segments"),
        pytest.param("...", id="empty-segments"),
        pytest.param(f"{HS256}..AAAA", id="empty-payload"),
        pytest.param("!!!.@@@.###", id="not-base64"),
        pytest.param(f"{b64(b'not json')}.{b64json(claims())}.AAAA", id="header-not-json"),
        pytest.param("é.é.é", id="non-ascii"),
        pytest.param(f"{HS256}.é{b64json(claims())}.AAAA", id="non-ascii-payload"),
        pytest.param(b64(b"[" * 3000) + ".e30.AAAA", id="deeply-nested-header"),
        pytest.param("x" * 5000 + ".e30.AAAA", id="oversized-segment"),
    ],
)
def test_malformed_tokens_are_rejected(token):
    rejected(token)


def test_a_deeply_nested_signed_payload_is_rejected_not_crashed():
    rejected(signed(HS256, b64(b"[" * 2500)))


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.text(max_size=200),
        st.lists(st.text(max_size=60), min_size=1, max_size=5).map(".".join),
        st.lists(st.binary(max_size=60), min_size=3, max_size=3).map(
            lambda parts: ".".join(b64(p) for p in parts)
        ),
        st.tuples(st.text(max_size=60), st.text(max_size=60)).map(
            lambda rest: f"{HS256}.{rest[0]}.{rest[1]}"
        ),
    )
)
def test_arbitrary_input_is_only_ever_a_401(token):
    with pytest.raises(Unauthorized):
        decode(token)


# --- key ids (rotation: chalicelib/signing_keys.py) ------------------------------------

OTHER = b"unit-test-previous-secret"


def test_a_token_names_its_key_and_verifies_with_it_among_others():
    token = tokens.encode(claims(), SECRET, kid=tokens.key_id(SECRET))
    assert tokens.unverified_kid(token) == tokens.key_id(SECRET) != tokens.key_id(OTHER)
    assert tokens.decode(token, [OTHER, SECRET], issuer=ISSUER, now=NOW) == claims()
    with pytest.raises(Unauthorized):
        tokens.decode(token, [OTHER], issuer=ISSUER, now=NOW)


def test_a_key_id_naming_another_key_is_rejected_even_when_the_signature_is_good():
    token = tokens.encode(claims(), SECRET, kid=tokens.key_id(OTHER))
    with pytest.raises(Unauthorized):
        tokens.decode(token, [OTHER, SECRET], issuer=ISSUER, now=NOW)


def test_a_token_without_a_key_id_is_tried_against_every_key():
    token = tokens.encode(claims(), OTHER)
    assert tokens.unverified_kid(token) is None
    assert tokens.decode(token, [SECRET, OTHER], issuer=ISSUER, now=NOW) == claims()


@pytest.mark.parametrize("kid", [7, "", "k" * 65, None], ids=repr)
def test_a_malformed_key_id_names_no_key(kid):
    token = signed(b64json({"alg": "HS256", "typ": "JWT", "kid": kid}), b64json(claims()))
    assert tokens.unverified_kid(token) is None
    rejected(token)
