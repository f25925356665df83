"""The tests' emulated AWS: built once, yet every test starts from empty tables."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from chalicelib.config import get_settings
from tests.conftest import EMULATED_AWS


def users_table():
    return boto3.resource("dynamodb", region_name="us-east-1").Table(get_settings().users_table)


def item_count() -> int:
    return users_table().scan(Select="COUNT")["Count"]


def test_items_left_by_a_test_are_gone_for_the_next(aws):
    users_table().put_item(Item={"pk": "USER#left-behind"})
    builds = EMULATED_AWS.builds

    EMULATED_AWS.enter()  # what the next test's ``aws`` fixture does

    assert item_count() == 0
    assert EMULATED_AWS.builds == builds  # emptied, not rebuilt


def test_a_rolled_back_transaction_does_not_cost_a_rebuild(aws):
    client = boto3.client("dynamodb", region_name="us-east-1")
    table = get_settings().users_table
    client.put_item(TableName=table, Item={"pk": {"S": "taken"}})
    with pytest.raises(client.exceptions.TransactionCanceledException):
        client.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": table,
                        "Item": {"pk": {"S": "taken"}},
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                }
            ]
        )
    builds = EMULATED_AWS.builds

    EMULATED_AWS.enter()

    assert EMULATED_AWS.builds == builds
    assert item_count() == 0


def test_any_other_change_rebuilds_the_world(aws):
    sqs = boto3.client("sqs", region_name="us-east-1")
    queue_url = sqs.create_queue(QueueName="left-behind")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    sns = boto3.client("sns", region_name="us-east-1")
    sns.subscribe(
        TopicArn=aws["OrderEventsTopicArn"],
        Protocol="sqs",
        Endpoint=queue_arn["Attributes"]["QueueArn"],
    )
    boto3.client("dynamodb", region_name="us-east-1").delete_table(
        TableName=get_settings().orders_table
    )
    builds = EMULATED_AWS.builds

    outputs = EMULATED_AWS.enter()

    assert EMULATED_AWS.builds == builds + 1
    # Same names; only the orders stream is a new one (its ARN ends in a creation time).
    stream = "OrdersTableStreamArn"
    assert {k: v for k, v in outputs.items() if k != stream} == {
        k: v for k, v in aws.items() if k != stream
    }
    assert outputs[stream].split("/stream/")[0] == aws[stream].split("/stream/")[0]
    assert sqs.list_queues().get("QueueUrls", []) == []
    topic = aws["OrderEventsTopicArn"]
    assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []
    tables = boto3.client("dynamodb", region_name="us-east-1").list_tables()["TableNames"]
    assert get_settings().orders_table in tables


def test_a_reset_from_outside_is_noticed(aws):
    EMULATED_AWS.suspend()
    with mock_aws():  # starts from nothing and wipes moto's state when it ends
        pass
    builds = EMULATED_AWS.builds

    EMULATED_AWS.enter()

    assert EMULATED_AWS.builds == builds + 1
    assert item_count() == 0


def test_moto_is_off_for_a_test_that_does_not_ask_for_aws():
    from moto.core.models import botocore_stubber

    assert not EMULATED_AWS.active
    assert not botocore_stubber.enabled  # an AWS call would not be answered by moto


def test_moto_is_on_for_a_test_that_asks(aws):
    from moto.core.models import botocore_stubber

    assert EMULATED_AWS.active
    assert botocore_stubber.enabled
