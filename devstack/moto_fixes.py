"""Where moto's DynamoDB streams part from AWS's, put right for the local stack and the tests.

A cancelled ``TransactWriteItems`` in moto 5.2 rolls back by putting *deep copies* of the
tables back in place. The copies carry copies of the stream shards, so:

- every shard iterator handed out before (a stream reader's position) keeps reading the
  old shard, which never receives another record: after one cancelled transaction (a
  checkout that meets too little stock, a lost race), the reader sees nothing new, ever;
- the old shard keeps the records of the writes the transaction made before it failed,
  so a reader can be handed changes that never happened (an order that does not exist).

On AWS a cancelled transaction writes nothing and leaves no stream record. The fix puts
the original shard back on the restored table, without the records the cancelled
transaction added. It is applied once per process and refuses another moto version, so an
upgrade makes someone look again (and, ideally, delete this file).
"""

from __future__ import annotations

import functools
from typing import Any

import moto

MOTO_VERSION = "5.2.5"


def keep_streams_through_rollback() -> None:
    """Patch moto's ``transact_write_items`` (idempotent)."""
    from moto.dynamodb.models import DynamoDBBackend

    original = DynamoDBBackend.transact_write_items
    if getattr(original, "_keeps_streams", False):
        return
    if moto.__version__ != MOTO_VERSION:
        raise RuntimeError(
            f"devstack/moto_fixes.py is written for moto {MOTO_VERSION}, not {moto.__version__}: "
            "check whether a cancelled TransactWriteItems still replaces the stream shards"
        )

    @functools.wraps(original)
    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        before = {
            name: (table, table.stream_shard, len(table.stream_shard.items))
            for name, table in self.tables.items()
            if table.stream_shard is not None
        }
        try:
            original(self, transact_items)
        except Exception:
            for name, (table, shard, count) in before.items():
                restored = self.tables.get(name)
                if restored is None or restored is table:
                    continue  # not rolled back (refused before any write)
                del shard.items[count:]  # what the cancelled transaction wrote
                shard.table = restored
                restored.stream_shard = shard
            raise

    transact_write_items._keeps_streams = True  # type: ignore[attr-defined]
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
