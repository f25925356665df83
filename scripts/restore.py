"""``make restore STAGE=dev TABLE=orders TIME=2026-12-07T04:00:00Z``: a table as it was.

The stage's tables have fixed names (infra/resources.json; the functions read them from
.chalice/config.json), and DynamoDB restores only into a new table. So a restore is
*restore, then copy back*:

1. Point-in-time recovery restores the table as of ``TIME`` into a new table,
   ``<table>-restored-<YYYYmmddHHMMSS>`` (no stack owns it; it is kept for inspection).
2. The difference is printed: how many items copying back would write (changed since, or
   deleted since) and delete (created since ``TIME``).
3. Only with ``CONFIRM=1`` (``--yes``): an on-demand backup of the live table
   (``<table>-before-restore-<stamp>``, so the copy back can itself be undone), then the
   live table is made equal to the restored one, item by item. Without it nothing of the
   live table changes; ``FROM=<restored table>`` later copies back without restoring again.

Switching the stage to the new table instead would leave the stack owning a table the
functions no longer use, and the next ``make deploy`` would switch them back.
Writes to the live table between the restore and the copy back are overwritten or deleted
like any other writes after ``TIME``: stop traffic first for an exact result. Items the
copy back writes to the orders table go through its stream like any write: an order whose
status goes back is announced as that change. Consider who consumes the order events
before copying orders back (docs/operations.md, "Restoring a table").
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from scripts.project import resolve_region, stage_environment, stage_parser

Echo = Callable[[str], None]
TABLES = ("users", "products", "orders")


class RestoreError(Exception):
    """A refusal or failure the operator can act on."""


def table_name(stage: str, table: str) -> str:
    if table not in TABLES:
        raise RestoreError(f"TABLE must be one of {', '.join(TABLES)}, not {table!r}")
    return stage_environment(stage)[f"{table.upper()}_TABLE"]


def parse_time(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise RestoreError(f"TIME {text!r} is not ISO 8601 (e.g. 2026-12-07T04:00:00Z)") from None
    if moment.tzinfo is None:
        raise RestoreError(f"TIME {text!r} has no time zone: add Z for UTC")
    return moment.astimezone(UTC)


def restore_into(dynamodb: Any, table: str, moment: datetime, echo: Echo = print) -> str:
    """Restore ``table`` as of ``moment`` into a new table, waited for; its name."""
    backups = dynamodb.describe_continuous_backups(TableName=table)["ContinuousBackupsDescription"]
    recovery = backups.get("PointInTimeRecoveryDescription", {})
    if recovery.get("PointInTimeRecoveryStatus") != "ENABLED":
        raise RestoreError(f"point-in-time recovery is off for {table}; nothing can be restored")
    earliest = recovery.get("EarliestRestorableDateTime")
    if earliest is not None and moment < earliest:
        raise RestoreError(f"{table} can be restored from {earliest.isoformat()} on, not earlier")
    target = f"{table}-restored-{moment.strftime('%Y%m%d%H%M%S')}"
    echo(f"Restoring {table} as of {moment.isoformat()} into {target} ...")
    dynamodb.restore_table_to_point_in_time(
        SourceTableName=table, TargetTableName=target, RestoreDateTime=moment
    )
    # Restores take minutes to hours on AWS (more for big tables).
    dynamodb.get_waiter("table_exists").wait(
        TableName=target, WaiterConfig={"Delay": 20, "MaxAttempts": 540}
    )
    return target


def _key_names(dynamodb: Any, table: str) -> list[str]:
    schema = dynamodb.describe_table(TableName=table)["Table"]["KeySchema"]
    return [key["AttributeName"] for key in schema]


def _items(dynamodb: Any, table: str, keys: list[str]) -> dict[str, dict[str, Any]]:
    items = {}
    for page in dynamodb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
        for item in page["Items"]:
            items[repr([item[k] for k in keys])] = item
    return items


@dataclass(frozen=True)
class Difference:
    """What copying ``source`` back onto the live table changes."""

    keys: list[str]
    write: list[dict[str, Any]]  # items as they were: changed or deleted since
    delete: list[dict[str, Any]]  # keys of items created since

    def describe(self, live: str) -> str:
        return (
            f"Copying back writes {len(self.write)} items of {live} as they were and deletes "
            f"{len(self.delete)} items created since."
        )


def difference(dynamodb: Any, source: str, live: str) -> Difference:
    keys = _key_names(dynamodb, live)
    if _key_names(dynamodb, source) != keys:
        raise RestoreError(f"{source} and {live} have different keys; nothing was copied")
    was, now = _items(dynamodb, source, keys), _items(dynamodb, live, keys)
    return Difference(
        keys,
        write=[item for key, item in was.items() if now.get(key) != item],
        delete=[{k: item[k] for k in keys} for key, item in now.items() if key not in was],
    )


def copy_back(dynamodb: Any, live: str, change: Difference, stamp: str, echo: Echo = print) -> str:
    """Back the live table up, then apply ``change`` to it; the backup's name."""
    backup = f"{live}-before-restore-{stamp}"
    dynamodb.create_backup(TableName=live, BackupName=backup)
    echo(f"Backed up {live} as {backup} (aws dynamodb list-backups --table-name {live}).")
    requests = [{"PutRequest": {"Item": item}} for item in change.write] + [
        {"DeleteRequest": {"Key": key}} for key in change.delete
    ]
    for start in range(0, len(requests), 25):
        pending = {live: requests[start : start + 25]}
        while pending:
            pending = dynamodb.batch_write_item(RequestItems=pending).get("UnprocessedItems")
    return backup


def restore(
    dynamodb: Any,
    stage: str,
    table: str,
    *,
    moment: datetime | None,
    source: str | None,
    confirmed: bool,
    echo: Echo = print,
) -> Difference:
    live = table_name(stage, table)
    if source is None:
        if moment is None:
            raise RestoreError("give TIME (to restore) or FROM (a table restored before)")
        source = restore_into(dynamodb, live, moment, echo)
    change = difference(dynamodb, source, live)
    echo(change.describe(live))
    if not confirmed:
        echo(
            f"Nothing of {live} was changed. To copy back: make restore STAGE={stage} "
            f"TABLE={table} FROM={source} CONFIRM=1. When done, delete {source}: "
            f"aws dynamodb delete-table --table-name {source}"
        )
        return change
    copy_back(dynamodb, live, change, datetime.now(UTC).strftime("%Y%m%d%H%M%S"), echo)
    echo(f"{live} is as {source} holds it. Delete {source} when done: "
         f"aws dynamodb delete-table --table-name {source}")  # fmt: skip
    return change


def main(argv: list[str] | None = None) -> int:
    import boto3

    parser = stage_parser("Restore a table to a point in time, then copy it back.")
    parser.add_argument("--table", required=True, help=f"one of {', '.join(TABLES)}")
    parser.add_argument("--time", help="ISO 8601 with a zone, e.g. 2026-12-07T04:00:00Z")
    parser.add_argument("--from", dest="source", help="a table restored before (no TIME)")
    parser.add_argument("--yes", action="store_true", help="copy back (CONFIRM=1)")
    args = parser.parse_args(argv)
    try:
        moment = parse_time(args.time) if args.time else None
        aws_region, origin = resolve_region()
        print(f"Region: {aws_region} (from {origin})")
        dynamodb = boto3.client("dynamodb", region_name=aws_region)
        restore(dynamodb, args.stage, args.table, moment=moment, source=args.source,
                confirmed=args.yes)  # fmt: skip
    except (RestoreError, BotoCoreError, ClientError) as exc:
        print(f"Restore failed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
