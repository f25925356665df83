"""JSON Schemas of the API: request bodies (validated) and responses (documented).

These dictionaries are the single source for request validation
(:mod:`chalicelib.validation`) and for the OpenAPI document.
"""

from __future__ import annotations

from typing import Any

from chalicelib.order_view import ORDER_STATUSES
from chalicelib.roles import ROLES
from chalicelib.text import EMAIL_PATTERN, NAME_PATTERN, PLAIN_PATTERN

MAX_ID_LENGTH = 64  # product, user and order ids; longer ones cannot exist
MAX_MONEY = 1_000_000
MAX_STOCK = 1_000_000
MAX_ORDER_LINES = 25
MAX_QUANTITY = 1000
MAX_CART_LINES = 25  # distinct products in a cart (one order's lines)
MAX_SEARCH_LENGTH = 100
CATEGORY_PATTERN = r"^[a-z0-9][a-z0-9-]{0,39}$"

# Every string refuses control/format/private-use/surrogate characters (chalicelib.text);
# names must also hold something besides whitespace.
_NAME = {"type": "string", "minLength": 1, "maxLength": 200, "pattern": NAME_PATTERN}
_PRICE = {"type": "number", "minimum": 0, "maximum": MAX_MONEY, "multipleOf": 0.01}
_STOCK = {"type": "integer", "minimum": 0, "maximum": MAX_STOCK}
_DESCRIPTION = {"type": "string", "maxLength": 2000, "pattern": PLAIN_PATTERN}
_EMAIL = {
    "type": "string",
    "minLength": 3,
    "maxLength": 254,
    "pattern": EMAIL_PATTERN,
    "description": "Compared and stored NFKC-normalised and lower-cased.",
}
_USER_NAME = {"type": "string", "minLength": 1, "maxLength": 100, "pattern": NAME_PATTERN}
_PASSWORD = {"type": "string", "minLength": 8, "maxLength": 128, "pattern": PLAIN_PATTERN}
_ID = {"type": "string", "minLength": 1, "maxLength": MAX_ID_LENGTH, "pattern": PLAIN_PATTERN}
_CREDENTIAL = {"type": "string", "maxLength": 128, "pattern": PLAIN_PATTERN}
_CATEGORY = {"type": "string", "pattern": CATEGORY_PATTERN, "maxLength": 40}
_LINK_TOKEN = {
    "type": "string",
    "maxLength": 200,
    "pattern": r"^[A-Za-z0-9-]{1,64}\.[A-Za-z0-9_-]{20,100}$",
    "description": "From an emailed link: <userId>.<secret>",
}
_QUANTITY = {"type": "integer", "minimum": 1, "maximum": MAX_QUANTITY}


def is_id(value: object) -> bool:
    """Whether ``value`` can be an id at all (DynamoDB refuses oversized keys with a 400)."""
    return isinstance(value, str) and 0 < len(value) <= MAX_ID_LENGTH


REQUEST_SCHEMAS: dict[str, dict[str, Any]] = {
    "ProductCreate": {
        "type": "object",
        "properties": {
            "name": _NAME,
            "price": _PRICE,
            "description": _DESCRIPTION,
            "stock": _STOCK,
            "category": _CATEGORY,
        },
        "required": ["name", "price"],
        "additionalProperties": False,
    },
    "ProductUpdate": {
        "type": "object",
        "properties": {
            "name": _NAME,
            "price": _PRICE,
            "description": _DESCRIPTION,
            "stock": _STOCK,
            "category": _CATEGORY,
        },
        "minProperties": 1,
        "additionalProperties": False,
    },
    "UserRegister": {
        "type": "object",
        "properties": {"email": _EMAIL, "name": _USER_NAME, "password": _PASSWORD},
        "required": ["email", "name", "password"],
        "additionalProperties": False,
    },
    "UserLogin": {
        "type": "object",
        "properties": {
            "email": {"type": "string", "maxLength": 254, "pattern": PLAIN_PATTERN},
            "password": _CREDENTIAL,
        },
        "required": ["email", "password"],
        "additionalProperties": False,
    },
    "VerifyEmail": {
        "type": "object",
        "properties": {"token": _LINK_TOKEN},
        "required": ["token"],
        "additionalProperties": False,
    },
    "PasswordResetRequest": {
        "type": "object",
        "properties": {"email": _EMAIL},
        "required": ["email"],
        "additionalProperties": False,
    },
    "PasswordReset": {
        "type": "object",
        "properties": {"token": _LINK_TOKEN, "password": _PASSWORD},
        "required": ["token", "password"],
        "additionalProperties": False,
    },
    "UserUpdate": {
        "type": "object",
        "properties": {
            "name": _USER_NAME,
            "password": _PASSWORD,
            "currentPassword": _CREDENTIAL,
        },
        "minProperties": 1,
        "additionalProperties": False,
    },
    "OrderCreate": {
        "type": "object",
        "properties": {
            "items": {
                "type": "array",
                "minItems": 1,
                "maxItems": MAX_ORDER_LINES,
                "items": {
                    "type": "object",
                    "properties": {
                        "productId": _ID,
                        "quantity": _QUANTITY,
                    },
                    "required": ["productId", "quantity"],
                    "additionalProperties": False,
                },
            },
            "userId": _ID,
        },
        "required": ["items"],
        "additionalProperties": False,
    },
    "CartLineSet": {
        "type": "object",
        "properties": {"quantity": _QUANTITY},
        "required": ["quantity"],
        "additionalProperties": False,
    },
}

_MONEY_OUT = {"type": "number", "minimum": 0}
_TIMESTAMP = {"type": "string", "format": "date-time"}

RESPONSE_SCHEMAS: dict[str, dict[str, Any]] = {
    "Error": {
        "type": "object",
        "properties": {
            "error": {"type": "string", "description": "Human-readable message"},
            "code": {"type": "string", "description": "Machine-readable error code"},
            "field": {"type": "string", "description": "The request field at fault"},
            "productIds": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Unknown products, or products lacking stock",
            },
            "userId": {"type": "string", "description": "The unknown buyer"},
            "retryable": {"type": "boolean", "description": "Retrying may succeed"},
        },
        "required": ["error", "code"],
        "additionalProperties": False,
    },
    "Product": {
        "type": "object",
        "properties": {
            "productId": {"type": "string"},
            "name": {"type": "string"},
            "category": {"type": "string", "pattern": CATEGORY_PATTERN},
            "description": {"type": "string"},
            "price": _MONEY_OUT,
            "stock": {"type": "integer", "minimum": 0},
            "version": {"type": "integer"},
            "createdAt": _TIMESTAMP,
            "updatedAt": _TIMESTAMP,
        },
        "required": ["productId", "name", "category", "price", "stock", "version", "createdAt"],
    },
    "CategoryList": {
        "type": "object",
        "properties": {
            "items": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "category": {"type": "string", "pattern": CATEGORY_PATTERN},
                        "count": {"type": "integer", "minimum": 1},
                    },
                    "required": ["category", "count"],
                },
            }
        },
        "required": ["items"],
    },
    "Cart": {
        "type": "object",
        "properties": {
            "items": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "productId": {"type": "string"},
                        "name": {"type": ["string", "null"]},
                        "unitPrice": {"type": ["number", "null"], "minimum": 0},
                        "quantity": {"type": "integer", "minimum": 1},
                        "lineTotal": {"type": ["number", "null"], "minimum": 0},
                        "available": {"type": "boolean"},
                    },
                    "required": [
                        "productId",
                        "name",
                        "unitPrice",
                        "quantity",
                        "lineTotal",
                        "available",
                    ],
                },
            },
            "total": _MONEY_OUT,
            "updatedAt": {"type": ["string", "null"], "format": "date-time"},
        },
        "required": ["items", "total", "updatedAt"],
    },
    "User": {
        "type": "object",
        "properties": {
            "userId": {"type": "string"},
            "email": {"type": "string"},
            "name": {"type": "string"},
            "role": {"type": "string", "enum": list(ROLES)},
            "emailVerified": {
                "type": "boolean",
                "description": "Only verified addresses get emails carrying order details",
            },
            "createdAt": _TIMESTAMP,
            "updatedAt": _TIMESTAMP,
        },
        "required": ["userId", "email", "name", "role", "emailVerified", "createdAt"],
    },
    "EmailVerified": {
        "type": "object",
        "properties": {
            "userId": {"type": "string"},
            "email": {"type": "string"},
            "emailVerified": {"type": "boolean", "enum": [True]},
        },
        "required": ["userId", "email", "emailVerified"],
    },
    "Accepted": {
        "type": "object",
        "properties": {"message": {"type": "string"}},
        "required": ["message"],
    },
    "LoginResult": {
        "type": "object",
        "properties": {
            "userId": {"type": "string"},
            "name": {"type": "string"},
            "token": {"type": "string"},
            "expiresAt": _TIMESTAMP,
        },
        "required": ["userId", "name", "token", "expiresAt"],
    },
    "Order": {
        "type": "object",
        "properties": {
            "orderId": {"type": "string"},
            "userId": {"type": "string"},
            "status": {"type": "string", "enum": list(ORDER_STATUSES)},
            "items": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "productId": {"type": "string"},
                        "name": {"type": "string"},
                        "quantity": {"type": "integer"},
                        "unitPrice": _MONEY_OUT,
                        "lineTotal": _MONEY_OUT,
                    },
                    "required": ["productId", "name", "quantity", "unitPrice", "lineTotal"],
                },
            },
            "total": _MONEY_OUT,
            "createdAt": _TIMESTAMP,
            "updatedAt": _TIMESTAMP,
            "payment": {
                "type": "object",
                "description": "Only with a payment provider (docs/payments.md)",
                "properties": {
                    "provider": {"type": "string"},
                    "paymentIntentId": {"type": "string"},
                    "clientSecret": {
                        "type": "string",
                        "description": "While AWAITING_PAYMENT: confirm the payment with it",
                    },
                    "publishableKey": {
                        "type": "string",
                        "description": "While AWAITING_PAYMENT: the stage's public Stripe key",
                    },
                    "apiBase": {
                        "type": "string",
                        "description": "While AWAITING_PAYMENT: where the browser calls Stripe",
                    },
                    "expiresAt": _TIMESTAMP,
                },
                "required": ["provider", "paymentIntentId", "expiresAt"],
            },
        },
        "required": ["orderId", "userId", "status", "items", "total", "createdAt"],
    },
}
