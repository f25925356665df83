"""Postal addresses: the one parser of an address, and each user's address book.

:func:`parse_address` is what every address in a request goes through (the address
book's, an order's ``shippingAddress``): the ``AddressInput`` schema (types, lengths,
characters: the same rules as every other text field, :mod:`chalicelib.text`), then what a
schema cannot say, normalised:

- ``country``: an ISO 3166-1 alpha-2 code, any case, stored upper-case, one of the 249
  officially assigned codes (:data:`COUNTRIES`, embedded as data: the list changes about
  once in several years, and a package for it would add a dependency to the Lambda bundle
  for 249 two-letter strings).
- ``region``: required where a shipment needs it (:data:`REGIONS`: US, CA, AU), as that
  country's postal abbreviation (``CA``, ``ON``, ``NSW``), upper-cased; elsewhere free text.
- ``postalCode``: required and checked for the countries of :data:`POSTAL_CODES`, where
  the rule is certain, and written one way (``12345-6789``, ``K1A 0B1``, ``1234 AB``,
  ``123-4567``); elsewhere optional free text (many countries have no postal codes).
- ``phone``: optional, 4 to 15 digits (E.164's limit) among spaces, ``( ) -`` and a
  leading ``+``; runs of spaces become one.
- Every string is trimmed; an optional field left blank is absent.

The address book is one item per user (:class:`chalicelib.models.AddressBook`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.errors import ValidationError
from chalicelib.models import AddressBook, AddressEntry
from chalicelib.validation import validate


def _codes(text: str) -> frozenset[str]:
    return frozenset(text.split())


# ISO 3166-1 alpha-2, every officially assigned code (249; Debian iso-codes 4.15 and the
# tz database's iso3166.tab agree). tests/unit/test_addresses.py checks the count.
COUNTRIES = _codes(
    """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO
    BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ
    DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP
    GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG
    KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML
    MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE
    PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL
    SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM
    US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW
    """
)

# Where an address needs its region (tax and carriers go by it), the region's postal
# abbreviation: US states, DC, the inhabited territories and the armed forces' codes;
# Canada's provinces and territories; Australia's states and territories.
REGIONS: dict[str, frozenset[str]] = {
    "US": _codes(
        """
        AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV
        NH NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY DC
        AS GU MP PR VI AA AE AP
        """
    ),
    "CA": _codes("AB BC MB NB NL NS NT NU ON PE QC SK YT"),
    "AU": _codes("ACT NSW NT QLD SA TAS VIC WA"),
}


@dataclass(frozen=True)
class PostalRule:
    """A country's postal code: the groups ``pattern`` finds (upper-cased input), written
    joined by ``separator``; ``example`` is what an error message shows."""

    pattern: re.Pattern[str]
    separator: str
    example: str

    def normalise(self, value: str) -> str | None:
        found = self.pattern.fullmatch(value.upper())
        if found is None:
            return None
        return self.separator.join(group for group in found.groups() if group)


def _rule(pattern: str, example: str, separator: str = "") -> PostalRule:
    return PostalRule(re.compile(pattern, re.ASCII), separator, example)


_FOUR_DIGITS = _rule(r"(\d{4})", "1234")
_FIVE_DIGITS = _rule(r"(\d{5})", "12345")
# Canada Post never uses D F I O Q U, nor W or Z as the first letter.
_CA_FIRST = "[ABCEGHJ-NPRSTVXY]"
_CA_LETTER = "[ABCEGHJ-NPRSTV-Z]"
POSTAL_CODES: dict[str, PostalRule] = {
    "US": _rule(r"(\d{5})(?:[ -]?(\d{4}))?", "12345 or 12345-6789", "-"),
    "CA": _rule(rf"({_CA_FIRST}\d{_CA_LETTER}) ?(\d{_CA_LETTER}\d)", "A1A 1A1 (K1A 0B1)", " "),
    "NL": _rule(r"([1-9]\d{3}) ?([A-Z]{2})", "1234 AB", " "),
    "JP": _rule(r"(\d{3})-?(\d{4})", "123-4567", "-"),
    "DE": _FIVE_DIGITS,
    "FR": _FIVE_DIGITS,
    "IT": _FIVE_DIGITS,
    "ES": _FIVE_DIGITS,
    "AU": _FOUR_DIGITS,
    "AT": _FOUR_DIGITS,
    "BE": _FOUR_DIGITS,
    "CH": _FOUR_DIGITS,
    "DK": _FOUR_DIGITS,
}

MIN_PHONE_DIGITS = 4
MAX_PHONE_DIGITS = 15  # E.164
_OPTIONAL = ("line2", "region", "postalCode", "phone")
# The address fields, as the API names them and as AddressEntry does.
FIELDS: dict[str, str] = {
    "name": "name",
    "line1": "line1",
    "line2": "line2",
    "city": "city",
    "region": "region",
    "postalCode": "postal_code",
    "country": "country",
    "phone": "phone",
}


def _at(field: str, name: str) -> str:
    return f"{field}.{name}" if field else name


def parse_address(data: Mapping[str, Any], field: str) -> dict[str, str]:
    """``data`` as a valid address, normalised (see the module's docstring), or a 400.

    ``field`` is where the address sits in the request (``shippingAddress``): errors name
    ``f"{field}.postalCode"`` and so on; empty for a request body that is the address.
    The result holds the fields of :data:`FIELDS` that have a value, nothing else.
    """
    validate("AddressInput", dict(data) if isinstance(data, Mapping) else data, at=field)
    address = {name: " ".join(value.split()) if name == "phone" else value.strip()
               for name, value in data.items()}  # fmt: skip
    for name in _OPTIONAL:
        if not address.get(name, True):
            del address[name]

    country = address["country"] = address["country"].upper()
    if country not in COUNTRIES:
        raise ValidationError(
            f"{_at(field, 'country')} must be an ISO 3166-1 alpha-2 country code (such as US)",
            field=_at(field, "country"),
        )

    regions = REGIONS.get(country)
    if regions is not None:
        region = address.get("region", "").upper()
        if region not in regions:
            raise ValidationError(
                f"{_at(field, 'region')} must be the postal abbreviation of a state or"
                f" territory of {country}, one of: {', '.join(sorted(regions))}",
                field=_at(field, "region"),
            )
        address["region"] = region

    rule = POSTAL_CODES.get(country)
    if rule is not None:
        postal_code = rule.normalise(address.get("postalCode", ""))
        if postal_code is None:
            raise ValidationError(
                f"{_at(field, 'postalCode')} is not a postal code of {country}"
                f" (expected {rule.example})",
                field=_at(field, "postalCode"),
            )
        address["postalCode"] = postal_code

    if "phone" in address:
        digits = sum(char.isdigit() for char in address["phone"])
        if not MIN_PHONE_DIGITS <= digits <= MAX_PHONE_DIGITS:
            raise ValidationError(
                f"{_at(field, 'phone')} must hold {MIN_PHONE_DIGITS} to {MAX_PHONE_DIGITS} digits",
                field=_at(field, "phone"),
            )
    return address


def entry_address(entry: AddressEntry) -> dict[str, str]:
    """A stored address's fields, as :func:`parse_address` returned them."""
    values = {name: getattr(entry, attr) for name, attr in FIELDS.items()}
    return {name: value for name, value in values.items() if value is not None}


def book_address(book: AddressBook | None, address_id: str | None) -> dict[str, str] | None:
    """The address ``address_id`` of ``book`` (``None``: the default one), without the
    book's own keys (``addressId``, ``createdAt``); ``None`` if there is no such address."""
    if book is None:
        return None
    wanted = book.default_id if address_id is None else address_id
    for entry in book.addresses:
        if entry.address_id == wanted:
            return entry_address(entry)
    return None
