"""``make load`` (scripts/load.py + Locust) for a few seconds against the local stack."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_short_load_run_reports_every_route_and_cleans_up(stack, http):
    before = {p["productId"] for p in http.get("/products?limit=100").body["items"]}
    result = subprocess.run(
        [
            sys.executable, "-m", "scripts.load", "--url", stack.url, "--users", "3",
            "--duration", "6s", "--admin-email", stack.admin_email,
            "--admin-password", stack.admin_password,
        ],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    # Locust's summary: per-route rows (every shopper signs up, signs in and deletes itself;
    # the other tasks are drawn at random), the aggregate, and the percentile table.
    for route in ("/users/register", "/users/login", "/users/{userId}"):
        assert f" {route} " in output, output
    [aggregate] = [line for line in output.splitlines() if "Aggregated" in line][:1]
    assert " 0(0.00%) " in aggregate, output  # no failed request
    assert "Response time percentiles" in output, output
    assert "cleaned up 5 product(s)" in output
    after = {p["productId"] for p in http.get("/products?limit=100").body["items"]}
    assert after == before
