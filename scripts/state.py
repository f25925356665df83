"""A stage's state in AWS: its shared Chalice deploy record, and everything of it that exists.

``chalice deploy`` remembers what it created in ``.chalice/deployed/<stage>.json``. That file
is git-ignored, so on its own it lives on one laptop: a second checkout would create a
second API, and ``chalice delete`` elsewhere would find nothing to delete. The record is
therefore kept with the stage, in the SSM parameter ``/<app>/<stage>/chalice-deployed``
that the resources stack owns (standard tier: free). ``make deploy`` fetches it before
``chalice deploy`` and saves it after; ``make destroy`` fetches it before ``chalice delete``.

:func:`survey` finds what of a stage exists by the names the two deploy paths give
things, so that destroy can delete what a lost record no longer lists, and never reports
success while something remains.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from scripts.project import (
    CHALICE_DIR,
    api_name,
    app_name,
    operations_stack_name,
    packaged_stack_name,
    stack_name,
    stage_environment,
)

# SSM's standard tier holds 4 KB; a record of this app is about 2 KB compact. Intelligent
# tiering keeps it free until a record outgrows that, then moves it to the advanced tier.
PARAMETER_TIER = "Intelligent-Tiering"
EMPTY_RECORD = "{}"  # the value the resources stack creates the parameter with


def record_parameter(stage: str) -> str:
    return f"/{app_name()}/{stage}/chalice-deployed"


def local_record(stage: str, chalice_dir: Path | None = None) -> Path:
    """Where Chalice keeps the stage's record in this checkout (git-ignored)."""
    return (chalice_dir or CHALICE_DIR) / "deployed" / f"{stage}.json"


def read_local_record(stage: str, chalice_dir: Path | None = None) -> dict[str, Any] | None:
    path = local_record(stage, chalice_dir)
    if not path.exists():
        return None
    record: dict[str, Any] = json.loads(path.read_text())
    return record if record.get("resources") else None


def write_local_record(stage: str, record: dict[str, Any], chalice_dir: Path | None = None) -> None:
    path = local_record(stage, chalice_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2) + "\n")


def fetch_record(ssm: Any, stage: str) -> dict[str, Any] | None:
    """The stage's shared record, or None when there is none (or it lists nothing)."""
    try:
        value = ssm.get_parameter(Name=record_parameter(stage))["Parameter"]["Value"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ParameterNotFound":
            return None
        raise
    record: dict[str, Any] = json.loads(value)
    return record if record.get("resources") else None


def save_record(ssm: Any, stage: str, record: dict[str, Any]) -> None:
    ssm.put_parameter(
        Name=record_parameter(stage),
        Value=json.dumps(record, separators=(",", ":")),
        Type="String",
        Overwrite=True,
        Tier=PARAMETER_TIER,
    )


def api_urls(record: dict[str, Any] | None) -> list[str]:
    return [
        str(resource["rest_api_url"])
        for resource in (record or {}).get("resources", [])
        if resource.get("resource_type") == "rest_api"
    ]


# --- what of a stage exists -----------------------------------------------------------


@dataclass(frozen=True)
class Found:
    """Something of the stage that exists, and the command that removes it by hand."""

    kind: str
    name: str
    remove: str
    chalice: dict[str, Any] | None = None  # its entry in a Chalice deploy record


class Aws:
    """The clients a survey needs, in one region."""

    def __init__(self, session: Any, region: str) -> None:
        def client(service: str) -> Any:
            return session.client(service, region_name=region)

        self.cloudformation = client("cloudformation")
        self.lambda_ = client("lambda")
        self.iam = client("iam")
        self.apigateway = client("apigateway")
        self.events = client("events")
        self.sns = client("sns")
        self.logs = client("logs")
        self.ssm = client("ssm")
        self.dynamodb = client("dynamodb")
        self.cloudwatch = client("cloudwatch")


def _paged(client: Any, operation: str, key: str, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for page in client.get_paginator(operation).paginate(**params):
        items.extend(page.get(key, []))
    return items


def _of_stage(name: str, prefix: str) -> bool:
    """``shop-dev`` and ``shop-dev-...``, not ``shop-devx``."""
    return name == prefix or name.startswith(prefix + "-")


def _stacks(aws: Any, stage: str) -> list[Found]:
    found = []
    for stack in (stack_name(stage), operations_stack_name(stage), packaged_stack_name(stage)):
        try:
            aws.cloudformation.describe_stacks(StackName=stack)
        except ClientError as exc:
            if "does not exist" in str(exc):
                continue
            raise
        found.append(Found("stack", stack, f"aws cloudformation delete-stack --stack-name {stack}"))
    return found


def _functions(aws: Any, prefix: str) -> list[Found]:
    return [
        Found(
            "function",
            function["FunctionName"],
            f"aws lambda delete-function --function-name {function['FunctionName']}",
            {"resource_type": "lambda_function", "lambda_arn": function["FunctionArn"]},
        )
        for function in _paged(aws.lambda_, "list_functions", "Functions")
        if _of_stage(function["FunctionName"], prefix)
    ]


def _layers(aws: Any, prefix: str) -> list[Found]:
    found = []
    for layer in _paged(aws.lambda_, "list_layers", "Layers"):
        if not _of_stage(layer["LayerName"], prefix):
            continue
        for version in _paged(
            aws.lambda_, "list_layer_versions", "LayerVersions", LayerName=layer["LayerName"]
        ):
            arn = version["LayerVersionArn"]
            found.append(
                Found(
                    "layer version",
                    arn,
                    f"aws lambda delete-layer-version --layer-name {layer['LayerName']} "
                    f"--version-number {version['Version']}",
                    {"resource_type": "lambda_layer", "layer_version_arn": arn},
                )
            )
    return found


def _roles(aws: Any, prefix: str) -> list[Found]:
    found = []
    for role in _paged(aws.iam, "list_roles", "Roles"):
        name = role["RoleName"]
        if _of_stage(name, prefix):
            found.append(
                Found(
                    "role",
                    name,
                    f"aws iam list-role-policies --role-name {name} (delete each with "
                    f"aws iam delete-role-policy), then aws iam delete-role --role-name {name}",
                    {"resource_type": "iam_role", "role_name": name, "role_arn": role["Arn"]},
                )
            )
    return found


def _serves_stage(aws: Any, api_id: str, prefix: str) -> bool:
    """Whether an API called just ``<app>`` (Chalice's name) integrates this stage's handler."""
    marker = f":function:{prefix}/"
    for resource in _paged(aws.apigateway, "get_resources", "items", restApiId=api_id):
        for method in resource.get("resourceMethods", {}):
            try:
                integration = aws.apigateway.get_integration(
                    restApiId=api_id, resourceId=resource["id"], httpMethod=method
                )
            except ClientError:
                continue
            return marker in integration.get("uri", "")
    return False


def _apis(aws: Any, stage: str, prefix: str) -> list[Found]:
    found = []
    for api in _paged(aws.apigateway, "get_rest_apis", "items"):
        named = api["name"] == api_name(stage)
        # Before make deploy renamed it, every stage's API was called <app>.
        if named or (api["name"] == app_name() and _serves_stage(aws, api["id"], prefix)):
            found.append(
                Found(
                    "REST API",
                    f"{api['name']} ({api['id']})",
                    f"aws apigateway delete-rest-api --rest-api-id {api['id']}",
                    {"resource_type": "rest_api", "rest_api_id": api["id"]},
                )
            )
    return found


def _rules(aws: Any, prefix: str) -> list[Found]:
    return [
        Found(
            "schedule rule",
            rule["Name"],
            f"aws events remove-targets --rule {rule['Name']} --ids 1 && "
            f"aws events delete-rule --name {rule['Name']}",
            {"resource_type": "cloudwatch_event", "rule_name": rule["Name"]},
        )
        for rule in _paged(aws.events, "list_rules", "Rules", NamePrefix=prefix + "-")
    ]


def _subscriptions(aws: Any, stage: str, prefix: str) -> list[Found]:
    topic = stage_environment(stage).get("ORDER_EVENTS_TOPIC", f"{prefix}-order-events")
    found = []
    for subscription in _paged(aws.sns, "list_subscriptions", "Subscriptions"):
        endpoint = subscription.get("Endpoint", "")
        function = endpoint.rsplit(":function:", 1)[-1] if ":function:" in endpoint else ""
        if subscription["Protocol"] != "lambda" or not _of_stage(function, prefix):
            continue
        arn = subscription["SubscriptionArn"]
        found.append(
            Found(
                "SNS subscription",
                arn,
                f"aws sns unsubscribe --subscription-arn {arn}",
                {
                    "resource_type": "sns_event",
                    "topic": topic,
                    "topic_arn": subscription["TopicArn"],
                    "lambda_arn": endpoint,
                    "subscription_arn": arn,
                },
            )
        )
    return found


def _event_source_mappings(aws: Any, prefix: str) -> list[Found]:
    """The stage's functions' stream mappings (the orders stream handler's)."""
    found = []
    for mapping in _paged(aws.lambda_, "list_event_source_mappings", "EventSourceMappings"):
        function_arn = mapping.get("FunctionArn", "")
        if not _of_stage(function_arn.rsplit(":function:", 1)[-1], prefix):
            continue
        uuid = mapping["UUID"]
        found.append(
            Found(
                "stream mapping",
                uuid,
                f"aws lambda delete-event-source-mapping --uuid {uuid}",
                {
                    "resource_type": "dynamodb_event",
                    "stream_arn": mapping.get("EventSourceArn", ""),
                    "event_uuid": uuid,
                    "lambda_arn": function_arn,
                },
            )
        )
    return found


def _stack_owned(aws: Any, stage: str, prefix: str) -> list[Found]:
    """What the stacks own, should a stack be gone and its resources not (retained)."""
    found = [
        Found("table", name, f"aws dynamodb delete-table --table-name {name}")
        for name in _paged(aws.dynamodb, "list_tables", "TableNames")
        if name.startswith(prefix + "-")
    ]
    for topic in _paged(aws.sns, "list_topics", "Topics"):
        name = topic["TopicArn"].rsplit(":", 1)[-1]
        if name.startswith(prefix + "-"):
            found.append(
                Found("topic", name, f"aws sns delete-topic --topic-arn {topic['TopicArn']}")
            )
    for group_prefix in (f"/aws/lambda/{prefix}", f"/aws/apigateway/{prefix}"):
        for group in _paged(
            aws.logs, "describe_log_groups", "logGroups", logGroupNamePrefix=group_prefix
        ):
            name = group["logGroupName"]
            if _of_stage(name, group_prefix):
                found.append(
                    Found("log group", name, f"aws logs delete-log-group --log-group-name {name}")
                )
    for alarm in _paged(
        aws.cloudwatch, "describe_alarms", "MetricAlarms", AlarmNamePrefix=prefix + "-"
    ):
        name = alarm["AlarmName"]
        found.append(Found("alarm", name, f"aws cloudwatch delete-alarms --alarm-names {name}"))
    for dashboard in _paged(
        aws.cloudwatch, "list_dashboards", "DashboardEntries", DashboardNamePrefix=prefix
    ):
        name = dashboard["DashboardName"]
        if name == prefix:
            found.append(
                Found(
                    "dashboard", name, f"aws cloudwatch delete-dashboards --dashboard-names {name}"
                )
            )
    try:
        aws.ssm.get_parameter(Name=record_parameter(stage))
        name = record_parameter(stage)
        found.append(Found("deploy record", name, f"aws ssm delete-parameter --name {name}"))
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ParameterNotFound":
            raise
    return found


def survey(aws: Any, stage: str) -> list[Found]:
    """Everything of the stage that exists in the region, found by name."""
    prefix = f"{app_name()}-{stage}"
    return [
        *_stacks(aws, stage),
        *_apis(aws, stage, prefix),
        *_rules(aws, prefix),
        *_subscriptions(aws, stage, prefix),
        *_event_source_mappings(aws, prefix),
        *_functions(aws, prefix),
        *_layers(aws, prefix),
        *_roles(aws, prefix),
        *_stack_owned(aws, stage, prefix),
    ]


def record_of(found: list[Found]) -> dict[str, Any] | None:
    """A Chalice deploy record listing what was found, for ``chalice delete``; None if
    nothing Chalice creates was found. Entries are named uniquely (Chalice keys on names)."""
    resources = []
    # Chalice deletes a record's resources last first: APIs, rules and subscriptions, then
    # functions, then their roles (the reverse of the survey's order).
    for index, item in enumerate(reversed(found)):
        if item.chalice is not None:
            resources.append({"name": f"found-{index}", **item.chalice})
    if not resources:
        return None
    return {"resources": resources, "schema_version": "2.0", "backend": "api"}


def describe(found: list[Found]) -> str:
    return "\n".join(f"  {item.kind:<16} {item.name}\n    remove: {item.remove}" for item in found)


def main(argv: list[str] | None = None) -> int:
    """``python -m scripts.state --stage dev``: put the stage's shared record in this checkout
    (for ``chalice logs``, which reads it)."""
    import sys

    import boto3
    from botocore.exceptions import BotoCoreError

    from scripts.project import resolve_region, stage_parser

    args = stage_parser("Fetch the stage's shared Chalice deploy record.").parse_args(argv)
    aws_region = resolve_region()[0]
    try:
        record = fetch_record(boto3.client("ssm", region_name=aws_region), args.stage)
    except (BotoCoreError, ClientError) as exc:
        print(f"Fetching the deploy record failed: {exc}", file=sys.stderr)
        return 1
    if record is None:
        print(
            f"Stage {args.stage} has no deploy record in {aws_region} "
            f"({record_parameter(args.stage)}): run make deploy STAGE={args.stage} first.",
            file=sys.stderr,
        )
        return 1
    write_local_record(args.stage, record)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
