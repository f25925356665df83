"""``python -m devstack.fake_stripe --port N``: localstripe on loopback, in memory.

localstripe's own entry point listens on every interface (``::``) and pickles its
whole store to ``/tmp/localstripe.pickle`` after every write, which parallel stacks
would share. This runs the same aiohttp app on 127.0.0.1 with the store kept in
memory. The local stack starts it as a subprocess (aiohttp wants its own loop).

PaymentIntents carry ``amount_received`` as on Stripe (localstripe 1.15 has none): the
amount of the intent's succeeded charge in minor units, else 0. The webhook compares it
with the order's total (docs/payments.md).

One more addition, so that the web page pays the way a browser pays real Stripe:
``POST /v1/payment_intents/{id}/confirm`` authenticated by a publishable key and the
intent's client secret (``key=pk_...&client_secret=...&payment_method=pm_card_visa``),
which is what Stripe.js sends. localstripe 1.15 only confirms with the secret key and
an already attached payment method.
"""

from __future__ import annotations

import argparse
import logging
import re
from typing import Any

CONFIRM_PATH = re.compile(r"^/v1/payment_intents/(pi_\w+)/confirm$")
CONFIRMABLE = ("requires_payment_method", "requires_confirmation")


def confirm_with_client_secret(intent_id: str, data: dict[str, Any]) -> Any:
    """Attach ``payment_method`` to the intent and confirm it, as Stripe does for Stripe.js."""
    from localstripe.errors import UserError
    from localstripe.resources import PaymentIntent, PaymentMethod

    key, client_secret = data.get("key"), data.get("client_secret")
    method = data.get("payment_method")
    if not (isinstance(key, str) and key.startswith("pk_")):
        raise UserError(401, "Unauthorized")
    intent = PaymentIntent._api_retrieve(intent_id)
    if not isinstance(client_secret, str) or client_secret != intent.client_secret:
        raise UserError(401, "Unauthorized")
    if not isinstance(method, str) or not method.startswith("pm_"):
        raise UserError(400, "Bad request: payment_method")
    if intent.status not in CONFIRMABLE:
        raise UserError(400, f"This PaymentIntent's status is {intent.status}")
    intent.payment_method = PaymentMethod._api_retrieve(method).id
    intent._confirm(on_failure_now=intent._report_failure)  # a decline raises a 402
    return intent


def install_amount_received() -> None:
    """``PaymentIntent.amount_received``: what its succeeded charge collected, else 0."""
    from localstripe.resources import PaymentIntent

    def amount_received(intent: Any) -> int:
        charge = intent.latest_charge
        if charge is None or charge.status != "succeeded":
            return 0
        return int(charge.amount)

    # A property: localstripe's export lists an object's public properties too.
    PaymentIntent.amount_received = property(amount_received)


def install_publishable_confirm(app: Any) -> None:
    """Serve the publishable-key confirm; every other request goes on to localstripe."""
    from aiohttp import web
    from localstripe import server

    @web.middleware
    async def publishable_confirm(request: Any, handler: Any) -> Any:
        match = CONFIRM_PATH.match(request.path)
        if request.method != "POST" or match is None or "Authorization" in request.headers:
            return await handler(request)
        data = await server.get_post_data(request, remove_auth=False) or {}
        intent = confirm_with_client_secret(match.group(1), dict(data))
        return server.json_response(intent._export())

    # After localstripe's error middleware (it words a UserError), before its auth check.
    app.middlewares.insert(1, publishable_confirm)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m devstack.fake_stripe")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)

    from aiohttp import web
    from localstripe import resources, server

    # In memory only: nothing shared between stacks, nothing left behind.
    resources.store.dump_to_disk = lambda: None  # type: ignore[method-assign]
    install_amount_received()
    install_publishable_confirm(server.app)
    logging.basicConfig(level=logging.WARNING)
    web.run_app(server.app, host=args.host, port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
