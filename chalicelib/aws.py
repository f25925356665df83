"""botocore clients, created lazily and shared per container, with bounded time.

botocore (already in the bundle through PynamoDB) honours ``AWS_ENDPOINT_URL``
just like PynamoDB, so the local emulator needs no code path of its own.

Every client, ours and PynamoDB's, uses the same deliberate timing (docs/faults.md):
botocore's ``standard`` retry mode with ``SDK_MAX_ATTEMPTS`` attempts, and connect and
read timeouts from the configuration. On top of that, a request has a time budget
(:func:`deadline`): an attempt that could not finish within it is not started, and the
request answers 503 instead of running into API Gateway's 29 s limit; nor is a retry
backed off for when the backoff and the retry together could not fit.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import time
from collections.abc import Iterator
from typing import Any

from chalicelib.config import get_settings
from chalicelib.errors import TRANSIENT_ERROR_CODES, DeadlineExceeded, ServiceBusy, is_transient

_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "aws_deadline", default=None
)
_WATCHED = "_shop_deadline_watched"


def client_config() -> Any:
    import botocore.config

    settings = get_settings()
    return botocore.config.Config(
        # "standard": jittered exponential backoff (1 s base for throttling) and a retry
        # quota that stops retrying when most calls fail. Not "adaptive": its client-side
        # rate limiter may sleep for an unbounded time; not "legacy": 10 attempts for DynamoDB.
        retries={"mode": "standard", "total_max_attempts": settings.sdk_max_attempts},
        connect_timeout=settings.sdk_connect_timeout_seconds,
        read_timeout=settings.sdk_read_timeout_seconds,
    )


@functools.cache
def client(service: str) -> Any:
    import botocore.session

    created = botocore.session.get_session().create_client(service, config=client_config())
    watch(created)
    return created


def secret_string(secret_id: str) -> str:
    """A Secrets Manager secret's ``SecretString``; a throttled or unavailable service is a 503.

    Callers cache the result per container (``functools.cache``), which keeps no failure:
    the next request fetches the secret again.
    """
    try:
        secret = client("secretsmanager").get_secret_value(SecretId=secret_id)
    except Exception as exc:
        if is_transient(exc):
            raise ServiceBusy(
                "the service is busy; please retry", dependency="SecretsManager"
            ) from exc
        raise
    value: str = secret["SecretString"]
    return value


def secret_version(secret_id: str, version_stage: str) -> tuple[str, int] | None:
    """The ``SecretString`` of the secret's version with that staging label, and when that
    version was created (epoch seconds); None when no version has the label. Transient
    failures are a 503, as in :func:`secret_string`."""
    try:
        secret = client("secretsmanager").get_secret_value(
            SecretId=secret_id, VersionStage=version_stage
        )
    except Exception as exc:
        if is_transient(exc):
            raise ServiceBusy(
                "the service is busy; please retry", dependency="SecretsManager"
            ) from exc
        if getattr(exc, "response", {}).get("Error", {}).get("Code") == "ResourceNotFoundException":
            return None
        raise
    created = secret.get("CreatedDate")
    return str(secret["SecretString"]), int(created.timestamp()) if created else 0


def attempt_seconds() -> float:
    """The longest one HTTP attempt can take: connect, then read."""
    settings = get_settings()
    return settings.sdk_connect_timeout_seconds + settings.sdk_read_timeout_seconds


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Bound the AWS calls made inside to ``seconds`` from now (nested: the earlier wins)."""
    limit = time.monotonic() + seconds
    outer = _deadline.get()
    token = _deadline.set(limit if outer is None else min(outer, limit))
    try:
        yield
    finally:
        _deadline.reset(token)


def watch(botocore_client: Any) -> None:
    """Apply the request deadline to every attempt (retries included) of this client."""
    if getattr(botocore_client, _WATCHED, False):
        return
    service = botocore_client.meta.service_model.service_id.replace(" ", "")
    events = botocore_client.meta.events
    events.register_first("before-send", functools.partial(_before_attempt, service))
    events.register_first("needs-retry", functools.partial(_before_retry, service))
    setattr(botocore_client, _WATCHED, True)


def _over_budget(seconds: float) -> bool:
    limit = _deadline.get()
    return limit is not None and time.monotonic() + seconds > limit


def _before_attempt(service: str, **_: Any) -> None:
    if _over_budget(attempt_seconds()):
        # Raised inside botocore's send, which is not retried and propagates as is.
        raise DeadlineExceeded("the service is busy; please retry", dependency=service)


# The longest backoff botocore's standard mode sleeps after the n-th failed attempt is
# 2 ** (n - 1) seconds (throttling errors; others back off for much less), at most 20 s.
MAX_BACKOFF_SECONDS = 20.0


def _before_retry(
    service: str,
    attempts: int,
    response: Any = None,
    caught_exception: BaseException | None = None,
    **_: Any,
) -> None:
    """Give up now, instead of backing off, when backoff plus a retry cannot fit the budget."""
    if attempts >= get_settings().sdk_max_attempts or not _retryable(response, caught_exception):
        return
    backoff = min(2.0 ** (attempts - 1), MAX_BACKOFF_SECONDS)
    if _over_budget(backoff + attempt_seconds()):
        raise DeadlineExceeded("the service is busy; please retry", dependency=service)


def _retryable(response: Any, caught_exception: BaseException | None) -> bool:
    """Whether botocore would retry this attempt's outcome (a transient failure)."""
    if caught_exception is not None:
        return is_transient(caught_exception)
    if not response:
        return False
    http_response, parsed = response
    code = (parsed or {}).get("Error", {}).get("Code")
    return code in TRANSIENT_ERROR_CODES or http_response.status_code >= 500
