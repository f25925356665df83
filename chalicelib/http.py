"""The one place where errors become HTTP responses."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping
from typing import Any

from chalice.app import Response

from chalicelib import aws
from chalicelib.config import get_settings
from chalicelib.errors import AppError, ServiceBusy, Unauthorized, is_transient
from chalicelib.observability import metric

logger = logging.getLogger("shop.http")

JSON = "application/json"
# Routes without a body must not refuse a request for its Content-Type (Chalice's
# default, ["application/json"], is checked on every route, body or not).
ANY_CONTENT = ["*/*"]
_INTERNAL = {"error": "internal server error", "code": "InternalError"}


RETRY_AFTER_SECONDS = 1


def bearer_token(headers: Mapping[str, str]) -> str | None:
    """The token of ``Authorization: Bearer <token>``; ``None`` when there is no header."""
    value = headers.get("authorization")
    if not value:
        return None
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Authorization header must be 'Bearer <token>'")
    return token.strip()


def error_response(error: AppError) -> Response:
    headers: dict[str, str | list[str]] = {}
    if error.status_code == 503:
        headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return Response(body=error.body(), status_code=error.status_code, headers=headers)


def _dependency(error: BaseException) -> str:
    """Which AWS service failed: named by the raiser, or DynamoDB for PynamoDB's errors."""
    from pynamodb.exceptions import PynamoDBException

    if isinstance(error, ServiceBusy) and error.dependency:
        return error.dependency
    if isinstance(error, PynamoDBException):
        return "DynamoDB"
    return "AWS"


def busy_response(error: BaseException) -> Response:
    """503 ServiceBusy with Retry-After, counted per dependency (docs/faults.md)."""
    dependency = _dependency(error)
    metric("ServiceBusy")
    metric(f"ServiceBusy{dependency}")
    logger.warning("%s is busy or unavailable: %s", dependency, error)
    busy = (
        error
        if isinstance(error, ServiceBusy)
        else ServiceBusy("the service is busy; please retry", dependency=dependency)
    )
    return error_response(busy)


def json_errors(view: Callable[..., Any]) -> Callable[..., Any]:
    """Map the project's errors to their status, throttled or unavailable AWS to a 503;
    anything else is a logged, opaque 500. AWS calls get the request's time budget."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with aws.deadline(get_settings().request_budget_seconds):
            try:
                return view(*args, **kwargs)
            except ServiceBusy as error:
                return busy_response(error)
            except AppError as error:
                return error_response(error)
            except Exception as error:
                if is_transient(error):
                    return busy_response(error)
                logger.exception("unhandled error in %s", view.__name__)
                metric("InternalErrors")
                return Response(body=_INTERNAL, status_code=500)

    return wrapper


def chalice_errors_as_json(event: Any, get_response: Callable[[Any], Response]) -> Response:
    """HTTP middleware: errors Chalice raises itself (415, ...) get our error shape too."""
    response = get_response(event)
    body = response.body
    if response.status_code >= 400 and isinstance(body, dict) and "Code" in body:
        code = body["Code"]
        message = body.get("Message", "")
        if code == "UnsupportedMediaType":
            message = "Content-Type must be application/json"
        elif code == "InternalServerError":
            message = _INTERNAL["error"]
        response.body = {"error": message, "code": code}
    return response
