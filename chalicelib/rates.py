"""The stage's shipping methods and tax rates: data files, loaded and checked at import.

``chalicelib/stages/<stage>/shipping.json`` and ``tax.json`` (``RATES_STAGE``, by default the
stage itself) ship with the code, so pricing an order reads no table: placing one stays two
DynamoDB calls. A file that does not hold together (a bad amount, a country in two zones,
a shipped country without a tax entry, amounts in another currency than the stage's) stops
the import with a message naming the file and the fault. docs/shipping-and-tax.md says how
an operator changes a rate.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import fastjsonschema

from chalicelib import money
from chalicelib.config import get_settings
from chalicelib.countries import COUNTRIES
from chalicelib.errors import ValidationError
from chalicelib.schemas import AMOUNT, SHIPPING_METHOD_PATTERN

STAGES_DIR = Path(__file__).parent / "stages"
COUNTRY_PATTERN = r"^[A-Z]{2}$"
# A tax rate as a fraction: "0.0725" is 7.25 %; at most 6 decimals, below 1.
_RATE = {"type": "string", "pattern": r"^0(\.[0-9]{1,6})?$"}
_DAYS = {"type": "integer", "minimum": 0, "maximum": 90}

_SHIPPING_SCHEMA = {
    "type": "object",
    "properties": {
        "currency": {"type": "string"},
        "zones": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "properties": {
                    "id": {"type": "string", "pattern": SHIPPING_METHOD_PATTERN},
                    "name": {"type": "string", "minLength": 1, "maxLength": 100},
                    "countries": {
                        "type": "array",
                        "minItems": 1,
                        "items": {"type": "string", "pattern": COUNTRY_PATTERN},
                    },
                    "methods": {
                        "type": "array",
                        "minItems": 1,
                        "items": {
                            "type": "object",
                            "properties": {
                                "id": {"type": "string", "pattern": SHIPPING_METHOD_PATTERN},
                                "name": {"type": "string", "minLength": 1, "maxLength": 100},
                                "price": AMOUNT,
                                "freeOver": AMOUNT,
                                "estimatedDays": {
                                    "type": "object",
                                    "properties": {"min": _DAYS, "max": _DAYS},
                                    "required": ["min", "max"],
                                    "additionalProperties": False,
                                },
                            },
                            "required": ["id", "name", "price", "estimatedDays"],
                            "additionalProperties": False,
                        },
                    },
                },
                "required": ["id", "name", "countries", "methods"],
                "additionalProperties": False,
            },
        },
    },
    "required": ["currency", "zones"],
    "additionalProperties": False,
}

_TAX_ENTRY = {
    "type": "object",
    "properties": {"rate": _RATE, "shippingTaxed": {"type": "boolean"}},
    "required": ["rate"],
    "additionalProperties": False,
}
_TAX_SCHEMA = {
    "type": "object",
    "properties": {
        "countries": {
            "type": "object",
            "propertyNames": {"pattern": COUNTRY_PATTERN},
            "additionalProperties": {
                "type": "object",
                "properties": {
                    "rate": _RATE,
                    "shippingTaxed": {"type": "boolean"},
                    "regions": {
                        "type": "object",
                        "propertyNames": {"pattern": r"^[A-Z0-9]{1,3}$"},
                        "additionalProperties": _TAX_ENTRY,
                    },
                },
                "required": ["rate", "shippingTaxed"],
                "additionalProperties": False,
            },
        }
    },
    "required": ["countries"],
    "additionalProperties": False,
}


@dataclass(frozen=True)
class ShippingMethod:
    """One way of shipping to a zone: a flat price, free when the goods reach ``free_over``."""

    method_id: str
    name: str
    price: Decimal
    free_over: Decimal | None
    min_days: int
    max_days: int


@dataclass(frozen=True)
class TaxRate:
    """The tax of one destination: a fraction of the price, and whether shipping bears it."""

    rate: Decimal
    shipping_taxed: bool


NO_TAX = TaxRate(Decimal(0), False)


@dataclass(frozen=True)
class Rates:
    """One stage's tables: methods per country (in the zone's order) and tax per country,
    with per-region overrides."""

    methods: Mapping[str, tuple[ShippingMethod, ...]]
    tax: Mapping[str, TaxRate]
    regional_tax: Mapping[tuple[str, str], TaxRate]


class RatesFileError(RuntimeError):
    """A shipping or tax file that does not hold together (stops the import)."""


def _read(path: Path, schema: dict[str, Any]) -> Any:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        message = f"{path}: missing (every stage needs shipping.json and tax.json)"
        raise RatesFileError(message) from None
    except ValueError as exc:
        raise RatesFileError(f"{path}: not valid JSON ({exc})") from None
    try:
        fastjsonschema.validate(schema, data)
    except fastjsonschema.JsonSchemaValueException as exc:
        raise RatesFileError(f"{path}: {exc.message}") from None
    return data


def load(directory: Path, currency: str = money.CURRENCY) -> Rates:
    """The rates of one stage's directory, checked; :class:`RatesFileError` names the fault."""
    shipping_path, tax_path = directory / "shipping.json", directory / "tax.json"
    shipping = _read(shipping_path, _SHIPPING_SCHEMA)
    tax = _read(tax_path, _TAX_SCHEMA)
    if shipping["currency"] != currency:
        raise RatesFileError(
            f"{shipping_path}: amounts are in {shipping['currency']}, the stage's currency is"
            f" {currency}"
        )
    methods: dict[str, tuple[ShippingMethod, ...]] = {}
    zone_ids: set[str] = set()
    for zone in shipping["zones"]:
        where = f"{shipping_path}: zone {zone['id']!r}"
        if zone["id"] in zone_ids:
            raise RatesFileError(f"{where} is listed twice")
        zone_ids.add(zone["id"])
        zone_methods = tuple(_method(where, m) for m in zone["methods"])
        ids = [m.method_id for m in zone_methods]
        if len(set(ids)) != len(ids):
            raise RatesFileError(f"{where} lists a method id twice")
        for country in zone["countries"]:
            if country not in COUNTRIES:
                raise RatesFileError(f"{where}: {country} is not an ISO 3166-1 country code")
            if country in methods:
                raise RatesFileError(f"{where}: country {country} is already in another zone")
            if country not in tax["countries"]:
                raise RatesFileError(f"{where}: country {country} has no entry in {tax_path}")
            methods[country] = zone_methods
    country_tax: dict[str, TaxRate] = {}
    regional: dict[tuple[str, str], TaxRate] = {}
    for country, entry in tax["countries"].items():
        country_tax[country] = TaxRate(Decimal(entry["rate"]), entry["shippingTaxed"])
        for region, override in entry.get("regions", {}).items():
            shipped = override.get("shippingTaxed", entry["shippingTaxed"])
            regional[(country, region)] = TaxRate(Decimal(override["rate"]), shipped)
    return Rates(methods, country_tax, regional)


def _method(where: str, data: dict[str, Any]) -> ShippingMethod:
    days = data["estimatedDays"]
    if days["min"] > days["max"]:
        raise RatesFileError(f"{where}: method {data['id']!r} has estimatedDays min > max")
    free_over = data.get("freeOver")
    return ShippingMethod(
        method_id=data["id"],
        name=data["name"],
        price=money.amount(Decimal(data["price"])),
        free_over=None if free_over is None else money.amount(Decimal(free_over)),
        min_days=days["min"],
        max_days=days["max"],
    )


def stage_directory(stage: str) -> Path:
    return STAGES_DIR / stage


RATES = load(stage_directory(get_settings().rates_stage))
"""The rates this process prices with (checked at import)."""


def check_country(country: Any, field: str = "country") -> str:
    """An ISO 3166-1 alpha-2 code (upper case) from a request, or a 400 naming ``field``
    (the same list the address parser checks: ``XX`` or ``UK`` is a 400, not "no options")."""
    if not isinstance(country, str) or country.upper() not in COUNTRIES:
        raise ValidationError(
            f"{field} must be an assigned ISO 3166-1 alpha-2 code, like US or GB", field=field
        )
    return country.upper()


def methods_for(country: str, rates: Rates = RATES) -> tuple[ShippingMethod, ...]:
    """The methods that ship to ``country`` (none: the shop does not ship there)."""
    return rates.methods.get(country, ())


def method_for(
    country: str, method_id: str | None, field: str = "shippingMethod", rates: Rates = RATES
) -> ShippingMethod:
    """The chosen method, or the default when none was chosen: the method with the lowest
    flat price (the first listed among equals).

    A country the shop does not ship to, or a method that does not serve it, is a 400
    naming ``field`` (the country's when nothing ships there)."""
    methods = methods_for(country, rates)
    if not methods:
        raise ValidationError(
            f"we do not ship to {country}; shipping goes to {', '.join(sorted(rates.methods))}",
            field="shippingAddress.country",
        )
    if method_id is None:
        return min(methods, key=lambda method: method.price)  # min keeps the first of equals
    for method in methods:
        if method.method_id == method_id:
            return method
    offered = ", ".join(m.method_id for m in methods)
    raise ValidationError(
        f"{field} must be one of the methods serving {country}: {offered}", field=field
    )


def tax_rate(country: str, region: str | None, rates: Rates = RATES) -> TaxRate:
    """The destination's rate: the region's where the table has one, else the country's."""
    if region:
        found = rates.regional_tax.get((country, region.strip().upper()))
        if found is not None:
            return found
    return rates.tax.get(country, NO_TAX)


def shipping_price(method: ShippingMethod, goods: Decimal) -> Decimal:
    """What ``method`` costs for goods worth ``goods`` (after discounts): free over its
    threshold, else its flat price."""
    if method.free_over is not None and goods >= method.free_over:
        return money.ZERO
    return method.price


def option_view(method: ShippingMethod, goods: Decimal) -> dict[str, Any]:
    return {
        "id": method.method_id,
        "name": method.name,
        "price": money.text(shipping_price(method, goods)),
        "estimatedDays": {"min": method.min_days, "max": method.max_days},
    }


def shipping_options(query: Mapping[str, str]) -> dict[str, Any]:
    """``GET /shipping/options?country=XX&subtotal=...``: what ships there, priced."""
    country = check_country(query.get("country"))
    subtotal = money.parse(query.get("subtotal", "0"), "subtotal")
    return {
        "country": country,
        "currency": money.CURRENCY,
        "items": [option_view(m, subtotal) for m in methods_for(country)],
    }
