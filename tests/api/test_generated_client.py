"""The Python client generated from /openapi.json (openapi-python-client, pinned in
requirements-dev.txt) is committed under tests/e2e/shop_client, and is what the document
generates now. ``tests/e2e/test_generated_client_e2e.py`` runs the shop through it.

Regenerate it with ``make client`` (``WRITE_CLIENT=1`` on this test).
"""

from __future__ import annotations

import filecmp
import os
import shutil
import subprocess
import sys
from pathlib import Path

from app import OPERATIONS
from chalicelib import openapi

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "tests" / "e2e" / "shop_client"
CONFIG = ROOT / "tools" / "openapi-python-client.yaml"
BIN = Path(sys.executable).parent


def generate(work: Path) -> Path:
    """Generate the client from the built document into ``work``; the package's path."""
    document = work / "openapi.json"
    document.write_text(openapi.as_text(openapi.document(OPERATIONS)), encoding="utf-8")
    output = work / "shop_client"
    run = subprocess.run(
        [
            str(BIN / "openapi-python-client"),
            "generate",
            "--path",
            str(document),
            "--config",
            str(CONFIG),
            "--meta",
            "none",
            "--fail-on-warning",
            "--output-path",
            str(output),
        ],
        cwd=work,  # outside the repository: ruff's post-hooks use their defaults, not ours
        env={**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    shutil.rmtree(output / ".ruff_cache", ignore_errors=True)  # the post-hooks' cache
    for cache in output.rglob("__pycache__"):
        shutil.rmtree(cache)
    return output


def _files(root: Path) -> set[str]:
    return {
        str(p.relative_to(root))
        for p in root.rglob("*")
        if p.is_file() and not {"__pycache__", ".ruff_cache"} & set(p.parts)
    }


def differences(expected: Path, actual: Path) -> list[str]:
    names = _files(expected) | _files(actual)
    return sorted(
        name
        for name in names
        if not (expected / name).is_file()
        or not (actual / name).is_file()
        or not filecmp.cmp(expected / name, actual / name, shallow=False)
    )


def test_the_committed_client_is_generated_from_the_document(tmp_path):
    generated = generate(tmp_path)
    if os.environ.get("WRITE_CLIENT") == "1":
        shutil.rmtree(COMMITTED, ignore_errors=True)
        shutil.copytree(generated, COMMITTED)
    changed = differences(generated, COMMITTED)
    assert not changed, (
        "tests/e2e/shop_client is not what /openapi.json generates now; regenerate it with"
        f" `make client` and commit the result. Files that differ: {changed}"
    )


def test_the_comparison_sees_a_changed_file(tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(COMMITTED, copy, ignore=shutil.ignore_patterns("__pycache__"))
    assert differences(COMMITTED, copy) == []
    (copy / "client.py").write_text("# edited by hand\n")
    (copy / "extra.py").write_text("")
    assert differences(COMMITTED, copy) == ["client.py", "extra.py"]
