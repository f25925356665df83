"""Reads a DynamoDB stream and hands its records to a Lambda-style handler in this process.

What Lambda's event source mapping does on AWS, for one shard (moto's tables have one):
read a batch with ``GetRecords``, invoke the function with it, and only move on once
the function returned. A batch the function fails is retried, from the same records,
until it succeeds, as Lambda does for a stream (records are never skipped).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from devstack.lambdas import (
    STOP_WAIT_SECONDS,
    FakeLambdaContext,
    dynamodb_event_from_stream_records,
)

logger = logging.getLogger(__name__)

LambdaHandler = Callable[[dict[str, Any], Any], Any]


class StreamPoller:
    """Polls one stream; :meth:`poll_once` for tests, :meth:`start` for a background thread.

    Reading starts at the oldest record still in the stream (``TRIM_HORIZON``), as the
    deployed mapping does, so that nothing written before the poller started is missed.
    """

    def __init__(
        self,
        handler: LambdaHandler,
        stream_arn: str,
        function_name: str,
        region: str = "us-east-1",
        batch_size: int = 100,
        idle_wait: float = 5.0,
        retry_delay: float = 0.5,
        wake: threading.Event | None = None,
    ) -> None:
        import boto3
        from botocore.config import Config

        from devstack.moto_fixes import keep_streams_through_rollback

        # Without it, one cancelled transaction leaves this reader on a shard that never
        # grows again (devstack/moto_fixes.py); only matters where moto is in this process.
        keep_streams_through_rollback()
        self._handler = handler
        self.stream_arn = stream_arn
        self._function_name = function_name
        self._region = region
        self._batch_size = batch_size
        # Each GetRecords leaves an iterator behind in moto (never freed), so an idle poller
        # waits for ``wake`` (set by the emulator after each DynamoDB write) rather than
        # polling every few milliseconds.
        self._idle_wait = idle_wait
        self._wake = wake if wake is not None else threading.Event()
        self._retry_delay = retry_delay
        # botocore sends stream calls to an account-based endpoint taken from the ARN
        # (<account>.streams-ddb...), which in-process moto (mock_aws) does not serve.
        self._streams = boto3.client(
            "dynamodbstreams",
            region_name=region,
            config=Config(account_id_endpoint_mode="disabled"),
        )
        self._iterator: str | None = None
        self.failures = 0  # batches the handler failed (each was retried)
        self._stopped = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"devstack-stream-{function_name}", daemon=True
        )

    def _first_iterator(self) -> str:
        stream = self._streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]
        [shard] = stream["Shards"]
        iterator: str = self._streams.get_shard_iterator(
            StreamArn=self.stream_arn,
            ShardId=shard["ShardId"],
            ShardIteratorType="TRIM_HORIZON",
        )["ShardIterator"]
        return iterator

    def poll_once(self) -> int:
        """Hand the next batch to the handler; returns its size (0: nothing new).

        If the handler raises, the position stays where it was (the next call hands it
        the same records) and the error propagates.
        """
        if self._iterator is None:
            self._iterator = self._first_iterator()
        response = self._streams.get_records(ShardIterator=self._iterator, Limit=self._batch_size)
        records = response.get("Records", [])
        if records:
            event = dynamodb_event_from_stream_records(records, self.stream_arn, self._region)
            context = FakeLambdaContext(self._function_name, region=self._region)
            try:
                self._handler(event, context)
            except Exception:
                self.failures += 1
                # A fresh iterator at the same position: the batch is retried as it was.
                first = records[0]["dynamodb"]["SequenceNumber"]
                stream = self._streams.describe_stream(StreamArn=self.stream_arn)
                [shard] = stream["StreamDescription"]["Shards"]
                self._iterator = self._streams.get_shard_iterator(
                    StreamArn=self.stream_arn,
                    ShardId=shard["ShardId"],
                    ShardIteratorType="AT_SEQUENCE_NUMBER",
                    SequenceNumber=first,
                )["ShardIterator"]
                raise
        self._iterator = response.get("NextShardIterator") or self._iterator
        return len(records)

    def drain(self, max_batches: int = 1000) -> int:
        """Poll until the stream has nothing new; returns the records handled."""
        handled = 0
        for _ in range(max_batches):
            count = self.poll_once()
            if count == 0:
                return handled
            handled += count
        raise RuntimeError(f"stream {self.stream_arn} still has records after {max_batches}")

    def _run(self) -> None:
        while not self._stopped.is_set():
            # Cleared before reading: a write during the read sets it again.
            self._wake.clear()
            try:
                count = self.poll_once()
            except Exception:
                logger.exception(
                    "devstack: stream handler %s failed; retrying the batch", self._function_name
                )
                self._stopped.wait(self._retry_delay)
                continue
            if count == 0:
                self._wake.wait(self._idle_wait)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout=STOP_WAIT_SECONDS)  # a batch in flight is a daemon's
