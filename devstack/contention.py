"""DynamoDB's ``TransactionConflict``, emulated: for measuring a flash sale locally.

The local emulator runs DynamoDB requests one at a time (devstack/emulator.py), so two
transactions never overlap and DynamoDB's ``TransactionConflict`` never happens. On AWS
a ``TransactWriteItems`` is in flight for a few milliseconds, and another transaction
that touches one of its items meanwhile is cancelled: ``TransactionCanceledException``,
with reason ``TransactionConflict`` for that item and ``None`` for the others.

:class:`TransactionContention` puts that back at the botocore layer of this process (the
app's and the local stack's): every ``TransactWriteItems`` is *in flight* for
``duration`` seconds before it is sent on. One that arrives while another in-flight
transaction holds one of its items is cancelled as DynamoDB cancels it, without being
sent (so it wrote nothing). The window is emulated time, not the emulator's queueing
time, so the conflict rate depends on how many transactions overlap, not on moto's speed.
An in-flight transaction also cancels single-item writes to its items
(``TransactionConflictException``), as DynamoDB does.

    contention = TransactionContention(duration=0.005)
    with contention.installed():
        ...  # run buyers; contention.conflicts, contention.transactions count what happened
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

from botocore.client import BaseClient
from botocore.exceptions import ClientError

# Bound now: tests replace time.sleep to skip the app's backoff, not this emulated time.
_sleep = time.sleep

ItemId = tuple[str, str]  # (table name, key in wire format as canonical JSON)

_ENTRY_KINDS = ("ConditionCheck", "Put", "Update", "Delete")
_SINGLE_WRITES = ("PutItem", "UpdateItem", "DeleteItem")


class TransactionContention:
    """Cancels transactions that overlap in time on an item; counts what it did."""

    def __init__(self, duration: float = 0.005) -> None:
        self.duration = duration
        self._lock = threading.Lock()
        self._in_flight: Counter[ItemId] = Counter()
        self._key_names: dict[str, list[str]] = {}
        self._send: Any = BaseClient._make_api_call
        self.transactions = 0  # TransactWriteItems seen
        self.conflicts = 0  # of those, cancelled with TransactionConflict
        self.write_conflicts = 0  # single-item writes refused with TransactionConflictException

    # -- what a request touches ----------------------------------------------------

    def _key_of(self, client: Any, table: str, item: dict[str, Any]) -> str:
        names = self._key_names.get(table)
        if names is None:
            # Past the contention: describing a table is not a contended write.
            described = self._send(client, "DescribeTable", {"TableName": table})
            names = [k["AttributeName"] for k in described["Table"]["KeySchema"]]
            self._key_names[table] = names
        return json.dumps({n: item[n] for n in names if n in item}, sort_keys=True)

    def _items(self, client: Any, params: dict[str, Any]) -> list[ItemId]:
        touched: list[ItemId] = []
        for entry in params.get("TransactItems", []):
            kind = next(k for k in _ENTRY_KINDS if k in entry)
            body = entry[kind]
            if kind == "Put":
                key = self._key_of(client, body["TableName"], body["Item"])
            else:
                key = json.dumps(body["Key"], sort_keys=True)
            touched.append((body["TableName"], key))
        return touched

    # -- the model -------------------------------------------------------------------

    def transact(self, client: Any, params: dict[str, Any], send: Any) -> Any:
        items = self._items(client, params)
        with self._lock:
            self.transactions += 1
            held = [item in self._in_flight for item in items]
            if any(held):
                self.conflicts += 1
            else:
                self._in_flight.update(items)
        if any(held):
            raise _cancelled(held)
        try:
            _sleep(self.duration)  # in flight: others touching these items conflict
        finally:
            with self._lock:
                self._in_flight.subtract(items)
                self._in_flight += Counter()  # drop the zero counts
        return send()

    def single_write(self, client: Any, operation: str, params: dict[str, Any]) -> None:
        table = params["TableName"]
        if operation == "PutItem":
            item = (table, self._key_of(client, table, params["Item"]))
        else:
            item = (table, json.dumps(params["Key"], sort_keys=True))
        with self._lock:
            if item not in self._in_flight:
                return
            self.write_conflicts += 1
        raise ClientError(
            {
                "Error": {
                    "Code": "TransactionConflictException",
                    "Message": "Transaction is ongoing for the item",
                },
                "ResponseMetadata": {"HTTPStatusCode": 400, "HTTPHeaders": {}},
            },
            operation,
        )

    @contextlib.contextmanager
    def hold(self, table: str, key: dict[str, Any]) -> Iterator[None]:
        """A rival transaction on one item (key in wire format), in flight until the block ends."""
        item = (table, json.dumps(key, sort_keys=True))
        with self._lock:
            self._in_flight[item] += 1
        try:
            yield
        finally:
            with self._lock:
                self._in_flight[item] -= 1
                self._in_flight += Counter()

    @contextlib.contextmanager
    def installed(self) -> Iterator[TransactionContention]:
        """Wrap botocore's ``_make_api_call`` for this process while the block runs."""
        current = self._send = BaseClient._make_api_call

        def contended(client: Any, operation: str, params: dict[str, Any]) -> Any:
            if client.meta.service_model.service_name == "dynamodb":
                if operation == "TransactWriteItems":
                    return self.transact(client, params, lambda: current(client, operation, params))
                if operation in _SINGLE_WRITES:
                    self.single_write(client, operation, params)
            return current(client, operation, params)

        BaseClient._make_api_call = contended  # type: ignore[method-assign]
        try:
            yield self
        finally:
            BaseClient._make_api_call = current  # type: ignore[method-assign]


def _cancelled(held: list[bool]) -> ClientError:
    """``TransactionCanceledException`` as botocore parses DynamoDB's answer."""
    reasons = [
        {"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"}
        if conflict
        else {"Code": "None"}
        for conflict in held
    ]
    codes = ", ".join(r["Code"] for r in reasons)
    return ClientError(
        {
            "Error": {
                "Code": "TransactionCanceledException",
                "Message": f"Transaction cancelled, please refer cancellation reasons "
                f"for specific reasons [{codes}]",
            },
            "CancellationReasons": reasons,
            "ResponseMetadata": {"HTTPStatusCode": 400, "HTTPHeaders": {}},
        },
        "TransactWriteItems",
    )
