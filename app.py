"""Routes and event handlers only: each reads the request, calls chalicelib, returns.

Every route is declared once, with :func:`route`: its Chalice routing and its
OpenAPI operation come from that one declaration.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from chalice.app import (
    Chalice,
    CloudWatchEvent,
    DynamoDBEvent,
    Rate,
    Request,
    Response,
    SNSEvent,
)
from pynamodb.models import Model

from chalicelib import (
    account_links,
    addresses,
    audit,
    cart,
    discounts,
    frontdoor,
    observability,
    openapi,
    orders,
    payment_flow,
    products,
    publisher,
    rates,
    refunds,
    returns,
    subscriber,
    users,
    web,
)
from chalicelib.auth import Principal, principal_from_token, require_admin
from chalicelib.config import get_settings
from chalicelib.errors import (
    AddressBookFull,
    AlreadyVerified,
    CartChanged,
    CartEmpty,
    ConcurrentUpdate,
    DiscountCodeExists,
    DiscountUnavailable,
    EmailTaken,
    InsufficientStock,
    InvalidTransition,
    PriceChanged,
    ProductGone,
    RefundDeclined,
    RefundExceedsPaid,
    ReturnWindowClosed,
)
from chalicelib.http import (
    ANY_CONTENT,
    JSON,
    bearer_token,
    chalice_errors_as_json,
    hardening_middleware,
    json_errors,
    register_preflight_routes,
)
from chalicelib.models import AddressBook, CartRecord, Order, UserRecord
from chalicelib.openapi import ADMIN, PUBLIC, USER, ErrorSpec, Operation
from chalicelib.order_lifecycle import DELIVERED, SHIPPED
from chalicelib.pagination import parse_limit
from chalicelib.schemas import REQUEST_SCHEMAS
from chalicelib.validation import parse_body

# chalice deploy/package/delete/local go through chalicelib/frontdoor.py first.
cli_command = frontdoor.at_import()  # None outside the Chalice command line
settings = get_settings()
app = Chalice(app_name=settings.app_name, configure_logs=False)
if frontdoor.configures_logging(cli_command):  # Lambda and the local server, not the CLI
    observability.configure_logging(settings.log_level)
app.register_middleware(observability.http_middleware, "http")
app.register_middleware(chalice_errors_as_json, "http")
app.register_middleware(hardening_middleware, "http")
app.register_middleware(observability.event_middleware, "sns")
app.register_middleware(observability.event_middleware, "scheduled")
app.register_middleware(observability.event_middleware, "dynamodb")

View = Callable[..., Any]
OPERATIONS: list[Operation] = []
# What a signed-in route reads with the caller's profile, in the same BatchGetItem: the
# model and its key, from the caller's user id and the path's parameters.
Reads = tuple[type[Model], Callable[[str, Mapping[str, str]], str | None]]


@dataclass(frozen=True)
class Caller:
    """Who is calling a signed-in route, as :func:`route` checked it before the view ran."""

    principal: Principal
    record: UserRecord | None  # their stored profile (None: only the token was verified)
    item: Any = None  # what ``reads`` named, or None if it does not exist


def route(
    method: str,
    path: str,
    summary: str,
    access: str,
    *,
    request: str | None = None,
    status: int = 200,
    response: str | None = None,
    errors: tuple[ErrorSpec, ...] = (),
    parameters: tuple[dict[str, Any], ...] = (),
    headers: tuple[tuple[str, dict[str, Any]], ...] = (),
    reads: Reads | None = None,
    token_only: bool = False,
) -> Callable[[View], View]:
    """Route ``method path`` to the view and document it; a body-less route takes any type.

    ``errors``: statuses, or the error classes themselves where the status alone does not
    say which (each 409's codes); the operationId is the view's name, camelCased.

    ``access`` is enforced here, before the view runs: ``USER`` and ``ADMIN`` routes
    authenticate the bearer token against the stored profile (one read, with ``reads``'
    item in the same ``BatchGetItem``) and ``ADMIN`` requires the stored admin role; the
    view then gets the :class:`Caller` as its first argument. ``token_only``: only the
    token's signature is checked here, because the view's transaction checks the profile.
    """
    content_types = [JSON] if request in REQUEST_SCHEMAS else ANY_CONTENT

    def register(view: View) -> View:
        OPERATIONS.append(
            Operation(method.lower(), path, summary, access, request, status, response, errors,
                      parameters, headers, openapi.operation_id(view.__name__))
        )  # fmt: skip

        @functools.wraps(view)
        def admitted(**params: str) -> Any:
            if access == PUBLIC:
                return view(**params)
            return view(_admit(access, reads, token_only, params), **params)

        routed: View = app.route(path, methods=[method], content_types=content_types)(
            json_errors(admitted)
        )
        return routed

    return register


def _admit(access: str, reads: Reads | None, token_only: bool, params: Mapping[str, str]) -> Caller:
    """The one place a route's declared access is checked."""
    token = bearer_token(_request().headers)
    if token_only:
        principal = principal_from_token(token)
        caller = Caller(principal, None)
    elif reads is None:
        principal, record = users.authenticate(token)
        caller = Caller(principal, record)
    else:
        model_cls, key = reads
        principal, record, item = users.authenticate_with(
            token, model_cls, lambda user_id: key(user_id, params)
        )
        caller = Caller(principal, record, item)
    observability.set_user(principal.user_id)
    if access == ADMIN:
        require_admin(principal)
    return caller


def _request() -> Request:
    request = app.current_request
    assert request is not None, "only called while handling a request"
    return request


def _query() -> Mapping[str, str]:
    return _request().query_params or {}


def _body(schema: str) -> dict[str, Any]:
    return parse_body(_request().raw_body, schema)


# What a route reads with the caller's profile (``reads=``).
THE_ORDER: Reads = (Order, lambda user_id, params: orders.order_key(params["orderId"]))
THE_USER: Reads = (UserRecord, lambda user_id, params: users.profile_key(params["userId"]))
OWN_CART: Reads = (CartRecord, lambda user_id, params: cart.cart_key(user_id))
THE_BOOK: Reads = (AddressBook, lambda user_id, params: addresses.book_key(params["userId"]))


def _created(body: dict[str, Any]) -> Response:
    return Response(body=body, status_code=201)


def _no_content() -> Response:
    return Response(body="", status_code=204)


# --- users -------------------------------------------------------------------


@route(
    "POST",
    "/users/register",
    "Register a customer",
    PUBLIC,
    request="UserRegister",
    status=201,
    response="User",
    errors=(400, EmailTaken, 415, 503),
)
def register_user() -> Response:
    return _created(users.register(_body("UserRegister")))


@route(
    "POST",
    "/users/login",
    "Sign in and get a bearer token",
    PUBLIC,
    request="UserLogin",
    response="LoginResult",
    errors=(400, 401, 415, 429, 503),
)
def login_user() -> dict[str, Any]:
    return users.login(_body("UserLogin"))


@route(
    "POST",
    "/users/verify-email",
    "Verify your email address with the token of the emailed link (works once)",
    PUBLIC,
    request="VerifyEmail",
    response="EmailVerified",
    errors=(400, 415, 503),
)
def verify_email() -> dict[str, Any]:
    return account_links.verify_email(_body("VerifyEmail"))


@route(
    "POST",
    "/users/verify-email/resend",
    "Email yourself a new verification link",
    USER,
    status=202,
    response="Accepted",
    errors=(401, AlreadyVerified, 429, 503),
)
def resend_verification(caller: Caller) -> Response:
    assert caller.record is not None  # a USER route reads the caller's profile
    return Response(body=account_links.resend_verification(caller.record), status_code=202)


@route(
    "POST",
    "/users/forgot-password",
    "Email a password reset link (the same answer whether or not the email has an account)",
    PUBLIC,
    request="PasswordResetRequest",
    status=202,
    response="Accepted",
    errors=(400, 415, 503),
)
def forgot_password() -> Response:
    body = account_links.request_password_reset(_body("PasswordResetRequest"))
    return Response(body=body, status_code=202)


@route(
    "POST",
    "/users/reset-password",
    "Set a new password with the token of the emailed link; signs out every device",
    PUBLIC,
    request="PasswordReset",
    status=204,
    errors=(400, 415, 503),
)
def reset_password() -> Response:
    account_links.reset_password(_body("PasswordReset"))
    return _no_content()


@route(
    "GET", "/users", "List users (admin)", ADMIN, response="UserPage", errors=(400, 401, 403, 503)
)
def list_users(caller: Caller) -> dict[str, Any]:
    return users.list_users(parse_limit(_query()), _query().get("cursor"))


@route(
    "GET",
    "/users/{userId}",
    "Read a user (that user or admin)",
    USER,
    response="User",
    errors=(401, 404, 503),
    reads=THE_USER,  # the caller's profile and the target's in one BatchGetItem
)
def get_user(caller: Caller, userId: str) -> dict[str, Any]:
    assert caller.record is not None
    return users.get_user(caller.principal, caller.record, userId, caller.item)


@route(
    "PUT",
    "/users/{userId}",
    "Change name and/or password",
    USER,
    request="UserUpdate",
    response="User",
    errors=(400, 401, 404, ConcurrentUpdate, 415, 429, 503),
)
def update_user(caller: Caller, userId: str) -> dict[str, Any]:
    assert caller.record is not None
    return users.update_user(caller.principal, caller.record, userId, _body("UserUpdate"))


@route(
    "DELETE",
    "/users/{userId}",
    "Delete a user (that user or admin)",
    USER,
    status=204,
    errors=(401, 404, 503),
)
def delete_user(caller: Caller, userId: str) -> Response:
    assert caller.record is not None
    users.delete_user(caller.principal, caller.record, userId)
    return _no_content()


# --- address book --------------------------------------------------------------


@route(
    "GET",
    "/users/{userId}/addresses",
    "List a user's addresses, the default first (that user or admin)",
    USER,
    response="AddressList",
    errors=(401, 404, 503),
    reads=THE_BOOK,
)
def list_addresses(caller: Caller, userId: str) -> dict[str, Any]:
    return addresses.list_addresses(caller.principal, userId, caller.item)


@route(
    "POST",
    "/users/{userId}/addresses",
    "Add an address to the address book (that user or admin)",
    USER,
    request="AddressCreate",
    status=201,
    response="Address",
    errors=(400, 401, 404, AddressBookFull, ConcurrentUpdate, 415, 503),
    reads=THE_BOOK,
)
def add_address(caller: Caller, userId: str) -> Response:
    body = _body("AddressCreate")
    return _created(addresses.add_address(caller.principal, userId, caller.item, body))


@route(
    "PUT",
    "/users/{userId}/addresses/{addressId}",
    "Change an address or make it the default (that user or admin)",
    USER,
    request="AddressUpdate",
    response="Address",
    errors=(400, 401, 404, ConcurrentUpdate, 415, 503),
    reads=THE_BOOK,
)
def update_address(caller: Caller, userId: str, addressId: str) -> dict[str, Any]:
    body = _body("AddressUpdate")
    return addresses.update_address(caller.principal, userId, caller.item, addressId, body)


@route(
    "DELETE",
    "/users/{userId}/addresses/{addressId}",
    "Delete an address; the oldest remaining becomes the default (that user or admin)",
    USER,
    status=204,
    errors=(401, 404, ConcurrentUpdate, 503),
    reads=THE_BOOK,
)
def delete_address(caller: Caller, userId: str, addressId: str) -> Response:
    addresses.delete_address(caller.principal, userId, caller.item, addressId)
    return _no_content()


# --- products ----------------------------------------------------------------


@route(
    "GET",
    "/products",
    "List products by name (A to Z, any case)",
    PUBLIC,
    response="ProductPage",
    errors=(400, 503),
    parameters=(openapi.CATEGORY_FILTER, openapi.NAME_SEARCH),
)
def list_products() -> dict[str, Any]:
    query = _query()
    return products.list_products(
        parse_limit(query), query.get("cursor"), query.get("category"), query.get("q")
    )


@route(
    "GET",
    "/categories",
    "Categories with their product counts",
    PUBLIC,
    response="CategoryList",
    errors=(503,),
)
def list_categories() -> dict[str, Any]:
    return products.list_categories()


@route(
    "POST",
    "/products",
    "Create a product (admin)",
    ADMIN,
    request="ProductCreate",
    status=201,
    response="Product",
    errors=(400, 401, 403, 415, 503),
)
def create_product(caller: Caller) -> Response:
    return _created(products.create_product(_body("ProductCreate"), caller.principal.user_id))


@route(
    "GET", "/products/{productId}", "Read a product", PUBLIC, response="Product", errors=(404, 503)
)
def get_product(productId: str) -> dict[str, Any]:
    return products.get_product(productId)


@route(
    "PUT",
    "/products/{productId}",
    "Change a product (admin)",
    ADMIN,
    request="ProductUpdate",
    response="Product",
    errors=(400, 401, 403, 404, ConcurrentUpdate, 415, 503),
)
def update_product(caller: Caller, productId: str) -> dict[str, Any]:
    return products.update_product(productId, _body("ProductUpdate"), caller.principal.user_id)


@route(
    "DELETE",
    "/products/{productId}",
    "Delete a product (admin)",
    ADMIN,
    status=204,
    errors=(401, 403, 404, ConcurrentUpdate, 503),
)
def delete_product(caller: Caller, productId: str) -> Response:
    products.delete_product(productId, caller.principal.user_id)
    return _no_content()


# --- orders ------------------------------------------------------------------


@route(
    "POST",
    "/orders",
    "Place an order",
    USER,
    request="OrderCreate",
    status=201,
    response="Order",
    errors=(400, 401, 403, InsufficientStock, PriceChanged, DiscountUnavailable, 415, 422, 503),
    parameters=(openapi.IDEMPOTENCY_KEY,),
    headers=(openapi.IDEMPOTENT_REPLAYED,),
    # The buyer's existence and token version are checked inside the order
    # transaction, so placing an order needs no separate profile read.
    token_only=True,
)
def place_order(caller: Caller) -> Response:
    body = _body("OrderCreate")
    key = _request().headers.get("idempotency-key")
    order, created = orders.place_order(caller.principal, body, key)
    headers: dict[str, str | list[str]] = {} if created else {"Idempotent-Replayed": "true"}
    return Response(body=order, status_code=201, headers=headers)


@route(
    "GET",
    "/orders",
    "List orders, newest first",
    USER,
    response="OrderPage",
    errors=(400, 401, 403, 503),
    parameters=(openapi.ORDERS_USER_FILTER, openapi.ORDERS_STATUS_FILTER),
)
def list_orders(caller: Caller) -> dict[str, Any]:
    query = _query()
    return orders.list_orders(
        caller.principal,
        query.get("userId"),
        parse_limit(query),
        query.get("cursor"),
        query.get("status"),
    )


@route(
    "GET",
    "/orders/{orderId}",
    "Read an order (owner or admin)",
    USER,
    response="Order",
    errors=(401, 404, 503),
    reads=THE_ORDER,
)
def get_order(caller: Caller, orderId: str) -> dict[str, Any]:
    return orders.get_order(caller.principal, caller.item, orderId)


@route(
    "POST",
    "/orders/{orderId}/cancel",
    "Cancel an order, restoring stock",
    USER,
    response="Order",
    errors=(401, 404, InvalidTransition, 503),
    reads=THE_ORDER,
)
def cancel_order(caller: Caller, orderId: str) -> dict[str, Any]:
    return orders.cancel_order(caller.principal, caller.item, orderId)


@route(
    "POST",
    "/orders/{orderId}/ship",
    "Ship a CONFIRMED order, with its carrier and tracking number if known (admin)",
    ADMIN,
    request="ShipOrder",
    response="Order",
    errors=(400, 401, 403, 404, InvalidTransition, 415, 503),
    reads=THE_ORDER,
)
def ship_order(caller: Caller, orderId: str) -> dict[str, Any]:
    # The body is optional: {"carrier": ..., "trackingNumber": ...}.
    body = _body("ShipOrder") if _request().raw_body else {}
    return orders.advance_order(caller.principal, caller.item, orderId, SHIPPED, body)


@route(
    "POST",
    "/orders/{orderId}/deliver",
    "Mark a SHIPPED order delivered (admin)",
    ADMIN,
    response="Order",
    errors=(401, 403, 404, InvalidTransition, 503),
    reads=THE_ORDER,
)
def deliver_order(caller: Caller, orderId: str) -> dict[str, Any]:
    return orders.advance_order(caller.principal, caller.item, orderId, DELIVERED)


# --- after the sale: refunds and returns ----------------------------------------


@route(
    "POST",
    "/orders/{orderId}/refunds",
    "Refund a paid order in part or in full (admin)",
    ADMIN,
    request="RefundCreate",
    status=201,
    response="Order",
    errors=(
        400,
        401,
        403,
        404,
        InvalidTransition,
        RefundExceedsPaid,
        RefundDeclined,
        ConcurrentUpdate,
        415,
        422,
        503,
    ),
    parameters=(openapi.REFUND_KEY,),
    headers=(openapi.IDEMPOTENT_REPLAYED,),
    reads=THE_ORDER,
)
def refund_order(caller: Caller, orderId: str) -> Response:
    body = _body("RefundCreate")
    key = _request().headers.get("idempotency-key")
    order, created = refunds.refund_order(caller.principal, caller.item, orderId, body, key)
    headers: dict[str, str | list[str]] = {} if created else {"Idempotent-Replayed": "true"}
    return Response(body=order, status_code=201, headers=headers)


@route(
    "POST",
    "/orders/{orderId}/returns",
    "Ask to return lines of your DELIVERED order, within the return window",
    USER,
    request="ReturnCreate",
    status=201,
    response="Order",
    errors=(400, 401, 404, InvalidTransition, ReturnWindowClosed, 415, 503),
    reads=THE_ORDER,
)
def request_return(caller: Caller, orderId: str) -> Response:
    body = _body("ReturnCreate")
    return _created(returns.request_return(caller.principal, caller.item, orderId, body))


@route(
    "POST",
    "/orders/{orderId}/returns/approve",
    "Approve the requested return, choosing restock per line (admin)",
    ADMIN,
    request="ReturnApprove",
    response="Order",
    errors=(400, 401, 403, 404, InvalidTransition, 415, 503),
    reads=THE_ORDER,
)
def approve_return(caller: Caller, orderId: str) -> dict[str, Any]:
    body = _body("ReturnApprove")
    return returns.approve_return(caller.principal, caller.item, orderId, body)


@route(
    "POST",
    "/orders/{orderId}/returns/reject",
    "Reject the requested return, saying why: the order is DELIVERED again (admin)",
    ADMIN,
    request="ReturnReject",
    response="Order",
    errors=(400, 401, 403, 404, InvalidTransition, 415, 503),
    reads=THE_ORDER,
)
def reject_return(caller: Caller, orderId: str) -> dict[str, Any]:
    body = _body("ReturnReject")
    return returns.reject_return(caller.principal, caller.item, orderId, body)


@route(
    "POST",
    "/orders/{orderId}/returns/receive",
    "The returned goods arrived: RETURNED, lines refunded, chosen lines restocked (admin)",
    ADMIN,
    response="Order",
    errors=(401, 403, 404, InvalidTransition, ConcurrentUpdate, 503),
    reads=THE_ORDER,
)
def receive_return(caller: Caller, orderId: str) -> dict[str, Any]:
    return returns.receive_return(caller.principal, caller.item, orderId)


# --- cart --------------------------------------------------------------------


@route(
    "GET",
    "/cart",
    "Read your cart, priced now (for your default address, or the destination asked)",
    USER,
    response="Cart",
    errors=(400, 401, 503),
    parameters=(openapi.CART_COUNTRY, openapi.CART_REGION, openapi.CART_SHIPPING_METHOD),
    reads=OWN_CART,
)
def get_cart(caller: Caller) -> dict[str, Any]:
    return cart.get_cart(caller.item, _query())


@route(
    "PUT",
    "/cart/items/{productId}",
    "Set the quantity of one product in your cart",
    USER,
    request="CartLineSet",
    response="Cart",
    errors=(400, 401, 404, 415, 503),
    reads=OWN_CART,
)
def set_cart_line(caller: Caller, productId: str) -> dict[str, Any]:
    body = _body("CartLineSet")
    return cart.set_line(caller.principal, caller.item, productId, body["quantity"])


@route(
    "DELETE",
    "/cart/items/{productId}",
    "Remove one product from your cart",
    USER,
    response="Cart",
    errors=(401, 404, 503),
    reads=OWN_CART,
)
def remove_cart_line(caller: Caller, productId: str) -> dict[str, Any]:
    return cart.remove_line(caller.principal, caller.item, productId)


@route("DELETE", "/cart", "Empty your cart", USER, status=204, errors=(401, 503))
def clear_cart(caller: Caller) -> Response:
    cart.clear(caller.principal)
    return _no_content()


@route(
    "POST",
    "/cart/checkout",
    "Order what your cart holds (one transaction; the cart is emptied)",
    USER,
    request="CartCheckout",
    status=201,
    response="Order",
    errors=(
        400,
        401,
        InsufficientStock,
        PriceChanged,
        CartEmpty,
        ProductGone,
        CartChanged,
        DiscountUnavailable,
        415,
        422,
        503,
    ),
    parameters=(openapi.IDEMPOTENCY_KEY,),
    headers=(openapi.IDEMPOTENT_REPLAYED,),
    reads=OWN_CART,
)
def checkout_cart(caller: Caller) -> Response:
    key = _request().headers.get("idempotency-key")
    # The body is optional: {"expectedTotal": ...} guards the price the buyer saw; where
    # and how it ships (default: the book's default address, the cheapest method).
    body = _body("CartCheckout") if _request().raw_body else {}
    order, created = cart.checkout(caller.principal, caller.item, key, body)
    headers: dict[str, str | list[str]] = {} if created else {"Idempotent-Replayed": "true"}
    return Response(body=order, status_code=201, headers=headers)


# --- discount codes and the audit trail (admin) ------------------------------


@route(
    "POST",
    "/discounts",
    "Create a discount code (admin)",
    ADMIN,
    request="DiscountCreate",
    status=201,
    response="Discount",
    errors=(400, 401, 403, DiscountCodeExists, 415, 503),
)
def create_discount(caller: Caller) -> Response:
    return _created(discounts.create_discount(caller.principal.user_id, _body("DiscountCreate")))


# --- shipping ----------------------------------------------------------------


@route(
    "GET",
    "/discounts",
    "List discount codes, retired ones too (admin)",
    ADMIN,
    response="DiscountPage",
    errors=(400, 401, 403, 503),
)
def list_discounts(caller: Caller) -> dict[str, Any]:
    return discounts.list_discounts(parse_limit(_query()), _query().get("cursor"))


@route(
    "GET",
    "/discounts/{code}",
    "Read a discount code and its redemptions (admin)",
    ADMIN,
    response="Discount",
    errors=(401, 403, 404, 503),
)
def get_discount(caller: Caller, code: str) -> dict[str, Any]:
    return discounts.get_discount(code)


@route(
    "PUT",
    "/discounts/{code}",
    "Change a discount code's terms (admin)",
    ADMIN,
    request="DiscountUpdate",
    response="Discount",
    errors=(400, 401, 403, 404, ConcurrentUpdate, 415, 503),
)
def update_discount(caller: Caller, code: str) -> dict[str, Any]:
    return discounts.update_discount(caller.principal.user_id, code, _body("DiscountUpdate"))


@route(
    "POST",
    "/discounts/{code}/retire",
    "Retire a discount code: kept for history, never redeemed again (admin)",
    ADMIN,
    response="Discount",
    errors=(401, 403, 404, ConcurrentUpdate, 503),
)
def retire_discount(caller: Caller, code: str) -> dict[str, Any]:
    return discounts.retire_discount(caller.principal.user_id, code)


@route(
    "GET",
    "/audit",
    "Staff actions, newest first (admin); entries cannot be changed or deleted",
    ADMIN,
    response="AuditPage",
    errors=(400, 401, 403, 503),
    parameters=(openapi.AUDIT_ENTITY_FILTER,),
)
def list_audit_entries(caller: Caller) -> dict[str, Any]:
    query = _query()
    return audit.list_entries(query.get("entity"), parse_limit(query), query.get("cursor"))


@route(
    "GET",
    "/shipping/options",
    "Shipping methods to a country, priced for a subtotal",
    PUBLIC,
    response="ShippingOptions",
    errors=(400, 503),
    parameters=(openapi.SHIPPING_COUNTRY, openapi.SHIPPING_SUBTOTAL),
)
def shipping_options() -> dict[str, Any]:
    return rates.shipping_options(_query())


# --- payments ----------------------------------------------------------------


@route(
    "POST",
    "/payments/webhook",
    "Payment provider notifications (Stripe-Signature verified)",
    PUBLIC,
    request="StripeEvent",
    response="WebhookResult",
    errors=(400, 404, 503),
    parameters=(openapi.STRIPE_SIGNATURE,),
)
def receive_payment_webhook() -> dict[str, str]:
    request = _request()
    return payment_flow.handle_webhook(request.raw_body, request.headers.get("stripe-signature"))


# --- the web page (not API operations: HTML/CSS/JS for browsers, see docs/web.md) ----

# Paths that serve the page's files; the OpenAPI document leaves exactly these out.
PAGE_PATHS: list[str] = []


def page_route(path: str) -> Callable[[View], View]:
    """Route ``GET path`` to a view serving one of the page's static files."""
    PAGE_PATHS.append(path)

    def register(view: View) -> View:
        routed: View = app.route(path, methods=["GET"], content_types=ANY_CONTENT)(
            json_errors(view)
        )
        return routed

    return register


def _page_file(name: str) -> Response:
    answer = web.serve(name, _request().headers.get("if-none-match"))
    return Response(body=answer.body, status_code=answer.status, headers=dict(answer.headers))


@page_route("/")
def web_index() -> Response:
    return _page_file(web.INDEX)


@page_route("/web/{asset}")
def web_asset(asset: str) -> Response:
    return _page_file(asset)


@route("GET", "/openapi.json", "This document", PUBLIC, response="OpenApiDocument", errors=(503,))
def get_openapi_document() -> Response:
    context = _request().context or {}
    domain, stage = context.get("domainName"), context.get("stage")
    stage_url = f"https://{domain}/{stage}" if domain and stage else None
    text = openapi.as_text(openapi.document(OPERATIONS, stage_url))
    return Response(body=text, headers={"Content-Type": "application/json; charset=utf-8"})


# CORS preflights for every path above, only on stages that allow origins.
if settings.cors_allowed_origins:
    register_preflight_routes(app)


# --- events ------------------------------------------------------------------


@app.on_dynamodb_record(
    stream_arn=settings.orders_stream_arn, batch_size=100, starting_position="TRIM_HORIZON"
)
def publish_order_events(event: DynamoDBEvent) -> None:
    publisher.publish_changes(
        (record.event_name, record.old_image, record.new_image) for record in event
    )


@app.on_sns_message(topic=settings.order_events_topic)
def on_order_event(event: SNSEvent) -> None:
    subscriber.handle_message(event.message)


@app.schedule(Rate(5, unit=Rate.MINUTES))
def republish_unannounced(event: CloudWatchEvent) -> None:
    # Expiry first: the OrderExpired it writes reaches the stream like any other change.
    payment_flow.expire_unpaid()
    context = event.context
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    publisher.republish_unannounced(remaining_ms=remaining)
