"""The product domain functions, called directly against a fresh moto world."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from pynamodb.exceptions import DoesNotExist, UpdateError

from chalicelib import products
from chalicelib.errors import Conflict, NotFound, ValidationError
from chalicelib.models import Product
from tests.factories import stored_product

ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def new_product(**fields) -> dict:
    return products.create_product({"name": "Lamp", "price": "12.50", **fields})


def stored_count() -> int:
    """Products only: the category counters share the table."""
    return sum(1 for _ in Product.scan(Product.name.exists()))


# --- create / get ----------------------------------------------------------------------------


def test_create_returns_the_view_and_stores_it(aws):
    view = new_product(description="Warm light", stock=4)

    assert view == {
        "productId": view["productId"],
        "name": "Lamp",
        "category": "general",
        "description": "Warm light",
        "price": "12.50",
        "currency": "USD",
        "stock": 4,
        "version": 1,
        "createdAt": view["createdAt"],
    }
    assert ISO_UTC.match(view["createdAt"])
    item = stored_product(view["productId"])
    assert (item.name, item.description, item.stock, item.version) == ("Lamp", "Warm light", 4, 1)
    assert item.price == Decimal("12.50")
    assert isinstance(item.price, Decimal)
    assert products.get_product(view["productId"]) == view


def test_create_defaults_stock_to_zero_and_omits_missing_description(aws):
    view = new_product()
    assert view["stock"] == 0
    assert "description" not in view
    assert "updatedAt" not in view
    assert stored_product(view["productId"]).description is None


def test_each_product_gets_its_own_id(aws):
    ids = {new_product()["productId"] for _ in range(5)}
    assert len(ids) == 5
    assert stored_count() == 5


@pytest.mark.parametrize(
    ("price", "shown"),
    [
        ("19.99", "19.99"),
        ("10", "10.00"),
        ("10.5", "10.50"),
        ("0", "0.00"),
        # The deprecated JSON number form, as parse_json reads it.
        (Decimal("19.99"), "19.99"),
        (10, "10.00"),
        (Decimal("10.50"), "10.50"),
        (0, "0.00"),
    ],
)
def test_price_is_an_exact_decimal_inside_and_a_decimal_string_outside(aws, price, shown):
    view = new_product(price=price)
    assert view["price"] == shown
    assert stored_product(view["productId"]).price == Decimal(price)


def test_price_with_three_decimals_is_rejected_before_anything_is_written(aws):
    with pytest.raises(ValidationError, match="price"):
        new_product(price=Decimal("1.234"))
    assert stored_count() == 0


@pytest.mark.parametrize("product_id", ["", "x" * 65, "y" * 500])
def test_get_with_impossible_id_is_not_found_without_a_read(aws, aws_calls, product_id):
    with pytest.raises(NotFound):
        products.get_product(product_id)
    assert aws_calls.dynamodb() == []


def test_get_unknown_id_is_not_found(aws, aws_calls):
    with pytest.raises(NotFound) as caught:
        products.get_product("x" * 64)
    assert caught.value.status_code == 404
    assert "GetItem" in aws_calls.dynamodb()


# --- update ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "shown"),
    [
        ({"name": "Desk lamp"}, {"name": "Desk lamp"}),
        ({"price": "15"}, {"price": "15.00"}),
        ({"description": "Brighter"}, {"description": "Brighter"}),
        ({"stock": 0}, {"stock": 0}),
        (
            {"name": "Desk lamp", "price": Decimal("0.99"), "description": "", "stock": 1_000_000},
            {"name": "Desk lamp", "price": "0.99", "description": "", "stock": 1_000_000},
        ),
    ],
)
def test_update_changes_only_the_given_fields_and_bumps_the_version(aws, changes, shown):
    before = new_product(description="Warm light", stock=4)

    after = products.update_product(before["productId"], changes)

    assert after == {**before, **shown, "version": 2, "updatedAt": after["updatedAt"]}
    assert ISO_UTC.match(after["updatedAt"])
    assert products.get_product(before["productId"]) == after


def test_every_update_bumps_the_version(aws):
    product_id = new_product()["productId"]
    versions = [products.update_product(product_id, {"stock": n})["version"] for n in range(3)]
    assert versions == [2, 3, 4]
    assert stored_product(product_id).version == 4


def test_update_unknown_product_is_not_found_and_creates_nothing(aws):
    with pytest.raises(NotFound):
        products.update_product("no-such-product", {"stock": 3})
    assert stored_count() == 0


def test_update_with_bad_price_writes_nothing(aws):
    product_id = new_product(stock=4)["productId"]
    with pytest.raises(ValidationError, match="price"):
        products.update_product(product_id, {"price": Decimal("2.001"), "stock": 9})
    item = stored_product(product_id)
    assert (item.stock, item.version, item.updated_at) == (4, 1, None)


def test_two_writers_at_the_same_version_first_wins_second_is_refused(aws):
    """The model-level guarantee the domain relies on: PynamoDB's VersionAttribute condition."""
    product_id = new_product(stock=5)["productId"]
    first, second = stored_product(product_id), stored_product(product_id)
    assert first.version == second.version == 1

    first.update(actions=[Product.stock.set(7)])
    with pytest.raises(UpdateError) as caught:
        second.update(actions=[Product.stock.set(1)])

    assert caught.value.cause_response_code == "ConditionalCheckFailedException"
    item = stored_product(product_id)
    assert (item.stock, item.version) == (7, 2)


def test_stale_domain_update_is_a_conflict_and_does_not_overwrite(aws, monkeypatch):
    product_id = new_product(stock=5)["productId"]
    stale = stored_product(product_id)  # read by the slower admin
    winner = products.update_product(product_id, {"stock": 7, "name": "Winner"})
    monkeypatch.setattr(products, "load_product", lambda _id: stale)

    with pytest.raises(Conflict) as caught:
        products.update_product(product_id, {"stock": 1})

    assert caught.value.status_code == 409
    assert caught.value.code == "ConcurrentUpdate"
    assert product_id in caught.value.message
    monkeypatch.undo()
    assert products.get_product(product_id) == winner


def test_update_racing_a_delete_does_not_resurrect_the_product(aws, monkeypatch):
    product_id = new_product(stock=5)["productId"]
    loaded = stored_product(product_id)
    products.delete_product(product_id)
    monkeypatch.setattr(products, "load_product", lambda _id: loaded)

    with pytest.raises((Conflict, NotFound)):
        products.update_product(product_id, {"stock": 1})

    with pytest.raises(DoesNotExist):
        stored_product(product_id)


# --- delete ----------------------------------------------------------------------------------


def test_delete_removes_the_product_and_a_second_delete_is_not_found(aws):
    keep = new_product(name="Keep")["productId"]
    gone = new_product(name="Gone")["productId"]

    products.delete_product(gone)

    with pytest.raises(NotFound):
        products.get_product(gone)
    with pytest.raises(NotFound):
        products.delete_product(gone)
    assert products.get_product(keep)["name"] == "Keep"


def test_delete_works_whatever_the_version(aws):
    product_id = new_product()["productId"]
    products.update_product(product_id, {"stock": 1})
    products.update_product(product_id, {"stock": 2})
    products.delete_product(product_id)
    assert stored_count() == 0


@pytest.mark.parametrize("product_id", ["", "z" * 65, "never-created"])
def test_delete_unknown_is_not_found_and_writes_nothing(aws, product_id):
    new_product()
    with pytest.raises(NotFound):
        products.delete_product(product_id)
    assert stored_count() == 1


# --- list ------------------------------------------------------------------------------------


def test_list_empty_catalogue(aws):
    assert products.list_products(20, None) == {"items": [], "nextCursor": None}


def test_list_walks_every_product_exactly_once(aws):
    created = {new_product(name=f"P{i}")["productId"]: f"P{i}" for i in range(7)}
    seen: list[str] = []
    sizes: list[int] = []
    cursor = None
    while True:
        page = products.list_products(3, cursor)
        sizes.append(len(page["items"]))
        seen.extend(item["productId"] for item in page["items"])
        for item in page["items"]:
            assert item == products.get_product(item["productId"])
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert sizes == [3, 3, 1]
    assert sorted(seen) == sorted(created)


def test_list_with_a_bad_cursor_is_a_validation_error(aws):
    new_product()
    with pytest.raises(ValidationError, match="cursor"):
        products.list_products(20, "bm90LWEtY3Vyc29y")


# --- view ------------------------------------------------------------------------------------


def test_view_of_a_stored_product_uses_api_field_names(aws):
    product_id = new_product(description="d")["productId"]
    products.update_product(product_id, {"stock": 2})
    view = products.product_view(stored_product(product_id))
    assert set(view) == {
        "productId",
        "name",
        "category",
        "description",
        "price",
        "currency",
        "stock",
        "version",
        "createdAt",
        "updatedAt",
    }
    assert type(view["stock"]) is int
    assert type(view["version"]) is int
