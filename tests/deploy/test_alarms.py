"""``make package``: each stage's alarms, the topic they notify and its dashboard.

The expectations are written out here rather than imported from scripts/package.py, so that
they check the template against the issue, not against itself. cfn-lint (test_package.py)
covers the new resources' syntax.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from scripts.package import FUNCTIONS, resolve_conditions
from scripts.project import aws_stages, load_config

STAGES = aws_stages()
APP = load_config()["app_name"]
TOPIC = {"Ref": "AlarmTopic"}
LATENCY_P99_MS = {"dev": 5000, "prod": 3000}
SUB_VARIABLE = re.compile(r"\$\{([^}!]+)\}")
PSEUDO_PARAMETERS = {"AWS::Region", "AWS::AccountId", "AWS::Partition", "AWS::URLSuffix"}
# Metric names and units as chalicelib/observability.py and its callers emit them.
SHOP_METRICS = {
    "OrdersPlaced",
    "OrderValue",
    "OrdersCancelled",
    "StockConflicts",
    "LoginFailures",
    "EventsNotAnnounced",
}


def alarms_of(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource["Properties"]
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::CloudWatch::Alarm"
    }


def api_stage(stage: str) -> str:
    return load_config()["stages"][stage]["api_gateway_stage"]


def api_dimensions(stage: str) -> list[dict[str, str]]:
    return [
        {"Name": "ApiName", "Value": f"{APP}-{stage}"},
        {"Name": "Stage", "Value": api_stage(stage)},
    ]


def expected_metric_alarms(stage: str) -> dict[str, dict[str, Any]]:
    """Alarm name -> what it watches, for the alarms on a single metric."""
    shop = [{"Name": "Stage", "Value": stage}]
    expected = {
        f"{APP}-{stage}-api-latency-p99": {
            "Namespace": "AWS/ApiGateway",
            "MetricName": "Latency",
            "Dimensions": api_dimensions(stage),
            "ExtendedStatistic": "p99",
            "Threshold": LATENCY_P99_MS[stage],
            "EvaluationPeriods": 2,
        },
        f"{APP}-{stage}-events-not-announced": {
            "Namespace": "Shop",
            "MetricName": "EventsNotAnnounced",
            "Dimensions": shop,
            "Statistic": "Maximum",
            "Threshold": 0,
            "EvaluationPeriods": 2,
        },
        f"{APP}-{stage}-subscriber-errors": {
            "Namespace": "Shop",
            "MetricName": "SubscriberErrors",
            "Dimensions": shop,
            "Statistic": "Sum",
            "Threshold": 0,
            "EvaluationPeriods": 1,
        },
    }
    for function in FUNCTIONS:
        for metric in ("Errors", "Throttles"):
            slug = function.name.replace("_", "-")
            expected[f"{APP}-{stage}-{slug}-{metric.lower()}"] = {
                "Namespace": "AWS/Lambda",
                "MetricName": metric,
                "Dimensions": [{"Name": "FunctionName", "Value": {"Ref": function.logical_id}}],
                "Statistic": "Sum",
                "Threshold": 0,
                "EvaluationPeriods": 1,
            }
    return expected


def dashboard_of(template: dict[str, Any]) -> tuple[dict[str, Any], set[str]]:
    """The dashboard body parsed after substituting dummy values, and its variables."""
    (dashboard,) = (
        resource["Properties"]
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::CloudWatch::Dashboard"
    )
    assert set(dashboard["DashboardBody"]) == {"Fn::Sub"}
    text = dashboard["DashboardBody"]["Fn::Sub"]
    assert isinstance(text, str)
    variables = set(SUB_VARIABLE.findall(text))
    body = json.loads(SUB_VARIABLE.sub(lambda m: f"dummy-{m.group(1)}", text))
    return {"name": dashboard["DashboardName"], **body}, variables


@pytest.mark.parametrize("stage", STAGES)
def test_alarm_topic_is_the_stages_own(sam, stage):
    template = sam[stage]
    topic = template["Resources"]["AlarmTopic"]
    assert topic["Type"] == "AWS::SNS::Topic"
    assert topic["Properties"]["TopicName"] == f"{APP}-{stage}-alarms"
    assert "Condition" not in topic
    assert template["Outputs"]["AlarmTopicArn"]["Value"] == TOPIC


@pytest.mark.parametrize("stage", STAGES)
def test_alarm_email_subscription_is_conditional(sam, stage):
    template = sam[stage]
    assert template["Parameters"]["AlarmEmail"]["Type"] == "String"
    assert template["Parameters"]["AlarmEmail"]["Default"] == ""
    subscription = template["Resources"]["AlarmEmailSubscription"]
    assert subscription["Condition"] == "HasAlarmEmail"
    assert subscription["Properties"] == {
        "TopicArn": TOPIC,
        "Protocol": "email",
        "Endpoint": {"Ref": "AlarmEmail"},
    }
    # Settled as CloudFormation would: no address, no subscription.
    assert (
        "AlarmEmailSubscription"
        not in resolve_conditions(template, {"AlarmEmail": ""})["Resources"]
    )
    with_email = resolve_conditions(template, {"AlarmEmail": "ops@example.com"})
    assert "Condition" not in with_email["Resources"]["AlarmEmailSubscription"]
    pattern = re.compile(template["Parameters"]["AlarmEmail"]["AllowedPattern"])
    assert pattern.fullmatch("") and pattern.fullmatch("ops@example.com")
    assert not pattern.fullmatch("not an address")


@pytest.mark.parametrize("stage", STAGES)
def test_every_alarm_notifies_the_topic_when_it_fires_and_recovers(sam, stage):
    alarms = alarms_of(sam[stage]).values()
    names = [alarm["AlarmName"] for alarm in alarms]
    expected = {*expected_metric_alarms(stage), f"{APP}-{stage}-api-5xx-rate"}
    assert sorted(names) == sorted(expected)
    for alarm in alarms:
        assert alarm["ActionsEnabled"] is True
        assert alarm["AlarmActions"] == [TOPIC]
        assert alarm["OKActions"] == [TOPIC]
        assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
        # No traffic, no invocation, no metric: nothing is wrong.
        assert alarm["TreatMissingData"] == "notBreaching"
        assert alarm["DatapointsToAlarm"] == alarm["EvaluationPeriods"]
        assert alarm["AlarmDescription"]


@pytest.mark.parametrize("stage", STAGES)
def test_metric_alarms_watch_the_right_metric(sam, stage):
    by_name = {alarm["AlarmName"]: alarm for alarm in alarms_of(sam[stage]).values()}
    for name, expected in expected_metric_alarms(stage).items():
        alarm = by_name[name]
        assert {key: alarm.get(key) for key in expected} == expected, name
        assert alarm["Period"] == 300, name
        assert "Metrics" not in alarm
        assert ("Statistic" in alarm) != ("ExtendedStatistic" in alarm), name


@pytest.mark.parametrize("stage", STAGES)
def test_api_5xx_alarm_is_a_rate_over_five_minutes(sam, stage):
    by_name = {alarm["AlarmName"]: alarm for alarm in alarms_of(sam[stage]).values()}
    alarm = by_name[f"{APP}-{stage}-api-5xx-rate"]
    assert "MetricName" not in alarm
    queries = {query["Id"]: query for query in alarm["Metrics"]}
    returned = [query for query in queries.values() if query["ReturnData"]]
    assert len(returned) == 1
    (expression,) = returned
    inputs = {}
    for query_id, query in queries.items():
        if query is expression:
            continue
        stat = query["MetricStat"]
        assert stat["Metric"]["Namespace"] == "AWS/ApiGateway"
        assert stat["Metric"]["Dimensions"] == api_dimensions(stage)
        assert (stat["Period"], stat["Stat"]) == (300, "Sum")
        inputs[stat["Metric"]["MetricName"]] = query_id
    assert set(inputs) == {"5XXError", "Count"}
    errors, requests = inputs["5XXError"], inputs["Count"]
    assert expression["Expression"] == f"IF({requests} > 0, 100 * {errors} / {requests}, 0)"
    assert alarm["Threshold"] == 1  # percent
    assert alarm["EvaluationPeriods"] == 1


@pytest.mark.parametrize("stage", STAGES)
def test_api_is_named_per_stage_for_its_metrics(sam, stage):
    """API Gateway names REST API metrics by ApiName and Stage: dev and prod must differ."""
    api = sam[stage]["Resources"]["RestAPI"]["Properties"]
    assert api["Name"] == f"{APP}-{stage}"
    assert api["DefinitionBody"]["info"]["title"] == f"{APP}-{stage}"
    assert api["StageName"] == api_stage(stage)
    assert api["TracingEnabled"] is True  # the merge kept the other overrides


@pytest.mark.parametrize("stage", STAGES)
def test_dashboard_body_is_json_and_shows_the_metrics(sam, stage):
    template = sam[stage]
    dashboard, variables = dashboard_of(template)
    assert dashboard["name"] == f"{APP}-{stage}"
    resources = template["Resources"]
    for variable in variables:
        # Every Fn::Sub variable resolves: a pseudo parameter, a resource or its attribute.
        target, _, attribute = variable.partition(".")
        assert variable in PSEUDO_PARAMETERS or target in resources, variable
        assert attribute in {"", "Arn"}, variable
    assert {"AWS::Region", *(f.logical_id for f in FUNCTIONS)} <= variables

    metrics: dict[str, list[list[Any]]] = {}
    for widget in dashboard["widgets"]:
        assert {"type", "x", "y", "width", "height", "properties"} <= set(widget)
        assert widget["x"] + widget["width"] <= 24
        if widget["type"] != "metric":
            continue
        assert widget["properties"]["region"] == "dummy-AWS::Region"
        for line in widget["properties"]["metrics"]:
            metrics.setdefault(line[1], []).append(line)

    api = ["ApiName", f"{APP}-{stage}", "Stage", api_stage(stage)]
    for name in ("Count", "Latency", "4XXError", "5XXError"):
        assert metrics[name] and all(
            line[:6] == ["AWS/ApiGateway", name, *api] for line in metrics[name]
        )
    latency_stats = {line[6]["stat"] for line in metrics["Latency"]}
    assert {"p50", "p99"} <= latency_stats
    for name in ("Errors", "Throttles"):
        functions = {line[3] for line in metrics[name] if line[0] == "AWS/Lambda"}
        assert functions == {f"dummy-{f.logical_id}" for f in FUNCTIONS}
    for name in SHOP_METRICS:
        assert metrics[name], name
        for line in metrics[name]:
            assert line[:4] == ["Shop", name, "Stage", stage]
    (order_value,) = metrics["OrderValue"]
    assert order_value[4]["stat"] == "Sum"

    (alarm_widget,) = (w for w in dashboard["widgets"] if w["type"] == "alarm")
    assert sorted(alarm_widget["properties"]["alarms"]) == sorted(
        f"dummy-{logical_id}.Arn" for logical_id in alarms_of(template)
    )
    assert template["Outputs"]["DashboardURL"]["Value"]["Fn::Sub"].endswith(
        "#dashboards:name=${Dashboard}"
    )
