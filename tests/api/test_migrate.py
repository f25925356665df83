"""``make migrate``: rows from before the storefront get their index keys, exactly once."""

from __future__ import annotations

import boto3
import pytest

from chalicelib.models import Order, Product
from chalicelib.shards import SHARDS, shard_of
from scripts.migrate import migrate_orders, migrate_products


def put_legacy_product(product_id: str, name: str, category: str | None = None) -> None:
    item = {
        "productId": {"S": product_id},
        "name": {"S": name},
        "price": {"N": "2"},
        "stock": {"N": "5"},
        "version": {"N": "1"},
        "createdAt": {"S": "2025-01-01T00:00:00.000Z"},
    }
    if category:
        item["category"] = {"S": category}
    boto3.client("dynamodb", region_name="us-east-1").put_item(
        TableName=Product.Meta.table_name, Item=item
    )


def put_legacy_order(order_id: str, status: str) -> None:
    boto3.client("dynamodb", region_name="us-east-1").put_item(
        TableName=Order.Meta.table_name,
        Item={
            "orderId": {"S": order_id},
            "userId": {"S": "u1"},
            "status": {"S": status},
            "items": {"L": []},
            "total": {"N": "0"},
            "createdAt": {"S": f"2025-01-01T00:00:00.{order_id[-3:]}Z"},
            "listPartition": {"S": "ORDER"},
        },
    )


@pytest.fixture
def legacy(api, admin):
    api.create_product(admin, name="New one", category="books")
    put_legacy_product("old-1", "zither")
    put_legacy_product("old-2", "Abacus")
    for i in range(6):
        put_legacy_order(f"order-{i:03}", "CONFIRMED" if i % 2 else "PENDING")


def test_legacy_rows_read_as_general_but_are_not_listed_until_migrated(api, legacy):
    assert api.get("/products/old-1").body["category"] == "general"
    assert [p["name"] for p in api.get("/products").body["items"]] == ["New one"]


def test_migration_lists_counts_and_is_idempotent(api, admin, legacy):
    first = migrate_products()
    assert (first.migrated, first.skipped) == (2, 0)
    listed = [p["name"] for p in api.get("/products").body["items"]]
    assert listed == ["Abacus", "New one", "zither"]
    assert api.get("/products?category=general&q=ZI").body["items"][0]["productId"] == "old-1"
    counts = {c["category"]: c["count"] for c in api.get("/categories").body["items"]}
    assert counts == {"books": 1, "general": 2}
    again = migrate_products()
    assert again.migrated == 0 and again.examined == 0
    assert {c["category"]: c["count"] for c in api.get("/categories").body["items"]} == counts


def test_a_row_indexed_by_an_edit_is_not_counted_twice(api, admin, legacy):
    assert api.put("/products/old-1", {"stock": 9}, token=admin.token).status == 200
    tally = migrate_products()
    assert tally.migrated == 1
    counts = {c["category"]: c["count"] for c in api.get("/categories").body["items"]}
    assert counts["general"] == 2


def test_orders_get_their_status_shard_and_join_the_queue(api, admin, legacy):
    assert api.get("/orders?status=CONFIRMED", token=admin.token).body["items"] == []
    tally = migrate_orders()
    assert tally.migrated == 6
    queue = api.get("/orders?status=CONFIRMED", token=admin.token).body["items"]
    assert [o["orderId"] for o in queue] == ["order-005", "order-003", "order-001"]
    stored = Order.get("order-001")
    assert stored.status_shard == f"CONFIRMED#{shard_of('order-001')}"
    assert migrate_orders().migrated == 0


def test_orders_from_before_sharding_join_the_admin_listing(api, admin, legacy):
    # Written with the old constant key "ORDER": the sharded listing does not see them.
    assert api.get("/orders", token=admin.token).body["items"] == []
    assert migrate_orders().migrated == 6
    listed = [o["orderId"] for o in api.get("/orders", token=admin.token).body["items"]]
    assert listed == [f"order-{i:03}" for i in reversed(range(6))]
    assert Order.get("order-004").list_partition == f"ORDER#{shard_of('order-004')}"
    again = migrate_orders()
    assert (again.examined, again.migrated) == (0, 0)


def test_unacknowledged_events_move_to_their_unannounced_shard(api, admin, legacy):
    table = boto3.client("dynamodb", region_name="us-east-1")
    for order_id in ("order-000", "order-002"):  # PENDING, OrderPlaced not acknowledged
        table.update_item(
            TableName=Order.Meta.table_name,
            Key={"orderId": {"S": order_id}},
            UpdateExpression="SET pendingEvent = :e, eventAt = :at",
            ExpressionAttributeValues={
                ":e": {"S": "OrderPlaced"},
                ":at": {"S": "2025-01-01T00:00:00.000Z"},
            },
        )
    assert migrate_orders().migrated == 6
    for order_id in ("order-000", "order-002"):
        stored = Order.get(order_id)
        assert stored.pending_event == f"OrderPlaced#{shard_of(order_id)}"
        assert stored.pending_event_type == "OrderPlaced"
    sharded = {
        o.order_id
        for shard in range(SHARDS)
        for o in Order.unannounced.query(f"OrderPlaced#{shard}")
    }
    assert sharded == {"order-000", "order-002"}
    assert list(Order.unannounced.query("OrderPlaced")) == []
    assert Order.get("order-001").pending_event is None  # acknowledged rows stay out
    assert migrate_orders().migrated == 0
