"""The AWS lifecycle rehearsed offline: three fresh checkouts, one emulated account.

Checkout A runs ``python -m scripts.deploy --stage dev``, checkout B (no local deploy
record, like a teammate or CI) runs it again, checkout C runs ``python -m scripts.destroy``.
Then D deploys again, the shared record is lost, and E destroys by finding names.
Nothing is mocked between the scripts and the emulator: the real scripts run the real
``chalice deploy`` / ``chalice delete`` (which packages the app, ``pip download`` included)
against moto server on loopback, started in this process by ``devstack.emulator``. Only
``tests/deploy/moto_gaps.py`` bridges where moto 5.2 cannot take what AWS takes (the API
import of Chalice's Swagger 2.0 document; alarms in CloudFormation; Lambda's
GetLayerVersionByArn).

What this shows: the names and wiring of everything both stacks and Chalice create (the
orders stream's event source mapping included), that
the shared record makes the second deploy update the same API, that the operations stack
and the stage's throttling exist after the first deploy, and that destroy leaves nothing.

What it cannot show (moto): no function is ever invoked (nothing is written to the orders
table, so the mapping never polls; tests/e2e/test_order_events_e2e.py runs the stream
handler on moto's stream instead), so no IAM policy is evaluated
(tests/deploy/test_iam.py checks the policies against the calls the code makes); API
Gateway does not enforce throttling or write access logs; CloudWatch never evaluates an
alarm; CloudFormation resolves no ``AWS::SecretsManager::Secret``, ignores TTL and
point-in-time recovery, and creates resources synchronously (no waiting, no rollback).

The ``make package`` template goes through moto's CloudFormation only as far as moto
goes: see :func:`test_the_packaged_template_in_moto_cloudformation`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from devstack.emulator import Emulator
from scripts.project import CHALICE_DIR, PROJECT_DIR, load_config
from tests.deploy.moto_gaps import bridged

STAGE = "dev"
REGION = "us-east-1"
APP = load_config()["app_name"]
PREFIX = f"{APP}-{STAGE}"
FUNCTIONS = {
    "api_handler": PREFIX,
    "on_order_event": f"{PREFIX}-on_order_event",
    "republish_unannounced": f"{PREFIX}-republish_unannounced",
    "publish_order_events": f"{PREFIX}-publish_order_events",
}
# What a checkout of the repository holds that deploying needs (git-ignored files are not).
CHECKOUT = ("app.py", "chalicelib", "scripts", "infra", "requirements.txt", ".chalice")
CHECKOUT_IGNORED = shutil.ignore_patterns("__pycache__", "deployed", "deployments")
ALARMS = {
    f"{PREFIX}-{name}"
    for name in (
        "api-5xx-rate",
        "api-latency-p99",
        "events-not-announced",
        "subscriber-errors",
        "payment-amount-mismatches",
        "orders-stream-iterator-age",
        *(
            f"{function.replace('_', '-')}-{metric}"
            for function in FUNCTIONS
            for metric in ("errors", "throttles")
        ),
    )
}


def checkout(root: Path, name: str) -> Path:
    """A fresh clone: the tracked files deploying needs, no ``.chalice/deployed``."""
    target = root / name
    for entry in CHECKOUT:
        source = PROJECT_DIR / entry
        if source.is_dir():
            shutil.copytree(source, target / entry, ignore=CHECKOUT_IGNORED)
        else:
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / entry)
    return target


def run(where: Path, script: str, environment: dict[str, str]) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", script, "--stage", STAGE],
        cwd=where,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert result.returncode == 0, f"{script}:\n{result.stdout}\n{result.stderr}"
    return result


class Account:
    """Reads what exists in the emulated account."""

    def __init__(self, endpoint: str) -> None:
        def client(service: str) -> Any:
            return boto3.client(service, region_name=REGION, endpoint_url=endpoint)

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

    def snapshot(self) -> dict[str, Any]:
        functions = {f["FunctionName"]: f for f in self.lambda_.list_functions()["Functions"]}
        permissions = {}
        for name in functions:
            try:
                policy = json.loads(self.lambda_.get_policy(FunctionName=name)["Policy"])
            except ClientError:
                policy = {"Statement": []}
            permissions[name] = sorted(s["Principal"]["Service"] for s in policy["Statement"])
        roles = {
            role["RoleName"]: {
                policy: self.iam.get_role_policy(RoleName=role["RoleName"], PolicyName=policy)[
                    "PolicyDocument"
                ]
                for policy in self.iam.list_role_policies(RoleName=role["RoleName"])["PolicyNames"]
            }
            for role in self.iam.list_roles()["Roles"]
        }
        apis = {api["id"]: api["name"] for api in self.apigateway.get_rest_apis()["items"]}
        stages = {
            api_id: {
                stage["stageName"]: stage.get("methodSettings", {})
                for stage in self.apigateway.get_stages(restApiId=api_id)["item"]
            }
            for api_id in apis
        }
        rules = {
            rule["Name"]: {
                "schedule": rule.get("ScheduleExpression"),
                "targets": [
                    t["Arn"] for t in self.events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
                ],
            }
            for rule in self.events.list_rules()["Rules"]
        }
        stacks = [
            s["StackName"]
            for s in self.cloudformation.list_stacks()["StackSummaries"]
            if s["StackStatus"] != "DELETE_COMPLETE"
        ]
        try:
            record = json.loads(
                self.ssm.get_parameter(Name=f"/{APP}/{STAGE}/chalice-deployed")["Parameter"][
                    "Value"
                ]
            )
        except ClientError:
            record = None
        return {
            "functions": {name: f["Role"].rsplit("/", 1)[-1] for name, f in functions.items()},
            "permissions": permissions,
            "roles": roles,
            "apis": apis,
            "stages": stages,
            "rules": rules,
            "subscriptions": [
                (s["TopicArn"].rsplit(":", 1)[-1], s["Protocol"], s["Endpoint"])
                for s in self.sns.list_subscriptions()["Subscriptions"]
            ],
            "topics": sorted(
                t["TopicArn"].rsplit(":", 1)[-1] for t in self.sns.list_topics()["Topics"]
            ),
            "tables": self.dynamodb.list_tables()["TableNames"],
            "streams": {
                name: self.dynamodb.describe_table(TableName=name)["Table"].get("LatestStreamArn")
                for name in self.dynamodb.list_tables()["TableNames"]
            },
            "mappings": [
                {
                    key: mapping.get(key)
                    for key in (
                        "UUID",
                        "EventSourceArn",
                        "FunctionArn",
                        "StartingPosition",
                        "BatchSize",
                        "State",
                    )
                }
                for mapping in self.lambda_.list_event_source_mappings()["EventSourceMappings"]
            ],
            "log_groups": [g["logGroupName"] for g in self.logs.describe_log_groups()["logGroups"]],
            "alarms": {
                a["AlarmName"]: a for a in self.cloudwatch.describe_alarms()["MetricAlarms"]
            },
            "dashboards": [
                d["DashboardName"] for d in self.cloudwatch.list_dashboards()["DashboardEntries"]
            ],
            "stacks": sorted(stacks),
            "record": record,
        }


@pytest.fixture(scope="module")
def lifecycle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Deploy from A, deploy from B, destroy from C; what the account held after each."""
    root = tmp_path_factory.mktemp("checkouts")
    with bridged(), Emulator() as emulator:
        environment = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("AWS_", "USERS_", "PRODUCTS_", "ORDERS_", "ORDER_EVENTS_"))
            and key not in {"APP_STAGE", "TOKEN_SECRET", "TOKEN_TTL_SECONDS"}
        }
        environment.update(
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            AWS_ENDPOINT_URL=emulator.endpoint_url,
            AWS_REGION=REGION,
            AWS_DEFAULT_REGION="eu-west-1",  # AWS_REGION wins
            AWS_CONFIG_FILE=str(root / "no-aws-config"),
            AWS_SHARED_CREDENTIALS_FILE=str(root / "no-aws-credentials"),
        )
        account = Account(emulator.endpoint_url)
        seen: dict[str, Any] = {}
        first = run(checkout(root, "a"), "scripts.deploy", environment)
        seen["first"] = {"out": first.stdout, **account.snapshot()}
        clone_b = checkout(root, "b")
        # Chalice's build cache only (git-ignored, like a CI cache): saves a pip download.
        shutil.copytree(root / "a/.chalice/deployments", clone_b / ".chalice/deployments")
        second = run(clone_b, "scripts.deploy", environment)
        seen["second"] = {"out": second.stdout, **account.snapshot()}
        seen["clone_b_record"] = json.loads((clone_b / ".chalice/deployed/dev.json").read_text())
        destroyed = run(checkout(root, "c"), "scripts.destroy", environment)
        seen["destroyed"] = {"out": destroyed.stdout, **account.snapshot()}
        # A record lost (or from before records were shared): destroy finds things by name.
        clone_d = checkout(root, "d")
        # Chalice's build cache only (git-ignored, like a CI cache): saves a pip download.
        shutil.copytree(root / "a/.chalice/deployments", clone_d / ".chalice/deployments")
        run(clone_d, "scripts.deploy", environment)
        account.ssm.put_parameter(
            Name=f"/{APP}/{STAGE}/chalice-deployed", Value="{}", Overwrite=True
        )
        # And the API still has Chalice's name, as deploys before the renaming left it.
        (api_id,) = (api["id"] for api in account.apigateway.get_rest_apis()["items"])
        account.apigateway.update_rest_api(
            restApiId=api_id, patchOperations=[{"op": "replace", "path": "/name", "value": APP}]
        )
        lost = run(checkout(root, "e"), "scripts.destroy", environment)
        seen["lost"] = {"out": lost.stdout, **account.snapshot()}
        yield seen


def policy_file(function: str) -> dict[str, Any]:
    name = load_config()["stages"][STAGE]["lambda_functions"][function]["iam_policy_file"]
    return json.loads((CHALICE_DIR / name).read_text())


def test_the_region_is_printed_first_and_aws_region_wins(lifecycle):
    out = lifecycle["first"]["out"]
    assert out.splitlines()[0] == f"Region: {REGION} (from AWS_REGION)"
    assert out.splitlines()[-1].startswith("API URL: https://")
    assert f".execute-api.{REGION}.amazonaws.com/api/" in out
    assert "Web page: https://" in out


def test_functions_roles_and_policies_are_named_per_stage(lifecycle):
    first = lifecycle["first"]
    assert first["functions"] == {name: f"{PREFIX}-{fn}" for fn, name in FUNCTIONS.items()}
    for function, name in FUNCTIONS.items():
        role = first["functions"][name]
        # Chalice names the inline policy after the role; it is the committed policy file.
        assert first["roles"][role] == {role: policy_file(function)}
    assert set(first["roles"]) == {f"{PREFIX}-{fn}" for fn in FUNCTIONS}


def test_each_function_can_be_invoked_by_its_trigger_only(lifecycle):
    assert lifecycle["first"]["permissions"] == {
        FUNCTIONS["api_handler"]: ["apigateway.amazonaws.com"],
        FUNCTIONS["on_order_event"]: ["sns.amazonaws.com"],
        FUNCTIONS["republish_unannounced"]: ["events.amazonaws.com"],
        # Invoked by its event source mapping, with its own role: no resource policy.
        FUNCTIONS["publish_order_events"]: [],
    }


def test_the_stream_handler_reads_the_orders_tables_stream(lifecycle):
    first, second = lifecycle["first"], lifecycle["second"]
    orders_stream = first["streams"][f"{PREFIX}-orders"]
    assert orders_stream  # make deploy turned the stream on (infra/resources.json)
    (mapping,) = first["mappings"]
    assert mapping["EventSourceArn"] == orders_stream
    assert mapping["FunctionArn"].endswith(f":function:{FUNCTIONS['publish_order_events']}")
    assert (mapping["StartingPosition"], mapping["BatchSize"]) == ("TRIM_HORIZON", 100)
    assert mapping["State"] == "Enabled"
    assert "Subscribing" in first["out"] and orders_stream in first["out"]
    # The second deploy, from another checkout, updates the same mapping.
    assert second["mappings"] == first["mappings"]


def test_the_subscriber_and_the_sweep_are_wired(lifecycle):
    first = lifecycle["first"]
    (subscription,) = first["subscriptions"]
    topic, protocol, endpoint = subscription
    assert (topic, protocol) == (f"{PREFIX}-order-events", "lambda")
    assert endpoint.endswith(f":function:{FUNCTIONS['on_order_event']}")
    (rule,) = first["rules"].values()
    assert rule["schedule"] == "rate(5 minutes)"
    (target,) = rule["targets"]
    assert target.endswith(f":function:{FUNCTIONS['republish_unannounced']}")


def test_the_resources_and_operations_stacks_exist_after_the_first_deploy(lifecycle):
    first = lifecycle["first"]
    assert first["stacks"] == [f"{PREFIX}-operations", f"{PREFIX}-resources"]
    assert sorted(first["tables"]) == [f"{PREFIX}-{t}" for t in ("orders", "products", "users")]
    assert first["topics"] == [f"{PREFIX}-alarms", f"{PREFIX}-order-events"]
    assert set(first["alarms"]) == ALARMS
    topic = next(a for a in first["alarms"].values())["AlarmActions"]
    assert [arn.rsplit(":", 1)[-1] for arn in topic] == [f"{PREFIX}-alarms"]
    lambda_alarm = first["alarms"][f"{PREFIX}-on-order-event-errors"]
    assert lambda_alarm["Dimensions"] == [
        {"Name": "FunctionName", "Value": FUNCTIONS["on_order_event"]}
    ]
    assert first["dashboards"] == [PREFIX]
    assert sorted(first["log_groups"]) == sorted(f"/aws/lambda/{n}" for n in FUNCTIONS.values())


def test_the_api_is_named_for_its_metrics_and_throttled(lifecycle):
    first = lifecycle["first"]
    ((api_id, name),) = first["apis"].items()
    assert name == PREFIX  # the ApiName dimension of the alarms and dashboard
    settings = first["stages"][api_id]["api"]
    throttles = {
        key: (value["throttlingRateLimit"], value["throttlingBurstLimit"])
        for key, value in settings.items()
    }
    assert throttles == {
        "*/*": (50, 100),
        "~1users~1login/POST": (5, 10),
        "~1users~1register/POST": (2, 5),
    }


def test_the_deploy_record_is_shared_with_the_stage(lifecycle):
    record = lifecycle["first"]["record"]
    types = sorted(r["resource_type"] for r in record["resources"])
    assert types == sorted(
        ["iam_role"] * 4
        + ["lambda_function"] * 4
        + ["sns_event", "dynamodb_event", "cloudwatch_event", "rest_api", "lambda_layer"]
    )


def test_a_second_checkout_updates_the_same_api(lifecycle):
    first, second = lifecycle["first"], lifecycle["second"]
    assert second["apis"] == first["apis"]  # one API, same id, same name
    assert "Deploy record: /shop/dev/chalice-deployed (13 items)" in second["out"]
    assert lifecycle["clone_b_record"]["resources"] == second["record"]["resources"]
    assert second["functions"] == first["functions"]
    assert len(second["subscriptions"]) == 1 and len(second["rules"]) == 1


def test_destroy_from_a_third_checkout_leaves_nothing(lifecycle):
    gone = lifecycle["destroyed"]
    assert (
        gone["out"].splitlines()[-1] == f"Stage {STAGE} is gone: nothing of it is left in {REGION}."
    )
    for kind in ("functions", "roles", "apis", "rules", "subscriptions", "topics", "tables"):
        assert not gone[kind], kind
    assert not gone["mappings"]
    for kind in ("log_groups", "alarms", "dashboards", "stacks"):
        assert not gone[kind], kind
    assert gone["record"] is None


def test_destroy_without_a_record_finds_the_stage_by_name(lifecycle):
    lost = lifecycle["lost"]
    assert (
        "No deploy record for stage dev; deleting what was found by name (13 items)."
        in (lost["out"])
    )
    assert lost["out"].splitlines()[-1].startswith(f"Stage {STAGE} is gone")
    for kind in ("functions", "roles", "apis", "rules", "subscriptions", "stacks", "alarms"):
        assert not lost[kind], kind
    assert not lost["mappings"]


def _mentions(value: Any, names: set[str]) -> bool:
    text = json.dumps(value)
    return any(f'"Ref": "{n}"' in text or f'["{n}"' in text or "${" + n in text for n in names)


def test_the_packaged_template_in_moto_cloudformation(sam):
    """Where moto stops: it has no SAM transform (``AWS::Serverless-2016-10-31``). It skips
    ``AWS::Serverless::Function``/``Api`` with a warning, and the first ``Ref``/``GetAtt``
    to one of them fails the whole creation. So the functions, the API, their events and
    permissions are checked by cfn-lint only (test_package.py). Everything else of the
    packaged template (tables, topics, roles with their policies, log groups, alarms,
    dashboard; the secret moto skips), minus what refers to those resources, is created here.
    """
    from moto import mock_aws

    template = json.loads(json.dumps(sam[STAGE]))
    serverless = {
        k for k, r in template["Resources"].items() if r["Type"].startswith("AWS::Serverless::")
    }
    assert serverless == {
        "APIHandler",
        "OnOrderEvent",
        "RepublishUnannounced",
        "PublishOrderEvents",
        "RestAPI",
        "ManagedLayer",
    }
    with mock_aws(), bridged():
        cfn = boto3.client("cloudformation", region_name=REGION)
        with pytest.raises(Exception):  # noqa: B017 (moto's own AttributeError, not an API error)
            cfn.create_stack(StackName="whole", TemplateBody=json.dumps(template))
        dropped = set(serverless)
        while True:  # also drop what refers to a dropped resource
            more = {
                k
                for k, r in template["Resources"].items()
                if k not in dropped and _mentions(r, dropped)
            }
            if not more:
                break
            dropped |= more
        template["Resources"] = {k: r for k, r in template["Resources"].items() if k not in dropped}
        for resource in template["Resources"].values():
            resource.pop("DependsOn", None)
        template["Outputs"] = {
            k: o for k, o in template["Outputs"].items() if not _mentions(o, dropped)
        }
        cfn.create_stack(StackName=f"{PREFIX}", TemplateBody=json.dumps(template))
        account = {
            "tables": boto3.client("dynamodb", region_name=REGION).list_tables()["TableNames"],
            "alarms": boto3.client("cloudwatch", region_name=REGION).describe_alarms()[
                "MetricAlarms"
            ],
            "roles": [
                r["RoleName"] for r in boto3.client("iam", region_name=REGION).list_roles()["Roles"]
            ],
        }
    # Besides the SAM resources, only the API's permission to invoke its function is lost.
    assert dropped - serverless == {"APIHandlerInvokePermission"}
    assert len(account["tables"]) == 3
    assert {a["AlarmName"] for a in account["alarms"]} == ALARMS
    assert len(account["roles"]) == 4
