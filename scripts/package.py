"""``make package STAGE=dev``: one SAM template (app + resources) and deployment.zip.

``chalice package --merge-template`` deep-merges a template into the one Chalice
generates. The merge template built here is ``infra/resources.json`` with the stage baked
in, plus overrides that make the functions use this stack's own resources: table names,
topic and secret by ``Ref``, the SNS subscription on this stack's topic, the log groups
created before the functions, and IAM policies pinned to the stack's account and region.
"""

from __future__ import annotations

import contextlib
import copy
import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scripts.project import (
    CHALICE_DIR,
    PROJECT_DIR,
    TEMPLATE_FILE,
    chalice,
    chalice_environment,
    load_config,
    region,
    stage_parser,
)

OUT_DIR = PROJECT_DIR / "out"


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
)
SUBSCRIBER = "OnOrderEvent"
SUBSCRIPTION_EVENT = "OnOrderEventSnsSubscription"

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
    for logical_id, resource in list(resolved["Resources"].items()):
        condition = resource.get("Condition")
        if condition in settled:
            del resource["Condition"]
            if not settled[condition]:
                del resolved["Resources"][logical_id]
    for name in settled:
        del resolved["Conditions"][name]
    return resolved


def merge_template(stage: str) -> dict[str, Any]:
    config = load_config()
    app = config["app_name"]
    stage_config = config["stages"][stage]
    template = json.loads(TEMPLATE_FILE.read_text())
    # This template is for one stage only: its names are baked into code and policies.
    parameters = template["Parameters"]
    parameters["Stage"].update(Default=stage, AllowedValues=[stage])
    parameters["AppName"].update(Default=app, AllowedValues=[app])

    template = resolve_conditions(template, {"Stage": stage, "AppName": app})
    resources = template["Resources"]
    for function in FUNCTIONS:
        resources[function.logical_id] = {
            "DependsOn": [function.log_group_id],
            "Properties": {
                "FunctionName": function.function_name(app, stage),
                "Environment": {"Variables": RESOURCE_ENVIRONMENT},
            },
        }
        policy_file = stage_config["lambda_functions"][function.name]["iam_policy_file"]
        policy = json.loads((CHALICE_DIR / policy_file).read_text())
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
    if stage_config.get("xray", config.get("xray", False)):
        resources["RestAPI"] = {"Properties": {"TracingEnabled": True}}
    return template


def package(stage: str, out_dir: Path) -> Path:
    """Write ``sam.json`` and ``deployment.zip`` into ``out_dir`` (replaced); returns it."""
    out_dir = out_dir.resolve()
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    merge_file = out_dir.with_name(f"{out_dir.name}.merge.json")
    merge_file.write_text(json.dumps(merge_template(stage), indent=2) + "\n")
    command = chalice("package", "--stage", stage, "--merge-template", str(merge_file))
    result = subprocess.run(
        [*command, str(out_dir)],
        cwd=PROJECT_DIR,
        env=chalice_environment(region()),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"chalice package failed:\n{result.stdout}{result.stderr}")
    return out_dir


def main(argv: list[str] | None = None) -> int:
    parser = stage_parser("Package the app and its resources as one SAM template.")
    parser.add_argument("--out", type=Path, help="output directory (default: out/<stage>)")
    args = parser.parse_args(argv)
    out_dir = package(args.stage, args.out or OUT_DIR / args.stage)
    size = (out_dir / "deployment.zip").stat().st_size / 1e6
    relative = out_dir.relative_to(PROJECT_DIR) if out_dir.is_relative_to(PROJECT_DIR) else out_dir
    print(f"Packaged {relative}/sam.json and {relative}/deployment.zip ({size:.1f} MB).")
    print(
        "Deploy it with an S3 bucket for the code, e.g.:\n"
        f"  aws cloudformation package --template-file {relative}/sam.json --s3-bucket BUCKET "
        f"--output-template-file {relative}/packaged.json\n"
        f"  aws cloudformation deploy --template-file {relative}/packaged.json "
        f"--stack-name {load_config()['app_name']}-{args.stage} "
        "--capabilities CAPABILITY_IAM CAPABILITY_AUTO_EXPAND"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
