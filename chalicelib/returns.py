"""Returns: the buyer asks, staff approve (choosing restock per line) or reject, the goods
arrive and their lines are refunded.

Every step is one row of the lifecycle (:mod:`chalicelib.order_lifecycle`) applied by
:func:`chalicelib.order_transitions.transition`, with the return's own fields written in
the same conditional write: ``DELIVERED`` -> ``RETURN_REQUESTED`` -> ``RETURN_APPROVED``
-> ``RETURNED``, or back to ``DELIVERED`` when rejected. Receiving the goods gives back
the stock of the lines the approval marked ``restock`` (the row says so) and records
their refund in that same write, through :mod:`chalicelib.refunds` (the same limit as
staff refunds); with a payment provider the refund is then sent to it.

What a returned line refunds (docs/api.md#returns): its share of what was paid for the
line, ``(lineTotal - discount + tax) * returned / ordered`` (``tax`` and ``discount``
are the line's own, 0 where the order has none; with tax-inclusive prices ``lineTotal``
already holds the tax), rounded half-even; shipping only when every line is returned in
full. Never more than is left to refund after staff refunds.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from pynamodb.expressions.condition import Condition, size
from pynamodb.expressions.update import Action

from chalicelib import audit, money, refunds
from chalicelib.auth import Principal
from chalicelib.clock import now_iso
from chalicelib.config import get_settings
from chalicelib.errors import InvalidTransition, NotFound, ReturnWindowClosed, ValidationError
from chalicelib.models import ItemCount, Order, RefundEntry, ReturnEntry
from chalicelib.observability import metric
from chalicelib.order_lifecycle import (
    APPROVE_RETURN,
    DELIVERED,
    RECEIVE_RETURN,
    REJECT_RETURN,
    REQUEST_RETURN,
    RETURN_APPROVED,
    RETURN_REQUESTED,
    RETURNED,
    Transition,
)
from chalicelib.order_transitions import transition
from chalicelib.order_view import order_view
from chalicelib.text import echo
from chalicelib.transactions import Transaction

REQUESTED = "requested"
APPROVED = "approved"
REJECTED = "rejected"
RECEIVED = "received"


def _found(order: Order | None, order_id: str) -> Order:
    if order is None:
        raise NotFound(f"order {echo(order_id)} not found")
    return order


def _require(order: Order, status: str, doing: str) -> None:
    if order.status != status:
        raise InvalidTransition(
            f"order {order.order_id} is {order.status}; only a {status} order can {doing}"
        )


def _count_is(count: int) -> Condition:
    """No return was added since the order was read (returns are only ever appended)."""
    if count == 0:
        return Order.returns.does_not_exist()
    same: Condition = size(Order.returns) == count  # type: ignore[no-untyped-call]
    return same


def _apply(
    order: Order,
    step: Transition,
    actions: list[Action],
    extra: Condition | None,
    decided: tuple[Principal, dict[str, Any]] | None = None,
) -> None:
    """The step's one transaction; a staff decision (``decided``: who, and what the audit
    entry records beyond the status) writes its audit entry in it."""
    count = len(order.returns or [])
    condition = _count_is(count) if extra is None else _count_is(count) & extra
    was = order.status

    def audited(tx: Transaction) -> None:
        assert decided is not None
        staff, details = decided
        audit.record(tx, staff.user_id, f"return.{step.name.split()[0]}",
                     "order", order.order_id, {"status": was},
                     {"status": step.target, **details})  # fmt: skip

    transition(
        order,
        step,
        on_fail=InvalidTransition(
            f"order {order.order_id} changed meanwhile; read it again and retry"
        ),
        condition=condition,
        actions=actions,
        also=audited if decided is not None else None,
    )


def delivered_at(order: Order) -> datetime:
    """When the order was delivered: stamped by the deliver step (older orders: their last
    status change, which was the delivery while they are DELIVERED)."""
    stamp = order.delivered_at or order.updated_at or order.created_at
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def request_return(
    caller: Principal, order: Order | None, order_id: str, body: dict[str, Any]
) -> dict[str, Any]:
    """``POST /orders/{orderId}/returns`` (the buyer): DELIVERED -> RETURN_REQUESTED."""
    order = _found(order, order_id)
    if order.user_id != caller.user_id:
        raise NotFound(f"order {echo(order_id)} not found")  # never a hint it exists
    _require(order, DELIVERED, "be returned")
    days = get_settings().return_window_days
    if datetime.now(UTC) > delivered_at(order) + timedelta(days=days):
        raise ReturnWindowClosed(
            f"order {order.order_id} was delivered more than {days} days ago;"
            " it can no longer be returned",
        )
    entry = ReturnEntry(
        return_id=str(uuid.uuid4()),
        lines=refunds.item_counts(order, body["lines"], "lines"),
        reason=body.get("reason"),
        status=REQUESTED,
        requested_at=now_iso(),
    )
    _apply(order, REQUEST_RETURN, [Order.returns.set((Order.returns | []).append([entry]))], None)
    if not order.returns or order.returns[-1].return_id != entry.return_id:
        order.returns = [*(order.returns or []), entry]  # unless the write re-read it
    metric("ReturnsRequested")
    return order_view(order)


def _open_return(order: Order) -> tuple[int, ReturnEntry, Any]:
    """The order's last return, its index and its attributes as document paths."""
    assert order.returns  # a RETURN_* status is only ever set with a return
    index = len(order.returns) - 1
    return index, order.returns[index], Order.returns[index]


def approve_return(
    caller: Principal, order: Order | None, order_id: str, body: dict[str, Any]
) -> dict[str, Any]:
    """Staff approve: each requested line named once, with ``restock`` true or false."""
    order = _found(order, order_id)
    _require(order, RETURN_REQUESTED, "have its return approved")
    _, entry, path = _open_return(order)
    chosen: dict[str, bool] = {}
    for line in body["lines"]:
        if line["productId"] in chosen:
            raise ValidationError(f"lines: product {echo(line['productId'])} is named twice")
        chosen[line["productId"]] = bool(line["restock"])
    requested = [line.product_id for line in entry.lines]
    if set(chosen) != set(requested):
        raise ValidationError(
            "lines: name each returned product once, with restock true or false: "
            + ", ".join(requested),
            field="lines",
        )
    lines = [
        ItemCount(
            product_id=line.product_id, quantity=line.quantity, restock=chosen[line.product_id]
        )
        for line in entry.lines
    ]
    at = now_iso()
    _apply(
        order,
        APPROVE_RETURN,
        [
            path.lines.set(lines),
            path.status.set(APPROVED),
            path.decided_at.set(at),
            path.decided_by.set(caller.user_id),
        ],
        path.status == REQUESTED,
        (caller, {"restock": {line.product_id: bool(line.restock) for line in lines}}),
    )
    entry.lines, entry.status, entry.decided_at, entry.decided_by = (
        lines,
        APPROVED,
        at,
        caller.user_id,
    )
    metric("ReturnsApproved")
    return order_view(order)


def reject_return(
    caller: Principal, order: Order | None, order_id: str, body: dict[str, Any]
) -> dict[str, Any]:
    """Staff reject, saying why: the order is DELIVERED again (its buyer may ask again)."""
    order = _found(order, order_id)
    _require(order, RETURN_REQUESTED, "have its return rejected")
    _, entry, path = _open_return(order)
    at = now_iso()
    _apply(
        order,
        REJECT_RETURN,
        [
            path.status.set(REJECTED),
            path.reject_reason.set(body["reason"]),
            path.decided_at.set(at),
            path.decided_by.set(caller.user_id),
        ],
        path.status == REQUESTED,
        (caller, {"rejectReason": body["reason"]}),
    )
    entry.status, entry.reject_reason, entry.decided_at, entry.decided_by = (
        REJECTED,
        body["reason"],
        at,
        caller.user_id,
    )
    metric("ReturnsRejected")
    return order_view(order)


def refund_due(order: Order, entry: ReturnEntry) -> Decimal:
    """What the returned lines refund (the module's docstring), before the limit."""
    ordered = {line.product_id: line for line in order.items}
    # With tax-inclusive prices the line's total already holds its tax.
    tax_on_top = not get_settings().prices_include_tax
    due = Decimal(0)
    whole = True
    returned = {line.product_id: int(line.quantity) for line in entry.lines}
    for product_id, line in ordered.items():
        quantity = returned.get(product_id, 0)
        if quantity < int(line.quantity):
            whole = False
        if quantity == 0:
            continue
        paid = line.line_total - (getattr(line, "discount", None) or 0)
        if tax_on_top:
            paid += getattr(line, "tax", None) or 0
        due += money.amount(paid * quantity / int(line.quantity))
    if whole:
        due += getattr(order, "shipping_price", None) or 0
    return money.amount(due)


def receive_return(caller: Principal, order: Order | None, order_id: str) -> dict[str, Any]:
    """The goods arrived: RETURNED, the chosen lines restocked and the lines refunded.

    Again on a RETURNED order whose refund is still pending (the provider was busy), it
    sends that refund again (the same refund id: refunded once).
    """
    order = _found(order, order_id)
    if order.status == RETURNED and order.returns and order.returns[-1].refund_id:
        return order_view(refunds.settle(order, order.returns[-1].refund_id))
    _require(order, RETURN_APPROVED, "have its return received")
    _, entry, path = _open_return(order)
    left = order.total - (order.amount_refunded or money.ZERO)
    amount = min(refund_due(order, entry), left)
    at = now_iso()
    actions: list[Action] = [path.status.set(RECEIVED), path.received_at.set(at)]
    condition: Condition = path.status == APPROVED
    refund: RefundEntry | None = None
    if amount > 0:
        refund = RefundEntry(
            refund_id="rf-" + entry.return_id,
            amount=amount,
            reason="return",
            lines=[ItemCount(product_id=x.product_id, quantity=x.quantity) for x in entry.lines],
            status=refunds.PENDING,
            created_at=at,
            by=caller.user_id,
        )
        recorded, unchanged = refunds.recording(order, refund, announce=False)
        actions += [*recorded, path.refund_id.set(refund.refund_id)]
        condition &= unchanged
    _apply(order, RECEIVE_RETURN, actions, condition, (caller, {"refund": money.text(amount)}))
    metric("ReturnsReceived")
    if refund is not None and refund.status == refunds.SUCCEEDED:
        metric("RefundsIssued")  # a bookkeeping entry: settled as it was recorded
    # As written: the condition held, so the order is as read plus these changes.
    entry.status, entry.received_at = RECEIVED, at
    if refund is not None:
        entry.refund_id = refund.refund_id
        order.amount_refunded = money.amount((order.amount_refunded or money.ZERO) + amount)
        order.refunds = [*(order.refunds or []), refund]
        order = refunds.settle(order, refund.refund_id)
    return order_view(order)
