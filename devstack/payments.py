"""The local stack's Stripe: localstripe on loopback, its webhook pointed at the API.

With ``PAYMENT_PROVIDER=stripe``, :class:`LocalStripe` starts ``devstack.fake_stripe``
as a subprocess, and the app's Stripe SDK is pointed at it (``STRIPE_API_BASE``).
Once the API listens, the webhook is registered through localstripe's
``/_config/webhooks/<id>``, with the locally generated signing secret; localstripe
then POSTs signed ``payment_intent.*`` events to ``/payments/webhook`` about a second
after each payment.

:func:`pay` is what ``make pay ORDER=<id>`` runs: what a buyer's browser does with
Stripe.js, done with the secret key against localstripe (a card payment method, attach,
confirm). Local-only: nothing in ``chalicelib`` imports this.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

DEFAULT_PORT = 8420  # localstripe's own default
# localstripe accepts any key that starts with sk_; a fixed one lets `make pay` find it.
LOCAL_API_KEY = "sk_test_localstripe"
# What the web page confirms payments with (a test key: the page offers test cards).
LOCAL_PUBLISHABLE_KEY = "pk_test_localstripe"
WEBHOOK_ID = "shop-local"
START_TIMEOUT_SECONDS = 20.0
# Stripe's test cards: always succeeds / always declined.
CARD_OK = "4242424242424242"
CARD_DECLINED = "4000000000000341"  # attaches, then the charge is declined


def local_stripe_url() -> str:
    return os.environ.get("STRIPE_API_BASE") or f"http://127.0.0.1:{DEFAULT_PORT}"


class LocalStripe:
    def __init__(self, port: int) -> None:
        self.port = port or _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.webhook_secret = os.environ.get("STRIPE_WEBHOOK_SECRET") or (
            "whsec_" + secrets.token_hex(24)
        )
        self._process: subprocess.Popen[bytes] | None = None

    def environment(self) -> dict[str, str]:
        """What the app needs to use this server (layered over the stage's config)."""
        return {
            "STRIPE_API_BASE": self.url,
            "STRIPE_API_KEY": LOCAL_API_KEY,
            "STRIPE_PUBLISHABLE_KEY": LOCAL_PUBLISHABLE_KEY,
            "STRIPE_WEBHOOK_SECRET": self.webhook_secret,
        }

    def start(self) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "devstack.fake_stripe", "--port", str(self.port)],
            stdin=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"localstripe exited with {self._process.returncode}")
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"localstripe did not listen on {self.url} in time")

    def register_webhook(self, api_url: str) -> None:
        _post(
            f"{self.url}/_config/webhooks/{WEBHOOK_ID}",
            {"url": f"{api_url}/payments/webhook", "secret": self.webhook_secret},
            auth=False,
        )

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _post(url: str, form: dict[str, Any], *, auth: bool = True) -> dict[str, Any]:
    data = urllib.parse.urlencode(form).encode()
    request = urllib.request.Request(url, data=data, method="POST")
    if auth:
        request.add_header("Authorization", f"Bearer {LOCAL_API_KEY}")
    with urllib.request.urlopen(request, timeout=10) as response:
        body = response.read()
    return json.loads(body) if body else {}


def _get(url: str) -> dict[str, Any]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {LOCAL_API_KEY}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        result: dict[str, Any] = json.loads(response.read())
    return result


def find_intent(stripe_url: str, order_id: str) -> str:
    """The PaymentIntent created for ``order_id`` (its metadata names the order)."""
    starting_after = None
    while True:
        query = "limit=100" + (f"&starting_after={starting_after}" if starting_after else "")
        page = _get(f"{stripe_url}/v1/payment_intents?{query}")
        for intent in page["data"]:
            if (intent.get("metadata") or {}).get("orderId") == order_id:
                return str(intent["id"])
        if not page.get("has_more") or not page["data"]:
            raise LookupError(f"no PaymentIntent for order {order_id}")
        starting_after = page["data"][-1]["id"]


def intent_status(stripe_url: str, intent_id: str) -> str:
    return str(_get(f"{stripe_url}/v1/payment_intents/{intent_id}")["status"])


def pay(stripe_url: str, intent_id: str, card: str = CARD_OK) -> str:
    """Pay ``intent_id`` with a test card, as Stripe.js would; the intent's new status."""
    method = _post(
        f"{stripe_url}/v1/payment_methods",
        {
            "type": "card",
            "card[number]": card,
            "card[exp_month]": "12",
            "card[exp_year]": str(time.gmtime().tm_year + 2),
            "card[cvc]": "123",
        },
    )
    _post(f"{stripe_url}/v1/payment_intents/{intent_id}", {"payment_method": method["id"]})
    try:
        confirmed = _post(f"{stripe_url}/v1/payment_intents/{intent_id}/confirm", {})
    except urllib.error.HTTPError as error:  # a declined card: localstripe answers 402
        return f"declined ({error.code})"
    return str(confirmed["status"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devstack.payments",
        description="Pay a local order's PaymentIntent with a Stripe test card (localstripe).",
    )
    parser.add_argument("--order", required=True, help="the order id (from POST /orders)")
    parser.add_argument(
        "--card", default=CARD_OK, help=f"test card number (declined: {CARD_DECLINED})"
    )
    parser.add_argument("--stripe", default=local_stripe_url(), help="localstripe URL")
    args = parser.parse_args(argv)
    try:
        intent_id = find_intent(args.stripe, args.order)
    except (LookupError, OSError) as error:
        print(f"pay: {error}", file=sys.stderr)
        return 1
    status = pay(args.stripe, intent_id, args.card)
    print(f"PaymentIntent {intent_id}: {status}; the webhook follows in about a second")
    return 0


if __name__ == "__main__":
    sys.exit(main())
