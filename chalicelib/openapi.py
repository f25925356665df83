"""The OpenAPI 3.1 document, built from the very schemas that validate requests.

Each route in ``app.py`` is declared once, with its :class:`Operation`; the
document is built from that list, so a route cannot be added in one place only
(``tests/api/test_openapi.py`` also compares the document with ``app.routes``).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any, NamedTuple

from chalicelib.order_view import ORDER_STATUSES
from chalicelib.pagination import CURSOR_PATTERN, DEFAULT_LIMIT, MAX_LIMIT
from chalicelib.schemas import (
    CATEGORY_PATTERN,
    MAX_SEARCH_LENGTH,
    REQUEST_SCHEMAS,
    RESPONSE_SCHEMAS,
)

PUBLIC, USER, ADMIN = "public", "user", "admin"


class Operation(NamedTuple):
    """One route: what it does, who may call it, what it takes and answers."""

    method: str  # lower case, as in the document
    path: str
    summary: str
    access: str  # PUBLIC, USER or ADMIN
    request: str | None  # request body schema
    status: int  # success status
    response: str | None  # success body schema
    errors: tuple[int, ...]
    parameters: tuple[dict[str, Any], ...] = ()  # beyond path, limit and cursor
    headers: tuple[tuple[str, dict[str, Any]], ...] = ()  # of the success response


_LIST_PARAMS = [
    {
        "name": "limit",
        "in": "query",
        "required": False,
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
    },
    {
        "name": "cursor",
        "in": "query",
        "required": False,
        "description": "The nextCursor of the previous page: opaque, unpadded base64url."
        " A well-formed cursor this API did not issue for this listing is a 400.",
        "schema": {"type": "string", "minLength": 1, "maxLength": 2048, "pattern": CURSOR_PATTERN},
    },
]
ORDERS_USER_FILTER = {
    "name": "userId",
    "in": "query",
    "required": False,
    "description": "Admins: list this user's orders. Customers: only their own id.",
    # The same id rule as the body's userId; others are a 400.
    "schema": REQUEST_SCHEMAS["OrderCreate"]["properties"]["userId"],
}
ORDERS_STATUS_FILTER = {
    "name": "status",
    "in": "query",
    "required": False,
    "description": "Admins only: the fulfilment queue, orders of this status, newest first.",
    "schema": {"type": "string", "enum": list(ORDER_STATUSES)},
}
CATEGORY_FILTER = {
    "name": "category",
    "in": "query",
    "required": False,
    "description": "Only products of this category.",
    "schema": {"type": "string", "pattern": CATEGORY_PATTERN},
}
NAME_SEARCH = {
    "name": "q",
    "in": "query",
    "required": False,
    "description": "Only products whose name starts with this text, ignoring case.",
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_SEARCH_LENGTH},
}
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Retries with the same key within 24 h return the original order.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
}
IDEMPOTENT_REPLAYED = (
    "Idempotent-Replayed",
    {
        "description": '"true" when this is the original order of a replayed'
        " Idempotency-Key (same body, same 201); absent when the order was placed now.",
        "schema": {"type": "string", "enum": ["true"]},
    },
)
_RETRY_AFTER = {
    "Retry-After": {"description": "Seconds to wait before retrying.", "schema": {"type": "string"}}
}
_OPENAPI_DOCUMENT = {
    "type": "object",
    "description": "An OpenAPI 3.1 document: this one.",
    "properties": {"openapi": {"type": "string", "pattern": "^3\\.1\\."}},
    "required": ["openapi", "info", "paths"],
    "additionalProperties": True,
}
# What the server refuses (400) on a request the schemas admit: stated per operation, so the
# document says everything the server checks (the fuzzer's configuration allows exactly these).
_CURSOR_400 = "a well-formed cursor this API did not issue for this listing"
_LINK_400 = "a well-formed token that is unknown, already used or expired (InvalidLink)"
BAD_REQUEST_BEYOND_SCHEMA: dict[tuple[str, str], str] = {
    ("get", "/users"): _CURSOR_400,
    ("get", "/products"): _CURSOR_400,
    ("get", "/orders"): _CURSOR_400,
    ("post", "/orders"): "an unknown productId (listed in productIds) or buyer userId; more"
    " than 1000 of one product across lines; an Idempotency-Key with unprintable characters",
    ("put", "/users/{userId}"): "password without currentPassword when changing your own;"
    " currentPassword without password",
    ("post", "/users/verify-email"): _LINK_400,
    ("post", "/users/reset-password"): _LINK_400,
}
_ERROR_TEXT = {
    400: "Invalid request (outside the schema)",
    413: "Request body over 64 KiB (refused before it is parsed)",
    429: "Too many wrong passwords for this account; retry after Retry-After seconds",
    401: "Missing, invalid, expired or revoked token (or wrong credentials)",
    403: "Signed in, but not allowed",
    404: "Not found (also for resources the caller may not see)",
    409: "Conflict (taken, changed concurrently, insufficient stock, wrong status, empty cart)",
    415: "Content-Type must be application/json",
    422: "Idempotency-Key reused with a different request",
    503: "Busy (throttled or unavailable dependency, or concurrent updates): nothing was"
    " written; send the same request again after Retry-After (docs/faults.md)",
}


def _page(item_schema: str) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "items": {"type": "array", "items": {"$ref": f"#/components/schemas/{item_schema}"}},
            "nextCursor": {"type": ["string", "null"]},
        },
        "required": ["items", "nextCursor"],
    }


def _json(schema_name: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_name}"}}}


def _operation(op: Operation) -> dict[str, Any]:
    success: dict[str, Any] = {"description": "Success"}
    operation: dict[str, Any] = {
        "summary": op.summary,
        "operationId": f"{op.method}{op.path}".replace("/", "_").replace("{", "").replace("}", ""),
        "responses": {str(op.status): success},
    }
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in (segment[1:-1] for segment in op.path.split("/") if segment.startswith("{"))
    ]
    if op.response and op.response.endswith("Page"):
        parameters += _LIST_PARAMS
    parameters += op.parameters
    if parameters:
        operation["parameters"] = parameters
    if op.request:
        operation["requestBody"] = {"required": True, "content": _json(op.request)}
    if op.response:
        success["content"] = _json(op.response)
    if op.headers:
        success["headers"] = dict(op.headers)
    if op.access != PUBLIC:
        operation["security"] = [{"bearerAuth": []}]
    # 413 wherever there is a body (chalicelib.http refuses it before parsing).
    errors = (*op.errors, *((413,) if op.request else ()))
    for code in sorted(set(errors)):
        description = _ERROR_TEXT[code]
        beyond = BAD_REQUEST_BEYOND_SCHEMA.get((op.method, op.path))
        if code == 400 and beyond:
            description += "; also, within the schema: " + beyond
        error: dict[str, Any] = {"description": description, "content": _json("Error")}
        if code in (429, 503):
            error["headers"] = _RETRY_AFTER
        operation["responses"][str(code)] = error
    return operation


def document(operations: Sequence[Operation]) -> dict[str, Any]:
    """The document of these operations: a new one each time (callers may change it)."""
    schemas = {**REQUEST_SCHEMAS, **RESPONSE_SCHEMAS}
    schemas.update(
        {
            "UserPage": _page("User"),
            "ProductPage": _page("Product"),
            "OrderPage": _page("Order"),
            "OpenApiDocument": _OPENAPI_DOCUMENT,
        }
    )
    paths: dict[str, dict[str, Any]] = {}
    for op in operations:
        paths.setdefault(op.path, {})[op.method] = _operation(op)
    built = {
        "openapi": "3.1.0",
        "info": {
            "title": "Shop API",
            "version": "1.0.0",
            "description": "Users, products and orders. Errors are {error, code} JSON."
            " Bodies are I-JSON (RFC 7493): a string holding an unpaired surrogate escape"
            ' such as "\\ud800" is a 400, whatever the schema says.',
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
        },
    }
    return copy.deepcopy(built)
