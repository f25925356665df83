"""schemathesis, driven by ``/openapi.json``, against the local stack over HTTP.

Every phase (examples, coverage, fuzzing, stateful) and every check, configured in
``schemathesis.toml``: no 5xx, every answer documented, no schema-valid request refused
beyond what the document declares. ``make test`` runs a bounded pass with a fixed seed;
``make fuzz`` sets ``SCHEMATHESIS_MAX_EXAMPLES`` (and a fresh seed) for a deep one.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HOOKS = Path(__file__).with_name("schemathesis_hooks.py")
MAX_EXAMPLES = os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "3")
SEED = os.environ.get("SCHEMATHESIS_SEED", "20261130")


def test_schemathesis_finds_nothing(stack, admin, tmp_path):
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
        "junit",
        "--report-dir",
        str(tmp_path),
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
