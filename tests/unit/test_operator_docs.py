"""The operator docs say what the code and the templates say (docs/deploy.md,
docs/operations.md, docs/configuration.md).

Counts ("15 alarms", "four functions", "two secrets"), names (alarms, functions, policy
files, secrets) and every variable ``chalicelib/config.py`` reads are checked against
``infra/*.json`` and ``.chalice/``; the cost table in docs/deploy.md is generated from the
templates with its assumptions stated (``WRITE_DOCS=1`` rewrites it; otherwise a
difference fails).
"""

from __future__ import annotations

import ast
import json
import os
import re
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest

from scripts.project import (
    CHALICE_DIR,
    OPERATIONS_FILE,
    PROJECT_DIR,
    TEMPLATE_FILE,
    aws_stages,
    load_config,
)

DOCS = PROJECT_DIR / "docs"
OPERATOR_DOCS = [DOCS / name for name in ("deploy.md", "operations.md", "configuration.md")]
NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "both": 2}
NUMBERS |= {str(n): n for n in range(100)}
BRACES = re.compile(r"\{([^{}]*,[^{}]*)\}")


def resources(template_file: Path, kind: str) -> dict[str, dict[str, Any]]:
    template = json.loads(template_file.read_text())
    return {k: r for k, r in template["Resources"].items() if r["Type"] == kind}


def named(resource: dict[str, Any], key: str) -> str:
    """A resource's name as the docs write it: ``${AppName}-${Stage}-x`` is ``shop-<stage>-x``."""
    value = resource["Properties"][key]
    text = value["Fn::Sub"] if isinstance(value, dict) else value
    return text.replace("${AppName}", load_config()["app_name"]).replace("${Stage}", "<stage>")


def alarms() -> set[str]:
    declared = resources(OPERATIONS_FILE, "AWS::CloudWatch::Alarm").values()
    return {named(alarm, "AlarmName") for alarm in declared}


def secrets() -> set[str]:
    declared = resources(TEMPLATE_FILE, "AWS::SecretsManager::Secret").values()
    return {named(secret, "Name") for secret in declared}


def functions() -> dict[str, dict[str, Any]]:
    """Chalice's functions of each AWS stage (the same names in every stage)."""
    stages = [load_config()["stages"][stage]["lambda_functions"] for stage in aws_stages()]
    assert all(set(stage) == set(stages[0]) for stage in stages)
    return dict(stages[0])


def expand(text: str) -> list[str]:
    """``a-{b,c}-d`` is ``a-b-d`` and ``a-c-d``."""
    match = BRACES.search(text)
    if match is None:
        return [text]
    head, tail = text[: match.start()], text[match.end() :]
    return [name for part in match.group(1).split(",") for name in expand(head + part + tail)]


# --- counts ------------------------------------------------------------------------------


def counted() -> dict[str, int]:
    return {
        "alarms": len(alarms()),
        "functions": len(functions()),
        "secrets": len(secrets()),
    }


@pytest.mark.parametrize("doc", OPERATOR_DOCS, ids=lambda path: path.name)
def test_counts_in_the_docs_are_the_templates(doc):
    text = doc.read_text()
    claims = re.findall(r"\b(\w+) (alarms|functions|secrets)\b", text, flags=re.IGNORECASE)
    wrong = [
        f"{number} {what} (the templates: {counted()[what.lower()]})"
        for number, what in claims
        if number.lower() in NUMBERS and NUMBERS[number.lower()] != counted()[what.lower()]
    ]
    assert wrong == []


def test_the_counts_are_found():
    """So that a broken pattern cannot pass the test above by matching nothing."""
    text = (DOCS / "deploy.md").read_text()
    assert f"{len(alarms())} alarms" in text
    assert "four functions" in text and "two secrets" in text


# --- names -------------------------------------------------------------------------------


def test_every_alarm_is_in_the_alarm_table_and_every_row_is_an_alarm():
    text = (DOCS / "operations.md").read_text()
    table = text[text.index("| alarm | fires when |") :].split("\n\n", 1)[0]
    covered: set[str] = set()
    for row in table.splitlines()[2:]:
        for cell_name in re.findall(r"`([^`]+)`", row.split("|")[1]):
            for name in expand(cell_name):
                if name.startswith("…"):  # "…-throttles": every alarm with that ending
                    matched = {a for a in alarms() if a.endswith(name[1:])}
                else:
                    matched = {name} & alarms()
                assert matched, f"{name}: no such alarm in infra/operations.json"
                covered |= matched
    assert sorted(alarms() - covered) == [], "alarms the table does not explain"


def test_functions_and_their_policy_files_are_named_as_deployed():
    text = (DOCS / "deploy.md").read_text()
    app = load_config()["app_name"]
    for function, settings in functions().items():
        deployed = f"{app}-<stage>" if function == "api_handler" else f"{app}-<stage>-{function}"
        policy = settings["iam_policy_file"].replace(f"-{aws_stages()[0]}-", "-<stage>-")
        assert f"`{deployed}`" in text and f"`{policy}`" in text, function


@pytest.mark.parametrize("doc", OPERATOR_DOCS, ids=lambda path: path.name)
def test_every_policy_file_the_docs_name_exists(doc):
    names = re.findall(r"policy-[\w<>{},-]+\.json", doc.read_text())
    for name in names:
        assert "<function>" not in name, f"{name}: the files are named after their role"
        for expanded in expand(name):
            for stage in aws_stages():
                path = CHALICE_DIR / expanded.replace("<stage>", stage)
                assert path.exists(), f"{doc.name}: {expanded}"


def test_every_secret_has_its_force_delete_command():
    text = (DOCS / "deploy.md").read_text()
    for secret in secrets():
        command = f"delete-secret --secret-id {secret} --force-delete-without-recovery"
        assert command in text, secret


# --- configuration -----------------------------------------------------------------------


def variables_read() -> set[str]:
    """Every ``environ.get("NAME", ...)`` of ``chalicelib/config.py``."""
    tree = ast.parse((PROJECT_DIR / "chalicelib" / "config.py").read_text())
    return {
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "get"
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "environ"
        and node.args
        and isinstance(node.args[0], ast.Constant)
    }


# Documented in the table, read by something other than chalicelib/config.py.
READ_ELSEWHERE = {"AWS_ENDPOINT_URL"}  # botocore and PynamoDB


def configuration_rows() -> dict[str, list[str]]:
    text = (DOCS / "configuration.md").read_text()
    table = text[text.index("| variable |") :].split("\n\n", 1)[0].splitlines()
    header = [cell.strip() for cell in table[0].strip("|").split("|")]
    assert header[-1] == "on a live stage"
    rows = {}
    for line in table[2:]:
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        assert len(cells) == len(header), line
        for variable in re.findall(r"`([A-Z_]+)`", cells[0]):
            rows[variable] = cells
    return rows


def test_the_configuration_table_names_every_variable_the_code_reads():
    rows = configuration_rows()
    assert len(variables_read()) > 20  # the scan found them
    assert sorted(variables_read() - set(rows)) == [], "read by the code, not in the table"
    assert sorted(set(rows) - variables_read() - READ_ELSEWHERE) == [], "in the table only"
    assert [v for v, cells in rows.items() if not cells[-1]] == [], "how to change it: empty"


# --- the cost table ----------------------------------------------------------------------

# us-east-1 list prices (December 2026), before free tiers.
PRICES = {
    "dashboard": Decimal("3.00"),  # per dashboard and month
    "alarm_metric": Decimal("0.10"),  # per standard-resolution metric an alarm reads
    "secret": Decimal("0.40"),  # per secret and month
    "custom_metric": Decimal("0.30"),  # per metric name and dimension set emitted in a month
    "xray_trace": Decimal("5.00") / 1_000_000,  # per trace recorded
    "lambda_request": Decimal("0.20") / 1_000_000,
    "lambda_gb_second": Decimal("0.0000166667"),
}
SWEEP_SECONDS = Decimal("0.2")  # assumed duration of an idle sweep run
# Emitted by every sweep run (chalicelib/publisher.py), traffic or not.
IDLE_METRICS = ("EventsNotAnnounced", "EventsRepublished", "EventsLeftBySweep")
COST_BEGIN = "<!-- cost table: generated by tests/unit/test_operator_docs.py -->"
COST_END = "<!-- end of cost table -->"


def cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def sweep_runs_a_month() -> int:
    source = (PROJECT_DIR / "app.py").read_text()
    (minutes,) = re.findall(r"@app\.schedule\(Rate\((\d+), unit=Rate\.MINUTES\)\)", source)
    return 30 * 24 * 60 // int(minutes)


def cost_table() -> str:
    config = load_config()
    dashboards = resources(OPERATIONS_FILE, "AWS::CloudWatch::Dashboard")
    alarm_resources = resources(OPERATIONS_FILE, "AWS::CloudWatch::Alarm").values()
    alarm_metrics = sum(
        sum("MetricStat" in m for m in a["Properties"].get("Metrics", [])) or 1
        for a in alarm_resources
    )
    events_source = (PROJECT_DIR / "chalicelib" / "publisher.py").read_text()
    assert all(f'metric("{name}"' in events_source for name in IDLE_METRICS)
    runs = sweep_runs_a_month()
    xray = [s for s in aws_stages() if config["stages"][s].get("xray", config.get("xray"))]
    memory_gb = Decimal(config["stages"]["dev"].get("lambda_memory_size", 128)) / 1024
    lambda_cost = runs * PRICES["lambda_request"] + (
        runs * SWEEP_SECONDS * memory_gb * PRICES["lambda_gb_second"]
    )
    rows = [
        ("CloudWatch dashboard", f"{len(dashboards)} (`infra/operations.json`) x $3.00",
         len(dashboards) * PRICES["dashboard"]),
        ("CloudWatch alarms", f"{len(alarm_resources)} alarms reading {alarm_metrics} metrics "
         "(the 5XX rate reads two) x $0.10", alarm_metrics * PRICES["alarm_metric"]),
        ("Secrets Manager", f"{len(secrets())} secrets (`infra/resources.json`) x $0.40",
         len(secrets()) * PRICES["secret"]),
        ("Custom metrics (`Shop`)", f"{len(IDLE_METRICS)} the sweep emits every run x $0.30; "
         "each further counter emitted under traffic adds $0.30",
         len(IDLE_METRICS) * PRICES["custom_metric"]),
        ("X-Ray", f"tracing on ({' and '.join(xray) or 'no stage'}): {runs:,} sweep traces "
         "x $5.00 per million", runs * PRICES["xray_trace"] if xray else Decimal(0)),
        ("Lambda", f"{runs:,} sweep runs of {SWEEP_SECONDS} s at {memory_gb * 1024:.0f} MB "
         "(assumed)", lambda_cost),
        ("DynamoDB on demand, PITR, logs, SNS, SSM, EventBridge", "storage only: an empty "
         "stage stores next to nothing; standard SSM parameters are free", Decimal(0)),
    ]  # fmt: skip
    total = sum(cents(cost) for _, _, cost in rows)
    lines = [
        COST_BEGIN,
        f"Nothing is provisioned per hour: an idle stage costs about **${total} a month**, "
        "mostly monitoring. Before free tiers: an account's first 3 dashboards and 10 alarm "
        "metrics, X-Ray's first 100,000 traces and Lambda's first million requests a month "
        "are free. Under traffic add requests, DynamoDB reads and writes, and logs.",
        "",
        "| item | what the templates declare | idle cost / month |",
        "|---|---|---|",
        *(f"| {item} | {basis} | ${cents(cost)} |" for item, basis, cost in rows),
        f"| **total** | | **${total}** |",
        COST_END,
    ]
    return "\n".join(lines)


def test_the_cost_table_is_computed_from_the_templates():
    path = DOCS / "deploy.md"
    text = path.read_text()
    begin, end = text.index(COST_BEGIN), text.index(COST_END) + len(COST_END)
    if os.environ.get("WRITE_DOCS"):
        path.write_text(text[:begin] + cost_table() + text[end:])
        text = path.read_text()
        begin, end = text.index(COST_BEGIN), text.index(COST_END) + len(COST_END)
    assert text[begin:end] == cost_table(), "regenerate: WRITE_DOCS=1 pytest " + __file__
