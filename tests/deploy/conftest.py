"""Deployment fixtures: one ``chalice package`` per stage and Chalice's own deploy plan.

Both run Chalice in a subprocess: importing the app for a stage sets that stage's
environment, which must not leak into the test process. Stage dev is packaged by the
``chalice package`` line README.md shows, typed in a fresh copy of the project.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
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


# What a clone of the repository holds that the Chalice commands need (no git-ignored files).
CHECKOUT = ("app.py", "chalicelib", "scripts", "infra", "requirements.txt", ".chalice")
CHECKOUT_IGNORED = shutil.ignore_patterns("__pycache__", "deployed", "deployments")
README = PROJECT_DIR / "README.md"


def checkout(root: Path, name: str) -> Path:
    """A fresh clone: the tracked files deploying needs, no ``.chalice/deployed``."""
    target = root / name
    for entry in CHECKOUT:
        source = PROJECT_DIR / entry
        if source.is_dir():
            shutil.copytree(source, target / entry, ignore=CHECKOUT_IGNORED)
        else:
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / entry)
    return target


def readme_command(start: str) -> str:
    """The one command line README.md shows that starts with ``start`` (comment dropped)."""
    lines = [
        line.split("  #")[0].strip()
        for line in README.read_text().splitlines()
        if line.startswith(start)
    ]
    assert len(lines) == 1, f"README.md should show one `{start}` line: {lines}"
    return lines[0]


def typed(line: str, where: Path, environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``line`` as a user types it in ``where``, with this venv's ``chalice`` on PATH."""
    path = f"{Path(sys.executable).parent}{os.pathsep}{environment.get('PATH', '')}"
    return subprocess.run(
        shlex.split(line),
        cwd=where,
        env={**environment, "PATH": path},
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


def pins(lock: Path) -> dict[str, str]:
    """``name: version`` of every package a compiled lock pins (names normalised)."""
    found = re.findall(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", lock.read_text(), re.M)
    return {canonical(name): version for name, version in found}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


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


PACKAGE_LINE = "chalice package --stage dev"


@dataclass(frozen=True)
class Typed:
    """A command line typed in a clone: what it printed, and the clone."""

    result: subprocess.CompletedProcess[str]
    clone: Path


@pytest.fixture(scope="session")
def packaged_by_chalice(tmp_path_factory: pytest.TempPathFactory) -> Typed:
    """README's ``chalice package --stage dev OUT``, typed in a fresh clone: once per run,
    also under pytest-xdist (the first worker types it, the others read what it printed)."""
    shared = run_directory(tmp_path_factory)
    clone, printed = shared / "clone" / "package", shared / "packaged_by_chalice.json"
    with _exclusive(shared / "packaged.lock"):
        if not printed.exists():
            checkout(shared / "clone", "package")
            result = typed(readme_command(PACKAGE_LINE), clone, aws_environment())
            printed.write_text(
                json.dumps([result.args, result.returncode, result.stdout, result.stderr])
            )
    args, returncode, stdout, stderr = json.loads(printed.read_text())
    return Typed(subprocess.CompletedProcess(args, returncode, stdout, stderr), clone)


@pytest.fixture(scope="session")
def packaged(
    tmp_path_factory: pytest.TempPathFactory, packaged_by_chalice: Typed
) -> dict[str, Path]:
    """Output per AWS stage (sam.json, deployment.zip, layer-deployment.zip): dev's from
    README's ``chalice package`` line, the others from ``make package``'s function.

    Packaged once per run, also when pytest-xdist runs the suite in several processes:
    ``chalice package`` keeps its dependency cache in this checkout's
    ``.chalice/deployments/``, which two runs at once would corrupt. So the first worker
    to get here packages into the run's shared temporary directory; the others wait for
    it and read its output (which the tests only read).
    """
    result = packaged_by_chalice.result
    assert result.returncode == 0, result.stdout + result.stderr
    out = packaged_by_chalice.clone / shlex.split(readme_command(PACKAGE_LINE))[-1]
    shared = run_directory(tmp_path_factory)
    root, done = shared / "packaged", shared / "packaged.done"
    with _exclusive(shared / "packaged.lock"):
        if not done.exists():
            for stage in aws_stages():
                if stage != "dev":
                    package(stage, root / stage)
            done.write_text("")
    return {stage: out if stage == "dev" else root / stage for stage in aws_stages()}


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
