"""Order events as people read them: plain-text emails, rendered from the order's API view.

Two audiences, one layout. The topic's email subscribers (the shop's staff) get one
message per event through SNS; the buyer gets one through SES when their order changes
state. Both are built here from :func:`chalicelib.order_view.order_view`, so what a
person reads matches what the API returns.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from chalicelib.money import display
from chalicelib.order_lifecycle import (
    ORDER_CANCELLED,
    ORDER_DELIVERED,
    ORDER_EXPIRED,
    ORDER_PAID,
    ORDER_PLACED,
    ORDER_REFUNDED,
    ORDER_SHIPPED,
    RETURN_APPROVED_EVENT,
    RETURN_RECEIVED_EVENT,
    RETURN_REJECTED_EVENT,
    RETURN_REQUESTED_EVENT,
)

# SNS: "less than 100 characters" (the API reference); SES has no tighter limit.
MAX_SUBJECT = 99
SHORT_ID = 8


@dataclass(frozen=True)
class Email:
    subject: str
    text: str


@dataclass(frozen=True)
class _Wording:
    staff_subject: str  # .format(short_id=...)
    staff_headline: str  # .format(order_id=...)
    buyer_subject: str
    buyer_headline: str
    time_label: str


_WORDING: dict[str, _Wording] = {
    ORDER_PLACED: _Wording(
        staff_subject="New order {short_id}",
        staff_headline="A new order was placed: {order_id}",
        buyer_subject="Your order {short_id} is confirmed",
        buyer_headline="Thank you for your order {order_id}. It is confirmed.",
        time_label="Placed",
    ),
    ORDER_CANCELLED: _Wording(
        staff_subject="Order {short_id} cancelled",
        staff_headline="Order {order_id} was cancelled; its stock is back on sale.",
        buyer_subject="Your order {short_id} is cancelled",
        buyer_headline="Your order {order_id} is cancelled. Nothing will be shipped.",
        time_label="Cancelled",
    ),
    ORDER_SHIPPED: _Wording(
        staff_subject="Order {short_id} shipped",
        staff_headline="Order {order_id} was shipped.",
        buyer_subject="Your order {short_id} has shipped",
        buyer_headline="Good news: your order {order_id} is on its way.",
        time_label="Shipped",
    ),
    ORDER_DELIVERED: _Wording(
        staff_subject="Order {short_id} delivered",
        staff_headline="Order {order_id} was delivered.",
        buyer_subject="Your order {short_id} was delivered",
        buyer_headline="Your order {order_id} was delivered. Enjoy!",
        time_label="Delivered",
    ),
    # With a payment provider (docs/payments.md).
    ORDER_PAID: _Wording(
        staff_subject="Order {short_id} paid",
        staff_headline="Order {order_id} was paid and is confirmed.",
        buyer_subject="Your payment for order {short_id} was received",
        buyer_headline="We received your payment: order {order_id} is confirmed.",
        time_label="Paid",
    ),
    ORDER_EXPIRED: _Wording(
        staff_subject="Order {short_id} expired unpaid",
        staff_headline="Order {order_id} was not paid in time; its stock is back on sale.",
        buyer_subject="Your order {short_id} expired",
        buyer_headline="Your order {order_id} was not paid in time and has expired.",
        time_label="Expired",
    ),
    # After the sale (docs/api.md#refunds, #returns).
    RETURN_REQUESTED_EVENT: _Wording(
        staff_subject="Return requested for order {short_id}",
        staff_headline="The buyer of order {order_id} asked to return some of it: decide.",
        buyer_subject="We received your return request for order {short_id}",
        buyer_headline="We received your request to return part of order {order_id}.",
        time_label="Requested",
    ),
    RETURN_APPROVED_EVENT: _Wording(
        staff_subject="Return of order {short_id} approved",
        staff_headline="The return of order {order_id} was approved; the goods are awaited.",
        buyer_subject="Your return for order {short_id} is approved",
        buyer_headline="Your return for order {order_id} is approved: please send the goods"
        " back. We refund them when they arrive.",
        time_label="Approved",
    ),
    RETURN_REJECTED_EVENT: _Wording(
        staff_subject="Return of order {short_id} rejected",
        staff_headline="The return of order {order_id} was rejected.",
        buyer_subject="Your return for order {short_id} was not accepted",
        buyer_headline="We could not accept your return for order {order_id}.",
        time_label="Decided",
    ),
    RETURN_RECEIVED_EVENT: _Wording(
        staff_subject="Return of order {short_id} received",
        staff_headline="The returned goods of order {order_id} arrived and were refunded.",
        buyer_subject="Your return for order {short_id} arrived",
        buyer_headline="The goods you returned from order {order_id} arrived. Their refund"
        " follows in a separate email.",
        time_label="Received",
    ),
    ORDER_REFUNDED: _Wording(
        staff_subject="Order {short_id} refunded",
        staff_headline="A refund of order {order_id} went through.",
        buyer_subject="A refund for your order {short_id}",
        buyer_headline="We refunded part or all of your order {order_id}.",
        time_label="Refunded",
    ),
}
RENDERED_EVENT_TYPES = tuple(_WORDING)
_LABEL_WIDTH = 2 + max(len(w.time_label) for w in _WORDING.values())


def money(amount: Any) -> str:
    """An amount of an order view (``"34.00"``) as people read it: ``"34.00 USD"``."""
    return display(Decimal(str(amount)))


def short_id(order_id: str) -> str:
    return order_id if len(order_id) <= SHORT_ID else order_id[:SHORT_ID] + "…"


def _item_count(view: dict[str, Any]) -> int:
    return sum(int(line["quantity"]) for line in view["items"])


def _subject(stem: str, view: dict[str, Any], with_items: bool) -> str:
    count = _item_count(view)
    items = f"{count} item{'' if count == 1 else 's'}, " if with_items else ""
    subject = f"{stem} — {items}{money(view['total'])}"
    # Only a pathological id could overflow; SNS and SES must never reject the send.
    return subject if len(subject) <= MAX_SUBJECT else subject[: MAX_SUBJECT - 1] + "…"


def _event_time(event_type: str, view: dict[str, Any]) -> str:
    if event_type == ORDER_PLACED:
        return str(view["createdAt"])
    return str(view.get("updatedAt") or view["createdAt"])


def _lines(view: dict[str, Any]) -> list[str]:
    rows = [
        (
            str(line["quantity"]),
            str(line["name"]),
            money(line["unitPrice"]),
            money(line["lineTotal"]),
        )
        for line in view["items"]
    ]
    header = ("Qty", "Item", "Unit price", "Line total")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(4)]

    def layout(row: tuple[str, str, str, str]) -> str:
        return (
            f"  {row[0]:>{widths[0]}}  {row[1]:<{widths[1]}}  "
            f"{row[2]:>{widths[2]}}  {row[3]:>{widths[3]}}"
        ).rstrip()

    return [layout(header), *(layout(row) for row in rows)]


def _body(headline: str, event_type: str, view: dict[str, Any], greeting: str | None) -> str:
    wording = _WORDING[event_type]
    parts = [f"{greeting}\n" if greeting else "", headline, ""]
    labelled = [
        ("Order:", view["orderId"]),
        ("Buyer:", view["userId"]),
        (wording.time_label + ":", _event_time(event_type, view)),
    ]
    parts += [f"{label:<{_LABEL_WIDTH}}{value}" for label, value in labelled]
    parts += ["", *_lines(view), "", *_breakdown(view), "", *_delivery(view)]
    return "\n".join(parts).lstrip("\n")


def _breakdown(view: dict[str, Any]) -> list[str]:
    """Subtotal, shipping, tax, a discount if any, and the total (legacy orders: the total)."""
    totals = view.get("totals")
    if not totals or view.get("legacy"):
        return [f"{'Total:':<{_LABEL_WIDTH}}{money(view['total'])}"]
    rows = [("Subtotal:", totals["subtotal"]), ("Shipping:", totals["shipping"]),
            ("Tax:", totals["tax"])]  # fmt: skip
    if Decimal(totals["discount"]):
        rows.append(("Discount:", "-" + money(totals["discount"])))
    rows.append(("Total:", totals["total"]))
    return [
        f"{label:<{_LABEL_WIDTH}}{value if value.startswith('-') else money(value)}"
        for label, value in rows
    ]


def _delivery(view: dict[str, Any]) -> list[str]:
    """Where and how it ships, and the parcel once shipped.

    The address is what the buyer typed: it is quoted, indented under a label that says
    so, one field a line (no field can hold a line break), never woven into a sentence,
    so it cannot read as the shop's own words.
    """
    lines: list[str] = []
    method = view.get("shippingMethod")
    if method:
        lines.append(f"{'Delivery:':<{_LABEL_WIDTH}}{method['name']}")
    address = view.get("shippingAddress")
    if address:
        lines.append("Ship to (as entered):")
        city = " ".join(
            part for part in (address.get("city"), address.get("region"),
                              address.get("postalCode")) if part
        )  # fmt: skip
        fields = [address.get("name"), address.get("line1"), address.get("line2"), city,
                  address.get("country")]  # fmt: skip
        lines += [f"  | {value}" for value in fields if value]
    parcel = view.get("fulfilment")
    if parcel:
        lines += [
            f"{label:<{_LABEL_WIDTH}}{value}"
            for label, value in (
                ("Carrier:", parcel.get("carrier")),
                ("Tracking:", parcel.get("trackingNumber")),
            )
            if value
        ]
    return [*lines, ""] if lines else []


def staff_email(event_type: str, view: dict[str, Any]) -> Email:
    """What the topic's email subscribers read (the SNS ``email`` form)."""
    wording = _WORDING[event_type]
    stem = wording.staff_subject.format(short_id=short_id(view["orderId"]))
    headline = wording.staff_headline.format(order_id=view["orderId"])
    return Email(_subject(stem, view, with_items=True), _body(headline, event_type, view, None))


def buyer_recipient(email: str, verified: bool | None) -> str | None:
    """Where a buyer email may go: only to an address its owner verified (None: nowhere).

    Order emails carry text other users typed (product names), and the account's own
    name: an unverified address could be anybody's, so it gets none of them.
    """
    return email if verified else None


def buyer_email(event_type: str, view: dict[str, Any]) -> Email:
    """What the buyer reads (sent through SES by the subscriber).

    No greeting with the account's name: a name is whatever the registrant typed, and
    at the top of the email it would read as the shop's own words.
    """
    wording = _WORDING[event_type]
    stem = wording.buyer_subject.format(short_id=short_id(view["orderId"]))
    headline = wording.buyer_headline.format(order_id=view["orderId"])
    body = _body(headline, event_type, view, "Hello,")
    return Email(_subject(stem, view, with_items=False), body)


def refund_email(view: dict[str, Any], refund: dict[str, Any]) -> Email:
    """What the buyer reads about one refund that went through (one email per refund)."""
    amount = money(refund["amount"])
    stem = f"We refunded {amount} for your order {short_id(view['orderId'])}"
    subject = stem if len(stem) <= MAX_SUBJECT else stem[: MAX_SUBJECT - 1] + "…"
    headline = (
        f"We refunded {amount} of your order {view['orderId']}. It reaches your account"
        " the way you paid."
    )
    body = _body(headline, ORDER_REFUNDED, view, "Hello,")
    reason = str(refund["reason"]).replace("_", " ")
    extra = [
        f"{'Refund:':<{_LABEL_WIDTH}}{refund['refundId']}",
        f"{'Reason:':<{_LABEL_WIDTH}}{reason}",
        f"{'Refunded:':<{_LABEL_WIDTH}}{money(view.get('amountRefunded', refund['amount']))}"
        " in all",
        "",
    ]
    return Email(subject, body + "\n".join(extra))
