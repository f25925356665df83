"""The product catalogue."""

from __future__ import annotations

import uuid
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError
from pynamodb.expressions.update import Action

from chalicelib import transactions
from chalicelib.clock import now_iso
from chalicelib.encoding import json_number
from chalicelib.errors import Conflict, NotFound, aws_error_code
from chalicelib.models import Product
from chalicelib.pagination import paginate
from chalicelib.schemas import is_id
from chalicelib.validation import money


def product_view(product: Product) -> dict[str, Any]:
    view: dict[str, Any] = {
        "productId": product.product_id,
        "name": product.name,
        "price": json_number(product.price),
        "stock": int(product.stock),
        "version": int(product.version),
        "createdAt": product.created_at,
    }
    if product.description is not None:
        view["description"] = product.description
    if product.updated_at is not None:
        view["updatedAt"] = product.updated_at
    return view


def _not_found(product_id: str) -> NotFound:
    return NotFound(f"product {product_id} not found")


def create_product(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` has passed the ``ProductCreate`` schema."""
    product = Product(
        str(uuid.uuid4()),
        name=data["name"],
        description=data.get("description"),
        price=money(data["price"], "price"),
        stock=data.get("stock", 0),
        created_at=now_iso(),
    )
    try:
        product.save(condition=Product.product_id.does_not_exist())
    except PutError as exc:
        # The id is new, so only our own earlier attempt can hold it: botocore resent a
        # put whose answer was lost (a read timeout), and the first one did land.
        if aws_error_code(exc) != "ConditionalCheckFailedException":
            raise
        product = Product.get(product.product_id, consistent_read=True)  # as it landed
    return product_view(product)


def load_product(product_id: str) -> Product:
    if not is_id(product_id):
        raise _not_found(product_id)
    try:
        return Product.get(product_id, consistent_read=True)
    except DoesNotExist:
        raise _not_found(product_id) from None


def get_product(product_id: str) -> dict[str, Any]:
    return product_view(load_product(product_id))


def list_products(limit: int, cursor: str | None) -> dict[str, Any]:
    # A Scan bounded by Limit reads at most limit + 1 items whatever the table size.
    items, next_cursor = paginate(
        lambda **kw: Product.scan(**kw), limit=limit, cursor=cursor, key_names={"productId"}
    )
    return {"items": [product_view(p) for p in items], "nextCursor": next_cursor}


def update_product(product_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """Read, then write conditional on the version read: a concurrent edit makes this a 409."""
    product = load_product(product_id)
    actions: list[Action] = [Product.updated_at.set(now_iso())]
    if "name" in data:
        actions.append(Product.name.set(data["name"]))
    if "price" in data:
        actions.append(Product.price.set(money(data["price"], "price")))
    if "description" in data:
        actions.append(Product.description.set(data["description"]))
    if "stock" in data:
        actions.append(Product.stock.set(data["stock"]))
    changed = Conflict(f"product {product_id} was changed by someone else; read it again and retry")
    transactions.update_item(product, actions, on_fail=changed)
    return product_view(product)


def delete_product(product_id: str) -> None:
    if not is_id(product_id):
        raise _not_found(product_id)
    transactions.delete_item(Product(product_id), on_fail=_not_found(product_id))
