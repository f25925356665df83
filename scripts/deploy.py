"""``make deploy STAGE=dev``: resources stack, ``chalice deploy``, operations stack, API stage.

1. The region is resolved and printed before anything is created.
2. A stage already deployed by the other path (``make package``'s one stack, which
   creates the same tables and topic) stops the deploy before anything is created; so
   does a prod deploy in an account where API Gateway cannot write access logs yet.
3. The stage's shared deploy record is fetched (before any stack update could touch it).
   The resources stack (tables, topic, secret, log groups, the deploy record parameter)
   from ``infra/resources.json``: it must exist before the functions that use it.
4. ``chalice deploy`` with that record (see ``scripts/state.py``), saved back after (also
   after a failure: Chalice records what it created).
   With ``SENDER_IDENTITY``/``EMAIL_SENDER`` (buyer emails on), the resources stack declares
   the SES identity, and while Chalice runs the stage's ``EMAIL_SENDER`` is set and the
   subscriber's policy file carries ``ses:SendEmail`` on that identity only (restored after).
5. The operations stack (alarm topic, alarms, dashboard, prod's access log group) from
   ``infra/operations.json``, and the API stage settings declared there: throttling and,
   in prod, access logs. The REST API is renamed ``<app>-<stage>``, the name its metrics,
   alarms and dashboard use.

Creating and updating a stack share one path; "No updates are to be performed" is success.
DynamoDB creates or deletes at most one global secondary index per table in one update, so
when the resources template adds (or drops) several indexes of a deployed table, step 3
first applies intermediate templates that change one index per table each
(:func:`index_steps`), then the template itself.
Stack events are printed as they happen and a rollback ends the run with the events that
caused it.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from scripts import releases, state
from scripts.project import (
    CHALICE_DIR,
    OPERATIONS_FILE,
    PROJECT_DIR,
    SENDER_FUNCTIONS,
    TEMPLATE_FILE,
    SenderError,
    api_name,
    app_name,
    chalice,
    chalice_environment,
    load_config,
    operations_stack_name,
    packaged_stack_name,
    resolve_region,
    sender_settings,
    sender_statement,
    stack_name,
    stage_parser,
)

Echo = Callable[[str], None]
NO_UPDATES = "No updates are to be performed"
NOTIFICATION_EMAIL_VARIABLE = "NOTIFICATION_EMAIL"
ALARM_EMAIL_VARIABLE = "ALARM_EMAIL"
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


# --- DynamoDB's one-index-per-update limit --------------------------------------

TABLE_TYPE = "AWS::DynamoDB::Table"
SETTLED = ("CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "IMPORT_COMPLETE")


def _indexes(table: dict[str, Any]) -> dict[str, dict[str, Any]] | None:
    """The table's global secondary indexes by name; None when not a plain list."""
    declared = table.get("Properties", {}).get("GlobalSecondaryIndexes", [])
    if not isinstance(declared, list):
        return None  # e.g. an Fn::If: left to CloudFormation as it is
    return {index["IndexName"]: index for index in declared}


def _tables(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    resources = template.get("Resources", {})
    return {name: r for name, r in resources.items() if r.get("Type") == TABLE_TYPE}


def _index_states(have: list[str], wanted: list[str]) -> list[list[str]]:
    """The table's index names after each single change: drops first, then additions."""
    states: list[list[str]] = []
    current = list(have)
    for name in [n for n in have if n not in wanted]:
        current = [n for n in current if n != name]
        states.append(current)
    for name in [n for n in wanted if n not in have]:
        added = set(current) | {name}
        current = [n for n in wanted if n in added] + [n for n in current if n not in wanted]
        states.append(current)
    return states


def _with_indexes(
    table: dict[str, Any], names: list[str], known: dict[str, dict[str, Any]], attributes: list[Any]
) -> None:
    """Set ``table``'s indexes to ``names``, and its attribute definitions to those keyed on."""
    properties = table["Properties"]
    properties["GlobalSecondaryIndexes"] = [known[name] for name in names]
    keyed = [properties.get("KeySchema", [])]
    keyed += [index["KeySchema"] for index in properties["GlobalSecondaryIndexes"]]
    keyed += [index["KeySchema"] for index in properties.get("LocalSecondaryIndexes", [])]
    used = {key["AttributeName"] for schema in keyed for key in schema}
    chosen: dict[str, Any] = {}
    for definition in attributes:
        if definition["AttributeName"] in used:
            chosen.setdefault(definition["AttributeName"], definition)
    properties["AttributeDefinitions"] = list(chosen.values())
    if not properties["GlobalSecondaryIndexes"]:
        del properties["GlobalSecondaryIndexes"]


def index_steps(deployed: dict[str, Any], target: dict[str, Any]) -> list[dict[str, Any]]:
    """Templates to apply before ``target`` so that no update changes two indexes of a table.

    Empty when ``target`` changes at most one index per deployed table (the usual case).
    Step k is ``target`` with each deployed table's indexes as they are after k single
    changes (drops first, then additions in the template's order); new tables, and every
    other change of ``target``, come in with the first step.
    """
    plans: dict[str, tuple[list[list[str]], dict[str, dict[str, Any]], list[Any]]] = {}
    before = _tables(deployed)
    for name, table in _tables(target).items():
        old = before.get(name)
        wanted, had = _indexes(table), _indexes(old) if old else None
        if old is None or wanted is None or had is None:
            continue
        states = _index_states(list(had), list(wanted))
        if not states:
            continue
        attributes = table["Properties"].get("AttributeDefinitions", []) + old.get(
            "Properties", {}
        ).get("AttributeDefinitions", [])
        plans[name] = (states, {**had, **wanted}, attributes)
    count = max((len(states) for states, _, _ in plans.values()), default=0)
    steps = []
    for step in range(1, count):  # the last state is the target itself
        template = copy.deepcopy(target)
        for name, (states, known, attributes) in plans.items():
            names = states[min(step, len(states)) - 1]
            _with_indexes(template["Resources"][name], names, known, attributes)
        steps.append(template)
    return steps


def deployed_template(cfn: Any, stack: str) -> dict[str, Any] | None:
    """The template the settled stack was last deployed with; None if none is settled."""
    if stack_status(cfn, stack) not in SETTLED:
        return None  # new, left over from a failed creation, or busy: deploy_stack decides
    body = cfn.get_template(StackName=stack, TemplateStage="Original")["TemplateBody"]
    return dict(json.loads(body) if isinstance(body, str) else body)


def deploy_resources(
    cfn: Any,
    stack: str,
    template_body: str,
    parameters: dict[str, str | None],
    *,
    echo: Echo = print,
    poll_seconds: float = POLL_SECONDS,
) -> str:
    """:func:`deploy_stack`, through :func:`index_steps` when the update needs them."""
    deployed = deployed_template(cfn, stack)
    steps = index_steps(deployed, json.loads(template_body)) if deployed else []
    for number, step in enumerate(steps, 1):
        echo(
            f"Index step {number} of {len(steps)}: DynamoDB adds or drops one global "
            "secondary index per table and update."
        )
        deploy_stack(cfn, stack, json.dumps(step, separators=(",", ":")), parameters,
                     echo=echo, poll_seconds=poll_seconds)  # fmt: skip
    return deploy_stack(cfn, stack, template_body, parameters, echo=echo, poll_seconds=poll_seconds)


def resources_parameters(stage: str, environ: Mapping[str, str]) -> dict[str, str | None]:
    return {
        "Stage": stage,
        "AppName": app_name(),
        # Unset keeps the current subscription; set it to "" to remove the subscription.
        "NotificationEmail": environ.get(NOTIFICATION_EMAIL_VARIABLE),
        # Always given: a stack deployed before this parameter existed has no previous value.
        # Unset means buyer emails off, and the identity is no longer declared.
        "SenderIdentity": sender[0] if (sender := sender_settings(environ)) else "",
    }


def operations_parameters(stage: str, environ: Mapping[str, str]) -> dict[str, str | None]:
    return {
        "Stage": stage,
        "AppName": app_name(),
        "ApiStage": api_stage(stage),
        # Unset keeps the current subscription; set it to "" to remove the subscription.
        "AlarmEmail": environ.get(ALARM_EMAIL_VARIABLE),
    }


def compact(template_file: Any) -> str:
    return json.dumps(json.loads(template_file.read_text()), separators=(",", ":"))


# --- the API stage: throttling and access logs, as declared in infra/operations.json ---


def api_stage(stage: str) -> str:
    return str(load_config()["stages"][stage].get("api_gateway_stage", "api"))


def api_stage_settings() -> dict[str, Any]:
    settings: dict[str, Any] = json.loads(OPERATIONS_FILE.read_text())["Metadata"][
        "ApiStageSettings"
    ]
    return settings


def method_settings(stage: str) -> list[dict[str, Any]]:
    """The stage's throttling, in CloudFormation's ``MethodSettings`` shape."""
    settings = api_stage_settings()["MethodSettings"]
    return list(settings.get(stage, settings["dev"]))


def writes_access_logs(stage: str) -> bool:
    return stage in api_stage_settings()["AccessLogStages"]


def _patch_path(resource_path: str) -> str:
    return "*" if resource_path == "/*" else resource_path.replace("/", "~1")


def stage_patch_operations(stage: str, access_log_arn: str | None) -> list[dict[str, str]]:
    """``UpdateStage`` operations that give the stage its declared settings."""
    operations = []
    for setting in method_settings(stage):
        prefix = f"/{_patch_path(setting['ResourcePath'])}/{setting['HttpMethod']}/throttling"
        operations += [
            {"op": "replace", "path": f"{prefix}/rateLimit",
             "value": str(setting["ThrottlingRateLimit"])},
            {"op": "replace", "path": f"{prefix}/burstLimit",
             "value": str(setting["ThrottlingBurstLimit"])},
        ]  # fmt: skip
    if access_log_arn:
        operations += [
            {"op": "replace", "path": "/accessLogSettings/destinationArn",
             "value": access_log_arn.removesuffix(":*")},
            {"op": "replace", "path": "/accessLogSettings/format",
             "value": api_stage_settings()["AccessLogFormat"]},
        ]  # fmt: skip
    return operations


def configure_api(
    apigateway: Any, rest_api_id: str, stage: str, access_log_arn: str | None, echo: Echo = print
) -> None:
    """Name the API for its metrics and apply the stage's throttling (and access logs)."""
    # `chalice deploy` overwrites the API from its Swagger document, title `<app>`, each time.
    apigateway.update_rest_api(
        restApiId=rest_api_id,
        patchOperations=[{"op": "replace", "path": "/name", "value": api_name(stage)}],
    )
    apigateway.update_stage(
        restApiId=rest_api_id,
        stageName=api_stage(stage),
        patchOperations=stage_patch_operations(stage, access_log_arn),
    )
    limits = ", ".join(
        f"{s['HttpMethod']} {s['ResourcePath']} {s['ThrottlingRateLimit']}/s"
        f" (burst {s['ThrottlingBurstLimit']})"
        for s in method_settings(stage)
    )
    echo(f"API {api_name(stage)} ({rest_api_id}), stage {api_stage(stage)}: throttled {limits}")
    if access_log_arn:
        echo(f"Access logs: {access_log_arn.removesuffix(':*')}")


def check_access_log_role(apigateway: Any, stage: str) -> None:
    """API Gateway writes access logs only with an account-level role: checked up front."""
    if writes_access_logs(stage) and not apigateway.get_account().get("cloudwatchRoleArn"):
        raise DeployError(
            f"stage {stage} writes API access logs, and API Gateway cannot write logs in this "
            "account and region yet: it needs a role, once per account and region. Nothing was "
            'created. See docs/deploy.md ("Access logs") for the commands, then run make '
            "deploy again."
        )


def stack_outputs(cfn: Any, stack: str) -> dict[str, str]:
    described = cfn.describe_stacks(StackName=stack)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}


# --- chalice deploy with the shared record --------------------------------------------


STREAM_ARN_OUTPUT = "OrdersTableStreamArn"  # the resources stack's output
STREAM_ARN_VARIABLE = "ORDERS_STREAM_ARN"  # read by chalicelib/config.py while Chalice imports


def chalice_deploy(stage: str, aws_region: str, stream_arn: str, cwd: Path | None = None) -> None:
    """``chalice deploy`` (of this checkout, or of the tree at ``cwd``); the app subscribes
    its stream handler to ``stream_arn``."""
    command = chalice("deploy", "--stage", stage)
    environment = {**chalice_environment(aws_region), STREAM_ARN_VARIABLE: stream_arn}
    result = subprocess.run(command, cwd=cwd or PROJECT_DIR, env=environment, check=False)
    if result.returncode != 0:
        raise DeployError(f"`chalice deploy --stage {stage}` failed (exit {result.returncode})")


@contextlib.contextmanager
def sender_for_chalice(
    stage: str, sender: tuple[str, str] | None, chalice_dir: Path | None = None
) -> Iterator[None]:
    """While ``chalice deploy`` runs: the stage's EMAIL_SENDER and the senders' grant.

    Chalice reads both from ``.chalice/``: the stage's ``EMAIL_SENDER`` is set in
    config.json and ``ses:SendEmail`` on the identity added to the generated policy files
    of the functions that send (the subscriber and the API); the committed files (emails
    off) are restored afterwards.
    """
    if sender is None:
        yield
        return
    identity, address = sender
    chalice_dir = chalice_dir or CHALICE_DIR
    config_file = chalice_dir / "config.json"
    original_config = config_file.read_text()
    config = json.loads(original_config)
    stage_config = config["stages"][stage]
    stage_config.setdefault("environment_variables", {})["EMAIL_SENDER"] = address
    functions = stage_config["lambda_functions"]
    policy_files = [chalice_dir / functions[f]["iam_policy_file"] for f in SENDER_FUNCTIONS]
    originals = {path: path.read_text() for path in policy_files}
    try:
        config_file.write_text(json.dumps(config, indent=2) + "\n")
        for path, original in originals.items():
            policy = json.loads(original)
            policy["Statement"].append(sender_statement(identity))
            path.write_text(json.dumps(policy, indent=2) + "\n")
        yield
    finally:
        config_file.write_text(original_config)
        for path, original in originals.items():
            path.write_text(original)


def use_shared_record(ssm: Any, stage: str, echo: Echo = print) -> None:
    """Put the stage's shared record where Chalice reads it; the shared one wins."""
    shared = state.fetch_record(ssm, stage)
    local = state.read_local_record(stage, CHALICE_DIR)
    if shared is not None:
        if local is not None and local != shared:
            echo(f"Replacing {state.local_record(stage, CHALICE_DIR)} with the stage's record.")
        state.write_local_record(stage, shared, CHALICE_DIR)
        echo(f"Deploy record: {state.record_parameter(stage)} ({len(shared['resources'])} items)")
    elif local is not None:
        echo(f"Deploy record: this checkout's {state.local_record(stage, CHALICE_DIR)}")
    else:
        echo("Deploy record: none yet (a first deploy).")


def check_no_other_path(cfn: Any, stage: str) -> None:
    """Both paths create the same tables, topic and functions: one per account and region."""
    other = packaged_stack_name(stage)
    if stack_status(cfn, other) is not None:
        raise DeployError(
            f"stage {stage} is already deployed here from `make package` (stack {other}), which "
            "owns the same tables, topic, secret and function names; nothing was created. "
            f"Use that stack, or delete it first (aws cloudformation delete-stack --stack-name "
            f"{other}), or deploy to another account or region."
        )


def deploy(stage: str, aws_region: str, environ: Mapping[str, str], echo: Echo = print) -> str:
    """Everything of the stage, in order; returns the API URL."""
    import boto3

    session = boto3.session.Session()
    cfn = session.client("cloudformation", region_name=aws_region)
    ssm = session.client("ssm", region_name=aws_region)
    apigateway = session.client("apigateway", region_name=aws_region)
    try:
        sender = sender_settings(environ)
    except SenderError as exc:
        raise DeployError(f"{exc}; nothing was created") from exc
    echo(f"Buyer emails: from {sender[1]} (SES identity {sender[0]})" if sender else
         "Buyer emails: off (set SENDER_IDENTITY and EMAIL_SENDER to turn them on)")  # fmt: skip
    check_no_other_path(cfn, stage)
    check_access_log_role(apigateway, stage)
    release = releases.this_checkout(environ)  # before chalice deploy changes .chalice/
    # Fetched before the resources stack changes, so that no update can hide the record.
    use_shared_record(ssm, stage, echo)
    deploy_resources(cfn, stack_name(stage), compact(TEMPLATE_FILE),
                     resources_parameters(stage, environ), echo=echo)  # fmt: skip
    stream_arn = stack_outputs(cfn, stack_name(stage)).get(STREAM_ARN_OUTPUT)
    if not stream_arn:
        raise DeployError(
            f"stack {stack_name(stage)} has no {STREAM_ARN_OUTPUT} output: the orders table "
            "has no stream, and order events could not be published"
        )
    echo(f"Deploying the Chalice app (stage {stage}, region {aws_region}) ...")
    try:
        with sender_for_chalice(stage, sender):
            chalice_deploy(stage, aws_region, stream_arn)
    finally:
        record = state.read_local_record(stage, CHALICE_DIR)
        if record is not None:
            state.save_record(ssm, stage, record)
            echo(f"Saved the deploy record to {state.record_parameter(stage)}.")
    operations = operations_stack_name(stage)
    deploy_stack(cfn, operations, compact(OPERATIONS_FILE),
                 operations_parameters(stage, environ), echo=echo)  # fmt: skip
    rest_apis = [r for r in (record or {}).get("resources", []) if r["resource_type"] == "rest_api"]
    if not rest_apis:
        raise DeployError("chalice deploy recorded no REST API; nothing to configure")
    access_log_arn = (
        stack_outputs(cfn, operations)["ApiAccessLogGroupArn"]
        if writes_access_logs(stage)
        else None
    )
    configure_api(apigateway, rest_apis[0]["rest_api_id"], stage, access_log_arn, echo)
    releases.record(ssm, stage, release)
    echo(f"Release {release.describe()} recorded in {releases.history_parameter(stage)}.")
    return str(rest_apis[0]["rest_api_url"])


def main(argv: list[str] | None = None) -> int:
    args = stage_parser("Deploy the resources stack and the Chalice app.").parse_args(argv)
    try:
        aws_region, source = resolve_region()
        print(f"Region: {aws_region} (from {source})")
        url = deploy(args.stage, aws_region, os.environ)
    except (DeployError, BotoCoreError, ClientError) as exc:
        # Missing credentials, access denied, ...: the message, not a traceback.
        print(f"Deploy failed: {exc}", file=sys.stderr)
        return 1
    print(f"Web page: {url.rstrip('/')}/  (storefront and admin, served by the API)")
    print(f"API URL: {url}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
