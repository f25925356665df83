"""The document as served passes the standard validator command and Redocly's recommended
lint rules, with no error and no warning.

Both read the bytes ``GET /openapi.json`` answers, saved to a file as a consumer would.
openapi-spec-validator is pinned in requirements-dev.txt; @redocly/cli in
tools/redocly/package-lock.json (``make install`` runs ``npm ci`` there).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REDOCLY_DIR = ROOT / "tools" / "redocly"
REDOCLY = REDOCLY_DIR / "node_modules" / ".bin" / "redocly"


@pytest.fixture
def served(api, tmp_path: Path) -> Path:
    reply = api.client.http.get("/openapi.json")
    assert reply.status_code == 200
    saved = tmp_path / "openapi.json"
    saved.write_bytes(reply.body)
    return saved


def test_the_served_document_passes_openapi_spec_validator(served: Path):
    command = Path(sys.executable).with_name("openapi-spec-validator")
    run = subprocess.run([str(command), str(served)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.strip().endswith("OK"), run.stdout


def test_the_served_document_passes_redocly_lint_without_errors_or_warnings(served: Path):
    assert shutil.which("node"), "Node.js is needed for Redocly (node 20 or later)"
    assert REDOCLY.exists(), (
        "Redocly is not installed: run `make install` (npm ci in tools/redocly)"
    )
    run = subprocess.run(
        [
            str(REDOCLY),
            "lint",
            str(served),
            "--config",
            str(REDOCLY_DIR / "redocly.yaml"),
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true"},
    )
    report = json.loads(run.stdout[run.stdout.index("{") :])
    problems = [f"{p['severity']} {p['ruleId']}: {p['message']}" for p in report["problems"]]
    assert report["totals"]["errors"] == report["totals"]["warnings"] == 0, "\n".join(problems)
    assert run.returncode == 0, run.stderr
