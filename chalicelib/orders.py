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
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from pynamodb.constants import ALL_OLD
from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib import events, transactions
from chalicelib.auth import ADMIN, Principal
from chalicelib.clock import now_iso
from chalicelib.encoding import json_default, json_number
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
    ORDER_LIST_PARTITION,
    IdempotencyRecord,
    Order,
    OrderLine,
    Product,
    UserRecord,
)
from chalicelib.observability import metric
from chalicelib.pagination import paginate
from chalicelib.schemas import MAX_QUANTITY
from chalicelib.text import first_forbidden
from chalicelib.users import PROFILE_PREFIX

PENDING = "PENDING"
CONFIRMED = "CONFIRMED"
CANCELLED = "CANCELLED"
CANCELLABLE = (PENDING, CONFIRMED)
IDEMPOTENCY_WINDOW = timedelta(hours=24)
MAX_IDEMPOTENCY_KEY_LENGTH = 255
MAX_ID_LENGTH = 64


def order_view(order: Order) -> dict[str, Any]:
    view = {
        "orderId": order.order_id,
        "userId": order.user_id,
        "status": order.status,
        "items": [
            {
                "productId": line.product_id,
                "name": line.name,
                "quantity": int(line.quantity),
                "unitPrice": json_number(line.unit_price),
                "lineTotal": json_number(line.line_total),
            }
            for line in order.items
        ],
        "total": json_number(order.total),
        "createdAt": order.created_at,
    }
    if order.updated_at:
        view["updatedAt"] = order.updated_at
    return view


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
    owner = data.get("userId", caller.user_id)
    if owner != caller.user_id and not caller.is_admin:
        raise Forbidden("userId must be your own; only admins order on someone's behalf")
    return owner


def _idempotency_key(owner: str, key: str) -> str:
    if not key or len(key) > MAX_IDEMPOTENCY_KEY_LENGTH or not key.isprintable():
        raise ValidationError(
            f"Idempotency-Key must be 1-{MAX_IDEMPOTENCY_KEY_LENGTH} printable characters"
        )
    return "IDEM#" + hashlib.sha256(f"{owner}\n{key}".encode()).hexdigest()


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

    products = {p.product_id: p for p in Product.batch_get(list(quantities), consistent_read=True)}
    unknown = [pid for pid in quantities if pid not in products]
    if unknown:
        # A retry of an order placed before a product was deleted must still replay.
        replay = _stored_replay(caller, idem_key, owner, quantities) if idem_key else None
        if replay is not None:
            return replay, False
        raise ValidationError(f"unknown product(s): {', '.join(unknown)}", productIds=unknown)

    created_at = now_iso()
    lines = []
    for product_id, quantity in quantities.items():
        product = products[product_id]
        lines.append(
            OrderLine(
                product_id=product_id,
                name=product.name,
                quantity=quantity,
                unit_price=product.price,
                line_total=product.price * quantity,
            )
        )
    order = Order(
        str(uuid.uuid4()),
        user_id=owner,
        status=PENDING,
        items=lines,
        total=sum((line.line_total for line in lines), Decimal("0")),
        created_at=created_at,
        pending_event=events.ORDER_PLACED,
        event_at=created_at,
    )
    view = order_view(order)
    checks = [(caller.user_id, caller.token_version)]
    if owner != caller.user_id:
        checks.append((owner, None))

    def build(tx: TransactWrite) -> None:
        # Sent as: condition checks, puts, updates (PynamoDB's order); reasons follow it.
        for index, (user_id, token_version) in enumerate(checks):
            condition = UserRecord.pk.exists()
            if token_version is not None:
                condition &= UserRecord.token_version == token_version
            if index == 0 and owner != caller.user_id:
                # The stored role decides, not the token's claim: a demoted admin's
                # unexpired token cannot order for others.
                condition &= UserRecord.role == ADMIN
            tx.condition_check(UserRecord, PROFILE_PREFIX + user_id, condition=condition)
        tx.save(order, condition=Order.order_id.does_not_exist())
        if idem_key is not None:
            record = IdempotencyRecord(
                idem_key,
                request_hash=_request_hash(owner, quantities),
                target_order_id=order.order_id,
                response=json.dumps(view, default=json_default),
                expires_at=datetime.now(UTC) + IDEMPOTENCY_WINDOW,
            )
            tx.save(
                record,
                condition=IdempotencyRecord.key.does_not_exist()
                | (IdempotencyRecord.expires_at < datetime.now(UTC)),
                return_values=ALL_OLD,
            )
        for product_id, quantity in quantities.items():
            tx.update(
                products[product_id],
                actions=[Product.stock.add(-quantity)],
                condition=Product.product_id.exists() & (Product.stock >= quantity),
                add_version_condition=False,
            )

    try:
        transactions.write(build)
    except TransactWriteError as exc:
        reasons = exc.cancellation_reasons
        if not reasons:
            raise
        explained = _explain_cancellation(
            reasons, checks, idem_key, owner, quantities, caller=caller
        )
        return explained, False
    metric("OrdersPlaced")
    metric("OrderValue", float(order.total), "None")
    events.publish(events.ORDER_PLACED, order)
    return view, True


def _explain_cancellation(
    reasons: list[Any],
    checks: list[tuple[str, int | None]],
    idem_key: str | None,
    owner: str,
    quantities: dict[str, int],
    caller: Principal | None = None,
) -> dict[str, Any]:
    """Turn the transaction's cancellation reasons into a replay or the right error."""

    def failed(index: int) -> bool:
        reason = reasons[index] if index < len(reasons) else None
        return reason is not None and reason.code == "ConditionalCheckFailed"

    if failed(0):
        if caller is not None and owner != caller.user_id:
            _raise_stale_caller(caller)
        raise Unauthorized("invalid or expired token")
    if any(failed(i) for i in range(1, len(checks))):
        # Only an admin ordering on someone's behalf has a second check: the buyer.
        raise ValidationError(f"unknown user: {owner}", userId=owner)
    idem_index = len(checks) + 1
    if idem_key is not None and failed(idem_index):
        raw = reasons[idem_index].raw_item
        record = IdempotencyRecord.from_raw_data(raw) if raw else IdempotencyRecord.get(idem_key)
        return _replay(record, owner, quantities)
    first_update = len(checks) + 1 + (idem_key is not None)
    short = [pid for i, pid in enumerate(quantities) if failed(first_update + i)]
    if short:
        metric("StockConflicts")
        raise InsufficientStock(
            f"insufficient stock for product(s): {', '.join(short)}", productIds=short
        )
    raise RuntimeError(f"order transaction cancelled: {[r and r.code for r in reasons]}")


def _raise_stale_caller(caller: Principal) -> None:
    """Why the caller's check failed when ordering for someone else (a read, on failure only)."""
    try:
        profile = UserRecord.get(PROFILE_PREFIX + caller.user_id, consistent_read=True)
    except DoesNotExist:
        raise Unauthorized("invalid or expired token") from None
    if int(profile.token_version) != caller.token_version:
        raise Unauthorized("invalid or expired token")
    raise Forbidden("userId must be your own; only admins order on someone's behalf")


def _replay(record: IdempotencyRecord, owner: str, quantities: dict[str, int]) -> dict[str, Any]:
    if record.request_hash != _request_hash(owner, quantities):
        raise IdempotencyMismatch(
            "this Idempotency-Key was already used for a different order request"
        )
    return json.loads(record.response)


def _stored_replay(
    caller: Principal, idem_key: str, owner: str, quantities: dict[str, int]
) -> dict[str, Any] | None:
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
        profile = UserRecord.get(PROFILE_PREFIX + caller.user_id, consistent_read=True)
    except DoesNotExist:
        raise Unauthorized("invalid or expired token") from None
    if int(profile.token_version) != caller.token_version:
        raise Unauthorized("invalid or expired token")
    return _replay(record, owner, quantities)


def _load_visible(caller: Principal, order_id: str) -> Order:
    not_found = NotFound(f"order {order_id} not found")
    if not order_id or len(order_id) > MAX_ID_LENGTH or order_id.startswith("IDEM#"):
        raise not_found
    try:
        order = Order.get(order_id, consistent_read=True)
    except DoesNotExist:
        raise not_found from None
    if order.user_id != caller.user_id and not caller.is_admin:
        raise not_found
    return order


def get_order(caller: Principal, order_id: str) -> dict[str, Any]:
    return order_view(_load_visible(caller, order_id))


def list_orders(
    caller: Principal, user_id: str | None, limit: int, cursor: str | None
) -> dict[str, Any]:
    """Newest first: one user's through the ``byUser`` index, everyone's for admins."""
    if user_id is not None and (
        not 0 < len(user_id) <= MAX_ID_LENGTH or first_forbidden(user_id) is not None
    ):
        raise ValidationError(
            f"userId must be 1-{MAX_ID_LENGTH} characters, without control or format characters",
            field="userId",
        )
    if user_id is not None and user_id != caller.user_id and not caller.is_admin:
        raise Forbidden("only admins may list another user's orders")
    if user_id is None and not caller.is_admin:
        user_id = caller.user_id
    if user_id is not None:
        items, next_cursor = paginate(
            lambda **kw: Order.by_user.query(user_id, scan_index_forward=False, **kw),
            limit=limit,
            cursor=cursor,
            key_names={"orderId", "userId", "createdAt"},
            fixed={"userId": user_id},
        )
    else:
        items, next_cursor = paginate(
            lambda **kw: Order.by_created.query(
                ORDER_LIST_PARTITION, scan_index_forward=False, **kw
            ),
            limit=limit,
            cursor=cursor,
            key_names={"orderId", "listPartition", "createdAt"},
            fixed={"listPartition": ORDER_LIST_PARTITION},
        )
    return {"items": [order_view(o) for o in items], "nextCursor": next_cursor}


def cancel_order(caller: Principal, order_id: str) -> dict[str, Any]:
    """Status and every stock restoration in one transaction; a second cancel is a 409."""
    order = _load_visible(caller, order_id)
    if order.status not in CANCELLABLE:
        raise Conflict(f"order {order_id} is {order.status} and cannot be cancelled")
    cancelled_at = now_iso()
    restock = {line.product_id: int(line.quantity) for line in order.items}
    while True:
        try:
            transactions.write(lambda tx: _build_cancel(tx, order, cancelled_at, restock))
            break
        except TransactWriteError as exc:
            reasons = exc.cancellation_reasons or []
            codes = [r.code if r else None for r in reasons]
            if codes and codes[0] == "ConditionalCheckFailed":
                raise Conflict(f"order {order_id} was already cancelled") from None
            # A product deleted since the order was placed has no stock to restore.
            gone = [
                pid
                for i, pid in enumerate(restock)
                if codes[1 + i : 2 + i] == ["ConditionalCheckFailed"]
            ]
            if not gone:
                raise
            for product_id in gone:
                del restock[product_id]
    order.status = CANCELLED
    order.updated_at = cancelled_at
    order.pending_event = events.ORDER_CANCELLED
    order.event_at = cancelled_at
    metric("OrdersCancelled")
    events.publish(events.ORDER_CANCELLED, order)
    return order_view(order)


def _build_cancel(
    tx: TransactWrite, order: Order, cancelled_at: str, restock: dict[str, int]
) -> None:
    tx.update(
        order,
        actions=[
            Order.status.set(CANCELLED),
            Order.updated_at.set(cancelled_at),
            Order.pending_event.set(events.ORDER_CANCELLED),
            Order.event_at.set(cancelled_at),
        ],
        condition=Order.status.is_in(*CANCELLABLE),
    )
    for product_id, quantity in restock.items():
        # version=0 only makes PynamoDB bump the version (ADD 1) instead of resetting it.
        tx.update(
            Product(product_id, version=0),
            actions=[Product.stock.add(quantity)],
            condition=Product.product_id.exists(),
            add_version_condition=False,
        )
