"""``make package``: one valid SAM template per stage, wired to that stack's own resources."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cfnlint.api import ManualArgs, lint

from scripts.package import (
    FUNCTIONS,
    OUT_MARKER,
    SUBSCRIBER,
    PackageError,
    deploy_instructions,
    merge_template,
    pin_to_stack,
    prepare_out_dir,
)
from scripts.project import (
    CHALICE_DIR,
    SenderError,
    aws_stages,
    load_config,
    sender_settings,
    stage_environment,
)

STAGES = aws_stages()
TABLES = {"UsersTable": "users", "ProductsTable": "products", "OrdersTable": "orders"}
RETENTION_DAYS = {"dev": 14, "prod": 90}


def resources_of(template: dict[str, Any], type_: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == type_}


def substituted(template: dict[str, Any], value: Any) -> Any:
    """``Fn::Sub`` of parameters, with their (baked-in) defaults."""
    if not (isinstance(value, dict) and set(value) == {"Fn::Sub"}):
        return value
    text = value["Fn::Sub"]
    for name, parameter in template["Parameters"].items():
        text = text.replace("${" + name + "}", str(parameter.get("Default", "")))
    return text


@pytest.mark.parametrize("stage", STAGES)
def test_cfn_lint_reports_nothing(sam, stage):
    matches = lint(json.dumps(sam[stage]), config=ManualArgs(regions=["us-east-1"]))
    assert [f"{m.rule.id} {m.message} ({m.path})" for m in matches] == []


@pytest.mark.parametrize("stage", STAGES)
def test_template_is_for_its_stage_only(sam, stage):
    parameters = sam[stage]["Parameters"]
    assert parameters["Stage"]["Default"] == stage
    assert parameters["Stage"]["AllowedValues"] == [stage]
    assert "IsProd" not in sam[stage].get("Conditions", {})  # settled for the stage


@pytest.mark.parametrize("stage", STAGES)
def test_subscriber_subscribes_to_this_stacks_topic(sam, stage):
    template = sam[stage]
    events = template["Resources"][SUBSCRIBER]["Properties"]["Events"]
    assert [event["Type"] for event in events.values()] == ["SNS"]
    (subscription,) = events.values()
    assert subscription["Properties"] == {"Topic": {"Fn::Sub": "${OrderEventsTopic}"}}
    topic = template["Resources"]["OrderEventsTopic"]["Properties"]["TopicName"]
    assert substituted(template, topic) == f"shop-{stage}-order-events"


@pytest.mark.parametrize("stage", STAGES)
def test_the_stream_handler_reads_this_stacks_orders_stream(sam, stage):
    resources = sam[stage]["Resources"]
    events = resources["PublishOrderEvents"]["Properties"]["Events"]
    (mapping,) = events.values()
    assert mapping["Type"] == "DynamoDB"
    # Only this stack's stream: not the placeholder Chalice imported the app with.
    assert mapping["Properties"] == {
        "Stream": {"Fn::GetAtt": ["OrdersTable", "StreamArn"]},
        "BatchSize": 100,
        "StartingPosition": "TRIM_HORIZON",
        "MaximumBatchingWindowInSeconds": 0,
    }
    table = resources["OrdersTable"]["Properties"]
    assert table["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}


@pytest.mark.parametrize("stage", STAGES)
def test_functions_refer_to_this_stacks_resources(sam, stage):
    expected = {
        "USERS_TABLE": {"Ref": "UsersTable"},
        "PRODUCTS_TABLE": {"Ref": "ProductsTable"},
        "ORDERS_TABLE": {"Ref": "OrdersTable"},
        "ORDER_EVENTS_TOPIC": {"Fn::GetAtt": ["OrderEventsTopic", "TopicName"]},
        "ORDER_EVENTS_TOPIC_ARN": {"Ref": "OrderEventsTopic"},
        "TOKEN_SECRET_ID": {"Ref": "TokenSigningSecret"},
    }
    settings = {k: v for k, v in stage_environment(stage).items() if k not in expected}
    functions = resources_of(sam[stage], "AWS::Serverless::Function")
    assert set(functions) == {f.logical_id for f in FUNCTIONS}
    for function in functions.values():
        variables = function["Properties"]["Environment"]["Variables"]
        assert variables == {**settings, **expected}
        assert variables["APP_STAGE"] == stage


@pytest.mark.parametrize("stage", STAGES)
def test_tables_are_on_demand_recoverable_and_protected_in_prod(sam, stage):
    tables = resources_of(sam[stage], "AWS::DynamoDB::Table")
    assert set(tables) == set(TABLES)
    for logical_id, table in tables.items():
        properties = table["Properties"]
        assert (
            substituted(sam[stage], properties["TableName"]) == f"shop-{stage}-{TABLES[logical_id]}"
        )
        assert properties["BillingMode"] == "PAY_PER_REQUEST"
        assert properties["PointInTimeRecoverySpecification"] == {
            "PointInTimeRecoveryEnabled": True
        }
        assert properties["DeletionProtectionEnabled"] is (stage == "prod")
    orders = tables["OrdersTable"]["Properties"]
    assert orders["TimeToLiveSpecification"] == {"AttributeName": "expiresAt", "Enabled": True}
    indexes = {index["IndexName"]: index["KeySchema"] for index in orders["GlobalSecondaryIndexes"]}
    assert set(indexes) == {"byUser", "byCreated", "unannounced", "byStatus", "awaitingPayment"}


@pytest.mark.parametrize("stage", STAGES)
def test_signing_secret_is_generated_under_the_configured_name(sam, stage):
    secret = sam[stage]["Resources"]["TokenSigningSecret"]["Properties"]
    assert substituted(sam[stage], secret["Name"]) == stage_environment(stage)["TOKEN_SECRET_ID"]
    assert "SecretString" not in secret
    assert secret["GenerateSecretString"]["PasswordLength"] >= 32


@pytest.mark.parametrize("stage", STAGES)
def test_email_subscription_is_optional(sam, stage):
    subscription = sam[stage]["Resources"]["OrderEventsEmailSubscription"]
    assert subscription["Condition"] == "HasNotificationEmail"
    assert subscription["Properties"]["Endpoint"] == {"Ref": "NotificationEmail"}
    assert sam[stage]["Parameters"]["NotificationEmail"]["Default"] == ""


@pytest.mark.parametrize("stage", STAGES)
def test_log_groups_exist_before_their_functions_with_stage_retention(sam, chalice_plan, stage):
    resources = sam[stage]["Resources"]
    for function in FUNCTIONS:
        name = resources[function.logical_id]["Properties"]["FunctionName"]
        # The same name `chalice deploy` uses, so both deploy paths share log groups and policies.
        assert name == chalice_plan[stage][function.name]["function_name"]
        group = resources[function.log_group_id]
        assert substituted(sam[stage], group["Properties"]["LogGroupName"]) == f"/aws/lambda/{name}"
        assert group["Properties"]["RetentionInDays"] == RETENTION_DAYS[stage]
        assert "Condition" not in group
        assert function.log_group_id in resources[function.logical_id]["DependsOn"]


@pytest.mark.parametrize("stage", STAGES)
def test_tracing_is_on(sam, chalice_plan, stage):
    resources = sam[stage]["Resources"]
    assert load_config()["stages"][stage]["xray"] is True
    for function in FUNCTIONS:
        assert chalice_plan[stage][function.name]["xray"] is True
        assert resources[function.logical_id]["Properties"]["Tracing"] == "Active"
    assert resources["RestAPI"]["Properties"]["TracingEnabled"] is True


@pytest.mark.parametrize("stage", STAGES)
def test_each_role_carries_only_its_functions_stage_policy(sam, stage):
    resources = sam[stage]["Resources"]
    lambda_functions = load_config()["stages"][stage]["lambda_functions"]
    assert len(resources_of(sam[stage], "AWS::IAM::Role")) == len(FUNCTIONS)
    for function in FUNCTIONS:
        role = resources[function.role_id]["Properties"]
        assert "ManagedPolicyArns" not in role
        policy_file = CHALICE_DIR / lambda_functions[function.name]["iam_policy_file"]
        (inline,) = role["Policies"]
        assert inline["PolicyDocument"] == pin_to_stack(json.loads(policy_file.read_text()))
        assert resources[function.logical_id]["Properties"]["Role"] == {
            "Fn::GetAtt": [function.role_id, "Arn"]
        }


def test_pinned_policy_resources_name_the_stacks_account_and_region():
    policy = {"Statement": [{"Resource": ["arn:aws:sns:*:*:topic", "*"]}]}
    assert pin_to_stack(policy)["Statement"][0]["Resource"] == [
        {"Fn::Sub": "arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:topic"},
        "*",
    ]


@pytest.mark.parametrize("template", ["resources.json", "operations.json"])
@pytest.mark.parametrize("stage", STAGES)
def test_cfn_lint_reports_nothing_for_the_make_deploy_stacks(template, stage):
    from scripts.project import PROJECT_DIR

    body = json.loads((PROJECT_DIR / "infra" / template).read_text())
    body["Parameters"]["Stage"]["Default"] = stage  # lint each stage's conditions
    matches = lint(json.dumps(body), config=ManualArgs(regions=["us-east-1"]))
    assert [f"{m.rule.id} {m.message} ({m.path})" for m in matches] == []


@pytest.mark.parametrize("stage", STAGES)
def test_package_leaves_only_its_output_directory(packaged, stage):
    out = packaged[stage]
    assert [p.name for p in out.parent.iterdir()] == [stage]  # no <stage>.merge.json
    assert (out / OUT_MARKER).exists()


def test_out_refuses_a_directory_it_did_not_make(tmp_path):
    (tmp_path / "precious.txt").write_text("keep me")
    with pytest.raises(PackageError, match="not empty and was not made by make package"):
        prepare_out_dir(tmp_path)
    assert (tmp_path / "precious.txt").read_text() == "keep me"
    assert prepare_out_dir(tmp_path / "new") == (tmp_path / "new").resolve()
    made = tmp_path / "made"
    made.mkdir()
    (made / OUT_MARKER).write_text("")
    (made / "sam.json").write_text("{}")
    prepare_out_dir(made)
    assert not made.exists()  # an earlier output is replaced


def test_printed_deploy_command_sends_the_template_through_s3(sam):
    from pathlib import Path

    text = deploy_instructions("dev", Path("out/dev"), len(json.dumps(sam["dev"])))
    (deploy,) = [line for line in text.splitlines() if "cloudformation deploy" in line]
    assert "--s3-bucket BUCKET" in deploy
    assert "--stack-name shop-dev " in deploy


SES_IDENTITY = {"Fn::Sub": "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/"}


def ses_grants(template: dict[str, Any]) -> dict[str, list[Any]]:
    """Per role, the resources of its statements that grant an SES action."""
    grants: dict[str, list[Any]] = {}
    for function in FUNCTIONS:
        (inline,) = template["Resources"][function.role_id]["Properties"]["Policies"]
        for statement in inline["PolicyDocument"]["Statement"]:
            if any(action.startswith("ses:") for action in statement["Action"]):
                grants.setdefault(function.role_id, []).append(
                    (statement["Action"], statement["Resource"])
                )
    return grants


@pytest.mark.parametrize("stage", STAGES)
def test_a_sender_declares_its_identity_and_grants_sending_as_it_only(stage):
    template = merge_template(stage, ("example.org", "shop@example.org"))
    resources = template["Resources"]
    identity = resources["BuyerEmailSenderIdentity"]
    assert "Condition" not in identity  # settled: the identity is baked into the policy
    assert identity["Properties"]["EmailIdentity"] == {"Ref": "SenderIdentity"}
    assert template["Parameters"]["SenderIdentity"]["AllowedValues"] == ["example.org"]
    arn = {"Fn::Sub": SES_IDENTITY["Fn::Sub"] + "example.org"}
    # The subscriber (buyer emails) and the API (verification and reset links) send.
    assert ses_grants(template) == {
        "ApiHandlerRole": [(["ses:SendEmail"], arn)],
        "OnOrderEventRole": [(["ses:SendEmail"], arn)],
    }
    for function in FUNCTIONS:
        variables = resources[function.logical_id]["Properties"]["Environment"]["Variables"]
        assert variables["EMAIL_SENDER"] == "shop@example.org"


@pytest.mark.parametrize("stage", STAGES)
def test_without_a_sender_there_is_no_identity_and_no_ses_grant(sam, stage):
    for template in (merge_template(stage), sam[stage]):
        assert "BuyerEmailSenderIdentity" not in template["Resources"]
        assert ses_grants(template) == {}
    assert stage_environment(stage)["EMAIL_SENDER"] == ""  # buyer emails off


def test_the_sender_and_its_identity_must_fit():
    assert sender_settings({}) is None
    assert sender_settings({"EMAIL_SENDER": "shop@example.org"}) == (
        "shop@example.org",
        "shop@example.org",
    )
    both = {"SENDER_IDENTITY": "example.org", "EMAIL_SENDER": "shop@example.org"}
    assert sender_settings(both) == ("example.org", "shop@example.org")
    for wrong in (
        {"SENDER_IDENTITY": "example.org"},
        {"SENDER_IDENTITY": "example.org", "EMAIL_SENDER": "shop@evil-example.org"},
        {"SENDER_IDENTITY": "a@example.org", "EMAIL_SENDER": "b@example.org"},
    ):
        with pytest.raises(SenderError):
            sender_settings(wrong)


def test_readme_chalice_package_prints_what_make_package_prints_and_no_app_log(
    packaged_by_chalice,
):
    result = packaged_by_chalice.result
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Region: ")
    assert lines[1] == "Buyer emails: off"
    assert lines[2].startswith("Packaged out/dev/sam.json and out/dev/deployment.zip (")
    assert not [line for line in (result.stdout + result.stderr).splitlines() if "{" in line]
