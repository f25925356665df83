"""Each stage's alarms, the topic they notify and its dashboard (infra/operations.json).

Checked in the ``make package`` template, which merges infra/operations.json; ``make
deploy`` deploys the same file as its operations stack (test_rehearsal.py checks what it
creates). The expectations are written out here rather than read from the template, so
that they check it against the issue, not against itself. cfn-lint (test_package.py)
covers the resources' syntax.
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
    "EventsPublished",
    "StreamRecordErrors",
    "PaymentRefundFailures",
    "PaymentAmountMismatches",
    "AccountEmailsFailed",
}


def function_name(function: Any, stage: str) -> str:
    return f"{APP}-{stage}" if function.name == "api_handler" else f"{APP}-{stage}-{function.name}"


def baked(template: dict[str, Any], value: Any) -> Any:
    """``value`` with the template's parameters (baked in for the stage) substituted."""
    defaults = {name: str(p.get("Default", "")) for name, p in template["Parameters"].items()}
    if isinstance(value, list):
        return [baked(template, item) for item in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"Ref"} and value["Ref"] in defaults:
        return defaults[value["Ref"]]
    if set(value) == {"Fn::Sub"} and isinstance(value["Fn::Sub"], str):
        text = SUB_VARIABLE.sub(lambda m: defaults.get(m.group(1), m.group(0)), value["Fn::Sub"])
        return text if not SUB_VARIABLE.search(text) else {"Fn::Sub": text}
    return {key: baked(template, item) for key, item in value.items()}


def alarms_of(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        logical_id: baked(template, resource["Properties"])
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
        # A paid amount or currency that is not the order's (issue #23 item 4).
        f"{APP}-{stage}-payment-amount-mismatches": {
            "Namespace": "Shop",
            "MetricName": "PaymentAmountMismatches",
            "Dimensions": shop,
            "Statistic": "Sum",
            "Threshold": 0,
            "EvaluationPeriods": 1,
        },
    }
    # Work lost without an error anyone sees: an order event never published, a refund
    # never made, a verification or reset link never sent (every counter's alarm or
    # reason: test_every_counter_has_an_alarm_or_a_reason).
    for metric, slug in (
        ("StreamRecordErrors", "stream-record-errors"),
        ("PaymentRefundFailures", "payment-refund-failures"),
        ("AccountEmailsFailed", "account-emails-failed"),
    ):
        expected[f"{APP}-{stage}-{slug}"] = {
            "Namespace": "Shop",
            "MetricName": metric,
            "Dimensions": shop,
            "Statistic": "Sum",
            "Threshold": 0,
            "EvaluationPeriods": 1,
        }
    # Order events more than a minute behind the orders table (the stream handler failing).
    expected[f"{APP}-{stage}-orders-stream-iterator-age"] = {
        "Namespace": "AWS/Lambda",
        "MetricName": "IteratorAge",
        "Dimensions": [{"Name": "FunctionName", "Value": f"{APP}-{stage}-publish_order_events"}],
        "Statistic": "Maximum",
        "Threshold": 60_000,
        "EvaluationPeriods": 1,
    }
    for function in FUNCTIONS:
        for metric in ("Errors", "Throttles"):
            slug = function.name.replace("_", "-")
            expected[f"{APP}-{stage}-{slug}-{metric.lower()}"] = {
                "Namespace": "AWS/Lambda",
                "MetricName": metric,
                "Dimensions": [{"Name": "FunctionName", "Value": function_name(function, stage)}],
                "Statistic": "Sum",
                "Threshold": 0,
                "EvaluationPeriods": 1,
            }
    return expected


def dashboard_of(template: dict[str, Any]) -> tuple[dict[str, Any], set[str]]:
    """The dashboard body parsed after substituting dummy values, and its variables."""
    (dashboard,) = (
        baked(template, resource["Properties"])
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
    assert baked(template, topic["Properties"]["TopicName"]) == f"{APP}-{stage}-alarms"
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
        assert isinstance(alarm["Threshold"], int | float)  # settled for the stage
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
    # Names are the stage's (parameters baked in); only pseudo parameters are left.
    assert variables <= PSEUDO_PARAMETERS
    assert "AWS::Region" in variables

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
        assert functions == {function_name(f, stage) for f in FUNCTIONS}
    for name in SHOP_METRICS:
        assert metrics[name], name
        for line in metrics[name]:
            assert line[:4] == ["Shop", name, "Stage", stage]
    (order_value,) = metrics["OrderValue"]
    assert order_value[4]["stat"] == "Sum"

    (alarm_widget,) = (w for w in dashboard["widgets"] if w["type"] == "alarm")
    arn = "arn:dummy-AWS::Partition:cloudwatch:dummy-AWS::Region:dummy-AWS::AccountId:alarm:"
    assert sorted(alarm_widget["properties"]["alarms"]) == sorted(
        arn + alarm["AlarmName"] for alarm in alarms_of(template).values()
    )
    assert template["Outputs"]["DashboardURL"]["Value"]["Fn::Sub"].endswith(
        "#dashboards:name=${Dashboard}"
    )


# Written out from the issue: stage-wide, then tighter on the unauthenticated password
# routes (#23 added the password reset's two: a request emails, a reset hashes).
PASSWORD_ROUTES = [
    ("/~1users~1login", "POST"),
    ("/~1users~1register", "POST"),
    ("/~1users~1forgot-password", "POST"),
    ("/~1users~1reset-password", "POST"),
]
THROTTLES = {
    "dev": dict(zip(PASSWORD_ROUTES, [(5, 10), (2, 5), (2, 5), (5, 10)], strict=True))
    | {("/*", "*"): (50, 100)},
    "prod": dict(zip(PASSWORD_ROUTES, [(20, 40), (5, 10), (5, 10), (20, 40)], strict=True))
    | {("/*", "*"): (200, 400)},
}  # fmt: skip


@pytest.mark.parametrize("stage", STAGES)
def test_api_stage_is_throttled_and_prod_writes_access_logs(sam, stage):
    api = sam[stage]["Resources"]["RestAPI"]["Properties"]
    throttles = {
        (s["ResourcePath"], s["HttpMethod"]): (s["ThrottlingRateLimit"], s["ThrottlingBurstLimit"])
        for s in api["MethodSettings"]
    }
    assert throttles == THROTTLES[stage]
    stage_wide = throttles[("/*", "*")]
    for route in PASSWORD_ROUTES:
        assert throttles[route] < stage_wide
    if stage == "prod":
        assert api["AccessLogSetting"]["DestinationArn"] == {
            "Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]
        }
        assert "$context.requestId" in api["AccessLogSetting"]["Format"]
        group = sam[stage]["Resources"]["ApiAccessLogGroup"]["Properties"]
        assert baked(sam[stage], group["LogGroupName"]) == f"/aws/apigateway/{APP}-prod-access"
    else:
        assert "AccessLogSetting" not in api
        assert "ApiAccessLogGroup" not in sam[stage]["Resources"]


@pytest.mark.parametrize("stage", STAGES)
def test_make_deploy_applies_the_same_stage_settings(sam, stage):
    """The deploy path patches Chalice's stage with what the packaged template declares."""
    from scripts.deploy import stage_patch_operations

    log_group = f"arn:aws:logs:us-east-1:123456789012:log-group:/aws/apigateway/{APP}-prod-access"
    patches = {
        op["path"]: op["value"]
        for op in stage_patch_operations(stage, log_group + ":*" if stage == "prod" else None)
    }
    throttles = {}
    for (path, method), (rate, burst) in THROTTLES[stage].items():
        key = "/*" if path == "/*" else path
        throttles[f"{key}/{method}/throttling/rateLimit"] = str(rate)
        throttles[f"{key}/{method}/throttling/burstLimit"] = str(burst)
    access = {k: v for k, v in patches.items() if k.startswith("/accessLogSettings/")}
    assert {k: v for k, v in patches.items() if k not in access} == throttles
    if stage == "prod":
        assert access["/accessLogSettings/destinationArn"] == log_group
        api = sam[stage]["Resources"]["RestAPI"]["Properties"]
        assert access["/accessLogSettings/format"] == api["AccessLogSetting"]["Format"]
    else:
        assert access == {}


# --- every counter: an alarm, or a reason why not ---------------------------------------


def emitted_counters() -> set[str]:
    """The metric names chalicelib emits: the first argument of every call of
    ``chalicelib.observability.metric``, read from the source. A name built at run time
    from a literal prefix (``f"ServiceBusy{dependency}"``) is that prefix and ``*``."""
    import ast

    from scripts.project import PROJECT_DIR

    names: set[str] = set()
    for path in sorted((PROJECT_DIR / "chalicelib").rglob("*.py")):
        tree = ast.parse(path.read_text())
        local = {
            alias.asname or alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module == "chalicelib.observability"
            for alias in node.names
            if alias.name == "metric"
        }
        if path.name == "observability.py":
            local.add("metric")
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and node.args):
                continue
            called = node.func
            if not (
                (isinstance(called, ast.Name) and called.id in local)
                or (isinstance(called, ast.Attribute) and called.attr == "metric"
                    and isinstance(called.value, ast.Name) and called.value.id == "observability")
            ):  # fmt: skip
                continue
            names |= _names(node.args[0], f"{path.name}:{node.lineno}")
    return names


def _names(expression: Any, where: str) -> set[str]:
    import ast

    if isinstance(expression, ast.Constant) and isinstance(expression.value, str):
        return {expression.value}
    if isinstance(expression, ast.IfExp):  # "A" if ... else "B"
        return _names(expression.body, where) | _names(expression.orelse, where)
    first = expression.values[0] if isinstance(expression, ast.JoinedStr) else None
    if isinstance(expression, ast.BinOp):  # "Prefix" + ...
        first = expression.left
    if isinstance(first, ast.Constant) and isinstance(first.value, str):
        return {f"{first.value}*"}
    raise AssertionError(f"{where}: a metric name that cannot be read from the source")


def test_the_counters_are_found_in_the_code():
    counters = emitted_counters()
    # A few known ones, so that a broken scan cannot pass the test below by finding nothing.
    assert {"StreamRecordErrors", "SubscriberErrors", "InternalErrors", "ServiceBusy*"} <= counters
    assert len(counters) > 20


@pytest.mark.parametrize("stage", STAGES)
def test_every_counter_has_an_alarm_or_a_reason(sam, stage):
    """infra/operations.json: an alarm watching the counter, or Metadata.Counters.NoAlarm
    saying why none (and no reason for a counter that is alarmed or no longer emitted)."""
    from scripts.project import OPERATIONS_FILE

    reasons = json.loads(OPERATIONS_FILE.read_text())["Metadata"]["Counters"]["NoAlarm"]
    alarmed = {
        alarm["MetricName"]
        for alarm in alarms_of(sam[stage]).values()
        if alarm.get("Namespace") == "Shop"
    }
    counters = emitted_counters()
    assert sorted(counters - alarmed - set(reasons)) == [], "neither an alarm nor a reason"
    assert sorted(set(reasons) - counters) == [], "a reason for a counter no longer emitted"
    assert sorted(set(reasons) & alarmed) == [], "alarmed, and a reason why not"
    assert all(len(reason) > 20 for reason in reasons.values())
    # Each alarmed counter is also on the dashboard (the alarm says that; the graph says when).
    dashboard, _ = dashboard_of(sam[stage])
    shown = {
        line[1]
        for widget in dashboard["widgets"]
        if widget["type"] == "metric"
        for line in widget["properties"]["metrics"]
    }
    assert sorted(alarmed - shown) == []
    assert "StreamRecordErrors" in alarmed
