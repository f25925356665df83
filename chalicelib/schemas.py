"""JSON Schemas of the API: request bodies (validated) and responses (documented).

These dictionaries are the single source for request validation
(:mod:`chalicelib.validation`) and for the OpenAPI document.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from chalicelib.money import AMOUNT_PATTERN, CURRENCY, EXPONENT, MAX_AMOUNT, MAX_TOTAL
from chalicelib.order_lifecycle import ORDER_STATUSES
from chalicelib.roles import ROLES
from chalicelib.text import (
    EMAIL_FORMAT,
    EMAIL_PATTERN,
    FORMAT_NOTE,
    NAME_PATTERN,
    PLAIN_PATTERN,
    PRINTABLE_FORMAT,
)

MAX_ID_LENGTH = 64  # product, user and order ids; longer ones cannot exist
MAX_STOCK = 1_000_000
MAX_ORDER_LINES = 25
MAX_QUANTITY = 1000
MAX_CART_LINES = 25  # distinct products in a cart (one order's lines)
MAX_SEARCH_LENGTH = 100
MAX_ADDRESSES = 10  # addresses in one user's address book
CATEGORY_PATTERN = r"^[a-z0-9][a-z0-9-]{0,39}$"
# A discount code as stored and compared: upper case (chalicelib/discounts.py upper-cases it);
# requests may spell it in any case.
DISCOUNT_CODE_PATTERN = r"^[A-Z0-9][A-Z0-9_-]{2,31}$"
DISCOUNT_CODE_INPUT_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{2,31}$"
# What the audit trail records (chalicelib/audit.py) and GET /audit filters by.
AUDIT_ENTITIES = ("product", "discount", "user", "order")
MAX_REDEMPTIONS = 1_000_000
MAX_DISCOUNT_SCOPE = 50  # products or categories a code may be limited to

# Every string refuses control/format/private-use/surrogate characters (chalicelib.text):
# the pattern those in the BMP, the format (enforced by the server) those beyond; names must
# also hold something besides whitespace.
_PLAIN = {"pattern": PLAIN_PATTERN, "format": PRINTABLE_FORMAT, "description": FORMAT_NOTE}
_NAME_TEXT = {"pattern": NAME_PATTERN, "format": PRINTABLE_FORMAT, "description": FORMAT_NOTE}
_NAME = {"type": "string", "minLength": 1, "maxLength": 200, **_NAME_TEXT}
# An amount of money on the wire, in requests and responses (chalicelib/money.py, docs/api.md).
AMOUNT = {
    "type": "string",
    "pattern": AMOUNT_PATTERN,
    "maxLength": 16,
    "description": f"{CURRENCY}, a decimal string with at most {EXPONENT} decimals (responses:"
    f" exactly {EXPONENT})",
    "examples": ["19.99" if EXPONENT == 2 else "1999"],
}
# The ISO 4217 code every amount of a response is in (the stage's CURRENCY setting).
CURRENCY_CODE = {
    "type": "string",
    "pattern": "^[A-Z]{3}$",
    "description": "ISO 4217 code of every amount in this object (the stage's currency)",
    "examples": [CURRENCY],
}
_LEGACY_NUMBER = (
    "Deprecated: the JSON number form of this amount, accepted for one release and removed"
    " in the first release after 2027-01 (docs/api.md#money). Send the decimal string."
)


def amount_input(maximum: int | Decimal) -> dict[str, Any]:
    """A money field that existed before amounts were strings: the string, or for one
    release the old JSON number (chalicelib.money.parse checks both exactly)."""
    legacy = {
        "type": "number",
        "minimum": 0,
        # Whole units: a JSON number spells no exact 999999999999.99 (the string does).
        "maximum": int(maximum),
        "deprecated": True,
        "description": _LEGACY_NUMBER,
    }
    return {"anyOf": [AMOUNT, legacy]}


_PRICE = amount_input(MAX_AMOUNT)
_STOCK = {"type": "integer", "minimum": 0, "maximum": MAX_STOCK}
_DESCRIPTION = {"type": "string", "maxLength": 2000, **_PLAIN}
_EMAIL = {
    "type": "string",
    "minLength": 3,
    "maxLength": 254,
    "pattern": EMAIL_PATTERN,
    "format": EMAIL_FORMAT,
    "description": "Compared and stored NFKC-normalised and lower-cased. " + FORMAT_NOTE,
}
_USER_NAME = {"type": "string", "minLength": 1, "maxLength": 100, **_NAME_TEXT}
_PASSWORD = {"type": "string", "minLength": 8, "maxLength": 128, **_PLAIN}
_ID = {"type": "string", "minLength": 1, "maxLength": MAX_ID_LENGTH, **_PLAIN}
_CREDENTIAL = {"type": "string", "maxLength": 128, **_PLAIN}
_CATEGORY = {"type": "string", "pattern": CATEGORY_PATTERN, "maxLength": 40}
_LINK_TOKEN = {
    "type": "string",
    "maxLength": 200,
    "pattern": r"^[A-Za-z0-9-]{1,64}\.[A-Za-z0-9_-]{20,100}$",
    "description": "From an emailed link: <userId>.<secret>",
}
_QUANTITY = {"type": "integer", "minimum": 1, "maximum": MAX_QUANTITY}
# A postal address (chalicelib/addresses.py adds what a schema cannot say: the country list,
# each country's postal-code and region rules; docs/api.md#addresses).
_ADDRESS_TEXT = {"type": "string", "minLength": 1, "maxLength": 200, **_NAME_TEXT}
_ADDRESS_OPTIONAL = {"type": "string", "maxLength": 200, **_PLAIN}
ADDRESS_PROPERTIES: dict[str, dict[str, Any]] = {
    "name": {"type": "string", "minLength": 1, "maxLength": 100, **_NAME_TEXT},
    "line1": _ADDRESS_TEXT,
    "line2": _ADDRESS_OPTIONAL,
    "city": {"type": "string", "minLength": 1, "maxLength": 100, **_NAME_TEXT},
    "region": {
        "type": "string",
        "maxLength": 100,
        **_PLAIN,
        "description": "State, province or territory: required for US, CA and AU, as its"
        " postal abbreviation (CA, ON, NSW). " + FORMAT_NOTE,
    },
    "postalCode": {
        "type": "string",
        "maxLength": 20,
        **_PLAIN,
        "description": "Required and checked for the countries listed in docs/api.md#addresses"
        " (normalised: 12345-6789, K1A 0B1, 1234 AB, 123-4567). " + FORMAT_NOTE,
    },
    "country": {
        "type": "string",
        "pattern": "^[A-Za-z]{2}$",
        "description": "ISO 3166-1 alpha-2 code, any case (stored upper-case)",
    },
    "phone": {
        "type": "string",
        "maxLength": 32,
        "pattern": r"^ *\+?[0-9() -]*$",
        "description": "Digits, spaces, ( ) and -, an optional leading +: 4 to 15 digits",
    },
}
ADDRESS_REQUIRED = ["name", "line1", "city", "country"]
# Why staff refund (docs/api.md#refunds); "return" is a received return's own refund.
REFUND_REASONS = ("customer_request", "damaged", "not_received", "wrong_item", "return", "other")
MAX_NOTE_LENGTH = 500
_NOTE = {"type": "string", "minLength": 1, "maxLength": MAX_NOTE_LENGTH, **_NAME_TEXT}
_ITEM_COUNTS = {
    "type": "array",
    "minItems": 1,
    "maxItems": MAX_ORDER_LINES,
    "items": {"$ref": "#/components/schemas/OrderLineInput"},
}
_DISCOUNT_CODE = {
    "type": "string",
    "pattern": DISCOUNT_CODE_INPUT_PATTERN,
    "maxLength": 32,
    "description": "3-32 letters, digits, - and _; any case (compared upper-cased)",
}
_NULL = {"type": "null"}
_DATE_TIME_NOTE = "An ISO 8601 date-time with a time zone (2030-01-31T09:00:00Z)"
_DISCOUNT_TERMS: dict[str, Any] = {
    "percentOff": {"type": "integer", "minimum": 1, "maximum": 100},
    "amountOff": AMOUNT,
    "minSubtotal": AMOUNT,
    # Checked (and stored in UTC) by chalicelib/discounts.py, which words a clear 400.
    "startsAt": {"type": "string", "maxLength": 40, "description": _DATE_TIME_NOTE},
    "endsAt": {"type": "string", "maxLength": 40, "description": _DATE_TIME_NOTE},
    "maxRedemptions": {"type": "integer", "minimum": 1, "maximum": MAX_REDEMPTIONS},
    "oncePerCustomer": {"type": "boolean"},
    "productIds": {
        "type": "array",
        "minItems": 1,
        "maxItems": MAX_DISCOUNT_SCOPE,
        "uniqueItems": True,
        "items": _ID,
    },
    "categories": {
        "type": "array",
        "minItems": 1,
        "maxItems": MAX_DISCOUNT_SCOPE,
        "uniqueItems": True,
        "items": _CATEGORY,
    },
}
# What a PUT may clear by sending null.
DISCOUNT_CLEARABLE = ("minSubtotal", "startsAt", "endsAt", "maxRedemptions", "productIds",
                      "categories")  # fmt: skip
# A shipping method's id (chalicelib/stages/<stage>/shipping.json; GET /shipping/options).
SHIPPING_METHOD_PATTERN = r"^[a-z0-9][a-z0-9-]{0,39}$"
# Where and how an order ships (POST /orders, POST /cart/checkout): docs/api.md#shipping.
_DELIVERY = {
    "shippingAddress": {
        "$ref": "#/components/schemas/AddressInput",
        "description": "Where to (a copy is stored with the order); or addressId",
    },
    "addressId": {
        **_ID,
        "description": "An address of your book; with neither, the book's default address",
    },
    "shippingMethod": {
        "type": "string",
        "pattern": SHIPPING_METHOD_PATTERN,
        "description": "An id of GET /shipping/options for the address's country;"
        " absent: the one with the lowest flat price",
    },
}
# The total the client showed its buyer: the order is refused (409 PriceChanged) if it differs.
_EXPECTED_TOTAL = amount_input(MAX_TOTAL)


# ?entity= of GET /audit: a type, or type:id (an id of printable characters).
AUDIT_ENTITY_PATTERN = (
    f"^({'|'.join(AUDIT_ENTITIES)})(:{PLAIN_PATTERN.removeprefix('^').removesuffix('*$')}"
    f"{{1,{MAX_ID_LENGTH}}})?$"
)


def ref(name: str) -> dict[str, str]:
    """A reference to the named schema (``components.schemas`` in the document)."""
    return {"$ref": f"#/components/schemas/{name}"}


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
            "email": {"type": "string", "maxLength": 254, **_PLAIN},
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
                "items": ref("OrderLineInput"),
            },
            "userId": _ID,
            "expectedTotal": _EXPECTED_TOTAL,
            "discountCode": _DISCOUNT_CODE,
            **_DELIVERY,
        },
        "required": ["items"],
        "additionalProperties": False,
    },
    # Optional: a checkout without a body orders whatever the cart holds at today's prices.
    "CartCheckout": {
        "type": "object",
        "properties": {
            "expectedTotal": _EXPECTED_TOTAL,
            "discountCode": _DISCOUNT_CODE,
            **_DELIVERY,
        },
        "additionalProperties": False,
    },
    "DiscountCreate": {
        "type": "object",
        "description": "Exactly one of percentOff and amountOff; at most one of productIds"
        " and categories (the code's scope: without one, every line)",
        "properties": {"code": _DISCOUNT_CODE, **_DISCOUNT_TERMS},
        "required": ["code"],
        "additionalProperties": False,
    },
    "DiscountUpdate": {
        "type": "object",
        "description": "The fields to change; null clears " + ", ".join(DISCOUNT_CLEARABLE),
        "properties": {
            name: {"anyOf": [schema, _NULL]} if name in DISCOUNT_CLEARABLE else schema
            for name, schema in _DISCOUNT_TERMS.items()
        },
        "minProperties": 1,
        "additionalProperties": False,
    },
    "AddressCreate": {
        "type": "object",
        "description": "An address (AddressInput's fields) for the address book;"
        " isDefault: true makes it the default (the first address is the default anyway)",
        "properties": {**ADDRESS_PROPERTIES, "isDefault": {"type": "boolean"}},
        "required": ADDRESS_REQUIRED,
        "additionalProperties": False,
    },
    "AddressUpdate": {
        "type": "object",
        "description": "The fields to change (an empty string clears an optional one);"
        " isDefault: true makes the address the default",
        "properties": {**ADDRESS_PROPERTIES, "isDefault": {"type": "boolean"}},
        "minProperties": 1,
        "additionalProperties": False,
    },
    # Optional: the ship step records what the admin knows of the parcel.
    "ShipOrder": {
        "type": "object",
        "properties": {
            "carrier": {"type": "string", "minLength": 1, "maxLength": 50, **_PLAIN},
            "trackingNumber": {"type": "string", "minLength": 1, "maxLength": 100, **_PLAIN},
        },
        "additionalProperties": False,
    },
    "CartLineSet": {
        "type": "object",
        "properties": {"quantity": _QUANTITY},
        "required": ["quantity"],
        "additionalProperties": False,
    },
    "RefundCreate": {
        "type": "object",
        "properties": {
            "amount": AMOUNT,
            "reason": {"type": "string", "enum": list(REFUND_REASONS)},
            "note": _NOTE,
            "lines": _ITEM_COUNTS,
        },
        "required": ["amount", "reason"],
        "additionalProperties": False,
    },
    "ReturnCreate": {
        "type": "object",
        "properties": {"lines": _ITEM_COUNTS, "reason": _NOTE},
        "required": ["lines"],
        "additionalProperties": False,
    },
    "ReturnApprove": {
        "type": "object",
        "properties": {
            "lines": {
                "type": "array",
                "minItems": 1,
                "maxItems": MAX_ORDER_LINES,
                "items": {
                    "type": "object",
                    "properties": {"productId": _ID, "restock": {"type": "boolean"}},
                    "required": ["productId", "restock"],
                    "additionalProperties": False,
                },
            }
        },
        "required": ["lines"],
        "additionalProperties": False,
    },
    "ReturnReject": {
        "type": "object",
        "properties": {"reason": _NOTE},
        "required": ["reason"],
        "additionalProperties": False,
    },
}

# Named parts of the schemas above and below: each one schema in the document, referenced.
SHARED_SCHEMAS: dict[str, dict[str, Any]] = {
    "OrderLineInput": {
        "type": "object",
        "properties": {"productId": _ID, "quantity": _QUANTITY},
        "required": ["productId", "quantity"],
        "additionalProperties": False,
    },
    "OrderStatus": {"type": "string", "enum": list(ORDER_STATUSES)},
    "AddressInput": {
        "type": "object",
        "description": "A postal address (docs/api.md#addresses)",
        "properties": ADDRESS_PROPERTIES,
        "required": ADDRESS_REQUIRED,
        "additionalProperties": False,
    },
}

# Request bodies a route also takes absent (the route then uses none of their fields).
OPTIONAL_BODIES = frozenset({"CartCheckout", "ShipOrder"})

_OPTIONAL_AMOUNT = {"anyOf": [AMOUNT, {"type": "null"}]}
_TIMESTAMP = {"type": "string", "format": "date-time"}

_ADDRESS_OUT = {"type": "string"}

RESPONSE_SCHEMAS: dict[str, dict[str, Any]] = {
    "Address": {
        "type": "object",
        "description": "An address of the address book, normalised (docs/api.md#addresses)",
        "properties": {
            "addressId": {"type": "string"},
            **{name: _ADDRESS_OUT for name in ADDRESS_PROPERTIES},
            "country": {"type": "string", "pattern": "^[A-Z]{2}$"},
            "isDefault": {"type": "boolean"},
        },
        "required": ["addressId", *ADDRESS_REQUIRED, "isDefault"],
    },
    "AddressList": {
        "type": "object",
        "description": f"The address book: at most {MAX_ADDRESSES}, the default first, then"
        " oldest first",
        "properties": {"items": {"type": "array", "items": ref("Address")}},
        "required": ["items"],
    },
    "Error": {
        "type": "object",
        "properties": {
            "error": {"type": "string", "description": "Human-readable message"},
            "code": ref("ErrorCode"),
            "field": {"type": "string", "description": "The request field at fault"},
            "productIds": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Unknown products, or products lacking stock",
            },
            "userId": {"type": "string", "description": "The unknown buyer"},
            "total": {
                **AMOUNT,
                "description": "PriceChanged: the order's total now (expectedTotal differed)",
            },
            "retryable": {"type": "boolean", "description": "Retrying may succeed"},
            "refundable": {
                **AMOUNT,
                "description": "RefundExceedsPaid: what can still be refunded",
            },
            "reason": {
                "type": "string",
                "description": "DiscountUnavailable: why the code does not apply",
            },
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
            "price": AMOUNT,
            "currency": CURRENCY_CODE,
            "stock": {"type": "integer", "minimum": 0},
            "version": {"type": "integer"},
            "createdAt": _TIMESTAMP,
            "updatedAt": _TIMESTAMP,
        },
        "required": [
            "productId",
            "name",
            "category",
            "price",
            "currency",
            "stock",
            "version",
            "createdAt",
        ],
    },
    "Category": {
        "type": "object",
        "properties": {
            "category": {"type": "string", "pattern": CATEGORY_PATTERN},
            "count": {"type": "integer", "minimum": 1},
        },
        "required": ["category", "count"],
    },
    "CategoryList": {
        "type": "object",
        "properties": {"items": {"type": "array", "items": ref("Category")}},
        "required": ["items"],
    },
    "CartLine": {
        "type": "object",
        "description": "name, unitPrice and lineTotal are null when the product is no longer sold",
        "properties": {
            "productId": {"type": "string"},
            "name": {"type": ["string", "null"]},
            "unitPrice": _OPTIONAL_AMOUNT,
            "quantity": {"type": "integer", "minimum": 1},
            "lineTotal": _OPTIONAL_AMOUNT,
            "available": {"type": "boolean"},
        },
        "required": ["productId", "name", "unitPrice", "quantity", "lineTotal", "available"],
    },
    "Cart": {
        "type": "object",
        "properties": {
            "items": {"type": "array", "items": ref("CartLine")},
            "total": AMOUNT,
            "currency": CURRENCY_CODE,
            "updatedAt": {"type": ["string", "null"], "format": "date-time"},
            "totals": ref("Totals"),
            "totalsFor": {
                "description": "Where totals were priced for: the default address of your"
                " book and its cheapest method; null: no default address, so"
                " shipping and tax are 0 until checkout (docs/api.md#cart-totals)",
                "oneOf": [
                    {
                        "type": "object",
                        "properties": {
                            "country": {"type": "string"},
                            "region": {"type": "string"},
                            "shippingMethod": {"type": "string"},
                        },
                        "required": ["country", "shippingMethod"],
                    },
                    {"type": "null"},
                ],
            },
        },
        "required": ["items", "total", "currency", "updatedAt", "totals", "totalsFor"],
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
            "status": ref("OrderStatus"),
            "items": {"type": "array", "items": ref("OrderLine")},
            "total": AMOUNT,
            "createdAt": _TIMESTAMP,
            "updatedAt": _TIMESTAMP,
            "payment": ref("Payment"),
            "deliveredAt": {**_TIMESTAMP, "description": "The return window starts here"},
            "amountRefunded": {**AMOUNT, "description": "Refunds so far, pending ones included"},
            "refunds": {"type": "array", "items": ref("Refund")},
            "returns": {"type": "array", "items": ref("Return")},
            "discountCode": {"type": "string", "description": "The discount code redeemed"},
            "currency": {
                "type": "string",
                "pattern": "^[A-Z]{3}$",
                "description": "ISO 4217: the stage's (USD on legacy orders)",
            },
            "totals": ref("Totals"),
            "legacy": {
                "type": "boolean",
                "enum": [True],
                "description": "Placed before shipping and tax: totals derived (docs/api.md)",
            },
            "shippingAddress": {"oneOf": [ref("ShippingAddress"), {"type": "null"}]},
            "shippingMethod": {
                "oneOf": [
                    {
                        "type": "object",
                        "properties": {"id": {"type": "string"}, "name": {"type": "string"}},
                        "required": ["id", "name"],
                    },
                    {"type": "null"},
                ]
            },
            "fulfilment": {
                "type": "object",
                "description": "What the ship step recorded (either may be null)",
                "properties": {
                    "carrier": {"type": ["string", "null"]},
                    "trackingNumber": {"type": ["string", "null"]},
                },
                "required": ["carrier", "trackingNumber"],
            },
        },
        "required": [
            "orderId",
            "userId",
            "status",
            "items",
            "total",
            "createdAt",
            "currency",
            "totals",
            "shippingAddress",
            "shippingMethod",
        ],
    },
    "Refund": {
        "type": "object",
        "description": "A refund of the order (docs/api.md#refunds)",
        "properties": {
            "refundId": {"type": "string"},
            "amount": AMOUNT,
            "reason": {"type": "string", "enum": list(REFUND_REASONS)},
            "note": {"type": "string"},
            "lines": {"type": "array", "items": ref("OrderLineInput")},
            "status": {"type": "string", "enum": ["pending", "succeeded", "failed"]},
            "providerRefundId": {"type": "string"},
            "createdAt": _TIMESTAMP,
            "by": {"type": "string", "description": "Who refunded: a staff user's id"},
        },
        "required": ["refundId", "amount", "reason", "lines", "status", "createdAt", "by"],
    },
    "Return": {
        "type": "object",
        "description": "A return request of the order (docs/api.md#returns)",
        "properties": {
            "returnId": {"type": "string"},
            "lines": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "productId": {"type": "string"},
                        "quantity": {"type": "integer"},
                        "restock": {"type": "boolean"},
                    },
                    "required": ["productId", "quantity"],
                },
            },
            "reason": {"type": "string"},
            "status": {
                "type": "string",
                "enum": ["requested", "approved", "rejected", "received"],
            },
            "requestedAt": _TIMESTAMP,
            "decidedAt": _TIMESTAMP,
            "decidedBy": {"type": "string"},
            "rejectReason": {"type": "string"},
            "receivedAt": _TIMESTAMP,
            "refundId": {"type": "string"},
        },
        "required": ["returnId", "lines", "status", "requestedAt"],
    },
    "Totals": {
        "type": "object",
        "description": "total = subtotal + shipping + tax - discount (docs/api.md#totals)",
        "properties": {
            "subtotal": AMOUNT,
            "shipping": AMOUNT,
            "tax": AMOUNT,
            "discount": AMOUNT,
            "total": AMOUNT,
        },
        "required": ["subtotal", "shipping", "tax", "discount", "total"],
    },
    "ShippingAddress": {
        "type": "object",
        "description": "The copy stored with the order",
        "properties": {
            name: {"type": "string"}
            for name in (
                "name",
                "line1",
                "line2",
                "city",
                "region",
                "postalCode",
                "country",
                "phone",
            )
        },
        "required": ["name", "line1", "city", "country"],
    },
    "OrderLine": {
        "type": "object",
        "description": "As it was when the order was placed",
        "properties": {
            "productId": {"type": "string"},
            "name": {"type": "string"},
            "quantity": {"type": "integer"},
            "unitPrice": AMOUNT,
            "lineTotal": AMOUNT,
            "discount": {**AMOUNT, "description": "This line's share of the discount"},
            "tax": {**AMOUNT, "description": "The line's tax (absent on legacy orders)"},
        },
        "required": ["productId", "name", "quantity", "unitPrice", "lineTotal"],
    },
    "Discount": {
        "type": "object",
        "properties": {
            "code": {"type": "string", "pattern": DISCOUNT_CODE_PATTERN},
            **{k: v for k, v in _DISCOUNT_TERMS.items() if k not in ("startsAt", "endsAt")},
            "startsAt": _TIMESTAMP,
            "endsAt": _TIMESTAMP,
            "redemptions": {"type": "integer", "minimum": 0},
            "retired": {"type": "boolean"},
            "retiredAt": _TIMESTAMP,
            "version": {"type": "integer"},
            "createdAt": _TIMESTAMP,
            "updatedAt": _TIMESTAMP,
        },
        "required": ["code", "oncePerCustomer", "redemptions", "retired", "version", "createdAt"],
    },
    "AuditEntry": {
        "type": "object",
        "description": "One staff action; before and after hold only the fields it changed",
        "properties": {
            "entryId": {"type": "string"},
            "actor": {"type": "string", "description": "The staff user's id, or operator"},
            "action": {"type": "string", "examples": ["product.update"]},
            "entity": {"type": "string"},
            "entityId": {"type": "string"},
            "at": _TIMESTAMP,
            "before": {"type": ["object", "null"]},
            "after": {"type": ["object", "null"]},
        },
        "required": ["entryId", "actor", "action", "entity", "entityId", "at", "before", "after"],
    },
    "ShippingOption": {
        "type": "object",
        "properties": {
            "id": {"type": "string", "description": "The order's shippingMethod"},
            "name": {"type": "string"},
            "price": AMOUNT,
            "estimatedDays": {
                "type": "object",
                "properties": {
                    "min": {"type": "integer", "minimum": 0},
                    "max": {"type": "integer", "minimum": 0},
                },
                "required": ["min", "max"],
            },
        },
        "required": ["id", "name", "price", "estimatedDays"],
    },
    "ShippingOptions": {
        "type": "object",
        "description": "An order naming none ships by the lowest flat price",
        "properties": {
            "country": {"type": "string", "pattern": "^[A-Z]{2}$"},
            "currency": {"type": "string", "enum": [CURRENCY]},
            "items": {"type": "array", "items": ref("ShippingOption")},
        },
        "required": ["country", "currency", "items"],
    },
    "Payment": {
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
}


def resolved(schema: Any) -> Any:
    """``schema`` with every reference to a named schema replaced by that schema (a copy):
    what validators that see one schema at a time compile."""
    if isinstance(schema, dict):
        target = schema.get("$ref", "")
        if isinstance(target, str) and target.startswith("#/components/schemas/"):
            return resolved(ALL_SCHEMAS[target.rsplit("/", 1)[1]])
        return {key: resolved(value) for key, value in schema.items()}
    if isinstance(schema, list):
        return [resolved(value) for value in schema]
    return schema


ALL_SCHEMAS: dict[str, dict[str, Any]] = {**REQUEST_SCHEMAS, **SHARED_SCHEMAS, **RESPONSE_SCHEMAS}
