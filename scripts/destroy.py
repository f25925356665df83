"""``make destroy STAGE=dev``: ``chalice delete``, then the stage's stacks; then a check.

Deleting ``prod`` asks the operator to type the stage name. prod tables have deletion
protection; that is checked before anything is deleted, with the commands that lift it.
Tables holding items (any stage) are counted first: destroy says how many items it will
delete and asks; without a terminal to answer it refuses unless ``CONFIRM=1`` (``--yes``).

``chalice delete`` works from the stage's shared deploy record (``scripts/state.py``), so
any checkout can destroy a stage. Without a record (lost, or from before records were
shared), the stage's functions, roles, APIs, schedule rule and subscriptions are found by
the names both deploy paths give them, and deleted from a record built from what was
found. Success is reported only when a final survey finds nothing of the stage left;
otherwise the leftovers are listed with the commands that remove them.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from scripts import state
from scripts.deploy import DeployError, Echo, delete_stack, stack_status
from scripts.project import (
    CHALICE_DIR,
    PROJECT_DIR,
    app_name,
    chalice,
    chalice_environment,
    operations_stack_name,
    packaged_stack_name,
    resolve_region,
    stack_name,
    stage_parser,
)

CONFIRMED_STAGES = ("prod",)


def confirmed(stage: str, ask: Callable[[str], str] = input) -> bool:
    """True for stages that need no confirmation, or when the operator typed the stage name."""
    if stage not in CONFIRMED_STAGES:
        return True
    print(
        f"This deletes the {stage} API and functions, the {stage} tables with every user "
        "and order in them, the order-events topic and the token signing secret."
    )
    try:
        return ask(f"Type '{stage}' to confirm: ").strip() == stage
    except EOFError:
        return False


def protected_tables(cfn: Any, dynamodb: Any, stack: str) -> list[str]:
    """The stack's tables that have deletion protection on."""
    names = []
    for page in cfn.get_paginator("list_stack_resources").paginate(StackName=stack):
        for resource in page["StackResourceSummaries"]:
            if resource["ResourceType"] == "AWS::DynamoDB::Table":
                names.append(resource["PhysicalResourceId"])
    return [
        name
        for name in names
        if dynamodb.describe_table(TableName=name)["Table"].get("DeletionProtectionEnabled")
    ]


def protection_advice(stage: str, tables: list[str]) -> str:
    commands = "\n".join(
        f"  aws dynamodb update-table --table-name {name} --no-deletion-protection-enabled"
        for name in tables
    )
    return (
        f"deletion protection is on for {', '.join(tables)}; nothing was deleted.\n"
        "It exists so that the data cannot be deleted by accident. If you really mean it, "
        "back the tables up if needed (aws dynamodb create-backup), turn protection off:\n"
        f"{commands}\n"
        f"and run `make destroy STAGE={stage}` again."
    )


def items_in_tables(aws: Any, stage: str) -> dict[str, int]:
    """The stage's tables (by name: the stacks' and any restored copy) that hold items,
    with how many; counted by a Scan (exact; ``ItemCount`` lags by hours)."""
    prefix = f"{app_name()}-{stage}-"
    counts = {}
    for page in aws.dynamodb.get_paginator("list_tables").paginate():
        for table in page["TableNames"]:
            if not table.startswith(prefix):
                continue
            scan = aws.dynamodb.get_paginator("scan").paginate(TableName=table, Select="COUNT")
            count = sum(part["Count"] for part in scan)
            if count:
                counts[table] = count
    return counts


def items_confirmed(
    counts: dict[str, int], yes: bool, ask: Callable[[str], str] | None, echo: Echo = print
) -> bool:
    """True when the tables are empty, ``--yes`` was given, or the operator typed the count.
    ``ask`` is None without a terminal: then only ``--yes`` confirms."""
    if not counts:
        return True
    total = sum(counts.values())
    listed = ", ".join(f"{table} {count}" for table, count in sorted(counts.items()))
    echo(f"This deletes {total} items ({listed}).")
    if yes:
        return True
    if ask is None:
        echo("Not confirmed: run again with CONFIRM=1 (--yes) to delete them.")
        return False
    try:
        return ask(f"Type {total} to delete them: ").strip() == str(total)
    except EOFError:
        return False


def chalice_delete(stage: str, aws_region: str) -> None:
    command = chalice("delete", "--stage", stage)
    result = subprocess.run(
        command, cwd=PROJECT_DIR, env=chalice_environment(aws_region), check=False
    )
    if result.returncode != 0:
        raise DeployError(f"`chalice delete --stage {stage}` failed (exit {result.returncode})")


def record_to_delete(aws: Any, stage: str, echo: Echo = print) -> dict[str, Any] | None:
    """The shared record, else this checkout's, else one built from what is found by name."""
    record = state.fetch_record(aws.ssm, stage)
    if record is not None:
        echo(f"Deploy record: {state.record_parameter(stage)}")
        return record
    record = state.read_local_record(stage, CHALICE_DIR)
    if record is not None:
        echo(f"Deploy record: this checkout's {state.local_record(stage, CHALICE_DIR)}")
        return record
    record = state.record_of(state.survey(aws, stage))
    if record is not None:
        echo(
            f"No deploy record for stage {stage}; deleting what was found by name "
            f"({len(record['resources'])} items)."
        )
    return record


def delete_app(aws: Any, stage: str, aws_region: str, echo: Echo = print) -> None:
    record = record_to_delete(aws, stage, echo)
    if record is None:
        echo(f"No Chalice deployment found for stage {stage}; skipping chalice delete.")
        return
    state.write_local_record(stage, record, CHALICE_DIR)
    try:
        chalice_delete(stage, aws_region)
    finally:
        # What Chalice did not delete stays listed, for a retry from any checkout.
        remaining = state.read_local_record(stage, CHALICE_DIR)
        if remaining is not None and stack_status(aws.cloudformation, stack_name(stage)):
            state.save_record(aws.ssm, stage, remaining)
    state.local_record(stage, CHALICE_DIR).unlink(missing_ok=True)


def destroy(
    stage: str,
    aws_region: str,
    echo: Echo = print,
    approve_items: Callable[[dict[str, int]], bool] = lambda counts: not counts,
) -> None:
    import boto3

    aws = state.Aws(boto3.session.Session(), aws_region)
    cfn = aws.cloudformation
    stacks = [packaged_stack_name(stage), operations_stack_name(stage), stack_name(stage)]
    # Checked before anything is deleted, so that a refusal leaves the stage whole.
    protected = [
        table
        for stack in stacks
        if stack_status(cfn, stack) is not None
        for table in protected_tables(cfn, aws.dynamodb, stack)
    ]
    if protected:
        raise DeployError(protection_advice(stage, protected))
    if not approve_items(items_in_tables(aws, stage)):
        raise DeployError("the tables' items were not confirmed; nothing was deleted")
    delete_app(aws, stage, aws_region, echo)
    for stack in stacks:
        if not delete_stack(cfn, stack, echo=echo):
            echo(f"Stack {stack} does not exist; nothing to delete.")
    remaining = state.survey(aws, stage)
    if remaining:
        raise DeployError(
            f"stage {stage} is not gone; these remain:\n{state.describe(remaining)}\n"
            f"Remove them (or run make destroy STAGE={stage} again)."
        )


def main(
    argv: list[str] | None = None,
    ask: Callable[[str], str] = input,
    interactive: bool | None = None,
) -> int:
    parser = stage_parser("Delete the Chalice app and the stage's stacks.")
    parser.add_argument("--yes", action="store_true", help="delete tables that hold items")
    args = parser.parse_args(argv)
    interactive = sys.stdin.isatty() if interactive is None else interactive
    if not confirmed(args.stage, ask):
        print("Not confirmed; nothing was deleted.", file=sys.stderr)
        return 1
    try:
        aws_region, source = resolve_region()
        print(f"Region: {aws_region} (from {source})")
        destroy(args.stage, aws_region, approve_items=lambda counts: items_confirmed(
            counts, args.yes, ask if interactive else None))  # fmt: skip
    except (DeployError, BotoCoreError, ClientError) as exc:
        # Missing credentials, access denied, ...: the message, not a traceback.
        print(f"Destroy failed: {exc}", file=sys.stderr)
        return 1
    print(f"Stage {args.stage} is gone: nothing of it is left in {aws_region}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
