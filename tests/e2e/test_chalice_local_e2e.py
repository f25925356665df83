"""The first run: README's ``chalice local`` line typed as a user would, and the local stack
on ``make run``'s packages only. Each answers, and an order goes all the way to CONFIRMED
(the orders stream, SNS and the subscriber included)."""

from __future__ import annotations

import importlib.metadata
import os
import shlex
import subprocess
import sys
import uuid
from pathlib import Path

from tests.deploy.conftest import canonical, pins, readme_command
from tests.e2e.conftest import ROOT, RunningStack, free_port, run_stack
from tests.e2e.test_orders_e2e import wait_for_status
from tests.factories import DELIVERY

LOCAL_LINE = readme_command("chalice local --stage local")
README_PORT = "8000"


def order_is_confirmed(stack: RunningStack) -> None:
    http = stack.client()
    status, page = http.get("/products")
    assert status == 200 and isinstance(page["items"], list)
    _, admin = http.post(
        "/users/login", {"email": stack.admin_email, "password": stack.admin_password}
    )
    status, product = http.post(
        "/products", {"name": "Kettle", "price": "20", "stock": 3}, token=admin["token"]
    )
    assert status == 201, product
    email = f"buyer-{uuid.uuid4().hex[:8]}@example.com"
    status, _ = http.post(
        "/users/register", {"email": email, "name": "Buyer", "password": "correct-horse"}
    )
    assert status == 201
    status, buyer = http.post("/users/login", {"email": email, "password": "correct-horse"})
    assert status == 200
    status, order = http.post(
        "/orders",
        {"items": [{"productId": product["productId"], "quantity": 1}], **DELIVERY},
        token=buyer["token"],
    )
    assert status == 201, order
    confirmed = wait_for_status(http, buyer["token"], order["orderId"], "CONFIRMED")
    assert confirmed["status"] == "CONFIRMED"


def test_readme_chalice_local_serves_the_local_stack_and_confirms_an_order():
    words = shlex.split(LOCAL_LINE)
    assert words[-2:] == ["--port", README_PORT]
    port = free_port()  # README's line, on a free port instead of 8000
    with run_stack(port=port, command=[*words[:-1], str(port)]) as stack:
        order_is_confirmed(stack)


# Imported first in the stack's process (PYTHONPATH): any module of a package that only
# `make test` installs fails to import there, as it would after `make run` in a fresh clone.
_BLOCKER = """
import os, sys
BLOCKED = set(os.environ["DEV_ONLY_MODULES"].split(","))
class DevOnly:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in BLOCKED:
            raise ImportError(f"{name} is not in requirements-run.txt (make run)")
sys.meta_path.insert(0, DevOnly())
"""


def test_the_local_stack_runs_on_make_runs_packages_only(tmp_path: Path):
    run_set = set(pins(ROOT / "requirements-run.txt"))
    dev_only = set(pins(ROOT / "requirements-dev.txt")) - run_set
    modules = {
        module
        for module, distributions in importlib.metadata.packages_distributions().items()
        if {canonical(d) for d in distributions} <= dev_only
    }
    assert {"cfnlint", "pytest", "sympy", "playwright"} <= modules  # what make run skips
    (tmp_path / "sitecustomize.py").write_text(_BLOCKER)
    environment = {"PYTHONPATH": str(tmp_path), "DEV_ONLY_MODULES": ",".join(sorted(modules))}
    with run_stack(env=environment) as stack:
        order_is_confirmed(stack)


def test_chalice_local_on_dev_without_credentials_says_what_to_run_instead(tmp_path: Path):
    line = readme_command("chalice local --stage dev")
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith("AWS_") or k == "AWS_CA_BUNDLE"
    }
    environment.update(
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{environment['PATH']}",
        AWS_CONFIG_FILE=str(tmp_path / "none"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"),
        AWS_EC2_METADATA_DISABLED="true",
    )
    result = subprocess.run(
        [*shlex.split(line), "--port", str(free_port())],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.stderr.strip().splitlines()[-1] == (
        "chalice local --stage dev serves stage dev's real AWS tables and found no AWS "
        "credentials: for the local stack run chalice local --stage local"
    )
    assert "Serving on" not in result.stdout  # it stopped before serving anything
