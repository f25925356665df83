"""Input hygiene (``chalicelib.text``): the character tables and the patterns built from them."""

from __future__ import annotations

import re
import unicodedata

import hypothesis.strategies as st
import pytest
from hypothesis import example, given

from chalicelib import text
from chalicelib.errors import ValidationError
from chalicelib.users import normalize_email


def _table(name: str, ranges: tuple[tuple[int, int], ...]) -> str:
    rows = "\n".join(f"    (0x{low:04X}, 0x{high:04X})," for low, high in ranges)
    return f"{name} = (\n{rows}\n)"


@pytest.mark.parametrize(
    ("name", "predicate"),
    [
        ("FORBIDDEN_RANGES", text.is_forbidden),
        ("NOT_IN_LOCAL_PART_RANGES", text.is_not_in_local_part),
        ("DOT_RANGES", text.is_dot),
    ],
)
def test_the_tables_match_this_pythons_unicode_database(name, predicate):
    expected = text.scan(predicate)
    assert getattr(text, name) == expected, (
        f"Unicode {unicodedata.unidata_version}: replace {name} in chalicelib/text.py with\n"
        + _table(name, expected)
    )


PLAIN = re.compile(text.PLAIN_PATTERN)
NAME = re.compile(text.NAME_PATTERN)
EMAIL = re.compile(text.EMAIL_PATTERN)


# Each field's whole rule: its pattern (the BMP) and its format (beyond U+FFFF, the server's).
def plain(value: str) -> bool:
    return bool(PLAIN.match(value)) and text.is_printable(value)


def name(value: str) -> bool:
    return bool(NAME.match(value)) and text.is_printable(value)


def email(value: str) -> bool:
    return bool(EMAIL.match(value)) and text.is_printable_email(value)


@pytest.mark.parametrize(
    "value",
    ["\x00", "a\x1b[31m", "\u200b", "\u202eevil", "\ufeff", "\ue000", "\U000f0000", "\u00ad",
     "tab\there", "line\nbreak", "\U000e0041"],
)  # fmt: skip
def test_control_format_and_private_use_characters_are_refused_everywhere(value):
    assert not plain(value)
    assert not name(value)
    assert not email(f"a{value}@example.com")


@pytest.mark.parametrize("value", ["", " ", "   ", "\u3000", "\u00a0 \u2003"])
def test_a_blank_name_is_refused_but_plain_text_may_be_blank(value):
    assert not name(value)
    assert plain(value)


@pytest.mark.parametrize("value", ["x", " Ada ", "Жанна", "李雷", "O'Brien-Smith", "🙂"])
def test_real_names_pass(value):
    assert name(value)


@given(st.text(st.characters(exclude_categories=["Cs"]), max_size=30))
@example(" \t")
@example("\u200b")
@example(" x\u200b")
def test_the_name_pattern_is_exactly_not_blank_and_no_forbidden_character(value):
    expected = bool(value.strip()) and text.first_forbidden(value) is None
    assert name(value) == expected


def _server_accepts(email: str) -> bool:
    try:
        normalize_email(email)
    except ValidationError:
        return False
    return True


_EMAILISH = st.text(
    st.one_of(
        st.sampled_from("@..aB1 -\u200b\uff20\uff0e\u2024\ufe52\u00a0\ufb01\u0130\u2474"),
        st.characters(exclude_categories=["Cs"]),
    ),
    min_size=3,
    max_size=20,
)


@given(_EMAILISH)
@example("\uff41\uff44\uff41@\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45\uff0e\uff43\uff4f\uff4d")
@example("a\uff20b.co")
@example("\ufb01@x.io")
@example("\u0130@x.io")
def test_the_email_pattern_admits_exactly_what_the_server_keeps(value):
    # The document's rule, checked on the raw string, and the server's, checked after NFKC
    # and lower-casing, agree: no schema-valid email is refused, no refused one is valid.
    if email(value):
        assert _server_accepts(value), value


FULLWIDTH = "\uff21\uff24\uff21@\uff25\uff58\uff41\uff4d\uff50\uff4c\uff45\uff0e\uff43\uff4f\uff4d"


def test_emails_are_nfkc_normalised_and_lower_cased():
    assert normalize_email(FULLWIDTH) == "ada@example.com"
    assert text.canonical_email("  Ada@Example.COM ") == "ada@example.com"


@pytest.mark.parametrize("value", ["\U000f0000", "\U000e0041", "\U000110bd", "\U0010fffd"])
def test_beyond_u_ffff_the_rule_is_the_formats_not_the_patterns(value):
    # Portable patterns (ECMAScript without the u flag) cannot name astral characters.
    assert PLAIN.match(value) and NAME.match(value)
    assert not text.is_printable(value)
    assert not text.is_printable_email(f"a{value}@example.com")
    assert text.is_printable("🙂") and text.is_printable_email("🙂@example.com")
