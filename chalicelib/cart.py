"""Each signed-in user's cart, and its checkout as one order transaction.

The cart is one item in the users table (``CART#<userId>``, see
:class:`chalicelib.models.CartRecord`), so the caller's profile and cart come
back from one ``BatchGetItem``. It stores product ids and quantities only:
names and prices are always the catalogue's current ones. Every change is a
conditional put on the ``updatedAt`` read, so two tabs editing one cart cannot
lose each other's lines; each change pushes the TTL 30 days out.

Checkout is at most three calls: the profile and cart (one batch), the
products (one batch), and one ``TransactWriteItems`` holding the token check,
the idempotency record, every stock decrement, the order, and the deletion of
the cart conditional on it being the cart that was read.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.condition import Condition
from pynamodb.models import Model

from chalicelib import money, pricing, transactions
from chalicelib.addresses import book_address
from chalicelib.auth import Principal
from chalicelib.clock import now_iso
from chalicelib.errors import (
    CartChanged,
    CartEmpty,
    NotFound,
    ProductGone,
    ServiceBusy,
    ValidationError,
)
from chalicelib.models import AddressBook, CartLine, CartRecord, Product, is_product_key
from chalicelib.orders import (
    CART_ROUTE,
    Delivery,
    NewOrder,
    UnknownProducts,
    idempotency,
    parse_discount_code,
    place,
    quote,
    replay_if_any,
)
from chalicelib.rates import NO_TAX, check_country
from chalicelib.schemas import MAX_CART_LINES, SHIPPING_METHOD_PATTERN, is_id
from chalicelib.text import echo
from chalicelib.transactions import ConditionsFailed, Transaction

CART_TTL = timedelta(days=30)
MAX_REGION_LENGTH = 100  # as an address's region (schemas.ADDRESS_PROPERTIES)
SHIPPING_METHOD = re.compile(SHIPPING_METHOD_PATTERN)
_WRITE_ATTEMPTS = 3


@dataclass(frozen=True)
class CartEdited:
    """The cart was edited between the checkout's read and its transaction."""


def cart_key(user_id: str) -> str:
    """The users-table key of this user's cart (read with their profile, in app.py)."""
    return CartRecord.key_for(user_id)


def _read(caller: Principal) -> CartRecord | None:
    try:
        return CartRecord.get(CartRecord.key_for(caller.user_id), consistent_read=True)
    except DoesNotExist:
        return None


def _quantities(cart: CartRecord | None) -> dict[str, int]:
    return {line.product_id: int(line.quantity) for line in (cart.lines if cart else [])}


def cart_view(
    cart: CartRecord | None,
    products: dict[str, Product] | None = None,
    destination: Destination | None = None,
) -> dict[str, Any]:
    """The cart priced from the catalogue, with ``totals`` for ``destination`` or else the
    buyer's default address (see :func:`_totals`); reads the products and the address book
    in one batch."""
    quantities = _quantities(cart)
    if not quantities or cart is None:
        return {
            "items": [],
            "total": money.text(0),
            "currency": money.CURRENCY,
            "updatedAt": None,
            "totals": pricing.price([], None, NO_TAX).view(),
            "totalsFor": None,
        }
    book: AddressBook | None = None
    if products is None:
        keys: list[tuple[type[Model], str]] = [(Product, pid) for pid in quantities]
        keys.append((AddressBook, AddressBook.key_for(cart.user_id)))
        *found, read_book = transactions.batch_get(keys)
        products = {p.product_id: p for p in found if isinstance(p, Product)}
        book = read_book if isinstance(read_book, AddressBook) else None
    items: list[dict[str, Any]] = []
    total = Decimal("0")
    for product_id, quantity in quantities.items():
        product = products.get(product_id)
        if product is None:
            items.append(
                {
                    "productId": product_id,
                    "name": None,
                    "unitPrice": None,
                    "quantity": quantity,
                    "lineTotal": None,
                    "available": False,
                }
            )
            continue
        line_total = product.price * quantity
        total += line_total
        items.append(
            {
                "productId": product_id,
                "name": product.name,
                "unitPrice": money.text(product.price),
                "quantity": quantity,
                "lineTotal": money.text(line_total),
                "available": int(product.stock) >= quantity,
            }
        )
    priced = {pid: q for pid, q in quantities.items() if pid in products}
    address: Mapping[str, str] | None = book_address(book, None)
    method_id = None
    if destination is not None:
        address = destination.address or address
        method_id = destination.method_id
    totals, priced_for = _totals(priced, products, address, method_id)
    return {
        "items": items,
        "total": money.text(total),
        "currency": money.CURRENCY,
        "updatedAt": cart.updated_at,
        "totals": totals,
        "totalsFor": priced_for,
    }


def _totals(
    quantities: Mapping[str, int],
    products: Mapping[str, Product],
    address: Mapping[str, str] | None,
    method_id: str | None,
) -> tuple[dict[str, str], dict[str, str] | None]:
    """What checkout would charge for the products still sold: priced for ``address`` and
    the method (default: the cheapest); without an address (or one the shop does not ship
    to), shipping and tax are 0 and ``totalsFor`` is None."""
    if address is not None:
        try:
            method, totals = quote(quantities, products, address, method_id)
        except ValidationError:
            if method_id is not None:
                raise  # a method the caller chose that does not serve the destination
            # nothing ships there: checkout will say so, with the field
        else:
            where = {"country": address["country"], "shippingMethod": method.method_id}
            if address.get("region"):
                where["region"] = address["region"]
            return totals.view(), where
    lines = [pricing.Line(pid, q, products[pid].price) for pid, q in quantities.items()]
    return pricing.price(lines, None, NO_TAX).view(), None


@dataclass(frozen=True)
class Destination:
    """Where the buyer asks the cart to be priced for (``GET /cart?country=&region=&
    shippingMethod=``): the country and region are all tax and shipping depend on."""

    address: Mapping[str, str] | None
    method_id: str | None

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> Destination | None:
        if not {"country", "region", "shippingMethod"} & set(query):
            return None
        address = None
        if "country" in query:
            address = {"country": check_country(query["country"])}
            region = query.get("region", "")
            if len(region) > MAX_REGION_LENGTH or not region.isprintable():
                raise ValidationError(
                    f"region must be at most {MAX_REGION_LENGTH} printable characters",
                    field="region",
                )
            if region.strip():
                address["region"] = region.strip().upper()
        elif "region" in query:
            raise ValidationError("region needs a country", field="region")
        method_id = query.get("shippingMethod")
        if method_id is not None and not SHIPPING_METHOD.fullmatch(method_id):
            raise ValidationError("shippingMethod is not a method id", field="shippingMethod")
        return cls(address, method_id)


def get_cart(cart: CartRecord | None, query: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Two calls: profile and cart in one batch (app.py), then one batch of the products
    and the address book. ``query``: price it for a destination (:class:`Destination`)."""
    return cart_view(cart, destination=Destination.from_query(query or {}))


def _save(caller: Principal, read: CartRecord | None, quantities: dict[str, int]) -> CartRecord:
    """Replace the cart, conditional on it being the one read."""
    now = now_iso()
    cart = CartRecord(
        CartRecord.key_for(caller.user_id),
        user_id=caller.user_id,
        lines=[CartLine(product_id=pid, quantity=q) for pid, q in quantities.items()],
        updated_at=now,
        expires_at=datetime.now(UTC) + CART_TTL,
    )
    condition: Condition
    if read is None:
        condition = CartRecord.pk.does_not_exist()
    else:
        condition = CartRecord.updated_at == read.updated_at
    transactions.put_item(cart, condition=condition, on_fail=CartChanged("cart changed"))
    return cart


def _edit(
    caller: Principal,
    cart: CartRecord | None,
    change: Callable[[dict[str, int]], object],
    check: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """Apply ``change`` to the cart (as read with the caller's profile) and save; a cart
    edited concurrently is read again and the change re-applied."""
    if check is not None:
        check()
    read = cart
    for attempt in range(_WRITE_ATTEMPTS):
        if attempt:
            read = _read(caller)
        quantities = _quantities(read)
        change(quantities)
        try:
            if quantities:
                saved: CartRecord | None = _save(caller, read, quantities)
            else:
                saved = None
                if read is not None:
                    _clear_if_unchanged(read)
        except CartChanged:
            continue  # edited concurrently: read it again and re-apply this change
        return cart_view(saved)
    raise ServiceBusy("the cart is being changed concurrently; please retry")


def _clear_if_unchanged(read: CartRecord) -> None:
    def build(tx: Transaction) -> None:
        tx.delete(
            CartRecord(read.pk),
            condition=CartRecord.updated_at == read.updated_at,
            on_fail=CartChanged("cart changed"),
        )

    transactions.write(build)


def set_line(
    caller: Principal, cart: CartRecord | None, product_id: str, quantity: int
) -> dict[str, Any]:
    """``quantity`` has passed the ``CartLineSet`` schema."""

    def change(quantities: dict[str, int]) -> None:
        if product_id not in quantities and len(quantities) >= MAX_CART_LINES:
            raise ValidationError(f"a cart holds at most {MAX_CART_LINES} different products")
        quantities[product_id] = quantity

    def exists() -> None:
        if (
            not is_id(product_id)
            or not is_product_key(product_id)
            or not list(Product.batch_get([product_id]))
        ):
            raise NotFound(f"product {echo(product_id)} not found")

    return _edit(caller, cart, change, exists)


def remove_line(caller: Principal, cart: CartRecord | None, product_id: str) -> dict[str, Any]:
    """A line that is not in the cart is fine; an id no product can have is a 404."""

    def valid() -> None:
        if not is_id(product_id):
            raise NotFound(f"product {echo(product_id)} not found")

    return _edit(caller, cart, lambda quantities: quantities.pop(product_id, None), valid)


def clear(caller: Principal) -> None:
    CartRecord(CartRecord.key_for(caller.user_id)).delete()


def checkout(
    caller: Principal,
    cart: CartRecord | None,
    key: str | None,
    body: Mapping[str, Any] | None = None,
) -> tuple[dict[str, Any], bool]:
    """The order (as ``POST /orders`` answers) and whether it was created now.

    ``body``: the ``CartCheckout`` fields (``expectedTotal``, where and how it ships).
    An ``Idempotency-Key`` stands for the cart's content and delivery: the same key with a
    different cart is a 422; a retry after the first checkout emptied the cart replays
    that order.
    """
    body = body or {}
    lines = _quantities(cart)
    expected_total = body.get("expectedTotal")
    delivery = Delivery.from_body(body)
    code = parse_discount_code(body.get("discountCode"))
    request = NewOrder(
        caller,
        caller.user_id,
        lines,
        idempotency(CART_ROUTE, caller.user_id, key, lines, delivery, code),
        expected_total=(
            None
            if expected_total is None
            else money.parse(expected_total, "expectedTotal", maximum=money.MAX_TOTAL)
        ),
        replay_any_body=not lines,
        delivery=delivery,
        discount_code=code,
    )
    if cart is None or not lines:
        replay = replay_if_any(request)
        if replay is not None:
            return replay, False
        raise CartEmpty("the cart is empty")

    def empty_cart(tx: Transaction) -> None:
        tx.delete(
            CartRecord(cart.pk),
            condition=CartRecord.updated_at == cart.updated_at,
            on_fail=CartEdited(),
        )

    try:
        return place(request, caller_checked=True, also=empty_cart)
    except UnknownProducts as unknown:
        raise ProductGone(
            f"product(s) no longer sold: {', '.join(map(echo, unknown.product_ids))}; "
            "remove them from the cart",
            productIds=unknown.product_ids,
        ) from None
    except ConditionsFailed as failed:
        if CartEdited() in failed.meanings:
            raise CartChanged("the cart changed during checkout; review it and retry") from None
        raise
