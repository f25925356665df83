"""``make load URL=... [USERS=20] [DURATION=60s]``: a Locust load test of a running stage.

Creates a few products as the admin (like ``make smoke``: ``SMOKE_ADMIN_EMAIL`` and
``SMOKE_ADMIN_PASSWORD``, locally the seeded admin), runs the shop mix of
``scripts/locustfile.py`` headless for the duration, prints Locust's table (requests,
failures, latency percentiles and requests/s per route), then deletes the products; each
simulated user deleted its own account when it stopped. Orders stay, cancelled or not,
under deleted users, as with ``make smoke``. Exit status: Locust's (1 if any request
failed).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import uuid
from pathlib import Path

from scripts.http_client import JsonClient, UrllibTransport
from scripts.smoke import DEFAULT_ADMIN_EMAIL, DEFAULT_LOCAL_ADMIN_PASSWORD, DEFAULT_URL

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
PRODUCTS = 5


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="make load", description=__doc__)
    parser.add_argument("--url", default="", help=f"base URL (default: {DEFAULT_URL})")
    parser.add_argument("--users", type=int, default=20, help="concurrent simulated shoppers")
    parser.add_argument("--duration", default="60s", help="Locust run time, e.g. 30s, 5m")
    parser.add_argument(
        "--admin-email", default=os.environ.get("SMOKE_ADMIN_EMAIL", DEFAULT_ADMIN_EMAIL)
    )
    parser.add_argument(
        "--admin-password",
        default=os.environ.get(
            "SMOKE_ADMIN_PASSWORD",
            os.environ.get("LOCAL_ADMIN_PASSWORD", DEFAULT_LOCAL_ADMIN_PASSWORD),
        ),
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    url = (args.url or DEFAULT_URL).rstrip("/")
    if args.users < 1:
        print("USERS must be at least 1", file=sys.stderr)
        return 2
    api = JsonClient(UrllibTransport(url, timeout=30))
    login = api.post("/users/login", {"email": args.admin_email, "password": args.admin_password})
    if login.status != 200:
        print(
            f"admin login failed ({login.status}): set SMOKE_ADMIN_EMAIL/PASSWORD", file=sys.stderr
        )
        return 2
    admin = login.body["token"]
    run_id = uuid.uuid4().hex[:8]
    product_ids: list[str] = []
    try:
        for i in range(PRODUCTS):
            created = api.post(
                "/products",
                {"name": f"load-{run_id}-{i}", "price": "1.25", "stock": 1_000_000},
                token=admin,
            )
            if created.status != 201:
                print(
                    f"creating a product failed ({created.status}): {created.body}", file=sys.stderr
                )
                return 2
            product_ids.append(created.body["productId"])
        env = {**os.environ, "LOAD_PRODUCT_IDS": ",".join(product_ids), "LOAD_RUN_ID": run_id}
        command = [
            sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
            "--host", url, "--users", str(args.users), "--spawn-rate", str(args.users),
            "--run-time", args.duration, "--stop-timeout", "10", "--only-summary",
        ]  # fmt: skip
        print(f"load: {args.users} users for {args.duration} against {url}", flush=True)
        return subprocess.run(command, env=env, check=False).returncode
    finally:
        for product_id in product_ids:
            api.delete(f"/products/{product_id}", token=admin)
        print(f"load: cleaned up {len(product_ids)} product(s) and every simulated user")


if __name__ == "__main__":
    sys.exit(main())
