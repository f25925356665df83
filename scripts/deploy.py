"""``make deploy STAGE=dev``: the stage's resources stack, then ``chalice deploy``.

The resources stack (tables, topic, secret, log groups) comes from ``infra/resources.json``
and must exist before the functions that use it. Creating and updating share one path;
"No updates are to be performed" is success. Stack events are printed as they happen and a
rollback ends the run with the events that caused it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from scripts.project import (
    CHALICE_DIR,
    PROJECT_DIR,
    TEMPLATE_FILE,
    app_name,
    chalice,
    chalice_environment,
    region,
    stack_name,
    stage_parser,
)

Echo = Callable[[str], None]
NO_UPDATES = "No updates are to be performed"
NOTIFICATION_EMAIL_VARIABLE = "NOTIFICATION_EMAIL"
POLL_SECONDS = 5.0


class DeployError(Exception):
    """A failure the operator can act on; the message says what happened and what to do."""


def stack_status(cfn: Any, stack: str) -> str | None:
    """The stack's status, or None when there is no such (live) stack."""
    try:
        stacks = cfn.describe_stacks(StackName=stack)["Stacks"]
    except ClientError as exc:
        if "does not exist" in str(exc):
            return None
        raise
    return str(stacks[0]["StackStatus"]) if stacks else None


def _events_newest_first(cfn: Any, stack: str) -> Iterator[dict[str, Any]]:
    for page in cfn.get_paginator("describe_stack_events").paginate(StackName=stack):
        yield from page["StackEvents"]


def events_since(cfn: Any, stack: str, last_seen: str | None) -> list[dict[str, Any]]:
    """Events after the one with id ``last_seen`` (all events if None), oldest first."""
    fresh = []
    try:
        for event in _events_newest_first(cfn, stack):
            if event["EventId"] == last_seen:
                break
            fresh.append(event)
    except ClientError as exc:
        if "does not exist" not in str(exc):
            raise
    return fresh[::-1]


def describe_event(event: dict[str, Any]) -> str:
    when = event["Timestamp"].strftime("%H:%M:%S")
    line = f"{when}  {event['LogicalResourceId']:<30} {event['ResourceStatus']}"
    reason = event.get("ResourceStatusReason")
    return f"{line}  {reason}" if reason else line


def wait_for_stack(
    cfn: Any,
    stack: str,
    last_seen: str | None,
    *,
    echo: Echo = print,
    poll_seconds: float = POLL_SECONDS,
) -> tuple[str, list[dict[str, Any]]]:
    """Print events until the stack settles; its final status and the events shown.

    ``stack`` should be the stack id when waiting for a deletion: a deleted stack is
    still described by id (``DELETE_COMPLETE``), not by name.
    """
    shown: list[dict[str, Any]] = []
    while True:
        status = stack_status(cfn, stack) or "DELETE_COMPLETE"
        fresh = events_since(cfn, stack, last_seen)
        for event in fresh:
            echo(describe_event(event))
        if fresh:
            last_seen = fresh[-1]["EventId"]
            shown.extend(fresh)
        if not status.endswith("_IN_PROGRESS"):
            return status, shown
        time.sleep(poll_seconds)


def failure_report(stack: str, status: str, events: list[dict[str, Any]]) -> str:
    failed = [e for e in events if e["ResourceStatus"].endswith("_FAILED")]
    lines = [f"stack {stack} ended in {status}."]
    if failed:
        lines.append("These resources failed:")
        lines.extend(f"  {describe_event(e)}" for e in failed)
    lines.append(f"See the events: aws cloudformation describe-stack-events --stack-name {stack}")
    return "\n".join(lines)


def _latest_event_id(cfn: Any, stack: str) -> str | None:
    return next((e["EventId"] for e in _events_newest_first(cfn, stack)), None)


def delete_stack(
    cfn: Any, stack: str, *, echo: Echo = print, poll_seconds: float = POLL_SECONDS
) -> bool:
    """Delete the stack and wait; False if there was none."""
    try:
        stack_id = cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackId"]
    except ClientError as exc:
        if "does not exist" in str(exc):
            return False
        raise
    last_seen = _latest_event_id(cfn, stack_id)
    echo(f"Deleting stack {stack} ...")
    cfn.delete_stack(StackName=stack_id)
    status, events = wait_for_stack(cfn, stack_id, last_seen, echo=echo, poll_seconds=poll_seconds)
    if status != "DELETE_COMPLETE":
        raise DeployError(failure_report(stack, status, events))
    return True


def deploy_stack(
    cfn: Any,
    stack: str,
    template_body: str,
    parameters: dict[str, str | None],
    *,
    echo: Echo = print,
    poll_seconds: float = POLL_SECONDS,
) -> str:
    """Create or update the stack and wait: ``"created"``, ``"updated"`` or ``"unchanged"``.

    A parameter whose value is None keeps its previous value on update (its default on
    create), so a deploy without ``NOTIFICATION_EMAIL`` leaves the subscription alone.
    """
    status = stack_status(cfn, stack)
    if status == "ROLLBACK_COMPLETE":
        # A failed creation leaves an empty stack that can only be deleted.
        echo(f"Stack {stack} is left over from a failed creation; deleting it first.")
        delete_stack(cfn, stack, echo=echo, poll_seconds=poll_seconds)
        status = None
    if status is not None and status.endswith("_IN_PROGRESS"):
        raise DeployError(f"stack {stack} is busy ({status}); wait for it to settle and retry")

    if status is None:
        echo(f"Creating stack {stack} ...")
        cfn.create_stack(
            StackName=stack,
            TemplateBody=template_body,
            Parameters=[
                {"ParameterKey": key, "ParameterValue": value or ""}
                for key, value in parameters.items()
            ],
        )
        last_seen, expected, outcome = None, "CREATE_COMPLETE", "created"
    else:
        last_seen = _latest_event_id(cfn, stack)
        echo(f"Updating stack {stack} ...")
        try:
            cfn.update_stack(
                StackName=stack,
                TemplateBody=template_body,
                Parameters=[
                    {"ParameterKey": key, "UsePreviousValue": True}
                    if value is None
                    else {"ParameterKey": key, "ParameterValue": value}
                    for key, value in parameters.items()
                ],
            )
        except ClientError as exc:
            if NO_UPDATES in str(exc):
                echo(f"Stack {stack} is up to date.")
                return "unchanged"
            raise
        expected, outcome = "UPDATE_COMPLETE", "updated"

    final, events = wait_for_stack(cfn, stack, last_seen, echo=echo, poll_seconds=poll_seconds)
    if final != expected:
        raise DeployError(failure_report(stack, final, events))
    return outcome


def resources_parameters(stage: str, environ: Mapping[str, str]) -> dict[str, str | None]:
    return {
        "Stage": stage,
        "AppName": app_name(),
        # Unset keeps the current subscription; set it to "" to remove the subscription.
        "NotificationEmail": environ.get(NOTIFICATION_EMAIL_VARIABLE),
    }


def deployed_api_url(stage: str) -> str | None:
    """The REST API URL ``chalice deploy`` recorded for the stage."""
    record = CHALICE_DIR / "deployed" / f"{stage}.json"
    if not record.exists():
        return None
    for resource in json.loads(record.read_text()).get("resources", []):
        if resource.get("resource_type") == "rest_api":
            return str(resource["rest_api_url"])
    return None


def chalice_deploy(stage: str, aws_region: str) -> None:
    command = chalice("deploy", "--stage", stage)
    result = subprocess.run(
        command, cwd=PROJECT_DIR, env=chalice_environment(aws_region), check=False
    )
    if result.returncode != 0:
        raise DeployError(f"`chalice deploy --stage {stage}` failed (exit {result.returncode})")


def main(argv: list[str] | None = None) -> int:
    args = stage_parser("Deploy the resources stack and the Chalice app.").parse_args(argv)
    import boto3

    aws_region = region()
    cfn = boto3.client("cloudformation", region_name=aws_region)
    stack = stack_name(args.stage)
    try:
        deploy_stack(
            cfn,
            stack,
            json.dumps(json.loads(TEMPLATE_FILE.read_text()), separators=(",", ":")),
            resources_parameters(args.stage, os.environ),
        )
        print(f"Deploying the Chalice app (stage {args.stage}, region {aws_region}) ...")
        chalice_deploy(args.stage, aws_region)
    except (DeployError, BotoCoreError, ClientError) as exc:
        # Missing credentials, access denied, ...: the message, not a traceback.
        print(f"Deploy failed: {exc}", file=sys.stderr)
        return 1
    url = deployed_api_url(args.stage)
    print(f"API URL: {url}" if url else "Deployed, but no API URL was recorded.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
