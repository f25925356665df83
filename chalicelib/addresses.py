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

The address book is one item per user (:class:`chalicelib.models.AddressBook`), read with
the caller's profile in one ``BatchGetItem`` (app.py). Its owner and admins may read and
change it; anyone else gets the 404 of a user that does not exist. Each change is one
``TransactWriteItems``: the whole book put conditional on the version read, and the owner's
profile required to exist (a book never outlives its user: deleting the user deletes the
book in the same transaction, :func:`chalicelib.users.delete_user`). A book changed
concurrently is read again and the change re-applied, so two adds racing for the last
place both see the limit: one is added, the other is a 409 ``AddressBookFull``.

The first address added becomes the default; deleting the default makes the oldest
remaining address the default.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from pynamodb.exceptions import DoesNotExist

from chalicelib import transactions
from chalicelib.auth import Principal
from chalicelib.clock import now_iso
from chalicelib.countries import COUNTRIES
from chalicelib.errors import (
    AddressBookFull,
    ConcurrentUpdate,
    NotFound,
    ValidationError,
)
from chalicelib.models import AddressBook, AddressEntry, UserRecord
from chalicelib.schemas import MAX_ADDRESSES, is_id
from chalicelib.text import echo
from chalicelib.transactions import ConditionsFailed, Transaction
from chalicelib.validation import validate

T = TypeVar("T")


def _codes(text: str) -> frozenset[str]:
    return frozenset(text.split())


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
    "CA": _rule(rf"({_CA_FIRST}\d{_CA_LETTER}) ?(\d{_CA_LETTER}\d)", "A1A 1A1", " "),
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


# --- the address book ------------------------------------------------------------------------

_WRITE_ATTEMPTS = 3
_CHANGED = "address book changed"  # the version read is not the stored one any more
DEFAULT_FLAG = "isDefault"


def book_key(user_id: str) -> str | None:
    """The users-table key of ``user_id``'s address book (``None``: no user has that id)."""
    return AddressBook.key_for(user_id) if is_id(user_id) else None


def address_view(entry: AddressEntry, default_id: str | None) -> dict[str, Any]:
    return {
        "addressId": entry.address_id,
        **entry_address(entry),
        DEFAULT_FLAG: entry.address_id == default_id,
    }


def _user_not_found(user_id: str) -> NotFound:
    return NotFound(f"user {echo(user_id)} not found")


def _check_visible(caller: Principal, user_id: str) -> None:
    """Only the owner and admins see a book; to anyone else it does not exist."""
    if user_id != caller.user_id and not (caller.is_admin and is_id(user_id)):
        raise _user_not_found(user_id)


def list_addresses(caller: Principal, user_id: str, book: AddressBook | None) -> dict[str, Any]:
    """``book`` was read with the caller's profile: one call (an admin asking about a user
    without a book: one more, to tell an empty book from an unknown user)."""
    _check_visible(caller, user_id)
    if book is None and user_id != caller.user_id:
        try:
            UserRecord.get(UserRecord.profile_key(user_id), consistent_read=True)
        except DoesNotExist:
            raise _user_not_found(user_id) from None
    entries = list(book.addresses) if book is not None else []
    default_id = book.default_id if book is not None else None
    entries.sort(key=lambda entry: entry.address_id != default_id)  # stable: oldest first
    return {"items": [address_view(entry, default_id) for entry in entries]}


def _read(user_id: str) -> AddressBook | None:
    try:
        return AddressBook.get(AddressBook.key_for(user_id), consistent_read=True)
    except DoesNotExist:
        return None


def _draft(user_id: str, read: AddressBook | None) -> AddressBook:
    """A copy of the book as read (or a new, empty one) to change and save."""
    book = AddressBook(AddressBook.key_for(user_id), user_id=user_id, updated_at=now_iso())
    if read is not None:
        book.addresses = [AddressEntry(**entry.attribute_values) for entry in read.addresses]
        book.default_id = read.default_id
        book.version = read.version
    return book


def _save(book: AddressBook, read: AddressBook | None) -> None:
    """Put the whole book if it is still the version read and its owner still exists."""

    def build(tx: Transaction) -> None:
        tx.require(
            UserRecord,
            UserRecord.profile_key(book.user_id),
            on_fail=_user_not_found(book.user_id),
        )
        # PynamoDB adds the version condition (the version read, or none stored yet).
        unless = None if read is None else AddressBook.version == read.version
        tx.create(book, on_fail=_CHANGED, unless=unless)

    transactions.write(build)


def _edit(
    caller: Principal,
    user_id: str,
    book: AddressBook | None,
    change: Callable[[AddressBook], T],
) -> T:
    """Apply ``change`` to the book as read with the caller's profile, and save it; a book
    changed concurrently is read again and the change applied to it afresh."""
    _check_visible(caller, user_id)
    read = book
    for attempt in range(_WRITE_ATTEMPTS):
        if attempt:
            read = _read(user_id)
        draft = _draft(user_id, read)
        result = change(draft)
        try:
            _save(draft, read)
        except ConditionsFailed:
            continue
        return result
    raise ConcurrentUpdate("the address book keeps changing; read it again and retry")


def _entry(book: AddressBook, address_id: str) -> AddressEntry:
    for entry in book.addresses:
        if entry.address_id == address_id:
            return entry
    raise NotFound(f"address {echo(address_id)} not found")


def _fields(data: Mapping[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in data.items() if name != DEFAULT_FLAG}


def entry_attributes(address: Mapping[str, str]) -> dict[str, str | None]:
    """``parse_address``'s result as AddressEntry's attributes (absent fields cleared)."""
    return {attr: address.get(name) for name, attr in FIELDS.items()}


def add_address(
    caller: Principal, user_id: str, book: AddressBook | None, data: Mapping[str, Any]
) -> dict[str, Any]:
    """``data`` has passed the ``AddressCreate`` schema; two calls (the read was app.py's)."""
    address = parse_address(_fields(data), "")
    entry = AddressEntry(
        address_id=str(uuid.uuid4()), created_at=now_iso(), **entry_attributes(address)
    )

    def add(draft: AddressBook) -> dict[str, Any]:
        if len(draft.addresses) >= MAX_ADDRESSES:
            raise AddressBookFull(
                f"an address book holds at most {MAX_ADDRESSES} addresses; delete one first"
            )
        draft.addresses.append(entry)
        if data.get(DEFAULT_FLAG) or draft.default_id is None:
            draft.default_id = entry.address_id
        return address_view(entry, draft.default_id)

    return _edit(caller, user_id, book, add)


def update_address(
    caller: Principal,
    user_id: str,
    book: AddressBook | None,
    address_id: str,
    data: Mapping[str, Any],
) -> dict[str, Any]:
    """Change some fields (the whole address is checked again) and/or make it the default."""

    def update(draft: AddressBook) -> dict[str, Any]:
        entry = _entry(draft, address_id)
        if data.get(DEFAULT_FLAG) is False and draft.default_id == address_id:
            raise ValidationError(
                "the default address stays the default until another one is made the default",
                field=DEFAULT_FLAG,
            )
        changes = _fields(data)
        if changes:
            address = parse_address({**entry_address(entry), **changes}, "")
            for attr, value in entry_attributes(address).items():
                setattr(entry, attr, value)
        if data.get(DEFAULT_FLAG):
            draft.default_id = address_id
        return address_view(entry, draft.default_id)

    return _edit(caller, user_id, book, update)


def delete_address(
    caller: Principal, user_id: str, book: AddressBook | None, address_id: str
) -> None:
    """Deleting the default makes the oldest remaining address the default."""

    def delete(draft: AddressBook) -> None:
        entry = _entry(draft, address_id)
        draft.addresses = [other for other in draft.addresses if other is not entry]
        if draft.default_id == address_id:
            draft.default_id = draft.addresses[0].address_id if draft.addresses else None

    _edit(caller, user_id, book, delete)
