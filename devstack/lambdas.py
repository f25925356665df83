"""What AWS Lambda hands a function: a context object and event payloads.

The local stack invokes the app's non-HTTP handlers in-process, so it has to
fabricate what Lambda would pass them.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

logger = logging.getLogger(__name__)

LOCAL_ACCOUNT_ID = "123456789012"  # moto's default account
# How long stopping waits for a background handler (a stream batch, a sweep) to finish.
# Short: Ctrl-C must end the stack within a few seconds even while a handler sits in an
# SDK backoff (CHAOS_THROTTLE_RATE); the threads are daemons, so exiting does not wait.
STOP_WAIT_SECONDS = 1.0


class FakeLambdaContext:
    """The subset of the Lambda context object that handlers commonly read."""

    def __init__(
        self,
        function_name: str,
        region: str = "us-east-1",
        memory_limit_in_mb: int = 128,
        timeout_seconds: float = 60.0,
    ) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = (
            f"arn:aws:lambda:{region}:{LOCAL_ACCOUNT_ID}:function:{function_name}"
        )
        self.memory_limit_in_mb = memory_limit_in_mb
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "devstack"
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def sns_event_from_http_delivery(
    notification: dict[str, Any], subscription_arn: str
) -> dict[str, Any]:
    """Turn the body SNS POSTs to an HTTP subscriber into the event SNS gives a Lambda.

    The two shapes differ in small ways (``SigningCertURL`` vs ``SigningCertUrl``,
    ``Subject`` omitted vs ``null``), which is why this is not a plain copy.
    moto drops message attributes from HTTP deliveries, so they are usually empty here.
    """
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": subscription_arn,
                "Sns": {
                    "Type": notification.get("Type", "Notification"),
                    "MessageId": notification.get("MessageId"),
                    "TopicArn": notification.get("TopicArn"),
                    "Subject": notification.get("Subject"),
                    "Message": notification.get("Message"),
                    "Timestamp": notification.get("Timestamp"),
                    "SignatureVersion": notification.get("SignatureVersion"),
                    "Signature": notification.get("Signature"),
                    "SigningCertUrl": notification.get("SigningCertURL"),
                    "UnsubscribeUrl": notification.get("UnsubscribeURL"),
                    "MessageAttributes": notification.get("MessageAttributes") or {},
                },
            }
        ]
    }


def scheduled_event(rule_name: str, region: str = "us-east-1") -> dict[str, Any]:
    """An EventBridge ``Scheduled Event`` as a ``@app.schedule`` handler receives it."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": LOCAL_ACCOUNT_ID,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [f"arn:aws:events:{region}:{LOCAL_ACCOUNT_ID}:rule/{rule_name}"],
        "detail": {},
    }


class PeriodicInvoker:
    """Calls a ``@app.schedule`` handler every ``interval`` seconds, like an EventBridge rule.

    The first call happens one interval after :meth:`start`, as with ``rate(...)``.
    """

    def __init__(
        self,
        handler: Callable[[dict[str, Any], Any], Any],
        function_name: str,
        interval: float = 60.0,
        region: str = "us-east-1",
    ) -> None:
        self._handler = handler
        self._function_name = function_name
        self._interval = interval
        self._region = region
        self._stopped = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"devstack-schedule-{function_name}", daemon=True
        )

    def _run(self) -> None:
        while not self._stopped.wait(self._interval):
            event = scheduled_event(f"{self._function_name}-event", region=self._region)
            context = FakeLambdaContext(self._function_name, region=self._region)
            try:
                self._handler(event, context)
            except Exception:
                # A failed run is retried at the next tick, as the real schedule would.
                logger.exception("devstack: scheduled handler %s failed", self._function_name)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        # Bounded: a run stuck on I/O must not hold up Ctrl-C; the thread is a daemon.
        if self._thread.is_alive():
            self._thread.join(timeout=STOP_WAIT_SECONDS)


def dynamodb_event_from_stream_records(
    records: list[dict[str, Any]], stream_arn: str, region: str = "us-east-1"
) -> dict[str, Any]:
    """Turn DynamoDB Streams ``GetRecords`` records into the event Lambda hands a function.

    They differ in two ways: Lambda adds ``eventSourceARN`` (and the region), and gives
    ``ApproximateCreationDateTime`` as epoch seconds where botocore parsed a datetime.
    """
    converted = []
    for record in records:
        dynamodb = dict(record["dynamodb"])
        created = dynamodb.get("ApproximateCreationDateTime")
        if isinstance(created, datetime):
            dynamodb["ApproximateCreationDateTime"] = created.timestamp()
        elif created is None:
            dynamodb["ApproximateCreationDateTime"] = time.time()
        converted.append(
            {
                **record,
                "awsRegion": record.get("awsRegion") or region,
                "eventSourceARN": stream_arn,
                "dynamodb": dynamodb,
            }
        )
    return {"Records": converted}
