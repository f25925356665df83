"""An order's money: each line's tax, the shipping, and the totals, in one pure function.

``total = subtotal + shipping + tax - discount``, exact in the currency's exponent.

- Tax is computed per line on ``line total - line discount`` and on the shipping (when the
  destination's rate taxes shipping), each rounded to the currency's minor unit half to even
  (:func:`chalicelib.money.amount`); the order's tax is the sum of those roundings.
- Tax-exclusive prices (the default): tax is added on top.
- Tax-inclusive prices (``PRICES_INCLUDE_TAX``): the catalogue price and the shipping price
  already hold the tax, which is ``gross * rate / (1 + rate)``, rounded the same way;
  ``subtotal`` and ``shipping`` are then reported net of it, so the identity above still
  holds and ``total`` is what the buyer saw on the page.
- Shipping is free when the goods after discounts reach the method's ``freeOver``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from chalicelib import money
from chalicelib.rates import ShippingMethod, TaxRate, shipping_price


@dataclass(frozen=True)
class Line:
    """One catalogue line: the product, how many, at the catalogue's current price."""

    product_id: str
    quantity: int
    unit_price: Decimal

    @property
    def line_total(self) -> Decimal:
        return money.amount(self.unit_price * self.quantity)


@dataclass(frozen=True)
class PricedLine:
    product_id: str
    quantity: int
    unit_price: Decimal
    line_total: Decimal
    discount: Decimal
    tax: Decimal


@dataclass(frozen=True)
class Totals:
    lines: tuple[PricedLine, ...]
    subtotal: Decimal
    shipping: Decimal
    tax: Decimal
    discount: Decimal
    total: Decimal

    def view(self) -> dict[str, str]:
        """The API's ``totals``: decimal strings."""
        return {
            "subtotal": money.text(self.subtotal),
            "shipping": money.text(self.shipping),
            "tax": money.text(self.tax),
            "discount": money.text(self.discount),
            "total": money.text(self.total),
        }


def _tax_of(amount: Decimal, rate: Decimal, inclusive: bool) -> Decimal:
    if inclusive:
        return money.amount(amount * rate / (1 + rate))
    return money.amount(amount * rate)


def price(
    lines: Sequence[Line],
    method: ShippingMethod | None,
    tax: TaxRate,
    *,
    line_discounts: Mapping[str, Decimal] | None = None,
    prices_include_tax: bool = False,
) -> Totals:
    """The order's priced lines and totals. ``line_discounts``: amount off each line (by
    product id) before tax, at most the line's total. ``method`` None: nothing to ship yet
    (shipping 0)."""
    discounts = line_discounts or {}
    unknown = set(discounts) - {line.product_id for line in lines}
    if unknown:
        raise ValueError(f"discounts for products not in the order: {sorted(unknown)}")
    priced: list[PricedLine] = []
    for line in lines:
        gross = line.line_total
        off = money.amount(discounts.get(line.product_id, Decimal(0)))
        if not money.ZERO <= off <= gross:
            raise ValueError(f"the discount of {line.product_id} must be between 0 and {gross}")
        line_tax = _tax_of(gross - off, tax.rate, prices_include_tax)
        priced.append(
            PricedLine(line.product_id, line.quantity, line.unit_price, gross, off, line_tax)
        )
    goods = sum((p.line_total for p in priced), money.ZERO)
    discount = sum((p.discount for p in priced), money.ZERO)
    shipping = money.ZERO if method is None else shipping_price(method, goods - discount)
    shipping_tax = (
        _tax_of(shipping, tax.rate, prices_include_tax) if tax.shipping_taxed else money.ZERO
    )
    goods_tax = sum((p.tax for p in priced), money.ZERO)
    all_tax = goods_tax + shipping_tax
    if prices_include_tax:
        subtotal, shipping = goods - goods_tax, shipping - shipping_tax
    else:
        subtotal = goods
    return Totals(
        lines=tuple(priced),
        subtotal=subtotal,
        shipping=shipping,
        tax=all_tax,
        discount=discount,
        total=subtotal + shipping + all_tax - discount,
    )
