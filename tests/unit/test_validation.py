"""Request parsing and schema validation, without any AWS."""

from __future__ import annotations

from decimal import Decimal

import pytest

from chalicelib import money
from chalicelib.errors import ValidationError
from chalicelib.schemas import ALL_SCHEMAS, REQUEST_SCHEMAS
from chalicelib.validation import parse_body, parse_json, validate


def rejected(call, *args) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        call(*args)
    assert caught.value.status_code == 400
    assert caught.value.code == "ValidationError"
    field = caught.value.details.get("field")
    expected = {"error": caught.value.message, "code": "ValidationError"}
    if field is not None:  # a field-level error names the field twice: text and "field"
        assert isinstance(field, str) and field in caught.value.message
        expected["field"] = field
    assert caught.value.body() == expected
    return caught.value


# --- parse_json ------------------------------------------------------------------------------


def test_fractions_become_decimal_never_float():
    data = parse_json(b'{"price": 19.99, "nested": [{"x": 0.1}], "big": 1e2}')
    assert type(data["price"]) is Decimal
    assert data["price"] == Decimal("19.99")
    assert type(data["nested"][0]["x"]) is Decimal
    assert data["nested"][0]["x"] == Decimal("0.1")  # a float would be 0.1000000000000000055...
    assert data["big"] == Decimal("100")


def test_integers_stay_int():
    data = parse_json('{"stock": 5, "negative": -3}')
    assert data == {"stock": 5, "negative": -3}
    assert type(data["stock"]) is int


def test_bytes_and_str_bodies_parse_alike():
    assert parse_json(b'{"name": "caf\xc3\xa9"}') == parse_json('{"name": "café"}')


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_number_literals_are_rejected_by_name(constant):
    error = rejected(parse_json, f'{{"price": {constant}}}'.encode())
    assert constant in error.message


@pytest.mark.parametrize("body", [None, b"", ""])
def test_missing_body_is_rejected(body):
    assert "required" in rejected(parse_json, body).message


@pytest.mark.parametrize(
    "body",
    [
        b'{"name": "\xff"}',  # invalid UTF-8 byte
        b'{"name": "\xc3"}',  # truncated multi-byte sequence
        b'{"name": "\xed\xa0\x80"}',  # UTF-8-encoded surrogate
        b"\xef\xbb\xbf{}",  # byte order mark
    ],
)
def test_invalid_utf8_is_a_validation_error(body):
    assert "not valid JSON" in rejected(parse_json, body).message


@pytest.mark.parametrize(
    "body",
    [
        '{"name": "a",',
        "{'name': 'a'}",
        '{"name": "a"} {}',
        '{"price": 01}',
        '{"price": .5}',
        '{"price": 1.}',
        "{name: 1}",
        "undefined",
    ],
)
def test_malformed_json_is_a_validation_error(body):
    assert "not valid JSON" in rejected(parse_json, body).message


@pytest.mark.parametrize("depth", [10_000, 200_000])
def test_deep_nesting_is_a_400_not_a_crash(depth):
    for body in ("[" * depth + "]" * depth, '{"a":' * depth + "1" + "}" * depth):
        assert "not valid JSON" in rejected(parse_json, body).message


def test_moderate_nesting_still_parses():
    data = parse_json("[" * 100 + "]" * 100)
    for _ in range(99):
        data = data[0]
    assert data == []


@pytest.mark.parametrize(
    "number",
    [
        "1e99999999999999999999",  # exponent Decimal cannot represent
        "-1e99999999999999999999",
        "1e-99999999999999999999",
        "1" * 5000,  # integer longer than int() converts by default
    ],
)
def test_numbers_python_cannot_hold_are_a_400_not_a_crash(number):
    rejected(parse_json, f'{{"price": {number}}}')


def test_huge_but_representable_exponent_parses_for_the_schema_to_judge():
    assert parse_json('{"price": 1e400}') == {"price": Decimal("1e400")}


@pytest.mark.parametrize(
    "body",
    [
        r'{"name": "\ud800"}',
        r'{"name": "ok", "description": "tail \udfff"}',
        r'{"\ud83d": 1}',
        r'{"items": [{"productId": "a\udc00b"}]}',
        r'"\ud800"',
    ],
)
def test_unpaired_surrogate_escapes_are_rejected(body):
    assert "surrogate" in rejected(parse_json, body).message


def test_paired_surrogate_escapes_are_a_valid_character():
    assert parse_json(r'{"name": "smile \ud83d\ude00"}') == {"name": "smile \U0001f600"}


# --- validate --------------------------------------------------------------------------------


@pytest.mark.parametrize("schema_name", sorted(REQUEST_SCHEMAS))
@pytest.mark.parametrize("data", [[], [{"name": "a"}], "text", 3, Decimal("1.5"), None, True])
def test_every_schema_requires_an_object(schema_name, data):
    assert rejected(validate, schema_name, data).message == "request body must be a JSON object"


def valid_product(**overrides):
    return {"name": "Lamp", "price": Decimal("12.50"), "stock": 3, **overrides}


def test_valid_product_is_returned_unchanged():
    data = valid_product(description="A lamp")
    assert validate("ProductCreate", data) is data
    assert data == valid_product(description="A lamp")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "   \t\n"}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": 5}, "name"),
        ({"name": None}, "name"),
        ({"price": Decimal("-0.01")}, "price"),
        ({"price": Decimal("1000000.01")}, "price"),
        ({"price": Decimal("1e400")}, "price"),
        ({"price": "3.001"}, "price"),
        ({"price": True}, "price"),
        ({"price": None}, "price"),
        ({"stock": Decimal("1.5")}, "stock"),
        ({"stock": Decimal("5.0")}, "stock"),
        ({"stock": -1}, "stock"),
        ({"stock": 1_000_001}, "stock"),
        ({"stock": "5"}, "stock"),
        ({"stock": True}, "stock"),
        ({"description": "d" * 2001}, "description"),
        ({"description": 7}, "description"),
    ],
)
@pytest.mark.parametrize("schema_name", ["ProductCreate", "ProductUpdate"])
def test_product_field_errors_name_the_field(schema_name, overrides, field):
    error = rejected(validate, schema_name, valid_product(**overrides))
    assert error.message.startswith(field), error.message


@pytest.mark.parametrize(
    "overrides",
    [
        {"name": "x"},
        {"name": "x" * 200},
        {"name": " padded "},
        {"price": 0},
        {"price": 1_000_000},
        {"price": Decimal("0.01")},
        {"price": "0.01"},
        {"price": "1000000.00"},
        {"stock": 0},
        {"stock": 1_000_000},
        {"description": ""},
        {"description": "d" * 2000},
    ],
)
def test_product_boundaries_are_accepted(overrides):
    validate("ProductCreate", valid_product(**overrides))


@pytest.mark.parametrize("missing", ["name", "price"])
def test_create_names_the_missing_required_field(missing):
    data = valid_product()
    del data[missing]
    assert missing in rejected(validate, "ProductCreate", data).message


def test_update_takes_any_subset_but_not_nothing():
    for field, value in valid_product(description="d").items():
        validate("ProductUpdate", {field: value})
    assert rejected(validate, "ProductUpdate", {}).message.startswith("body")


@pytest.mark.parametrize("schema_name", ["ProductCreate", "ProductUpdate"])
def test_unknown_fields_are_listed_by_name(schema_name):
    error = rejected(validate, schema_name, valid_product(colour="red", weight=2))
    assert error.message == "unknown field(s): colour, weight"


def test_unknown_nested_field_says_where():
    data = {"items": [{"productId": "p1", "quantity": 1, "discount": 5}]}
    assert rejected(validate, "OrderCreate", data).message == (
        "unknown field(s) in items[0]: discount"
    )


def test_nested_errors_name_the_path():
    data = {"items": [{"productId": "p1", "quantity": Decimal("1.5")}]}
    assert rejected(validate, "OrderCreate", data).message.startswith("items[0].quantity")


def test_schemas_are_not_mutated_by_compilation():
    before = repr(REQUEST_SCHEMAS["ProductCreate"])
    validate("ProductCreate", valid_product())
    assert repr(REQUEST_SCHEMAS["ProductCreate"]) == before


def test_no_schema_uses_multiple_of():
    # A standard validator rejects 19.99 as "not a multiple of 0.01" (docs/api.md#money).
    assert "multipleOf" not in repr(ALL_SCHEMAS)


def test_parse_body_parses_then_validates():
    assert parse_body(b'{"name": "Lamp", "price": 0.10}', "ProductCreate") == {
        "name": "Lamp",
        "price": Decimal("0.10"),
    }
    assert parse_body(b'{"name": "Lamp", "price": "0.10"}', "ProductCreate") == {
        "name": "Lamp",
        "price": "0.10",
    }
    error = rejected(parse_body, b'{"name": "Lamp", "price": "1.001"}', "ProductCreate")
    assert error.message.startswith("price")
    assert "JSON object" in rejected(parse_body, b"[]", "ProductCreate").message


# --- money fields: what a bad amount is told --------------------------------------------------


@pytest.mark.parametrize(
    ("price", "message"),
    [
        ("19.999", "price must be a decimal string with at most 2 decimals, like '19.99'"),
        ("-1", "price must be a decimal string with at most 2 decimals, like '19.99'"),
        ("1e3", "price must be a decimal string with at most 2 decimals, like '19.99'"),
        ("", "price must be a decimal string with at most 2 decimals, like '19.99'"),
        (Decimal("-0.01"), "price must not be negative"),
        (Decimal("1000000.01"), "price must be at most 1000000.00"),
        (Decimal("1e400"), "price must be at most 1000000.00"),
        (True, "price must be a decimal string, like '19.99'"),
        (None, "price must be a decimal string, like '19.99'"),
        ([1], "price must be a decimal string, like '19.99'"),
    ],
)
def test_a_bad_amount_is_told_what_is_wrong_not_that_no_definition_matched(price, message):
    error = rejected(validate, "ProductCreate", valid_product(price=price))
    assert error.message == message
    assert error.details == {"field": "price"}


def test_a_bad_expected_total_names_its_field():
    data = {"items": [{"productId": "p1", "quantity": 1}], "expectedTotal": "10.001"}
    error = rejected(validate, "OrderCreate", data)
    assert error.message.startswith("expectedTotal must be a decimal string")
    assert error.details == {"field": "expectedTotal"}


# --- money.parse -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("19.99", "19.99"),
        ("0.07", "0.07"),
        ("0.29", "0.29"),
        ("10", "10.00"),
        ("1.5", "1.50"),
        ("0", "0.00"),
        ("1000000.00", "1000000.00"),
        # The deprecated JSON number form (as parse_json reads it).
        (Decimal("19.99"), "19.99"),
        (10, "10.00"),
        (0, "0.00"),
        (Decimal("1.5"), "1.50"),
        (Decimal("1.230"), "1.23"),
        (Decimal("1E+2"), "100.00"),
        (Decimal("999999.99"), "999999.99"),
        (Decimal("1000000"), "1000000.00"),
    ],
)
def test_money_parse_keeps_the_exact_amount(value, expected):
    amount = money.parse(value, "price")
    assert type(amount) is Decimal
    assert str(amount) == expected
    assert money.text(amount) == expected


@pytest.mark.parametrize(
    "value", [Decimal("1.234"), Decimal("0.001"), Decimal("19.999"), Decimal("1e-9")]
)
def test_a_legacy_number_with_more_than_two_decimals_names_the_field(value):
    error = rejected(money.parse, value, "unitPrice")
    assert error.message == "unitPrice must have at most 2 decimals"
    assert error.details == {"field": "unitPrice"}


@pytest.mark.parametrize("value", ["19.999", "01.00", "1.", ".5", "+1", "1,00", " 1", "1e2", "NaN"])
def test_a_string_that_is_not_an_amount_names_the_field(value):
    error = rejected(money.parse, value, "price")
    assert error.details == {"field": "price"}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (Decimal("1e999999999999"), "price must be at most 1000000.00"),
        (Decimal("-1e999999999999"), "price must not be negative"),
        (Decimal("1e-999999999999"), "price must have at most 2 decimals"),
    ],
)
def test_an_extreme_exponent_is_a_400_not_an_overflow(value, message):
    # Found by the fuzz regressions: abs() of 1e999999999999 overflows the decimal context.
    assert rejected(money.parse, value, "price").message == message


def test_money_does_not_round_a_float_artefact_into_place():
    # Decimal(0.1) is 0.1000000000000000055...; parse must refuse it rather than round it.
    rejected(money.parse, Decimal.from_float(0.1), "price")


def test_a_legacy_number_is_counted_and_a_string_is_not(monkeypatch):
    counted = []
    monkeypatch.setattr(money, "metric", lambda name, *args: counted.append(name))
    money.parse("19.99", "price")
    assert counted == []
    money.parse(Decimal("19.99"), "price")
    assert counted == ["LegacyMoneyInput"]


def test_the_spellings_for_the_wire_for_people_and_for_the_provider():
    assert money.text(Decimal("34")) == "34.00"
    assert money.text(Decimal("0.125")) == "0.12"  # half-even
    assert money.display(Decimal("34")) == "34.00 USD"
    assert money.minor_units(Decimal("19.99")) == 1999
