"""Structured JSON logs and CloudWatch Embedded Metric Format (EMF) metrics.

Standard library only: AWS Lambda Powertools gives the same output shape but
costs more cold-start import time than this module (see README, "Operating it").
Metrics are buffered per request (or event) and written as one EMF line to
stdout when it ends, so recording a metric never calls an AWS API.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

from chalicelib.config import get_settings

NAMESPACE = "Shop"
_COLD = True
_metrics: contextvars.ContextVar[list[tuple[str, float, str]] | None] = contextvars.ContextVar(
    "metrics", default=None
)
_user_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("user_id", default=None)


class JsonFormatter(logging.Formatter):
    """One JSON object per line; extra fields passed as ``extra={"fields": {...}}``."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "timestamp": round(record.created, 3),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "stage": get_settings().stage,
        }
        request_id = getattr(record, "aws_request_id", None)
        if request_id:
            entry["requestId"] = request_id
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exception"] = "".join(traceback.format_exception(*record.exc_info))
        return json.dumps(entry, default=str)


def configure_logging(level: str) -> None:
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.StreamHandler(sys.stdout))
    for handler in root.handlers:
        handler.setFormatter(JsonFormatter())
    root.setLevel(level)
    # botocore and PynamoDB at DEBUG would log request parameters; keep them quiet.
    for noisy in ("botocore", "urllib3", "pynamodb"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))


def set_user(user_id: str) -> None:
    _user_id.set(user_id)


def metric(name: str, value: float = 1, unit: str = "Count") -> None:
    """Record a metric for the current request; a no-op outside one (e.g. scripts)."""
    buffer = _metrics.get()
    if buffer is not None:
        buffer.append((name, value, unit))


def emf_document(metrics: list[tuple[str, float, str]], timestamp_ms: int) -> dict[str, Any]:
    """One EMF object holding every metric recorded (values of a repeated name are summed)."""
    values: dict[str, float] = {}
    units: dict[str, str] = {}
    for name, value, unit in metrics:
        values[name] = values.get(name, 0) + value
        units[name] = unit
    return {
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [
                {
                    "Namespace": NAMESPACE,
                    "Dimensions": [["Stage"]],
                    "Metrics": [{"Name": n, "Unit": units[n]} for n in values],
                }
            ],
        },
        "Stage": get_settings().stage,
        **values,
    }


def _flush(buffer: list[tuple[str, float, str]]) -> None:
    if buffer:
        print(json.dumps(emf_document(buffer, int(time.time() * 1000))), flush=True)


_Tokens = tuple[
    contextvars.Token[list[tuple[str, float, str]] | None], contextvars.Token[str | None], float
]


def begin() -> _Tokens:
    return _metrics.set([]), _user_id.set(None), time.perf_counter()


def end(tokens: _Tokens) -> tuple[float, str | None]:
    """Flush the metrics; returns the elapsed milliseconds and the signed-in user, if any."""
    metrics_token, user_token, started = tokens
    _flush(_metrics.get() or [])
    user_id = _user_id.get()
    _metrics.reset(metrics_token)
    _user_id.reset(user_token)
    return (time.perf_counter() - started) * 1000, user_id


def _cold_start() -> bool:
    global _COLD
    cold, _COLD = _COLD, False
    return cold


request_logger = logging.getLogger("shop.request")


def http_middleware(event: Any, get_response: Callable[[Any], Any]) -> Any:
    """One log line per request: id, route, method, status, latency, cold start, user."""
    cold = _cold_start()
    tokens = begin()
    response = get_response(event)
    latency_ms, user_id = end(tokens)
    context = getattr(event, "context", None) or {}
    lambda_context = getattr(event, "lambda_context", None)
    fields = {
        "requestId": context.get("requestId") or getattr(lambda_context, "aws_request_id", None),
        "route": context.get("resourcePath") or getattr(event, "path", None),
        "method": event.method,
        "status": response.status_code,
        "latencyMs": round(latency_ms, 2),
        "coldStart": cold,
    }
    if user_id:
        fields["userId"] = user_id
    # A 503 is a busy dependency, not a bug: a warning, so ERROR lines stay the bugs.
    level = logging.INFO
    if response.status_code == 503:
        level = logging.WARNING
    elif response.status_code >= 500:
        level = logging.ERROR
    request_logger.log(level, "request", extra={"fields": fields})
    return response


def event_middleware(event: Any, get_response: Callable[[Any], Any]) -> Any:
    """For the SNS subscriber and the sweep: flush metrics and log the outcome."""
    cold = _cold_start()
    tokens = begin()
    try:
        return get_response(event)
    except Exception:
        # Raised on purpose (e.g. DynamoDB unavailable) so that SNS retries; still counted.
        metric("HandlerErrors")
        logging.getLogger("shop.events").exception("event handler failed")
        raise
    finally:
        latency_ms, _ = end(tokens)
        request_logger.info(
            "event",
            extra={
                "fields": {
                    "eventType": type(event).__name__,
                    "latencyMs": round(latency_ms, 2),
                    "coldStart": cold,
                }
            },
        )
