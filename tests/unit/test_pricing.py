"""chalicelib/pricing.py: an order's lines, tax, shipping and totals (no AWS)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib import money
from chalicelib.pricing import Line, price
from chalicelib.rates import NO_TAX, ShippingMethod, TaxRate

STANDARD = ShippingMethod("standard", "Standard", Decimal("5.99"), Decimal("75.00"), 3, 5)
FLAT = ShippingMethod("express", "Express", Decimal("19.99"), None, 1, 2)
CALIFORNIA = TaxRate(Decimal("0.0725"), False)
NEW_YORK = TaxRate(Decimal("0.04"), True)
GERMANY = TaxRate(Decimal("0.19"), True)


def test_tax_exclusive_lines_are_taxed_and_rounded_each_half_to_even():
    # 2 x 0.50 at 25 %: 0.25; 1 x 0.10 at 25 %: 0.025 -> 0.02 (half to even, not 0.03).
    lines = [Line("a", 2, Decimal("0.50")), Line("b", 1, Decimal("0.10"))]
    totals = price(lines, FLAT, TaxRate(Decimal("0.25"), False))
    assert [line.tax for line in totals.lines] == [Decimal("0.25"), Decimal("0.02")]
    assert totals.subtotal == Decimal("1.10")
    assert totals.shipping == Decimal("19.99")
    assert totals.tax == Decimal("0.27")
    assert totals.total == Decimal("21.36")


def test_per_line_rounding_differs_from_rounding_the_sum():
    # Three lines of 0.10 at 25 %: each 0.025 -> 0.02, so 0.06, where 0.30 x 25 % is 0.075.
    lines = [Line(p, 1, Decimal("0.10")) for p in "abc"]
    totals = price(lines, None, TaxRate(Decimal("0.25"), False))
    assert totals.tax == Decimal("0.06")
    assert totals.total == Decimal("0.36")


def test_shipping_is_taxed_only_where_the_rate_says_so():
    lines = [Line("a", 1, Decimal("10.00"))]
    assert price(lines, STANDARD, CALIFORNIA).tax == Decimal("0.72")  # 0.725 -> 0.72
    taxed = price(lines, STANDARD, NEW_YORK)
    assert taxed.tax == Decimal("0.40") + Decimal("0.24")  # 5.99 x 4 % = 0.2396
    assert taxed.total == Decimal("10.00") + Decimal("5.99") + Decimal("0.64")


def test_shipping_is_free_from_the_threshold_on_after_discounts():
    at_threshold = price([Line("a", 3, Decimal("25.00"))], STANDARD, NO_TAX)
    assert at_threshold.shipping == money.ZERO
    assert at_threshold.total == Decimal("75.00")
    discounted = price(
        [Line("a", 3, Decimal("25.00"))],
        STANDARD,
        NO_TAX,
        line_discounts={"a": Decimal("0.01")},
    )
    assert discounted.shipping == Decimal("5.99")
    assert discounted.total == Decimal("80.98")


def test_tax_is_computed_on_the_discounted_line():
    totals = price(
        [Line("a", 1, Decimal("100.00")), Line("b", 1, Decimal("10.00"))],
        None,
        GERMANY,
        line_discounts={"a": Decimal("20.00")},
    )
    assert [line.tax for line in totals.lines] == [Decimal("15.20"), Decimal("1.90")]
    assert totals.discount == Decimal("20.00")
    assert totals.total == Decimal("110.00") + Decimal("17.10") - Decimal("20.00")


def test_tax_inclusive_prices_hold_their_tax_and_the_total_is_the_shown_price():
    totals = price([Line("a", 1, Decimal("119.00"))], FLAT, GERMANY, prices_include_tax=True)
    # 119.00 holds 19.00 of tax; 19.99 of shipping holds 3.19 (3.1916...).
    assert totals.lines[0].tax == Decimal("19.00")
    assert totals.subtotal == Decimal("100.00")
    assert totals.shipping == Decimal("16.80")
    assert totals.tax == Decimal("22.19")
    assert totals.total == Decimal("138.99")


def test_a_discount_over_the_line_or_for_another_product_is_refused():
    with pytest.raises(ValueError):
        price([Line("a", 1, Decimal("1.00"))], None, NO_TAX, line_discounts={"a": Decimal(2)})
    with pytest.raises(ValueError):
        price([Line("a", 1, Decimal("1.00"))], None, NO_TAX, line_discounts={"b": Decimal(0)})


_AMOUNTS = st.decimals(min_value=0, max_value=10_000, places=2)
_RATES = st.decimals(min_value=0, max_value=Decimal("0.3"), places=5)
_LINES = st.lists(
    st.tuples(st.integers(min_value=1, max_value=50), _AMOUNTS, st.floats(0, 1)),
    min_size=1,
    max_size=8,
)


@given(_LINES, _RATES, st.booleans(), st.booleans(), st.sampled_from([None, STANDARD, FLAT]))
def test_the_totals_always_add_up_in_the_currency_exponent(
    raw_lines, rate, shipping_taxed, inclusive, method
):
    lines = [Line(f"p{i}", q, unit) for i, (q, unit, _) in enumerate(raw_lines)]
    discounts = {
        f"p{i}": money.amount(Decimal(share) * line.line_total)
        for i, ((_, _, share), line) in enumerate(zip(raw_lines, lines, strict=True))
    }
    tax = TaxRate(rate, shipping_taxed)
    totals = price(lines, method, tax, line_discounts=discounts, prices_include_tax=inclusive)
    parts = (totals.subtotal, totals.shipping, totals.tax, totals.discount, totals.total)
    assert all(part == money.amount(part) and part >= 0 for part in parts)
    assert totals.total == totals.subtotal + totals.shipping + totals.tax - totals.discount
    assert totals.discount == sum(discounts.values(), money.ZERO)
    goods = sum((line.line_total for line in lines), money.ZERO)
    shipped = money.ZERO if method is None else totals.shipping
    if inclusive:  # the buyer pays the shown prices: goods and shipping, tax included
        gross_shipping = totals.shipping + (totals.tax - sum(p.tax for p in totals.lines))
        assert totals.total == goods + gross_shipping - totals.discount
    else:
        assert totals.subtotal == goods
        assert totals.total >= goods - totals.discount + shipped
    for priced in totals.lines:  # each line's tax is its own rounding, never off by more
        exact = (priced.line_total - priced.discount) * rate
        if inclusive:
            exact = exact / (1 + rate)
        assert abs(priced.tax - exact) <= money.QUANTUM / 2
