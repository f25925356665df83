"""``scripts/smoke.py`` (``make smoke``) against the local stack, as a subprocess."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# " 7. POST   /products        201  OK    admin creates ..."
STEP_LINE = re.compile(
    r"^\s*\d+\. (?P<method>[A-Z]+)\s+(?P<path>/\S*)\s+(?P<status>\d+)\s+(?P<verdict>\S+)"
)


def run_smoke(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scripts.smoke", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def steps(output: str) -> list[re.Match[str]]:
    return [m for m in map(STEP_LINE.match, output.splitlines()) if m]


def test_the_smoke_script_walks_the_whole_api(stack, http):
    result = run_smoke(
        "--url",
        stack.url,
        "--admin-email",
        stack.admin_email,
        "--admin-password",
        stack.admin_password,
    )

    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    lines = steps(result.stdout)
    assert len(lines) >= 20, output
    assert [m["verdict"] for m in lines] == ["OK"] * len(lines), output
    walked = {(m["method"], re.sub(r"/[0-9a-f-]{36}", "/{id}", m["path"])) for m in lines}
    assert {
        ("GET", "/"),  # the web page loads
        ("GET", "/web/app.js"),
        ("POST", "/users/register"),
        ("POST", "/users/login"),
        ("POST", "/products"),
        ("POST", "/orders"),
        ("GET", "/orders"),
        ("GET", "/orders/{id}"),
        ("POST", "/orders/{id}/cancel"),
        ("DELETE", "/products/{id}"),
        ("DELETE", "/users/{id}"),
    } <= walked
    assert ("POST", "409") in {(m["method"], m["status"]) for m in lines}  # the second cancel
    assert result.stdout.rstrip().endswith(f"smoke: OK ({len(lines)} steps)")
    # It cleaned up: none of the products it created are left.
    deleted = [m["path"] for m in lines if m["method"] == "DELETE"]
    assert len([p for p in deleted if p.startswith("/products/")]) == 2, output
    for path in deleted:
        if path.startswith("/products/"):
            assert http.get(path)[0] == 404


def test_a_failed_step_fails_the_run_and_still_cleans_up(stack):
    result = run_smoke("--url", stack.url, "--admin-password", "not-the-admin-password")

    assert result.returncode == 1, result.stdout + result.stderr
    lines = steps(result.stdout)
    failed = [m for m in lines if m["verdict"] != "OK"]
    assert [(m["path"], m["status"], m["verdict"]) for m in failed] == [
        ("/users/login", "401", "FAIL")
    ]
    # The response body is shown, then the customer it registered is deleted.
    assert '"code": "Unauthorized"' in result.stdout
    assert ("DELETE", "204", "OK") in {(m["method"], m["status"], m["verdict"]) for m in lines}
    assert "smoke: FAILED (1 of" in result.stdout
