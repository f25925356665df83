"""Orders: placed atomically, read by owner or admin, cancelled exactly once.

Placing an order (:class:`NewOrder`, whichever route places it) costs two DynamoDB
calls whatever its size: one consistent ``BatchGetItem`` for the products (names and
prices come from the catalogue, never from the client) and, with an
``Idempotency-Key``, its record and the caller's profile; then one
``TransactWriteItems`` holding every stock decrement (each conditional on enough
stock), the order, the idempotency record and a check that the buyer still exists
with an unrevoked token. A replay found by the read costs the order's ``GetItem``
instead: it answers with the order as it is now.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from pynamodb.exceptions import DoesNotExist
from pynamodb.models import Model

from chalicelib import audit, discounts, money, payments, pricing, rates, transactions
from chalicelib.addresses import book_address, parse_address
from chalicelib.auth import Principal
from chalicelib.clock import iso_z, now_iso
from chalicelib.config import get_settings
from chalicelib.errors import (
    Forbidden,
    IdempotencyMismatch,
    InsufficientStock,
    InvalidTransition,
    NotFound,
    PriceChanged,
    Unauthorized,
    ValidationError,
)
from chalicelib.models import (
    AWAITING_PAYMENT_KEY,
    IDEMPOTENCY_PREFIX,
    ORDER_LIST_PARTITION,
    AddressBook,
    DiscountCode,
    IdempotencyRecord,
    Order,
    OrderLine,
    Product,
    UserRecord,
    is_product_key,
)
from chalicelib.observability import metric
from chalicelib.order_lifecycle import (
    AWAITING_PAYMENT,
    CANCEL,
    CANCELLABLE,
    CONFIRMED,
    DELIVERED,
    FULFILMENT_STEPS,
    ORDER_PLACED,
    ORDER_STATUSES,
    PENDING,
)
from chalicelib.order_transitions import transition
from chalicelib.order_view import order_view
from chalicelib.pagination import paginate
from chalicelib.roles import ADMIN
from chalicelib.schemas import MAX_ID_LENGTH, MAX_QUANTITY, is_id
from chalicelib.shards import PageRead, merged_page, shard_keys, sharded_key
from chalicelib.text import echo, first_forbidden
from chalicelib.transactions import ConditionsFailed, Transaction

logger = logging.getLogger(__name__)

IDEMPOTENCY_WINDOW = timedelta(hours=24)
ORDERS_ROUTE = "orders"  # what an Idempotency-Key was sent to: POST /orders, or
CART_ROUTE = "cart"  # POST /cart/checkout
MAX_IDEMPOTENCY_KEY_LENGTH = 255


# What a failed condition in an order transaction means, where it is not a plain error.
@dataclass(frozen=True)
class Replay:
    """The idempotency record exists: answer with the order it names."""


@dataclass(frozen=True)
class AlreadyPlaced:
    """The new order's id exists: only this request's own earlier attempt can have written
    it (botocore resent the transaction after its answer was lost), so the order is placed."""


@dataclass(frozen=True)
class StaleCaller:
    """The caller ordering for someone else is revoked or no longer an admin (read to tell)."""


@dataclass(frozen=True)
class ShortOf:
    """Not enough stock of this product (or it was deleted since it was read)."""

    product_id: str


class UnknownProducts(ValidationError):
    """Products the order names that the catalogue does not hold (any more)."""

    def __init__(self, product_ids: list[str]) -> None:
        shown = ", ".join(map(echo, product_ids))
        super().__init__(f"unknown product(s): {shown}", productIds=product_ids)
        self.product_ids = product_ids


@dataclass(frozen=True)
class Idempotency:
    """An ``Idempotency-Key`` as stored: its record's key and the request it stands for."""

    key: str
    request_hash: str
    legacy_hashes: tuple[str, ...] = ()  # what records written before this hash carry (24 h)


@dataclass(frozen=True)
class Delivery:
    """Where and how an order ships, as the request says: an address typed in
    (``shippingAddress``, parsed), or one of the buyer's book (``addressId``; neither: the
    book's default), and a method id (``None``: the cheapest, :func:`rates.method_for`)."""

    address: Mapping[str, str] | None = None
    address_id: str | None = None
    method_id: str | None = None

    @classmethod
    def from_body(cls, data: Mapping[str, Any]) -> Delivery:
        """From an order or checkout body (already schema-checked)."""
        address = None
        if data.get("shippingAddress") is not None:
            if data.get("addressId") is not None:
                raise ValidationError(
                    "give shippingAddress or addressId, not both", field="addressId"
                )
            address = parse_address(data["shippingAddress"], "shippingAddress")
        return cls(address, data.get("addressId"), data.get("shippingMethod"))

    def canonical(self) -> dict[str, Any]:
        """What an ``Idempotency-Key`` stands for, besides the lines."""
        return {
            "shippingAddress": dict(self.address) if self.address is not None else None,
            "addressId": self.address_id,
            "shippingMethod": self.method_id,
        }


@dataclass(frozen=True)
class NewOrder:
    """The order being placed, whichever route places it (``POST /orders``, cart checkout).

    Prices and names always come from the catalogue, never from here. What the commerce
    issues add to an order (a delivery address, shipping, tax, a discount code) is a field
    here, priced in :func:`_new_order` and checked in :func:`_build_order`.
    """

    caller: Principal
    owner: str
    lines: Mapping[str, int]  # product id -> quantity, merged
    idempotency: Idempotency | None = None
    expected_total: Decimal | None = None  # the price guard: 409 PriceChanged if it differs
    replay_any_body: bool = False  # a cart retry after its checkout emptied the cart
    delivery: Delivery = Delivery()
    discount_code: str | None = None  # normalised (discounts.normalise_code)


def merge_lines(items: list[dict[str, Any]]) -> dict[str, int]:
    """Quantities per product, in first-seen order; repeated products are added up."""
    merged: dict[str, int] = {}
    for item in items:
        merged[item["productId"]] = merged.get(item["productId"], 0) + item["quantity"]
    for product_id, quantity in merged.items():
        if quantity > MAX_QUANTITY:
            raise ValidationError(
                f"items: total quantity of product {product_id} must be at most {MAX_QUANTITY}"
            )
    return merged


def _owner(caller: Principal, data: dict[str, Any]) -> str:
    owner: str = data.get("userId", caller.user_id)
    if owner != caller.user_id and not caller.is_admin:
        raise Forbidden("userId must be your own; only admins order on someone's behalf")
    return owner


def idempotency_key(owner: str, key: str) -> str:
    """The idempotency record's key for one buyer's ``Idempotency-Key``."""
    if not key or len(key) > MAX_IDEMPOTENCY_KEY_LENGTH or not key.isprintable():
        raise ValidationError(
            f"Idempotency-Key must be 1-{MAX_IDEMPOTENCY_KEY_LENGTH} printable characters"
        )
    return IDEMPOTENCY_PREFIX + hashlib.sha256(f"{owner}\n{key}".encode()).hexdigest()


def _sha256(value: Any) -> str:
    return hashlib.sha256(json.dumps(value).encode()).hexdigest()


def idempotency(
    route: str,
    owner: str,
    key: str | None,
    lines: Mapping[str, int],
    delivery: Delivery | None = None,
    discount_code: str | None = None,
) -> Idempotency | None:
    """The key and the hash of what it was sent with: the route, the buyer, the lines, where
    and how they ship, and the discount code."""
    if key is None:
        return None
    canonical = {"userId": owner, "items": sorted(lines.items())}
    shipping = (delivery or Delivery()).canonical()
    sent: dict[str, Any] = {"route": route, **canonical, "delivery": shipping}
    if discount_code is not None:
        sent["discountCode"] = discount_code
    request_hash = _sha256(sent)
    # Records written before delivery existed (24 h) hashed the route and lines only; before
    # that, POST /orders hashed without the route and cart checkout hashed a constant.
    older = _sha256({"route": route, **canonical})
    legacy = (_sha256(canonical),) if route == ORDERS_ROUTE else ("cart-checkout",)
    return Idempotency(idempotency_key(owner, key), request_hash, legacy_hashes=(older, *legacy))


def place_order(
    caller: Principal, data: dict[str, Any], key: str | None = None
) -> tuple[dict[str, Any], bool]:
    """The order and whether it was created now (``False``: an idempotent replay)."""
    owner = _owner(caller, data)
    lines = merge_lines(data["items"])
    expected = data.get("expectedTotal")
    delivery = Delivery.from_body(data)
    code = parse_discount_code(data.get("discountCode"))
    request = NewOrder(
        caller,
        owner,
        lines,
        idempotency(ORDERS_ROUTE, owner, key, lines, delivery, code),
        expected_total=(
            None
            if expected is None
            else money.parse(expected, "expectedTotal", maximum=money.MAX_TOTAL)
        ),
        delivery=delivery,
        discount_code=code,
    )
    return place(request)


def parse_discount_code(raw: str | None) -> str | None:
    """A request's ``discountCode``, normalised (None: none given)."""
    return None if raw is None else discounts.normalise_code(raw, "discountCode")


def place(
    request: NewOrder,
    *,
    caller_checked: bool = False,
    also: Callable[[Transaction], None] | None = None,
) -> tuple[dict[str, Any], bool]:
    """Read the products (and a live idempotency record), then commit the order.

    Two calls: one ``BatchGetItem`` (the products; the buyer's address book unless the
    address is typed in; with an ``Idempotency-Key`` its record and the caller's profile)
    and the order transaction; a replay found by the read costs the order's ``GetItem``
    instead of the transaction. ``caller_checked``: the caller's profile was already read
    (cart checkout). Shipping and tax come from configuration (:mod:`chalicelib.rates`).
    """
    not_products = [pid for pid in request.lines if not is_product_key(pid)]
    if not_products:  # a discount code's or a counter's key: never read as a product
        raise UnknownProducts(not_products)
    keys: list[tuple[type[Model], str]] = [(Product, pid) for pid in request.lines]
    code_key = None
    if request.discount_code is not None:
        code_key = (DiscountCode, DiscountCode.key_for(request.discount_code))
        keys.append(code_key)
    idem = request.idempotency
    book_key = None
    if request.delivery.address is None:
        book_key = (AddressBook, AddressBook.key_for(request.owner))
        keys.append(book_key)
    profile_key = (UserRecord, UserRecord.profile_key(request.caller.user_id))
    if idem is not None:
        keys.append((IdempotencyRecord, idem.key))
    if not caller_checked and (idem is not None or book_key is not None):
        # A replay answers from the read, and a missing address is a 400 before the
        # transaction: either way the caller is checked first (401), in the same read.
        keys.append(profile_key)
    read = dict(zip(keys, transactions.batch_get(keys), strict=True))
    if idem is not None:
        record = read[(IdempotencyRecord, idem.key)]
        if isinstance(record, IdempotencyRecord) and record.expires_at >= datetime.now(UTC):
            if not caller_checked:
                on_behalf = request.owner != request.caller.user_id
                _check_caller(request.caller, read[profile_key], on_behalf=on_behalf)
            return _replay(record, request), False
    products = {pid: p for pid in request.lines if isinstance(p := read[(Product, pid)], Product)}
    unknown = [pid for pid in request.lines if pid not in products]
    if unknown:
        raise UnknownProducts(unknown)
    if book_key is not None:
        book = read[book_key]
        address = book_address(book if isinstance(book, AddressBook) else None,
                               request.delivery.address_id)  # fmt: skip
        if address is None and not caller_checked:
            on_behalf = request.owner != request.caller.user_id
            _check_caller(request.caller, read[profile_key], on_behalf=on_behalf)
        request = replace(request, delivery=replace(request.delivery, address=_found(
            address, request.delivery.address_id)))  # fmt: skip
    discount = read[code_key] if code_key is not None else None
    return commit_order(
        request, products, also, discount if isinstance(discount, DiscountCode) else None
    )


def _found(address: Mapping[str, str] | None, address_id: str | None) -> Mapping[str, str]:
    """The book's address, or a 400 naming what is missing."""
    if address is not None:
        return address
    if address_id is not None:
        raise ValidationError(
            f"addressId {echo(address_id)} is not in your address book", field="addressId"
        )
    raise ValidationError(
        "shippingAddress is required (or an addressId, or a default address in your book)",
        field="shippingAddress",
    )


def replay_if_any(request: NewOrder) -> dict[str, Any] | None:
    """The replay of a live idempotency record (the caller is already checked), else None."""
    if request.idempotency is None:
        return None
    (record,) = transactions.batch_get([(IdempotencyRecord, request.idempotency.key)])
    if not isinstance(record, IdempotencyRecord) or record.expires_at < datetime.now(UTC):
        return None
    return _replay(record, request)


def commit_order(
    request: NewOrder,
    products: Mapping[str, Product],
    also: Callable[[Transaction], None] | None = None,
    discount: DiscountCode | None = None,
) -> tuple[dict[str, Any], bool]:
    """Write the order in one transaction (with ``also``'s operations) and announce it.

    ``also`` may add operations whose failure meanings are types of its own; a failure of
    one of them that is not explained by a replay, missing stock or the discount code
    raises ``ConditionsFailed``. ``discount``: the code ``request`` names, as read (None:
    it does not exist); one that does not apply is a 409 before anything is written.
    """
    created_at = now_iso()
    off = _discount_for(request, discount, products, created_at)  # a 409 if it does not apply
    order = _new_order(request, products, off, created_at)
    shown = request.expected_total
    # The price guard: the total the buyer was shown is the order's total or, with a
    # discount code, the total before the code (the cart's: a code only takes off).
    if shown not in (None, order.total) and shown != _undiscounted(request, products, off):
        raise PriceChanged(
            f"the total is now {money.display(order.total)}, not {money.display(shown)}",
            total=money.text(order.total),
        )
    provider = payments.provider()
    if provider is not None:
        payments.check_chargeable(order.total)  # nothing is written for a refused total
        # Before the transaction, so the 201 carries the client secret; an intent left
        # by a failed transaction is cancelled below (and could never be paid: nobody
        # got its client secret).
        intent = provider.create_intent(order.order_id, request.owner, order.total)
        _await_payment(order, provider, intent)
    view = order_view(order)
    record = None
    if request.idempotency is not None:
        record = IdempotencyRecord(
            request.idempotency.key,
            request_hash=request.idempotency.request_hash,
            target_order_id=order.order_id,
            response=json.dumps(view),
        )

    def build(tx: Transaction) -> None:
        _build_order(tx, request, order, record, products)
        if discount is not None:
            discounts.redeem(tx, discount, order, order.created_at)
        if also is not None:
            also(tx)

    try:
        transactions.write(build)
    except ConditionsFailed as failed:
        if AlreadyPlaced() not in failed.meanings:
            _cancel_unused_intent(order)
            if StaleCaller() in failed.meanings:
                _raise_stale_caller(request.caller)
            lines = _discount_lines(request.lines, products)
            return _explain_cancellation(failed, request, lines), False
    except (ValidationError, Unauthorized):
        _cancel_unused_intent(order)
        raise
    metric("OrdersPlaced")
    metric("OrderValue", float(order.total), "None")
    # No SNS call here: the orders table's stream publishes OrderPlaced (chalicelib/publisher.py).
    return view, True


def quote(
    quantities: Mapping[str, int],
    products: Mapping[str, Product],
    address: Mapping[str, str],
    method_id: str | None,
    line_discounts: Mapping[str, Decimal] | None = None,
) -> tuple[rates.ShippingMethod, pricing.Totals]:
    """The method (a 400 if it does not serve the address) and the priced lines and totals;
    ``line_discounts``: the amount off each line (a discount code's allocation), before tax."""
    country = address["country"]
    method = rates.method_for(country, method_id)
    totals = pricing.price(
        [pricing.Line(pid, q, products[pid].price) for pid, q in quantities.items()],
        method,
        rates.tax_rate(country, address.get("region")),
        line_discounts=line_discounts,
        prices_include_tax=get_settings().prices_include_tax,
    )
    return method, totals


def _new_order(
    request: NewOrder,
    products: Mapping[str, Product],
    line_discounts: Mapping[str, Decimal] | None = None,
    created_at: str | None = None,
) -> Order:
    """A ``PENDING`` order priced from the catalogue (tax after the discount), not yet written."""
    address = request.delivery.address
    assert address is not None, "place() resolves the address first"
    line_discounts = line_discounts or {}
    created_at = created_at or now_iso()
    method, totals = quote(
        request.lines, products, address, request.delivery.method_id, line_discounts
    )
    coded = request.discount_code is not None
    lines = [
        OrderLine(
            product_id=line.product_id,
            name=products[line.product_id].name,
            quantity=line.quantity,
            unit_price=line.unit_price,
            line_total=line.line_total,
            tax=line.tax,
            discount=line.discount if coded and line.product_id in line_discounts else None,
        )
        for line in totals.lines
    ]
    order_id = str(uuid.uuid4())
    return Order(
        order_id,
        user_id=request.owner,
        status=PENDING,
        items=lines,
        total=totals.total,
        currency=money.CURRENCY,
        subtotal=totals.subtotal,
        shipping_price=totals.shipping,
        tax=totals.tax,
        discount=totals.discount,
        discount_code=request.discount_code,
        shipping_address=dict(address),
        shipping_method=method.method_id,
        shipping_method_name=method.name,
        created_at=created_at,
        pending_event=Order.pending_event_for(order_id, ORDER_PLACED),
        event_at=created_at,
        status_shard=Order.status_shard_for(order_id, PENDING),
        list_partition=Order.list_partition_for(order_id),
    )


def _undiscounted(
    request: NewOrder, products: Mapping[str, Product], line_discounts: Mapping[str, Decimal]
) -> Decimal | None:
    """The order's total without its discount code (None: it has no discount)."""
    if not line_discounts:
        return None
    address = request.delivery.address
    assert address is not None
    return quote(request.lines, products, address, request.delivery.method_id)[1].total


def _discount_lines(
    quantities: Mapping[str, int], products: Mapping[str, Product]
) -> list[discounts.Line]:
    """The order's lines as a discount code sees them: product, category, price x quantity."""
    return [
        discounts.Line(pid, products[pid].category_or_default, products[pid].price * quantity)
        for pid, quantity in quantities.items()
    ]


def _discount_for(
    request: NewOrder, item: DiscountCode | None, products: Mapping[str, Product], now: str
) -> dict[str, Decimal]:
    """The amount the request's discount code takes off each line (none without a code), or
    a 409 ``DiscountUnavailable`` before anything is written."""
    code = request.discount_code
    if code is None:
        return {}
    lines = _discount_lines(request.lines, products)
    reason = discounts.unavailable(item, lines, now)
    if reason is not None:
        metric("DiscountsRefused")
        raise discounts.unavailable_error(code, reason)
    assert item is not None
    return discounts.allocate(item, lines)


def _await_payment(
    order: Order, provider: payments.PaymentProvider, intent: payments.Intent
) -> None:
    """Make ``order`` one that holds its stock until ``intent`` is paid or it expires."""
    timeout = timedelta(seconds=get_settings().payment_timeout_seconds)
    order.status = AWAITING_PAYMENT
    order.status_shard = Order.status_shard_for(order.order_id, AWAITING_PAYMENT)
    order.payment_provider = provider.name
    order.payment_intent_id = intent.intent_id
    order.payment_client_secret = intent.client_secret
    order.payment_expires_at = iso_z(datetime.now(UTC) + timeout)
    order.awaiting_shard = sharded_key(AWAITING_PAYMENT_KEY, order.order_id)


def _cancel_unused_intent(order: Order) -> None:
    if order.payment_intent_id:
        cancel_intent_quietly(order)


def cancel_intent_quietly(order: Order) -> None:
    """Cancel the order's PaymentIntent; a failure is logged, never raised.

    The order's own state is already settled by then; an intent left open can only
    be paid by someone holding its client secret, and such a late payment is refunded.
    """
    provider = payments.provider()
    if provider is None or not order.payment_intent_id:
        return
    try:
        provider.cancel_intent(order.payment_intent_id)
    except Exception:
        logger.warning("cancelling the payment of order %s failed", order.order_id, exc_info=True)
        metric("PaymentCancelFailures")


def _build_order(
    tx: Transaction,
    request: NewOrder,
    order: Order,
    record: IdempotencyRecord | None,
    products: Mapping[str, Product],
) -> None:
    """The order transaction; the first failed operation added here decides the answer."""
    caller, owner = request.caller, request.owner
    caller_holds = UserRecord.token_version == caller.token_version
    on_behalf = owner != caller.user_id
    if on_behalf:
        # The stored role decides, not the token's claim: a demoted admin's unexpired
        # token cannot order for others. Checked here, in the order transaction.
        caller_holds &= UserRecord.role == ADMIN
    tx.require(
        UserRecord,
        UserRecord.profile_key(caller.user_id),
        condition=caller_holds,
        on_fail=StaleCaller() if on_behalf else Unauthorized("invalid or expired token"),
    )
    if on_behalf:
        # Only an admin ordering on someone's behalf gets here: the buyer must exist.
        tx.require(
            UserRecord,
            UserRecord.profile_key(owner),
            on_fail=ValidationError(f"unknown user: {owner}", userId=owner),
        )
    if record is not None:
        now = datetime.now(UTC)
        record.expires_at = now + IDEMPOTENCY_WINDOW
        # An expired record (TTL deletion lags) may be overwritten.
        tx.create(
            record,
            unless=IdempotencyRecord.expires_at < now,
            return_old_item=True,
            on_fail=Replay(),
        )
    for product_id, quantity in request.lines.items():
        tx.update(
            products[product_id],
            [Product.stock.add(-quantity)],
            condition=Product.stock >= quantity,
            on_fail=ShortOf(product_id),
        )
    tx.create(order, on_fail=AlreadyPlaced())


def _explain_cancellation(
    failed: ConditionsFailed, request: NewOrder, lines: Sequence[discounts.Line] = ()
) -> dict[str, Any]:
    """A replay of the first request with this Idempotency-Key, or the products short of
    stock, or the discount code refused (``lines``: the order's, to say why)."""
    idem = request.idempotency
    if idem is not None and Replay() in failed.meanings:
        raw = failed.reason(Replay()).raw_item
        record = IdempotencyRecord.from_raw_data(raw) if raw else IdempotencyRecord.get(idem.key)
        return _replay(record, request)
    short = [m.product_id for m in failed.meanings if isinstance(m, ShortOf)]
    if short:
        metric("StockConflicts")
        raise InsufficientStock(
            f"insufficient stock for product(s): {', '.join(short)}", productIds=short
        )
    code = request.discount_code
    if code is not None and {discounts.CodeRefused(), discounts.AlreadyRedeemed()} & set(
        failed.meanings
    ):
        metric("DiscountsRefused")
        raise discounts.refusal(code, failed.meanings, lines)
    raise failed


def _raise_stale_caller(caller: Principal) -> None:
    """Why the caller's check failed when ordering for someone else (a read, on failure only)."""
    try:
        profile = UserRecord.get(UserRecord.profile_key(caller.user_id), consistent_read=True)
    except DoesNotExist:
        raise Unauthorized("invalid or expired token") from None
    _check_caller(caller, profile, on_behalf=True)


def _check_caller(caller: Principal, profile: Model | None, *, on_behalf: bool) -> None:
    """The caller's stored profile still holds their token (and, for others, the admin role)."""
    if not isinstance(profile, UserRecord) or int(profile.token_version) != caller.token_version:
        raise Unauthorized("invalid or expired token")
    if on_behalf and profile.role != ADMIN:
        raise Forbidden("userId must be your own; only admins order on someone's behalf")


def _replay(record: IdempotencyRecord, request: NewOrder) -> dict[str, Any]:
    """The order this record names, as it is now (its current status; a client secret only
    while it awaits payment). A different request with the same key is a 422."""
    idem = request.idempotency
    assert idem is not None
    if not request.replay_any_body and record.request_hash not in (
        idem.request_hash,
        *idem.legacy_hashes,
    ):
        raise IdempotencyMismatch(
            "this Idempotency-Key was already used for a different order request"
        )
    try:
        return order_view(Order.get(record.target_order_id, consistent_read=True))
    except DoesNotExist:  # never deleted; the answer stored with the record, should it be
        response: dict[str, Any] = json.loads(record.response)
        return response


def _visible(caller: Principal, order: Order | None, order_id: str) -> Order:
    """The order if the caller may see it; otherwise 404, never a hint it exists.

    ``order`` was read together with the caller's profile (``order_key``), so a
    single-order request costs one ``BatchGetItem``.
    """
    if order is None or (order.user_id != caller.user_id and not caller.is_admin):
        raise NotFound(f"order {echo(order_id)} not found")
    return order


def get_order(caller: Principal, order: Order | None, order_id: str) -> dict[str, Any]:
    return order_view(_visible(caller, order, order_id))


ShardPage = tuple[list[tuple[Order, dict[str, Any]]], dict[str, Any] | None]


def _shard_reader(index: Any, hash_name: str) -> Callable[[str, Any, int], ShardPage]:
    """Reads one shard of a sharded order index, newest first, with each item's index key."""

    def read(partition: str, start: dict[str, Any] | None, count: int) -> ShardPage:
        results = index.query(
            partition,
            scan_index_forward=False,
            limit=count,
            page_size=count,
            last_evaluated_key=start,
        )
        items = [
            (
                order,
                {
                    "orderId": {"S": order.order_id},
                    hash_name: {"S": partition},
                    "createdAt": {"S": order.created_at},
                },
            )
            for order in results
        ]
        return items, results.last_evaluated_key

    return read


_STATUS_KEY_NAMES = {"orderId", "statusShard", "createdAt"}
_status_shard_page = _shard_reader(Order.by_status, "statusShard")
_CREATED_KEY_NAMES = {"orderId", "listPartition", "createdAt"}
_created_shard_page = _shard_reader(Order.by_created, "listPartition")


def _newest_first(
    reader: Callable[[str, Any, int], ShardPage],
    value: str,
    key_names: set[str],
    hash_name: str,
    limit: int,
    cursor: str | None,
    stats: PageRead | None,
) -> dict[str, Any]:
    """One page of a sharded, newest-first order index whose partition value is ``value``."""
    items, next_cursor = merged_page(
        reader,
        lambda order: order.created_at,
        partitions=shard_keys(value),
        limit=limit,
        cursor=cursor,
        key_names=key_names,
        hash_name=hash_name,
        descending=True,
        stats=stats,
    )
    return {"items": [order_view(o) for o in items], "nextCursor": next_cursor}


def all_orders(limit: int, cursor: str | None, stats: PageRead | None = None) -> dict[str, Any]:
    """Every order, newest first (admins): the shards of ``byCreated`` merged."""
    return _newest_first(
        _created_shard_page,
        ORDER_LIST_PARTITION,
        _CREATED_KEY_NAMES,
        "listPartition",
        limit,
        cursor,
        stats,
    )


def fulfilment_queue(
    status: str, limit: int, cursor: str | None, stats: PageRead | None = None
) -> dict[str, Any]:
    """Orders of one status, newest first: the shards of ``byStatus`` merged."""
    if status not in ORDER_STATUSES:
        raise ValidationError(f"status must be one of {', '.join(ORDER_STATUSES)}", field="status")
    return _newest_first(
        _status_shard_page, status, _STATUS_KEY_NAMES, "statusShard", limit, cursor, stats
    )


def list_orders(
    caller: Principal,
    user_id: str | None,
    limit: int,
    cursor: str | None,
    status: str | None = None,
) -> dict[str, Any]:
    """Newest first: one user's through the ``byUser`` index, everyone's for admins,
    or (admins) one status's through the sharded ``byStatus`` index."""
    if status is not None:
        if not caller.is_admin:
            raise Forbidden("only admins may list orders by status")
        if user_id is not None:
            raise ValidationError("status and userId cannot be combined", field="status")
        return fulfilment_queue(status, limit, cursor)
    if user_id is not None and (not is_id(user_id) or first_forbidden(user_id) is not None):
        raise ValidationError(
            f"userId must be 1-{MAX_ID_LENGTH} characters, without control or format characters",
            field="userId",
        )
    if user_id is not None and user_id != caller.user_id and not caller.is_admin:
        raise Forbidden("only admins may list another user's orders")
    if user_id is None and not caller.is_admin:
        user_id = caller.user_id
    if user_id is None:
        return all_orders(limit, cursor)
    items, next_cursor = paginate(
        lambda **kw: Order.by_user.query(user_id, scan_index_forward=False, **kw),
        limit=limit,
        cursor=cursor,
        key_names={"orderId", "userId", "createdAt"},
        fixed={"userId": user_id},
    )
    return {"items": [order_view(o) for o in items], "nextCursor": next_cursor}


def cancel_order(caller: Principal, order: Order | None, order_id: str) -> dict[str, Any]:
    """Status and every stock restoration in one transaction; a second cancel is a 409.

    With the batch read that found ``order``, a cancel costs two DynamoDB calls.
    """
    order = _visible(caller, order, order_id)
    if order.status not in CANCELLABLE:
        raise InvalidTransition(f"order {order_id} is {order.status} and cannot be cancelled")
    if order.refunds:
        # Cancelling refunds the whole payment; after a partial refund the rest goes back
        # through the refund route, which keeps amountRefunded exact.
        raise InvalidTransition(
            f"order {order_id} was partly refunded and cannot be cancelled; refund the rest"
            f" with POST /orders/{order_id}/refunds"
        )
    was = order.status
    transition(
        order,
        CANCEL,
        on_fail=InvalidTransition(
            f"order {order.order_id} was already cancelled, or refunded meanwhile"
        ),
        condition=Order.refunds.does_not_exist(),  # a refund landing first wins
    )
    metric("OrdersCancelled")
    # The orders table's stream publishes OrderCancelled.
    if was == AWAITING_PAYMENT:
        cancel_intent_quietly(order)
    elif was == CONFIRMED and order.payment_intent_id:
        refund_quietly(order, "cancelled after payment")
    return order_view(order)


def refund_quietly(order: Order, why: str) -> bool:
    """Refund the order's payment (idempotent at the provider); logged and counted."""
    provider = payments.provider()
    if provider is None or not order.payment_intent_id:
        return False
    try:
        provider.refund_intent(order.payment_intent_id, order.order_id)
    except Exception:
        logger.error("refunding order %s (%s) failed", order.order_id, why, exc_info=True)
        metric("PaymentRefundFailures")
        return False
    logger.warning("refunded the payment of order %s: %s", order.order_id, why)
    metric("PaymentsRefunded")
    return True


def order_key(order_id: str) -> str | None:
    """The orders-table key an order id may be stored under (``None``: it cannot exist)."""
    if not is_id(order_id) or order_id.startswith(IDEMPOTENCY_PREFIX):
        return None
    return order_id


def advance_order(
    caller: Principal,
    order: Order | None,
    order_id: str,
    status: str,
    fulfilment: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Admin fulfilment step (``SHIPPED``, ``DELIVERED``): one conditional write.

    Only admins get here (the route declares it). ``order`` was read together with the
    caller's profile; the write's condition on the status it requires is what makes a
    concurrent cancel or second step lose. ``fulfilment``: the ship step's ``carrier``
    and ``trackingNumber`` (schema-checked, both optional), written with the status and
    the step's audit entry (``order.ship``, ``order.deliver``) in one transaction.
    """
    if order is None:
        raise NotFound(f"order {echo(order_id)} not found")
    step = FULFILMENT_STEPS[status]
    (required,) = step.sources
    if order.status != required:
        raise InvalidTransition(
            f"order {order_id} is {order.status}; only a {required} order can become {status}"
        )
    # The return window (chalicelib/returns.py) starts at the delivery.
    delivered_at = now_iso() if status == DELIVERED else None
    actions = [Order.delivered_at.set(delivered_at)] if delivered_at else []
    given = fulfilment or {}
    carrier = (given.get("carrier") or "").strip() or None
    tracking = (given.get("trackingNumber") or "").strip() or None
    if carrier:
        actions.append(Order.carrier.set(carrier))
    if tracking:
        actions.append(Order.tracking_number.set(tracking))
    after = {"status": status, "carrier": carrier, "trackingNumber": tracking}
    transition(
        order,
        step,
        on_fail=InvalidTransition(
            f"order {order_id} is no longer {required}; it was changed meanwhile"
        ),
        actions=actions,
        also=lambda tx: audit.record(
            tx,
            caller.user_id,
            f"order.{step.name}",
            "order",
            order_id,
            {"status": required},
            {k: v for k, v in after.items() if v is not None},
        ),
    )
    order.carrier = carrier or order.carrier
    order.tracking_number = tracking or order.tracking_number
    order.delivered_at = delivered_at or order.delivered_at
    metric("Orders" + status.capitalize())
    return order_view(order)
