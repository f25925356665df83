"""The OpenAPI 3.1 document, built from the very schemas that validate requests.

Each route in ``app.py`` is declared once, with its :class:`Operation`; the
document is built from that list, so a route cannot be added in one place only
(``tests/api/test_openapi.py`` also compares the document with ``app.routes``).
Everything else is derived too: the ``Error.code`` enum and the shared error
responses from :data:`chalicelib.errors.ERRORS`, a tag from a path's first
segment, an operationId from the view's name. A new route or error code needs no
edit here.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from typing import Any, NamedTuple

from chalicelib import money
from chalicelib.errors import ERRORS, AppError, meaning
from chalicelib.pagination import CURSOR_PATTERN, DEFAULT_LIMIT, MAX_LIMIT
from chalicelib.schemas import (
    ALL_SCHEMAS,
    AMOUNT,
    AUDIT_ENTITY_PATTERN,
    CATEGORY_PATTERN,
    MAX_SEARCH_LENGTH,
    OPTIONAL_BODIES,
    REQUEST_SCHEMAS,
    SHIPPING_METHOD_PATTERN,
    ref,
    resolved,
)
from chalicelib.text import FORMATS

PUBLIC, USER, ADMIN = "public", "user", "admin"

# A route's errors: a status (the codes declared with it, as one shared response), or the
# very error classes it raises (their codes are named in its own description, as for 409).
ErrorSpec = int | type[AppError]


class Operation(NamedTuple):
    """One route: what it does, who may call it, what it takes and answers."""

    method: str  # lower case, as in the document
    path: str
    summary: str
    access: str  # PUBLIC, USER or ADMIN
    request: str | None  # request body schema
    status: int  # success status
    response: str | None  # success body schema
    errors: tuple[ErrorSpec, ...]
    parameters: tuple[dict[str, Any], ...] = ()  # beyond path, limit and cursor
    headers: tuple[tuple[str, dict[str, Any]], ...] = ()  # of the success response
    operation_id: str = ""  # verb first, from the view's name (app.route)


def operation_id(view_name: str) -> str:
    """``cancel_order`` -> ``cancelOrder``: the view's name, the operation's verb-style id."""
    first, *rest = view_name.split("_")
    return first + "".join(word.capitalize() for word in rest)


# Shared parameters: an operation that lists one of these very dictionaries gets a $ref.
LIMIT = {
    "name": "limit",
    "in": "query",
    "required": False,
    "description": "Items per page.",
    "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
}
CURSOR = {
    "name": "cursor",
    "in": "query",
    "required": False,
    "description": "The nextCursor of the previous page: opaque, unpadded base64url."
    " A well-formed cursor this API did not issue for this listing is a 400.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 2048, "pattern": CURSOR_PATTERN},
}
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Retries with the same key within 24 h return the original order.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
}
# A refund names itself with its key (docs/api.md#refunds): required there.
REFUND_KEY = {
    **IDEMPOTENCY_KEY,
    "required": True,
    "description": "The refund's own name: the same key on the same order refunds once, and"
    " a retry finishes a refund left pending.",
}
_SHARED_PARAMETERS = {
    "limit": LIMIT,
    "cursor": CURSOR,
    "IdempotencyKey": IDEMPOTENCY_KEY,
    "RefundKey": REFUND_KEY,
}

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
    "schema": ref("OrderStatus"),
}
CATEGORY_FILTER = {
    "name": "category",
    "in": "query",
    "required": False,
    "description": "Only products of this category.",
    "schema": {"type": "string", "pattern": CATEGORY_PATTERN},
}
AUDIT_ENTITY_FILTER = {
    "name": "entity",
    "in": "query",
    "required": False,
    "description": "Only entries about one entity type (product, discount, user, order) or,"
    " as type:id (product:<productId>), one entity.",
    "schema": {"type": "string", "pattern": AUDIT_ENTITY_PATTERN, "maxLength": 80},
}
NAME_SEARCH = {
    "name": "q",
    "in": "query",
    "required": False,
    "description": "Only products whose name starts with this text, ignoring case.",
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_SEARCH_LENGTH},
}
SHIPPING_COUNTRY = {
    "name": "country",
    "in": "query",
    "required": True,
    "description": "Where to: ISO 3166-1 alpha-2 (any case); nowhere shipped to: no options.",
    "schema": {"type": "string", "pattern": "^[A-Za-z]{2}$"},
}
SHIPPING_SUBTOTAL = {
    "name": "subtotal",
    "in": "query",
    "required": False,
    "description": "The goods after discounts (free shipping from a threshold); default 0.",
    "schema": AMOUNT,
}
CART_COUNTRY = {
    **SHIPPING_COUNTRY,
    "required": False,
    "description": "Price the cart's totals for this country (else your default address's).",
}
CART_REGION = {
    "name": "region",
    "in": "query",
    "required": False,
    "description": "With country: the address's region (state, province), for its tax.",
    "schema": {"type": "string", "maxLength": 100},
}
CART_SHIPPING_METHOD = {
    "name": "shippingMethod",
    "in": "query",
    "required": False,
    "description": "Price the cart with this shipping method (default: the cheapest).",
    "schema": {"type": "string", "pattern": SHIPPING_METHOD_PATTERN},
}
STRIPE_SIGNATURE = {
    "name": "Stripe-Signature",
    "in": "header",
    "required": True,
    "description": "Stripe's signature of the raw body with the stage's webhook secret"
    " (t=<timestamp>,v1=<HMAC-SHA256>); a missing or wrong one is a 400.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 4096},
}
IDEMPOTENT_REPLAYED = (
    "Idempotent-Replayed",
    {
        "description": '"true" when this is the original order of a replayed'
        " Idempotency-Key (same body, same 201); absent when the order was placed now.",
        "schema": {"type": "string", "enum": ["true"]},
    },
)
# Bodies documented here but not validated by a schema (the provider signs them instead).
WEBHOOK_SCHEMAS: dict[str, dict[str, Any]] = {
    "StripeEvent": {
        "type": "object",
        "description": "A Stripe event (https://docs.stripe.com/api/events/object), sent as"
        " Stripe signed it: payment_intent.succeeded, .payment_failed and .canceled move the"
        " order in data.object.metadata.orderId; other types are acknowledged and ignored.",
        "properties": {
            "id": {"type": "string"},
            "type": {"type": "string"},
            "data": {
                "type": "object",
                "properties": {
                    "object": {
                        "type": "object",
                        "properties": {
                            "id": {"type": "string", "description": "The PaymentIntent"},
                            "metadata": {
                                "type": "object",
                                "properties": {"orderId": {"type": "string"}},
                            },
                        },
                        "required": ["id"],
                    }
                },
                "required": ["object"],
            },
        },
        "required": ["id", "type", "data"],
    },
    "WebhookResult": {
        "type": "object",
        "properties": {"result": {"type": "string", "description": "What the event did"}},
        "required": ["result"],
    },
}
_RETRY_AFTER = {"Retry-After": {"$ref": "#/components/headers/RetryAfter"}}
_OPENAPI_DOCUMENT = {
    "type": "object",
    "description": "An OpenAPI 3.1 document: this one.",
    "properties": {
        "openapi": {"type": "string", "pattern": "^3\\.1\\."},
        "info": {"type": "object"},
        "paths": {"type": "object"},
    },
    "required": ["openapi", "info", "paths"],
    "additionalProperties": True,
}
# What the server refuses (400) on a request the schemas admit: stated per operation, so the
# document says everything the server checks (the fuzzer's configuration allows exactly these).
_CURSOR_400 = "a well-formed cursor this API did not issue for this listing"
_DISCOUNT_400 = (
    "a code without exactly one of percentOff and amountOff, or with both productIds and"
    " categories; an amountOff of zero; a startsAt or endsAt that is no ISO 8601 date-time"
    " with a time zone, or an endsAt not after startsAt"
)
_LINK_400 = "a well-formed token that is unknown, already used or expired (InvalidLink)"
_ADDRESS_400 = (
    "a country code ISO 3166-1 does not assign, or a region or postalCode that does not fit"
    " the country (docs/api.md#addresses)"
)
# money.parse: what JSON Schema cannot say without multipleOf (docs/api.md#money).
_PRICE_400 = (
    f"a price over {money.text(money.MAX_AMOUNT)}, or given as a (deprecated) number with more"
    f" than {money.EXPONENT} decimals"
)
_EXPECTED_TOTAL_400 = (
    f"an expectedTotal given as a (deprecated) number with more than {money.EXPONENT} decimals"
)
_DELIVERY_400 = (
    "no address (none typed in, no addressId, no default address in the book), an addressId"
    " not in the book, or both; an address its country's rules refuse (country code, region,"
    " postal code); a country nothing ships to; a shippingMethod not serving the country"
)
BAD_REQUEST_BEYOND_SCHEMA: dict[tuple[str, str], str] = {
    ("get", "/users"): _CURSOR_400,
    ("get", "/products"): _CURSOR_400,
    ("get", "/orders"): _CURSOR_400,
    ("post", "/orders"): "an unknown productId (listed in productIds) or buyer userId; more"
    " than 1000 of one product across lines; an Idempotency-Key with unprintable characters; "
    + _EXPECTED_TOTAL_400
    + "; "
    + _DELIVERY_400,
    ("post", "/cart/checkout"): "an Idempotency-Key with unprintable characters; "
    + _EXPECTED_TOTAL_400
    + "; "
    + _DELIVERY_400,
    ("post", "/products"): _PRICE_400,
    ("put", "/products/{productId}"): _PRICE_400,
    ("get", "/shipping/options"): "a country code ISO 3166-1 does not assign; a subtotal over"
    " 1000000",
    ("get", "/cart"): "a country code ISO 3166-1 does not assign; a shippingMethod not serving"
    " the country; a region without a country, or with unprintable characters",
    ("put", "/users/{userId}"): "password without currentPassword when changing your own;"
    " currentPassword without password",
    ("post", "/payments/webhook"): "a Stripe-Signature that does not verify",
    ("get", "/discounts"): _CURSOR_400,
    ("get", "/audit"): _CURSOR_400,
    ("post", "/discounts"): _DISCOUNT_400,
    ("put", "/discounts/{code}"): _DISCOUNT_400,
    ("post", "/users/verify-email"): _LINK_400,
    ("post", "/users/reset-password"): _LINK_400,
    ("post", "/users/{userId}/addresses"): _ADDRESS_400,
    ("put", "/users/{userId}/addresses/{addressId}"): _ADDRESS_400
    + "; isDefault false on the default address",
    ("post", "/orders/{orderId}/refunds"): "an amount of 0; lines naming a product the order"
    " does not hold, or more of it than was ordered; an Idempotency-Key with unprintable"
    " characters",
    ("post", "/orders/{orderId}/returns"): "lines naming a product the order does not hold,"
    " or more of it than was ordered",
    ("post", "/orders/{orderId}/returns/approve"): "lines that do not name each returned"
    " product exactly once",
}
_FORMAT_400 = "a character beyond U+FFFF that a field's format refuses (its description says which)"
# A tag per area: a path's first segment, or the area it belongs to.
TAGS: dict[str, str] = {
    "users": "Accounts: register, sign in, profiles",
    "products": "The catalogue",
    "orders": "Placing, reading, cancelling and fulfilling orders",
    "cart": "The signed-in customer's cart and its checkout",
    "payments": "Notifications from the payment provider",
    "discounts": "Discount codes (admins)",
    "audit": "The audit trail of staff actions (admins)",
    "shipping": "Where orders ship, and for how much (configuration, no table read)",
    "meta": "This document",
}
_AREA = {"categories": "products", "openapi.json": "meta"}
# The repository publishes no licence: all rights reserved, said in SPDX's words.
LICENSE = {"name": "Proprietary (all rights reserved)", "identifier": "LicenseRef-Proprietary"}


def tag(path: str) -> str:
    segment = path.strip("/").split("/")[0]
    return _AREA.get(segment, segment)


def _page(item_schema: str) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "items": {"type": "array", "items": ref(item_schema)},
            "nextCursor": {"type": ["string", "null"]},
        },
        "required": ["items", "nextCursor"],
    }


def _json(schema_name: str) -> dict[str, Any]:
    return {"application/json": {"schema": ref(schema_name)}}


def _codes(status: int) -> list[type[AppError]]:
    return [e for e in ERRORS.values() if e.status_code == status and not e.__dict__.get("family")]


def _response_name(status: int) -> str:
    """The shared response of a status: its code's name when it has one code."""
    codes = _codes(status)
    return codes[0].code if len(codes) == 1 else f"Error{status}"


def _error_response(description: str, status: int) -> dict[str, Any]:
    response: dict[str, Any] = {"description": description, "content": _json("Error")}
    if status in (429, 503):
        response["headers"] = _RETRY_AFTER
    return response


def _shared_responses(operations: Sequence[Operation]) -> dict[str, Any]:
    """The error responses operations refer to by status alone, and the default."""
    statuses = {413} | {s for op in operations for s in op.errors if isinstance(s, int)}
    responses = {
        _response_name(status): _error_response(
            "; ".join(f"{e.code}: {meaning(e)}" for e in _codes(status)), status
        )
        for status in sorted(statuses)
    }
    responses["UnexpectedError"] = {
        "description": "Any other error: the same {error, code} shape",
        "content": _json("Error"),
    }
    return responses


def _parameter(parameter: dict[str, Any]) -> dict[str, Any]:
    for name, shared in _SHARED_PARAMETERS.items():
        if parameter is shared:
            return {"$ref": f"#/components/parameters/{name}"}
    return parameter


def _formats(node: Any) -> set[str]:
    if isinstance(node, dict):
        own = {node["format"]} if node.get("format") in FORMATS else set()
        return own.union(*(_formats(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(_formats(value) for value in node))
    return set()


def _beyond_schema(op: Operation) -> str | None:
    """What the server refuses (400) on this operation's schema-valid requests, if anything."""
    reasons = [BAD_REQUEST_BEYOND_SCHEMA.get((op.method, op.path))]
    if op.request in REQUEST_SCHEMAS and _formats(resolved(REQUEST_SCHEMAS[op.request])):
        reasons.append(_FORMAT_400)
    return "; ".join(r for r in reasons if r) or None


def _error_responses(op: Operation) -> dict[str, Any]:
    # 413 everywhere: chalicelib.http refuses a large body before routing, whatever the method.
    specs = (*op.errors, 413)
    statuses = {s if isinstance(s, int) else s.status_code for s in specs}
    named: dict[int, list[type[AppError]]] = {}
    for spec in specs:
        if not isinstance(spec, int):
            named.setdefault(spec.status_code, []).append(spec)
    responses: dict[str, Any] = {}
    for status in sorted(statuses):
        beyond = _beyond_schema(op) if status == 400 else None
        if status in named:
            causes = "; ".join(f"{e.code}: {meaning(e)}" for e in named[status])
            responses[str(status)] = _error_response(causes, status)
        elif beyond:
            description = f"{meaning(_codes(400)[0])}; also, within the schema: {beyond}"
            responses[str(status)] = _error_response(description, status)
        else:
            responses[str(status)] = {"$ref": f"#/components/responses/{_response_name(status)}"}
    responses["default"] = {"$ref": "#/components/responses/UnexpectedError"}
    return responses


def _operation(op: Operation) -> dict[str, Any]:
    success: dict[str, Any] = {"description": "Success"}
    operation: dict[str, Any] = {
        "tags": [tag(op.path)],
        "summary": op.summary,
        "operationId": op.operation_id,
        "security": [] if op.access == PUBLIC else [{"bearerAuth": []}],
        "responses": {str(op.status): success},
    }
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in (segment[1:-1] for segment in op.path.split("/") if segment.startswith("{"))
    ]
    if op.response and op.response.endswith("Page"):
        parameters += [LIMIT, CURSOR]
    parameters += op.parameters
    if parameters:
        operation["parameters"] = [_parameter(p) for p in parameters]
    if op.request:
        required = op.request not in OPTIONAL_BODIES
        operation["requestBody"] = {"required": required, "content": _json(op.request)}
    if op.response:
        success["content"] = _json(op.response)
    if op.headers:
        success["headers"] = dict(op.headers)
    operation["responses"].update(_error_responses(op))
    return operation


def error_code_schema() -> dict[str, Any]:
    """``Error.code``: every code the API answers with, from chalicelib.errors."""
    return {
        "type": "string",
        "description": "Machine-readable error code. "
        + " ".join(f"{code}: {meaning(error)}." for code, error in ERRORS.items()),
        "enum": list(ERRORS),
    }


def document(operations: Sequence[Operation], stage_url: str | None = None) -> dict[str, Any]:
    """The document of these operations: a new one each time (callers may change it).

    ``stage_url``: where this stage serves the API (known from a request on API Gateway).
    """
    schemas = {**ALL_SCHEMAS, **WEBHOOK_SCHEMAS}
    schemas.update(
        {
            "ErrorCode": error_code_schema(),
            "UserPage": _page("User"),
            "ProductPage": _page("Product"),
            "OrderPage": _page("Order"),
            "DiscountPage": _page("Discount"),
            "AuditPage": _page("AuditEntry"),
            "OpenApiDocument": _OPENAPI_DOCUMENT,
        }
    )
    paths: dict[str, dict[str, Any]] = {}
    for op in operations:
        paths.setdefault(op.path, {})[op.method] = _operation(op)
    used_tags = {tag(op.path) for op in operations}
    servers = [{"url": stage_url, "description": "This stage"}] if stage_url else []
    servers.append(
        {
            # "/", not ".": schemathesis (4.32) misjudges some answers with a base URL of "."
            "url": "/",
            "description": "The host this document was read from, at its root: the local"
            " stack (http://localhost:8000)",
        }
    )
    built = {
        "openapi": "3.1.0",
        "info": {
            "title": "Shop API",
            "version": "1.0.0",
            "license": LICENSE,
            "description": "Users, products and orders. Errors are {error, code} JSON, code"
            " one of ErrorCode. Bodies are I-JSON (RFC 7493): a string holding an unpaired"
            ' surrogate escape such as "\\ud800" is a 400, whatever the schema says.',
        },
        "servers": servers,
        "tags": [
            {"name": name, "description": TAGS.get(name, name.capitalize())}
            for name in sorted(used_tags)
        ],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "parameters": dict(_SHARED_PARAMETERS),
            "responses": _shared_responses(operations),
            "headers": {
                "RetryAfter": {
                    "description": "Seconds to wait before retrying.",
                    "schema": {"type": "string"},
                }
            },
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
        },
    }
    return copy.deepcopy(built)


def as_text(built: dict[str, Any]) -> str:
    """The document as served: UTF-8 JSON text, characters as themselves, not escapes."""
    return json.dumps(built, ensure_ascii=False, indent=1)
