"""Opt-in throttling at the emulator, to watch the app survive it over real HTTP.

``CHAOS_THROTTLE_RATE=0.2 make run`` answers one DynamoDB or SNS request in five with
the throttling error the real service sends, *before* moto sees it (so a throttled
request wrote nothing, as on AWS). botocore's own retries then run as they would
against AWS. A third of the throttled ``TransactWriteItems`` are answered the other way
DynamoDB throttles a transaction: ``TransactionCanceledException`` with a
``ThrottlingError`` reason, which botocore does not retry.

``CHAOS_DELAY_SECONDS`` adds latency to every such call (``python -m bench.faults`` uses
it to measure the worst case against the SDK timeouts). Secrets Manager takes part too.

``GET /_devstack/chaos`` shows the settings and what was injected; ``POST`` with
``{"rate": 0.0}`` (or ``{"delay": 2.5}``) changes them while the stack runs.
"""

from __future__ import annotations

import io
import json
import os
import random
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

CHAOS_ENV = "CHAOS_THROTTLE_RATE"
DELAY_ENV = "CHAOS_DELAY_SECONDS"
CONTROL_PATH = "/_devstack/chaos"
DYNAMODB_JSON = "application/x-amz-json-1.0"
_SECRETS_JSON = "application/x-amz-json-1.1"
_DYNAMODB_ERRORS = (
    "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
    "com.amazon.coral.availability#ThrottlingException",
)
_SNS_THROTTLED = (
    '<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error>'
    "<Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message>"
    "</Error><RequestId>chaos</RequestId></ErrorResponse>"
)

Answer = tuple[str, list[tuple[str, str]], bytes]


def rate_from_environ(environ: dict[str, str] | os._Environ[str] = os.environ) -> float:
    raw = environ.get(CHAOS_ENV, "").strip()
    if not raw:
        return 0.0
    rate = float(raw)
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"{CHAOS_ENV} must be between 0 and 1, not {raw}")
    return rate


def delay_from_environ(environ: dict[str, str] | os._Environ[str] = os.environ) -> float:
    return max(0.0, float(environ.get(DELAY_ENV, "").strip() or 0))


def service_of(environ: dict[str, Any]) -> str | None:
    """``dynamodb``, ``sns`` or ``secretsmanager`` for the requests chaos applies to."""
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target.startswith("DynamoDB_"):
        return "dynamodb"
    if target.startswith("secretsmanager."):
        return "secretsmanager"
    if "/sns/aws4_request" in environ.get("HTTP_AUTHORIZATION", ""):
        return "sns"
    return None


class Chaos:
    """Decides which requests to throttle and builds the throttling answers."""

    def __init__(self, rate: float = 0.0, seed: int | None = None, delay: float = 0.0) -> None:
        self.rate = rate
        self.delay = delay
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self.seen: dict[str, int] = {}
        self.injected: dict[str, int] = {}

    def _roll(self, key: str) -> bool:
        with self._lock:
            self.seen[key] = self.seen.get(key, 0) + 1
            hit = self.rate > 0 and self._random.random() < self.rate
            if hit:
                self.injected[key] = self.injected.get(key, 0) + 1
            return hit

    def answer(self, environ: dict[str, Any]) -> Answer | None:
        """The throttling answer for this request, or ``None`` to let it through."""
        service = service_of(environ)
        if service is None:
            return None
        if self.delay:
            time.sleep(self.delay)
        if self.rate <= 0:
            return None
        if service == "sns":
            if not self._roll("sns"):
                return None
            return "400 Bad Request", [("Content-Type", "text/xml")], _SNS_THROTTLED.encode()
        if service == "secretsmanager":
            if not self._roll("secretsmanager"):
                return None
            body = {"__type": "ThrottlingException", "message": "Rate exceeded"}
            return "400 Bad Request", [("Content-Type", _SECRETS_JSON)], json.dumps(body).encode()
        operation = environ["HTTP_X_AMZ_TARGET"].partition(".")[2]
        if not self._roll(f"dynamodb.{operation}"):
            return None
        with self._lock:
            cancel = operation == "TransactWriteItems" and self._random.random() < 1 / 3
            kind = self._random.choice(_DYNAMODB_ERRORS)
        if cancel:
            count = len(_peek_json(environ).get("TransactItems", [])) or 1
            reasons = [{"Code": "ThrottlingError", "Message": "Throughput exceeds capacity"}]
            reasons += [{"Code": "None"}] * (count - 1)
            body = {
                "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
                "message": "Transaction cancelled, please refer cancellation reasons",
                "CancellationReasons": reasons,
            }
        else:
            body = {"__type": kind, "message": "Rate of requests exceeds the allowed throughput"}
        return "400 Bad Request", [("Content-Type", DYNAMODB_JSON)], json.dumps(body).encode()

    def state(self) -> dict[str, Any]:
        with self._lock:
            return {
                "rate": self.rate,
                "delay": self.delay,
                "seen": dict(self.seen),
                "injected": dict(self.injected),
            }

    def serve_control(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") == "POST":
            wanted = _peek_json(environ)
            rate = float(wanted.get("rate", self.rate))
            delay = float(wanted.get("delay", self.delay))
            if not 0.0 <= rate <= 1.0 or delay < 0:
                start_response("400 Bad Request", [("Content-Type", "application/json")])
                return [b'{"error": "rate must be between 0 and 1, delay at least 0"}']
            self.rate, self.delay = rate, delay
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps(self.state()).encode()]


def _peek_json(environ: dict[str, Any]) -> dict[str, Any]:
    """Read the JSON body and put it back for whoever reads it next."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    raw = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(raw)
    try:
        parsed = json.loads(raw or b"{}")
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def respond(answer: Answer, start_response: Callable[..., Any]) -> Iterable[bytes]:
    status, headers, body = answer
    start_response(status, [*headers, ("Content-Length", str(len(body)))])
    return [body]
