"""``make bench``: what each request costs, counted and timed; writes docs/benchmark.md.

Counts (AWS calls, items read) do not depend on the machine. Latencies are
measured in-process through the Lambda handler (``chalice.test.Client``) against
moto with a fixed emulated round trip added to every AWS call (DynamoDB, SNS,
...), so they reflect round trips and code rather than the emulator.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from scripts.smoke import SHIP_TO

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "benchmark.md"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"
ROUND_TRIP_S = 0.005
# The emulator holds every order, its index entries and its orders-stream records in
# memory, and deep-copies a table for each item of a transaction that writes to it (to
# roll it back): time and memory grow with every order written. The default (50 timed
# requests per operation, listings read at 1,000 and 5,000 orders) stays within a few
# minutes and under 2 GB; ``--at-scale`` (``make bench AT_SCALE=1``) times 200 requests
# per operation and reads the listings at 20,000 and 100,000 orders too: about 12 minutes
# and 14 GB of memory (docs/benchmark.md).
RUNS, AT_SCALE_RUNS = 50, 200
TABLE_SIZES = (1_000, 5_000)
AT_SCALE_TABLE_SIZES = (1_000, 20_000, 100_000)


def _environment() -> None:
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        os.environ.pop(name, None)
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_DEFAULT_REGION": "us-east-1",
            "APP_STAGE": "bench",
            "RATES_STAGE": "local",  # the local stage's shipping methods and tax rates
            "USERS_TABLE": "shop-bench-users",
            "PRODUCTS_TABLE": "shop-bench-products",
            "ORDERS_TABLE": "shop-bench-orders",
            "ORDER_EVENTS_TOPIC": "shop-bench-order-events",
            "ORDER_EVENTS_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:shop-bench-order-events",
            "TOKEN_SECRET": "bench-signing-key",
            "LOG_LEVEL": "WARNING",
            # moto answers a Query by scanning the whole index: at 100,000 orders one page
            # takes seconds of emulator time (subtracted from the timings), past the
            # request budget a real DynamoDB never comes near.
            "REQUEST_BUDGET_SECONDS": "600",
        }
    )


class Meter:
    """Wraps botocore: counts AWS calls and items read, adds the emulated round trip to each."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.items_read = 0
        self.delay = 0.0
        self.emulator_seconds = 0.0

    def install(self) -> None:
        from botocore.client import BaseClient

        original = BaseClient._make_api_call
        meter = self

        def metered(client, operation, params):
            started = time.perf_counter()
            result = original(client, operation, params)
            # moto's own time is not what we measure: it is replaced by the fixed round trip.
            meter.emulator_seconds += time.perf_counter() - started
            service = client.meta.service_model.service_name
            # DynamoDB calls by their name; any other service's with its prefix (sns:Publish).
            meter.calls.append(operation if service == "dynamodb" else f"{service}:{operation}")
            if service == "dynamodb":
                meter.items_read += _items_read(operation, result)
            if meter.delay:
                time.sleep(meter.delay)
            return result

        BaseClient._make_api_call = metered

    def reset(self) -> None:
        self.calls.clear()
        self.items_read = 0


def _items_read(operation: str, result: dict) -> int:
    if operation in ("Query", "Scan"):
        return result.get("ScannedCount", result.get("Count", 0))
    return 0


class Shop:
    """The app in-process, with helpers for the benchmarked operations."""

    def __init__(self, client) -> None:
        self.client = client

    def call(self, method: str, path: str, body=None, token=None, expect=200, headers=None):
        sent = {"Content-Type": "application/json", **(headers or {})}
        if token:
            sent["Authorization"] = f"Bearer {token}"
        payload = json.dumps(body) if body is not None else b""
        response = self.client.http.request(method, path, body=payload, headers=sent)
        if response.status_code != expect:
            raise AssertionError(f"{method} {path}: {response.status_code} {response.body!r}")
        return json.loads(response.body) if response.body else None


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _measure(meter: Meter, runs: int, operation: Callable[[int], object]) -> dict:
    _progress(f"measuring {runs} runs")
    meter.reset()
    operation(-1)  # warm-up, and the call count of one request
    calls = list(meter.calls)
    meter.delay = ROUND_TRIP_S
    timings = []
    for i in range(runs):
        meter.emulator_seconds = 0.0
        started = time.perf_counter()
        operation(i)
        timings.append((time.perf_counter() - started - meter.emulator_seconds) * 1000)
    meter.delay = 0.0
    return {
        "calls": len(calls),
        "ops": calls,
        "runs": runs,
        "p50": statistics.median(timings),
        "p95": _percentile(timings, 0.95),
    }


def in_process(
    runs: int, table_sizes: tuple[int, ...] = TABLE_SIZES
) -> tuple[list[tuple[str, dict]], dict[tuple[str, int], int]]:
    from moto import mock_aws

    meter = Meter()
    meter.install()
    with mock_aws():
        import boto3

        boto3.client("cloudformation").create_stack(
            StackName="bench",
            TemplateBody=(ROOT / "infra" / "resources.json").read_text(),
            Parameters=[{"ParameterKey": "Stage", "ParameterValue": "bench"}],
        )
        from chalice.test import Client

        from app import app
        from chalicelib.users import ensure_admin

        ensure_admin("admin@example.com", "bench-admin-pw")
        with Client(app) as client:
            shop = Shop(client)
            admin = shop.call(
                "POST", "/users/login", {"email": "admin@example.com", "password": "bench-admin-pw"}
            )["token"]
            shop.call(
                "POST",
                "/users/register",
                {"email": "b@example.com", "name": "B", "password": "bench-password"},
                expect=201,
            )
            user = shop.call(
                "POST", "/users/login", {"email": "b@example.com", "password": "bench-password"}
            )["token"]
            product_ids = [
                shop.call(
                    "POST",
                    "/products",
                    {"name": f"P{i}", "price": "1.50", "stock": 1_000_000},
                    admin,
                    expect=201,
                )["productId"]
                for i in range(25)
            ]
            rows: list[tuple[str, dict]] = []

            def order(lines: int):
                items = [{"productId": p, "quantity": 1} for p in product_ids[:lines]]
                body = {"items": items, "shippingAddress": SHIP_TO}
                return lambda i: shop.call("POST", "/orders", body, user, expect=201)

            rows.append(
                (
                    "register",
                    _measure(
                        meter,
                        runs // 4,
                        lambda i: shop.call(
                            "POST",
                            "/users/register",
                            {
                                "email": f"r{i}-{time.time_ns()}@example.com",
                                "name": "R",
                                "password": "bench-password",
                            },
                            expect=201,
                        ),
                    ),
                )
            )
            rows.append(
                (
                    "login",
                    _measure(
                        meter,
                        runs // 4,
                        lambda i: shop.call(
                            "POST",
                            "/users/login",
                            {"email": "b@example.com", "password": "bench-password"},
                        ),
                    ),
                )
            )
            rows.append(
                (
                    "get product",
                    _measure(
                        meter, runs, lambda i: shop.call("GET", f"/products/{product_ids[0]}")
                    ),
                )
            )
            rows.append(
                (
                    "list products (20)",
                    _measure(meter, runs, lambda i: shop.call("GET", "/products")),
                )
            )
            # Before the table fills up: moto answers a Query by scanning the whole table, and
            # its time is subtracted anyway; here it would only make the bench slow.
            for _ in range(25):
                order(1)(0)
            rows.append(
                (
                    "list my orders (20)",
                    _measure(meter, runs, lambda i: shop.call("GET", "/orders", token=user)),
                )
            )
            for lines in (1, 5, 25):
                # moto spends ~0.2 s on a 25-item transaction: fewer runs keep the bench short.
                count = runs if lines < 25 else runs // 2
                name = f"create order, {lines} line(s)"
                rows.append((name, _measure(meter, count, order(lines))))
            some_order = order(1)(0)["orderId"]
            rows.append(
                (
                    "get order",
                    _measure(
                        meter, runs, lambda i: shop.call("GET", f"/orders/{some_order}", token=user)
                    ),
                )
            )
            me = shop.call("GET", "/orders", token=user)["items"][0]["userId"]
            rows.append(
                (
                    "get user (own)",
                    _measure(meter, runs, lambda i: shop.call("GET", f"/users/{me}", token=user)),
                )
            )
            rows.append(
                (
                    "get user (admin reads another)",
                    _measure(meter, runs, lambda i: shop.call("GET", f"/users/{me}", token=admin)),
                )
            )
            cancellable = [order(1)(0)["orderId"] for _ in range(runs + 1)]
            rows.append(
                (
                    "cancel order",
                    _measure(
                        meter,
                        runs,
                        lambda i: shop.call("POST", f"/orders/{cancellable[i]}/cancel", token=user),
                    ),
                )
            )
            rows += _storefront_rows(shop, meter, runs, admin, user, product_ids, order)
            items_read = _items_read_by_table_size(
                shop, meter, user, admin, product_ids[0], table_sizes
            )
    return rows, items_read


def _storefront_rows(
    shop: Shop,
    meter: Meter,
    runs: int,
    admin: str,
    user: str,
    product_ids: list[str],
    order: Callable,
) -> list[tuple[str, dict]]:
    """Catalogue, cart, checkout and fulfilment (issue #12): calls per request."""
    from chalicelib import subscriber

    rows: list[tuple[str, dict]] = []
    rows.append(
        (
            "list products, category + q (20)",
            _measure(meter, runs, lambda i: shop.call("GET", "/products?category=general&q=p")),
        )
    )
    rows.append(
        ("list categories", _measure(meter, runs, lambda i: shop.call("GET", "/categories")))
    )
    for product_id in product_ids[:2]:
        shop.call("PUT", f"/cart/items/{product_id}", {"quantity": 1}, user)
    rows.append(
        (
            "get cart (2 lines)",
            _measure(meter, runs, lambda i: shop.call("GET", "/cart", token=user)),
        )
    )

    def checkout(i: int) -> object:
        for product_id in product_ids[:2]:
            shop.call("PUT", f"/cart/items/{product_id}", {"quantity": 1}, user)
        meter.reset()
        body = {"shippingAddress": SHIP_TO}
        return shop.call("POST", "/cart/checkout", body, token=user, expect=201)

    rows.append(("checkout, 2 lines (time incl. 2 cart PUTs)", _measure(meter, runs, checkout)))
    confirmed = []
    for _ in range(runs + 1):
        placed = order(1)(0)
        subscriber.handle_message(json.dumps({"type": "OrderPlaced", "orderId": placed["orderId"]}))
        confirmed.append(placed["orderId"])
    rows.append(
        (
            "ship order",
            _measure(
                meter,
                runs,
                lambda i: shop.call("POST", f"/orders/{confirmed[i]}/ship", token=admin),
            ),
        )
    )
    rows.append(
        (
            "deliver order",
            _measure(
                meter,
                runs,
                lambda i: shop.call("POST", f"/orders/{confirmed[i]}/deliver", token=admin),
            ),
        )
    )
    rows.append(
        (
            "refund, bookkeeping (no provider)",
            _measure(
                meter,
                runs,
                lambda i: shop.call(
                    "POST",
                    f"/orders/{confirmed[i]}/refunds",
                    {"amount": "0.50", "reason": "damaged"},
                    admin,
                    expect=201,
                    headers={"Idempotency-Key": f"bench-refund-{i}"},
                ),
            ),
        )
    )
    # Issues #25 and #26: the address book's default and a discount code join the order's
    # one read; shipping and tax come from configuration.
    me = shop.call("GET", "/orders", token=user)["items"][0]["userId"]
    shop.call("POST", f"/users/{me}/addresses", SHIP_TO, user, expect=201)
    shop.call("POST", "/discounts", {"code": "BENCH10", "percentOff": 10}, admin, expect=201)
    one_line = [{"productId": product_ids[0], "quantity": 1}]
    rows.append(
        (
            "create order, address from the book",
            _measure(
                meter,
                runs,
                lambda i: shop.call("POST", "/orders", {"items": one_line}, user, expect=201),
            ),
        )
    )
    coded = {"items": one_line, "shippingAddress": SHIP_TO, "discountCode": "BENCH10"}
    rows.append(
        (
            "create order, with a discount code",
            _measure(meter, runs, lambda i: shop.call("POST", "/orders", coded, user, expect=201)),
        )
    )
    rows.append(
        (
            "fulfilment queue (20)",
            _measure(
                meter, runs, lambda i: shop.call("GET", "/orders?status=PENDING", token=admin)
            ),
        )
    )
    return rows


def _items_read_by_table_size(
    shop: Shop, meter: Meter, user: str, admin: str, product_id: str, sizes: tuple[int, ...]
) -> dict:
    """Items read by one page of 20 as the orders table grows: a customer's own orders
    (``byUser``) and an admin's listing of every order (the sharded ``byCreated``)."""
    from chalicelib.models import Order, OrderLine

    _progress("filling the orders table")
    result: dict[tuple[str, int], int] = {}
    total = len(list(Order.scan()))
    for target in sizes:
        _progress(f"writing orders up to {target:,}")
        # Written directly (batch writes), with the keys an order gets when it is placed.
        with Order.batch_write() as batch:
            for i in range(total, target):
                order_id = f"bulk-{i}"
                batch.save(
                    Order(
                        order_id,
                        user_id=f"someone-{i % 500}",
                        status="CONFIRMED",
                        items=[
                            OrderLine(
                                product_id=product_id,
                                name="P",
                                quantity=1,
                                unit_price=1,
                                line_total=1,
                            )
                        ],
                        total=1,
                        created_at=datetime.now(UTC).isoformat(),
                        list_partition=Order.list_partition_for(order_id),
                        status_shard=Order.status_shard_for(order_id, "CONFIRMED"),
                    )
                )
        total = target
        meter.reset()
        page = shop.call("GET", "/orders?limit=20", token=user)
        assert len(page["items"]) == 20
        result[("list my orders", target)] = meter.items_read
        for _ in range(2):  # the first page, then the next one through its cursor
            cursor = "" if _ == 0 else f"&cursor={page['nextCursor']}"
            meter.reset()
            page = shop.call("GET", f"/orders?limit=20{cursor}", token=admin)
            assert len(page["items"]) == 20
            name = "list all orders (admin), " + ("first page" if _ == 0 else "second page")
            result[(name, target)] = max(result.get((name, target), 0), meter.items_read)
    return result


def cold_import_ms(samples: int = 7) -> float:
    code = (
        "import time; t = time.perf_counter(); import app; print((time.perf_counter() - t) * 1000)"
    )
    env = {**os.environ, "TOKEN_SECRET": "x"}
    timings = [
        float(subprocess.check_output([sys.executable, "-c", code], cwd=ROOT, env=env).strip())
        for _ in range(samples)
    ]
    return statistics.median(timings)


# A 512 MB Lambda gets about a third of a vCPU (CPU scales with memory, one full vCPU at
# 1,769 MB): CPU-bound work such as a password hash takes about three times as long there.
LAMBDA_512_CPU_SHARE = 512 / 1769


def password_hash_ms(samples: int = 5) -> dict[str, float]:
    """Median time of one password verification: today's Argon2id and the alternatives."""
    import hashlib
    import secrets

    from chalicelib import passwords

    def median_ms(run: Callable[[], object]) -> float:
        run()  # warm-up (imports, first allocation)
        timings = []
        for _ in range(samples):
            started = time.perf_counter()
            run()
            timings.append((time.perf_counter() - started) * 1000)
        return statistics.median(timings)

    encoded = passwords.hash_password("bench-password")

    def scrypt(n: int) -> Callable[[], object]:
        return lambda: hashlib.scrypt(
            b"bench-password", salt=secrets.token_bytes(16), n=n, r=8, p=1,
            maxmem=256 * 1024 * 1024, dklen=32,
        )  # fmt: skip

    return {
        "Argon2id m=19 MiB, t=2, p=1 (now)": median_ms(
            lambda: passwords.verify_password("bench-password", encoded)
        ),
        "scrypt N=2^14, r=8, p=1 (before)": median_ms(scrypt(2**14)),
        "scrypt N=2^17, r=8, p=1 (OWASP's scrypt minimum, not chosen)": median_ms(scrypt(2**17)),
    }


def zip_size_mb() -> float | None:
    zip_path = ROOT / "out" / "dev" / "deployment.zip"
    if not zip_path.exists():
        subprocess.run(
            ["make", "package", "STAGE=dev"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL
        )
    return zip_path.stat().st_size / 1e6 if zip_path.exists() else None


def local_stack_throughput(requests: int = 400, workers: int = 8) -> tuple[float, int]:
    """A mixed read/write workload against ``python -m devstack`` over real HTTP."""
    import socket
    import urllib.error
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(
            ("APP_", "USERS_", "PRODUCTS_", "ORDERS_", "ORDER_EVENTS", "TOKEN_", "LOG_LEVEL")
        )
    }
    # The stack logs a line per request: into a file, since an undrained pipe fills and
    # blocks it.
    log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed in the finally below)
    proc = subprocess.Popen(
        [sys.executable, "-m", "devstack", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.time() + 90
        while time.time() < deadline:
            log.seek(0)
            if "devstack ready:" in log.read():
                break
            time.sleep(0.2)
        base = f"http://127.0.0.1:{port}"

        def call(method, path, body=None, token=None):
            request = urllib.request.Request(
                base + path, method=method, data=json.dumps(body).encode() if body else None
            )
            request.add_header("Content-Type", "application/json")
            if token:
                request.add_header("Authorization", f"Bearer {token}")
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    return response.status, json.loads(response.read() or b"null")
            except urllib.error.HTTPError as error:
                return error.code, json.loads(error.read() or b"null")

        password = os.environ.get("LOCAL_ADMIN_PASSWORD", "localadmin")
        _, login = call(
            "POST", "/users/login", {"email": "admin@example.com", "password": password}
        )
        admin = login["token"]
        _, product = call(
            "POST", "/products", {"name": "Bench", "price": "2", "stock": 1_000_000}, admin
        )
        call(
            "POST",
            "/users/register",
            {"email": "load@example.com", "name": "L", "password": "load-password"},
        )
        _, login = call(
            "POST", "/users/login", {"email": "load@example.com", "password": "load-password"}
        )
        user = login["token"]
        pid = product["productId"]

        def one(i: int) -> int:
            kind = i % 4
            if kind == 0:
                status, _ = call("GET", "/products")
            elif kind == 1:
                status, _ = call("GET", f"/products/{pid}")
            elif kind == 2:
                status, _ = call(
                    "POST",
                    "/orders",
                    {"items": [{"productId": pid, "quantity": 1}], "shippingAddress": SHIP_TO},
                    user,
                )
            else:
                status, _ = call("GET", "/orders", token=user)
            return status

        started = time.perf_counter()
        with ThreadPoolExecutor(workers) as pool:
            statuses = list(pool.map(one, range(requests)))
        elapsed = time.perf_counter() - started
        errors = sum(1 for s in statuses if s >= 400)
        if errors:  # a rate of refused requests measures nothing: the mix is broken
            codes = sorted({s for s in statuses if s >= 400})
            raise AssertionError(f"local stack: {errors} of {requests} requests failed {codes}")
        return requests / elapsed, errors
    finally:
        proc.send_signal(2)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def render(rows, items_read, import_ms, zip_mb, throughput, hashing=None) -> str:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    out = [
        f"Measured {now} on {machine}; emulated round trip {ROUND_TRIP_S * 1000:.0f} ms "
        "per AWS call (the emulator's own time is subtracted).",
        "",
        "| operation | AWS calls | calls made | requests timed | p50 ms | p95 ms |",
        "|---|---:|---|---:|---:|---:|",
    ]
    for name, row in rows:
        ops = ", ".join(row["ops"])
        out.append(
            f"| {name} | {row['calls']} | {ops} | {row['runs']} "
            f"| {row['p50']:.1f} | {row['p95']:.1f} |"
        )
    out += [
        "",
        "| measure | value |",
        "|---|---:|",
    ]
    for (listing, size), read in items_read.items():
        out.append(
            f'| items read by the Queries of one "{listing}" page of 20, {size:,} orders '
            f"in the table | {read} |"
        )
    out.append(f"| cold import of `app` (median of 7 fresh processes) | {import_ms:.0f} ms |")
    login = dict(rows).get("login")
    for name, ms in (hashing or {}).items():
        lambda_ms = ms / LAMBDA_512_CPU_SHARE
        out.append(
            f"| one password check, {name}: here / 512 MB Lambda (estimate) "
            f"| {ms:.0f} ms / {lambda_ms:.0f} ms |"
        )
        if login is not None and name.endswith("(now)"):
            # The login's other work (a read, a token) hardly depends on the CPU share.
            estimate = login["p50"] - ms + lambda_ms
            out.append(f"| login p50 on a 512 MB Lambda (estimate) | {estimate:.0f} ms |")
    if zip_mb is not None:
        out.append(f"| deployment.zip | {zip_mb:.1f} MB |")
    if throughput is not None:
        rps, errors = throughput
        out.append(
            "| local stack, mixed workload, 8 clients, 400 requests "
            f"| {rps:.0f} req/s, {errors} errors |"
        )
    return "\n".join(out)


def write_page(table: str) -> None:
    text = PAGE.read_text()
    if START in text and END in text:
        head, rest = text.split(START, 1)
        _, tail = rest.split(END, 1)
        PAGE.write_text(f"{head}{START}\n{table}\n{END}{tail}")


_STARTED = time.perf_counter()


def _progress(message: str) -> None:
    print(f"bench: {time.perf_counter() - _STARTED:6.1f}s {message}", file=sys.stderr, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument(
        "--runs", type=int, help=f"timed requests per operation (default {RUNS}, at scale 200)"
    )
    parser.add_argument("--no-readme", action="store_true")
    parser.add_argument("--skip-stack", action="store_true")
    parser.add_argument("--skip-package", action="store_true")
    parser.add_argument(
        "--at-scale",
        action="store_true",
        help="200 runs, and listings read at 20,000 and 100,000 orders too (about 12 min, 14 GB)",
    )
    args = parser.parse_args()
    _environment()
    sys.path.insert(0, str(ROOT))
    # The app writes a JSON log line and EMF metrics per request to stdout: not here.
    with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull):
        sizes = AT_SCALE_TABLE_SIZES if args.at_scale else TABLE_SIZES
        runs = args.runs or (AT_SCALE_RUNS if args.at_scale else RUNS)
        rows, items_read = in_process(runs, sizes)
    _progress("in-process operations measured")
    import_ms = cold_import_ms()
    _progress("cold import measured")
    hashing = password_hash_ms()
    _progress("password hashing measured")
    zip_mb = None if args.skip_package else zip_size_mb()
    _progress("deployment zip measured")
    throughput = None if args.skip_stack else local_stack_throughput()
    _progress("local stack measured")
    table = render(rows, items_read, import_ms, zip_mb, throughput, hashing)
    print(table)
    if not args.no_readme:
        write_page(table)


if __name__ == "__main__":
    main()
