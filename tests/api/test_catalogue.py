"""Categories, name order, prefix search and exact category counts (issue #12)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import boto3
import pytest

from chalicelib import products
from chalicelib.models import Product
from tests.api.test_products import assert_error


def names(reply) -> list[str]:
    assert reply.status == 200, reply.body
    return [p["name"] for p in reply.body["items"]]


def every_page(api, path: str, limit: int) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    cursor = None
    sep = "&" if "?" in path else "?"
    while True:
        url = f"{path}{sep}limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        reply = api.get(url)
        assert reply.status == 200, reply.body
        assert len(reply.body["items"]) <= limit
        seen += reply.body["items"]
        cursor = reply.body["nextCursor"]
        if cursor is None:
            return seen


@pytest.fixture
def shelf(api, admin) -> dict[str, str]:
    made = {}
    for name, category in [
        ("banana", "fruit"),
        ("Apple", "fruit"),
        ("apricot", "fruit"),
        ("Anvil", "tools"),
        ("hammer", "tools"),
        ("Zebra book", "books"),
        ("atlas", "books"),
        ("Mystery", None),
    ]:
        fields = {"name": name} if category is None else {"name": name, "category": category}
        made[name] = api.create_product(admin, **fields)["productId"]
    return made


def test_category_defaults_to_general_and_is_in_every_view(api, admin):
    created = api.create_product(admin, name="Plain")
    assert created["category"] == "general"
    assert api.get(f"/products/{created['productId']}").body["category"] == "general"
    tagged = api.create_product(admin, name="Tagged", category="home-garden")
    assert tagged["category"] == "home-garden"


@pytest.mark.parametrize("bad", ["", "Books", "-lead", "a" * 41, "sp ace", "émoji", 7])
def test_a_bad_category_is_a_400(api, admin, bad):
    reply = api.post("/products", {"name": "x", "price": "1", "category": bad}, token=admin.token)
    assert_error(reply, 400)


@pytest.mark.parametrize("bad", ["books%0A", "Books", "a%20b"])
def test_a_bad_category_filter_is_a_400(api, bad):
    # "books\n" passed Python's "^...$" (its "$" also matches before a final newline).
    assert_error(api.get(f"/products?category={bad}"), 400)


def test_listing_is_by_name_ignoring_case(api, shelf):
    listed = names(api.get("/products?limit=100"))
    assert listed == sorted(shelf, key=str.casefold)


def test_pages_cover_everything_once_in_order(api, shelf):
    listed = [p["name"] for p in every_page(api, "/products", 3)]
    assert listed == sorted(shelf, key=str.casefold)


def test_category_filter_and_prefix_search_combine(api, shelf):
    assert names(api.get("/products?category=fruit")) == ["Apple", "apricot", "banana"]
    assert names(api.get("/products?q=A")) == ["Anvil", "Apple", "apricot", "atlas"]
    assert names(api.get("/products?q=ap")) == ["Apple", "apricot"]
    assert names(api.get("/products?category=fruit&q=AP")) == ["Apple", "apricot"]
    assert names(api.get("/products?category=books&q=z")) == ["Zebra book"]
    assert names(api.get("/products?category=nothing-here")) == []
    assert names(api.get("/products?q=zz")) == []
    paged = every_page(api, "/products?q=a", 1)
    assert [p["name"] for p in paged] == ["Anvil", "Apple", "apricot", "atlas"]


@pytest.mark.parametrize("query", ["q=", "q=" + "a" * 101, "category=Bad", "category=", "q=%00x"])
def test_bad_filters_are_a_400(api, query):
    assert_error(api.get(f"/products?{query}"), 400, "ValidationError")


def test_a_cursor_of_one_listing_is_refused_by_another(api, shelf):
    cursor = api.get("/products?limit=1").body["nextCursor"]
    assert_error(api.get(f"/products?category=fruit&cursor={cursor}"), 400)


def test_a_page_is_one_query_of_limit_plus_one_and_one_batch_get(api, admin, aws_calls):
    for i in range(30):
        products.create_product({"name": f"p{i:02}", "price": Decimal(1), "category": "bulk"})
    for path in ("/products?limit=5", "/products?limit=5&category=bulk&q=P"):
        aws_calls.clear()
        reply = api.get(path)
        assert reply.status == 200 and len(reply.body["items"]) == 5
        assert aws_calls.dynamodb() == ["Query", "BatchGetItem"]
        query = aws_calls.calls[0][2]
        assert query["Limit"] == 6
        assert "ScanIndexForward" not in query or query["ScanIndexForward"] is True
        batch = aws_calls.calls[1][2]["RequestItems"][Product.Meta.table_name]["Keys"]
        assert len(batch) == 5


def test_no_public_route_scans(api, shelf, aws_calls):
    aws_calls.clear()
    api.get("/products?limit=100")
    api.get("/products?category=fruit&q=a")
    api.get("/categories")
    api.get(f"/products/{shelf['Apple']}")
    assert "Scan" not in aws_calls.dynamodb()


def counts(api) -> dict[str, int]:
    reply = api.get("/categories")
    assert reply.status == 200, reply.body
    slugs = [c["category"] for c in reply.body["items"]]
    assert slugs == sorted(slugs)
    return {c["category"]: c["count"] for c in reply.body["items"]}


def test_category_counts_follow_create_change_and_delete(api, admin, shelf):
    assert counts(api) == {"books": 2, "fruit": 3, "general": 1, "tools": 2}
    reply = api.put(f"/products/{shelf['hammer']}", {"category": "books"}, token=admin.token)
    assert reply.status == 200 and reply.body["category"] == "books"
    assert counts(api) == {"books": 3, "fruit": 3, "general": 1, "tools": 1}
    assert names(api.get("/products?category=tools")) == ["Anvil"]
    assert api.delete(f"/products/{shelf['Anvil']}", token=admin.token).status == 204
    assert api.delete(f"/products/{shelf['Mystery']}", token=admin.token).status == 204
    # Empty categories disappear.
    assert counts(api) == {"books": 3, "fruit": 3}
    # Renaming re-sorts; a PUT without category keeps it.
    api.put(f"/products/{shelf['banana']}", {"name": "Aardvark"}, token=admin.token)
    assert names(api.get("/products?category=fruit")) == ["Aardvark", "Apple", "apricot"]
    assert counts(api)["fruit"] == 3


def test_a_delete_of_a_missing_product_changes_no_count(api, admin, shelf):
    assert api.delete(f"/products/{shelf['atlas']}", token=admin.token).status == 204
    assert_error(api.delete(f"/products/{shelf['atlas']}", token=admin.token), 404)
    assert counts(api)["books"] == 1


def test_a_product_from_before_categories_reads_as_general(api, admin):
    """Rows written before the field existed: no category, no index keys."""
    client = boto3.client("dynamodb", region_name="us-east-1")
    client.put_item(
        TableName=Product.Meta.table_name,
        Item={
            "productId": {"S": "legacy-1"},
            "name": {"S": "Old lamp"},
            "price": {"N": "3"},
            "stock": {"N": "2"},
            "version": {"N": "1"},
            "createdAt": {"S": "2025-01-01T00:00:00.000Z"},
        },
    )
    assert api.get("/products/legacy-1").body["category"] == "general"
    # Its first edit gives it the listing keys and counts it.
    assert api.put("/products/legacy-1", {"price": "4"}, token=admin.token).status == 200
    assert names(api.get("/products?category=general")) == ["Old lamp"]
    assert counts(api) == {"general": 1}
