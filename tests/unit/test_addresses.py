"""parse_address and book_address: the address rules, without AWS."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from chalicelib.addresses import COUNTRIES, POSTAL_CODES, REGIONS, book_address, parse_address
from chalicelib.errors import ValidationError
from chalicelib.models import AddressBook, AddressEntry

HOME = {
    "name": "Ada Lovelace",
    "line1": "1 Main Street",
    "city": "Springfield",
    "region": "il",
    "postalCode": "62701",
    "country": "us",
}


def address(**changes: Any) -> dict[str, Any]:
    data = {**HOME, **changes}
    return {name: value for name, value in data.items() if value is not None}


def refused(data: dict[str, Any], field: str = "shippingAddress") -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        parse_address(data, field)
    return caught.value


def test_a_valid_address_is_normalised() -> None:
    parsed = parse_address(
        address(name="  Ada Lovelace ", line2="  ", phone=" +1 (217)  555-0100 "),
        "shippingAddress",
    )
    assert parsed == {
        "name": "Ada Lovelace",
        "line1": "1 Main Street",
        "city": "Springfield",
        "region": "IL",
        "postalCode": "62701",
        "country": "US",
        "phone": "+1 (217) 555-0100",
    }


@pytest.mark.parametrize(
    ("country", "region", "given", "stored"),
    [
        ("US", "CA", "94105", "94105"),
        ("US", "CA", "94105 1234", "94105-1234"),
        ("US", "CA", "941051234", "94105-1234"),
        ("CA", "on", "k1a0b1", "K1A 0B1"),
        ("CA", "ON", "K1A 0B1", "K1A 0B1"),
        ("NL", None, "1234ab", "1234 AB"),
        ("JP", None, "1000001", "100-0001"),
        ("DE", None, "10115", "10115"),
        ("FR", None, "75001", "75001"),
        ("AU", "nsw", "2000", "2000"),
        ("CH", None, "8001", "8001"),
    ],
)
def test_postal_codes_of_the_checked_countries_are_written_one_way(
    country: str, region: str | None, given: str, stored: str
) -> None:
    parsed = parse_address(address(country=country, region=region, postalCode=given), "a")
    assert parsed["postalCode"] == stored


@pytest.mark.parametrize(
    ("country", "region", "postal_code"),
    [
        ("US", "CA", "9410"),
        ("US", "CA", "94105-12"),
        ("US", "CA", None),
        ("CA", "ON", "D1A 0B1"),  # Canada Post never uses D
        ("CA", "ON", "K1A-0B1"),
        ("NL", None, "0123 AB"),
        ("JP", None, "1000-001"),
        ("DE", None, "1011"),
        ("AU", "VIC", "30000"),
        ("DE", None, "\uff11\uff10\uff11\uff11\uff15"),  # fullwidth digits are not ASCII digits
    ],
)
def test_a_wrong_postal_code_names_the_field(
    country: str, region: str | None, postal_code: str | None
) -> None:
    fault = refused(address(country=country, region=region, postalCode=postal_code))
    assert fault.details == {"field": "shippingAddress.postalCode"}
    assert country in fault.message


def test_elsewhere_the_postal_code_is_optional_free_text() -> None:
    parsed = parse_address(address(country="GB", region=None, postalCode=" sw1a 1aa "), "a")
    assert parsed["postalCode"] == "sw1a 1aa"
    assert "postalCode" not in parse_address(address(country="HK", postalCode=None), "a")
    fault = refused(address(country="GB", postalCode="x" * 21))
    assert fault.details == {"field": "shippingAddress.postalCode"}


def test_the_region_is_required_and_checked_where_it_matters() -> None:
    for country in REGIONS:
        fault = refused(address(country=country, region=None, postalCode="2000"))
        assert fault.details == {"field": "shippingAddress.region"}
    assert refused(address(region="Illinois")).details == {"field": "shippingAddress.region"}
    free = parse_address(address(country="IE", region="Co. Cork", postalCode=None), "a")
    assert free["region"] == "Co. Cork"


def test_the_country_must_be_an_assigned_iso_code() -> None:
    assert refused(address(country="XX")).details == {"field": "shippingAddress.country"}
    assert refused(address(country="USA")).details == {"field": "shippingAddress.country"}
    assert refused(address(country="U1")).details == {"field": "shippingAddress.country"}
    assert parse_address(address(country="gb", region=None), "a")["country"] == "GB"


def test_the_country_list_is_iso_3166_1() -> None:
    assert len(COUNTRIES) == 249
    assert {"US", "DE", "JP", "AX", "SS", "XK"} & COUNTRIES == {"US", "DE", "JP", "AX", "SS"}
    assert set(POSTAL_CODES) <= COUNTRIES and set(REGIONS) <= COUNTRIES
    tab = Path("/usr/share/zoneinfo/iso3166.tab")  # the tz database's copy, where installed
    if tab.exists():
        lines = tab.read_text().splitlines()
        assert {line.split("\t")[0] for line in lines if not line.startswith("#")} == COUNTRIES


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": "   "}, "shippingAddress.name"),
        ({"line1": None}, "shippingAddress"),  # the message names line1
        ({"city": "x" * 101}, "shippingAddress.city"),
        ({"line2": "flat\u202e2"}, "shippingAddress.line2"),
        ({"line1": "1 Main\x00Street"}, "shippingAddress.line1"),
        ({"phone": "call me"}, "shippingAddress.phone"),
        ({"phone": "123"}, "shippingAddress.phone"),
        ({"phone": "+1 234 567 890 123 456"}, "shippingAddress.phone"),
        ({"postalCode": 62701}, "shippingAddress.postalCode"),
        ({"floor": "2"}, "shippingAddress"),
    ],
)
def test_bad_fields_are_named(changes: dict[str, Any], field: str) -> None:
    assert refused(address(**changes)).details == {"field": field}


def test_a_whole_body_names_bare_fields() -> None:
    assert refused(address(postalCode="nope"), "").details == {"field": "postalCode"}
    assert refused(address(name=""), "").details == {"field": "name"}


def test_an_address_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        parse_address("1 Main Street", "shippingAddress")  # type: ignore[arg-type]
    assert caught.value.details == {"field": "shippingAddress"}


def _entry(address_id: str, **fields: str) -> AddressEntry:
    return AddressEntry(address_id=address_id, created_at="2026-12-07T00:00:00Z", **fields)


def test_book_address_finds_the_default_or_the_named_one() -> None:
    book = AddressBook(
        AddressBook.key_for("u1"),
        user_id="u1",
        addresses=[
            _entry("a1", name="A", line1="1 A St", city="X", country="DE", postal_code="10115"),
            _entry("a2", name="B", line1="2 B St", city="Y", country="GB", phone="+44 20"),
        ],
        default_id="a2",
        updated_at="2026-12-07T00:00:00Z",
    )
    assert book_address(book, None) == {
        "name": "B",
        "line1": "2 B St",
        "city": "Y",
        "country": "GB",
        "phone": "+44 20",
    }
    assert book_address(book, "a1") == {
        "name": "A",
        "line1": "1 A St",
        "city": "X",
        "country": "DE",
        "postalCode": "10115",
    }
    assert book_address(book, "a3") is None
    assert book_address(None, None) is None
    assert book_address(None, "a1") is None
