"""``make deploy`` / ``make destroy``: stacks, refusals and errors against moto, Chalice mocked.

The whole path with the real ``chalice deploy`` and ``chalice delete`` is rehearsed in
test_rehearsal.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, NoCredentialsError

import scripts.deploy
import scripts.destroy
from scripts.deploy import NO_UPDATES, DeployError, deploy_stack, stack_status
from scripts.package import resolve_conditions
from scripts.project import PROJECT_DIR, TEMPLATE_FILE

REGION = "us-east-1"
TEMPLATE = TEMPLATE_FILE.read_text()


def parameters(stage: str, email: str | None = "") -> dict[str, str | None]:
    return {"Stage": stage, "AppName": "shop", "NotificationEmail": email}


@pytest.fixture
def cfn() -> Iterator[Any]:
    from moto import mock_aws

    with mock_aws():
        yield boto3.client("cloudformation", region_name=REGION)


@pytest.fixture
def chalice_runs(monkeypatch, tmp_path) -> list[dict[str, Any]]:
    """``chalice`` invocations, answered with success; ``deploy`` records an API URL."""
    runs: list[dict[str, Any]] = []
    for module in (scripts.deploy, scripts.destroy):
        monkeypatch.setattr(module, "CHALICE_DIR", tmp_path)

    def run(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess:
        runs.append({"args": command[1:], **kwargs})
        if command[1] == "deploy":
            record = {
                "resources": [{"resource_type": "rest_api", "rest_api_url": "https://x/api/"}]
            }
            (tmp_path / "deployed").mkdir(exist_ok=True)
            (tmp_path / "deployed" / f"{command[-1]}.json").write_text(json.dumps(record))
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(subprocess, "run", run)
    return runs


def stack_parameters(cfn: Any, stack: str) -> dict[str, str]:
    described = cfn.describe_stacks(StackName=stack)["Stacks"][0]
    return {p["ParameterKey"]: p["ParameterValue"] for p in described["Parameters"]}


# --- the resources stack -----------------------------------------------------


def test_creates_the_stack_and_shows_its_events(cfn):
    shown: list[str] = []
    outcome = deploy_stack(
        cfn, "shop-dev-resources", TEMPLATE, parameters("dev"), echo=shown.append, poll_seconds=0
    )
    assert outcome == "created"
    assert stack_status(cfn, "shop-dev-resources") == "CREATE_COMPLETE"
    tables = boto3.client("dynamodb", region_name=REGION).list_tables()["TableNames"]
    assert set(tables) == {"shop-dev-users", "shop-dev-products", "shop-dev-orders"}
    assert shown[0] == "Creating stack shop-dev-resources ..."
    assert any("shop-dev-resources" in line and "CREATE_COMPLETE" in line for line in shown)


def test_updates_an_existing_stack_keeping_the_email_unless_given(cfn):
    deploy_stack(
        cfn,
        "shop-dev-resources",
        TEMPLATE,
        parameters("dev", "ops@example.com"),
        echo=lambda _: None,
        poll_seconds=0,
    )
    changed = json.loads(TEMPLATE)
    changed["Outputs"]["Marker"] = {"Value": "changed"}
    shown: list[str] = []
    outcome = deploy_stack(
        cfn,
        "shop-dev-resources",
        json.dumps(changed),
        parameters("dev", None),
        echo=shown.append,
        poll_seconds=0,
    )
    assert outcome == "updated"
    assert shown[0] == "Updating stack shop-dev-resources ..."
    assert stack_status(cfn, "shop-dev-resources") == "UPDATE_COMPLETE"
    assert stack_parameters(cfn, "shop-dev-resources")["NotificationEmail"] == "ops@example.com"


def test_nothing_to_update_is_success(cfn, monkeypatch):
    deploy_stack(
        cfn, "shop-dev-resources", TEMPLATE, parameters("dev"), echo=lambda _: None, poll_seconds=0
    )

    def unchanged(**_: Any) -> None:  # what CloudFormation answers; moto updates anyway
        raise ClientError(
            {"Error": {"Code": "ValidationError", "Message": f"{NO_UPDATES}."}}, "UpdateStack"
        )

    monkeypatch.setattr(cfn, "update_stack", unchanged)
    shown: list[str] = []
    outcome = deploy_stack(
        cfn, "shop-dev-resources", TEMPLATE, parameters("dev"), echo=shown.append, poll_seconds=0
    )
    assert outcome == "unchanged"
    assert shown[-1] == "Stack shop-dev-resources is up to date."
    assert stack_status(cfn, "shop-dev-resources") == "CREATE_COMPLETE"


class ScriptedCloudFormation:
    """A stack whose status follows a script per operation (the last status sticks)."""

    def __init__(self, status: str, script: dict[str, list[str]], events: dict[str, list]):
        self.statuses = [status]
        self.script = script
        self.event_script = events
        self.events: list[dict[str, Any]] = []  # newest first, like DescribeStackEvents
        self.operations: list[str] = []

    def _operate(self, name: str) -> None:
        self.operations.append(name)
        self.statuses = list(self.script[name])
        self.events[:0] = self.event_script.get(name, [])[::-1]

    def create_stack(self, **_: Any) -> None:
        self._operate("create")

    def update_stack(self, **_: Any) -> None:
        self._operate("update")

    def delete_stack(self, **_: Any) -> None:
        self._operate("delete")

    def describe_stacks(self, StackName: str) -> dict[str, Any]:
        status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        return {"Stacks": [{"StackId": f"id/{StackName}", "StackStatus": status}]}

    def get_paginator(self, _: str) -> ScriptedCloudFormation:
        return self

    def paginate(self, StackName: str) -> Iterator[dict[str, Any]]:
        yield {"StackEvents": list(self.events)}


def event(number: int, resource: str, status: str, reason: str = "") -> dict[str, Any]:
    return {
        "EventId": f"e{number}",
        "LogicalResourceId": resource,
        "ResourceStatus": status,
        "ResourceStatusReason": reason,
        "Timestamp": datetime(2026, 1, 1, 12, 0, number, tzinfo=UTC),
    }


def test_a_rollback_fails_with_the_events_that_caused_it():
    reason = "Resource handler returned message: 'Invalid KeySchema'"
    cfn = ScriptedCloudFormation(
        "UPDATE_COMPLETE",
        {
            "update": [
                "UPDATE_IN_PROGRESS",
                "UPDATE_ROLLBACK_IN_PROGRESS",
                "UPDATE_ROLLBACK_COMPLETE",
            ]
        },
        {
            "update": [
                event(1, "shop-dev-resources", "UPDATE_IN_PROGRESS"),
                event(2, "OrdersTable", "UPDATE_FAILED", reason),
                event(3, "shop-dev-resources", "UPDATE_ROLLBACK_COMPLETE"),
            ]
        },
    )
    shown: list[str] = []
    with pytest.raises(DeployError) as failure:
        deploy_stack(
            cfn,
            "shop-dev-resources",
            TEMPLATE,
            parameters("dev"),
            echo=shown.append,
            poll_seconds=0,
        )
    message = str(failure.value)
    assert "ended in UPDATE_ROLLBACK_COMPLETE" in message
    assert "OrdersTable" in message and reason in message
    assert "UPDATE_IN_PROGRESS" not in message.split("failed:")[1]  # only the failures
    assert [line.split()[1] for line in shown[1:]] == [
        "shop-dev-resources",
        "OrdersTable",
        "shop-dev-resources",
    ]


def test_a_stack_left_by_a_failed_creation_is_deleted_and_created_again():
    cfn = ScriptedCloudFormation(
        "ROLLBACK_COMPLETE",
        {
            "delete": ["DELETE_IN_PROGRESS", "DELETE_COMPLETE"],
            "create": ["CREATE_IN_PROGRESS", "CREATE_COMPLETE"],
        },
        {},
    )
    outcome = deploy_stack(
        cfn, "shop-dev-resources", TEMPLATE, parameters("dev"), echo=lambda _: None, poll_seconds=0
    )
    assert outcome == "created"
    assert cfn.operations == ["delete", "create"]


def test_a_busy_stack_is_left_alone():
    cfn = ScriptedCloudFormation("UPDATE_IN_PROGRESS", {}, {})
    with pytest.raises(DeployError, match="busy"):
        deploy_stack(cfn, "shop-dev-resources", TEMPLATE, parameters("dev"), echo=lambda _: None)
    assert cfn.operations == []


@pytest.mark.parametrize(
    ("stage", "log_groups", "retention", "protected"),
    [("local", False, None, False), ("dev", True, 14, False), ("prod", True, 90, True)],
)
def test_the_resources_template_differs_by_stage_where_it_should(
    stage, log_groups, retention, protected
):
    resolved = resolve_conditions(json.loads(TEMPLATE), {"Stage": stage, "AppName": "shop"})
    resources = resolved["Resources"]
    groups = [r for r in resources.values() if r["Type"] == "AWS::Logs::LogGroup"]
    assert bool(groups) is log_groups
    assert all(g["Properties"]["RetentionInDays"] == retention for g in groups)
    tables = [r for r in resources.values() if r["Type"] == "AWS::DynamoDB::Table"]
    assert len(tables) == 3
    assert all(t["Properties"]["DeletionProtectionEnabled"] is protected for t in tables)


# --- make deploy / make destroy ----------------------------------------------


def test_make_deploy_fails_clearly_when_chalice_fails(cfn, monkeypatch, capsys):
    monkeypatch.setattr(
        subprocess, "run", lambda command, **_: subprocess.CompletedProcess(command, 2)
    )
    assert scripts.deploy.main(["--stage", "dev"]) == 1
    assert "Deploy failed: `chalice deploy --stage dev` failed (exit 2)" in capsys.readouterr().err


def test_make_deploy_subscribes_the_app_to_the_resources_stacks_stream(
    cfn, chalice_runs, monkeypatch
):
    class Stop(Exception):
        """Raised once chalice deploy has run: what follows needs a real API."""

    chalice_deploy = scripts.deploy.chalice_deploy

    def deploy_then_stop(*args: Any) -> None:
        chalice_deploy(*args)
        raise Stop

    monkeypatch.setattr(scripts.deploy, "chalice_deploy", deploy_then_stop)
    with pytest.raises(Stop):
        scripts.deploy.deploy("dev", REGION, {}, echo=lambda line: None)

    (deploy,) = [run for run in chalice_runs if run["args"][0] == "deploy"]
    stream = scripts.deploy.stack_outputs(cfn, "shop-dev-resources")["OrdersTableStreamArn"]
    assert ":table/shop-dev-orders/stream/" in stream
    assert deploy["env"]["ORDERS_STREAM_ARN"] == stream


def test_make_deploy_refuses_a_resources_stack_without_the_stream(cfn, chalice_runs, monkeypatch):
    monkeypatch.setattr(scripts.deploy, "stack_outputs", lambda cfn, stack: {})

    with pytest.raises(DeployError, match="OrdersTableStreamArn"):
        scripts.deploy.deploy("dev", REGION, {}, echo=lambda line: None)
    assert [run for run in chalice_runs if run["args"][0] == "deploy"] == []


@pytest.mark.parametrize(
    "run",
    [
        lambda: scripts.deploy.main(["--stage", "dev"]),
        lambda: scripts.destroy.main(["--stage", "dev"], ask=pytest.fail),
    ],
    ids=["deploy", "destroy"],
)
def test_aws_errors_are_reported_without_a_traceback(run, monkeypatch, capsys):
    class NoCredentials:
        def describe_stacks(self, **_: Any) -> None:
            raise NoCredentialsError

    monkeypatch.setattr(boto3.session.Session, "client", lambda *_, **__: NoCredentials())
    assert run() == 1
    assert "failed: Unable to locate credentials" in capsys.readouterr().err


@pytest.mark.parametrize("answer", ["yes", "", EOFError])
def test_make_destroy_prod_needs_the_stage_name_typed(chalice_runs, answer, capsys):
    def ask(_: str) -> str:
        if answer is EOFError:
            raise EOFError
        return answer

    assert scripts.destroy.main(["--stage", "prod"], ask=ask) == 1
    assert chalice_runs == []
    assert "nothing was deleted" in capsys.readouterr().err


def test_make_destroy_prod_stops_at_deletion_protection_and_says_how(cfn, chalice_runs, capsys):
    deploy_stack(
        cfn,
        "shop-prod-resources",
        TEMPLATE,
        parameters("prod"),
        echo=lambda _: None,
        poll_seconds=0,
    )
    (tmp := scripts.destroy.CHALICE_DIR / "deployed").mkdir()
    (tmp / "prod.json").write_text("{}")

    assert scripts.destroy.main(["--stage", "prod"], ask=lambda _: "prod") == 1
    error = capsys.readouterr().err
    for table in ("shop-prod-users", "shop-prod-products", "shop-prod-orders"):
        assert (
            f"aws dynamodb update-table --table-name {table} --no-deletion-protection-enabled"
            in error
        )
    assert chalice_runs == []  # refused before anything was deleted
    assert stack_status(cfn, "shop-prod-resources") == "CREATE_COMPLETE"


def test_the_scripts_import_without_side_effects():
    check = """
import subprocess, sys
import botocore.client

def forbidden(*args, **kwargs):
    raise SystemExit("importing a script must not call AWS or run anything")

botocore.client.BaseClient._make_api_call = forbidden
subprocess.run = subprocess.Popen = forbidden
import scripts.deploy, scripts.destroy, scripts.package, scripts.project, scripts.promote_admin
import scripts.state
# promote_admin must set the stage's table names before chalicelib reads them.
assert "chalicelib" not in sys.modules, "chalicelib imported too early"
"""
    result = subprocess.run(
        [sys.executable, "-c", check], cwd=PROJECT_DIR, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def test_the_region_comes_from_aws_region_first():
    from scripts.project import resolve_region

    both = {"AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "us-west-2"}
    assert resolve_region(both) == ("eu-west-1", "AWS_REGION")
    assert resolve_region({"AWS_DEFAULT_REGION": "us-west-2"}) == (
        "us-west-2",
        "AWS_DEFAULT_REGION",
    )


def test_make_deploy_refuses_a_stage_deployed_from_make_package(cfn, chalice_runs, capsys):
    packaged = {"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}
    cfn.create_stack(StackName="shop-dev", TemplateBody=json.dumps(packaged))
    assert scripts.deploy.main(["--stage", "dev"]) == 1
    error = capsys.readouterr().err
    assert "already deployed here from `make package` (stack shop-dev)" in error
    assert "nothing was created" in error
    assert chalice_runs == []
    assert stack_status(cfn, "shop-dev-resources") is None


def test_make_destroy_does_not_report_success_while_something_remains(cfn, chalice_runs, capsys):
    # A function of the stage that no record lists and no stack owns (made by hand, say).
    iam = boto3.client("iam", region_name=REGION)
    role = iam.create_role(RoleName="someone-else", AssumeRolePolicyDocument="{}")["Role"]
    boto3.client("lambda", region_name=REGION).create_function(
        FunctionName="shop-dev-by-hand",
        Runtime="python3.11",
        Role=role["Arn"],
        Handler="app.handler",
        Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18},
    )
    assert scripts.destroy.main(["--stage", "dev"], ask=pytest.fail) == 1
    error = capsys.readouterr().err
    assert "stage dev is not gone; these remain:" in error
    assert "aws lambda delete-function --function-name shop-dev-by-hand" in error
    # chalice delete ran on a record built from what was found by name.
    assert [run["args"] for run in chalice_runs] == [["delete", "--stage", "dev"]]


def test_make_logs_fetches_the_shared_record_into_this_checkout(cfn, monkeypatch, tmp_path, capsys):
    import scripts.state

    monkeypatch.setattr(scripts.state, "CHALICE_DIR", tmp_path)
    assert scripts.state.main(["--stage", "dev"]) == 1
    assert "has no deploy record" in capsys.readouterr().err
    record = {"resources": [{"name": "api_handler", "resource_type": "lambda_function"}]}
    ssm = boto3.client("ssm", region_name=REGION)
    scripts.state.save_record(ssm, "dev", record)
    assert scripts.state.main(["--stage", "dev"]) == 0
    assert json.loads((tmp_path / "deployed" / "dev.json").read_text()) == record


def test_make_deploy_prod_needs_the_access_log_role_before_creating_anything(
    cfn, chalice_runs, capsys
):
    assert (
        boto3.client("apigateway", region_name=REGION).get_account().get("cloudwatchRoleArn")
        is None
    )
    assert scripts.deploy.main(["--stage", "prod"]) == 1
    error = capsys.readouterr().err
    assert "API Gateway cannot write logs in this account and region yet" in error
    assert "Nothing was created" in error
    assert chalice_runs == []
    assert stack_status(cfn, "shop-prod-resources") is None
