"""The discount arithmetic and availability rules (chalicelib/discounts.py), without I/O."""

from __future__ import annotations

from decimal import Decimal

import pytest

from chalicelib.discounts import Line, allocate, unavailable
from chalicelib.models import DiscountCode

NOW = "2030-06-01T12:00:00.000Z"


def code(**terms) -> DiscountCode:
    return DiscountCode("DISCOUNT#X", code="X", created_at=NOW, redemptions=0, **terms)


def lines(*totals: str, category: str = "general") -> list[Line]:
    return [Line(f"p{i}", category, Decimal(t)) for i, t in enumerate(totals)]


def test_a_percentage_is_rounded_half_even_per_line():
    off = allocate(code(percent_off=15), lines("9.99", "10.00", "0.10"))

    # 1.4985 -> 1.50; 1.50; 0.015 -> 0.02 (half-even rounds 0.015 to 0.02)
    assert off == {"p0": Decimal("1.50"), "p1": Decimal("1.50"), "p2": Decimal("0.02")}


def test_an_amount_is_spread_in_proportion_with_the_remainder_on_the_largest_line():
    off = allocate(code(amount_off=Decimal("10.00")), lines("10.00", "10.00", "10.00"))

    assert sum(off.values()) == Decimal("10.00")
    assert sorted(off.values()) == [Decimal("3.33"), Decimal("3.33"), Decimal("3.34")]


def test_an_amount_never_exceeds_the_lines_in_scope():
    item = code(amount_off=Decimal("100"), product_ids={"p1"})

    assert allocate(item, lines("5.00", "7.50")) == {"p1": Decimal("7.50")}


def test_a_category_scope_leaves_other_lines_alone():
    books = [Line("b", "books", Decimal("20.00")), Line("t", "tea", Decimal("8.00"))]

    assert allocate(code(percent_off=50, categories={"tea"}), books) == {"t": Decimal("4.00")}


@pytest.mark.parametrize(
    ("terms", "reason"),
    [
        ({"retired_at": NOW}, "retired"),
        ({"starts_at": "2030-06-01T12:00:00.001Z"}, "not-started"),
        ({"ends_at": NOW}, "expired"),  # valid until before endsAt
        ({"max_redemptions": 0}, "used-up"),
        ({"min_subtotal": Decimal("30.01")}, "below-minimum"),
        ({"categories": {"garden"}}, "out-of-scope"),
        ({"starts_at": NOW, "min_subtotal": Decimal("30.00")}, None),
    ],
)
def test_why_a_code_does_not_apply(terms, reason):
    assert unavailable(code(percent_off=10, **terms), lines("10.00", "20.00"), NOW) == reason


def test_an_unknown_code_does_not_apply():
    assert unavailable(None, lines("1.00"), NOW) == "unknown"
