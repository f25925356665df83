"""Every product route and its error cases, through ``chalice.test.Client`` on moto."""

from __future__ import annotations

import base64
import json
import re
from decimal import Decimal
from typing import Any

import boto3
import pytest

from chalicelib import products
from chalicelib.models import Product

ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"


def assert_error(reply, status: int, code: str | None = None, mentions: str | None = None) -> None:
    """Every error the app produces is JSON ``{error, code}`` with a human message."""
    assert reply.status == status, (reply.status, reply.body)
    assert isinstance(reply.body, dict), reply.body
    assert isinstance(reply.body.get("error"), str), reply.body
    assert reply.body["error"]
    assert isinstance(reply.body.get("code"), str), reply.body
    if code is not None:
        assert reply.body["code"] == code, reply.body
    if mentions is not None:
        assert mentions in reply.body["error"], reply.body


def raw_item(product_id: str) -> dict[str, Any] | None:
    """The item exactly as DynamoDB holds it, bypassing PynamoDB."""
    client = boto3.client("dynamodb", region_name="us-east-1")
    reply = client.get_item(
        TableName=Product.Meta.table_name, Key={"productId": {"S": product_id}}, ConsistentRead=True
    )
    return reply.get("Item")


def all_products(api) -> list[dict[str, Any]]:
    reply = api.get("/products?limit=100")
    assert reply.status == 200
    return reply.body["items"]


def seed(count: int) -> set[str]:
    """Products created through the domain layer: faster than the API, same items."""
    return {
        products.create_product({"name": f"Item {i}", "price": Decimal(i), "stock": i})["productId"]
        for i in range(count)
    }


@pytest.fixture
def product(api, admin) -> dict[str, Any]:
    return api.create_product(admin, name="Lamp", price="12.50", stock=3, description="Warm light")


# --- create ----------------------------------------------------------------------------------


def test_admin_creates_and_anyone_reads_a_product(api, admin):
    reply = api.post(
        "/products",
        {"name": "Lamp", "price": "12.50", "stock": 3, "description": "Warm light"},
        token=admin.token,
    )

    assert reply.status == 201
    created = reply.body
    assert created == {
        "productId": created["productId"],
        "name": "Lamp",
        "category": "general",
        "description": "Warm light",
        "price": "12.50",
        "currency": "USD",
        "stock": 3,
        "version": 1,
        "createdAt": created["createdAt"],
    }
    assert re.fullmatch(r"[0-9a-f-]{36}", created["productId"])
    assert ISO_UTC.match(created["createdAt"])
    fetched = api.get(f"/products/{created['productId']}")
    assert fetched.status == 200
    assert fetched.body == created


def test_create_defaults_stock_to_zero_without_description(api, admin):
    reply = api.post("/products", {"name": "Bare", "price": "1"}, token=admin.token)
    assert reply.status == 201
    assert reply.body["stock"] == 0
    assert "description" not in reply.body
    assert "updatedAt" not in reply.body


def test_create_accepts_json_content_type_with_charset(api, admin):
    reply = api.post(
        "/products",
        raw='{"name": "Caf\u00e9", "price": "3"}'.encode(),
        token=admin.token,
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    assert reply.status == 201
    assert reply.body["name"] == "Café"


def test_create_anonymous_is_401_and_stores_nothing(api):
    assert_error(api.post("/products", {"name": "Lamp", "price": "1"}), 401, "Unauthorized")
    assert all_products(api) == []


def test_create_with_a_forged_token_is_401(api, admin):
    reply = api.post("/products", {"name": "Lamp", "price": "1"}, token=admin.token + "x")
    assert_error(reply, 401, "Unauthorized")
    assert all_products(api) == []


def test_create_as_customer_is_403_and_stores_nothing(api, customer):
    reply = api.post("/products", {"name": "Lamp", "price": "1"}, token=customer.token)
    assert_error(reply, 403, "Forbidden")
    assert all_products(api) == []


def test_authorization_is_checked_before_the_body(api, customer):
    # An unauthorized caller learns nothing about what a valid body would be.
    assert_error(api.post("/products", raw=b"{not json"), 401, "Unauthorized")
    assert_error(api.post("/products", raw=b"{not json", token=customer.token), 403, "Forbidden")


# --- prices ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("price", "shown"),
    [
        ("19.99", "19.99"),
        ("10", "10.00"),
        ("0", "0.00"),
        ("0.01", "0.01"),
        ("0.1", "0.10"),
        ("1.5", "1.50"),
        ("999999.99", "999999.99"),
        ("1000000", "1000000.00"),
    ],
)
def test_price_round_trips_exactly_as_a_decimal_string(api, admin, price, shown):
    created = api.create_product(admin, price=price)
    assert created["price"] == shown

    response = api.client.http.request("GET", f"/products/{created['productId']}")
    text = response.body.decode()
    assert re.search(rf'"price":\s*"{re.escape(shown)}"[,}}]', text), text


def test_price_is_stored_as_a_dynamodb_number(api, admin):
    created = api.create_product(admin, price="19.99", stock=5)
    item = raw_item(created["productId"])
    assert item["price"] == {"N": "19.99"}
    assert item["stock"] == {"N": "5"}
    assert item["version"] == {"N": "1"}


def test_whole_price_is_stored_as_the_same_number(api, admin):
    created = api.create_product(admin, price="10")
    price = raw_item(created["productId"])["price"]
    assert set(price) == {"N"}
    assert Decimal(price["N"]) == 10


def test_price_written_with_trailing_zeros_or_exponent_is_the_same_amount(api, admin):
    # The deprecated JSON number form (docs/api.md#money), however the number is written.
    for raw, expected in [
        ('"price": 1.50', "1.50"),
        ('"price": 1e2', "100.00"),
        ('"price": 2.10e1', "21.00"),
    ]:
        reply = api.post("/products", raw=f'{{"name": "n", {raw}}}', token=admin.token)
        assert reply.status == 201, reply.body
        assert reply.body["price"] == expected


# --- create validation -----------------------------------------------------------------------

VALID = {"name": "Lamp", "price": "12.50"}

INVALID_BODIES = [
    # (raw JSON body, word the error must mention)
    ('{"price": "1"}', "name"),
    ('{"name": "", "price": "1"}', "name"),
    ('{"name": "   ", "price": "1"}', "name"),
    ('{"name": "\\t\\n", "price": "1"}', "name"),
    (json.dumps({"name": "x" * 201, "price": "1"}), "name"),
    ('{"name": 42, "price": "1"}', "name"),
    ('{"name": null, "price": "1"}', "name"),
    ('{"name": "Lamp"}', "price"),
    ('{"name": "Lamp", "price": -1}', "price"),
    ('{"name": "Lamp", "price": -0.01}', "price"),
    ('{"name": "Lamp", "price": 1000000.01}', "price"),
    ('{"name": "Lamp", "price": 1.234}', "price"),
    ('{"name": "Lamp", "price": 0.001}', "price"),
    ('{"name": "Lamp", "price": "3.001"}', "price"),
    ('{"name": "Lamp", "price": "19.999"}', "price"),
    ('{"name": "Lamp", "price": "-1"}', "price"),
    ('{"name": "Lamp", "price": "1e3"}', "price"),
    ('{"name": "Lamp", "price": "1000000.01"}', "price"),
    ('{"name": "Lamp", "price": "12345678901234567"}', "price"),
    ('{"name": "Lamp", "price": ""}', "price"),
    ('{"name": "Lamp", "price": true}', "price"),
    ('{"name": "Lamp", "price": null}', "price"),
    ('{"name": "Lamp", "price": [1]}', "price"),
    ('{"name": "Lamp", "price": 1e400}', "price"),
    ('{"name": "Lamp", "price": NaN}', "NaN"),
    ('{"name": "Lamp", "price": Infinity}', "Infinity"),
    ('{"name": "Lamp", "price": -Infinity}', "Infinity"),
    ('{"name": "Lamp", "price": 1e99999999999999999999}', "JSON"),
    ('{"name": "Lamp", "price": "1", "stock": 1.5}', "stock"),
    ('{"name": "Lamp", "price": "1", "stock": -1}', "stock"),
    ('{"name": "Lamp", "price": "1", "stock": 1000001}', "stock"),
    ('{"name": "Lamp", "price": "1", "stock": "5"}', "stock"),
    ('{"name": "Lamp", "price": "1", "stock": true}', "stock"),
    ('{"name": "Lamp", "price": "1", "stock": null}', "stock"),
    (json.dumps({"name": "Lamp", "price": "1", "description": "d" * 2001}), "description"),
    ('{"name": "Lamp", "price": "1", "description": 5}', "description"),
    ('{"name": "Lamp", "price": "1", "colour": "red"}', "colour"),
    ('{"name": "Lamp", "price": "1", "productId": "mine"}', "productId"),
    ('{"name": "Lamp", "price": "1", "version": 7}', "version"),
    ('{"name": "\\ud800", "price": "1"}', "surrogate"),
    ('{"name": "Lamp", "price": 1', "JSON"),
    ('{"name": "Lamp", "price": "1"}{}', "JSON"),
    ("{'name': 'Lamp', 'price': 1}", "JSON"),
    ("[" * 30_000 + "]" * 30_000, "JSON"),  # deep, yet under the 64 KiB limit
    ("[]", "object"),
    ('[{"name": "Lamp", "price": "1"}]', "object"),
    ('"Lamp"', "object"),
    ("42", "object"),
    ("null", "object"),
    ("true", "object"),
    ("{}", "name"),
]


@pytest.mark.parametrize(("body", "mentions"), INVALID_BODIES, ids=lambda v: str(v)[:40])
def test_invalid_create_is_400_naming_the_problem_and_stores_nothing(api, admin, body, mentions):
    reply = api.post("/products", raw=body, token=admin.token)
    assert_error(reply, 400, "ValidationError", mentions)
    assert all_products(api) == []


def test_unknown_fields_are_all_named(api, admin):
    reply = api.post("/products", {**VALID, "colour": "red", "size": "L"}, token=admin.token)
    assert_error(reply, 400, "ValidationError")
    assert "colour" in reply.body["error"]
    assert "size" in reply.body["error"]


@pytest.mark.parametrize(
    "body",
    [b"", b'{"name": "\xff", "price": "1"}', b'{"name": "\xc3", "price": "1"}', b"\xef\xbb\xbf{}"],
    ids=["empty", "invalid-utf8", "truncated-utf8", "bom"],
)
def test_empty_or_undecodable_body_is_400(api, admin, body):
    assert_error(api.post("/products", raw=body, token=admin.token), 400, "ValidationError")
    assert all_products(api) == []


@pytest.mark.parametrize(
    ("overrides", "field"),
    [({"name": "x" * 200}, "name"), ({"description": "d" * 2000}, "description")],
)
def test_longest_allowed_text_is_accepted(api, admin, overrides, field):
    created = api.create_product(admin, **overrides)
    assert created[field] == overrides[field]


def test_boundary_numbers_are_accepted(api, admin):
    created = api.create_product(admin, price="0", stock=0)
    assert (created["price"], created["stock"]) == ("0.00", 0)
    created = api.create_product(admin, price="1000000", stock=1_000_000)
    assert (created["price"], created["stock"]) == ("1000000.00", 1_000_000)


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
def test_wrong_content_type_is_415_json(api, admin, content_type):
    reply = api.post(
        "/products",
        raw=json.dumps(VALID),
        token=admin.token,
        headers={"Content-Type": content_type},
    )
    assert_error(reply, 415, "UnsupportedMediaType", "application/json")
    assert all_products(api) == []


# --- get -------------------------------------------------------------------------------------


def test_get_unknown_product_is_404(api):
    assert_error(api.get(f"/products/{UNKNOWN_ID}"), 404, "NotFound", UNKNOWN_ID)


@pytest.mark.parametrize("length", [65, 1000])
def test_get_overlong_id_is_404_without_touching_dynamodb(api, aws_calls, length):
    aws_calls.clear()
    assert_error(api.get("/products/" + "x" * length), 404, "NotFound")
    assert aws_calls.dynamodb() == []


def test_get_longest_possible_id_is_looked_up(api, aws_calls):
    aws_calls.clear()
    assert_error(api.get("/products/" + "x" * 64), 404, "NotFound")
    assert aws_calls.dynamodb() == ["GetItem"]


# --- list ------------------------------------------------------------------------------------


def test_empty_catalogue_lists_nothing(api):
    reply = api.get("/products")
    assert reply.status == 200
    assert reply.body == {"items": [], "nextCursor": None}


def test_list_shows_products_as_get_does(api, admin, product):
    reply = api.get("/products")
    assert reply.status == 200
    assert reply.body == {"items": [product], "nextCursor": None}


def test_list_defaults_to_20_per_page(api):
    ids = seed(21)
    first = api.get("/products")
    assert len(first.body["items"]) == 20
    assert first.body["nextCursor"]
    second = api.get(f"/products?cursor={first.body['nextCursor']}")
    assert len(second.body["items"]) == 1
    assert second.body["nextCursor"] is None
    assert {p["productId"] for p in first.body["items"] + second.body["items"]} == ids


def test_list_allows_at_most_100_per_page(api):
    ids = seed(101)
    first = api.get("/products?limit=100")
    assert first.status == 200
    assert len(first.body["items"]) == 100
    second = api.get(f"/products?limit=100&cursor={first.body['nextCursor']}")
    assert [p["productId"] for p in second.body["items"]] == list(
        ids - {p["productId"] for p in first.body["items"]}
    )
    assert second.body["nextCursor"] is None


def walk(api, limit: int) -> tuple[list[str], list[int], list[str]]:
    seen: list[str] = []
    sizes: list[int] = []
    cursors: list[str] = []
    path = f"/products?limit={limit}"
    for _ in range(50):
        reply = api.get(path)
        assert reply.status == 200, reply.body
        assert set(reply.body) == {"items", "nextCursor"}
        seen.extend(p["productId"] for p in reply.body["items"])
        sizes.append(len(reply.body["items"]))
        cursor = reply.body["nextCursor"]
        if cursor is None:
            return seen, sizes, cursors
        assert isinstance(cursor, str)
        assert re.fullmatch(r"[A-Za-z0-9_-]+", cursor), "cursor must be URL-safe"
        cursors.append(cursor)
        path = f"/products?limit={limit}&cursor={cursor}"
    raise AssertionError("pagination did not end")


def test_walking_the_pages_returns_every_product_exactly_once(api, admin):
    created = {api.create_product(admin, name=f"P{i}")["productId"] for i in range(7)}

    seen, sizes, cursors = walk(api, limit=3)

    assert sizes == [3, 3, 1]
    assert len(seen) == len(set(seen)) == 7
    assert set(seen) == created
    assert len(set(cursors)) == len(cursors) == 2


def test_full_last_page_has_null_cursor_not_an_empty_extra_page(api):
    ids = seed(6)
    seen, sizes, _ = walk(api, limit=3)
    assert sizes == [3, 3]
    assert set(seen) == ids


def test_a_page_reads_at_most_one_item_more_than_it_returns(api, aws_calls):
    seed(10)
    aws_calls.clear()
    reply = api.get("/products?limit=3")
    assert len(reply.body["items"]) == 3
    queries = [params for _, op, params in aws_calls.calls if op == "Query"]
    assert len(queries) == 1
    assert queries[0]["Limit"] == 4
    assert "Scan" not in aws_calls.dynamodb()


@pytest.mark.parametrize("limit", ["0", "101", "abc", "-1", "1.5", "", "1e1", "%C2%B2", "1" * 5000])
def test_bad_limit_is_400(api, limit):
    seed(1)
    assert_error(api.get(f"/products?limit={limit}"), 400, "ValidationError", "limit")


def forged(payload: Any) -> str:
    text = payload if isinstance(payload, str) else json.dumps(payload)
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage!!",
        "abc",
        "A" * 3000,
        forged("not json"),
        forged([]),
        forged({"pk": {"S": "USER#1"}}),
        forged({"orderId": {"S": "o1"}}),
        forged({"productId": "plain"}),
        forged({"productId": {"N": "1"}}),
        forged({"productId": {"S": ""}}),
        forged({"productId": {"S": "a"}, "extra": {"S": "b"}}),
    ],
    ids=lambda c: c[:20],
)
def test_bad_cursor_is_400_json_not_500(api, cursor):
    seed(4)
    assert_error(api.get(f"/products?limit=2&cursor={cursor}"), 400, "ValidationError", "cursor")


def test_tampered_and_truncated_real_cursors_are_400(api):
    seed(5)
    cursor = api.get("/products?limit=2").body["nextCursor"]
    middle = len(cursor) // 2
    flipped = cursor[:middle] + ("A" if cursor[middle] != "A" else "B") + cursor[middle + 1 :]

    for bad in (flipped, cursor[:middle], cursor + "!", cursor + "AAAA"):
        assert_error(api.get(f"/products?limit=2&cursor={bad}"), 400, "ValidationError", "cursor")


def test_cursor_of_a_well_formed_key_the_server_did_not_issue_is_400(api):
    # Before #23 item 1 a forged position was read as one; only issued cursors open now.
    seed(3)
    position = {
        "catalogue": {"S": "PRODUCT"},
        "nameKey": {"S": "item 1"},
        "productId": {"S": UNKNOWN_ID},
    }
    assert_error(api.get(f"/products?cursor={forged(position)}"), 400, "ValidationError", "cursor")


# --- update ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {"name": "Desk lamp"},
        {"price": "15.00"},
        {"price": "0.99"},
        {"description": "Brighter"},
        {"description": ""},
        {"stock": 0},
        {"stock": 1_000_000},
        {"name": "All", "price": "7.25", "description": "New", "stock": 9},
    ],
)
def test_admin_updates_any_subset(api, admin, product, changes):
    reply = api.put(f"/products/{product['productId']}", changes, token=admin.token)

    assert reply.status == 200, reply.body
    assert reply.body == {
        **product,
        **changes,
        "version": 2,
        "updatedAt": reply.body["updatedAt"],
    }
    assert ISO_UTC.match(reply.body["updatedAt"])
    assert api.get(f"/products/{product['productId']}").body == reply.body


def test_each_update_increments_the_version(api, admin, product):
    path = f"/products/{product['productId']}"
    versions = [api.put(path, {"stock": n}, token=admin.token).body["version"] for n in range(3)]
    assert versions == [2, 3, 4]
    assert raw_item(product["productId"])["version"] == {"N": "4"}


def test_updated_price_is_stored_exactly(api, admin, product):
    api.put(f"/products/{product['productId']}", {"price": "19.99"}, token=admin.token)
    assert raw_item(product["productId"])["price"] == {"N": "19.99"}


def test_update_anonymous_is_401_customer_403_and_nothing_changes(api, customer, product):
    path = f"/products/{product['productId']}"
    assert_error(api.put(path, {"stock": 99}), 401, "Unauthorized")
    assert_error(api.put(path, {"stock": 99}, token=customer.token), 403, "Forbidden")
    assert api.get(path).body == product


@pytest.mark.parametrize("product_id", [UNKNOWN_ID, "x" * 65])
def test_update_unknown_product_is_404_and_creates_nothing(api, admin, product_id):
    assert_error(
        api.put(f"/products/{product_id}", {"stock": 1}, token=admin.token), 404, "NotFound"
    )
    assert all_products(api) == []


@pytest.mark.parametrize(
    ("body", "mentions"),
    [
        ("{}", "body"),
        ('{"stock": 1.5}', "stock"),
        ('{"stock": -1}', "stock"),
        ('{"stock": 1, "price": 1.234}', "price"),
        ('{"stock": 1, "price": "1.234"}', "price"),
        ('{"stock": 1, "price": -5}', "price"),
        ('{"stock": 1, "name": ""}', "name"),
        ('{"stock": 1, "colour": "red"}', "colour"),
        ('{"stock": 1, "version": 1}', "version"),
        ('{"stock": 1, "price": NaN}', "NaN"),
        ('{"stock": 1, "description": null}', "description"),
        ('{"stock": 1', "JSON"),
        ("[]", "object"),
        ('"stock"', "object"),
        ("7", "object"),
        ("", "required"),
    ],
    ids=lambda v: str(v)[:30],
)
def test_rejected_update_is_400_and_changes_nothing(api, admin, product, body, mentions):
    path = f"/products/{product['productId']}"
    assert_error(api.put(path, raw=body, token=admin.token), 400, "ValidationError", mentions)
    after = api.get(path).body
    assert after == product
    assert after["stock"] == 3
    assert after["version"] == 1


def test_update_with_wrong_content_type_is_415_and_changes_nothing(api, admin, product):
    path = f"/products/{product['productId']}"
    reply = api.put(
        path, raw='{"stock": 99}', token=admin.token, headers={"Content-Type": "text/plain"}
    )
    assert_error(reply, 415, "UnsupportedMediaType")
    assert api.get(path).body == product


def test_concurrent_edit_is_409_and_the_first_edit_survives(api, admin, product, monkeypatch):
    """Admin B reads the product, admin A saves an edit, then B's save arrives: B gets a 409."""
    product_id = product["productId"]
    real_load = products.load_product

    def load_then_lose_the_race(pid: str) -> Product:
        stale = real_load(pid)
        monkeypatch.setattr(products, "load_product", real_load)  # race once only
        winner = real_load(pid)
        winner.update(actions=[Product.stock.set(50), Product.name.set("Edited by A")])
        return stale

    monkeypatch.setattr(products, "load_product", load_then_lose_the_race)
    reply = api.put(f"/products/{product_id}", {"stock": 1, "price": "1"}, token=admin.token)

    assert_error(reply, 409, "ConcurrentUpdate", product_id)
    current = api.get(f"/products/{product_id}").body
    assert (current["stock"], current["name"], current["price"]) == (50, "Edited by A", "12.50")
    assert current["version"] == 2

    retried = api.put(f"/products/{product_id}", {"stock": 1}, token=admin.token)
    assert retried.status == 200
    assert (retried.body["stock"], retried.body["version"]) == (1, 3)


def test_edit_racing_a_delete_does_not_resurrect_the_product(api, admin, product, monkeypatch):
    product_id = product["productId"]
    real_load = products.load_product

    def load_then_get_deleted(pid: str) -> Product:
        loaded = real_load(pid)
        products.delete_product(pid)
        return loaded

    monkeypatch.setattr(products, "load_product", load_then_get_deleted)
    reply = api.put(f"/products/{product_id}", {"stock": 1}, token=admin.token)

    assert reply.status in (404, 409)
    assert_error(reply, reply.status)
    assert raw_item(product_id) is None


# --- delete ----------------------------------------------------------------------------------


def test_admin_deletes_a_product(api, admin, product):
    other = api.create_product(admin, name="Other")
    path = f"/products/{product['productId']}"

    reply = api.delete(path, token=admin.token)

    assert reply.status == 204
    assert reply.body is None
    assert_error(api.get(path), 404, "NotFound")
    assert_error(api.delete(path, token=admin.token), 404, "NotFound")
    assert all_products(api) == [other]
    assert raw_item(product["productId"]) is None


def test_delete_after_updates_needs_no_version(api, admin, product):
    path = f"/products/{product['productId']}"
    api.put(path, {"stock": 7}, token=admin.token)
    assert api.delete(path, token=admin.token).status == 204
    assert_error(api.get(path), 404, "NotFound")


@pytest.mark.parametrize("product_id", [UNKNOWN_ID, "x" * 65])
def test_delete_unknown_product_is_404(api, admin, product, product_id):
    assert_error(api.delete(f"/products/{product_id}", token=admin.token), 404, "NotFound")
    assert all_products(api) == [product]


def test_delete_anonymous_is_401_customer_403_and_product_stays(api, customer, product):
    path = f"/products/{product['productId']}"
    assert_error(api.delete(path), 401, "Unauthorized")
    assert_error(api.delete(path, token=customer.token), 403, "Forbidden")
    assert api.get(path).body == product


@pytest.mark.parametrize("stock", ["5.0", "5.00", "0.5e1", "5e0"])
def test_a_whole_number_written_with_a_fraction_or_exponent_is_an_integer(api, admin, stock):
    # JSON Schema (and so /openapi.json) counts 5.0 as an integer: the API agrees.
    raw = '{"name": "Lamp", "price": "1", "stock": ' + stock + "}"
    reply = api.request("POST", "/products", raw=raw, token=admin.token)
    assert reply.status == 201, reply.body
    assert reply.body["stock"] == 5
