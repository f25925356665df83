"""Request parsing and validation against declared JSON Schemas.

The schemas live in :mod:`chalicelib.schemas`; the same dictionaries feed the
OpenAPI document, so validation and documentation cannot disagree. They are
compiled once with fastjsonschema (pure Python, ~20 ms import, no native code).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import fastjsonschema

from chalicelib.errors import ValidationError
from chalicelib.schemas import REQUEST_SCHEMAS, SHARED_SCHEMAS, resolved
from chalicelib.text import EMAIL_PATTERN, FORMATS, NAME_PATTERN, first_forbidden


def _reject_constant(name: str) -> Any:
    raise ValidationError(f"{name} is not a valid JSON number")


def _json_fraction(text: str) -> int | Decimal:
    """A JSON number with a fraction or exponent: exact, and an int when it is whole.

    JSON Schema counts ``5.0`` as an integer, and so does the document at /openapi.json;
    the bound keeps ``1e999999999`` from becoming a huge int (the schema refuses it anyway).
    """
    value = Decimal(text)
    if value.is_zero():
        return 0  # 0E+50 and -0.0 too: adjusted() says nothing of a zero's size
    if value.is_finite() and value == value.to_integral_value() and value.adjusted() < 20:
        return int(value)
    return value


def parse_json(raw_body: bytes | str | None) -> Any:
    """Parse a request body exactly: numbers become ``Decimal``, never ``float``."""
    if raw_body is None or raw_body in (b"", ""):
        raise ValidationError("request body is required and must be a JSON object")
    try:
        if isinstance(raw_body, bytes):
            raw_body = raw_body.decode("utf-8")
        data = json.loads(raw_body, parse_float=_json_fraction, parse_constant=_reject_constant)
    except ValidationError:
        raise
    except (UnicodeDecodeError, ValueError, RecursionError, ArithmeticError) as exc:
        # ArithmeticError: decimal.InvalidOperation for an exponent Decimal cannot hold (1e999...9).
        raise ValidationError("request body is not valid JSON") from exc
    if _has_lone_surrogate(data):
        # "\ud800" is valid JSON syntax but parses to a str UTF-8 cannot encode: it could be
        # neither stored nor sent back (RFC 7493 forbids it).
        raise ValidationError("request body contains an unpaired UTF-16 surrogate escape")
    return data


def _has_lone_surrogate(data: Any) -> bool:
    pending = [data]
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(value, dict):
            pending.extend(value)
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return False


def _without_multiple_of(schema: Any) -> Any:
    # fastjsonschema's multipleOf divides by a float, which Decimal refuses; the
    # only multipleOf we use (0.01, money) is enforced exactly by ``money`` instead.
    if isinstance(schema, dict):
        return {k: _without_multiple_of(v) for k, v in schema.items() if k != "multipleOf"}
    if isinstance(schema, list):
        return [_without_multiple_of(v) for v in schema]
    return schema


@functools.cache
def _validator(schema_name: str) -> Callable[[Any], Any]:
    # A request body's schema, or a named part of one (an address inside an order).
    named = REQUEST_SCHEMAS.get(schema_name) or SHARED_SCHEMAS[schema_name]
    schema = _without_multiple_of(resolved(named))
    return fastjsonschema.compile(schema, formats=FORMATS)


def _field(exc: fastjsonschema.JsonSchemaValueException, at: str) -> str:
    name = exc.name or "data"
    if name == "data":
        return at or "body"
    inner = name.removeprefix("data.")
    return f"{at}.{inner}" if at else inner


def _describe(exc: fastjsonschema.JsonSchemaValueException, field: str) -> str:
    message = exc.message.replace(exc.name or "data", field, 1)
    if exc.rule in ("pattern", "format"):
        bad = first_forbidden(exc.value) if isinstance(exc.value, str) else None
        if bad is not None:
            return (
                f"{field} must not contain control, format, private-use or surrogate"
                f" characters (found U+{ord(bad):04X})"
            )
        definition = exc.definition or {}
        if definition.get("pattern") == EMAIL_PATTERN:
            return f"{field} is not a valid email address"
        if definition.get("pattern") == NAME_PATTERN:
            return f"{field} must not be blank"
        if "description" in definition:  # a field with its own pattern says what it takes
            return f"{field} is not valid: {definition['description']}"
    if exc.rule == "additionalProperties":
        unknown = sorted(set(exc.value) - set((exc.definition or {}).get("properties", {})))
        where = "" if field == "body" else f" in {field}"
        return f"unknown field(s){where}: {', '.join(unknown)}"
    return message


def validate(schema_name: str, data: Any, *, at: str = "") -> dict[str, Any]:
    """Validate ``data`` against a named schema; 400 naming the field if it fails.

    ``at``: where ``data`` sits in the request (``shippingAddress``), prefixed to the
    field an error names; empty for a whole request body.
    """
    if not isinstance(data, dict):
        if at:
            raise ValidationError(f"{at} must be a JSON object", field=at)
        raise ValidationError("request body must be a JSON object")
    try:
        _validator(schema_name)(data)
    except fastjsonschema.JsonSchemaValueException as exc:
        field = _field(exc, at)
        details = {} if field == "body" else {"field": field}
        raise ValidationError(_describe(exc, field), **details) from None
    return data


def parse_body(raw_body: bytes | str | None, schema_name: str) -> dict[str, Any]:
    return validate(schema_name, parse_json(raw_body))


MONEY_QUANTUM = Decimal("0.01")


def money(value: Decimal | int, field: str) -> Decimal:
    """An amount of money with at most two decimals, as a plain ``Decimal``."""
    amount = Decimal(value)
    if amount != amount.quantize(MONEY_QUANTUM):
        raise ValidationError(f"{field} must have at most two decimals")
    # "+ 0" turns a negative zero into zero.
    return amount.quantize(MONEY_QUANTUM) + 0
