"""JSON output of numbers: ``Decimal`` inside, plain JSON numbers outside."""

from __future__ import annotations

from decimal import Decimal
from typing import Any


def json_number(value: Decimal | int) -> int | float:
    """12 for 12.00, 12.5 for 12.50: the same text whichever serializer writes it."""
    value = Decimal(value)
    return int(value) if value == value.to_integral_value() else float(value)


def json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return json_number(value)
    raise TypeError(f"cannot serialize {type(value).__name__}")
