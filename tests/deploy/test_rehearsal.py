"""The AWS lifecycle rehearsed offline: fresh checkouts, one emulated account.

Checkout A runs ``python -m scripts.deploy --stage dev`` (``make deploy``), then README's
``chalice deploy --stage dev`` (a Chalice user iterating on code). Checkout B (no local
deploy record, like a teammate or CI; a clone of A with one more commit: a second release)
types README's ``chalice deploy --stage dev``, then runs ``python -m scripts.rollback`` (back
to A's release) and types ``chalice delete --stage dev`` (refused: the account is unchanged).
Checkout C runs ``python -m scripts.destroy``: refused while a table holds an item and no
``--yes`` is given, then with it. Then D types ``chalice deploy --stage dev`` into the empty
account, the shared record is lost, and E destroys by finding names.
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
import re
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
from scripts.project import CHALICE_DIR, OPERATIONS_FILE, PROJECT_DIR, TEMPLATE_FILE, load_config
from tests.deploy.conftest import checkout, readme_command, typed
from tests.deploy.deployer_actions import ActionRecorder, recorded
from tests.deploy.moto_gaps import bridged

DEPLOY_LINE = readme_command("chalice deploy")
DELETE_LINE = readme_command("chalice delete")

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
ALARMS = {
    f"{PREFIX}-{name}"
    for name in (
        "api-5xx-rate",
        "api-latency-p99",
        "events-not-announced",
        "subscriber-errors",
        "stream-record-errors",
        "payment-refund-failures",
        "payment-amount-mismatches",
        "account-emails-failed",
        "orders-stream-iterator-age",
        *(
            f"{function.replace('_', '-')}-{metric}"
            for function in FUNCTIONS
            for metric in ("errors", "throttles")
        ),
    )
}


ACTIONS = ActionRecorder()  # what the scripts (and Chalice) ask of AWS, while they run


def committed(where: Path, message: str) -> str:
    """Everything in ``where`` committed (a git checkout, as make rollback needs); the commit."""
    git = ["git", "-C", str(where), "-c", "user.name=rehearsal", "-c", "user.email=r@example.com"]
    if not (where / ".git").exists():
        shutil.copy2(PROJECT_DIR / ".gitignore", where / ".gitignore")
        subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", message], check=True)
    head = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True, check=True)
    return head.stdout.strip()


def run(
    where: Path, script: str, environment: dict[str, str], *args: str, expect: int = 0
) -> subprocess.CompletedProcess:
    with ACTIONS.recording():
        result = subprocess.run(
            [sys.executable, "-m", script, "--stage", STAGE, *args],
            cwd=where,
            env=environment,
            capture_output=True,
            text=True,
            check=False,
            timeout=600,
        )
    assert result.returncode == expect, f"{script}:\n{result.stdout}\n{result.stderr}"
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
            "environment": {
                name: f.get("Environment", {}).get("Variables", {}) for name, f in functions.items()
            },
            "app_py": {name: deployed_app_py(name) for name in functions},
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


def deployed_app_py(function: str) -> str:
    """The app.py inside the function's deployment package, read from the in-process
    emulator's store (moto serves no download of a function's code)."""
    import io
    import zipfile

    from moto.awslambda.models import lambda_backends
    from moto.core import DEFAULT_ACCOUNT_ID

    code = lambda_backends[DEFAULT_ACCOUNT_ID][REGION].get_function(function).code_bytes
    with zipfile.ZipFile(io.BytesIO(code)) as package:
        return package.read("app.py").decode()


SECOND_RELEASE_MARK = "# the second release"


def second_release(clone: Path) -> str:
    """One more commit: a line of code and a setting changed; the commit."""
    with (clone / "app.py").open("a") as app:
        app.write(f"\n{SECOND_RELEASE_MARK}\n")
    config_file = clone / ".chalice" / "config.json"
    config = json.loads(config_file.read_text())
    config["stages"][STAGE]["environment_variables"]["LOG_LEVEL"] = "WARNING"
    config_file.write_text(json.dumps(config, indent=2) + "\n")
    return committed(clone, "the second release")


@pytest.fixture(scope="module")
def lifecycle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Deploy from A, deploy from B, destroy from C; what the account held after each."""
    root = tmp_path_factory.mktemp("checkouts")
    with bridged(), recorded(ACTIONS), Emulator() as emulator:
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
        clone_a = checkout(root, "a")
        seen["commits"] = [committed(clone_a, "the first release")]
        first = run(clone_a, "scripts.deploy", environment)
        seen["first"] = {"out": first.stdout, **account.snapshot()}
        # A Chalice user iterating on code in the clone make deploy ran from.
        with ACTIONS.recording():
            again = typed(DEPLOY_LINE, clone_a, environment)
        assert again.returncode == 0, f"{again.stdout}\n{again.stderr}"
        seen["again"] = {"out": again.stdout, **account.snapshot()}
        clone_b = root / "b"
        subprocess.run(["git", "clone", "-q", str(clone_a), str(clone_b)], check=True)
        seen["commits"].append(second_release(clone_b))
        # Chalice's build cache only (git-ignored, like a CI cache): saves a pip download.
        shutil.copytree(root / "a/.chalice/deployments", clone_b / ".chalice/deployments")
        with ACTIONS.recording():
            second = typed(DEPLOY_LINE, clone_b, environment)
        assert second.returncode == 0, f"{second.stdout}\n{second.stderr}"
        seen["second"] = {"out": second.stdout, **account.snapshot()}
        seen["clone_b_record"] = json.loads((clone_b / ".chalice/deployed/dev.json").read_text())
        rolled_back = run(clone_b, "scripts.rollback", environment)
        seen["rolled_back"] = {
            "out": rolled_back.stdout,
            "releases": json.loads(
                account.ssm.get_parameter(Name=f"/{APP}/{STAGE}/releases")["Parameter"]["Value"]
            ),
            **account.snapshot(),
        }
        deleted = typed(DELETE_LINE, clone_b, environment)
        seen["delete"] = {"result": deleted, **account.snapshot()}
        account.dynamodb.put_item(TableName=f"{PREFIX}-products", Item={"productId": {"S": "one"}})
        clone_c = checkout(root, "c")
        refused = run(clone_c, "scripts.destroy", environment, expect=1)
        seen["refused"] = {"out": refused.stdout, "err": refused.stderr, **account.snapshot()}
        destroyed = run(clone_c, "scripts.destroy", environment, "--yes")
        seen["destroyed"] = {"out": destroyed.stdout, **account.snapshot()}
        # A record lost (or from before records were shared): destroy finds things by name.
        clone_d = checkout(root, "d")
        # Chalice's build cache only (git-ignored, like a CI cache): saves a pip download.
        shutil.copytree(root / "a/.chalice/deployments", clone_d / ".chalice/deployments")
        with ACTIONS.recording():
            fresh = typed(DEPLOY_LINE, clone_d, environment)  # a fresh clone, an empty account
        assert fresh.returncode == 0, f"{fresh.stdout}\n{fresh.stderr}"
        seen["fresh"] = {"out": fresh.stdout, **account.snapshot()}
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
        seen["actions"], seen["unnamed"] = set(ACTIONS.actions), list(ACTIONS.unnamed)
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
        "~1users~1forgot-password/POST": (2, 5),
        "~1users~1reset-password/POST": (5, 10),
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


def _settled(snapshot: dict[str, Any]) -> dict[str, Any]:
    """What any deploy changes, taken out: the alarms' state-update times (moto resets
    them) and the layer's version (Chalice publishes one per deploy, deleting the last)."""
    alarms = {
        name: {k: v for k, v in alarm.items() if "Timestamp" not in k}
        for name, alarm in snapshot["alarms"].items()
    }
    record = json.loads(re.sub(r"(:layer:[^:\"]+):\d+", r"\1:N", json.dumps(snapshot["record"])))
    return {**{k: v for k, v in snapshot.items() if k != "out"}, "alarms": alarms, "record": record}


def test_chalice_deploy_after_make_deploy_updates_the_same_stage(lifecycle):
    first, again = lifecycle["first"], lifecycle["again"]
    assert "Deploy record: /shop/dev/chalice-deployed (13 items)" in again["out"]
    assert again["out"].splitlines()[-1].startswith("API URL: https://")
    assert _settled(again) == _settled(first)  # one API, the real stream ARN


def test_chalice_deploy_from_another_clone_updates_the_same_stage(lifecycle):
    # B is A plus one commit (a line of app.py and LOG_LEVEL): the code and the setting
    # are what changed; the API, functions, wiring and everything else are A's.
    release_changes = ("app_py", "environment")
    second, first = _settled(lifecycle["second"]), _settled(lifecycle["first"])
    assert {k: v for k, v in second.items() if k not in release_changes} == {
        k: v for k, v in first.items() if k not in release_changes
    }


def test_chalice_deploy_in_a_fresh_clone_and_empty_account_deploys_the_whole_stage(lifecycle):
    first, fresh = lifecycle["first"], lifecycle["fresh"]
    assert fresh["out"].splitlines()[0] == f"Region: {REGION} (from AWS_REGION)"
    assert "Deploy record: none yet (a first deploy)." in fresh["out"]
    for kind in ("functions", "roles", "rules", "topics", "tables", "log_groups", "stacks"):
        assert fresh[kind] == first[kind], kind
    assert set(fresh["alarms"]) == ALARMS and fresh["dashboards"] == [PREFIX]
    assert list(fresh["apis"].values()) == [PREFIX]  # one API, named for its metrics
    (mapping,) = fresh["mappings"]
    assert mapping["EventSourceArn"] == fresh["streams"][f"{PREFIX}-orders"]  # not a placeholder


def test_chalice_delete_is_refused_and_changes_nothing(lifecycle):
    refused = lifecycle["delete"]["result"]
    assert refused.returncode == 2
    assert refused.stdout == ""
    assert refused.stderr.strip().splitlines() == [
        "chalice delete would remove stage dev's functions and API but leave its tables, "
        "topic, secrets and stacks; nothing was deleted: run make destroy STAGE=dev (the whole "
        "stage, its data too, after asking)"
    ]
    after = {k: v for k, v in lifecycle["delete"].items() if k != "result"}
    before = {k: v for k, v in lifecycle["rolled_back"].items() if k not in ("out", "releases")}
    assert after == before


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


def test_rollback_redeploys_the_previous_releases_code_and_configuration(lifecycle):
    first, second, back = lifecycle["first"], lifecycle["second"], lifecycle["rolled_back"]
    api = FUNCTIONS["api_handler"]
    # The second release changed a line of code and a setting; the rollback undid both.
    assert SECOND_RELEASE_MARK not in first["app_py"][api]
    assert SECOND_RELEASE_MARK in second["app_py"][api]
    assert back["app_py"] == first["app_py"]
    assert {env["LOG_LEVEL"] for env in second["environment"].values()} == {"WARNING"}
    assert back["environment"] == first["environment"]
    # In place: the same API, functions and wiring, named and throttled as deploy leaves them.
    for kind in ("apis", "stages", "functions", "roles", "subscriptions", "rules", "mappings"):
        assert back[kind] == first[kind], kind
    # And recorded: a third release, the first one's commit, saying where it came from.
    first_commit, second_commit = lifecycle["commits"]
    # (A's make deploy and A's chalice deploy are two releases of the same commit.)
    assert [entry["commit"] for entry in back["releases"]] == [
        first_commit,
        first_commit,
        second_commit,
        first_commit,
    ]
    assert back["releases"][-1]["note"] == f"rollback from {second_commit[:12]}"
    assert f"from {second_commit[:12]}" in back["out"]


def test_destroy_refuses_tables_holding_items_without_confirm(lifecycle):
    refused = lifecycle["refused"]
    assert f"This deletes 1 items ({PREFIX}-products 1)." in refused["out"]
    assert "CONFIRM=1" in refused["out"]
    assert "nothing was deleted" in refused["err"]
    assert refused["stacks"] == lifecycle["rolled_back"]["stacks"]
    assert refused["functions"] == lifecycle["rolled_back"]["functions"]
    assert "This deletes 1 items" in lifecycle["destroyed"]["out"]


# In infra/deployer-policy.json, never called in the rehearsal, and why.
NOT_REHEARSED = {
    "iam:PassRole": "no API call: CreateFunction hands the function its role",
    "lambda:GetLayerVersion": "chalice deploy, when it reuses a published layer",
    **dict.fromkeys(
        ("dynamodb:DescribeContinuousBackups", "dynamodb:RestoreTableToPointInTime",
         "dynamodb:CreateBackup", "dynamodb:BatchWriteItem", "dynamodb:PutItem",
         "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:Query"),
        "make restore (tests/deploy/test_restore.py; a restore needs the writes on the new table)",
    ),
    **dict.fromkeys(
        ("secretsmanager:GetSecretValue", "secretsmanager:GetRandomPassword",
         "secretsmanager:PutSecretValue"),
        "make rotate-token-key (tests/api/test_key_rotation.py)",
    ),
}  # fmt: skip


def test_the_deployer_policy_allows_every_action_the_scripts_called(lifecycle):
    """infra/deployer-policy.json against what deploy, rollback and destroy asked of AWS."""
    from tests.deploy.deployer_actions import policy_actions

    assert lifecycle["unnamed"] == []
    called, allowed = lifecycle["actions"], policy_actions()
    missing = sorted(called - allowed["scripts"])
    assert not missing, "called, not in the policy: " + json.dumps(missing)
    unused = sorted(allowed["scripts"] - called - set(NOT_REHEARSED))
    assert not unused, "in the policy, never called: " + json.dumps(unused)
    rehearsed = sorted(set(NOT_REHEARSED) & called)
    assert not rehearsed, "rehearsed after all, drop from NOT_REHEARSED: " + json.dumps(rehearsed)
    # What CloudFormation creates with the deployer's credentials: a statement per type.
    types = {
        resource["Type"]
        for template in (TEMPLATE_FILE, OPERATIONS_FILE)
        for resource in json.loads(template.read_text())["Resources"].values()
    }
    statements = {"CloudFormation" + t.removeprefix("AWS::").replace("::", "") for t in types}
    assert sorted(statements ^ (set(allowed) - {"scripts"})) == []


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
