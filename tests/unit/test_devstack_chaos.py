"""Opt-in throttling at the emulator (devstack/chaos.py), seen through real botocore clients."""

from __future__ import annotations

import json
import logging
import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from devstack.chaos import CHAOS_ENV, CONTROL_PATH, rate_from_environ
from devstack.emulator import Emulator

REGION = "us-east-1"
TABLE = "chaos-test"
# One attempt: what the emulator answers, not what botocore's retries make of it.
NO_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 1})


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    with Emulator() as emu:
        yield emu


def client(emulator: Emulator, service: str) -> Any:
    return boto3.client(
        service,
        region_name=REGION,
        endpoint_url=emulator.endpoint_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=NO_RETRIES,
    )


@pytest.fixture
def dynamodb(emulator: Emulator) -> Any:
    ddb = client(emulator, "dynamodb")
    ddb.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return ddb


def test_the_rate_comes_from_the_environment_and_is_checked() -> None:
    assert rate_from_environ({}) == 0.0
    assert rate_from_environ({CHAOS_ENV: "0.2"}) == 0.2
    with pytest.raises(ValueError):
        rate_from_environ({CHAOS_ENV: "20"})


def test_throttled_dynamodb_calls_are_answered_as_dynamodb_does(emulator, dynamodb) -> None:
    emulator.chaos.rate = 1.0
    codes = set()
    reasons = set()
    for n in range(12):
        item = {"Put": {"TableName": TABLE, "Item": {"pk": {"S": f"k{n}"}}}}
        with pytest.raises(ClientError) as raised:
            dynamodb.transact_write_items(TransactItems=[item, {**item, "Put": {**item["Put"]}}])
        codes.add(raised.value.response["Error"]["Code"])
        for reason in raised.value.response.get("CancellationReasons", []):
            reasons.add(reason["Code"])
    assert codes <= {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "TransactionCanceledException",
    }
    assert "TransactionCanceledException" in codes and len(codes) >= 2
    assert reasons == {"ThrottlingError", "None"}

    emulator.chaos.rate = 0.0
    assert dynamodb.scan(TableName=TABLE)["Items"] == []  # nothing throttled was written


def test_throttled_sns_calls_are_answered_as_sns_does(emulator) -> None:
    sns = client(emulator, "sns")
    topic = sns.create_topic(Name="chaos")["TopicArn"]
    emulator.chaos.rate = 1.0

    with pytest.raises(ClientError) as raised:
        sns.publish(TopicArn=topic, Message="hello")

    assert raised.value.response["Error"]["Code"] == "Throttling"
    assert emulator.chaos.state()["injected"] == {"sns": 1}


def test_the_control_endpoint_reads_and_changes_the_rate(emulator, dynamodb) -> None:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    url = emulator.endpoint_url + CONTROL_PATH
    request = urllib.request.Request(url, data=json.dumps({"rate": 1}).encode(), method="POST")
    with opener.open(request, timeout=10) as response:
        assert json.loads(response.read())["rate"] == 1
    with pytest.raises(ClientError):
        dynamodb.get_item(TableName=TABLE, Key={"pk": {"S": "x"}})

    request = urllib.request.Request(url, data=json.dumps({"rate": 0}).encode(), method="POST")
    with opener.open(request, timeout=10) as response:
        state = json.loads(response.read())
    assert state["rate"] == 0 and state["injected"] == {"dynamodb.GetItem": 1}
    assert "Item" not in dynamodb.get_item(TableName=TABLE, Key={"pk": {"S": "x"}})
