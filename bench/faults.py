"""``python -m bench.faults``: the worst time a request takes when AWS misbehaves.

Every route class runs through the Lambda handler (``chalice.test.Client``) against the
local stack's emulator, with faults injected *at the emulator* (devstack/chaos.py), so
botocore's real retries, backoff and connect/read timeouts are what is measured:

* ``throttled``: every DynamoDB, SNS and Secrets Manager call is throttled;
* ``stalled``: every call answers after longer than the read timeout;
* ``slow+throttled``: half the calls throttled, every call just under the read timeout.

The signing key is fetched from Secrets Manager before every request (a cold start).
Prints one line per scenario and route: the slowest of ``--runs`` and the statuses seen.
A measurement for docs/faults.md, not a test: the numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import time
from collections.abc import Callable
from typing import Any

from scripts.smoke import SHIP_TO

REGION = "us-east-1"
SECRET_ID = "shop/faults/token-signing"


def _environment(endpoint_url: str) -> None:
    for name in list(os.environ):
        if name.startswith("AWS_ENDPOINT_URL") or name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
            del os.environ[name]
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ENDPOINT_URL": endpoint_url,
            "APP_NAME": "shop",
            "APP_STAGE": "faults",
            "RATES_STAGE": "local",
            "TOKEN_SECRET_ID": SECRET_ID,
            "LOG_LEVEL": "CRITICAL",
            "NO_PROXY": "127.0.0.1,localhost",
        }
    )
    os.environ.pop("TOKEN_SECRET", None)


class Shop:
    def __init__(self, client: Any) -> None:
        self.client = client

    def call(
        self, method: str, path: str, body: Any = None, token: str | None = None
    ) -> tuple[int, Any]:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        payload = json.dumps(body) if body is not None else b""
        # The app prints its EMF metrics to stdout; keep this report readable.
        with contextlib.redirect_stdout(io.StringIO()):
            response = self.client.http.request(method, path, body=payload, headers=headers)
        return response.status_code, json.loads(response.body) if response.body else None


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.faults", description=__doc__)
    parser.add_argument("--runs", type=int, default=2, help="runs per route and scenario")
    args = parser.parse_args()

    import logging
    import warnings

    logging.disable(logging.CRITICAL)
    warnings.filterwarnings("ignore")
    from devstack.emulator import Emulator
    from devstack.resources import create_resources

    with Emulator() as emulator:
        _environment(emulator.endpoint_url)
        create_resources("faults", region=REGION)
        import boto3

        boto3.client("secretsmanager", region_name=REGION).create_secret(
            Name=SECRET_ID, SecretString="bench-faults-signing-key"
        )
        from chalice.test import Client

        from app import app
        from chalicelib import auth
        from chalicelib.config import get_settings
        from chalicelib.users import ensure_admin

        settings = get_settings()
        print(
            f"SDK: standard retries, {settings.sdk_max_attempts} attempts, "
            f"connect {settings.sdk_connect_timeout_seconds:g} s, "
            f"read {settings.sdk_read_timeout_seconds:g} s; "
            f"request budget {settings.request_budget_seconds:g} s",
            flush=True,
        )
        ensure_admin("admin@example.com", "faults-admin-pw")
        with Client(app) as client:
            shop = Shop(client)
            credentials = {"email": "admin@example.com", "password": "faults-admin-pw"}
            _, login = shop.call("POST", "/users/login", credentials)
            admin, admin_id = login["token"], login["userId"]
            _, product = shop.call(
                "POST", "/products", {"name": "P", "price": "1.50", "stock": 1_000_000}, admin
            )
            product_id = product["productId"]
            order_body = {
                "items": [{"productId": product_id, "quantity": 1}],
                "shippingAddress": SHIP_TO,
            }

            def fresh_order() -> str:
                _, order = shop.call("POST", "/orders", order_body, admin)
                return str(order["orderId"])

            Route = tuple[str, Callable[[], str] | None, Callable[[str], tuple[int, Any]]]
            routes: list[Route] = [
                (
                    "read GET /products/{id}",
                    None,
                    lambda _: shop.call("GET", f"/products/{product_id}"),
                ),
                ("list GET /products", None, lambda _: shop.call("GET", "/products")),
                (
                    "login POST /users/login",
                    None,
                    lambda _: shop.call("POST", "/users/login", credentials),
                ),
                (
                    "authenticated GET /users/{id}",
                    None,
                    lambda _: shop.call("GET", f"/users/{admin_id}", token=admin),
                ),
                (
                    "transaction+publish POST /orders",
                    None,
                    lambda _: shop.call("POST", "/orders", order_body, admin),
                ),
                (
                    "cancel POST /orders/{id}/cancel",
                    fresh_order,
                    lambda oid: shop.call("POST", f"/orders/{oid}/cancel", token=admin),
                ),
            ]
            read = settings.sdk_read_timeout_seconds
            scenarios = [
                ("throttled", 1.0, 0.0),
                ("stalled", 0.0, read + 0.5),
                ("slow+throttled", 0.5, read - 0.1),
            ]
            worst = 0.0
            for scenario, rate, delay in scenarios:
                for name, prepare, run in routes:
                    slowest, statuses = 0.0, []
                    for _ in range(args.runs):
                        emulator.chaos.rate, emulator.chaos.delay = 0.0, 0.0
                        argument = prepare() if prepare else ""
                        auth.signing_keys.keys.clear()  # a cold start: fetch the key again
                        emulator.chaos.rate, emulator.chaos.delay = rate, delay
                        started = time.perf_counter()
                        status, _ = run(argument)
                        elapsed = time.perf_counter() - started
                        slowest = max(slowest, elapsed)
                        statuses.append(status)
                    emulator.chaos.rate, emulator.chaos.delay = 0.0, 0.0
                    # Let the emulator's stalled threads finish before the next route.
                    time.sleep(delay)
                    worst = max(worst, slowest)
                    print(
                        f"{scenario:15} {name:36} worst {slowest:6.2f} s  statuses {statuses}",
                        flush=True,
                    )
            print(f"worst case over all routes and scenarios: {worst:.2f} s", flush=True)


if __name__ == "__main__":
    main()
