"""Deployment fixtures: one ``chalice package`` per stage and Chalice's own deploy plan.

Both run Chalice in a subprocess: importing the app for a stage sets that stage's
environment, which must not leak into the test process.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scripts.package import package
from scripts.project import PROJECT_DIR, aws_stages

# Chalice's view of what `chalice deploy --stage <stage>` creates for each function.
_PLAN = """
import json, sys
from chalice.cli.factory import CLIFactory
from chalice.deploy.appgraph import ApplicationGraphBuilder, DependencyBuilder
from chalice.deploy.models import FileBasedIAMPolicy, LambdaFunction

stage = sys.argv[1]
config = CLIFactory(".").create_config_obj(chalice_stage_name=stage)
graph = ApplicationGraphBuilder().build(config, stage)
functions = {}
for resource in DependencyBuilder().build_dependencies(graph):
    if isinstance(resource, LambdaFunction):
        policy = resource.role.policy
        functions[resource.resource_name] = {
            "function_name": resource.function_name,
            "policy_file": policy.filename if isinstance(policy, FileBasedIAMPolicy) else None,
            "xray": bool(resource.xray),
        }
print(json.dumps(functions))
"""


def aws_environment() -> dict[str, str]:
    """The test process's environment (fake credentials, see tests/conftest.py) and a region."""
    return {**os.environ, "AWS_DEFAULT_REGION": "us-east-1"}


@contextlib.contextmanager
def _exclusive(lock_file: Path) -> Iterator[None]:
    """Held by one process at a time (an OS file lock, released if the holder dies)."""
    with lock_file.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def run_directory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The temporary directory of this whole run: under pytest-xdist, the one above each
    worker's own, which every worker of the run shares."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session")
def packaged(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """``make package`` output per AWS stage: each directory has sam.json and deployment.zip.

    Packaged once per run, also when pytest-xdist runs the suite in several processes:
    ``chalice package`` keeps its dependency cache in this checkout's
    ``.chalice/deployments/``, which two runs at once would corrupt. So the first worker
    to get here packages into the run's shared temporary directory; the others wait for
    it and read its output (which the tests only read).
    """
    shared = run_directory(tmp_path_factory)
    root, done = shared / "packaged", shared / "packaged.done"
    with _exclusive(shared / "packaged.lock"):
        if not done.exists():
            for stage in aws_stages():
                package(stage, root / stage)
            done.write_text("")
    return {stage: root / stage for stage in aws_stages()}


@pytest.fixture(scope="session")
def sam(packaged: dict[str, Path]) -> dict[str, dict[str, Any]]:
    return {stage: json.loads((out / "sam.json").read_text()) for stage, out in packaged.items()}


@pytest.fixture(scope="session")
def chalice_plan(
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, dict[str, dict[str, Any]]]:
    """Per stage, per Chalice function: its deployed name, policy file and X-Ray setting.

    Asked of Chalice once per run (several seconds a stage), shared by the workers."""
    shared = run_directory(tmp_path_factory)
    plan_file = shared / "chalice-plan.json"
    with _exclusive(shared / "chalice-plan.lock"):
        if not plan_file.exists():
            plans = {}
            for stage in aws_stages():
                result = subprocess.run(
                    [sys.executable, "-c", _PLAN, stage],
                    cwd=PROJECT_DIR,
                    env=aws_environment(),
                    capture_output=True,
                    text=True,
                    check=True,
                )
                plans[stage] = json.loads(result.stdout)
            plan_file.write_text(json.dumps(plans))
    plan: dict[str, dict[str, dict[str, Any]]] = json.loads(plan_file.read_text())
    return plan
