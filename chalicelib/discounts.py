"""Discount codes: what admins create, change and retire, and what an order redeems.

A code lives in the products table (``DISCOUNT#<code>``, :class:`DiscountCode`), so placing
an order reads it in the same ``BatchGetItem`` as the products and stays two AWS calls.
:func:`unavailable` says why a code does not apply (before anything is written);
:func:`allocate` spreads its amount over the order's lines (pure: the pricing takes it as
``line_discounts``); :func:`redeem` adds the redemption to the order's own transaction
(the counter conditional on the limit, and for a once-per-customer code an item per buyer
created only if absent), so concurrent orders never redeem more than the limit;
:func:`release` gives it back in the cancel or expiry transaction.
Every admin change writes its audit entry in the same transaction (chalicelib/audit.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from chalicelib import audit, money, transactions
from chalicelib.clock import iso_z, now_iso
from chalicelib.errors import (
    ConcurrentUpdate,
    DiscountCodeExists,
    DiscountUnavailable,
    NotFound,
    ValidationError,
)
from chalicelib.models import (
    DISCOUNT_LIST_PARTITION,
    DiscountCode,
    DiscountRedemption,
    Order,
)
from chalicelib.pagination import paginate
from chalicelib.schemas import DISCOUNT_CODE_PATTERN
from chalicelib.text import echo
from chalicelib.transactions import Transaction

_CODE_RE = re.compile(DISCOUNT_CODE_PATTERN)
_TAKEN = "taken"  # a new code's item exists: another code, or our own resent attempt
_HUNDRED = Decimal(100)

# Why a code does not apply: DiscountUnavailable's ``reason`` -> its message.
REASONS: dict[str, str] = {
    "unknown": "there is no such discount code",
    "retired": "this discount code has been retired",
    "not-started": "this discount code is not valid yet",
    "expired": "this discount code has expired",
    "used-up": "this discount code has been used up",
    "below-minimum": "the order is below this discount code's minimum subtotal",
    "out-of-scope": "no line of the order is one this discount code applies to",
    "already-used": "you have already used this discount code",
    "changed": "this discount code changed while the order was placed; retry",
}


def unavailable_error(code: str, reason: str) -> DiscountUnavailable:
    return DiscountUnavailable(f"{code}: {REASONS[reason]}", reason=reason)


# What a failed condition of a redemption means (orders.py explains the order's failures).
@dataclass(frozen=True)
class CodeRefused:
    """The code's counter refused the redemption: used up, retired, expired or edited."""


@dataclass(frozen=True)
class AlreadyRedeemed:
    """This buyer already holds a redemption of this once-per-customer code."""


@dataclass(frozen=True)
class NothingToRelease:
    """Releasing found nothing to give back (``what``: "counter" or "holder")."""

    what: str


@dataclass(frozen=True)
class Line:
    """An order line as the allocation sees it."""

    product_id: str
    category: str
    total: Decimal


# --- admin -----------------------------------------------------------------------------


def normalise_code(raw: str, field: str = "code") -> str:
    """A code as stored and compared: upper case, 3-32 of A-Z 0-9 - _ (else a 400)."""
    code = raw.strip().upper()
    if not _CODE_RE.fullmatch(code):
        raise ValidationError(
            f"{field} must be 3-32 letters, digits, '-' or '_', starting with a letter or digit",
            field=field,
        )
    return code


def _time(value: str, field: str) -> str:
    """A request's date-time, stored as UTC ISO 8601 with milliseconds (sorts as text)."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValidationError(f"{field} must be an ISO 8601 date-time", field=field) from None
    if moment.tzinfo is None:
        raise ValidationError(f"{field} must have a time zone (Z or +hh:mm)", field=field)
    return iso_z(moment)


def _terms(item: DiscountCode) -> dict[str, Any]:
    """The code's terms as the API shows them (and the audit trail records)."""
    terms: dict[str, Any] = {"oncePerCustomer": bool(item.once_per_customer)}
    if item.percent_off is not None:
        terms["percentOff"] = int(item.percent_off)
    if item.amount_off is not None:
        terms["amountOff"] = money.text(item.amount_off)
    if item.min_subtotal is not None:
        terms["minSubtotal"] = money.text(item.min_subtotal)
    for name in ("starts_at", "ends_at"):
        value = getattr(item, name)
        if value is not None:
            terms["startsAt" if name == "starts_at" else "endsAt"] = value
    if item.max_redemptions is not None:
        terms["maxRedemptions"] = int(item.max_redemptions)
    if item.product_ids:
        terms["productIds"] = sorted(item.product_ids)
    if item.categories:
        terms["categories"] = sorted(item.categories)
    if item.retired_at is not None:
        terms["retiredAt"] = item.retired_at
    return terms


def discount_view(item: DiscountCode) -> dict[str, Any]:
    view: dict[str, Any] = {
        "code": item.code,
        **_terms(item),
        "redemptions": int(item.redemptions),
        "retired": item.retired_at is not None,
        "version": int(item.version),
        "createdAt": item.created_at,
    }
    if item.updated_at is not None:
        view["updatedAt"] = item.updated_at
    return view


def _apply_terms(item: DiscountCode, data: Mapping[str, Any]) -> None:
    """Set the fields ``data`` names on ``item`` (None clears one), then check the whole."""
    if "percentOff" in data and "amountOff" in data:
        raise ValidationError("give percentOff or amountOff, not both", field="amountOff")
    if data.get("productIds") is not None and data.get("categories") is not None:
        raise ValidationError("give productIds or categories, not both", field="categories")
    if "percentOff" in data:
        item.percent_off, item.amount_off = data["percentOff"], None
    if "amountOff" in data:
        item.amount_off = money.parse(data["amountOff"], "amountOff")
        item.percent_off = None
        if item.amount_off <= 0:
            raise ValidationError("amountOff must be more than zero", field="amountOff")
    if "minSubtotal" in data:
        value = data["minSubtotal"]
        item.min_subtotal = None if value is None else money.parse(value, "minSubtotal")
    for field, name in (("startsAt", "starts_at"), ("endsAt", "ends_at")):
        if field in data:
            setattr(item, name, None if data[field] is None else _time(data[field], field))
    if "maxRedemptions" in data:
        item.max_redemptions = data["maxRedemptions"]
    if "oncePerCustomer" in data:
        item.once_per_customer = data["oncePerCustomer"]
    if "productIds" in data:
        item.product_ids = set(data["productIds"]) if data["productIds"] else None
        if item.product_ids:
            item.categories = None
    if "categories" in data:
        item.categories = set(data["categories"]) if data["categories"] else None
        if item.categories:
            item.product_ids = None
    if (item.percent_off is None) == (item.amount_off is None):
        raise ValidationError("a code takes exactly one of percentOff and amountOff")
    if item.starts_at and item.ends_at and item.ends_at <= item.starts_at:
        raise ValidationError("endsAt must be after startsAt", field="endsAt")


def create_discount(actor: str, data: dict[str, Any]) -> dict[str, Any]:
    """``data`` has passed the ``DiscountCreate`` schema; a taken code is a 409."""
    code = normalise_code(data["code"])
    item = DiscountCode(
        DiscountCode.key_for(code),
        code=code,
        catalogue=DISCOUNT_LIST_PARTITION,
        name_key=code,
        redemptions=0,
        version=1,
        once_per_customer=False,
        created_at=now_iso(),
    )
    _apply_terms(item, data)

    def build(tx: Transaction) -> None:
        tx.create(item, on_fail=_TAKEN)
        audit.record(tx, actor, "discount.create", "discount", code, None, _terms(item))

    try:
        transactions.write(build)
    except transactions.ConditionsFailed as failed:
        if audit.EntryWritten() not in failed.meanings:  # else: our own resent attempt landed
            raise DiscountCodeExists(f"discount code {code} already exists") from None
    return discount_view(item)


def _load(raw_code: str) -> DiscountCode:
    code = raw_code.strip().upper()
    if not _CODE_RE.fullmatch(code):
        raise NotFound(f"discount code {echo(raw_code)} not found")
    try:
        return DiscountCode.get(DiscountCode.key_for(code), consistent_read=True)
    except DoesNotExist:
        raise NotFound(f"discount code {echo(code)} not found") from None


def get_discount(code: str) -> dict[str, Any]:
    return discount_view(_load(code))


def list_discounts(limit: int, cursor: str | None) -> dict[str, Any]:
    """Every code (retired ones too), by code: the keys-only index, then one BatchGetItem."""
    keys, next_cursor = paginate(
        lambda **kw: DiscountCode.by_code.query(DISCOUNT_LIST_PARTITION, **kw),
        limit=limit,
        cursor=cursor,
        key_names={"productId", "catalogue", "nameKey"},
        fixed={"catalogue": DISCOUNT_LIST_PARTITION},
    )
    found = {d.key: d for d in DiscountCode.batch_get([k.key for k in keys])} if keys else {}
    return {
        "items": [discount_view(found[k.key]) for k in keys if k.key in found],
        "nextCursor": next_cursor,
    }


def _write_change(actor: str, action: str, item: DiscountCode, changed: DiscountCode) -> None:
    """Write ``changed``'s terms over ``item``'s, conditional on the version read."""
    read_version = int(item.version)
    changed.version = read_version + 1
    changed.updated_at = now_iso()
    attributes = DiscountCode.get_attributes()
    actions: list[Action] = []
    for name in (
        "percent_off",
        "amount_off",
        "min_subtotal",
        "starts_at",
        "ends_at",
        "max_redemptions",
        "once_per_customer",
        "product_ids",
        "categories",
        "retired_at",
        "version",
        "updated_at",
    ):
        value = getattr(changed, name)
        attribute = attributes[name]
        actions.append(attribute.remove() if value is None else attribute.set(value))
    conflict = ConcurrentUpdate(
        f"discount code {item.code} was changed by someone else; read it again and retry"
    )

    def build(tx: Transaction) -> None:
        condition: Condition = DiscountCode.version == read_version
        tx.update(DiscountCode(item.key), actions, condition=condition, on_fail=conflict)
        audit.record(tx, actor, action, "discount", item.code, _terms(item), _terms(changed))

    transactions.write(build)


def _copy(item: DiscountCode) -> DiscountCode:
    return DiscountCode.from_raw_data(item.serialize())


def update_discount(actor: str, code: str, data: dict[str, Any]) -> dict[str, Any]:
    """``data`` has passed ``DiscountUpdate``: the terms it names change (null clears)."""
    item = _load(code)
    changed = _copy(item)
    _apply_terms(changed, data)
    _write_change(actor, "discount.update", item, changed)
    changed.redemptions = item.redemptions  # as read: orders may have counted more since
    return discount_view(changed)


def retire_discount(actor: str, code: str) -> dict[str, Any]:
    """A retired code stays (history, audit) but is never redeemed again; retiring twice
    changes nothing."""
    item = _load(code)
    retired_at: str | None = item.retired_at  # null=True: PynamoDB types it as str
    if retired_at is not None:
        return discount_view(item)
    changed = _copy(item)
    changed.retired_at = now_iso()
    _write_change(actor, "discount.retire", item, changed)
    return discount_view(changed)


# --- redemption ------------------------------------------------------------------------


def _in_scope(item: DiscountCode, lines: Iterable[Line]) -> list[Line]:
    if item.product_ids:
        return [line for line in lines if line.product_id in item.product_ids]
    if item.categories:
        return [line for line in lines if line.category in item.categories]
    return list(lines)


def unavailable(item: DiscountCode | None, lines: Sequence[Line], now: str) -> str | None:
    """Why the code does not apply to these lines now (a key of :data:`REASONS`), or None.

    ``minSubtotal`` is compared with the order's subtotal (every line, before discount).
    Whether a once-per-customer buyer used it already is the transaction's to say.
    """
    if item is None:
        return "unknown"
    # null=True: PynamoDB types these as never None.
    retired_at: str | None = item.retired_at
    starts_at: str | None = item.starts_at
    ends_at: str | None = item.ends_at
    if retired_at is not None:
        return "retired"
    if starts_at is not None and starts_at > now:
        return "not-started"
    if ends_at is not None and ends_at <= now:
        return "expired"
    if item.max_redemptions is not None and item.redemptions >= item.max_redemptions:
        return "used-up"
    subtotal = sum((line.total for line in lines), Decimal(0))
    if item.min_subtotal is not None and subtotal < item.min_subtotal:
        return "below-minimum"
    if not any(line.total > 0 for line in _in_scope(item, lines)):
        return "out-of-scope"
    return None


def allocate(item: DiscountCode, lines: Sequence[Line]) -> dict[str, Decimal]:
    """The amount off each in-scope line (product id -> amount, lines with nothing off left
    out). Percent: each line's share rounded half-even. Amount: at most the in-scope
    subtotal, spread in proportion to the lines, the rounding remainder on the largest."""
    scoped = [line for line in _in_scope(item, lines) if line.total > 0]
    if not scoped:
        return {}
    percent_off: float | None = item.percent_off  # null=True: PynamoDB types it as float
    if percent_off is not None:
        percent = Decimal(int(percent_off))
        shares = {line.product_id: money.amount(line.total * percent / _HUNDRED) for line in scoped}
    else:
        subtotal = sum((line.total for line in scoped), Decimal(0))
        off = min(item.amount_off, subtotal)
        shares = {line.product_id: money.amount(off * line.total / subtotal) for line in scoped}
        largest = max(scoped, key=lambda line: line.total).product_id
        shares[largest] += off - sum(shares.values())
    return {product_id: share for product_id, share in shares.items() if share > 0}


def redeem(tx: Transaction, item: DiscountCode, order: Order, now: str) -> None:
    """Count the redemption in the order's transaction: only while the code is still
    redeemable and as it was read (its terms priced the order)."""
    redeemable: Condition = (DiscountCode.version == int(item.version)) & (
        DiscountCode.retired_at.does_not_exist()
    )
    redeemable &= DiscountCode.max_redemptions.does_not_exist() | (
        DiscountCode.redemptions < DiscountCode.max_redemptions
    )
    redeemable &= DiscountCode.ends_at.does_not_exist() | (DiscountCode.ends_at > now)
    tx.update(
        DiscountCode(item.key),
        [DiscountCode.redemptions.add(1)],
        condition=redeemable,
        on_fail=CodeRefused(),
    )
    if item.once_per_customer:
        holder = DiscountRedemption(
            DiscountRedemption.key_for(item.code, order.user_id),
            order_id=order.order_id,
            created_at=now,
        )
        tx.create(holder, on_fail=AlreadyRedeemed())


def refusal(code: str, meanings: Sequence[object], lines: Sequence[Line]) -> DiscountUnavailable:
    """Why the order transaction refused the code (a read, on this failure path only)."""
    if AlreadyRedeemed() in meanings:
        return unavailable_error(code, "already-used")
    try:
        item: DiscountCode | None = DiscountCode.get(
            DiscountCode.key_for(code), consistent_read=True
        )
    except DoesNotExist:
        item = None
    return unavailable_error(code, unavailable(item, lines, now_iso()) or "changed")


def release(tx: Transaction, order: Order, skip: set[str]) -> None:
    """Give the order's redemption back (cancel, expiry): the counter, and the buyer's
    once-per-customer item if this order holds it. ``skip``: what a try found missing."""
    code: str | None = order.discount_code  # null=True: PynamoDB types it as str
    if code is None:
        return
    if "counter" not in skip:
        tx.update(
            DiscountCode(DiscountCode.key_for(code)),
            [DiscountCode.redemptions.add(-1)],
            condition=DiscountCode.redemptions > 0,
            on_fail=NothingToRelease("counter"),
        )
    if "holder" not in skip:
        tx.delete_if_present(
            DiscountRedemption(DiscountRedemption.key_for(code, order.user_id)),
            condition=DiscountRedemption.order_id == order.order_id,
            on_fail=NothingToRelease("holder"),
        )
