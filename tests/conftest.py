"""Shared fixtures. The environment is set before the app is imported (config is read once)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import settings

# `make test` is reproducible: the same examples every run. `make fuzz` explores anew.
settings.register_profile("default", derandomize=True, deadline=None)
settings.register_profile("deep", derandomize=False, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "infra" / "resources.json"

for _name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
    os.environ.pop(_name, None)
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "APP_NAME": "shop",
        "APP_STAGE": "test",
        "USERS_TABLE": "shop-test-users",
        "PRODUCTS_TABLE": "shop-test-products",
        "ORDERS_TABLE": "shop-test-orders",
        "ORDER_EVENTS_TOPIC": "shop-test-order-events",
        "ORDER_EVENTS_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:shop-test-order-events",
        "TOKEN_SECRET": "unit-test-signing-key-not-a-real-secret",
        "TOKEN_TTL_SECONDS": "3600",
    }
)


def create_resources(stage: str = "test") -> dict[str, str]:
    """Create the tables and topic from the one template, as the local stack does."""
    import boto3

    cfn = boto3.client("cloudformation", region_name="us-east-1")
    cfn.create_stack(
        StackName=f"shop-{stage}-resources",
        TemplateBody=TEMPLATE.read_text(),
        Parameters=[{"ParameterKey": "Stage", "ParameterValue": stage}],
    )
    stack = cfn.describe_stacks(StackName=f"shop-{stage}-resources")["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


@pytest.fixture
def aws():
    """A fresh moto world with this stage's tables and topic."""
    from moto import mock_aws

    with mock_aws():
        outputs = create_resources()
        assert outputs["OrderEventsTopicArn"] == os.environ["ORDER_EVENTS_TOPIC_ARN"]
        yield outputs


def delivered_to(published: dict, protocol: str) -> str:
    """What SNS hands a ``protocol`` subscriber for one ``Publish`` call's parameters.

    With ``MessageStructure="json"`` a subscriber gets its protocol's key, else
    ``default`` (the rule moto's ``Subscription._parse_message_structure`` follows too).
    """
    if published.get("MessageStructure") != "json":
        return str(published["Message"])
    structure = json.loads(published["Message"])
    return str(structure.get(protocol, structure["default"]))


def json_of(response) -> object:
    return json.loads(response.body) if response.body else None


class AwsCallRecorder:
    """Every AWS API call made through botocore (PynamoDB included), in order."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict]] = []

    def clear(self) -> None:
        self.calls.clear()

    def operations(self, service: str | None = None) -> list[str]:
        return [op for svc, op, _ in self.calls if service is None or svc == service]

    def dynamodb(self) -> list[str]:
        return self.operations("dynamodb")


@pytest.fixture
def aws_calls(monkeypatch):
    from botocore.client import BaseClient

    recorder = AwsCallRecorder()
    original = BaseClient._make_api_call

    def recording(client, operation_name, api_params):
        recorder.calls.append((client.meta.service_model.service_name, operation_name, api_params))
        return original(client, operation_name, api_params)

    monkeypatch.setattr(BaseClient, "_make_api_call", recording)
    return recorder
