"""The one place where errors become HTTP responses."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping
from typing import Any

from chalice.app import Response

from chalicelib.errors import AppError, Unauthorized

logger = logging.getLogger("shop.http")

JSON = "application/json"
# Routes without a body must not refuse a request for its Content-Type (Chalice's
# default, ["application/json"], is checked on every route, body or not).
ANY_CONTENT = ["*/*"]
_INTERNAL = {"error": "internal server error", "code": "InternalError"}


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
    headers: dict[str, str | list[str]] = {"Retry-After": "1"} if error.status_code == 503 else {}
    return Response(body=error.body(), status_code=error.status_code, headers=headers)


def json_errors(view: Callable[..., Any]) -> Callable[..., Any]:
    """Map the project's errors to their status; anything else is a logged, opaque 500."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except AppError as error:
            return error_response(error)
        except Exception:
            logger.exception("unhandled error in %s", view.__name__)
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
