"""The local stack's moto wrapper: DynamoDB atomicity under concurrency, and the SNS bridge.

These talk to a real threaded moto server over HTTP (no app.py involved): the
properties under test only exist across threads and sockets.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config

from devstack.emulator import Emulator, SnsBridge
from devstack.lambdas import PeriodicInvoker

REGION = "us-east-1"
THREADS = 20


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    # The server would log every request; the assertions are what matters here.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    with Emulator(bridge=SnsBridge(function_name="test-subscriber", region=REGION)) as emu:
        yield emu


@pytest.fixture
def fine_grained_thread_switching() -> Iterator[None]:
    """Make the interpreter switch threads often, so that races actually happen.

    Measured with moto 5.2.5: without the middleware's lock, 20 concurrent conditional
    stock decrements oversell (up to 8 successes for a stock of 5) in most rounds at
    this setting, and practically never at the default of 5 ms.
    """
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(previous)


def aws_client(emulator: Emulator, service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=emulator.endpoint_url,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        # No retries: a retried request would hide what the first attempt returned.
        config=Config(max_pool_connections=THREADS, retries={"max_attempts": 1}, read_timeout=15),
    )


def create_table(dynamodb: Any, name: str) -> None:
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


def race(attempt: Callable[[int], None]) -> int:
    """Run ``attempt(i)`` in THREADS threads released at once; return how many succeeded."""
    start = threading.Barrier(THREADS)
    successes: list[int] = []

    def worker(i: int) -> None:
        start.wait()
        try:
            attempt(i)
        except Exception as error:  # the losers' ClientError is the expected outcome
            if "ConditionalCheckFailed" not in str(error) and "TransactionCanceled" not in str(
                error
            ):
                raise
        else:
            successes.append(i)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(successes)


@pytest.mark.usefixtures("fine_grained_thread_switching")
def test_concurrent_conditional_puts_on_one_key_have_exactly_one_winner(emulator):
    dynamodb = aws_client(emulator, "dynamodb")
    create_table(dynamodb, "race-puts")

    for round_number in range(3):
        key = {"S": f"key-{round_number}"}
        winners = race(
            lambda i, key=key: dynamodb.put_item(
                TableName="race-puts",
                Item={"pk": key, "writer": {"N": str(i)}},
                ConditionExpression="attribute_not_exists(pk)",
            )
        )
        assert winners == 1


@pytest.mark.usefixtures("fine_grained_thread_switching")
def test_concurrent_conditional_transactions_never_oversell(emulator):
    dynamodb = aws_client(emulator, "dynamodb")
    create_table(dynamodb, "race-stock")
    stock = 5

    # Several rounds: without the lock, a single round oversells only about half the time.
    for round_number in range(8):
        product = {"S": f"product-{round_number}"}
        dynamodb.put_item(TableName="race-stock", Item={"pk": product, "stock": {"N": str(stock)}})

        def buy_one(i: int, product: dict[str, str] = product) -> None:
            dynamodb.transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": "race-stock",
                            "Key": {"pk": product},
                            "UpdateExpression": "SET stock = stock - :one",
                            "ConditionExpression": "stock >= :one",
                            "ExpressionAttributeValues": {":one": {"N": "1"}},
                        }
                    },
                    {"Put": {"TableName": "race-stock", "Item": {"pk": {"S": f"order-{i}"}}}},
                ]
            )

        assert race(buy_one) == stock
        item = dynamodb.get_item(TableName="race-stock", Key={"pk": product})["Item"]
        assert item["stock"] == {"N": "0"}


def subscribed_topic(emulator: Emulator, name: str) -> tuple[Any, str]:
    sns = aws_client(emulator, "sns")
    topic_arn = sns.create_topic(Name=name)["TopicArn"]
    emulator.bridge.subscription_arn = sns.subscribe(
        TopicArn=topic_arn,
        Protocol="http",
        Endpoint=emulator.sns_bridge_url,
        ReturnSubscriptionArn=True,
    )["SubscriptionArn"]
    return sns, topic_arn


def test_publish_invokes_the_subscriber_with_a_lambda_sns_event(emulator):
    calls: list[tuple[dict[str, Any], Any]] = []
    emulator.bridge.subscriber = lambda event, context: calls.append((event, context))
    sns, topic_arn = subscribed_topic(emulator, "events")

    message_id = sns.publish(
        TopicArn=topic_arn,
        Message=json.dumps({"type": "OrderPlaced", "orderId": "o-1"}),
        Subject="order",
        MessageAttributes={"type": {"DataType": "String", "StringValue": "OrderPlaced"}},
    )["MessageId"]

    # Delivery happens inside Publish, so the call is already recorded.
    assert len(calls) == 1
    event, context = calls[0]
    (record,) = event["Records"]
    assert record["EventSource"] == "aws:sns"
    assert record["EventVersion"] == "1.0"
    assert record["EventSubscriptionArn"] == emulator.bridge.subscription_arn
    assert record["EventSubscriptionArn"].startswith(topic_arn + ":")
    notification = record["Sns"]
    assert notification["Type"] == "Notification"
    assert notification["MessageId"] == message_id
    assert notification["TopicArn"] == topic_arn
    assert notification["Subject"] == "order"
    assert json.loads(notification["Message"]) == {"type": "OrderPlaced", "orderId": "o-1"}
    assert notification["Timestamp"]
    # moto drops message attributes from HTTP deliveries; subscribers must not need them.
    assert notification["MessageAttributes"] == {}
    assert context.function_name == "test-subscriber"
    assert context.invoked_function_arn.endswith(":function:test-subscriber")
    assert context.aws_request_id
    assert 0 < context.get_remaining_time_in_millis() <= 60_000


def test_subscriber_may_write_to_dynamodb_while_the_publish_is_in_flight(emulator):
    # Would deadlock if SNS requests shared the DynamoDB lock.
    dynamodb = aws_client(emulator, "dynamodb")
    create_table(dynamodb, "confirmations")

    def confirm(event: dict[str, Any], context: Any) -> None:
        message = event["Records"][0]["Sns"]["Message"]
        dynamodb.put_item(TableName="confirmations", Item={"pk": {"S": message}})

    emulator.bridge.subscriber = confirm
    sns, topic_arn = subscribed_topic(emulator, "events")

    sns.publish(TopicArn=topic_arn, Message="order-7")

    item = dynamodb.get_item(TableName="confirmations", Key={"pk": {"S": "order-7"}})
    assert item["Item"] == {"pk": {"S": "order-7"}}


def test_a_failing_subscriber_is_logged_and_does_not_fail_the_publish(emulator, caplog):
    def explode(event: dict[str, Any], context: Any) -> None:
        raise ValueError("malformed order event")

    emulator.bridge.subscriber = explode
    sns, topic_arn = subscribed_topic(emulator, "events")

    with caplog.at_level(logging.ERROR, logger="devstack.emulator"):
        response = sns.publish(TopicArn=topic_arn, Message="{}")

    assert response["MessageId"]
    assert "malformed order event" in caplog.text


def test_bridge_only_passes_on_notifications():
    calls: list[dict[str, Any]] = []
    bridge = SnsBridge(subscriber=lambda event, context: calls.append(event))

    bridge.deliver(b"not json")
    bridge.deliver(json.dumps({"Type": "SubscriptionConfirmation"}).encode())
    bridge.deliver(json.dumps(["Notification"]).encode())
    assert calls == []

    bridge.deliver(json.dumps({"Type": "Notification", "Message": "m"}).encode())
    assert [event["Records"][0]["Sns"]["Message"] for event in calls] == ["m"]


def test_stop_frees_the_port_for_an_immediate_restart():
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    first = Emulator()
    first.start()
    port = first.port
    aws_client(first, "sns").list_topics()  # leave a used connection behind
    first.stop()

    with Emulator(port=port) as second:
        assert second.port == port
        assert aws_client(second, "sns").list_topics()["Topics"] == []


def test_periodic_invoker_calls_the_handler_with_a_scheduled_event():
    called = threading.Event()
    events: list[dict[str, Any]] = []

    def handler(event: dict[str, Any], context: Any) -> None:
        events.append(event)
        called.set()

    invoker = PeriodicInvoker(handler, "shop-local-sweep", interval=0.01)
    invoker.start()
    try:
        assert called.wait(5)
    finally:
        invoker.stop()

    assert events[0]["detail-type"] == "Scheduled Event"
    assert events[0]["source"] == "aws.events"
    assert events[0]["resources"][0].endswith(":rule/shop-local-sweep-event")


# --- the outbox --------------------------------------------------------------------


def get_json(url: str) -> Any:
    import urllib.request

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=10) as response:
        return json.loads(response.read())


def test_the_outbox_lists_sent_emails_oldest_first_with_their_time(emulator):
    ses = aws_client(emulator, "ses")
    ses.verify_email_identity(EmailAddress="shop@example.com")
    assert get_json(emulator.outbox_url) == []
    for n in (1, 2):
        ses.send_email(
            Source="shop@example.com",
            Destination={"ToAddresses": [f"buyer{n}@example.com"]},
            Message={
                "Subject": {"Data": f"Order {n} — é"},
                "Body": {"Text": {"Data": f"body {n}"}},
            },
        )

    emails = get_json(emulator.outbox_url)

    assert [(m["to"], m["subject"], m["text"]) for m in emails] == [
        (["buyer1@example.com"], "Order 1 — é", "body 1"),
        (["buyer2@example.com"], "Order 2 — é", "body 2"),
    ]
    assert emails[0]["sentAt"] <= emails[1]["sentAt"]
    assert emails[0]["sentAt"].endswith("Z")
    # Stamped when sent, not when read.
    assert get_json(emulator.outbox_url)[0]["sentAt"] == emails[0]["sentAt"]


def test_email_subscribers_of_a_topic_get_the_email_key_of_a_structured_message(emulator):
    sns = aws_client(emulator, "sns")
    topic = sns.create_topic(Name="events")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="staff@example.com")
    structured = json.dumps({"default": '{"type": "X"}', "email": "Readable"})
    sns.publish(TopicArn=topic, Message=structured, MessageStructure="json", Subject="Hi")
    sns.publish(TopicArn=topic, Message="plain", Subject="Plain")

    deliveries = get_json(emulator.sns_email_url)

    assert [(d["to"], d["subject"], d["text"]) for d in deliveries] == [
        ("staff@example.com", "Hi", "Readable"),
        ("staff@example.com", "Plain", "plain"),
    ]


def test_the_bridge_gets_the_default_of_a_structured_message(emulator):
    calls = []
    emulator.bridge.subscriber = lambda event, context: calls.append(event)
    sns = aws_client(emulator, "sns")
    topic = sns.create_topic(Name="events")["TopicArn"]
    emulator.bridge.subscription_arn = sns.subscribe(
        TopicArn=topic, Protocol="http", Endpoint=emulator.sns_bridge_url
    )["SubscriptionArn"]
    structured = json.dumps({"default": '{"type": "X"}', "email": "Readable"})

    sns.publish(TopicArn=topic, Message=structured, MessageStructure="json", Subject="Hi")

    assert [event["Records"][0]["Sns"]["Message"] for event in calls] == ['{"type": "X"}']


def test_a_cancelled_transaction_leaves_no_stream_record_and_readers_keep_reading(
    emulator, monkeypatch
):
    # moto rolls a cancelled transaction back by swapping in copies of the tables, stream
    # shards included (devstack/moto_fixes.py): a reader stopped seeing anything after it,
    # and was first handed the write the transaction had made before failing.
    from devstack.streams import StreamPoller

    monkeypatch.setenv("AWS_ENDPOINT_URL", emulator.endpoint_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    dynamodb = aws_client(emulator, "dynamodb")
    stream_arn = dynamodb.create_table(
        TableName="streamed",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )["TableDescription"]["LatestStreamArn"]
    seen: list[str] = []

    def read(event: dict[str, Any], context: Any) -> None:
        seen.extend(record["dynamodb"]["Keys"]["pk"]["S"] for record in event["Records"])

    poller = StreamPoller(read, stream_arn, "reader", region=REGION)
    dynamodb.put_item(TableName="streamed", Item={"pk": {"S": "before"}})
    assert poller.drain() == 1

    with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
        dynamodb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": "streamed", "Item": {"pk": {"S": "phantom"}}}},
                {
                    "Put": {
                        "TableName": "streamed",
                        "Item": {"pk": {"S": "before"}},
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        )
    dynamodb.put_item(TableName="streamed", Item={"pk": {"S": "after"}})

    assert poller.drain() == 1
    assert seen == ["before", "after"]
    assert "Item" not in dynamodb.get_item(TableName="streamed", Key={"pk": {"S": "phantom"}})
