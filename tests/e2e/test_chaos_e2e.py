"""Chaos over HTTP: a burst of mixed traffic while the emulator throttles 20 % of calls.

The stack runs with ``CHAOS_THROTTLE_RATE=0.2`` (devstack/chaos.py): DynamoDB and SNS
answer one call in five with their throttling errors, and botocore retries as it would
on AWS. Clients retry 503s as docs/faults.md tells them to: after ``Retry-After``, with
the same ``Idempotency-Key``. At the end, after the sweep, nothing is lost or doubled.
"""

from __future__ import annotations

import collections
import json
import os
import random
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from typing import Any

import pytest

from tests.e2e.conftest import INHERITED_TEST_SETTINGS, ROOT, RunningStack
from tests.factories import DELIVERY

CHAOS_RATE = "0.2"
WORKERS = 4
OPERATIONS_PER_WORKER = 20
STARTING_STOCK = 500
PRODUCTS = 3
MAX_TRIES = 10

# Runs the app's own sweep against the stack's emulator, as the schedule would (with a
# clock past the grace period), until no event is left unacknowledged. A throttled sweep
# stops early by design; the next round picks up the rest.
SWEEP_SCRIPT = """
import json
from datetime import UTC, datetime, timedelta
from chalicelib import order_lifecycle, publisher
from chalicelib.models import Order

later = datetime.now(UTC) + timedelta(hours=1)
republished, left = 0, None
for rounds in range(1, 41):
    republished += publisher.republish_unannounced(now=later)
    try:
        left = sum(
            Order.unannounced.count(partition)
            for kind in order_lifecycle.EVENT_TYPES
            for partition in publisher.unannounced_partitions(kind)
        )
    except Exception:
        continue  # the count was throttled too; sweep again
    if left == 0:
        break
print(json.dumps({"rounds": rounds, "republished": republished, "left": left}))
"""


class Tally:
    """Every answer the clients saw, across threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.statuses: collections.Counter[int] = collections.Counter()
        self.busy_without_retry_after = 0
        self.retried = 0

    def record(self, status: int, headers: dict[str, str]) -> None:
        with self.lock:
            self.statuses[status] += 1
            if status == 503 and "retry-after" not in headers:
                self.busy_without_retry_after += 1


class RetryingClient:
    """JSON over HTTP; a 503 is retried after Retry-After with the very same request."""

    def __init__(self, base_url: str, tally: Tally) -> None:
        self.base_url = base_url
        self.tally = tally
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def once(
        self, method: str, path: str, body: Any, headers: dict[str, str]
    ) -> tuple[int, dict[str, str], Any]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.base_url + path, data=data, headers=headers, method=method
        )
        try:
            with self.opener.open(request, timeout=60) as response:
                status, answer_headers, raw = response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            status, answer_headers, raw = error.code, error.headers, error.read()
        lowered = {k.lower(): v for k, v in answer_headers.items()}
        self.tally.record(status, lowered)
        return status, lowered, json.loads(raw) if raw else None

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        token: str | None = None,
        key: str | None = None,
    ) -> tuple[int, Any]:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if key:
            headers["Idempotency-Key"] = key
        for _attempt in range(MAX_TRIES):
            status, answer_headers, parsed = self.once(method, path, body, headers)
            if status != 503:
                return status, parsed
            with self.tally.lock:
                self.tally.retried += 1
            time.sleep(min(float(answer_headers.get("retry-after", "1")), 1.0))
        return status, parsed


def chaos_state(stack: RunningStack) -> dict[str, Any]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    url = f"http://127.0.0.1:{stack.moto_port}/_devstack/chaos"
    with opener.open(url, timeout=10) as response:
        return dict(json.loads(response.read()))


def run_sweep(stack: RunningStack) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if k not in INHERITED_TEST_SETTINGS}
    env.update(
        {
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{stack.moto_port}",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "APP_NAME": "shop",
            "APP_STAGE": "local",
            "NO_PROXY": "127.0.0.1,localhost",
        }
    )
    done = subprocess.run(
        [sys.executable, "-c", SWEEP_SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def all_orders(client: RetryingClient, admin: str) -> list[dict[str, Any]]:
    orders: list[dict[str, Any]] = []
    cursor = None
    while True:
        path = "/orders?limit=100" + (f"&cursor={cursor}" if cursor else "")
        status, page = client.call("GET", path, token=admin)
        assert status == 200, page
        orders += page["items"]
        cursor = page["nextCursor"]
        if not cursor:
            return orders


@pytest.fixture(scope="module")
def chaos_stack(stack_launcher: Any) -> Any:
    with stack_launcher(env={"CHAOS_THROTTLE_RATE": CHAOS_RATE}) as running:
        yield running


def test_a_burst_under_20_percent_throttling_loses_and_doubles_nothing(
    chaos_stack: RunningStack,
) -> None:
    tally = Tally()
    client = RetryingClient(chaos_stack.url, tally)
    assert chaos_state(chaos_stack)["rate"] == float(CHAOS_RATE)

    status, login = client.call(
        "POST",
        "/users/login",
        {"email": chaos_stack.admin_email, "password": chaos_stack.admin_password},
    )
    assert status == 200, login
    admin = login["token"]
    products = []
    for n in range(PRODUCTS):
        body = {"name": f"Chaos {n}", "price": "2.5", "stock": STARTING_STOCK}
        status, product = client.call("POST", "/products", body, token=admin)
        assert status == 201, product
        products.append(product["productId"])
    customers = []
    for n in range(WORKERS):
        email = f"chaos-{uuid.uuid4().hex[:8]}@example.com"
        body = {"email": email, "name": f"Chaos {n}", "password": "correct-horse"}
        status, created = client.call("POST", "/users/register", body)
        assert status == 201, created  # a retried registration never finds itself taken
        status, session = client.call(
            "POST", "/users/login", {"email": email, "password": "correct-horse"}
        )
        assert status == 200, session
        customers.append(session["token"])

    accepted: dict[str, dict[str, int]] = {}  # orderId -> quantities
    cancelled: set[str] = set()
    unexpected: list[tuple[str, int, Any]] = []
    record = threading.Lock()

    def worker(index: int) -> None:
        rng = random.Random(index)
        token = customers[index]
        mine: list[str] = []
        for step in range(OPERATIONS_PER_WORKER):
            roll = rng.random()
            if roll < 0.5 or not mine:
                lines = {pid: rng.randint(1, 3) for pid in rng.sample(products, rng.randint(1, 2))}
                body = {
                    "items": [{"productId": p, "quantity": q} for p, q in lines.items()],
                    **DELIVERY,
                }
                status, order = client.call(
                    "POST", "/orders", body, token=token, key=f"w{index}-s{step}"
                )
                if status == 201:
                    with record:
                        accepted[order["orderId"]] = lines
                    mine.append(order["orderId"])
                    continue
            elif roll < 0.65:
                status, order = client.call("GET", "/products?limit=5")
            elif roll < 0.75:
                status, order = client.call("GET", f"/products/{rng.choice(products)}")
            elif roll < 0.85:
                status, order = client.call("GET", "/orders?limit=5", token=token)
            elif roll < 0.95:
                status, order = client.call("GET", f"/orders/{rng.choice(mine)}", token=token)
            else:
                target = mine.pop(rng.randrange(len(mine)))
                status, order = client.call("POST", f"/orders/{target}/cancel", token=token)
                if status == 200:
                    with record:
                        cancelled.add(target)
                    continue
            if status != 200:
                with record:
                    unexpected.append((f"step {step}", status, order))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    sweep = run_sweep(chaos_stack)
    state = chaos_state(chaos_stack)
    orders = all_orders(client, admin)
    print(
        "\nchaos:",
        json.dumps(
            {
                "statuses": dict(tally.statuses),
                "retried503": tally.retried,
                "accepted": len(accepted),
                "cancelled": len(cancelled),
                "sweep": sweep,
                "injected": state["injected"],
                "seen": state["seen"],
            },
            sort_keys=True,
        ),
    )

    assert tally.statuses[500] == 0
    assert not [s for s in tally.statuses if s >= 500 and s != 503]
    assert tally.busy_without_retry_after == 0
    assert unexpected == []  # every request got through within MAX_TRIES
    assert sum(state["injected"].values()) > 0  # chaos did happen
    assert any(key.startswith("dynamodb") for key in state["injected"])
    assert sweep["left"] == 0

    # Every accepted order exists exactly once, and no other order does.
    ids = [o["orderId"] for o in orders]
    assert len(ids) == len(set(ids))
    assert set(ids) == set(accepted)
    for order in orders:
        expected = "CANCELLED" if order["orderId"] in cancelled else "CONFIRMED"
        assert order["status"] == expected, order
        assert {i["productId"]: i["quantity"] for i in order["items"]} == accepted[order["orderId"]]

    # Stock plus units sold equals the starting stock, for every product.
    for product_id in products:
        status, product = client.call("GET", f"/products/{product_id}")
        assert status == 200
        sold = sum(
            lines.get(product_id, 0) for oid, lines in accepted.items() if oid not in cancelled
        )
        assert product["stock"] + sold == STARTING_STOCK, (product_id, product["stock"], sold)
