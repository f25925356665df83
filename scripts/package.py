"""``make package STAGE=dev``: one SAM template (app + resources) and deployment.zip.

``chalice package --merge-template`` deep-merges a template into the one Chalice
generates. The merge template built here is ``infra/resources.json`` with the stage baked
in, plus overrides that make the functions use this stack's own resources: table names,
topic and secret by ``Ref``, the SNS subscription on this stack's topic, the stream
handler on this stack's orders table stream (``GetAtt OrdersTable.StreamArn``), the log groups
created before the functions, and IAM policies pinned to the stack's account and region.
It also merges ``infra/operations.json`` (alarm topic, alarms, dashboard, prod's access log
group), the same template ``make deploy`` deploys as its operations stack, and gives the
REST API the stage's throttling and (prod) access logs declared there.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scripts.deploy import api_stage_settings, method_settings, writes_access_logs
from scripts.project import (
    OPERATIONS_FILE,
    PROJECT_DIR,
    TEMPLATE_FILE,
    SenderError,
    api_name,
    chalice,
    chalice_environment,
    function_policy,
    load_config,
    operations_stack_name,
    packaged_stack_name,
    resolve_region,
    sender_settings,
    stack_name,
    stage_parser,
)

OUT_DIR = PROJECT_DIR / "out"
OUT_MARKER = ".made-by-make-package"  # an output directory this script may replace
DEPLOY_RECORD = "DeployRecord"
RELEASE_HISTORY = "ReleaseHistory"
INLINE_TEMPLATE_LIMIT = 51_200  # bytes: CloudFormation's limit for a template not in S3


@dataclass(frozen=True)
class Function:
    name: str  # Chalice's name: the key under lambda_functions in config.json
    logical_id: str  # the function's resource in Chalice's SAM template
    role_id: str  # its IAM role there
    log_group_id: str  # its log group in infra/resources.json

    def function_name(self, app: str, stage: str) -> str:
        """The name ``chalice deploy`` gives it (the log group and policy name it too)."""
        return f"{app}-{stage}" if self.name == "api_handler" else f"{app}-{stage}-{self.name}"


FUNCTIONS = (
    Function("api_handler", "APIHandler", "ApiHandlerRole", "ApiHandlerLogGroup"),
    Function("on_order_event", "OnOrderEvent", "OnOrderEventRole", "OnOrderEventLogGroup"),
    Function(
        "republish_unannounced",
        "RepublishUnannounced",
        "RepublishUnannouncedRole",
        "RepublishUnannouncedLogGroup",
    ),
    Function(
        "publish_order_events",
        "PublishOrderEvents",
        "PublishOrderEventsRole",
        "PublishOrderEventsLogGroup",
    ),
)
SUBSCRIBER = "OnOrderEvent"
SUBSCRIPTION_EVENT = "OnOrderEventSnsSubscription"
STREAM_HANDLER = "PublishOrderEvents"
STREAM_EVENT = "PublishOrderEventsDynamodbEventSource"

# Chalice bakes names into the environment; in the packaged stack they refer to its resources.
RESOURCE_ENVIRONMENT: dict[str, Any] = {
    "USERS_TABLE": {"Ref": "UsersTable"},
    "PRODUCTS_TABLE": {"Ref": "ProductsTable"},
    "ORDERS_TABLE": {"Ref": "OrdersTable"},
    "ORDER_EVENTS_TOPIC": {"Fn::GetAtt": ["OrderEventsTopic", "TopicName"]},
    "ORDER_EVENTS_TOPIC_ARN": {"Ref": "OrderEventsTopic"},
    "TOKEN_SECRET_ID": {"Ref": "TokenSigningSecret"},
}
STACK_ARN_PREFIX = "arn:${AWS::Partition}:%s:${AWS::Region}:${AWS::AccountId}:"


def pin_to_stack(policy: dict[str, Any]) -> dict[str, Any]:
    """The policy with ``arn:aws:<service>:*:*:`` ARNs narrowed to the stack's own account."""

    def pin(resource: str) -> str | dict[str, str]:
        parts = resource.split(":", 5)
        if len(parts) == 6 and parts[0] == "arn" and parts[3:5] == ["*", "*"]:
            return {"Fn::Sub": STACK_ARN_PREFIX % parts[2] + parts[5]}
        return resource

    pinned = copy.deepcopy(policy)
    for statement in pinned["Statement"]:
        resources = statement["Resource"]
        if isinstance(resources, str):
            statement["Resource"] = pin(resources)
        else:
            statement["Resource"] = [pin(r) for r in resources]
    return pinned


class _Unknown(Exception):
    """A condition that depends on a parameter chosen at deploy time."""


def _evaluate(expression: Any, known: dict[str, str], conditions: dict[str, Any]) -> Any:
    if not isinstance(expression, dict):
        return expression
    ((function, argument),) = expression.items()
    if function == "Ref" and argument in known:
        return known[argument]
    if function == "Condition":
        return _evaluate(conditions[argument], known, conditions)
    values = [_evaluate(item, known, conditions) for item in argument]
    if function == "Fn::Equals":
        return values[0] == values[1]
    if function == "Fn::Not":
        return not values[0]
    if function == "Fn::And":
        return all(values)
    if function == "Fn::Or":
        return any(values)
    raise _Unknown(function)


def resolve_conditions(template: dict[str, Any], known: dict[str, str]) -> dict[str, Any]:
    """Settle the conditions that only depend on ``known`` parameters (the baked-in stage).

    Their ``Fn::If`` become plain values and their conditional resources plain ones (or
    none), so that the template says what it deploys and cfn-lint sees no dead branches.
    """
    conditions = template.get("Conditions", {})
    settled = {}
    for name, expression in conditions.items():
        with contextlib.suppress(_Unknown):
            settled[name] = bool(_evaluate(expression, known, conditions))

    def settle(value: Any) -> Any:
        if isinstance(value, list):
            return [settle(item) for item in value]
        if not isinstance(value, dict):
            return value
        branches = value.get("Fn::If")
        if len(value) == 1 and branches and branches[0] in settled:
            return settle(branches[1] if settled[branches[0]] else branches[2])
        return {key: settle(item) for key, item in value.items()}

    resolved = settle(template)
    for section in ("Resources", "Outputs"):
        for logical_id, entry in list(resolved.get(section, {}).items()):
            condition = entry.get("Condition")
            if condition in settled:
                del entry["Condition"]
                if not settled[condition]:
                    del resolved[section][logical_id]
    for name in settled:
        del resolved["Conditions"][name]
    return resolved


# --- Operations: infra/operations.json, and the API stage settings it declares ----------


def stage_method_settings(stage: str) -> list[dict[str, Any]]:
    """The stage's throttling as CloudFormation ``MethodSettings`` (paths ``~1``-encoded)."""
    return [
        {
            **setting,
            "ResourcePath": setting["ResourcePath"]
            if setting["ResourcePath"] == "/*"
            else "/" + setting["ResourcePath"].replace("/", "~1"),
        }
        for setting in method_settings(stage)
    ]


def add_operations(template: dict[str, Any], stage: str) -> None:
    """Merge ``infra/operations.json`` and give the API its stage settings and name."""
    operations = json.loads(OPERATIONS_FILE.read_text())
    operations.pop("Metadata")  # read by method_settings(); not part of the stack
    for section in ("Parameters", "Conditions", "Resources", "Outputs"):
        for key, value in operations.get(section, {}).items():
            # Stage, AppName and IsProd are the same in both templates.
            template.setdefault(section, {}).setdefault(key, value)
    api: dict[str, Any] = {
        # API Gateway's metrics are per ApiName: one name per stage (the title is its import name).
        "Name": api_name(stage),
        "DefinitionBody": {"info": {"title": api_name(stage)}},
        "MethodSettings": stage_method_settings(stage),
    }
    if writes_access_logs(stage):
        api["AccessLogSetting"] = {
            "DestinationArn": {"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]},
            "Format": api_stage_settings()["AccessLogFormat"],
        }
    template["Resources"].setdefault("RestAPI", {}).setdefault("Properties", {}).update(api)


def merge_template(stage: str, sender: tuple[str, str] | None = None) -> dict[str, Any]:
    """The merge template; ``sender`` is ``(identity, address)`` when buyer emails are on.

    With a sender, the template declares the SES identity, the functions get the stage's
    ``EMAIL_SENDER`` and the sending functions' roles ``ses:SendEmail`` on that identity only.
    """
    identity, address = sender or ("", "")
    config = load_config()
    app = config["app_name"]
    stage_config = config["stages"][stage]
    template = json.loads(TEMPLATE_FILE.read_text())
    # This template is for one stage only: its names are baked into code and policies.
    parameters = template["Parameters"]
    parameters["Stage"].update(Default=stage, AllowedValues=[stage])
    parameters["AppName"].update(Default=app, AllowedValues=[app])
    # The senders' grant names the identity: it cannot change without a new package.
    parameters["SenderIdentity"].update(Default=identity, AllowedValues=[identity])

    resources = template["Resources"]
    # The deploy record is `make deploy`'s (scripts/state.py); this stack has no Chalice record.
    del resources[DEPLOY_RECORD]
    del template["Outputs"][DEPLOY_RECORD + "Parameter"]
    del resources[RELEASE_HISTORY]  # make rollback's (scripts/releases.py), as well
    del template["Outputs"][RELEASE_HISTORY + "Parameter"]
    if stage_config.get("xray", config.get("xray", False)):
        resources["RestAPI"] = {"Properties": {"TracingEnabled": True}}
    add_operations(template, stage)
    api_gateway_stage = stage_config.get("api_gateway_stage", "api")
    template["Parameters"]["ApiStage"].update(
        Default=api_gateway_stage, AllowedValues=[api_gateway_stage]
    )
    template = resolve_conditions(
        template,
        {"Stage": stage, "AppName": app, "ApiStage": api_gateway_stage, "SenderIdentity": identity},
    )
    environment = {**RESOURCE_ENVIRONMENT, **({"EMAIL_SENDER": address} if address else {})}
    resources = template["Resources"]
    for function in FUNCTIONS:
        resources[function.logical_id] = {
            "DependsOn": [function.log_group_id],
            "Properties": {
                "FunctionName": function.function_name(app, stage),
                "Environment": {"Variables": environment},
            },
        }
        policy = function_policy(stage, function.name, identity or None)
        resources[function.role_id] = {
            "Properties": {
                "Policies": [
                    {
                        "PolicyName": f"{function.role_id}Policy",
                        "PolicyDocument": pin_to_stack(policy),
                    }
                ]
            }
        }
    # Deep merge: a {"Ref": ...} would sit beside Chalice's Fn::Sub; replace the string instead.
    resources[SUBSCRIBER]["Properties"]["Events"] = {
        SUBSCRIPTION_EVENT: {"Properties": {"Topic": {"Fn::Sub": "${OrderEventsTopic}"}}}
    }
    # Chalice writes the stream ARN it imported the app with (a placeholder): this stack's.
    resources[STREAM_HANDLER]["Properties"]["Events"] = {
        STREAM_EVENT: {"Properties": {"Stream": {"Fn::GetAtt": ["OrdersTable", "StreamArn"]}}}
    }
    return template


class PackageError(Exception):
    """Something the operator must fix; nothing was written."""


def prepare_out_dir(out_dir: Path) -> Path:
    """An empty ``out_dir``, replacing only a directory an earlier package run made."""
    out_dir = out_dir.resolve()
    if out_dir.exists():
        if not out_dir.is_dir():
            raise PackageError(f"{out_dir} is a file, not a directory")
        if any(out_dir.iterdir()) and not (out_dir / OUT_MARKER).exists():
            raise PackageError(
                f"{out_dir} is not empty and was not made by make package: "
                "choose an empty or new directory"
            )
        shutil.rmtree(out_dir)
    return out_dir


def package(
    stage: str,
    out_dir: Path,
    aws_region: str | None = None,
    sender: tuple[str, str] | None = None,
) -> Path:
    """Write ``sam.json`` and ``deployment.zip`` into ``out_dir``; returns it.

    ``out_dir`` may be new, empty, or an earlier output (it is replaced); anything else is
    refused before anything is written.
    """
    out_dir = prepare_out_dir(out_dir)
    with tempfile.TemporaryDirectory(prefix="package-") as scratch:
        merge_file = Path(scratch) / f"{stage}.merge.json"
        merge_file.write_text(json.dumps(merge_template(stage, sender), indent=2) + "\n")
        command = chalice("package", "--stage", stage, "--merge-template", str(merge_file))
        result = subprocess.run(
            [*command, str(out_dir)],
            cwd=PROJECT_DIR,
            env=chalice_environment(aws_region or resolve_region()[0]),
            capture_output=True,
            text=True,
            check=False,
        )
    if result.returncode != 0:
        raise PackageError(f"chalice package failed:\n{result.stdout}{result.stderr}")
    (out_dir / OUT_MARKER).write_text("Written by make package; it may replace this directory.\n")
    return out_dir


def deploy_instructions(stage: str, relative: Path, template_bytes: int) -> str:
    stack = packaged_stack_name(stage)
    return (
        f"The template is {template_bytes:,} bytes (CloudFormation takes at most "
        f"{INLINE_TEMPLATE_LIMIT:,} inline), so code and template both go through S3.\n"
        "Deploy it with a bucket you own in the same region:\n"
        f"  aws cloudformation package --template-file {relative}/sam.json --s3-bucket BUCKET "
        f"--output-template-file {relative}/packaged.json\n"
        f"  aws cloudformation deploy --template-file {relative}/packaged.json "
        f"--s3-bucket BUCKET --stack-name {stack} "
        "--capabilities CAPABILITY_IAM CAPABILITY_AUTO_EXPAND "
        "[--parameter-overrides AlarmEmail=you@example.com]\n"
        "  (with AlarmEmail, the alarms also go by email: confirm the subscription)\n"
        f"This stack and `make deploy STAGE={stage}` (stacks {stack_name(stage)} and "
        f"{operations_stack_name(stage)}) own the same tables, topic and function names: use "
        "one path per account and region. make deploy refuses when this stack exists; before "
        f"deploying this one, check: aws cloudformation describe-stacks --stack-name "
        f"{stack_name(stage)} (it should not exist)."
    )


def main(argv: list[str] | None = None) -> int:
    parser = stage_parser("Package the app and its resources as one SAM template.")
    parser.add_argument("--out", type=Path, help="output directory (default: out/<stage>)")
    args = parser.parse_args(argv)
    aws_region, source = resolve_region()
    print(f"Region: {aws_region} (from {source})")
    try:
        sender = sender_settings(os.environ)
        out_dir = package(args.stage, args.out or OUT_DIR / args.stage, aws_region, sender)
    except (PackageError, SenderError) as exc:
        print(f"Package failed: {exc}", file=sys.stderr)
        return 1
    size = (out_dir / "deployment.zip").stat().st_size / 1e6
    relative = out_dir.relative_to(PROJECT_DIR) if out_dir.is_relative_to(PROJECT_DIR) else out_dir
    emails = f"from {sender[1]} (SES identity {sender[0]})" if sender else "off"
    print(f"Buyer emails: {emails}")
    print(f"Packaged {relative}/sam.json and {relative}/deployment.zip ({size:.1f} MB).")
    template_bytes = len((out_dir / "sam.json").read_bytes())
    print(deploy_instructions(args.stage, relative, template_bytes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
