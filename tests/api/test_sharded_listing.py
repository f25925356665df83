"""The admin listing over the sharded ``byCreated`` index (issue #15): writes spread over
``SHARDS`` partitions, pages merge them newest first, and a page reads a bounded number
of items whatever the table size (counted, never timed)."""

from __future__ import annotations

import math
from collections import Counter
from datetime import UTC, datetime, timedelta

from chalicelib import orders
from chalicelib.models import ORDER_LIST_PARTITION, Order, OrderLine
from chalicelib.order_lifecycle import CONFIRMED
from chalicelib.shards import SHARDS, PageRead, shard_keys, shard_of

START = datetime(2026, 3, 1, tzinfo=UTC)


def guaranteed_items(limit: int) -> int:
    """The most items a page can read, whatever the data (chalicelib/shards.py)."""
    return limit + SHARDS * (math.ceil(limit / SHARDS) + 1) - 1


def guaranteed_queries(limit: int) -> int:
    return SHARDS + limit // 2


# With ids hashed evenly the page reads far less: 7-14 extra items for limits 1-100 over
# 4 shards, in at most 2 rounds (measured; deterministic for these ids).
EVEN_EXTRA = 4 * SHARDS


def _bulk_orders(count: int, ids_from: list[str] | None = None) -> list[str]:
    """``count`` orders one second apart, oldest first (ids ``bulk-…`` or ``ids_from``)."""
    ids = []
    with Order.batch_write() as batch:
        for i in range(count):
            order_id = ids_from[i] if ids_from else f"bulk-{i:05d}"
            created = (START + timedelta(seconds=i)).isoformat(timespec="milliseconds")
            batch.save(
                Order(
                    order_id,
                    user_id=f"user-{i % 7}",
                    status=CONFIRMED,
                    items=[
                        OrderLine(product_id="p", name="P", quantity=1, unit_price=1, line_total=1)
                    ],
                    total=1,
                    created_at=created.replace("+00:00", "Z"),
                    list_partition=Order.list_partition_for(order_id),
                )
            )
            ids.append(order_id)
    return ids


def test_a_placed_order_is_written_to_one_of_the_shards(api, admin):
    product = api.create_product(admin, stock=50)
    placed = [
        api.post(
            "/orders", {"items": [{"productId": product["productId"], "quantity": 1}]},
            token=admin.token,
        ).body["orderId"]
        for _ in range(12)
    ]  # fmt: skip
    partitions = {Order.get(i).list_partition for i in placed}
    assert partitions <= set(shard_keys(ORDER_LIST_PARTITION))
    assert len(partitions) > 1  # 12 ids all hashing to one of 4 shards: (1/4)**11


def test_pages_merge_every_shard_newest_first_and_read_a_bounded_number_of_items(aws):
    ids = _bulk_orders(400)
    assert len(Counter(Order.list_partition_for(i) for i in ids)) == SHARDS

    for limit in (7, 20, 100):
        seen: list[str] = []
        cursor = None
        while True:
            stats = PageRead()
            page = orders.all_orders(limit, cursor, stats)
            assert stats.items_read <= limit + EVEN_EXTRA, (limit, stats)
            assert stats.queries <= 2 * SHARDS, (limit, stats)
            seen += [o["orderId"] for o in page["items"]]
            cursor = page["nextCursor"]
            if cursor is None:
                break
        assert seen == list(reversed(ids)), limit


def test_the_worst_case_all_newest_orders_in_one_shard_stays_within_the_guaranteed_bound(aws):
    """One shard holds every newest order: the others' first-round reads are all wasted,
    and the hot shard is refilled in shrinking rounds. Still within the guarantee."""
    candidates = (f"hot-{i:05d}" for i in range(10_000))
    cold = [i for i in candidates if shard_of(i) != 0][:150]
    hot = [i for i in (f"hot-{i:05d}" for i in range(10_000)) if shard_of(i) == 0][:250]
    ids = _bulk_orders(400, ids_from=cold + hot)  # the hot shard's orders are the newest

    for limit in (7, 20, 100):
        stats = PageRead()
        page = orders.all_orders(limit, None, stats)
        assert [o["orderId"] for o in page["items"]] == list(reversed(ids))[:limit]
        assert stats.items_read <= guaranteed_items(limit), (limit, stats)
        assert stats.queries <= guaranteed_queries(limit), (limit, stats)
        # Nearly reached: each cold shard's first-round share is read and not returned.
        wasted = (SHARDS - 1) * (math.ceil(limit / SHARDS) + 1)
        assert stats.items_read >= limit + wasted, (limit, stats)


def test_a_cursor_from_another_listing_is_a_400(api, admin):
    reply = api.get("/orders?cursor=bm90LWEtY3Vyc29y", token=admin.token)
    assert reply.status == 400 and reply.body["code"] == "ValidationError"
