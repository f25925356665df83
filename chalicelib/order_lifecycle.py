"""An order's lifecycle, as data (the one function that applies a row is
:func:`chalicelib.order_transitions.transition`).

:data:`STATUSES` lists every status with what it means; :data:`TRANSITIONS` every
allowed change: the statuses it starts from, the status it sets, the event it leaves
for the stream to publish, whether it gives the stock back, and whether the buyer is
emailed about that event. Everything else is derived from these two tables: the
stream publisher's status-change -> event mapping, the subscriber's event types and
buyer emails, the cancellable statuses, the admin's fulfilment steps, the ``status``
enums of the schemas and the status tables in docs/events.md and docs/api.md
(tests/unit/test_order_lifecycle.py checks them all against these tables).

A new status is one row in :data:`STATUSES`, its transition(s) in :data:`TRANSITIONS`,
its route (app.py) and its event's wording (chalicelib/notifications.py).

This module is data only (it imports no model and writes nothing), so the schemas, the
views and the email wording below the domain can read it.
"""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.config import get_settings

# --- statuses ----------------------------------------------------------------------

PENDING = "PENDING"
AWAITING_PAYMENT = "AWAITING_PAYMENT"
CONFIRMED = "CONFIRMED"
SHIPPED = "SHIPPED"
DELIVERED = "DELIVERED"
CANCELLED = "CANCELLED"
EXPIRED = "EXPIRED"
# After the sale (docs/api.md#returns): the buyer asks, staff decide, the goods come back.
RETURN_REQUESTED = "RETURN_REQUESTED"
RETURN_APPROVED = "RETURN_APPROVED"
RETURNED = "RETURNED"

# Status -> what it means (the docs' status tables are checked against this wording).
STATUSES: dict[str, str] = {
    PENDING: "placed; the subscriber confirms it (stages without a payment provider)",
    AWAITING_PAYMENT: "placed, its stock reserved until it is paid or its payment times out",
    CONFIRMED: "confirmed by the subscriber, or paid",
    SHIPPED: "on its way (an admin shipped it)",
    DELIVERED: "delivered (an admin marked it)",
    CANCELLED: "cancelled by its buyer or an admin, or its payment failed; stock given back",
    EXPIRED: "not paid in time; stock given back",
    RETURN_REQUESTED: "delivered; its buyer asked to return some lines (staff decide)",
    RETURN_APPROVED: "delivered; staff approved the return and wait for the goods",
    RETURNED: "the returned goods arrived: their lines were refunded, the chosen ones restocked",
}
ORDER_STATUSES = tuple(STATUSES)

# --- events ------------------------------------------------------------------------

ORDER_PLACED = "OrderPlaced"
ORDER_CANCELLED = "OrderCancelled"
ORDER_SHIPPED = "OrderShipped"
ORDER_DELIVERED = "OrderDelivered"
# With a payment provider (chalicelib/payment_flow.py): the webhook's success, and the timeout.
ORDER_PAID = "OrderPaid"
ORDER_EXPIRED = "OrderExpired"
RETURN_REQUESTED_EVENT = "ReturnRequested"
RETURN_APPROVED_EVENT = "ReturnApproved"
RETURN_REJECTED_EVENT = "ReturnRejected"
RETURN_RECEIVED_EVENT = "ReturnReceived"
# Announced without a change of status (see NOTICES): a refund that went through.
ORDER_REFUNDED = "OrderRefunded"

# --- transitions -------------------------------------------------------------------


@dataclass(frozen=True)
class Transition:
    """One allowed change of an order's status."""

    name: str
    sources: tuple[str, ...]  # () only for placing: a new order has no status yet
    target: str
    event: str | None  # left in ``pendingEvent`` for the stream; None: clears it
    restocks: bool = False  # every line's quantity goes back in the same transaction
    # Only the lines of the order's return that its approval marked ``restock`` go back.
    restocks_returned: bool = False
    releases_discount: bool = False  # the discount code's redemption is given back with it
    emails_buyer: bool = False  # the subscriber emails the buyer about ``event``
    with_payment: bool = False  # only on stages with a payment provider
    acknowledges: str | None = None  # the subscriber makes it when handling this event


PLACE = Transition("place", (), PENDING, ORDER_PLACED, emails_buyer=True)
PLACE_AWAITING_PAYMENT = Transition(
    "place awaiting payment", (), AWAITING_PAYMENT, ORDER_PLACED, with_payment=True
)
# The subscriber's handling of OrderPlaced: it acknowledges the event (and emails).
CONFIRM = Transition("confirm", (PENDING,), CONFIRMED, None, acknowledges=ORDER_PLACED)
PAY = Transition(
    "pay", (AWAITING_PAYMENT,), CONFIRMED, ORDER_PAID, emails_buyer=True, with_payment=True
)
FAIL = Transition(
    "fail",
    (AWAITING_PAYMENT,),
    CANCELLED,
    ORDER_CANCELLED,
    restocks=True,
    releases_discount=True,
    emails_buyer=True,
    with_payment=True,
)
EXPIRE = Transition(
    "expire",
    (AWAITING_PAYMENT,),
    EXPIRED,
    ORDER_EXPIRED,
    restocks=True,
    releases_discount=True,
    emails_buyer=True,
    with_payment=True,
)
CANCEL = Transition(
    "cancel",
    (PENDING, AWAITING_PAYMENT, CONFIRMED),
    CANCELLED,
    ORDER_CANCELLED,
    restocks=True,
    releases_discount=True,
    emails_buyer=True,
)
SHIP = Transition("ship", (CONFIRMED,), SHIPPED, ORDER_SHIPPED, emails_buyer=True)
DELIVER = Transition("deliver", (SHIPPED,), DELIVERED, ORDER_DELIVERED, emails_buyer=True)
REQUEST_RETURN = Transition(
    "request return", (DELIVERED,), RETURN_REQUESTED, RETURN_REQUESTED_EVENT
)
APPROVE_RETURN = Transition(
    "approve return",
    (RETURN_REQUESTED,),
    RETURN_APPROVED,
    RETURN_APPROVED_EVENT,
    emails_buyer=True,
)
REJECT_RETURN = Transition(
    "reject return", (RETURN_REQUESTED,), DELIVERED, RETURN_REJECTED_EVENT, emails_buyer=True
)
RECEIVE_RETURN = Transition(
    "receive return",
    (RETURN_APPROVED,),
    RETURNED,
    RETURN_RECEIVED_EVENT,
    restocks_returned=True,
    emails_buyer=True,
)

TRANSITIONS: tuple[Transition, ...] = (
    PLACE,
    PLACE_AWAITING_PAYMENT,
    CONFIRM,
    PAY,
    FAIL,
    EXPIRE,
    CANCEL,
    SHIP,
    DELIVER,
    REQUEST_RETURN,
    APPROVE_RETURN,
    REJECT_RETURN,
    RECEIVE_RETURN,
)

# Events announced by a write that leaves the status as it is: the write sets
# ``pendingEvent`` to the event with a new ``eventAt`` (chalicelib/publisher.py).
NOTICES: tuple[str, ...] = (ORDER_REFUNDED,)
# Statuses of an order that was paid (or, without a provider, confirmed): it can be refunded.
REFUNDABLE: tuple[str, ...] = (
    CONFIRMED,
    SHIPPED,
    DELIVERED,
    RETURN_REQUESTED,
    RETURN_APPROVED,
    RETURNED,
)

# --- derived -----------------------------------------------------------------------

CANCELLABLE = CANCEL.sources
# Fulfilment steps an admin takes: the status it sets -> the transition.
FULFILMENT_STEPS: dict[str, Transition] = {SHIP.target: SHIP, DELIVER.target: DELIVER}


def _events(with_payment: bool) -> tuple[str, ...]:
    found: list[str] = []
    for step in TRANSITIONS:
        if step.event and step.with_payment == with_payment and step.event not in found:
            found.append(step.event)
    return tuple(found)


# The event types every stage produces, and those only a payment provider adds.
EVENT_TYPES = _events(with_payment=False) + NOTICES
PAYMENT_EVENT_TYPES = tuple(e for e in _events(with_payment=True) if e not in EVENT_TYPES)
# The event an order's new status announces, where the status alone says it.
STATUS_EVENTS: dict[str, str] = {
    step.target: step.event
    for step in TRANSITIONS
    if step.event
    and not step.with_payment
    and {s.event for s in TRANSITIONS if s.target == step.target and not s.with_payment}
    == {step.event}
}
# The subscriber's own transition for an event (None: it only acknowledges it).
ACKNOWLEDGED_BY: dict[str, Transition] = {
    step.acknowledges: step for step in TRANSITIONS if step.acknowledges
}
# The status each buyer-emailed event leaves the order in (a retried email needs it).
BUYER_EMAIL_STATUS: dict[str, str] = {
    event: ACKNOWLEDGED_BY[event].target if event in ACKNOWLEDGED_BY else step.target
    for step in TRANSITIONS
    if (event := step.event) and step.emails_buyer
}


def _event_by_target() -> dict[str, str]:
    """Statuses every transition into which announces the same event."""
    by_target: dict[str, set[str | None]] = {}
    for step in TRANSITIONS:
        by_target.setdefault(step.target, set()).add(step.event)
    unambiguous: dict[str, str] = {}
    for target, found in by_target.items():
        (event, *others) = found
        if event is not None and not others:
            unambiguous[target] = event
    return unambiguous


_EVENT_BY_TARGET = _event_by_target()


def announced(old_status: str | None, new_status: str | None) -> str | None:
    """The event a change of an order's status announces (``old_status`` None: a new order)."""
    if new_status is None or new_status == old_status:
        return None
    for step in TRANSITIONS:
        if step.target == new_status and (
            old_status in step.sources if old_status is not None else not step.sources
        ):
            return step.event
    # A change the table does not name (e.g. a status written by hand): the status decides.
    return _EVENT_BY_TARGET.get(new_status)


def stage_event_types() -> tuple[str, ...]:
    """The event types this stage can produce: payment events only with a payment provider."""
    if get_settings().payment_provider == "none":
        return EVENT_TYPES
    return EVENT_TYPES + PAYMENT_EVENT_TYPES
