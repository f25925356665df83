"""The product catalogue."""

from __future__ import annotations

import uuid
from typing import Any

from pynamodb.exceptions import DeleteError, DoesNotExist, UpdateError

from chalicelib.clock import now_iso
from chalicelib.encoding import json_number
from chalicelib.errors import Conflict, NotFound, aws_error_code
from chalicelib.models import Product
from chalicelib.pagination import paginate
from chalicelib.validation import money

MAX_ID_LENGTH = 64


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
    product.save(condition=Product.product_id.does_not_exist())
    return product_view(product)


def load_product(product_id: str) -> Product:
    if not product_id or len(product_id) > MAX_ID_LENGTH:
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
    actions = [Product.updated_at.set(now_iso())]
    if "name" in data:
        actions.append(Product.name.set(data["name"]))
    if "price" in data:
        actions.append(Product.price.set(money(data["price"], "price")))
    if "description" in data:
        actions.append(Product.description.set(data["description"]))
    if "stock" in data:
        actions.append(Product.stock.set(data["stock"]))
    try:
        product.update(actions=actions, condition=Product.product_id.exists())
    except UpdateError as exc:
        if aws_error_code(exc) == "ConditionalCheckFailedException":
            raise Conflict(
                f"product {product_id} was changed by someone else; read it again and retry"
            ) from None
        raise
    return product_view(product)


def delete_product(product_id: str) -> None:
    if not product_id or len(product_id) > MAX_ID_LENGTH:
        raise _not_found(product_id)
    try:
        Product(product_id).delete(
            condition=Product.product_id.exists(), add_version_condition=False
        )
    except DeleteError as exc:
        if aws_error_code(exc) == "ConditionalCheckFailedException":
            raise _not_found(product_id) from None
        raise
