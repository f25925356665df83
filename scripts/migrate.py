"""``make migrate STAGE=dev``: give rows written before the storefront their index keys.

* Products without ``nameKey`` (written before categories existed) get
  ``category`` (``general`` unless set), ``catalogue`` and ``nameKey`` and are
  counted in their category, in one transaction per product whose condition is
  "still has no ``nameKey``": a row is migrated exactly once, however often or
  concurrently this runs, and an admin edit in between (which indexes the row
  itself) makes the migration skip it.
* Orders whose ``statusShard`` or ``listPartition`` (the sharded keys of the
  ``byStatus`` and ``byCreated`` indexes) is missing or not the one their id and
  status give now (rows from before the sharding, or after a change of
  ``chalicelib.shards.SHARDS``) get them rewritten in one update, conditional on
  the status and the old values being unchanged. An unacknowledged event's
  ``pendingEvent`` (the ``unannounced`` index key) is rewritten the same way, to
  ``<event type>#<shard>``; the subscriber's acknowledgment meanwhile (which removes
  it) makes the update skip the row.

Idempotent and resumable: every row's change is atomic and conditional, so an
interrupted run is finished by running it again (``--start`` skips ahead to a
printed resume key if the table is large). Runs with the operator's credentials.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from scripts.project import region, stage_environment, stage_parser


@dataclass
class Tally:
    examined: int = 0
    migrated: int = 0
    skipped: int = 0


def _scan(
    table: str, start: dict[str, Any] | None, visit: Callable[[dict[str, Any]], None]
) -> None:
    from chalicelib.aws import client

    dynamodb = client("dynamodb")
    kwargs: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
    if start:
        kwargs["ExclusiveStartKey"] = start
    while True:
        page = dynamodb.scan(**kwargs)
        for raw in page.get("Items", []):
            visit(raw)
        last = page.get("LastEvaluatedKey")
        if not last:
            return
        print(f"resume key: {json.dumps(last)}", file=sys.stderr)
        kwargs["ExclusiveStartKey"] = last


def migrate_products(start: dict[str, Any] | None = None) -> Tally:
    from chalicelib import transactions
    from chalicelib.models import CATALOGUE_PARTITION, NOT_PRODUCT_PREFIXES, Product, name_key
    from chalicelib.products import count_in_category
    from chalicelib.transactions import ConditionsFailed, Transaction

    tally = Tally()

    def visit(raw: dict[str, Any]) -> None:
        if raw["productId"]["S"].startswith(NOT_PRODUCT_PREFIXES) or "nameKey" in raw:
            return
        tally.examined += 1
        product = Product.from_raw_data(raw)
        category = product.category_or_default

        def build(tx: Transaction) -> None:
            tx.update(
                product,
                [
                    Product.category.set(category),
                    Product.catalogue.set(CATALOGUE_PARTITION),
                    Product.name_key.set(name_key(product.name)),
                ],
                condition=Product.name_key.does_not_exist(),
                on_fail="already migrated",
            )
            count_in_category(tx, category, 1)

        try:
            transactions.write(build)
            tally.migrated += 1
        except ConditionsFailed:
            tally.skipped += 1  # indexed meanwhile (an edit, another run) or deleted

    _scan(Product.Meta.table_name, start, visit)
    return tally


def migrate_orders(start: dict[str, Any] | None = None) -> Tally:
    from chalicelib import transactions
    from chalicelib.errors import ConcurrentUpdate
    from chalicelib.models import Order

    tally = Tally()

    def visit(raw: dict[str, Any]) -> None:
        if "status" not in raw:
            return  # idempotency records
        order_id, status = raw["orderId"]["S"], raw["status"]["S"]
        # Each sharded key this order should carry now, and what it carries.
        keys = [
            (Order.status_shard, Order.status_shard_for(order_id, status), "statusShard"),
            (Order.list_partition, Order.list_partition_for(order_id), "listPartition"),
        ]
        pending = raw.get("pendingEvent", {}).get("S")
        if pending is not None:  # an unacknowledged event: its ``unannounced`` shard
            event_type = pending.partition("#")[0]
            keys.append(
                (Order.pending_event, Order.pending_event_for(order_id, event_type), "pendingEvent")
            )
        stale = [(attr, want, raw.get(name, {}).get("S")) for attr, want, name in keys]
        stale = [(attr, want, stored) for attr, want, stored in stale if stored != want]
        if not stale:
            return
        tally.examined += 1
        unchanged = Order.status == status
        for attr, _, stored in stale:
            unchanged &= attr.does_not_exist() if stored is None else attr == stored
        try:
            transactions.update_item(
                Order(order_id),
                [attr.set(want) for attr, want, _ in stale],
                condition=unchanged,
                on_fail=ConcurrentUpdate("changed meanwhile"),
            )
            tally.migrated += 1
        except ConcurrentUpdate:
            tally.skipped += 1  # changed meanwhile, by a write that set the new keys itself

    _scan(Order.Meta.table_name, start, visit)
    return tally


def main(argv: list[str] | None = None) -> int:
    parser = stage_parser("Fill the storefront's index keys on existing rows.")
    parser.add_argument("--start", help="a resume key printed by an interrupted run (JSON)")
    parser.add_argument("--table", choices=["products", "orders", "both"], default="both")
    args = parser.parse_args(argv)
    os.environ.update(stage_environment(args.stage))
    os.environ.setdefault("AWS_DEFAULT_REGION", region())
    start = json.loads(args.start) if args.start else None
    if args.table in ("products", "both"):
        print(f"products: {migrate_products(start if args.table == 'products' else None)}")
    if args.table in ("orders", "both"):
        print(f"orders: {migrate_orders(start if args.table == 'orders' else None)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
