"""Orders: placed atomically, read by owner or admin, cancelled exactly once.

Placing an order costs two DynamoDB calls whatever its size: one consistent
``BatchGetItem`` for the products (names and prices come from the catalogue,
never from the client) and one ``TransactWriteItems`` holding every stock
decrement (each conditional on enough stock), the order, the idempotency
record and a check that the buyer still exists with an unrevoked token.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.condition import Condition

from chalicelib import events, payments, transactions
from chalicelib.auth import Principal
from chalicelib.clock import iso_z, now_iso
from chalicelib.config import get_settings
from chalicelib.encoding import json_default
from chalicelib.errors import (
    Conflict,
    Forbidden,
    IdempotencyMismatch,
    InsufficientStock,
    NotFound,
    Unauthorized,
    ValidationError,
)
from chalicelib.models import (
    AWAITING_PAYMENT_KEY,
    IDEMPOTENCY_PREFIX,
    ORDER_LIST_PARTITION,
    IdempotencyRecord,
    Order,
    OrderLine,
    Product,
    UserRecord,
)
from chalicelib.observability import metric
from chalicelib.order_view import (
    AWAITING_PAYMENT,
    CANCELLABLE,
    CANCELLED,
    CONFIRMED,
    FULFILMENT_STEPS,
    ORDER_STATUSES,
    PENDING,
    order_view,
)
from chalicelib.pagination import paginate
from chalicelib.roles import ADMIN
from chalicelib.schemas import MAX_ID_LENGTH, MAX_QUANTITY, is_id
from chalicelib.shards import PageRead, merged_page, shard_keys, sharded_key
from chalicelib.text import echo, first_forbidden
from chalicelib.transactions import ConditionsFailed, Transaction

logger = logging.getLogger(__name__)

IDEMPOTENCY_WINDOW = timedelta(hours=24)
MAX_IDEMPOTENCY_KEY_LENGTH = 255
# What a failed condition in an order transaction means, where it is not a plain error.
_REPLAY = "replay"  # the idempotency record exists: answer with the order it stored
# The new order's id exists: only this request's own earlier attempt can have written it
# (botocore resent the transaction after its answer was lost), so the order is placed.
_ALREADY_PLACED = "already placed"
# The caller ordering for someone else is revoked or no longer an admin (read to tell which).
_STALE_CALLER = "stale-caller"


@dataclass(frozen=True)
class _ShortOf:
    """Not enough stock of this product (or it was deleted since it was read)."""

    product_id: str


@dataclass(frozen=True)
class _Gone:
    """This product was deleted: there is no stock to give back."""

    product_id: str


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
    if not key or len(key) > MAX_IDEMPOTENCY_KEY_LENGTH or not key.isprintable():
        raise ValidationError(
            f"Idempotency-Key must be 1-{MAX_IDEMPOTENCY_KEY_LENGTH} printable characters"
        )
    return IDEMPOTENCY_PREFIX + hashlib.sha256(f"{owner}\n{key}".encode()).hexdigest()


_idempotency_key = idempotency_key


def _request_hash(owner: str, quantities: dict[str, int]) -> str:
    canonical = json.dumps({"userId": owner, "items": sorted(quantities.items())})
    return hashlib.sha256(canonical.encode()).hexdigest()


def place_order(
    caller: Principal, data: dict[str, Any], idempotency_key: str | None = None
) -> tuple[dict[str, Any], bool]:
    """The order and whether it was created now (``False``: an idempotent replay)."""
    owner = _owner(caller, data)
    quantities = merge_lines(data["items"])
    idem_key = _idempotency_key(owner, idempotency_key) if idempotency_key is not None else None
    request_hash = _request_hash(owner, quantities)

    products = {p.product_id: p for p in Product.batch_get(list(quantities), consistent_read=True)}
    unknown = [pid for pid in quantities if pid not in products]
    if unknown:
        # A retry of an order placed before a product was deleted must still replay.
        replay = stored_replay(caller, idem_key, request_hash) if idem_key else None
        if replay is not None:
            return replay, False
        raise ValidationError(
            f"unknown product(s): {', '.join(map(echo, unknown))}", productIds=unknown
        )
    return commit_order(caller, owner, quantities, products, idem_key, request_hash)


def commit_order(
    caller: Principal,
    owner: str,
    quantities: dict[str, int],
    products: Mapping[str, Product],
    idem_key: str | None,
    request_hash: str,
    also: Callable[[Transaction], None] | None = None,
) -> tuple[dict[str, Any], bool]:
    """Write the order in one transaction (with ``also``'s operations) and announce it.

    ``also`` may add operations whose failure meanings are labels; a failure of one of
    them that is not explained by a replay or missing stock raises ``ConditionsFailed``.
    """
    order = _new_order(owner, quantities, products)
    provider = payments.provider()
    if provider is not None:
        payments.check_chargeable(order.total)  # nothing is written for a refused total
        # Before the transaction, so the 201 carries the client secret; an intent left
        # by a failed transaction is cancelled below (and could never be paid: nobody
        # got its client secret).
        _await_payment(order, provider, provider.create_intent(order.order_id, owner, order.total))
    view = order_view(order)
    record = None
    if idem_key is not None:
        record = IdempotencyRecord(
            idem_key,
            request_hash=request_hash,
            target_order_id=order.order_id,
            response=json.dumps(view, default=json_default),
        )

    def build(tx: Transaction) -> None:
        _build_order(tx, caller, owner, order, record, quantities, products)
        if also is not None:
            also(tx)

    try:
        transactions.write(build)
    except ConditionsFailed as failed:
        if _ALREADY_PLACED not in failed.meanings:
            _cancel_unused_intent(order)
            if _STALE_CALLER in failed.meanings:
                _raise_stale_caller(caller)
            return _explain_cancellation(failed, idem_key, request_hash), False
    except (ValidationError, Unauthorized):
        _cancel_unused_intent(order)
        raise
    metric("OrdersPlaced")
    metric("OrderValue", float(order.total), "None")
    # No SNS call here: the orders table's stream publishes OrderPlaced (chalicelib/events.py).
    return view, True


def _new_order(owner: str, quantities: dict[str, int], products: Mapping[str, Product]) -> Order:
    """A ``PENDING`` order priced from the catalogue, not yet written."""
    lines = [
        OrderLine(
            product_id=product_id,
            name=products[product_id].name,
            quantity=quantity,
            unit_price=products[product_id].price,
            line_total=products[product_id].price * quantity,
        )
        for product_id, quantity in quantities.items()
    ]
    created_at = now_iso()
    order_id = str(uuid.uuid4())
    return Order(
        order_id,
        user_id=owner,
        status=PENDING,
        items=lines,
        total=sum((line.line_total for line in lines), Decimal("0")),
        created_at=created_at,
        pending_event=Order.pending_event_for(order_id, events.ORDER_PLACED),
        event_at=created_at,
        status_shard=Order.status_shard_for(order_id, PENDING),
        list_partition=Order.list_partition_for(order_id),
    )


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
    caller: Principal,
    owner: str,
    order: Order,
    record: IdempotencyRecord | None,
    quantities: dict[str, int],
    products: Mapping[str, Product],
) -> None:
    """The order transaction; the first failed operation added here decides the answer."""
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
        on_fail=_STALE_CALLER if on_behalf else Unauthorized("invalid or expired token"),
    )
    if owner != caller.user_id:
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
            record, unless=IdempotencyRecord.expires_at < now, return_old_item=True, on_fail=_REPLAY
        )
    for product_id, quantity in quantities.items():
        tx.update(
            products[product_id],
            [Product.stock.add(-quantity)],
            condition=Product.stock >= quantity,
            on_fail=_ShortOf(product_id),
        )
    tx.create(order, on_fail=_ALREADY_PLACED)


def _explain_cancellation(
    failed: ConditionsFailed, idem_key: str | None, request_hash: str
) -> dict[str, Any]:
    """A replay of the first request with this Idempotency-Key, or the products short of stock."""
    if idem_key is not None and _REPLAY in failed.meanings:
        raw = failed.reason(_REPLAY).raw_item
        record = IdempotencyRecord.from_raw_data(raw) if raw else IdempotencyRecord.get(idem_key)
        return _replay(record, request_hash)
    short = [m.product_id for m in failed.meanings if isinstance(m, _ShortOf)]
    if short:
        metric("StockConflicts")
        raise InsufficientStock(
            f"insufficient stock for product(s): {', '.join(short)}", productIds=short
        )
    raise failed


def _raise_stale_caller(caller: Principal) -> None:
    """Why the caller's check failed when ordering for someone else (a read, on failure only)."""
    try:
        profile = UserRecord.get(UserRecord.profile_key(caller.user_id), consistent_read=True)
    except DoesNotExist:
        raise Unauthorized("invalid or expired token") from None
    if int(profile.token_version) != caller.token_version:
        raise Unauthorized("invalid or expired token")
    raise Forbidden("userId must be your own; only admins order on someone's behalf")


def _replay(record: IdempotencyRecord, request_hash: str) -> dict[str, Any]:
    if record.request_hash != request_hash:
        raise IdempotencyMismatch(
            "this Idempotency-Key was already used for a different order request"
        )
    response: dict[str, Any] = json.loads(record.response)
    return response


def stored_replay(caller: Principal, idem_key: str, request_hash: str) -> dict[str, Any] | None:
    """The replay of a live idempotency record, read outside the transaction.

    Only for requests that fail before the transaction (a product deleted since
    the first attempt), so the happy path keeps its two calls.
    """
    try:
        record = IdempotencyRecord.get(idem_key, consistent_read=True)
    except DoesNotExist:
        return None
    if record.expires_at < datetime.now(UTC):
        return None
    try:
        profile = UserRecord.get(UserRecord.profile_key(caller.user_id), consistent_read=True)
    except DoesNotExist:
        raise Unauthorized("invalid or expired token") from None
    if int(profile.token_version) != caller.token_version:
        raise Unauthorized("invalid or expired token")
    return _replay(record, request_hash)


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
        raise Conflict(f"order {order_id} is {order.status} and cannot be cancelled")
    cancelled_at = now_iso()
    restock = {line.product_id: int(line.quantity) for line in order.items}

    def drop_deleted_products(failed: ConditionsFailed) -> bool:
        # A product deleted since the order was placed has no stock to restore.
        gone = [m.product_id for m in failed.meanings if isinstance(m, _Gone)]
        for product_id in gone:
            del restock[product_id]
        return bool(gone)

    transactions.write(
        lambda tx: _build_cancel(tx, order, cancelled_at, restock), retry_if=drop_deleted_products
    )
    was = order.status
    order.status = CANCELLED
    order.updated_at = cancelled_at
    order.pending_event = Order.pending_event_for(order.order_id, events.ORDER_CANCELLED)
    order.event_at = cancelled_at
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


def _build_cancel(
    tx: Transaction, order: Order, cancelled_at: str, restock: dict[str, int]
) -> None:
    actions = [
        Order.status.set(CANCELLED),
        Order.status_shard.set(Order.status_shard_for(order.order_id, CANCELLED)),
        Order.updated_at.set(cancelled_at),
        Order.pending_event.set(Order.pending_event_for(order.order_id, events.ORDER_CANCELLED)),
        Order.event_at.set(cancelled_at),
    ]
    condition: Condition = Order.status.is_in(*CANCELLABLE)
    if order.status == AWAITING_PAYMENT:
        actions.append(Order.awaiting_shard.remove())  # out of the expiry index
        # Paid meanwhile? Then this cancel must not pass as an unpaid one (no refund).
        condition = Order.status == AWAITING_PAYMENT
    tx.update(
        order,
        actions,
        condition=condition,
        on_fail=Conflict(f"order {order.order_id} was already cancelled"),
    )
    for product_id, quantity in restock.items():
        # version=0 only makes PynamoDB bump the version (ADD 1) instead of resetting it.
        product = Product(product_id, version=0)
        tx.update(product, [Product.stock.add(quantity)], on_fail=_Gone(product_id))


def order_key(order_id: str) -> str | None:
    """The orders-table key an order id may be stored under (``None``: it cannot exist)."""
    if not is_id(order_id) or order_id.startswith(IDEMPOTENCY_PREFIX):
        return None
    return order_id


def advance_order(
    caller: Principal, order: Order | None, order_id: str, status: str
) -> dict[str, Any]:
    """Admin fulfilment step (``SHIPPED``, ``DELIVERED``): one conditional write.

    ``order`` was read together with the caller's profile; the write's condition on
    the status it requires is what makes a concurrent cancel or second step lose.
    """
    if not caller.is_admin:
        raise Forbidden("only admins may ship or deliver orders")
    if order is None:
        raise NotFound(f"order {echo(order_id)} not found")
    required = FULFILMENT_STEPS[status]
    wrong_status = Conflict(
        f"order {order_id} is {order.status}; only a {required} order can become {status}"
    )
    if order.status != required:
        raise wrong_status
    event_type = events.STATUS_EVENTS[status]
    changed_at = now_iso()
    transactions.update_item(
        order,
        [
            Order.status.set(status),
            Order.status_shard.set(Order.status_shard_for(order_id, status)),
            Order.updated_at.set(changed_at),
            Order.pending_event.set(Order.pending_event_for(order_id, event_type)),
            Order.event_at.set(changed_at),
        ],
        condition=Order.status == required,
        on_fail=Conflict(f"order {order_id} is no longer {required}; it was changed meanwhile"),
    )
    order.status = status
    order.updated_at = changed_at
    order.pending_event = Order.pending_event_for(order_id, event_type)
    order.event_at = changed_at
    metric("Orders" + status.capitalize())
    return order_view(order)
