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

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from pynamodb.expressions.condition import Condition

from chalicelib import transactions
from chalicelib.auth import Principal, principal_from_token
from chalicelib.clock import now_iso
from chalicelib.encoding import json_number
from chalicelib.errors import Conflict, NotFound, ServiceBusy, ValidationError
from chalicelib.models import CartLine, CartRecord, Product
from chalicelib.orders import commit_order, idempotency_key, stored_replay
from chalicelib.schemas import MAX_CART_LINES, is_id
from chalicelib.text import echo
from chalicelib.transactions import ConditionsFailed, Transaction
from chalicelib.users import authenticate_with

CART_TTL = timedelta(days=30)
_CART_CHANGED = "cart changed"  # the cart was edited between the checkout's read and write
_WRITE_ATTEMPTS = 3


class CartEmpty(Conflict):
    code = "CartEmpty"


class ProductGone(Conflict):
    code = "ProductDeleted"


def authenticate(token: str | None) -> tuple[Principal, CartRecord | None]:
    """The caller and their cart (``None``: empty), from one ``BatchGetItem``."""
    user_id = principal_from_token(token).user_id
    caller, _, cart = authenticate_with(token, CartRecord, CartRecord.key_for(user_id))
    return caller, cart


def _quantities(cart: CartRecord | None) -> dict[str, int]:
    return {line.product_id: int(line.quantity) for line in (cart.lines if cart else [])}


def cart_view(
    cart: CartRecord | None, products: dict[str, Product] | None = None
) -> dict[str, Any]:
    """The cart priced from the catalogue; reads the products unless given."""
    quantities = _quantities(cart)
    if not quantities or cart is None:
        return {"items": [], "total": 0, "updatedAt": None}
    if products is None:
        products = {p.product_id: p for p in Product.batch_get(list(quantities))}
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
                "unitPrice": json_number(product.price),
                "quantity": quantity,
                "lineTotal": json_number(line_total),
                "available": int(product.stock) >= quantity,
            }
        )
    return {"items": items, "total": json_number(total), "updatedAt": cart.updated_at}


def get_cart(token: str | None) -> dict[str, Any]:
    """Two calls: profile and cart in one batch, then one batch of the products."""
    _, cart = authenticate(token)
    return cart_view(cart)


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
    transactions.put_item(cart, condition=condition, on_fail=Conflict("cart changed"))
    return cart


def _edit(
    token: str | None,
    change: Callable[[dict[str, int]], object],
    check: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """Apply ``change`` to the cart's quantities and save; ``check`` runs after sign-in."""
    for attempt in range(_WRITE_ATTEMPTS):
        caller, read = authenticate(token)
        if check is not None and attempt == 0:
            check()
        quantities = _quantities(read)
        change(quantities)
        try:
            if quantities:
                saved: CartRecord | None = _save(caller, read, quantities)
            else:
                saved = None
                if read is not None:
                    _clear_if_unchanged(read)
        except Conflict:
            continue  # edited concurrently: read it again and re-apply this change
        return cart_view(saved)
    raise ServiceBusy("the cart is being changed concurrently; please retry")


def _clear_if_unchanged(read: CartRecord) -> None:
    def build(tx: Transaction) -> None:
        tx.delete(
            CartRecord(read.pk),
            condition=CartRecord.updated_at == read.updated_at,
            on_fail=Conflict("cart changed"),
        )

    transactions.write(build)


def set_line(token: str | None, product_id: str, quantity: int) -> dict[str, Any]:
    """``quantity`` has passed the ``CartLineSet`` schema."""

    def change(quantities: dict[str, int]) -> None:
        if product_id not in quantities and len(quantities) >= MAX_CART_LINES:
            raise ValidationError(f"a cart holds at most {MAX_CART_LINES} different products")
        quantities[product_id] = quantity

    def exists() -> None:
        if not is_id(product_id) or not list(Product.batch_get([product_id])):
            raise NotFound(f"product {echo(product_id)} not found")

    return _edit(token, change, exists)


def remove_line(token: str | None, product_id: str) -> dict[str, Any]:
    """A line that is not in the cart is fine; an id no product can have is a 404."""

    def valid() -> None:
        if not is_id(product_id):
            raise NotFound(f"product {echo(product_id)} not found")

    return _edit(token, lambda quantities: quantities.pop(product_id, None), valid)


def clear(token: str | None) -> None:
    caller, _ = authenticate(token)
    CartRecord(CartRecord.key_for(caller.user_id)).delete()


def checkout(token: str | None, key: str | None) -> tuple[dict[str, Any], bool]:
    """The order (as ``POST /orders`` answers) and whether it was created now."""
    caller, cart = authenticate(token)
    owner = caller.user_id
    idem_key = idempotency_key(owner, key) if key is not None else None
    request_hash = "cart-checkout"  # the same key replays whatever the cart holds now
    quantities = _quantities(cart)
    if cart is None or not quantities:
        # A retry after the first checkout emptied the cart answers with that order.
        replay = stored_replay(caller, idem_key, request_hash) if idem_key else None
        if replay is not None:
            return replay, False
        raise CartEmpty("the cart is empty")
    products = {p.product_id: p for p in Product.batch_get(list(quantities), consistent_read=True)}
    gone = [pid for pid in quantities if pid not in products]
    if gone:
        replay = stored_replay(caller, idem_key, request_hash) if idem_key else None
        if replay is not None:
            return replay, False
        raise ProductGone(
            f"product(s) no longer sold: {', '.join(gone)}; remove them from the cart",
            productIds=gone,
        )

    def empty_cart(tx: Transaction) -> None:
        tx.delete(
            CartRecord(cart.pk),
            condition=CartRecord.updated_at == cart.updated_at,
            on_fail=_CART_CHANGED,
        )

    try:
        return commit_order(caller, owner, quantities, products, idem_key, request_hash, empty_cart)
    except ConditionsFailed as failed:
        if _CART_CHANGED in failed.meanings:
            raise Conflict("the cart changed during checkout; review it and retry") from None
        raise
