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
from moto.dynamodb.models.table import Table

import scripts.deploy
import scripts.destroy
from scripts.deploy import NO_UPDATES, DeployError, deploy_stack, stack_status
from scripts.package import resolve_conditions
from scripts.project import CHALICE_DIR, PROJECT_DIR, TEMPLATE_FILE

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


def test_make_deploy_with_a_sender_grants_sending_as_its_identity_only_while_chalice_runs(
    cfn, chalice_runs, monkeypatch, tmp_path
):
    for name in ("config.json", "policy-dev-subscriber.json", "policy-dev-api.json"):
        (tmp_path / name).write_text((CHALICE_DIR / name).read_text())
    committed = {path.name: path.read_text() for path in tmp_path.glob("*.json")}
    seen: dict[str, Any] = {}

    class Stop(Exception):
        """Raised once chalice deploy has run: what follows needs a real API."""

    def deploy_then_stop(*args: Any) -> None:
        seen.update({path.name: json.loads(path.read_text()) for path in tmp_path.glob("*.json")})
        raise Stop

    monkeypatch.setattr(scripts.deploy, "chalice_deploy", deploy_then_stop)
    sender = {"SENDER_IDENTITY": "example.org", "EMAIL_SENDER": "shop@example.org"}
    with pytest.raises(Stop):
        scripts.deploy.deploy("dev", REGION, sender, echo=lambda line: None)

    assert stack_parameters(cfn, "shop-dev-resources")["SenderIdentity"] == "example.org"
    variables = seen["config.json"]["stages"]["dev"]["environment_variables"]
    assert variables["EMAIL_SENDER"] == "shop@example.org"
    assert seen["config.json"]["stages"]["prod"]["environment_variables"]["EMAIL_SENDER"] == ""
    # Both senders: the subscriber (buyer emails) and the API (account links).
    for sender_file in ("policy-dev-subscriber.json", "policy-dev-api.json"):
        statements = json.loads(committed[sender_file])["Statement"]
        assert seen[sender_file]["Statement"] == [
            *statements,
            {
                "Sid": "BuyerEmailSenderIdentity",
                "Effect": "Allow",
                "Action": ["ses:SendEmail"],
                "Resource": "arn:aws:ses:*:*:identity/example.org",
            },
        ]
    for other in set(committed) - {
        "config.json",
        "policy-dev-subscriber.json",
        "policy-dev-api.json",
    }:
        assert seen[other] == json.loads(committed[other]), other
    # The committed files (buyer emails off) are back, even though the deploy failed.
    assert {path.name: path.read_text() for path in tmp_path.glob("*.json")} == committed


def test_make_deploy_refuses_a_sender_outside_its_identity(cfn, chalice_runs):
    wrong = {"SENDER_IDENTITY": "example.org", "EMAIL_SENDER": "shop@example.com"}
    with pytest.raises(DeployError, match="nothing was created"):
        scripts.deploy.deploy("dev", REGION, wrong, echo=lambda line: None)
    assert scripts.deploy.stack_status(cfn, "shop-dev-resources") is None
    assert chalice_runs == []


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


def test_without_a_region_nothing_is_guessed_and_nothing_is_done(
    cfn, chalice_runs, monkeypatch, tmp_path
):
    for variable in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    with pytest.raises(SystemExit) as exited:
        scripts.deploy.main(["--stage", "dev"])
    assert str(exited.value).startswith("No AWS region: set AWS_REGION")
    assert exited.value.code != 0
    assert chalice_runs == []


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


# --- more than one new index per table: one per update -------------------------

GSI_LIMIT = "Cannot perform more than one GSI creation or deletion in a single update"


def table_indexes(template: dict[str, Any]) -> dict[str, list[str]]:
    return {
        name: [i["IndexName"] for i in r["Properties"].get("GlobalSecondaryIndexes", [])]
        for name, r in template["Resources"].items()
        if r["Type"] == "AWS::DynamoDB::Table"
    }


def before_the_storefront() -> dict[str, Any]:
    """The resources template as first deployed: products without indexes, orders with three."""
    template = json.loads(TEMPLATE)
    products = template["Resources"]["ProductsTable"]["Properties"]
    del products["GlobalSecondaryIndexes"]
    products["AttributeDefinitions"] = [{"AttributeName": "productId", "AttributeType": "S"}]
    orders = template["Resources"]["OrdersTable"]["Properties"]
    orders["GlobalSecondaryIndexes"] = orders["GlobalSecondaryIndexes"][:3]
    first = {"orderId", "userId", "createdAt", "listPartition", "pendingEvent", "eventAt"}
    orders["AttributeDefinitions"] = [
        a for a in orders["AttributeDefinitions"] if a["AttributeName"] in first
    ]
    return template


@pytest.fixture
def one_index_per_update(cfn, monkeypatch) -> list[dict[str, Any]]:
    """CloudFormation's refusal (DynamoDB's limit), which moto does not enforce; each update."""
    updates: list[dict[str, Any]] = []
    original = cfn.update_stack

    def update_stack(**kwargs: Any) -> Any:
        body = cfn.get_template(StackName=kwargs["StackName"])["TemplateBody"]
        before = table_indexes(json.loads(body) if isinstance(body, str) else body)
        after = json.loads(kwargs["TemplateBody"])
        for table, names in table_indexes(after).items():
            if len(set(names) ^ set(before.get(table, names))) > 1:
                error = {"Error": {"Code": "ValidationError", "Message": GSI_LIMIT}}
                raise ClientError(error, "UpdateStack")
        updates.append(after)
        return original(**kwargs)

    monkeypatch.setattr(cfn, "update_stack", update_stack)
    monkeypatch.setattr(Table, "update_from_cloudformation_json", classmethod(update_table))
    return updates


def update_table(
    cls: Any,
    original_resource: Any,
    new_resource_name: str,
    cloudformation_json: dict[str, Any],
    account_id: str,
    region_name: str,
) -> Any:
    """moto 5.2 cannot update a table through CloudFormation: apply the index changes."""
    from moto.dynamodb.models import dynamodb_backends

    table, properties = original_resource, cloudformation_json["Properties"]
    wanted = {i["IndexName"]: i for i in properties.get("GlobalSecondaryIndexes", [])}
    have = {index.name for index in table.global_indexes}
    changes = [{"Delete": {"IndexName": n}} for n in have - set(wanted)]
    changes += [{"Create": index} for n, index in wanted.items() if n not in have]
    backend = dynamodb_backends[account_id][region_name]
    return backend.update_table(table.name, properties["AttributeDefinitions"], changes,
                                {}, "", {}, None, None)  # fmt: skip


def test_a_stage_from_before_the_new_indexes_is_upgraded_one_index_per_update(
    cfn, one_index_per_update
):
    stack = "shop-dev-resources"
    deploy_stack(cfn, stack, json.dumps(before_the_storefront()), parameters("dev"),
                 echo=lambda _: None, poll_seconds=0)  # fmt: skip
    with pytest.raises(ClientError, match="more than one GSI"):
        deploy_stack(cfn, stack, TEMPLATE, parameters("dev"), echo=lambda _: None, poll_seconds=0)
    shown: list[str] = []

    outcome = scripts.deploy.deploy_resources(
        cfn, stack, TEMPLATE, parameters("dev"), echo=shown.append, poll_seconds=0
    )

    assert outcome == "updated"
    steps = [table_indexes(update) for update in one_index_per_update]
    target = table_indexes(json.loads(TEMPLATE))
    assert len(steps) == 3  # three new product indexes: two steps, then the template
    assert [s["ProductsTable"] for s in steps] == [
        target["ProductsTable"][:1],
        target["ProductsTable"][:2],
        target["ProductsTable"],
    ]
    assert [len(s["OrdersTable"]) for s in steps] == [4, 5, 5]
    assert one_index_per_update[-1] == json.loads(TEMPLATE)  # ends on the template itself
    assert sum("Index step" in line for line in shown) == 2
    assert stack_status(cfn, stack) == "UPDATE_COMPLETE"
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    for table, names in (("products", target["ProductsTable"]), ("orders", target["OrdersTable"])):
        described = dynamodb.describe_table(TableName=f"shop-dev-{table}")["Table"]
        assert [i["IndexName"] for i in described["GlobalSecondaryIndexes"]] == names


def test_index_steps_drop_before_adding_and_keep_only_used_attributes():
    target = json.loads(TEMPLATE)
    deployed = json.loads(TEMPLATE)
    orders = deployed["Resources"]["OrdersTable"]["Properties"]
    retired = {
        "IndexName": "retired",
        "KeySchema": [{"AttributeName": "legacy", "KeyType": "HASH"}],
        "Projection": {"ProjectionType": "KEYS_ONLY"},
    }
    orders["GlobalSecondaryIndexes"] = [*orders["GlobalSecondaryIndexes"][:2], retired]
    orders["AttributeDefinitions"].append({"AttributeName": "legacy", "AttributeType": "S"})

    steps = scripts.deploy.index_steps(deployed, target)

    names = [table_indexes(step)["OrdersTable"] for step in steps]
    assert names == [["byUser", "byCreated"], ["byUser", "byCreated", "unannounced"],
                     ["byUser", "byCreated", "unannounced", "byStatus"]]  # fmt: skip
    first = steps[0]["Resources"]["OrdersTable"]["Properties"]["AttributeDefinitions"]
    assert {a["AttributeName"] for a in first} == {"orderId", "userId", "createdAt",
                                                   "listPartition"}  # fmt: skip
    assert scripts.deploy.index_steps(target, target) == []


@pytest.mark.parametrize(
    ("interactive", "answer", "argv", "deleted"),
    [
        pytest.param(False, None, [], False, id="no-terminal-refuses"),
        pytest.param(True, "2", [], False, id="wrong-count-typed"),
        pytest.param(True, "3", [], True, id="count-typed"),
        pytest.param(False, None, ["--yes"], True, id="confirm-flag"),
    ],
)
def test_make_destroy_says_how_many_items_it_deletes_and_asks(
    cfn, chalice_runs, capsys, interactive, answer, argv, deleted
):
    deploy_stack(cfn, "shop-dev-resources", TEMPLATE, parameters("dev"),
                 echo=lambda _: None, poll_seconds=0)  # fmt: skip
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    for product in ("a", "b"):
        dynamodb.put_item(TableName="shop-dev-products", Item={"productId": {"S": product}})
    dynamodb.put_item(TableName="shop-dev-users", Item={"pk": {"S": "u"}, "sk": {"S": "p"}})
    questions: list[str] = []

    def ask(question: str) -> str:
        questions.append(question)
        assert answer is not None, "asked without a terminal"
        return answer

    code = scripts.destroy.main(["--stage", "dev", *argv], ask=ask, interactive=interactive)
    out = capsys.readouterr()
    assert "This deletes 3 items (shop-dev-products 2, shop-dev-users 1)." in out.out
    assert questions == (["Type 3 to delete them: "] if interactive and not argv else [])
    assert (code == 0) is deleted
    tables = dynamodb.list_tables()["TableNames"]
    if deleted:
        assert tables == []
    else:
        assert "nothing was deleted" in out.err
        assert len(tables) == 3 and stack_status(cfn, "shop-dev-resources") == "CREATE_COMPLETE"
