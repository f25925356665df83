"""schemathesis, driven by ``/openapi.json``, against the local stack over HTTP.

Every phase (examples, coverage, fuzzing, stateful) and every check, configured in
``schemathesis.toml``: no 5xx, every answer documented, no schema-valid request refused
beyond what the document declares. ``make test`` runs a bounded pass with a fixed seed;
``make fuzz`` sets ``SCHEMATHESIS_MAX_EXAMPLES`` (and a fresh seed) for a deep one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.e2e.conftest import RunningStack
from tests.e2e.schemathesis_hooks import HOSTILE_CURSORS

ROOT = Path(__file__).resolve().parents[2]
HOOKS = Path(__file__).with_name("schemathesis_hooks.py")
MAX_EXAMPLES = os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "3")
SEED = os.environ.get("SCHEMATHESIS_SEED", "20261130")


@pytest.fixture(scope="module")
def fuzzed_stack(stack_launcher) -> Iterator[RunningStack]:
    """A stack of its own: the fuzzer fills the catalogue and the users with whatever it
    generates (names that sort before any other test's), which no other test should page
    through (a browser test once looked for its product on a page of fuzzed names)."""
    with stack_launcher() as running:
        yield running


def test_schemathesis_finds_nothing(fuzzed_stack):
    admin = fuzzed_stack.client().login(fuzzed_stack.admin_email, fuzzed_stack.admin_password)
    # Its own directory: pytest prunes old tmp_path directories when other sessions start.
    with tempfile.TemporaryDirectory(prefix="schemathesis-") as reports:
        _run_and_check(fuzzed_stack, admin.token, Path(reports))


def _run_and_check(stack, admin, reports: Path) -> None:
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "run",
        f"{stack.url}/openapi.json",
        "--header",
        f"Authorization: Bearer {admin}",
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--checks",
        "all",
        # See schemathesis.toml: API Gateway answers undefined methods with 403, not 405.
        "--exclude-checks",
        "unsupported_method",
        "--max-examples",
        MAX_EXAMPLES,
        "--workers",
        "1",
        "--no-shrink",
        "--report",
        "junit,har",
        "--report-dir",
        str(reports),
    ]
    if SEED:
        command += ["--seed", SEED]
    run = subprocess.run(
        command,
        cwd=ROOT,  # schemathesis.toml
        capture_output=True,
        text=True,
        timeout=3000,
        # Cursor fuzzing: hostile cursors on every listing (tests/e2e/schemathesis_hooks.py).
        env={**os.environ, "NO_COLOR": "1", "SCHEMATHESIS_HOOKS": str(HOOKS)},
    )
    summary = run.stdout[-6000:]
    assert run.returncode == 0, f"{summary}\n{run.stderr[-2000:]}"
    for phase in ("Coverage", "Fuzzing", "Stateful"):
        assert f"✅ {phase}" in summary, summary
    # Cursor fuzzing was on: every listing got hostile cursors (and answered without a 5xx).
    sent = [
        urlsplit(entry["request"]["url"])
        for har in reports.glob("har-*.json")
        for entry in json.loads(har.read_text())["log"]["entries"]
    ]
    for listing in ("/products", "/orders", "/users"):
        assert any(
            url.path.endswith(listing)
            and set(parse_qs(url.query).get("cursor", [])) & set(HOSTILE_CURSORS)
            for url in sent
        ), f"no hostile cursor reached GET {listing}"
