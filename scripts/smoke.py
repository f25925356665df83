"""``make smoke URL=...``: walk the whole API once against a running stage.

Works against any base URL: the local stack (``http://127.0.0.1:8000``) or a deployed
stage (``https://<id>.execute-api.<region>.amazonaws.com/api``). Standard library only
(its HTTP client, ``scripts/http_client.py``, is the one the tests use too), so it runs
from any machine with Python 3.11.

It registers a throwaway customer, has the admin create two products, places an order
(and replays it with the same ``Idempotency-Key``), waits for the SNS subscriber to
confirm it, lists, reads and cancels it, then deletes everything it created. Orders
cannot be deleted through the API: the cancelled order stays, under the deleted user.

One line per step; exit status 0 only if every step got the status (and body) it
expected. A failed step prints the response body; clean-up is attempted regardless.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import sys
import time
import urllib.parse
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from scripts.http_client import JsonClient, UrllibTransport

DEFAULT_URL = "http://127.0.0.1:8000"
DEFAULT_ADMIN_EMAIL = "admin@example.com"
DEFAULT_LOCAL_ADMIN_PASSWORD = "localadmin"
REQUEST_TIMEOUT_SECONDS = 30
POLL_INTERVAL_SECONDS = 0.5

# The two products the order buys, and how many of each.
PRODUCTS = [
    {"name": "Smoke test kettle", "price": "19.99", "stock": 5},
    {"name": "Smoke test mug", "price": "4.50", "stock": 10},
]
QUANTITIES = [2, 1]

# A check looks at a response body and returns what is wrong with it, or None.
Check = Callable[[Any], str | None]


class StepFailed(Exception):
    """A step did not get what it expected; the flow stops and clean-up runs."""


@dataclass
class Smoke:
    base_url: str
    steps: int = 0
    failures: int = 0
    _client: JsonClient = field(init=False)

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        self._client = JsonClient(
            UrllibTransport(self.base_url, REQUEST_TIMEOUT_SECONDS),
            # Decimal, so money compares exactly (19.99 * 2 + 4.5 == 44.48).
            parse_float=Decimal,
            default_headers={"Accept": "application/json"},
        )

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        """One request; ``(status, parsed JSON body or raw text)``; status 0 if unreachable."""
        try:
            reply = self._client.request(method, path, body, token=token, headers=headers)
        except OSError as error:  # URLError, a refused connection, a timeout
            return 0, f"request failed: {getattr(error, 'reason', error)}"
        return reply.status, reply.body

    def step(
        self,
        method: str,
        path: str,
        expect: int | tuple[int, ...],
        *,
        body: Any = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        check: Check | None = None,
        note: str = "",
    ) -> Any:
        """Make a request, print one line, and return the body; raise StepFailed if wrong."""
        status, response = self.call(method, path, body, token, headers)
        return self.report(method, path, status, response, expect, check, note)

    def report(
        self,
        method: str,
        path: str,
        status: int,
        response: Any,
        expect: int | tuple[int, ...],
        check: Check | None = None,
        note: str = "",
    ) -> Any:
        expected = (expect,) if isinstance(expect, int) else expect
        problem = None
        if status not in expected:
            problem = f"expected {' or '.join(map(str, expected))}"
        elif check is not None:
            problem = check(response)
        self.steps += 1
        verdict = "OK" if problem is None else "FAIL"
        line = f"{self.steps:2}. {method:<6} {path:<52} {status:>3}  {verdict:<4}  {note}"
        print(line.rstrip(), flush=True)
        if problem is None:
            return response
        self.failures += 1
        print(f"      {problem}; response body: {_show(response)}", flush=True)
        raise StepFailed(problem)


def _show(body: Any) -> str:
    if isinstance(body, dict | list):
        return json.dumps(body, default=str)
    return str(body)


def _field(name: str, expected: Any) -> Check:
    def check(body: Any) -> str | None:
        actual = body.get(name) if isinstance(body, dict) else None
        return None if actual == expected else f"{name} is {actual!r}, expected {expected!r}"

    return check


def _has_keys(*names: str) -> Check:
    def check(body: Any) -> str | None:
        present = body if isinstance(body, dict) else {}
        missing = [n for n in names if present.get(n) in (None, "")]
        return f"missing {', '.join(missing)}" if missing else None

    return check


def _lists(order_id: str) -> Check:
    def check(body: Any) -> str | None:
        items = body.get("items") if isinstance(body, dict) else None
        ids = [o.get("orderId") for o in items or [] if isinstance(o, dict)]
        return None if order_id in ids else f"order {order_id} is not in the list"

    return check


def _text_with(marker: str) -> Check:
    """A page file (not JSON) that contains ``marker``."""

    def check(body: Any) -> str | None:
        if isinstance(body, str) and marker in body:
            return None
        return f"expected a page file containing {marker!r}"

    return check


def _totals(goods: Decimal) -> Check:
    """The breakdown adds up (total = subtotal + shipping + tax - discount) and the subtotal
    is the goods' price: shipping and tax depend on the stage's configured rates."""

    def check(body: Any) -> str | None:
        totals = body.get("totals") if isinstance(body, dict) else None
        if not isinstance(totals, dict):
            return "no totals"
        part = {name: Decimal(str(totals.get(name))) for name in
                ("subtotal", "shipping", "tax", "discount", "total")}  # fmt: skip
        if part["subtotal"] != goods:
            return f"totals.subtotal is {part['subtotal']}, expected {goods}"
        added = part["subtotal"] + part["shipping"] + part["tax"] - part["discount"]
        if added != part["total"] or Decimal(str(body.get("total"))) != part["total"]:
            return f"totals do not add up: {totals}"
        return None

    return check


# Where the smoke order goes: any stage ships to the US (docs/shipping-and-tax.md); the
# method is left to the stage's default (the cheapest).
SHIP_TO = {
    "name": "Smoke Test",
    "line1": "1 Main St",
    "city": "Portland",
    "region": "OR",
    "postalCode": "97201",
    "country": "US",
}


def _all(*checks: Check) -> Check:
    def check(body: Any) -> str | None:
        return next((p for p in (c(body) for c in checks) if p is not None), None)

    return check


@dataclass
class Created:
    """What the run created, so clean-up removes exactly that."""

    customer_id: str | None = None
    customer_login: dict[str, str] = field(default_factory=dict)
    customer_token: str | None = None
    admin_token: str | None = None
    product_ids: list[str] = field(default_factory=list)


def run_flow(
    smoke: Smoke, created: Created, admin_email: str, admin_password: str, wait: float
) -> None:
    email = f"smoke-{uuid.uuid4().hex[:12]}@example.com"
    password = secrets.token_urlsafe(18)
    created.customer_login = {"email": email, "password": password}

    smoke.step("GET", "/", 200, check=_text_with('src="web/app.js"'), note="web page")
    smoke.step("GET", "/web/app.js", 200, check=_text_with("import"), note="web page script")
    smoke.step("GET", "/products?limit=1", 200, check=_has_keys("items"), note="catalogue")

    user = smoke.step(
        "POST",
        "/users/register",
        201,
        body={"email": email, "name": "Smoke Test", "password": password},
        check=_all(_field("email", email), _has_keys("userId")),
        note=f"register {email}",
    )
    created.customer_id = user["userId"]
    login = smoke.step(
        "POST",
        "/users/login",
        200,
        body={"email": email, "password": password},
        check=_all(_field("userId", user["userId"]), _has_keys("token")),
        note="customer login",
    )
    customer = created.customer_token = login["token"]
    smoke.step(
        "GET",
        f"/users/{user['userId']}",
        200,
        token=customer,
        check=_field("email", email),
        note="customer reads own profile",
    )

    admin = smoke.step(
        "POST",
        "/users/login",
        200,
        body={"email": admin_email, "password": admin_password},
        check=_has_keys("token"),
        note=f"admin login {admin_email}",
    )
    created.admin_token = admin["token"]
    for spec in PRODUCTS:
        product = smoke.step(
            "POST",
            "/products",
            201,
            body=spec,
            token=created.admin_token,
            check=_all(_field("stock", spec["stock"]), _has_keys("productId")),
            note=f"admin creates {spec['name']!r}",
        )
        created.product_ids.append(product["productId"])

    items = [
        {"productId": pid, "quantity": qty}
        for pid, qty in zip(created.product_ids, QUANTITIES, strict=True)
    ]
    goods = sum(Decimal(p["price"]) * q for p, q in zip(PRODUCTS, QUANTITIES, strict=True))
    key = {"Idempotency-Key": f"smoke-{uuid.uuid4()}"}
    order = smoke.step(
        "POST",
        "/orders",
        201,
        body={"items": items, "shippingAddress": SHIP_TO},
        token=customer,
        headers=key,
        check=_all(_totals(goods), _has_keys("orderId", "shippingMethod")),
        note="customer places order",
    )
    order_id = order["orderId"]
    smoke.step(
        "POST",
        "/orders",
        (200, 201),
        body={"items": items, "shippingAddress": SHIP_TO},
        token=customer,
        headers=key,
        check=_field("orderId", order_id),
        note="same Idempotency-Key: same order",
    )
    for spec, pid, qty in zip(PRODUCTS, created.product_ids, QUANTITIES, strict=True):
        smoke.step(
            "GET",
            f"/products/{pid}",
            200,
            check=_field("stock", spec["stock"] - qty),
            note="stock taken once",
        )

    wait_for_confirmation(smoke, customer, order_id, wait)

    smoke.step(
        "GET",
        "/orders",
        200,
        token=customer,
        check=_lists(order_id),
        note="customer lists own orders",
    )
    smoke.step(
        "GET",
        f"/orders/{order_id}",
        200,
        token=customer,
        check=_all(_field("status", "CONFIRMED"), _field("total", order["total"])),
        note="read order",
    )
    smoke.step(
        "POST",
        f"/orders/{order_id}/cancel",
        200,
        token=customer,
        check=_field("status", "CANCELLED"),
        note="customer cancels",
    )
    for spec, pid in zip(PRODUCTS, created.product_ids, strict=True):
        smoke.step(
            "GET",
            f"/products/{pid}",
            200,
            check=_field("stock", spec["stock"]),
            note="stock restored",
        )
    smoke.step(
        "POST", f"/orders/{order_id}/cancel", 409, token=customer, note="second cancel refused"
    )


def wait_for_confirmation(smoke: Smoke, token: str, order_id: str, wait: float) -> None:
    """Poll (bounded) until the SNS subscriber has confirmed the order; one line in all."""
    path = f"/orders/{order_id}"
    started = time.monotonic()
    while True:
        status, body = smoke.call("GET", path, token=token)
        confirmed = status == 200 and isinstance(body, dict) and body.get("status") == "CONFIRMED"
        waited = time.monotonic() - started
        if confirmed or status != 200 or waited >= wait:
            break
        time.sleep(POLL_INTERVAL_SECONDS)
    smoke.report(
        "GET",
        path,
        status,
        body,
        200,
        check=_field("status", "CONFIRMED"),
        note=f"order CONFIRMED (waited {waited:.1f}s)",
    )


def clean_up(smoke: Smoke, created: Created) -> None:
    """Delete what the run created; every attempt is a step, failures do not stop it."""
    for pid in created.product_ids:
        with contextlib.suppress(StepFailed):  # already reported; go on cleaning up
            smoke.step(
                "DELETE", f"/products/{pid}", 204, token=created.admin_token, note="clean up"
            )
    if created.customer_id is None:
        return
    # The customer can delete themselves; the admin can too if the customer token is gone.
    token = created.customer_token or created.admin_token
    with contextlib.suppress(StepFailed):
        smoke.step(
            "DELETE", f"/users/{created.customer_id}", 204, token=token, note="clean up customer"
        )
        smoke.step(
            "POST",
            "/users/login",
            401,
            body=created.customer_login,
            note="the deleted customer cannot sign in",
        )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.smoke",
        description="Walk the whole shop API once against a running stage, then clean up.",
    )
    parser.add_argument(
        "--url",
        default="",
        help=f"base URL of the API (default: $SMOKE_URL or {DEFAULT_URL}, the local stack)",
    )
    parser.add_argument(
        "--admin-email",
        default=os.environ.get("SMOKE_ADMIN_EMAIL") or DEFAULT_ADMIN_EMAIL,
        help=f"admin account (default: $SMOKE_ADMIN_EMAIL or {DEFAULT_ADMIN_EMAIL})",
    )
    parser.add_argument(
        "--admin-password",
        default=os.environ.get("SMOKE_ADMIN_PASSWORD")
        or os.environ.get("LOCAL_ADMIN_PASSWORD")
        or DEFAULT_LOCAL_ADMIN_PASSWORD,
        help="admin password (default: $SMOKE_ADMIN_PASSWORD, else $LOCAL_ADMIN_PASSWORD, "
        f"else {DEFAULT_LOCAL_ADMIN_PASSWORD!r}, the local stack's)",
    )
    parser.add_argument(
        "--wait",
        type=float,
        default=15.0,
        help="seconds to wait for the order to become CONFIRMED (default: 15)",
    )
    args = parser.parse_args(argv)
    # `make smoke` passes --url "$(URL)", which is empty when URL is not given.
    args.url = (args.url or os.environ.get("SMOKE_URL") or DEFAULT_URL).strip()
    if urllib.parse.urlsplit(args.url).scheme not in ("http", "https"):
        parser.error(f"--url must be an http(s) URL, got {args.url!r}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    print(f"smoke test of {args.url}", flush=True)
    smoke = Smoke(args.url)
    created = Created()
    try:
        run_flow(smoke, created, args.admin_email, args.admin_password, args.wait)
    except StepFailed:
        print("smoke: a step failed; cleaning up what was created", flush=True)
    finally:
        clean_up(smoke, created)
    if smoke.failures:
        print(f"smoke: FAILED ({smoke.failures} of {smoke.steps} steps failed)", flush=True)
        return 1
    print(f"smoke: OK ({smoke.steps} steps)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
