"""``make promote-admin``: the stage's tables from config.json, the operator's credentials.

The script runs in a subprocess (as ``make`` runs it) against a moto server: chalicelib
reads table names once per process, and this process already uses the test stage's.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import boto3
import pytest

from scripts.deploy import deploy_stack
from scripts.project import PROJECT_DIR, TEMPLATE_FILE, stage_environment

REGION = "us-east-1"
_REGISTER = """
import sys
from chalicelib.users import register
register({"email": sys.argv[1], "name": "Dana", "password": "dana-password"})
"""


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    """A moto server holding the dev stage's resources stack."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    cfn = boto3.client("cloudformation", region_name=REGION, endpoint_url=url)
    parameters = {"Stage": "dev", "AppName": "shop", "NotificationEmail": ""}
    deploy_stack(
        cfn,
        "shop-dev-resources",
        TEMPLATE_FILE.read_text(),
        parameters,
        echo=lambda _: None,
        poll_seconds=0,
    )
    yield url
    server.stop()


def run(endpoint: str, *args: str, **extra: str) -> subprocess.CompletedProcess:
    """Python in a fresh process, the way ``make`` runs it; only the endpoint is moto's."""
    environment = {
        **extra,
        "PATH": "/usr/bin:/bin",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ENDPOINT_URL": endpoint,
    }
    return subprocess.run(
        [sys.executable, *args], cwd=PROJECT_DIR, env=environment, capture_output=True, text=True
    )


def users_with_email(endpoint: str, email: str) -> list[dict]:
    table = boto3.resource("dynamodb", region_name=REGION, endpoint_url=endpoint).Table(
        "shop-dev-users"
    )
    return [item for item in table.scan()["Items"] if item.get("email") == email]


def test_promotes_a_registered_user_on_the_stages_tables(endpoint):
    registered = run(endpoint, "-c", _REGISTER, "dana@example.com", **stage_environment("dev"))
    assert registered.returncode == 0, registered.stderr

    result = run(
        endpoint, "-m", "scripts.promote_admin", "--stage", "dev", "--email", "Dana@Example.com"
    )
    assert result.returncode == 0, result.stderr
    assert "dana@example.com" in result.stdout and "admin on stage dev" in result.stdout
    items = users_with_email(endpoint, "dana@example.com")
    assert len(items) == 2  # the profile and the login record, both promoted
    assert {item["role"] for item in items} == {"admin"}
    assert {int(item["tokenVersion"]) for item in items} == {1}  # earlier tokens revoked
    # The role change's audit entry, written in the same transaction (one item per listing).
    table = boto3.resource("dynamodb", region_name=REGION, endpoint_url=endpoint).Table(
        "shop-dev-users"
    )
    entries = [i for i in table.scan()["Items"] if i.get("action") == "user.role"]
    assert {(e["actor"], e["entityId"]) for e in entries} == {("operator", items[0]["userId"])}
    assert len(entries) == 3


def test_an_unknown_email_is_an_error(endpoint):
    result = run(
        endpoint, "-m", "scripts.promote_admin", "--stage", "dev", "--email", "nobody@example.com"
    )
    assert result.returncode == 1
    assert "Not promoted: no user with email nobody@example.com" in result.stderr


def test_an_email_is_required(endpoint):
    result = run(endpoint, "-m", "scripts.promote_admin", "--stage", "dev", "--email", "")
    assert result.returncode == 2
    assert "an email is required" in result.stderr
