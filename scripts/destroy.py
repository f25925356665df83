"""``make destroy STAGE=dev``: ``chalice delete``, then the resources stack.

Deleting ``prod`` asks the operator to type the stage name. prod tables have deletion
protection; that is checked before anything is deleted, with the commands that lift it.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from scripts.deploy import DeployError, delete_stack, stack_status
from scripts.project import (
    CHALICE_DIR,
    PROJECT_DIR,
    chalice,
    chalice_environment,
    region,
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


def chalice_delete(stage: str, aws_region: str) -> None:
    if not (CHALICE_DIR / "deployed" / f"{stage}.json").exists():
        print(f"No Chalice deployment is recorded for stage {stage}; skipping chalice delete.")
        return
    command = chalice("delete", "--stage", stage)
    result = subprocess.run(
        command, cwd=PROJECT_DIR, env=chalice_environment(aws_region), check=False
    )
    if result.returncode != 0:
        raise DeployError(f"`chalice delete --stage {stage}` failed (exit {result.returncode})")


def main(argv: list[str] | None = None, ask: Callable[[str], str] = input) -> int:
    args = stage_parser("Delete the Chalice app and the resources stack.").parse_args(argv)
    if not confirmed(args.stage, ask):
        print("Not confirmed; nothing was deleted.", file=sys.stderr)
        return 1
    import boto3

    aws_region = region()
    cfn = boto3.client("cloudformation", region_name=aws_region)
    dynamodb = boto3.client("dynamodb", region_name=aws_region)
    stack = stack_name(args.stage)
    try:
        # Checked before anything is deleted, so that a refusal leaves the stage whole.
        if stack_status(cfn, stack) is not None:
            protected = protected_tables(cfn, dynamodb, stack)
            if protected:
                raise DeployError(protection_advice(args.stage, protected))
        chalice_delete(args.stage, aws_region)
        if not delete_stack(cfn, stack):
            print(f"Stack {stack} does not exist; nothing to delete.")
    except (DeployError, BotoCoreError, ClientError) as exc:
        # Missing credentials, access denied, ...: the message, not a traceback.
        print(f"Destroy failed: {exc}", file=sys.stderr)
        return 1
    print(f"Stage {args.stage} is gone.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
