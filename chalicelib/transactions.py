"""DynamoDB transactions with bounded retries of ``TransactionConflict``.

DynamoDB cancels a transaction that races another one on the same item with
``TransactionConflict``; that is transient, so it is retried with jittered
backoff. Failed conditions are not retried: the caller maps them.
"""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Callable

from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.errors import ServiceBusy

MAX_ATTEMPTS = 4
BASE_DELAY_SECONDS = 0.02


@functools.cache
def _connection() -> Connection:
    # One connection (and botocore client) per container, not one per request.
    return Connection()


def cancellation_codes(exc: TransactWriteError) -> list[str | None]:
    return [reason.code if reason else None for reason in exc.cancellation_reasons]


def is_conflict(exc: TransactWriteError) -> bool:
    return "TransactionConflict" in cancellation_codes(exc) or (
        exc.cause_response_code == "TransactionInProgressException"
    )


def write(build: Callable[[TransactWrite], None], *, attempts: int = MAX_ATTEMPTS) -> None:
    """Build and commit one ``TransactWriteItems``; ``build`` is called again on each retry."""
    for attempt in range(attempts):
        try:
            with TransactWrite(connection=_connection()) as transaction:
                build(transaction)
            return
        except TransactWriteError as exc:
            if not is_conflict(exc):
                raise
            if attempt + 1 < attempts:
                time.sleep(random.uniform(0, BASE_DELAY_SECONDS * 2**attempt))
    raise ServiceBusy(
        "the request conflicted with concurrent updates; please retry", retryable=True
    )
