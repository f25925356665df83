"""``python -m bench.flash_sale``: many buyers order the same product at once.

Every order transaction writes the product's stock item, so concurrent buyers' transactions
overlap on one item, and DynamoDB cancels the losers with ``TransactionConflict``. The local
emulator serializes DynamoDB, so this runs the whole local stack (``python -m devstack``,
in this process, over real HTTP) with the conflicts put back by
:class:`devstack.contention.TransactionContention`: each ``TransactWriteItems`` is in flight
for ``--transaction-ms`` and cancels any other that touches one of its items meanwhile.

For each buyer count: that many signed-in buyers, released together by a barrier, each
place ``--orders`` one-unit orders of one product, back to back, without retrying a 503.
Printed per run: orders placed, the share answered 503 ``ServiceBusy``, other statuses,
oversell (units sold beyond the stock taken off the item, or stock below 0: must be 0),
the conflicts injected and the retries the app made. A second run per buyer count sells
out (stock = half the orders) to show the conflicts never oversell.

A measurement for docs/capacity.md, not a test: the rates depend on the machine, since
the emulator's speed bounds how many transactions arrive per second.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import threading
import time
import warnings
from collections import Counter
from dataclasses import dataclass, field

from devstack.contention import TransactionContention
from scripts.http_client import JsonClient, UrllibTransport
from scripts.smoke import SHIP_TO

BUYER_PASSWORD = "flash-sale-buyer"


@dataclass
class SaleResult:
    buyers: int
    orders_per_buyer: int
    stock: int
    statuses: Counter[str] = field(default_factory=Counter)
    stock_left: int = 0
    transactions: int = 0
    conflicts: int = 0
    seconds: float = 0.0

    @property
    def requests(self) -> int:
        return self.buyers * self.orders_per_buyer

    @property
    def placed(self) -> int:
        return self.statuses["201"]

    @property
    def busy(self) -> int:
        return self.statuses["503 ServiceBusy (conflicts)"]

    @property
    def oversell(self) -> int:
        """Units answered as sold that the stock item did not give up (each order is 1 unit)."""
        taken = self.stock - self.stock_left
        return max(0, self.placed - taken) + max(0, -self.stock_left)

    @property
    def unanswered(self) -> int:
        """Units the stock item gave up without a 201 (a commit whose answer was lost)."""
        return max(0, (self.stock - self.stock_left) - self.placed)

    @property
    def retries(self) -> int:
        # Every conflict is retried except the last of a request that gave up on them.
        return self.conflicts - self.busy

    def line(self) -> str:
        others = {k: v for k, v in sorted(self.statuses.items()) if k not in ("201",)}
        return (
            f"{self.buyers:4d} buyers x {self.orders_per_buyer} orders, stock {self.stock:6d}: "
            f"placed {self.placed:5d}, 503 on conflicts {self.busy:4d} "
            f"({100 * self.busy / self.requests:5.1f} %), statuses {dict(others)}, "
            f"oversell {self.oversell}, taken unanswered {self.unanswered}, "
            f"transactions {self.transactions} "
            f"({self.transactions / self.seconds:.0f}/s), conflicts {self.conflicts} "
            f"({100 * self.conflicts / max(1, self.transactions):.1f} % of transactions), "
            f"retries {self.retries}, stock left {self.stock_left}"
        )


def sign_in_buyers(shop: JsonClient, count: int, prefix: str) -> list[str]:
    """``count`` registered, signed-in buyers' tokens (registered 8 at a time)."""
    tokens: list[str] = [""] * count

    def one(index: int) -> None:
        email = f"{prefix}-{index}@example.com"
        body = {"email": email, "name": "Buyer", "password": BUYER_PASSWORD}
        reply = shop.post("/users/register", body)
        assert reply.status == 201, reply.body
        reply = shop.post("/users/login", {"email": email, "password": BUYER_PASSWORD})
        assert reply.status == 200, reply.body
        tokens[index] = reply.body["token"]

    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(one, range(count)))
    return tokens


def flash_sale(
    shop: JsonClient,
    admin_token: str,
    buyer_tokens: list[str],
    contention: TransactionContention,
    *,
    orders_per_buyer: int,
    stock: int,
) -> SaleResult:
    """Release every buyer at once on a fresh product; count the outcomes."""
    body = {"name": "Flash", "price": "5", "stock": stock}
    reply = shop.post("/products", body, token=admin_token)
    assert reply.status == 201, reply.body
    product_id = reply.body["productId"]
    order = {"items": [{"productId": product_id, "quantity": 1}], "shippingAddress": SHIP_TO}
    result = SaleResult(len(buyer_tokens), orders_per_buyer, stock)
    lock = threading.Lock()
    start = threading.Barrier(len(buyer_tokens))

    def buyer(token: str) -> None:
        start.wait(timeout=120)
        for _ in range(orders_per_buyer):
            answer = shop.post("/orders", order, token=token)
            label = str(answer.status)
            if answer.status != 201 and isinstance(answer.body, dict):
                label += f" {answer.body.get('code')}"
                if "conflicted" in str(answer.body.get("error")):
                    label += " (conflicts)"
            with lock:
                result.statuses[label] += 1

    before = (contention.transactions, contention.conflicts)
    threads = [threading.Thread(target=buyer, args=(t,)) for t in buyer_tokens]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.seconds = time.perf_counter() - started
    result.transactions = contention.transactions - before[0]
    result.conflicts = contention.conflicts - before[1]
    reply = shop.get(f"/products/{product_id}")
    assert reply.status == 200, reply.body
    result.stock_left = int(reply.body["stock"])
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.flash_sale", description=__doc__)
    parser.add_argument("--buyers", type=int, nargs="+", default=[50, 200])
    parser.add_argument("--orders", type=int, default=2, help="orders per buyer")
    parser.add_argument(
        "--transaction-ms", type=float, default=5.0, help="how long a transaction is in flight"
    )
    args = parser.parse_args(argv)

    # The app prints a metric line per request and the servers log each one, some to
    # streams they bound at start-up: this report gets its own copy of stdout, and the
    # process's stdout and stderr go to /dev/null while the stack runs.
    sys.stdout.flush()
    report = os.fdopen(os.dup(1), "w")
    logging.disable(logging.CRITICAL)
    warnings.filterwarnings("ignore")
    from devstack.__main__ import PROJECT_DIR, DevStack

    # Under hundreds of concurrent requests the local stack (one process, moto serialized)
    # queues for seconds, which the SDK's 2 s read timeout and the 10 s request budget
    # would turn into 503s about this machine, not DynamoDB: give it room. Sign-up is not
    # measured, so passwords are hashed cheaply.
    os.environ.update(
        {
            "REQUEST_BUDGET_SECONDS": "600",
            "SDK_READ_TIMEOUT_SECONDS": "300",
            "PASSWORD_HASHING": "fast-insecure-for-tests",
        }
    )
    stack_args = argparse.Namespace(host="127.0.0.1", port=0, moto_port=0, project_dir=PROJECT_DIR)
    saved = os.dup(1), os.dup(2)
    quiet = os.open(os.devnull, os.O_WRONLY)
    os.dup2(quiet, 1)
    os.dup2(quiet, 2)
    try:
        with contextlib.ExitStack() as cleanup:
            stack = DevStack(stack_args, cleanup)
            stack.start()
            shop = JsonClient(UrllibTransport(stack.url, timeout=600))
            login = {"email": stack.admin_email, "password": stack.admin_password}
            admin_token = shop.post("/users/login", login).body["token"]
            contention = TransactionContention(duration=args.transaction_ms / 1000)
            # Warm up (first imports, first clients) outside the measurement.
            flash_sale(shop, admin_token, [admin_token], contention, orders_per_buyer=2, stock=9)
            print(
                f"transactions in flight for {args.transaction_ms:g} ms; the app retries a "
                "conflict 4 times in all, then answers 503; buyers do not retry",
                file=report,
                flush=True,
            )
            for count in args.buyers:
                tokens = sign_in_buyers(shop, count, f"flash{count}")
                requests = count * args.orders
                with contention.installed():
                    for stock in (requests * 10, requests // 2):
                        result = flash_sale(
                            shop,
                            admin_token,
                            tokens,
                            contention,
                            orders_per_buyer=args.orders,
                            stock=stock,
                        )
                        print(result.line(), file=report, flush=True)
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)


if __name__ == "__main__":
    main()
