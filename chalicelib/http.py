"""The one place where errors become HTTP responses."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping
from typing import Any

from chalice.app import Chalice, Request, Response

from chalicelib import aws
from chalicelib.config import get_settings
from chalicelib.errors import (
    CHALICE_CODES,
    AppError,
    PayloadTooLarge,
    ServiceBusy,
    Unauthorized,
    is_transient,
)
from chalicelib.observability import metric

logger = logging.getLogger("shop.http")

JSON = "application/json"
# Routes without a body must not refuse a request for its Content-Type (Chalice's
# default, ["application/json"], is checked on every route, body or not).
ANY_CONTENT = ["*/*"]
_INTERNAL = AppError("internal server error").body()


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
    retry_after = getattr(error, "retry_after", None)
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
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
        # Chalice's own codes become ours (InternalServerError, or anything unforeseen, a 500's).
        error = CHALICE_CODES.get(body["Code"])
        if error is None:
            response.body = dict(_INTERNAL)
        elif error.status_code == 415:
            response.body = error("Content-Type must be application/json").body()
        else:
            response.body = error(str(body.get("Message", ""))).body()
    return response


# --- hardening: body limit, security headers, CORS ------------------------------------------

MAX_BODY_BYTES = 64 * 1024
# Responses that carry neither a token nor personal data; everything else is no-store.
PUBLIC_READS = frozenset(
    {("GET", "/products"), ("GET", "/products/{productId}"), ("GET", "/openapi.json")}
)
CORS_ALLOWED_HEADERS = "Authorization, Content-Type, Idempotency-Key"
CORS_EXPOSED_HEADERS = "Retry-After, Idempotent-Replayed"
CORS_MAX_AGE_SECONDS = 600


def _allowed_origin(request: Request) -> str | None:
    origin = request.headers.get("origin")
    if isinstance(origin, str) and origin.rstrip("/") in get_settings().cors_allowed_origins:
        return origin
    return None


def _add_headers(response: Response, headers: dict[str, str]) -> None:
    # Header names are matched case-insensitively: a view may have set one already.
    present = {name.lower() for name in response.headers}
    for name, value in headers.items():
        if name.lower() not in present:
            response.headers[name] = value


def _security_headers(request: Request) -> dict[str, str]:
    headers = {"X-Content-Type-Options": "nosniff"}
    if (request.method, request.path) not in PUBLIC_READS:
        headers["Cache-Control"] = "no-store"
    if get_settings().cors_allowed_origins:
        # The answer depends on Origin: caches must not hand one origin's answer to another.
        headers["Vary"] = "Origin"
        origin = _allowed_origin(request)
        # A preflight's grant is decided by ``preflight`` (origin *and* method).
        if origin is not None and request.method != "OPTIONS":
            headers["Access-Control-Allow-Origin"] = origin
            headers["Access-Control-Expose-Headers"] = CORS_EXPOSED_HEADERS
    return headers


def hardening_middleware(request: Request, get_response: Callable[[Request], Response]) -> Response:
    """HTTP middleware: refuse large bodies unparsed; security and CORS headers on every answer.

    Registered like the others, it also wraps the errors Chalice produces itself (415, ...)
    and ours, so a browser on an allowed origin can read every 4xx.
    """
    body = request.raw_body
    if body and len(body) > MAX_BODY_BYTES:
        response = error_response(
            PayloadTooLarge(f"request body must be at most {MAX_BODY_BYTES} bytes")
        )
    else:
        response = get_response(request)
    _add_headers(response, _security_headers(request))
    return response


def preflight(request: Request, methods: list[str]) -> Response:
    """The answer to a CORS preflight (``OPTIONS``) for a path serving ``methods``."""
    response = Response(body="", status_code=204, headers={"Allow": ", ".join(methods)})
    origin = _allowed_origin(request)
    requested = (request.headers.get("access-control-request-method") or "").upper()
    if origin is not None and requested in methods:
        response.headers.update(
            {
                "Access-Control-Allow-Origin": origin,
                "Access-Control-Allow-Methods": ", ".join(methods),
                "Access-Control-Allow-Headers": CORS_ALLOWED_HEADERS,
                "Access-Control-Max-Age": str(CORS_MAX_AGE_SECONDS),
            }
        )
    return response


def register_preflight_routes(app: Chalice) -> None:
    """An ``OPTIONS`` route on every path, so preflights reach the app on API Gateway too.

    Chalice's own ``cors=`` allows one fixed origin per route and answers preflights from
    an API Gateway mock; a list of origins per stage needs the origin checked here.
    Call once, after every other route is declared.
    """
    for path, views in list(app.routes.items()):
        methods = sorted(views)
        if "OPTIONS" in methods:
            continue

        def options_view(*_args: Any, _methods: list[str] = methods, **_params: Any) -> Response:
            request = app.current_request
            assert request is not None  # Chalice sets it before calling any view
            return preflight(request, _methods)

        name = "preflight" + path.replace("/", "_").replace("{", "").replace("}", "")
        app.route(path, methods=["OPTIONS"], content_types=ANY_CONTENT, name=name)(options_view)
