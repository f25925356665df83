"""DynamoDB transactions with bounded retries of ``TransactionConflict``.

DynamoDB cancels a transaction that races another one on the same item with
``TransactionConflict``; that is transient, so it is retried with jittered
backoff. Failed conditions are not retried: the caller maps them. A transaction
cancelled because DynamoDB throttled one of its items wrote nothing; it becomes a
503 right away (the client retries, with the same ``Idempotency-Key`` if any).

Each attempt carries its own ``ClientRequestToken``, which botocore resends on its
own retries: if a timed-out attempt did commit, DynamoDB answers the resend with
success instead of running the transaction twice.
"""

from __future__ import annotations

import functools
import random
import time
import uuid
from collections.abc import Callable

from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.aws import watch
from chalicelib.config import get_settings
from chalicelib.errors import ServiceBusy, aws_error_code, is_transient

MAX_ATTEMPTS = 4
BASE_DELAY_SECONDS = 0.02


@functools.cache
def _connection() -> Connection:
    # One connection (and botocore client) per container, not one per request.
    settings = get_settings()
    return Connection(
        connect_timeout_seconds=settings.sdk_connect_timeout_seconds,
        read_timeout_seconds=settings.sdk_read_timeout_seconds,
        max_retry_attempts=settings.sdk_max_attempts - 1,
    )


def cancellation_codes(exc: TransactWriteError) -> list[str | None]:
    return [reason.code if reason else None for reason in exc.cancellation_reasons]


def is_conflict(exc: TransactWriteError) -> bool:
    return "TransactionConflict" in cancellation_codes(exc) or (
        aws_error_code(exc) == "TransactionInProgressException"
    )


def write(build: Callable[[TransactWrite], None], *, attempts: int = MAX_ATTEMPTS) -> None:
    """Build and commit one ``TransactWriteItems``; ``build`` is called again on each retry."""
    connection = _connection()
    watch(connection.client)
    for attempt in range(attempts):
        try:
            token = str(uuid.uuid4())
            with TransactWrite(connection=connection, client_request_token=token) as transaction:
                build(transaction)
            return
        except TransactWriteError as exc:
            if not is_conflict(exc):
                if is_transient(exc):
                    raise ServiceBusy(
                        "the service is busy; please retry", dependency="DynamoDB"
                    ) from exc
                raise
            if attempt + 1 < attempts:
                time.sleep(random.uniform(0, BASE_DELAY_SECONDS * 2**attempt))
    raise ServiceBusy(
        "the request conflicted with concurrent updates; please retry", dependency="DynamoDB"
    )
