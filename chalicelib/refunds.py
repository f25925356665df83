"""Refunds by staff, and the refund of a received return: never more than was paid.

A refund is an entry in the order's ``refunds`` list (only ever appended) and an
increase of its ``amountRefunded``, written in one transaction whose condition is the
limit: ``amountRefunded`` and the number of refunds are still what was read, and the
code checked ``amountRefunded + amount <= total`` against those. A concurrent refund
therefore fails the condition; the loser reads the order again and is checked again,
so of two refunds that together exceed what was paid exactly one gets 409
``RefundExceedsPaid``.

The order of steps, so that a failure never loses or double-counts money:

1. the refund is recorded ``pending`` (its amount already counted) in that transaction;
2. the payment provider is asked to refund it, with the refund's id as its idempotency
   key (Stripe answers a repeat with the same refund);
3. the entry becomes ``succeeded`` with the provider's refund id, in a write that also
   announces ``OrderRefunded`` (the subscriber emails the buyer), or, if the provider
   refuses for good, ``failed`` with its amount given back (409 ``RefundDeclined``).

A busy provider (503) or a crash after step 1 leaves the refund ``pending``, its amount
held; the same request again (the same ``Idempotency-Key``: the refund's id is derived
from it) resumes at step 2. Without a provider (``PAYMENT_PROVIDER=none``, or an order
paid without one) the refund is a bookkeeping entry, ``succeeded`` in step 1.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pynamodb.expressions.condition import Condition, size
from pynamodb.expressions.update import Action

from chalicelib import audit, money, payments, transactions
from chalicelib.auth import Principal
from chalicelib.clock import now_iso
from chalicelib.errors import (
    ConcurrentUpdate,
    IdempotencyMismatch,
    InvalidTransition,
    NotFound,
    RefundDeclined,
    RefundExceedsPaid,
    ValidationError,
)
from chalicelib.models import IDEMPOTENCY_PREFIX, ItemCount, Order, RefundEntry
from chalicelib.observability import metric
from chalicelib.order_lifecycle import ORDER_REFUNDED, REFUNDABLE
from chalicelib.order_view import order_view
from chalicelib.orders import idempotency_key
from chalicelib.text import echo
from chalicelib.transactions import ConditionsFailed, Transaction

PENDING = "pending"
SUCCEEDED = "succeeded"
FAILED = "failed"
# A refund that keeps losing its condition to other refunds gives up with a 409.
MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class _Changed:
    """The order changed since it was read (another refund, a status change): read again."""


def refund_id_for(order_id: str, key: str) -> str:
    """The refund's id: the same ``Idempotency-Key`` on the same order names the same refund
    (the key checked and hashed as an order's is, with the order in the buyer's place)."""
    digest = idempotency_key(order_id, key).removeprefix(IDEMPOTENCY_PREFIX)
    return "rf-" + digest[:24]


def item_counts(order: Order, lines: Sequence[Mapping[str, Any]], field: str) -> list[ItemCount]:
    """Quantities of the order's own products, merged; at most what was ordered (else 400)."""
    ordered = {line.product_id: int(line.quantity) for line in order.items}
    merged: dict[str, int] = {}
    for line in lines:
        merged[line["productId"]] = merged.get(line["productId"], 0) + int(line["quantity"])
    for product_id, quantity in merged.items():
        if product_id not in ordered:
            raise ValidationError(
                f"{field}: product {echo(product_id)} is not in this order", field=field
            )
        if quantity > ordered[product_id]:
            raise ValidationError(
                f"{field}: at most {ordered[product_id]} of product {echo(product_id)}"
                " were ordered",
                field=field,
            )
    return [ItemCount(product_id=p, quantity=q) for p, q in merged.items()]


def refund_order(
    caller: Principal, order: Order | None, order_id: str, body: dict[str, Any], key: str | None
) -> tuple[dict[str, Any], bool]:
    """``POST /orders/{orderId}/refunds`` (admins): the order, and whether refunded now."""
    if order is None:
        raise NotFound(f"order {echo(order_id)} not found")
    if key is None:
        raise ValidationError(
            "a refund needs an Idempotency-Key header: the same key refunds once",
            field="Idempotency-Key",
        )
    amount = money.parse(body["amount"], "amount")
    if amount <= 0:
        raise ValidationError("amount must be more than 0", field="amount")
    entry = RefundEntry(
        refund_id=refund_id_for(order.order_id, key),
        amount=amount,
        reason=body["reason"],
        note=body.get("note"),
        lines=item_counts(order, body.get("lines", []), "lines"),
        status=PENDING,
        created_at=now_iso(),
        by=caller.user_id,
    )
    order, created = issue(order, entry)
    return order_view(order), created


def issue(order: Order, entry: RefundEntry) -> tuple[Order, bool]:
    """Record ``entry`` (or find it recorded), refund it through the provider, settle it.

    Returns the order as it is now and whether ``entry`` was recorded by this call (False:
    a retry of the same refund, finished if it was pending).
    """
    order, created = _record(order, entry)
    index, stored = find(order, entry.refund_id)
    if not created and not _same(stored, entry):
        raise IdempotencyMismatch("this Idempotency-Key was already used for a different refund")
    order = settle(order, entry.refund_id)
    stored = order.refunds[index]
    if stored.status == FAILED:
        raise RefundDeclined(
            f"the payment provider refused refund {stored.refund_id}; nothing was refunded",
        )
    return order, created


def find(order: Order, refund_id: str) -> tuple[int, RefundEntry]:
    for index, refund in enumerate(order.refunds or []):
        if refund.refund_id == refund_id:
            return index, refund
    raise KeyError(refund_id)


def _same(stored: RefundEntry, entry: RefundEntry) -> bool:
    def counts(refund: RefundEntry) -> list[tuple[str, int]]:
        return sorted((line.product_id, int(line.quantity)) for line in refund.lines or [])

    return (
        stored.amount == entry.amount
        and stored.reason == entry.reason
        and stored.note == entry.note
        and counts(stored) == counts(entry)
    )


def _through_provider(order: Order) -> payments.PaymentProvider | None:
    """The provider that takes the money back, or None: a bookkeeping entry."""
    provider = payments.provider()
    return provider if provider is not None and order.payment_intent_id else None


def settle(order: Order, refund_id: str) -> Order:
    """Steps 2 and 3 for the refund ``refund_id`` if it is still pending; the order now."""
    index, stored = find(order, refund_id)
    if stored.status != PENDING:
        return order
    return _settle(order, index, stored)


def recording(
    order: Order, entry: RefundEntry, *, announce: bool = True
) -> tuple[list[Action], Condition]:
    """The writes that record ``entry`` on ``order`` as read, and the condition that keeps
    the limit: what it checked (``amountRefunded + amount <= total``) still holds.
    ``announce=False``: the write announces another event (a received return's), whose
    handling emails the refund.

    Raises 409 ``RefundExceedsPaid`` when it does not hold for the order as read. A
    refund without a provider is recorded ``succeeded`` and announces ``OrderRefunded``.
    """
    refunded = order.amount_refunded or money.ZERO
    left = order.total - refunded
    if entry.amount > left:
        raise RefundExceedsPaid(
            f"a refund of {money.text(entry.amount)} is more than the"
            f" {money.text(left)} left to refund on order {order.order_id}",
            refundable=money.text(left),
        )
    count = len(order.refunds or [])
    unchanged: Condition = (
        Order.amount_refunded == refunded
        if order.amount_refunded is not None
        else Order.amount_refunded.does_not_exist()
    )
    unchanged &= (
        Order.refunds.does_not_exist() if count == 0 else size(Order.refunds) == count  # type: ignore[no-untyped-call]
    )
    if _through_provider(order) is None:
        entry.status = SUCCEEDED
    actions: list[Action] = [
        Order.refunds.set((Order.refunds | []).append([entry])),
        Order.amount_refunded.set(money.amount(refunded + entry.amount)),
    ]
    if entry.status == SUCCEEDED and announce:
        actions += announcing(order.order_id)
    return actions, unchanged


def announcing(order_id: str) -> list[Action]:
    """The writes that announce ``OrderRefunded`` (a notice: the status stays as it is)."""
    return [
        Order.pending_event.set(Order.pending_event_for(order_id, ORDER_REFUNDED)),
        Order.event_at.set(now_iso()),
    ]


def _record(order: Order, entry: RefundEntry) -> tuple[Order, bool]:
    """Step 1: the conditional transaction; the order read again after losing a race."""
    for _ in range(MAX_ATTEMPTS):
        if any(r.refund_id == entry.refund_id for r in order.refunds or []):
            return order, False
        if order.status not in REFUNDABLE:
            raise InvalidTransition(
                f"order {order.order_id} is {order.status}; only a paid order can be refunded"
            )
        actions, unchanged = recording(order, entry)
        try:
            _write_record(order, actions, Order.status.is_in(*REFUNDABLE) & unchanged, entry)
        except ConditionsFailed:
            metric("RefundConflicts")
            order = Order.get(order.order_id, consistent_read=True)
            continue
        if entry.status == SUCCEEDED:
            metric("RefundsIssued")  # a bookkeeping entry: settled as it was recorded
        # As written: the condition held, so the order was exactly as read plus this refund.
        order.amount_refunded = money.amount((order.amount_refunded or money.ZERO) + entry.amount)
        order.refunds = [*(order.refunds or []), entry]
        return order, True
    raise ConcurrentUpdate(f"order {order.order_id} kept changing; read it again and retry")


def _write_record(
    order: Order, actions: list[Action], condition: Condition, entry: RefundEntry
) -> None:
    """The refund's record and its audit entry (``refund.create``): one transaction."""
    refunded = order.amount_refunded or money.ZERO
    after = {
        "amountRefunded": money.text(refunded + entry.amount),
        "refund": {"refundId": entry.refund_id, "amount": money.text(entry.amount),
                   "reason": entry.reason},
    }  # fmt: skip

    def build(tx: Transaction) -> None:
        tx.update(order, actions, condition=condition, on_fail=_Changed())
        audit.record(tx, entry.by, "refund.create", "order", order.order_id,
                     {"amountRefunded": money.text(refunded)}, after)  # fmt: skip

    transactions.write(build)


def _settle(order: Order, index: int, entry: RefundEntry) -> Order:
    """Steps 2 and 3 for a pending refund: the provider, then succeeded or failed."""
    provider = _through_provider(order)
    assert provider is not None and order.payment_intent_id  # pending only with a provider
    stored: Any = Order.refunds[index]  # the entry's attributes as document paths
    still_pending = (stored.refund_id == entry.refund_id) & (stored.status == PENDING)
    try:
        provider_id = provider.refund(order.payment_intent_id, entry.refund_id, entry.amount)
    except payments.RefundRefused:
        metric("RefundsDeclined")
        _write_settled(
            order,
            [
                stored.status.set(FAILED),
                Order.amount_refunded.set(Order.amount_refunded - entry.amount),
            ],
            still_pending,
        )
        return order
    _write_settled(
        order,
        [
            stored.status.set(SUCCEEDED),
            stored.provider_refund_id.set(provider_id),
            *announcing(order.order_id),
        ],
        still_pending,
    )
    metric("RefundsIssued")
    return order


def _write_settled(order: Order, actions: list[Action], still_pending: Condition) -> None:
    """One write; a lost condition means a concurrent retry settled it: read what it wrote."""
    try:
        transactions.update_item(order, actions, condition=still_pending, on_fail=_Settled())
    except _Settled:
        order.refresh(consistent_read=True)


class _Settled(Exception):
    """Another attempt of the same refund settled it first."""
