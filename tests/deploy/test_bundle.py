"""The packaged code runs on its own: the standard library, the app zip and its layer.

``automatic_layer`` (.chalice/config.json) puts the dependencies (pynamodb, botocore, ...)
in a Lambda layer that ``chalice deploy`` uploads once, not once per function; the
functions' own zip holds the app and Chalice's runtime. Lambda unpacks the function to
/var/task and the layer to /opt, and puts /opt/python/lib/python3.X/site-packages on
``sys.path``: the bundle below is laid out and imported the same way.
"""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from scripts.project import PROJECT_DIR, stage_environment
from tests.deploy.conftest import canonical, pins

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
bundle, layer = sys.argv[1], sys.argv[2]
sys.path.insert(0, bundle)  # what Lambda does with /var/task
sys.path.append(layer)  # and with the layer's site-packages under /opt
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
        and not module.__file__.startswith((bundle, layer, *stdlib))
    ),
}))
"""


LAYER_SITE_PACKAGES = (
    f"python/lib/python{sys.version_info.major}.{sys.version_info.minor}/site-packages"
)


@pytest.fixture(scope="module")
def bundle(packaged, tmp_path_factory) -> Path:
    """/var/task and /opt, as Lambda lays them out."""
    target = tmp_path_factory.mktemp("bundle")
    with zipfile.ZipFile(packaged[STAGE] / "deployment.zip") as archive:
        archive.extractall(target / "task")
    with zipfile.ZipFile(packaged[STAGE] / "layer-deployment.zip") as archive:
        archive.extractall(target / "opt")
    return target


@pytest.fixture(scope="module")
def inspected(bundle) -> dict:
    layer = bundle / "opt" / LAYER_SITE_PACKAGES
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", _INSPECT, str(bundle / "task"), str(layer)],
        cwd=bundle / "task",
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


def entries_of(path: Path) -> list[zipfile.ZipInfo]:
    with zipfile.ZipFile(path) as archive:
        return archive.infolist()


def test_bundle_holds_nothing_test_only_and_fits_lambda(packaged):
    app_zip, layer_zip = (packaged[STAGE] / n for n in ("deployment.zip", "layer-deployment.zip"))
    app_entries, layer_entries = entries_of(app_zip), entries_of(layer_zip)
    # The app and Chalice's runtime only: the dependencies are in the layer.
    assert {entry.filename.split("/")[0] for entry in app_entries} == {
        "app.py",
        "chalicelib",
        "chalice",
    }
    prefix = LAYER_SITE_PACKAGES + "/"
    assert all(entry.filename.startswith(prefix) for entry in layer_entries)
    in_layer = {entry.filename[len(prefix) :].split("/")[0] for entry in layer_entries}
    distributions = {name.split("-")[0].lower() for name in in_layer if ".dist-info" in name}
    assert not in_layer & TEST_ONLY
    assert not distributions & TEST_ONLY
    assert {"pynamodb", "fastjsonschema"} <= in_layer
    assert app_zip.stat().st_size + layer_zip.stat().st_size < LAMBDA_ZIP_LIMIT
    unzipped = sum(entry.file_size for entry in [*app_entries, *layer_entries])
    assert unzipped < LAMBDA_UNZIPPED_LIMIT  # a function and its layers together


def test_the_layer_holds_exactly_the_pinned_packages(packaged):
    """The layer `chalice package` builds is requirements.txt: each package at its pin,
    nothing unpinned, nothing pinned left out (what the tests ran is what Lambda runs)."""
    prefix = LAYER_SITE_PACKAGES + "/"
    metadata = {
        entry.filename
        for entry in entries_of(packaged[STAGE] / "layer-deployment.zip")
        if entry.filename.startswith(prefix) and entry.filename.endswith(".dist-info/METADATA")
    }
    in_layer = {}
    for name in metadata:
        folder = name[len(prefix) :].split("/")[0].removesuffix(".dist-info")
        distribution, version = folder.split("-")
        in_layer[canonical(distribution)] = version
    assert in_layer == pins(PROJECT_DIR / "requirements.txt")


def test_the_dev_and_run_locks_install_the_runtime_pins():
    runtime = pins(PROJECT_DIR / "requirements.txt")
    for lock in ("requirements-run.txt", "requirements-dev.txt"):
        locked = pins(PROJECT_DIR / lock)
        assert {name: locked.get(name) for name in runtime} == runtime, lock
    run = pins(PROJECT_DIR / "requirements-run.txt")
    dev = pins(PROJECT_DIR / "requirements-dev.txt")
    assert {name: dev.get(name) for name in run} == run
