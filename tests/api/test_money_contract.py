"""Money in the contract (issue #25 item 5), checked with a standard validator.

Before: a price was a JSON number declared with ``multipleOf: 0.01``. The server took
19.99, but Python's jsonschema (Draft 2020-12) rejects 19.99, 0.07 and 0.29 as "not a
multiple of 0.01" (19.99 / 0.01 is 1998.9999999999998 in IEEE doubles), so a client that
validated against ``/openapi.json`` refused the shop's own prices. After: every amount is a
decimal string in the currency's exponent; the old number form is still taken on the
fields that had it, for one release (docs/api.md#money).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tests.api.test_products import raw_item
from tests.factories import line

AMOUNTS = ["19.99", "0.07", "0.29"]


@pytest.fixture
def document(api) -> dict[str, Any]:
    reply = api.get("/openapi.json")
    assert reply.status == 200
    return dict(reply.body)


def validator(document: dict[str, Any], pointer: str) -> Draft202012Validator:
    """A standard 2020-12 validator of the schema at ``pointer`` in the served document."""
    registry = Registry().with_resource(
        "urn:shop", Resource(contents=document, specification=DRAFT202012)
    )
    return Draft202012Validator({"$ref": f"urn:shop#{pointer}"}, registry=registry)


def body_schema(document: dict[str, Any], path: str, method: str) -> str:
    body = document["paths"][path][method]["requestBody"]["content"]["application/json"]
    return str(body["schema"]["$ref"]).removeprefix("#")


def response_schema(document: dict[str, Any], path: str, method: str, status: int) -> str:
    answer = document["paths"][path][method]["responses"][str(status)]
    return str(answer["content"]["application/json"]["schema"]["$ref"]).removeprefix("#")


def test_the_old_declaration_is_what_standard_validators_refuse():
    # The failure the issue measured, so this file fails if the numbers come back.
    old = Draft202012Validator({"type": "number", "multipleOf": 0.01})
    assert [old.is_valid(float(a)) for a in AMOUNTS] == [False, False, False]


@pytest.mark.parametrize("amount", AMOUNTS)
def test_the_document_accepts_the_amounts_it_used_to_refuse(document, amount):
    assert "multipleOf" not in str(document)
    product = validator(document, "/components/schemas/Product/properties/price")
    assert product.is_valid(amount)
    create = validator(document, body_schema(document, "/products", "post"))
    assert create.is_valid({"name": "Lamp", "price": amount})
    # The deprecated number form validates too (no multipleOf), for the release it stays.
    assert create.is_valid({"name": "Lamp", "price": float(amount)})
    order = validator(document, body_schema(document, "/orders", "post"))
    assert order.is_valid({"items": [{"productId": "p1", "quantity": 1}], "expectedTotal": amount})


@pytest.mark.parametrize("amount", ["19.999", "-1", "1e3", "19,99", " 19.99", ""])
def test_the_document_refuses_what_the_server_refuses(document, amount):
    create = validator(document, body_schema(document, "/products", "post"))
    assert not create.is_valid({"name": "Lamp", "price": amount})


def test_real_answers_conform_to_their_documented_schemas(api, admin, customer, document):
    created = api.create_product(admin, name="Tea", price="0.29", stock=5)
    assert (created["price"], created["currency"]) == ("0.29", "USD")
    api.put(f"/cart/items/{created['productId']}", {"quantity": 3}, token=customer.token)
    cart = api.get("/cart", token=customer.token).body
    order = api.place_order(customer, line(created, 2), expectedTotal="0.58")

    answers = [
        (created, response_schema(document, "/products", "post", 201)),
        (api.get(f"/products/{created['productId']}").body, "/components/schemas/Product"),
        (cart, response_schema(document, "/cart", "get", 200)),
        (order, response_schema(document, "/orders", "post", 201)),
    ]
    for body, pointer in answers:
        errors = [e.message for e in validator(document, pointer).iter_errors(body)]
        assert errors == [], (pointer, body)
    assert (cart["items"][0]["lineTotal"], cart["total"], cart["currency"]) == (
        "0.87",
        "0.87",
        "USD",
    )
    assert (order["items"][0]["unitPrice"], order["total"], order["currency"]) == (
        "0.29",
        "0.58",
        "USD",
    )


def test_a_price_changed_answer_conforms_and_names_the_currency(api, admin, customer, document):
    product = api.create_product(admin, price="0.07", stock=5)
    reply = api.order(customer, line(product, 3), expectedTotal="0.20")

    assert reply.status == 409, reply.body
    assert (reply.body["code"], reply.body["total"]) == ("PriceChanged", "0.21")
    assert reply.body["error"] == "the total is now 0.21 USD, not 0.20 USD"
    schema = response_schema(document, "/orders", "post", 409)
    assert [e.message for e in validator(document, schema).iter_errors(reply.body)] == []


@pytest.mark.parametrize("amount", AMOUNTS)
def test_a_legacy_number_still_creates_the_exact_price_and_is_counted(api, admin, capsys, amount):
    capsys.readouterr()
    reply = api.post(
        "/products", raw=f'{{"name": "Old client", "price": {amount}}}', token=admin.token
    )

    assert reply.status == 201, reply.body
    assert reply.body["price"] == amount
    assert Decimal(raw_item(reply.body["productId"])["price"]["N"]) == Decimal(amount)
    assert "LegacyMoneyInput" in capsys.readouterr().out


def test_a_string_amount_is_not_counted_as_legacy(api, admin, capsys):
    capsys.readouterr()
    assert api.create_product(admin, price="19.99")["price"] == "19.99"
    assert "LegacyMoneyInput" not in capsys.readouterr().out


@pytest.mark.parametrize("price", ["19.999", '"19.999"'])
def test_three_decimals_are_a_400_naming_price_in_either_form(api, admin, price):
    reply = api.post("/products", raw=f'{{"name": "Lamp", "price": {price}}}', token=admin.token)

    assert reply.status == 400, reply.body
    assert reply.body["code"] == "ValidationError"
    assert reply.body["field"] == "price"
    assert "at most 2 decimals" in reply.body["error"]
    assert api.get("/products").body["items"] == []
