"""Which characters a string field may hold, as JSON Schema patterns.

Every string field refuses Unicode categories Cc, Cf, Co and Cs (control, format such as
zero-width space or right-to-left override, private use, surrogates). Emails are
NFKC-normalised and lower-cased before use, so the email pattern only admits characters
whose normalised form is one character that is none of ``@``, ``.``, whitespace or the
above: what the pattern accepts is exactly what :func:`canonical_email` keeps valid, and
the document at ``/openapi.json`` states the whole rule.

The ranges are generated from Python's Unicode database (the Lambda runtime's version
too); ``tests/unit/test_text.py`` recomputes them and fails, printing the new tables,
when they drift.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

from chalicelib.errors import ValidationError

FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cs"})

FORBIDDEN_RANGES = (
    (0x0000, 0x001F),
    (0x007F, 0x009F),
    (0x00AD, 0x00AD),
    (0x0600, 0x0605),
    (0x061C, 0x061C),
    (0x06DD, 0x06DD),
    (0x070F, 0x070F),
    (0x0890, 0x0891),
    (0x08E2, 0x08E2),
    (0x180E, 0x180E),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x2064),
    (0x2066, 0x206F),
    (0xD800, 0xF8FF),
    (0xFEFF, 0xFEFF),
    (0xFFF9, 0xFFFB),
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x13438),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0001, 0xE0001),
    (0xE0020, 0xE007F),
    (0xF0000, 0xFFFFD),
    (0x100000, 0x10FFFD),
)
NOT_IN_LOCAL_PART_RANGES = (
    (0x0000, 0x0020),
    (0x0040, 0x0040),
    (0x007F, 0x00A0),
    (0x00A8, 0x00A8),
    (0x00AD, 0x00AD),
    (0x00AF, 0x00AF),
    (0x00B4, 0x00B4),
    (0x00B8, 0x00B8),
    (0x00BC, 0x00BE),
    (0x0130, 0x0130),
    (0x0132, 0x0133),
    (0x013F, 0x0140),
    (0x0149, 0x0149),
    (0x01C4, 0x01CC),
    (0x01F1, 0x01F3),
    (0x02D8, 0x02DD),
    (0x0344, 0x0344),
    (0x037A, 0x037A),
    (0x0384, 0x0385),
    (0x0587, 0x0587),
    (0x0600, 0x0605),
    (0x061C, 0x061C),
    (0x0675, 0x0678),
    (0x06DD, 0x06DD),
    (0x070F, 0x070F),
    (0x0890, 0x0891),
    (0x08E2, 0x08E2),
    (0x0958, 0x095F),
    (0x09DC, 0x09DD),
    (0x09DF, 0x09DF),
    (0x0A33, 0x0A33),
    (0x0A36, 0x0A36),
    (0x0A59, 0x0A5B),
    (0x0A5E, 0x0A5E),
    (0x0B5C, 0x0B5D),
    (0x0E33, 0x0E33),
    (0x0EB3, 0x0EB3),
    (0x0EDC, 0x0EDD),
    (0x0F43, 0x0F43),
    (0x0F4D, 0x0F4D),
    (0x0F52, 0x0F52),
    (0x0F57, 0x0F57),
    (0x0F5C, 0x0F5C),
    (0x0F69, 0x0F69),
    (0x0F73, 0x0F73),
    (0x0F75, 0x0F79),
    (0x0F81, 0x0F81),
    (0x0F93, 0x0F93),
    (0x0F9D, 0x0F9D),
    (0x0FA2, 0x0FA2),
    (0x0FA7, 0x0FA7),
    (0x0FAC, 0x0FAC),
    (0x0FB9, 0x0FB9),
    (0x1680, 0x1680),
    (0x180E, 0x180E),
    (0x1E9A, 0x1E9A),
    (0x1FBD, 0x1FBD),
    (0x1FBF, 0x1FC1),
    (0x1FCD, 0x1FCF),
    (0x1FDD, 0x1FDF),
    (0x1FED, 0x1FEE),
    (0x1FFD, 0x1FFE),
    (0x2000, 0x200F),
    (0x2017, 0x2017),
    (0x2025, 0x2026),
    (0x2028, 0x202F),
    (0x2033, 0x2034),
    (0x2036, 0x2037),
    (0x203C, 0x203C),
    (0x203E, 0x203E),
    (0x2047, 0x2049),
    (0x2057, 0x2057),
    (0x205F, 0x2064),
    (0x2066, 0x206F),
    (0x20A8, 0x20A8),
    (0x2100, 0x2101),
    (0x2103, 0x2103),
    (0x2105, 0x2106),
    (0x2109, 0x2109),
    (0x2116, 0x2116),
    (0x2120, 0x2122),
    (0x213B, 0x213B),
    (0x2150, 0x215F),
    (0x2161, 0x2163),
    (0x2165, 0x2168),
    (0x216A, 0x216B),
    (0x2171, 0x2173),
    (0x2175, 0x2178),
    (0x217A, 0x217B),
    (0x2189, 0x2189),
    (0x222C, 0x222D),
    (0x222F, 0x2230),
    (0x2469, 0x24B5),
    (0x2A0C, 0x2A0C),
    (0x2A74, 0x2A76),
    (0x2ADC, 0x2ADC),
    (0x3000, 0x3000),
    (0x309B, 0x309C),
    (0x309F, 0x309F),
    (0x30FF, 0x30FF),
    (0x3200, 0x321E),
    (0x3220, 0x3243),
    (0x3250, 0x325F),
    (0x327C, 0x327D),
    (0x32B1, 0x32CF),
    (0x32FF, 0x33FF),
    (0xD800, 0xF8FF),
    (0xFB00, 0xFB06),
    (0xFB13, 0xFB17),
    (0xFB1D, 0xFB1D),
    (0xFB1F, 0xFB1F),
    (0xFB2A, 0xFB36),
    (0xFB38, 0xFB3C),
    (0xFB3E, 0xFB3E),
    (0xFB40, 0xFB41),
    (0xFB43, 0xFB44),
    (0xFB46, 0xFB4F),
    (0xFBDD, 0xFBDD),
    (0xFBEA, 0xFBFB),
    (0xFC00, 0xFD3D),
    (0xFD50, 0xFD8F),
    (0xFD92, 0xFDC7),
    (0xFDF0, 0xFDFC),
    (0xFE19, 0xFE19),
    (0xFE30, 0xFE30),
    (0xFE49, 0xFE4C),
    (0xFE6B, 0xFE6B),
    (0xFE70, 0xFE72),
    (0xFE74, 0xFE74),
    (0xFE76, 0xFE7F),
    (0xFEF5, 0xFEFC),
    (0xFEFF, 0xFEFF),
    (0xFF20, 0xFF20),
    (0xFFE3, 0xFFE3),
    (0xFFF9, 0xFFFB),
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x13438),
    (0x1BCA0, 0x1BCA3),
    (0x1D15E, 0x1D164),
    (0x1D173, 0x1D17A),
    (0x1D1BB, 0x1D1C0),
    (0x1F100, 0x1F10A),
    (0x1F110, 0x1F12A),
    (0x1F12D, 0x1F12E),
    (0x1F14A, 0x1F14F),
    (0x1F16A, 0x1F16C),
    (0x1F190, 0x1F190),
    (0x1F200, 0x1F201),
    (0x1F240, 0x1F248),
    (0xE0001, 0xE0001),
    (0xE0020, 0xE007F),
    (0xF0000, 0xFFFFD),
    (0x100000, 0x10FFFD),
)
DOT_RANGES = (
    (0x002E, 0x002E),
    (0x2024, 0x2024),
    (0xFE52, 0xFE52),
    (0xFF0E, 0xFF0E),
)


def is_forbidden(char: str) -> bool:
    return unicodedata.category(char) in FORBIDDEN_CATEGORIES


def is_not_in_local_part(char: str) -> bool:
    """Characters an email's local part may not hold, before or after normalisation."""
    if is_forbidden(char) or char.isspace() or char == "@":
        return True
    normalised = unicodedata.normalize("NFKC", char).lower()
    return (
        len(normalised) != 1
        or normalised == "@"
        or normalised.isspace()
        or is_forbidden(normalised)
    )


def is_dot(char: str) -> bool:
    """``.`` and what NFKC turns into it (a domain's label separators)."""
    return unicodedata.normalize("NFKC", char).lower() == "."


def scan(predicate: Callable[[str], bool]) -> tuple[tuple[int, int], ...]:
    """The code point ranges where ``predicate`` holds (slow: for the table test only)."""
    found: list[tuple[int, int]] = []
    start = None
    for code in range(0x110000):
        if predicate(chr(code)):
            if start is None:
                start = code
        elif start is not None:
            found.append((start, code - 1))
            start = None
    if start is not None:
        found.append((start, 0x10FFFF))
    return tuple(found)


def _char(code: int) -> str:
    # Escapes: readable, and the same in Python's re, ECMA-262 (with or without the u flag)
    # and Rust's regex.
    return f"\\u{code:04x}"


_SURROGATES = (0xD800, 0xDFFF)
BMP_END = 0xFFFF


def _in_patterns(ranges: tuple[tuple[int, int], ...]) -> list[tuple[int, int]]:
    """The part of ``ranges`` a portable pattern can state: the BMP, without surrogates.

    A lone surrogate never reaches a pattern: the JSON parser refuses it (I-JSON, see
    chalicelib.validation); leaving them out keeps the patterns valid in regex engines that
    cannot express them (Rust's, which schemathesis validates with). Characters beyond
    U+FFFF are two code units to an ECMAScript RegExp without the u flag, so a class
    holding them throws there ("range out of order"): that part of the rule is the
    server's, stated by the fields' ``format`` (:func:`beyond_patterns`).
    """
    kept = []
    for low, high in ranges:
        if low < _SURROGATES[0]:
            kept.append((low, min(high, _SURROGATES[0] - 1)))
        if high > _SURROGATES[1] and low <= BMP_END:
            kept.append((max(low, _SURROGATES[1] + 1), min(high, BMP_END)))
    return kept


def _class_body(ranges: tuple[tuple[int, int], ...]) -> str:
    return "".join(
        _char(low) if low == high else f"{_char(low)}-{_char(high)}"
        for low, high in _in_patterns(ranges)
    )


def _astral(ranges: tuple[tuple[int, int], ...]) -> tuple[tuple[int, int], ...]:
    return tuple((max(low, BMP_END + 1), high) for low, high in ranges if high > BMP_END)


# What the patterns leave to the server: forbidden characters beyond U+FFFF. Two formats
# name the rule in the document; chalicelib.validation enforces them.
PRINTABLE_FORMAT = "printable"  # no Cc/Cf/Co/Cs character beyond U+FFFF either
EMAIL_FORMAT = "printable-email"  # nor one NFKC turns into several, "@", ".", or space
FORMAT_NOTE = (
    "Characters beyond U+FFFF that the same rule refuses are refused by the server (format"
    f" {PRINTABLE_FORMAT}, or {EMAIL_FORMAT} for emails), not by the pattern, which must"
    " compile as an ECMAScript RegExp without the u flag."
)
_ASTRAL_FORBIDDEN = _astral(FORBIDDEN_RANGES)
_ASTRAL_NOT_IN_EMAIL = _astral(NOT_IN_LOCAL_PART_RANGES)


def beyond_patterns(value: str, ranges: tuple[tuple[int, int], ...]) -> str | None:
    """The first character beyond U+FFFF of ``value`` in ``ranges``, if any."""
    for char in value:
        code = ord(char)
        if code > BMP_END and any(low <= code <= high for low, high in ranges):
            return char
    return None


def is_printable(value: object) -> bool:
    """Format ``printable``: the part of PLAIN_PATTERN's rule beyond U+FFFF."""
    return not isinstance(value, str) or beyond_patterns(value, _ASTRAL_FORBIDDEN) is None


def is_printable_email(value: object) -> bool:
    """Format ``printable-email``: the part of EMAIL_PATTERN's rule beyond U+FFFF."""
    return not isinstance(value, str) or beyond_patterns(value, _ASTRAL_NOT_IN_EMAIL) is None


FORMATS = {PRINTABLE_FORMAT: is_printable, EMAIL_FORMAT: is_printable_email}


_F = _class_body(FORBIDDEN_RANGES)
_L = _class_body(NOT_IN_LOCAL_PART_RANGES)
_D = _L + _class_body(DOT_RANGES)

# Any text without Cc/Cf/Co/Cs characters.
PLAIN_PATTERN = f"^[^{_F}]*$"
# The same, and not blank once whitespace is stripped: whitespace, one non-whitespace
# character, anything (a single pass, no backtracking).
NAME_PATTERN = f"^[^\\S{_F}]*[^\\s{_F}][^{_F}]*$"
# local@domain.tld, as chalicelib.users checks it after normalisation (which trims the
# surrounding whitespace, so the pattern allows it too).
_EDGE = f"[^\\S{_F}]*"
EMAIL_PATTERN = f"^{_EDGE}[^{_L}]+@[^{_D}]+([{_class_body(DOT_RANGES)}][^{_D}]+)+{_EDGE}$"


def canonical_email(email: str) -> str:
    """NFKC, trimmed, lower-case: the one spelling an email is stored and looked up by."""
    return unicodedata.normalize("NFKC", email).strip().lower()


# RFC 5321's limit on an address, in octets, applied to the normalised form: NFKC can grow
# a string many times over (254 x U+FDFA becomes about 8 KB), and the email is part of a
# DynamoDB key (2,048 bytes at most on AWS; moto does not check).
MAX_EMAIL_BYTES = 254


def bounded_email(email: str) -> str:
    """:func:`canonical_email`, or a 400 when that is over MAX_EMAIL_BYTES in UTF-8."""
    normalized = canonical_email(email)
    if len(normalized.encode("utf-8", "surrogatepass")) > MAX_EMAIL_BYTES:
        raise ValidationError(
            f"email must be at most {MAX_EMAIL_BYTES} bytes once normalised (NFKC)",
            field="email",
        )
    return normalized


# How much of a client-supplied id an error message repeats: a UUID whole, never more.
ECHO_LIMIT = 36


def echo(value: str) -> str:
    """``value`` as an error message may repeat it: its first ECHO_LIMIT characters."""
    return value if len(value) <= ECHO_LIMIT else value[:ECHO_LIMIT] + "…"


def first_forbidden(value: str) -> str | None:
    for char in value:
        if is_forbidden(char):
            return char
    return None
