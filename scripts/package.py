"""``make package STAGE=dev``: one SAM template (app + resources) and deployment.zip.

``chalice package --merge-template`` deep-merges a template into the one Chalice
generates. The merge template built here is ``infra/resources.json`` with the stage baked
in, plus overrides that make the functions use this stack's own resources: table names,
topic and secret by ``Ref``, the SNS subscription on this stack's topic, the log groups
created before the functions, and IAM policies pinned to the stack's account and region.
It also adds the stage's monitoring: CloudWatch alarms that notify an alarm topic (with an
optional email subscription) and a dashboard.
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


# --- Monitoring: CloudWatch alarms on one topic and a dashboard, per stage ----------------

ALARM_TOPIC = "AlarmTopic"
ALARM_EMAIL = "AlarmEmail"
HAS_ALARM_EMAIL = "HasAlarmEmail"
DASHBOARD = "Dashboard"
PERIOD = 300  # seconds: alarms and dashboard look at 5-minute periods (the sweep's rate)
METRICS_NAMESPACE = "Shop"  # chalicelib/observability.py: one dimension set, [["Stage"]]
API_5XX_RATE_PERCENT = 1
LATENCY_P99_MS = {"prod": 3000}  # other stages: DEFAULT_LATENCY_P99_MS
DEFAULT_LATENCY_P99_MS = 5000


def api_name(app: str, stage: str) -> str:
    """The REST API's name: API Gateway metrics are per ``ApiName`` and ``Stage`` only, so
    each stage's API needs its own name (Chalice would call every stage's API ``app``)."""
    return f"{app}-{stage}"


def _metric(namespace: str, name: str, dimensions: dict[str, Any]) -> dict[str, Any]:
    return {
        "Namespace": namespace,
        "MetricName": name,
        "Dimensions": [{"Name": key, "Value": value} for key, value in dimensions.items()],
    }


def _alarm(
    name: str,
    description: str,
    threshold: float,
    measure: dict[str, Any],
    *,
    periods: int = 1,
    missing: str = "notBreaching",
) -> dict[str, Any]:
    """An alarm that notifies the alarm topic when it fires and when it recovers.

    ``measure`` is either a metric with its statistic or metric math (``Metrics``); the
    alarm fires when the value exceeds ``threshold`` in ``periods`` periods in a row.
    """
    return {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmName": name,
            "AlarmDescription": description,
            "ActionsEnabled": True,
            "AlarmActions": [{"Ref": ALARM_TOPIC}],
            "OKActions": [{"Ref": ALARM_TOPIC}],
            **measure,
            "ComparisonOperator": "GreaterThanThreshold",
            "Threshold": threshold,
            "EvaluationPeriods": periods,
            "DatapointsToAlarm": periods,
            "TreatMissingData": missing,
        },
    }


def alarms(app: str, stage: str, api_stage: str) -> dict[str, dict[str, Any]]:
    """The stage's alarms by logical id."""
    prefix = f"{app}-{stage}"
    api = {"ApiName": api_name(app, stage), "Stage": api_stage}
    shop = {"Stage": stage}
    resources = {
        "Api5xxRateAlarm": _alarm(
            f"{prefix}-api-5xx-rate",
            f"More than {API_5XX_RATE_PERCENT}% of API requests failed with a 5XX in 5 minutes. "
            f"See `make logs STAGE={stage}` (requests with status >= 500 log at ERROR).",
            API_5XX_RATE_PERCENT,
            {
                "Metrics": [
                    {
                        "Id": "errors",
                        "MetricStat": {
                            "Metric": _metric("AWS/ApiGateway", "5XXError", api),
                            "Period": PERIOD,
                            "Stat": "Sum",
                        },
                        "ReturnData": False,
                    },
                    {
                        "Id": "requests",
                        "MetricStat": {
                            "Metric": _metric("AWS/ApiGateway", "Count", api),
                            "Period": PERIOD,
                            "Stat": "Sum",
                        },
                        "ReturnData": False,
                    },
                    {
                        "Id": "rate",
                        "Expression": "IF(requests > 0, 100 * errors / requests, 0)",
                        "Label": "5XX rate (%)",
                        "ReturnData": True,
                    },
                ]
            },
        ),
        "ApiLatencyP99Alarm": _alarm(
            f"{prefix}-api-latency-p99",
            "The API's p99 latency stayed above the threshold for 10 minutes.",
            LATENCY_P99_MS.get(stage, DEFAULT_LATENCY_P99_MS),
            {
                **_metric("AWS/ApiGateway", "Latency", api),
                "ExtendedStatistic": "p99",
                "Period": PERIOD,
                # A handful of requests (a cold start) says little about the 99th percentile.
                "EvaluateLowSampleCountPercentile": "ignore",
            },
            periods=2,
        ),
        "EventsNotAnnouncedAlarm": _alarm(
            f"{prefix}-events-not-announced",
            "Two sweeps in a row found order events still unacknowledged after the grace "
            "period: publishing or the subscriber is failing. See `make logs "
            f"STAGE={stage} FUNCTION=republish_unannounced` and FUNCTION=on_order_event.",
            0,
            {
                **_metric(METRICS_NAMESPACE, "EventsNotAnnounced", shop),
                "Statistic": "Maximum",
                "Period": PERIOD,
            },
            periods=2,
        ),
        "SubscriberErrorsAlarm": _alarm(
            f"{prefix}-subscriber-errors",
            "The order-events subscriber dropped malformed messages. See `make logs "
            f"STAGE={stage} FUNCTION=on_order_event`.",
            0,
            {
                **_metric(METRICS_NAMESPACE, "SubscriberErrors", shop),
                "Statistic": "Sum",
                "Period": PERIOD,
            },
        ),
    }
    for function in FUNCTIONS:
        dimensions = {"FunctionName": {"Ref": function.logical_id}}
        slug = function.name.replace("_", "-")
        for metric, what in (("Errors", "failed"), ("Throttles", "was throttled")):
            resources[f"{function.logical_id}{metric}Alarm"] = _alarm(
                f"{prefix}-{slug}-{metric.lower()}",
                f"The {function.name} function {what} in the last 5 minutes. See `make logs "
                f"STAGE={stage} FUNCTION={function.name}`.",
                0,
                {**_metric("AWS/Lambda", metric, dimensions), "Statistic": "Sum", "Period": PERIOD},
            )
    return resources


def _sub(name: str) -> str:
    """An ``Fn::Sub`` variable: a parameter, a resource (its ``Ref``) or ``resource.Attr``."""
    return "${" + name + "}"


def dashboard_body(app: str, stage: str, api_stage: str, alarm_ids: list[str]) -> str:
    """The dashboard as JSON with ``${...}`` references for ``Fn::Sub`` (region, names)."""
    api = ["ApiName", api_name(app, stage), "Stage", api_stage]

    def shop(name: str, stat: str = "Sum") -> list[Any]:
        return [METRICS_NAMESPACE, name, "Stage", stage, {"stat": stat, "label": name}]

    def per_function(metric: str) -> list[list[Any]]:
        return [
            ["AWS/Lambda", metric, "FunctionName", _sub(f.logical_id), {"label": f.name}]
            for f in FUNCTIONS
        ]

    def graph(title: str, metrics: list[list[Any]], stat: str = "Sum") -> dict[str, Any]:
        return {
            "type": "metric",
            "properties": {
                "title": title,
                "region": "${AWS::Region}",
                "view": "timeSeries",
                "stacked": False,
                "period": PERIOD,
                "stat": stat,
                "metrics": metrics,
            },
        }

    graphs = [
        graph("API requests", [["AWS/ApiGateway", "Count", *api, {"label": "requests"}]]),
        graph(
            "API latency (ms)",
            [
                ["AWS/ApiGateway", "Latency", *api, {"stat": "p50", "label": "p50"}],
                ["AWS/ApiGateway", "Latency", *api, {"stat": "p99", "label": "p99"}],
            ],
        ),
        graph(
            "API errors",
            [
                ["AWS/ApiGateway", "4XXError", *api, {"label": "4XX"}],
                ["AWS/ApiGateway", "5XXError", *api, {"label": "5XX"}],
            ],
        ),
        graph("Lambda errors", per_function("Errors")),
        graph("Lambda throttles", per_function("Throttles")),
        graph("Orders", [shop("OrdersPlaced"), shop("OrdersCancelled")]),
        graph("Order value (sum)", [shop("OrderValue")]),
        graph(
            "Stock conflicts and login failures", [shop("StockConflicts"), shop("LoginFailures")]
        ),
        graph(
            "Order events",
            [
                shop("EventsNotAnnounced", "Maximum"),
                shop("EventsRepublished"),
                shop("PublishFailures"),
                shop("SubscriberErrors"),
            ],
        ),
    ]
    width, height = 12, 6
    widgets: list[dict[str, Any]] = [
        {
            "type": "alarm",
            "x": 0,
            "y": 0,
            "width": 2 * width,
            "height": 3,
            "properties": {
                "title": "Alarms",
                "alarms": [_sub(f"{alarm_id}.Arn") for alarm_id in alarm_ids],
            },
        }
    ]
    for index, widget in enumerate(graphs):
        column, row = index % 2, index // 2
        widgets.append({**widget, "x": column * width, "y": 3 + row * height})
        widgets[-1].update(width=width, height=height)
    return json.dumps({"widgets": widgets}, separators=(",", ":"))


def add_monitoring(template: dict[str, Any], app: str, stage: str, api_stage: str) -> None:
    """The alarm topic (optional email), the stage's alarms and its dashboard."""
    template["Parameters"][ALARM_EMAIL] = {
        "Type": "String",
        "Default": "",
        "Description": "Optional email address that receives the alarms (confirm the email)",
        "AllowedPattern": r"^$|^[^@\s]+@[^@\s]+\.[^@\s]+$",
        "ConstraintDescription": "an email address, or empty for none",
    }
    template.setdefault("Conditions", {})[HAS_ALARM_EMAIL] = {
        "Fn::Not": [{"Fn::Equals": [{"Ref": ALARM_EMAIL}, ""]}]
    }
    resources = template["Resources"]
    resources[ALARM_TOPIC] = {
        "Type": "AWS::SNS::Topic",
        "Properties": {
            "TopicName": f"{app}-{stage}-alarms",
            "DisplayName": f"{app} {stage} alarms",
        },
    }
    resources["AlarmEmailSubscription"] = {
        "Type": "AWS::SNS::Subscription",
        "Condition": HAS_ALARM_EMAIL,
        "Properties": {
            "TopicArn": {"Ref": ALARM_TOPIC},
            "Protocol": "email",
            "Endpoint": {"Ref": ALARM_EMAIL},
        },
    }
    stage_alarms = alarms(app, stage, api_stage)
    resources.update(stage_alarms)
    resources[DASHBOARD] = {
        "Type": "AWS::CloudWatch::Dashboard",
        "Properties": {
            "DashboardName": f"{app}-{stage}",
            "DashboardBody": {"Fn::Sub": dashboard_body(app, stage, api_stage, list(stage_alarms))},
        },
    }
    # The API's metrics are named after it: one name per stage (the title is its import name).
    name = api_name(app, stage)
    resources.setdefault("RestAPI", {}).setdefault("Properties", {}).update(
        Name=name, DefinitionBody={"info": {"title": name}}
    )
    template.setdefault("Outputs", {}).update(
        AlarmTopicArn={"Value": {"Ref": ALARM_TOPIC}},
        DashboardURL={
            "Value": {
                "Fn::Sub": "https://${AWS::Region}.console.aws.amazon.com/cloudwatch/home"
                "?region=${AWS::Region}#dashboards:name=" + _sub(DASHBOARD)
            }
        },
    )


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
    add_monitoring(template, app, stage, stage_config.get("api_gateway_stage", "api"))
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
        "--capabilities CAPABILITY_IAM CAPABILITY_AUTO_EXPAND "
        f"[--parameter-overrides {ALARM_EMAIL}=you@example.com]\n"
        f"  (with {ALARM_EMAIL}, the alarms also go by email: confirm the subscription)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
