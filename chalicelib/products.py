"""The product catalogue: products, categories, and listings by name.

Listings go through two keys-only indexes (``byName`` for everything,
``byCategory`` for one category), sorted by the case-folded name: a page is
one Query reading at most ``limit + 1`` index entries, then one BatchGetItem
of the ``limit`` products, so stock and price are the table's current ones.
The indexes hold no stock, so no order ever writes to them (see docs/storefront.md).
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from chalicelib import audit, money, transactions
from chalicelib.clock import now_iso
from chalicelib.errors import ConcurrentUpdate, NotFound, ValidationError
from chalicelib.models import (
    CATALOGUE_PARTITION,
    CATEGORY_LIST_PARTITION,
    DEFAULT_CATEGORY,
    CategoryCount,
    Product,
    is_product_key,
    name_key,
)
from chalicelib.pagination import paginate
from chalicelib.schemas import CATEGORY_PATTERN, MAX_SEARCH_LENGTH, is_id
from chalicelib.text import echo
from chalicelib.transactions import Transaction

_CATEGORY_RE = re.compile(CATEGORY_PATTERN)
_MAX_ATTEMPTS = 3  # reads of a product being edited concurrently, before a 409
_CHANGED = "changed"  # a delete's condition failed: the product changed or went meanwhile
_LANDED = "landed"  # a new product's id is taken: by our own resent first attempt


def product_view(product: Product) -> dict[str, Any]:
    view: dict[str, Any] = {
        "productId": product.product_id,
        "name": product.name,
        "category": product.category_or_default,
        "price": money.text(product.price),
        "currency": money.CURRENCY,
        "stock": int(product.stock),
        "version": int(product.version),
        "createdAt": product.created_at,
    }
    if product.description is not None:
        view["description"] = product.description
    if product.updated_at is not None:
        view["updatedAt"] = product.updated_at
    return view


def _audited(product: Product) -> dict[str, Any]:
    """What the audit trail records of a product (chalicelib/audit.py)."""
    return {
        "name": product.name,
        "category": product.category_or_default,
        "description": product.description,
        "price": money.text(product.price),
        "stock": int(product.stock),
    }


def _not_found(product_id: str) -> NotFound:
    return NotFound(f"product {echo(product_id)} not found")


def count_in_category(tx: Transaction, category: str, delta: int) -> None:
    """Move this category's product count by ``delta`` within the transaction."""
    counter = CategoryCount(CategoryCount.key_for(category))
    tx.upsert(
        counter,
        [
            CategoryCount.product_count.add(delta),
            CategoryCount.category_list.set(CATEGORY_LIST_PARTITION),
            CategoryCount.slug.set(category),
        ],
    )


def _indexed(product: Product) -> bool:
    """Whether the row has the listing keys (rows from before categories lack them)."""
    return product.name_key is not None


def create_product(data: dict[str, Any], actor: str = audit.OPERATOR) -> dict[str, Any]:
    """``data`` has passed the ``ProductCreate`` schema; the category count and the audit
    entry of ``actor`` (who creates it) are written with it."""
    category = data.get("category", DEFAULT_CATEGORY)
    product = Product(
        str(uuid.uuid4()),
        name=data["name"],
        category=category,
        catalogue=CATALOGUE_PARTITION,
        name_key=name_key(data["name"]),
        description=data.get("description"),
        price=money.parse(data["price"], "price"),
        stock=data.get("stock", 0),
        created_at=now_iso(),
    )

    def build(tx: Transaction) -> None:
        tx.create(product, on_fail=_LANDED)
        count_in_category(tx, category, 1)
        audit.record(
            tx, actor, "product.create", "product", product.product_id, None, _audited(product)
        )

    try:
        transactions.write(build)
    except transactions.ConditionsFailed:
        # The id is new, so only our own earlier attempt can hold it: botocore resent a
        # transaction whose answer was lost (a read timeout), and the first one did land
        # (with its count).
        return product_view(Product.get(product.product_id, consistent_read=True))
    product.version = 1
    return product_view(product)


def load_product(product_id: str) -> Product:
    return _read(product_id)


def _read(product_id: str) -> Product:
    if not is_id(product_id) or not is_product_key(product_id):
        raise _not_found(product_id)
    try:
        return Product.get(product_id, consistent_read=True)
    except DoesNotExist:
        raise _not_found(product_id) from None


def get_product(product_id: str) -> dict[str, Any]:
    return product_view(load_product(product_id))


def _search_prefix(q: str | None) -> str | None:
    if q is None:
        return None
    if not 1 <= len(q) <= MAX_SEARCH_LENGTH or not q.isprintable():
        raise ValidationError(f"q must be 1-{MAX_SEARCH_LENGTH} printable characters", field="q")
    return name_key(q)


def parse_category(value: str | None, field: str = "category") -> str | None:
    if value is None:
        return None
    # fullmatch: Python's "$" also matches before a final newline ("books\n").
    if not _CATEGORY_RE.fullmatch(value):
        raise ValidationError(f"{field} must match {CATEGORY_PATTERN}", field=field)
    return value


def list_products(
    limit: int, cursor: str | None, category: str | None = None, q: str | None = None
) -> dict[str, Any]:
    """Products by name, A to Z ignoring case; optionally one category and/or a name prefix."""
    category = parse_category(category)
    prefix = _search_prefix(q)
    condition = Product.name_key.startswith(prefix) if prefix is not None else None
    scope = "" if prefix is None else f"q={prefix}"  # a cursor resumes only the same search
    if category is None:
        keys, next_cursor = paginate(
            lambda **kw: Product.by_name.query(
                CATALOGUE_PARTITION, range_key_condition=condition, **kw
            ),
            limit=limit,
            cursor=cursor,
            key_names={"productId", "catalogue", "nameKey"},
            fixed={"catalogue": CATALOGUE_PARTITION},
            scope=scope,
        )
    else:
        keys, next_cursor = paginate(
            lambda **kw: Product.by_category.query(category, range_key_condition=condition, **kw),
            limit=limit,
            cursor=cursor,
            key_names={"productId", "category", "nameKey"},
            fixed={"category": category},
            scope=scope,
        )
    ids = [p.product_id for p in keys]
    found = {p.product_id: p for p in Product.batch_get(ids)} if ids else {}
    # A product deleted between the index read and the batch read is simply left out.
    items = [product_view(found[pid]) for pid in ids if pid in found]
    return {"items": items, "nextCursor": next_cursor}


def list_categories() -> dict[str, Any]:
    """Every category with at least one product, by slug; exact counts."""
    counters = CategoryCount.categories.query(
        CATEGORY_LIST_PARTITION, filter_condition=CategoryCount.product_count > 0
    )
    return {"items": [{"category": c.slug, "count": int(c.product_count)} for c in counters]}


def update_product(
    product_id: str, data: dict[str, Any], actor: str = audit.OPERATOR
) -> dict[str, Any]:
    """Read, then write conditional on the version read: a concurrent edit makes this a 409.

    A category change moves one unit between the two counters in the same transaction,
    and ``actor``'s audit entry (the fields changed) is written with it.
    """
    product = load_product(product_id)
    before = _audited(product)
    old_category = product.category_or_default
    new_category = data.get("category", old_category)
    was_indexed = _indexed(product)
    changed_at = now_iso()
    new_name = data.get("name", product.name)
    actions: list[Action] = [
        Product.updated_at.set(changed_at),
        Product.category.set(new_category),
        Product.catalogue.set(CATALOGUE_PARTITION),
        Product.name_key.set(name_key(new_name)),
    ]
    if "name" in data:
        actions.append(Product.name.set(data["name"]))
    price = money.parse(data["price"], "price") if "price" in data else None
    if price is not None:
        actions.append(Product.price.set(price))
    if "description" in data:
        actions.append(Product.description.set(data["description"]))
    if "stock" in data:
        actions.append(Product.stock.set(data["stock"]))
    changed = ConcurrentUpdate(
        f"product {product_id} was changed by someone else; read it again and retry"
    )
    read_version = int(product.version)

    after: dict[str, Any] = {**before, "category": new_category}
    after.update((f, data[f]) for f in ("name", "description", "stock") if f in data)
    if price is not None:
        after["price"] = money.text(price)

    def build(tx: Transaction) -> None:
        tx.update(product, actions, condition=Product.version == read_version, on_fail=changed)
        audit.record(tx, actor, "product.update", "product", product_id, before, after)
        if not was_indexed:
            # A row from before categories starts being counted now (make migrate does the rest).
            count_in_category(tx, new_category, 1)
        elif new_category != old_category:
            count_in_category(tx, old_category, -1)
            count_in_category(tx, new_category, 1)

    transactions.write(build)
    product.version = read_version + 1
    product.updated_at = changed_at
    product.category = new_category
    for field in ("name", "description", "stock"):
        if field in data:
            setattr(product, field, data[field])
    if price is not None:
        product.price = price
    return product_view(product)


def delete_product(product_id: str, actor: str = audit.OPERATOR) -> None:
    """Delete the product, uncount it and record ``actor``'s audit entry in one transaction
    (a read first: which category)."""
    for _ in range(_MAX_ATTEMPTS):
        product = _read(product_id)
        unchanged: Condition = Product.version == int(product.version)

        def build(
            tx: Transaction, product: Product = product, unchanged: Condition = unchanged
        ) -> None:
            # Missing now (deleted meanwhile) also fails here; the next read answers 404.
            tx.delete(product, condition=unchanged, on_fail=_CHANGED)
            audit.record(
                tx, actor, "product.delete", "product", product_id, _audited(product), None
            )
            if _indexed(product):
                count_in_category(tx, product.category_or_default, -1)

        try:
            transactions.write(build)
            return
        except transactions.ConditionsFailed as failed:
            if audit.EntryWritten() in failed.meanings:
                return  # our own resent attempt landed: deleted, and recorded
            continue  # edited (maybe recategorised) meanwhile: read it again
    raise ConcurrentUpdate(f"product {product_id} keeps changing; retry")
