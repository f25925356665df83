"""End-to-end fixtures: the real local stack (``python -m devstack``) over real HTTP.

Every test under ``tests/e2e`` is marked ``e2e`` automatically, so ``-m "not e2e"``
skips the ones that start subprocesses.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.factories import ShopClient

ROOT = Path(__file__).resolve().parents[2]
E2E_DIR = Path(__file__).resolve().parent
READY_PREFIX = "devstack ready: "
START_TIMEOUT_SECONDS = 60
STOP_TIMEOUT_SECONDS = 5
ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "localadmin"
# tests/conftest.py configures this process for the unit tests; the stack must choose
# its own stage names, topic ARN and secret, as it does on a laptop.
INHERITED_TEST_SETTINGS = (
    "APP_STAGE",
    "USERS_TABLE",
    "PRODUCTS_TABLE",
    "ORDERS_TABLE",
    "ORDER_EVENTS_TOPIC",
    "ORDER_EVENTS_TOPIC_ARN",
    "TOKEN_SECRET",
    "TOKEN_SECRET_ID",
    "TOKEN_TTL_SECONDS",
    "LOCAL_ADMIN_PASSWORD",
)


# The browser tests drive Debian's Chromium (no browser download) through Playwright's
# Python package, launched with that executable: `playwright install` is never needed.
CHROMIUM_NAMES = ("chromium", "chromium-browser")
INSTALL_CHROMIUM = (
    "browser tests need Chromium from the system's packages: "
    "sudo apt-get update && sudo apt-get install -y chromium (Debian/Ubuntu); "
    "CI (.ci/run) installs it itself"
)


def chromium_path() -> str | None:
    return next(filter(None, map(shutil.which, CHROMIUM_NAMES)), None)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if E2E_DIR in item.path.parents:
            item.add_marker(pytest.mark.e2e)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class RunningStack:
    url: str
    port: int
    moto_port: int
    admin_email: str
    admin_password: str
    process: subprocess.Popen[str]
    output: list[str] = field(default_factory=list)

    def output_text(self) -> str:
        return "".join(self.output)

    def client(self) -> ShopClient:
        """The shared JSON client (scripts/http_client.py) over real HTTP."""
        return ShopClient.for_url(self.url)


@contextlib.contextmanager
def run_stack(
    port: int | None = None,
    moto_port: int | None = None,
    env: dict[str, str] | None = None,
    command: list[str] | None = None,
) -> Iterator[RunningStack]:
    """Start ``python -m devstack``, wait for it to be ready, and stop it with SIGINT.

    Ports default to free ones; ``env`` adds environment variables. ``command`` replaces
    the command line (e.g. ``chalice local --stage local --port N``, with this venv on
    PATH); it runs in its own process group, which gets the SIGINT, as from a terminal.
    On leaving, asserts the stack exited on its own, promptly and with status 0.
    """
    port = port or free_port()
    moto_port = moto_port or free_port()
    child_env = {k: v for k, v in os.environ.items() if k not in INHERITED_TEST_SETTINGS}
    child_env.update(env or {})
    child_env["PYTHONUNBUFFERED"] = "1"  # its log reaches `output` as it happens
    if command is not None:
        child_env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{child_env['PATH']}"
    process = subprocess.Popen(
        command
        or [sys.executable, "-m", "devstack", "--port", str(port), "--moto-port", str(moto_port)],
        cwd=ROOT,
        env=child_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,  # one pipe, always drained: a full pipe would block it
        text=True,
        start_new_session=command is not None,
    )
    output: list[str] = []
    ready_url: list[str] = []
    ready = threading.Event()

    def drain() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            if line.startswith(READY_PREFIX):
                ready_url.append(line[len(READY_PREFIX) :].strip())
                ready.set()
        ready.set()  # EOF: the process died before becoming ready

    threading.Thread(target=drain, name="devstack-output", daemon=True).start()
    try:
        if not ready.wait(START_TIMEOUT_SECONDS) or not ready_url:
            raise RuntimeError(
                f"devstack did not become ready within {START_TIMEOUT_SECONDS}s:\n"
                + "".join(output)
            )
        yield RunningStack(
            ready_url[0], port, moto_port, ADMIN_EMAIL, ADMIN_PASSWORD, process, output
        )
    finally:
        returncode = stop(process, group=command is not None)
    assert returncode == 0, f"devstack exited with {returncode}:\n{''.join(output)}"


def stop(process: subprocess.Popen[str], group: bool = False) -> int | None:
    """SIGINT (to its process group with ``group``), as Ctrl-C would; kill (and fail) if it
    does not exit in time."""
    if process.poll() is not None:
        return process.returncode
    if group:
        os.killpg(process.pid, signal.SIGINT)
    else:
        process.send_signal(signal.SIGINT)
    started = time.monotonic()
    try:
        return process.wait(STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        if group:
            os.killpg(process.pid, signal.SIGKILL)
        process.kill()
        process.wait()
        pytest.fail(f"devstack still running {time.monotonic() - started:.1f}s after SIGINT")


@pytest.fixture(scope="session")
def stack() -> Iterator[RunningStack]:
    with run_stack() as running:
        yield running


@pytest.fixture(scope="session")
def stack_launcher() -> Callable[..., contextlib.AbstractContextManager[RunningStack]]:
    """``run_stack`` itself, for tests that need a stack of their own (e.g. to stop it)."""
    return run_stack


@pytest.fixture(scope="session")
def http(stack: RunningStack) -> ShopClient:
    return stack.client()


@pytest.fixture(scope="module")
def admin(stack: RunningStack, http: ShopClient) -> str:
    """A token of the seeded admin."""
    status, body = http.post(
        "/users/login", {"email": stack.admin_email, "password": stack.admin_password}
    )
    assert status == 200, body
    return body["token"]


def chromium_or_skip(executable: str | None, environ: Mapping[str, str]) -> str:
    """The browser to use; without one, skip the test, or fail it when ``CI=true``."""
    if executable is None:
        if environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true and Chromium is missing: {INSTALL_CHROMIUM}")
        pytest.skip(INSTALL_CHROMIUM)
    return executable


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """A headless Chromium; skipped (with how to install it) when absent, but never in CI.

    CI must run the browser tests: there, a missing browser fails the tests that need it.
    """
    executable = chromium_or_skip(chromium_path(), os.environ)
    from playwright.sync_api import sync_playwright

    # The sandbox cannot start as root (CI runs as root); nothing but our own page is loaded.
    args = ["--no-sandbox"] if os.geteuid() == 0 else []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=args)
        yield browser
        browser.close()
