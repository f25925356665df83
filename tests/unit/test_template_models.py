"""The PynamoDB models and ``infra/resources.json`` describe the same tables.

Everything on the model side comes from the models' own metadata (``_get_schema``,
``_indexes``, ``_ttl_attribute``), so adding a key or index to one side only fails here.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from pynamodb.attributes import TTLAttribute
from pynamodb.models import Model

from chalicelib.config import get_settings
from chalicelib.models import (
    ALL_MODELS,
    AddressBook,
    CartRecord,
    CategoryCount,
    IdempotencyRecord,
    Order,
    Product,
    UserRecord,
)

TEMPLATE = Path(__file__).resolve().parents[2] / "infra" / "resources.json"


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return json.loads(TEMPLATE.read_text())


def substitute(value: Any, parameters: dict[str, str]) -> str:
    """Resolve a plain string or ``{"Fn::Sub": "..."}`` with the given parameters only."""
    if isinstance(value, str):
        return value
    assert set(value) == {"Fn::Sub"}, value
    text = value["Fn::Sub"]
    names = set(re.findall(r"\$\{([^}]+)\}", text))
    assert names <= set(parameters), f"unexpected parameters {names - set(parameters)} in {text}"
    return re.sub(r"\$\{([^}]+)\}", lambda m: parameters[m.group(1)], text)


@pytest.fixture(scope="module")
def tables(template) -> dict[str, dict[str, Any]]:
    """Table properties by the TableName the test stage resolves to."""
    settings = get_settings()
    assert settings.stage == "test"
    parameters = {"AppName": settings.app_name, "Stage": settings.stage}
    found = {}
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] == "AWS::DynamoDB::Table":
            properties = resource["Properties"]
            name = substitute(properties["TableName"], parameters)
            assert name not in found, f"{logical_id} reuses table name {name}"
            found[name] = properties
    return found


def key_schema(entries: list[dict[str, str]]) -> set[tuple[str, str]]:
    return {(e["AttributeName"], e["KeyType"]) for e in entries}


def attribute_types(entries: list[dict[str, str]]) -> dict[str, str]:
    types = {e["AttributeName"]: e["AttributeType"] for e in entries}
    assert len(types) == len(entries), f"duplicate attribute definitions: {entries}"
    return types


def models_by_table() -> dict[str, list[type[Model]]]:
    grouped: dict[str, list[type[Model]]] = defaultdict(list)
    for model in ALL_MODELS:
        grouped[model.Meta.table_name].append(model)
    return grouped


MODEL_IDS = [m.__name__ for m in ALL_MODELS]


def test_every_model_is_listed_and_orders_share_a_table():
    names = {m.__name__ for m in ALL_MODELS}
    assert names == {
        "UserRecord",
        "CartRecord",
        "AddressBook",
        "Product",
        "CategoryCount",
        "Order",
        "IdempotencyRecord",
    }
    assert IdempotencyRecord.Meta.table_name == Order.Meta.table_name
    assert CartRecord.Meta.table_name == UserRecord.Meta.table_name
    assert AddressBook.Meta.table_name == UserRecord.Meta.table_name
    assert CategoryCount.Meta.table_name == Product.Meta.table_name


@pytest.mark.parametrize("model", ALL_MODELS, ids=MODEL_IDS)
def test_model_table_name_is_the_template_table_name_for_this_stage(model, tables):
    assert model.Meta.table_name in tables, (model.Meta.table_name, sorted(tables))


def test_every_template_table_has_a_model(tables):
    assert set(tables) == set(models_by_table())


def test_table_names_follow_the_app_stage_prefix(tables):
    settings = get_settings()
    for name in tables:
        assert name.startswith(f"{settings.app_name}-{settings.stage}-"), name


@pytest.mark.parametrize("model", ALL_MODELS, ids=MODEL_IDS)
def test_primary_key_matches(model, tables):
    schema = model._get_schema()
    properties = tables[model.Meta.table_name]
    assert key_schema(schema["key_schema"]) == key_schema(properties["KeySchema"])
    declared = attribute_types(properties["AttributeDefinitions"])
    for name, kind in attribute_types(schema["attribute_definitions"]).items():
        assert declared.get(name) == kind, (
            f"{model.__name__}.{name}: {kind} vs {declared.get(name)}"
        )


@pytest.mark.parametrize("table_name", sorted(models_by_table()))
def test_indexes_match(table_name, tables):
    properties = tables[table_name]
    template_indexes = {
        index["IndexName"]: index for index in properties.get("GlobalSecondaryIndexes", [])
    }
    assert "LocalSecondaryIndexes" not in properties
    model_indexes: dict[str, dict[str, Any]] = {}
    for model in models_by_table()[table_name]:
        schema = model._get_schema()
        assert schema["local_secondary_indexes"] == []
        for index in schema["global_secondary_indexes"]:
            assert index["index_name"] not in model_indexes, f"{index['index_name']} twice"
            model_indexes[index["index_name"]] = index
    assert set(model_indexes) == set(template_indexes)

    declared = attribute_types(properties["AttributeDefinitions"])
    for name, index in model_indexes.items():
        in_template = template_indexes[name]
        assert key_schema(index["key_schema"]) == key_schema(in_template["KeySchema"]), name
        assert index["projection"] == in_template["Projection"], name
        for attribute, kind in attribute_types(index["attribute_definitions"]).items():
            assert declared.get(attribute) == kind, f"{name}.{attribute}"


def test_order_indexes_are_the_ones_the_code_queries():
    # The GSIs the order listings, the fulfilment queue and the sweeper use.
    assert Order.by_user.Meta.index_name in Order._indexes
    assert Order.by_created.Meta.index_name in Order._indexes
    assert Order.unannounced.Meta.index_name in Order._indexes
    assert Order.by_status.Meta.index_name in Order._indexes
    assert Order.awaiting_payment.Meta.index_name in Order._indexes
    assert len(Order._indexes) == 5


@pytest.mark.parametrize("table_name", sorted(models_by_table()))
def test_attribute_definitions_are_exactly_the_key_attributes(table_name, tables):
    # CloudFormation rejects a definition no key uses, and a key without a definition.
    properties = tables[table_name]
    used = {name for name, _ in key_schema(properties["KeySchema"])}
    for index in properties.get("GlobalSecondaryIndexes", []):
        used |= {name for name, _ in key_schema(index["KeySchema"])}
    assert set(attribute_types(properties["AttributeDefinitions"])) == used


def ttl_attribute_names(model: type[Model]) -> set[str]:
    return {
        attribute.attr_name
        for attribute in model.get_attributes().values()
        if isinstance(attribute, TTLAttribute)
    }


@pytest.mark.parametrize("table_name", sorted(models_by_table()))
def test_ttl_attribute_matches(table_name, tables):
    spec = tables[table_name].get("TimeToLiveSpecification")
    model_ttls = set().union(*(ttl_attribute_names(m) for m in models_by_table()[table_name]))
    if spec is None:
        assert model_ttls == set()
    else:
        assert spec["Enabled"] is True
        assert model_ttls == {spec["AttributeName"]}


def test_idempotency_records_expire_through_the_orders_table_ttl(tables):
    spec = tables[IdempotencyRecord.Meta.table_name]["TimeToLiveSpecification"]
    assert IdempotencyRecord._ttl_attribute() is IdempotencyRecord.expires_at
    assert IdempotencyRecord.expires_at.attr_name == spec["AttributeName"] == "expiresAt"


def test_idempotency_records_never_appear_in_an_order_index():
    # A GSI only holds items carrying its hash key; IdempotencyRecord must carry none of them.
    record_attributes = {a.attr_name for a in IdempotencyRecord.get_attributes().values()}
    for name, index in Order._indexes.items():
        assert index._hash_key_attribute().attr_name not in record_attributes, name


@pytest.mark.parametrize("model", ALL_MODELS, ids=MODEL_IDS)
def test_key_attributes_are_required_in_the_model(model):
    # A nullable key attribute would let PynamoDB send an item DynamoDB refuses.
    schema = model._get_schema()
    by_attr_name = {a.attr_name: a for a in model.get_attributes().values()}
    for entry in schema["key_schema"]:
        assert by_attr_name[entry["AttributeName"]].null is False


def test_tables_are_on_demand(tables):
    for name, properties in tables.items():
        assert properties["BillingMode"] == "PAY_PER_REQUEST", name


def test_tables_created_from_the_template_match_the_models(aws):
    """What the test stack actually created (moto's reading of the template) agrees too."""
    import boto3

    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    for table_name, models in models_by_table().items():
        described = dynamodb.describe_table(TableName=table_name)["Table"]
        for model in models:
            schema = model._get_schema()
            assert key_schema(described["KeySchema"]) == key_schema(schema["key_schema"])
        created = {
            index["IndexName"]: key_schema(index["KeySchema"])
            for index in described.get("GlobalSecondaryIndexes", [])
        }
        expected = {
            index["index_name"]: key_schema(index["key_schema"])
            for model in models
            for index in model._get_schema()["global_secondary_indexes"]
        }
        assert created == expected, table_name
