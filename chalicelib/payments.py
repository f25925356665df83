"""The payment provider: what the order flow asks of it, and Stripe behind that.

``PAYMENT_PROVIDER=none`` (the default) means no provider: :func:`provider` is
``None`` and the ``stripe`` SDK is never imported, so that mode pays no import
cost. With ``stripe``, the SDK is imported on first use.

Card data never reaches this API: the buyer's browser confirms the PaymentIntent
with its client secret (Stripe.js / Payment Element), and Stripe tells us the
outcome through the signed webhook (docs/payments.md).
"""

from __future__ import annotations

import functools
import json
import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

from chalicelib import money
from chalicelib.config import get_settings
from chalicelib.errors import ServiceBusy, ValidationError

if TYPE_CHECKING:
    import stripe

logger = logging.getLogger(__name__)

NONE = "none"
STRIPE = "stripe"
PROVIDERS = (NONE, STRIPE)
# Where browsers (Stripe.js, or our page's test payment) reach Stripe's API.
STRIPE_PUBLIC_API = "https://api.stripe.com"
# A Lambda request has 29 s; Stripe's SDK would wait 80 s by default.
STRIPE_TIMEOUT_SECONDS = 8.0
STRIPE_NETWORK_RETRIES = 2
# A signed event older than this is refused (a replay); Stripe's own default.
WEBHOOK_TOLERANCE_SECONDS = 300

# The smallest charge Stripe accepts, per currency (docs.stripe.com/currencies, "Minimum
# and maximum charge amounts"), and the largest in any currency: eight digits of minor
# units. A total outside them is refused before anything is written
# (docs/payments.md#totals-the-provider-refuses). A zero total is below the minimum, so it
# is refused too: nothing is given away unpaid. Every currency money.py allows is here.
MIN_CHARGE: dict[str, Decimal] = {
    "AUD": Decimal("0.50"),
    "CAD": Decimal("0.50"),
    "CHF": Decimal("0.50"),
    "CZK": Decimal("15.00"),
    "DKK": Decimal("2.50"),
    "EUR": Decimal("0.50"),
    "GBP": Decimal("0.30"),
    "HKD": Decimal("4.00"),
    "JPY": Decimal("50"),
    "MXN": Decimal("10.00"),
    "NOK": Decimal("3.00"),
    "NZD": Decimal("0.50"),
    "PLN": Decimal("2.00"),
    "SEK": Decimal("3.00"),
    "SGD": Decimal("0.50"),
    "USD": Decimal("0.50"),
}
MAX_CHARGE_MINOR_UNITS = 99_999_999

# The webhook events that move an order; every other type is acknowledged and ignored.
PAYMENT_SUCCEEDED = "payment_intent.succeeded"
PAYMENT_FAILED = "payment_intent.payment_failed"
PAYMENT_CANCELED = "payment_intent.canceled"


class RefundRefused(Exception):
    """The provider refused a refund for good (e.g. more than is left of the payment)."""


@dataclass(frozen=True)
class Intent:
    """A payment the buyer still has to make."""

    intent_id: str
    client_secret: str


@dataclass(frozen=True)
class WebhookEvent:
    """A verified provider notification about one PaymentIntent."""

    event_id: str
    event_type: str
    intent_id: str
    order_id: str | None
    # What the provider says it collected (minor units) and in which currency, if it says.
    amount_received: int | None = None
    currency: str | None = None


class PaymentProvider(Protocol):
    name: str

    def create_intent(self, order_id: str, user_id: str, amount: Decimal) -> Intent:
        """One intent per order, however often this is called for the same order."""
        ...

    def cancel_intent(self, intent_id: str) -> bool:
        """Cancel it; ``False`` when it can no longer be cancelled (paid, already cancelled)."""
        ...

    def refund_intent(self, intent_id: str, order_id: str) -> None:
        """Refund what is left of the intent's payment (a late or cancelled payment)."""
        ...

    def refund(self, intent_id: str, refund_id: str, amount: Decimal) -> str:
        """Refund ``amount`` of the intent's payment once per ``refund_id``; the provider's id.

        A permanent refusal raises :class:`RefundRefused`; a busy provider ``ServiceBusy``.
        """
        ...

    def verify_webhook(self, payload: bytes | str, signature: str | None) -> WebhookEvent:
        """The event if ``signature`` proves the provider sent ``payload``, else ValidationError."""
        ...


def browser_api_base() -> str | None:
    """The Stripe API origin the buyer's browser calls, or ``None`` without Stripe."""
    settings = get_settings()
    if settings.payment_provider != STRIPE:
        return None
    return (settings.stripe_api_base or STRIPE_PUBLIC_API).rstrip("/")


def browser_fields() -> dict[str, str]:
    """What the buyer's browser needs, besides the client secret, to confirm a payment.

    Both are public: the publishable key (never the secret key) and Stripe's API base.
    Empty when the stage has no publishable key configured.
    """
    settings = get_settings()
    base = browser_api_base()
    if base is None or not settings.stripe_publishable_key:
        return {}
    return {"publishableKey": settings.stripe_publishable_key, "apiBase": base}


def stripe_currency() -> str:
    """The stage's currency as Stripe spells it (lower case)."""
    return money.CURRENCY.lower()


def check_chargeable(total: Decimal) -> None:
    """A 400 naming the limit when the provider would refuse to charge ``total``."""
    smallest = MIN_CHARGE[money.CURRENCY]
    largest = Decimal(MAX_CHARGE_MINOR_UNITS).scaleb(-money.EXPONENT)
    if total < smallest:
        raise ValidationError(
            f"the order total {money.display(total)} is below {money.display(smallest)},"
            " the smallest amount the payment provider charges",
            field="total",
        )
    if money.minor_units(total) > MAX_CHARGE_MINOR_UNITS:
        raise ValidationError(
            f"the order total {money.display(total)} is above {money.display(largest)},"
            " the largest amount the payment provider charges; split the order",
            field="total",
        )


def paid_in_full(event: WebhookEvent, total: Decimal) -> bool:
    """Whether the provider collected exactly ``total`` in our currency (no amount: no)."""
    return event.amount_received == money.minor_units(total) and event.currency == stripe_currency()


class StripeProvider:
    name = STRIPE

    def __init__(self, api_key: str, webhook_secret: str, api_base: str | None = None) -> None:
        import stripe

        self._stripe = stripe
        self._webhook_secret = webhook_secret
        self._client = stripe.StripeClient(
            api_key,
            base_addresses={"api": api_base} if api_base else None,
            max_network_retries=STRIPE_NETWORK_RETRIES,
            http_client=stripe.RequestsClient(timeout=STRIPE_TIMEOUT_SECONDS),
        )

    def _call(self, action: str, call: Any) -> Any:
        stripe = self._stripe
        try:
            return call()
        except (stripe.APIConnectionError, stripe.RateLimitError) as exc:
            raise ServiceBusy(
                "the payment provider is busy; please retry", dependency="Stripe"
            ) from exc
        except stripe.APIError as exc:  # Stripe's own 5xx
            raise ServiceBusy(
                "the payment provider is busy; please retry", dependency="Stripe"
            ) from exc
        except stripe.StripeError as exc:
            logger.error("stripe %s failed: %s", action, type(exc).__name__)
            raise

    def create_intent(self, order_id: str, user_id: str, amount: Decimal) -> Intent:
        intent: stripe.PaymentIntent = self._call(
            "create",
            lambda: self._client.v1.payment_intents.create(
                params={
                    "amount": money.minor_units(amount),
                    "currency": stripe_currency(),
                    "metadata": {"orderId": order_id, "userId": user_id},
                },
                # A resent request (ours or the SDK's) finds the same intent.
                options={"idempotency_key": f"order-{order_id}"},
            ),
        )
        return Intent(intent.id, intent.client_secret or "")

    def cancel_intent(self, intent_id: str) -> bool:
        stripe = self._stripe
        try:
            self._call("cancel", lambda: self._client.v1.payment_intents.cancel(intent_id))
        except stripe.InvalidRequestError:
            # Already cancelled or succeeded: there is nothing left to cancel.
            return False
        return True

    def refund_intent(self, intent_id: str, order_id: str) -> None:
        self._call(
            "refund",
            lambda: self._client.v1.refunds.create(
                params={"payment_intent": intent_id, "metadata": {"orderId": order_id}},
                options={"idempotency_key": f"refund-{order_id}"},
            ),
        )

    def refund(self, intent_id: str, refund_id: str, amount: Decimal) -> str:
        stripe = self._stripe
        try:
            created: Any = self._call(
                "partial refund",
                lambda: self._client.v1.refunds.create(
                    params={
                        "payment_intent": intent_id,
                        "amount": money.minor_units(amount),
                        "metadata": {"refundId": refund_id},
                    },
                    # A retry of the same refund (ours or the SDK's) finds the same refund.
                    options={"idempotency_key": f"refund-{refund_id}"},
                ),
            )
        except stripe.InvalidRequestError as exc:
            raise RefundRefused(str(exc.user_message or exc.code or "refused")) from exc
        if created.status == "failed":
            raise RefundRefused(f"refund {created.id} failed")
        return str(created.id)

    def verify_webhook(self, payload: bytes | str, signature: str | None) -> WebhookEvent:
        stripe = self._stripe
        invalid = ValidationError("invalid webhook signature", field="Stripe-Signature")
        if not signature:
            raise invalid
        try:
            stripe.WebhookSignature.verify_header(
                payload if isinstance(payload, str) else payload.decode("utf-8"),
                signature,
                self._webhook_secret,
                WEBHOOK_TOLERANCE_SECONDS,
            )
        except (stripe.SignatureVerificationError, ValueError):
            raise invalid from None
        try:
            event = json.loads(payload)
            obj = event["data"]["object"]
            metadata = obj.get("metadata") or {}
            order_id = metadata.get("orderId")
            received, currency = obj.get("amount_received"), obj.get("currency")
            return WebhookEvent(
                event_id=str(event["id"]),
                event_type=str(event["type"]),
                intent_id=str(obj["id"]),
                order_id=order_id if isinstance(order_id, str) else None,
                # bool is an int subclass: true is no amount.
                amount_received=received if type(received) is int else None,
                currency=currency if isinstance(currency, str) else None,
            )
        except (KeyError, TypeError, AttributeError, ValueError):
            raise ValidationError("malformed webhook event") from None


def _stripe_secrets() -> tuple[str, str]:
    """The API key and webhook secret: from the environment locally, else Secrets Manager."""
    settings = get_settings()
    if settings.stripe_api_key and settings.stripe_webhook_secret:
        return settings.stripe_api_key, settings.stripe_webhook_secret
    if not settings.payment_secret_id:
        raise RuntimeError("PAYMENT_PROVIDER=stripe needs PAYMENT_SECRET_ID or STRIPE_* settings")
    from chalicelib.aws import secret_string

    values = json.loads(secret_string(settings.payment_secret_id))
    api_key, webhook_secret = values.get("apiKey"), values.get("webhookSecret")
    if not api_key or not webhook_secret:
        raise RuntimeError(f"secret {settings.payment_secret_id} lacks apiKey or webhookSecret")
    return str(api_key), str(webhook_secret)


@functools.cache
def provider() -> PaymentProvider | None:
    """The stage's provider, built once per container; ``None`` without one."""
    settings = get_settings()
    if settings.payment_provider == NONE:
        return None
    if settings.payment_provider != STRIPE:
        raise RuntimeError(f"PAYMENT_PROVIDER must be one of {PROVIDERS}")
    api_key, webhook_secret = _stripe_secrets()
    return StripeProvider(api_key, webhook_secret, settings.stripe_api_base)
