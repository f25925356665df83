"""The packaged deployment.zip runs on its own: the standard library and the zip, nothing else."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from scripts.project import stage_environment

STAGE = "dev"
LAMBDA_ZIP_LIMIT = 50 * 1024 * 1024  # direct upload, zipped
LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024
# The v1 contract (DESIGN.md §2); the app may serve more (e.g. /openapi.json).
CONTRACT_ROUTES = {
    ("POST", "/users/register"),
    ("POST", "/users/login"),
    ("GET", "/users"),
    ("GET", "/users/{userId}"),
    ("PUT", "/users/{userId}"),
    ("DELETE", "/users/{userId}"),
    ("GET", "/products"),
    ("POST", "/products"),
    ("GET", "/products/{productId}"),
    ("PUT", "/products/{productId}"),
    ("DELETE", "/products/{productId}"),
    ("POST", "/orders"),
    ("GET", "/orders"),
    ("GET", "/orders/{orderId}"),
    ("POST", "/orders/{orderId}/cancel"),
}
TEST_ONLY = {"tests", "devstack", "scripts", "infra", "moto", "pytest", "_pytest", "hypothesis"}

# Runs under `python -I -S`: no site-packages, no PYTHONPATH, no current directory.
_INSPECT = """
import json, sys, sysconfig
bundle = sys.argv[1]
sys.path.insert(0, bundle)  # what Lambda does with /var/task
import app
from chalice.app import ScheduledEventConfig, SNSEventConfig

stdlib = (sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["platstdlib"])
print(json.dumps({
    "routes": [[m, p] for p, entries in app.app.routes.items() for m in entries],
    "sns": [s.topic for s in app.app.event_sources if isinstance(s, SNSEventConfig)],
    "schedules": [
        s.schedule_expression.to_string()
        for s in app.app.event_sources if isinstance(s, ScheduledEventConfig)
    ],
    "handlers": sorted(app.app.handler_map),
    "outside": sorted(
        name for name, module in list(sys.modules.items())
        if getattr(module, "__file__", None)
        and not module.__file__.startswith((bundle, *stdlib))
    ),
}))
"""


@pytest.fixture(scope="module")
def bundle(packaged, tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("bundle")
    with zipfile.ZipFile(packaged[STAGE] / "deployment.zip") as archive:
        archive.extractall(target)
    return target


@pytest.fixture(scope="module")
def inspected(bundle) -> dict:
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", _INSPECT, str(bundle)],
        cwd=bundle,
        env={**stage_environment(STAGE), "AWS_DEFAULT_REGION": "us-east-1"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_bundle_imports_using_only_itself_and_the_standard_library(inspected):
    assert inspected["outside"] == []


def test_bundle_serves_every_route(inspected):
    from app import app

    served = {(method, path) for path, entries in app.routes.items() for method in entries}
    assert {tuple(route) for route in inspected["routes"]} == served
    assert served >= CONTRACT_ROUTES


def test_bundle_has_the_subscriber_and_the_sweep(inspected):
    assert {"on_order_event", "republish_unannounced"} <= set(inspected["handlers"])
    assert inspected["sns"] == [stage_environment(STAGE)["ORDER_EVENTS_TOPIC"]]
    assert inspected["schedules"] == ["rate(5 minutes)"]


def test_bundle_holds_nothing_test_only_and_fits_lambda(packaged):
    path = packaged[STAGE] / "deployment.zip"
    with zipfile.ZipFile(path) as archive:
        entries = archive.infolist()
    top_level = {entry.filename.split("/")[0] for entry in entries}
    distributions = {name.split("-")[0].lower() for name in top_level if ".dist-info" in name}
    assert not top_level & TEST_ONLY
    assert not distributions & TEST_ONLY
    assert {"app.py", "chalicelib", "pynamodb"} <= top_level
    assert path.stat().st_size < LAMBDA_ZIP_LIMIT
    assert sum(entry.file_size for entry in entries) < LAMBDA_UNZIPPED_LIMIT
