"""The one function that changes an order's status: it applies a row of
:data:`chalicelib.order_lifecycle.TRANSITIONS`.

Cancel, ship, deliver, pay, fail and expire (requests and webhooks), and the subscriber's
confirmation of a placed order all go through :func:`transition`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from chalicelib import discounts, transactions
from chalicelib.clock import now_iso
from chalicelib.models import Order, Product
from chalicelib.order_lifecycle import AWAITING_PAYMENT, Transition
from chalicelib.transactions import ConditionsFailed, Transaction


@dataclass(frozen=True)
class _Gone:
    """This product was deleted: there is no stock to give back."""

    product_id: str


def transition(
    order: Order,
    step: Transition,
    *,
    on_fail: Exception,
    condition: Condition | None = None,
    actions: Sequence[Action] = (),
    also: Callable[[Transaction], None] | None = None,
) -> str:
    """Change ``order``'s status by ``step``; returns the time stamped on it.

    One write, conditional on the order still being in one of ``step.sources`` (only
    in the status it was read in, when that was ``AWAITING_PAYMENT``: money depends on
    it) and on ``condition``. It stamps ``updatedAt``, sets (or, for the subscriber's
    confirmation, clears) the pending event, leaves the expiry index when the order
    stops awaiting payment, and gives every line's stock back in the same transaction
    when the table says so: every line, or (``restocks_returned``) the lines of the order's
    last return that its approval marked ``restock`` (a product deleted meanwhile is
    skipped), and gives the discount code's redemption back when it says so
    (chalicelib/discounts.py). ``actions`` are written with it, and ``also``'s operations
    (e.g. an audit entry) in the same transaction. A failed condition raises ``on_fail``;
    ``order`` is updated in memory only after the write succeeded.
    """
    at = now_iso()
    order_id = order.order_id
    settles_payment = order.status == AWAITING_PAYMENT or step.sources == (AWAITING_PAYMENT,)
    writes: list[Action] = [
        Order.status.set(step.target),
        Order.status_shard.set(Order.status_shard_for(order_id, step.target)),
        Order.updated_at.set(at),
    ]
    if step.event is None:
        writes += [Order.pending_event.remove(), Order.event_at.remove()]
    else:
        writes += [
            Order.pending_event.set(Order.pending_event_for(order_id, step.event)),
            Order.event_at.set(at),
        ]
    if settles_payment:
        writes += [Order.awaiting_shard.remove(), Order.payment_client_secret.remove()]
    writes += actions
    sources = (AWAITING_PAYMENT,) if order.status == AWAITING_PAYMENT else step.sources
    allowed: Condition = (
        Order.status == sources[0] if len(sources) == 1 else Order.status.is_in(*sources)
    )
    if condition is not None:
        allowed = allowed & condition
    restock = _restocked(order, step)
    releases = step.releases_discount and order.discount_code is not None
    if restock or releases or also is not None:
        _write_in_transaction(order, restock, writes, allowed, on_fail, also, releases)
    else:
        transactions.update_item(order, writes, condition=allowed, on_fail=on_fail)
    order.status = step.target
    order.status_shard = Order.status_shard_for(order_id, step.target)
    order.updated_at = at
    if step.event is None:
        order.pending_event = order.event_at = None
    else:
        order.pending_event = Order.pending_event_for(order_id, step.event)
        order.event_at = at
    if settles_payment:
        order.awaiting_shard = order.payment_client_secret = None
    return at


def _restocked(order: Order, step: Transition) -> dict[str, int]:
    """What ``step`` gives back: every line, or the return's lines its approval marked."""
    if step.restocks:
        return {line.product_id: int(line.quantity) for line in order.items}
    if step.restocks_returned and order.returns:
        chosen = order.returns[-1].lines
        return {line.product_id: int(line.quantity) for line in chosen if line.restock}
    return {}


def _write_in_transaction(
    order: Order,
    restock: dict[str, int],
    writes: list[Action],
    condition: Condition,
    on_fail: Exception,
    also: Callable[[Transaction], None] | None,
    releases: bool,
) -> None:
    """The status change, the stock given back, the discount's release and ``also``'s
    writes, in one transaction."""
    released: set[str] = set()  # what the release found nothing of, on an earlier try

    def build(tx: Transaction) -> None:
        tx.update(order, writes, condition=condition, on_fail=on_fail)
        if also is not None:
            also(tx)
        for product_id, quantity in restock.items():
            # version=0 only makes PynamoDB bump the version (ADD 1) instead of resetting it.
            product = Product(product_id, version=0)
            tx.update(product, [Product.stock.add(quantity)], on_fail=_Gone(product_id))
        if releases:
            discounts.release(tx, order, released)

    def drop_deleted_products(failed: ConditionsFailed) -> bool:
        # A product deleted since the order was placed has no stock to restore; a
        # redemption that is not there (anymore) has nothing to give back.
        gone = [m.product_id for m in failed.meanings if isinstance(m, _Gone)]
        for product_id in gone:
            del restock[product_id]
        missing = {m.what for m in failed.meanings if isinstance(m, discounts.NothingToRelease)}
        released.update(missing)
        return bool(gone or missing)

    transactions.write(build, retry_if=drop_deleted_products)
