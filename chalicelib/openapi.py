"""The OpenAPI 3.1 document, built from the very schemas that validate requests.

``OPERATIONS`` is the route list; a test fails when it and ``app.py`` differ.
"""

from __future__ import annotations

import copy
import functools
from typing import Any

from chalicelib.pagination import CURSOR_PATTERN, DEFAULT_LIMIT, MAX_LIMIT
from chalicelib.schemas import REQUEST_SCHEMAS, RESPONSE_SCHEMAS

PUBLIC, USER, ADMIN = "public", "user", "admin"

# (method, path, summary, access, request schema, success status, response schema, errors)
OPERATIONS: list[tuple[str, str, str, str, str | None, int, str | None, tuple[int, ...]]] = [
    ("post", "/users/register", "Register a customer", PUBLIC, "UserRegister", 201, "User",
     (400, 409, 415)),
    ("post", "/users/login", "Sign in and get a bearer token", PUBLIC, "UserLogin", 200,
     "LoginResult", (400, 401, 415)),
    ("get", "/users", "List users (admin)", ADMIN, None, 200, "UserPage", (400, 401, 403)),
    ("get", "/users/{userId}", "Read a user (that user or admin)", USER, None, 200, "User",
     (401, 404)),
    ("put", "/users/{userId}", "Change name and/or password", USER, "UserUpdate", 200, "User",
     (400, 401, 404, 409, 415)),
    ("delete", "/users/{userId}", "Delete a user (that user or admin)", USER, None, 204, None,
     (401, 404)),
    ("get", "/products", "List products", PUBLIC, None, 200, "ProductPage", (400,)),
    ("post", "/products", "Create a product (admin)", ADMIN, "ProductCreate", 201, "Product",
     (400, 401, 403, 415)),
    ("get", "/products/{productId}", "Read a product", PUBLIC, None, 200, "Product", (404,)),
    ("put", "/products/{productId}", "Change a product (admin)", ADMIN, "ProductUpdate", 200,
     "Product", (400, 401, 403, 404, 409, 415)),
    ("delete", "/products/{productId}", "Delete a product (admin)", ADMIN, None, 204, None,
     (401, 403, 404)),
    ("post", "/orders", "Place an order", USER, "OrderCreate", 201, "Order",
     (400, 401, 403, 409, 415, 422, 503)),
    ("get", "/orders", "List orders, newest first", USER, None, 200, "OrderPage",
     (400, 401, 403)),
    ("get", "/orders/{orderId}", "Read an order (owner or admin)", USER, None, 200, "Order",
     (401, 404)),
    ("post", "/orders/{orderId}/cancel", "Cancel an order, restoring stock", USER, None, 200,
     "Order", (401, 404, 409, 503)),
    ("get", "/openapi.json", "This document", PUBLIC, None, 200, "OpenApiDocument", ()),
]  # fmt: skip

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
_EXTRA_PARAMS: dict[tuple[str, str], list[dict[str, Any]]] = {
    ("get", "/orders"): [
        {
            "name": "userId",
            "in": "query",
            "required": False,
            "description": "Admins: list this user's orders. Customers: only their own id.",
            # The same id rule as the body's userId (1-64 characters); others are a 400.
            "schema": REQUEST_SCHEMAS["OrderCreate"]["properties"]["userId"],
        }
    ],
    ("post", "/orders"): [
        {
            "name": "Idempotency-Key",
            "in": "header",
            "required": False,
            "description": "Retries with the same key within 24 h return the original order.",
            "schema": {"type": "string", "minLength": 1, "maxLength": 255},
        }
    ],
}
# Answers that carry a header worth knowing about, by (method, path, status).
_RESPONSE_HEADERS: dict[tuple[str, str, int], dict[str, Any]] = {
    ("post", "/orders", 201): {
        "Idempotent-Replayed": {
            "description": '"true" when this is the original order of a replayed'
            " Idempotency-Key (same body, same 201); absent when the order was placed now.",
            "schema": {"type": "string", "enum": ["true"]},
        }
    },
}
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
# Refusals an operation has beyond its OPERATIONS entry: the password backoff.
_EXTRA_ERRORS: dict[tuple[str, str], tuple[int, ...]] = {
    ("post", "/users/login"): (429,),
    ("put", "/users/{userId}"): (429,),
}
# What the server refuses (400) on a request the schemas admit: stated per operation, so the
# document says everything the server checks (the fuzzer's configuration allows exactly these).
_CURSOR_400 = "a well-formed cursor this API did not issue for this listing"
BAD_REQUEST_BEYOND_SCHEMA: dict[tuple[str, str], str] = {
    ("get", "/users"): _CURSOR_400,
    ("get", "/products"): _CURSOR_400,
    ("get", "/orders"): _CURSOR_400,
    ("post", "/orders"): "an unknown productId (listed in productIds) or buyer userId; more"
    " than 1000 of one product across lines; an Idempotency-Key with unprintable characters",
    ("put", "/users/{userId}"): "password without currentPassword when changing your own;"
    " currentPassword without password",
}
_ERROR_TEXT = {
    400: "Invalid request (outside the schema)",
    413: "Request body over 64 KiB (refused before it is parsed)",
    429: "Too many wrong passwords for this account; retry after Retry-After seconds",
    401: "Missing, invalid, expired or revoked token (or wrong credentials)",
    403: "Signed in, but not allowed",
    404: "Not found (also for resources the caller may not see)",
    409: "Conflict (taken, changed concurrently, insufficient stock, not cancellable)",
    415: "Content-Type must be application/json",
    422: "Idempotency-Key reused with a different request",
    503: "Transient conflict; retry",
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


def _operation(method, path, summary, access, request, status, response, errors):
    operation: dict[str, Any] = {
        "summary": summary,
        "operationId": f"{method}{path}".replace("/", "_").replace("{", "").replace("}", ""),
        "responses": {str(status): {"description": "Success"}},
    }
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in (segment[1:-1] for segment in path.split("/") if segment.startswith("{"))
    ]
    if response and response.endswith("Page"):
        parameters += _LIST_PARAMS
    parameters += _EXTRA_PARAMS.get((method, path), [])
    if parameters:
        operation["parameters"] = parameters
    if request:
        operation["requestBody"] = {"required": True, "content": _json(request)}
    if response:
        operation["responses"][str(status)]["content"] = _json(response)
    if (method, path, status) in _RESPONSE_HEADERS:
        operation["responses"][str(status)]["headers"] = _RESPONSE_HEADERS[(method, path, status)]
    if access != PUBLIC:
        operation["security"] = [{"bearerAuth": []}]
    errors = (*errors, *_EXTRA_ERRORS.get((method, path), ()), *((413,) if request else ()))
    for code in sorted(set(errors)):
        description = _ERROR_TEXT[code]
        if code == 400 and (method, path) in BAD_REQUEST_BEYOND_SCHEMA:
            description += "; also, within the schema: " + BAD_REQUEST_BEYOND_SCHEMA[(method, path)]
        operation["responses"][str(code)] = {"description": description, "content": _json("Error")}
        if code in (429, 503):
            operation["responses"][str(code)]["headers"] = _RETRY_AFTER
    return operation


@functools.cache
def _document() -> dict[str, Any]:
    schemas = {**copy.deepcopy(REQUEST_SCHEMAS), **copy.deepcopy(RESPONSE_SCHEMAS)}
    schemas.update(
        {
            "UserPage": _page("User"),
            "ProductPage": _page("Product"),
            "OrderPage": _page("Order"),
            "OpenApiDocument": copy.deepcopy(_OPENAPI_DOCUMENT),
        }
    )
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(op[1], {})[op[0]] = _operation(*op)
    return {
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


def document() -> dict[str, Any]:
    return copy.deepcopy(_document())
