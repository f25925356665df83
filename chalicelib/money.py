"""Money: amounts in the stage's currency, exact in its exponent, and how the API spells them.

Inside, an amount is a ``Decimal`` quantized to the currency's exponent (``Decimal("19.99")``).
On the wire it is a decimal string in that exponent (``"19.99"``, ``"1999"`` for yen), as
Shopify spells it: exact in every JSON parser and valid for every JSON Schema validator,
where a JSON number checked with ``multipleOf: 0.01`` is not (19.99 / 0.01 is
1998.9999999999998 in IEEE doubles). The payment provider is charged in minor units
(:func:`minor_units`, 1999), as Stripe counts.

Requests still take the old JSON number form (``19.99``) for one release: see
docs/api.md#money. The currency is a stage setting (``CURRENCY``), checked at import.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from chalicelib.config import get_settings
from chalicelib.errors import ValidationError
from chalicelib.observability import metric

# ISO 4217 minor units of the currencies a stage may use. Only currencies whose exponent the
# payment provider (Stripe) also uses (not ISK or HUF, which Stripe counts differently) and
# whose smallest charge Stripe documents (chalicelib/payments.py MIN_CHARGE; not KRW).
CURRENCY_EXPONENTS: dict[str, int] = {
    "AUD": 2,
    "CAD": 2,
    "CHF": 2,
    "CZK": 2,
    "DKK": 2,
    "EUR": 2,
    "GBP": 2,
    "HKD": 2,
    "JPY": 0,
    "MXN": 2,
    "NOK": 2,
    "NZD": 2,
    "PLN": 2,
    "SEK": 2,
    "SGD": 2,
    "USD": 2,
}

# The largest amount a client sets (a price): 1,000,000 units.
MAX_AMOUNT = Decimal(1_000_000)
# How many digits any amount may have before its decimal point, totals included (an order of
# 25 lines of 1000 items at MAX_AMOUNT has 11): what AMOUNT_PATTERN accepts.
_MAX_WHOLE_DIGITS = 12


def _stage_currency() -> str:
    code = get_settings().currency
    if code not in CURRENCY_EXPONENTS:
        raise RuntimeError(
            f"CURRENCY={code!r} is not one of {', '.join(CURRENCY_EXPONENTS)} (chalicelib/money.py)"
        )
    return code


CURRENCY = _stage_currency()
"""The stage's currency (ISO 4217, upper case): every price, order and charge is in it."""
EXPONENT = CURRENCY_EXPONENTS[CURRENCY]
QUANTUM = Decimal(1).scaleb(-EXPONENT)  # 0.01 for USD, 1 for JPY
ZERO = Decimal(0).quantize(QUANTUM)
# The largest amount AMOUNT_PATTERN spells (999999999999.99): what a total may be.
MAX_TOTAL = Decimal(10**_MAX_WHOLE_DIGITS) - QUANTUM

# A non-negative amount as the API spells it: digits, then (if the currency has minor units)
# a point and 1 to EXPONENT digits. Responses always give exactly EXPONENT digits.
AMOUNT_PATTERN = (
    f"^(0|[1-9][0-9]{{0,{_MAX_WHOLE_DIGITS - 1}}})"
    + (f"(\\.[0-9]{{1,{EXPONENT}}})?" if EXPONENT else "")
    + "$"
)
_AMOUNT = re.compile(AMOUNT_PATTERN)


def amount(value: Decimal | int) -> Decimal:
    """``value`` quantized to the currency's exponent, rounding half to even (the rule of
    every computed amount: tax, a percentage off); ``-0`` becomes ``0``."""
    return Decimal(value).quantize(QUANTUM, rounding=ROUND_HALF_EVEN) + 0


def text(value: Decimal | int) -> str:
    """The API's spelling of an amount: ``"19.99"``, always EXPONENT decimals."""
    return f"{amount(value):.{EXPONENT}f}"


def optional_text(value: Decimal | int | None) -> str | None:
    return None if value is None else text(value)


def minor_units(value: Decimal | int) -> int:
    """What the payment provider is charged: 1999 for 19.99 USD, 1999 for 1999 JPY."""
    return int(amount(value).scaleb(EXPONENT))


def parse(value: Any, field: str, *, maximum: Decimal = MAX_AMOUNT) -> Decimal:
    """An amount from a request: a decimal string (``"19.99"``) or, for one release, the old
    JSON number (``19.99``, counted as ``LegacyMoneyInput``). More decimals than the
    currency has, a sign, an exponent or anything over ``maximum`` is a 400 naming
    ``field``; nothing is ever rounded."""
    if isinstance(value, str):
        if not _AMOUNT.fullmatch(value):
            raise ValidationError(
                f"{field} must be a decimal string with at most {EXPONENT} decimals,"
                f" like {text(Decimal('19.99'))!r}",
                field=field,
            )
        parsed = Decimal(value)
    elif isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        parsed = Decimal(value)  # the deprecated JSON number form (docs/api.md#money)
        metric("LegacyMoneyInput")
        # copy_abs and comparisons never round, so 1e999999999999 cannot overflow here;
        # a too large amount is refused below, before quantize() could.
        if not parsed.is_finite() or (
            parsed.copy_abs() <= maximum
            and parsed != parsed.quantize(QUANTUM, rounding=ROUND_HALF_EVEN)
        ):
            raise ValidationError(f"{field} must have at most {EXPONENT} decimals", field=field)
    else:
        raise ValidationError(f"{field} must be a decimal string, like '19.99'", field=field)
    if parsed < 0:
        raise ValidationError(f"{field} must not be negative", field=field)
    if parsed > maximum:
        raise ValidationError(f"{field} must be at most {text(maximum)}", field=field)
    return amount(parsed)


def display(value: Decimal | int) -> str:
    """For people (emails, logs): ``"34.00 USD"``."""
    return f"{text(value)} {CURRENCY}"
