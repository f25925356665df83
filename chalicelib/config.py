"""Configuration, read from the environment in one place.

Chalice sets each stage's ``environment_variables`` (``.chalice/config.json``)
before the app is imported, in Lambda, under ``chalice local`` and while
``chalice package`` imports the app, so reading them once is safe.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    app_name: str
    stage: str
    users_table: str
    products_table: str
    orders_table: str
    order_events_topic: str
    order_events_topic_arn: str | None
    orders_stream_arn: str
    token_secret: str | None
    token_secret_id: str | None
    token_ttl_seconds: int
    token_issuer: str
    log_level: str
    # AWS SDK timing (boto3 clients and PynamoDB alike); see docs/faults.md for the choice.
    sdk_connect_timeout_seconds: float
    sdk_read_timeout_seconds: float
    sdk_max_attempts: int
    # A request stops calling AWS (and answers 503) rather than run past this.
    request_budget_seconds: float
    # Payments (docs/payments.md): "none" places orders as before; "stripe" reserves
    # stock until the PaymentIntent succeeds, or gives it back after the timeout.
    payment_provider: str = "none"
    payment_timeout_seconds: int = 900
    # Stripe's secret API key and webhook signing secret: given directly (local stack),
    # else read from the Secrets Manager secret PAYMENT_SECRET_ID (JSON with both).
    stripe_api_key: str | None = None
    stripe_webhook_secret: str | None = None
    payment_secret_id: str | None = None
    # Only the local stack sets it: the SDK (and the buyer's browser) then talk to localstripe.
    stripe_api_base: str | None = None
    # Public: the browser confirms a PaymentIntent with it and the client secret. A
    # ``pk_test_`` key makes the web page offer Stripe's test cards.
    stripe_publishable_key: str | None = None
    # Browser origins allowed to call the API (CORS); empty: no CORS headers at all.
    cors_allowed_origins: tuple[str, ...] = ()
    # A key of chalicelib.passwords.PROFILES; only test suites set anything but "production".
    password_hashing: str = "production"
    # The SES identity buyer emails come from; None turns buyer emails off.
    email_sender: str | None = None
    # The web page's address, for the links in account emails (verification, password
    # reset). Never taken from a request's Host header, which a caller chooses.
    public_url: str | None = None
    # ISO 4217 code of every price, order and charge (chalicelib/money.py lists those allowed).
    currency: str = "USD"
    # Whether catalogue prices already include tax (tax is then the part of the price it is).
    prices_include_tax: bool = False
    # How long after delivery a buyer may ask to return lines.
    return_window_days: int = 30
    # Whose shipping and tax files (chalicelib/stages/<name>/) this stage prices with.
    rates_stage: str = "local"

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        app_name = environ.get("APP_NAME", "shop")
        stage = environ.get("APP_STAGE", "local")
        prefix = f"{app_name}-{stage}"
        return cls(
            app_name=app_name,
            stage=stage,
            users_table=environ.get("USERS_TABLE", f"{prefix}-users"),
            products_table=environ.get("PRODUCTS_TABLE", f"{prefix}-products"),
            orders_table=environ.get("ORDERS_TABLE", f"{prefix}-orders"),
            order_events_topic=environ.get("ORDER_EVENTS_TOPIC", f"{prefix}-order-events"),
            order_events_topic_arn=environ.get("ORDER_EVENTS_TOPIC_ARN") or None,
            orders_stream_arn=environ.get("ORDERS_STREAM_ARN") or unset_stream_arn(prefix),
            token_secret=environ.get("TOKEN_SECRET") or None,
            token_secret_id=environ.get("TOKEN_SECRET_ID") or None,
            token_ttl_seconds=int(environ.get("TOKEN_TTL_SECONDS", "3600")),
            token_issuer=environ.get("TOKEN_ISSUER", prefix),
            log_level=environ.get("LOG_LEVEL", "INFO").upper(),
            sdk_connect_timeout_seconds=float(environ.get("SDK_CONNECT_TIMEOUT_SECONDS", "1")),
            sdk_read_timeout_seconds=float(environ.get("SDK_READ_TIMEOUT_SECONDS", "2")),
            sdk_max_attempts=int(environ.get("SDK_MAX_ATTEMPTS", "3")),
            request_budget_seconds=float(environ.get("REQUEST_BUDGET_SECONDS", "10")),
            payment_provider=environ.get("PAYMENT_PROVIDER", "none").strip().lower() or "none",
            payment_timeout_seconds=int(environ.get("PAYMENT_TIMEOUT_SECONDS", "900")),
            stripe_api_key=environ.get("STRIPE_API_KEY") or None,
            stripe_webhook_secret=environ.get("STRIPE_WEBHOOK_SECRET") or None,
            payment_secret_id=environ.get("PAYMENT_SECRET_ID") or None,
            stripe_api_base=environ.get("STRIPE_API_BASE") or None,
            stripe_publishable_key=environ.get("STRIPE_PUBLISHABLE_KEY") or None,
            cors_allowed_origins=tuple(
                origin.strip().rstrip("/")
                for origin in environ.get("CORS_ALLOWED_ORIGINS", "").split(",")
                if origin.strip()
            ),
            password_hashing=environ.get("PASSWORD_HASHING", "production"),
            email_sender=environ.get("EMAIL_SENDER") or None,
            public_url=environ.get("PUBLIC_URL", "").strip().rstrip("/") or None,
            currency=environ.get("CURRENCY", "USD").strip().upper() or "USD",
            prices_include_tax=_flag(environ.get("PRICES_INCLUDE_TAX", "false")),
            return_window_days=int(environ.get("RETURN_WINDOW_DAYS", "30")),
            rates_stage=environ.get("RATES_STAGE", "").strip() or stage,
        )


def _flag(value: str) -> bool:
    """``true``/``false`` (any case, ``1``/``0`` too); anything else stops the import."""
    lowered = value.strip().lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no", ""):
        return False
    raise ValueError(f"expected true or false, not {value!r}")


def unset_stream_arn(prefix: str) -> str:
    """Stands in for the orders table's stream where nothing subscribes to it.

    Only ``chalice deploy``/``chalice package`` read the stream ARN (while importing the
    app, to create the event source mapping); ``make deploy`` passes the real one in
    ``ORDERS_STREAM_ARN`` and refuses to deploy this, and ``make package`` replaces it
    with ``GetAtt OrdersTable.StreamArn``. Inside Lambda and locally it is never used.
    """
    return f"arn:aws:dynamodb:unset:000000000000:table/{prefix}-orders/stream/unset"


@functools.lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_environ()
