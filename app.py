"""Routes and event handlers only: each reads the request, calls chalicelib, returns.

Every route is declared once, with :func:`route`: its Chalice routing and its
OpenAPI operation come from that one declaration.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
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

from chalicelib import (
    account_links,
    cart,
    events,
    observability,
    openapi,
    orders,
    payment_flow,
    products,
    users,
    web,
)
from chalicelib.auth import Principal, principal_from_token, require_admin
from chalicelib.config import get_settings
from chalicelib.http import (
    ANY_CONTENT,
    JSON,
    bearer_token,
    chalice_errors_as_json,
    hardening_middleware,
    json_errors,
    register_preflight_routes,
)
from chalicelib.models import Order, UserRecord
from chalicelib.openapi import ADMIN, PUBLIC, USER, Operation
from chalicelib.order_view import DELIVERED, SHIPPED
from chalicelib.pagination import parse_limit
from chalicelib.validation import parse_body

settings = get_settings()
app = Chalice(app_name=settings.app_name, configure_logs=False)
observability.configure_logging(settings.log_level)
app.register_middleware(observability.http_middleware, "http")
app.register_middleware(chalice_errors_as_json, "http")
app.register_middleware(hardening_middleware, "http")
app.register_middleware(observability.event_middleware, "sns")
app.register_middleware(observability.event_middleware, "scheduled")
app.register_middleware(observability.event_middleware, "dynamodb")

View = Callable[..., Any]
OPERATIONS: list[Operation] = []


def route(
    method: str,
    path: str,
    summary: str,
    access: str,
    *,
    request: str | None = None,
    status: int = 200,
    response: str | None = None,
    errors: tuple[int, ...] = (),
    parameters: tuple[dict[str, Any], ...] = (),
    headers: tuple[tuple[str, dict[str, Any]], ...] = (),
) -> Callable[[View], View]:
    """Route ``method path`` to the view and document it; a body-less route takes any type."""
    OPERATIONS.append(
        Operation(method.lower(), path, summary, access, request, status, response, errors,
                  parameters, headers)
    )  # fmt: skip
    content_types = [JSON] if request else ANY_CONTENT

    def register(view: View) -> View:
        routed: View = app.route(path, methods=[method], content_types=content_types)(
            json_errors(view)
        )
        return routed

    return register


def _request() -> Request:
    request = app.current_request
    assert request is not None, "only called while handling a request"
    return request


def _query() -> Mapping[str, str]:
    return _request().query_params or {}


def _body(schema: str) -> dict[str, Any]:
    return parse_body(_request().raw_body, schema)


def _caller() -> tuple[Principal, UserRecord]:
    caller, record = users.authenticate(bearer_token(_request().headers))
    observability.set_user(caller.user_id)
    return caller, record


def _caller_and_order(order_id: str) -> tuple[Principal, Order | None]:
    """The caller and the order, read in one ``BatchGetItem``."""
    caller, _, order = users.authenticate_with(
        bearer_token(_request().headers), Order, orders.order_key(order_id)
    )
    observability.set_user(caller.user_id)
    return caller, order


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
    errors=(400, 409, 415, 503),
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
    errors=(401, 409, 429, 503),
)
def resend_verification() -> Response:
    _, record = _caller()
    return Response(body=account_links.resend_verification(record), status_code=202)


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
def list_users() -> dict[str, Any]:
    caller, _ = _caller()
    require_admin(caller)
    return users.list_users(parse_limit(_query()), _query().get("cursor"))


@route(
    "GET",
    "/users/{userId}",
    "Read a user (that user or admin)",
    USER,
    response="User",
    errors=(401, 404, 503),
)
def get_user(userId: str) -> dict[str, Any]:
    # The caller's profile and the target's in one BatchGetItem (the same item for oneself).
    caller, record, target = users.authenticate_with(
        bearer_token(_request().headers), UserRecord, users.profile_key(userId)
    )
    observability.set_user(caller.user_id)
    return users.get_user(caller, record, userId, target)


@route(
    "PUT",
    "/users/{userId}",
    "Change name and/or password",
    USER,
    request="UserUpdate",
    response="User",
    errors=(400, 401, 404, 409, 415, 429, 503),
)
def update_user(userId: str) -> dict[str, Any]:
    caller, record = _caller()
    return users.update_user(caller, record, userId, _body("UserUpdate"))


@route(
    "DELETE",
    "/users/{userId}",
    "Delete a user (that user or admin)",
    USER,
    status=204,
    errors=(401, 404, 503),
)
def delete_user(userId: str) -> Response:
    caller, record = _caller()
    users.delete_user(caller, record, userId)
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
def create_product() -> Response:
    caller, _ = _caller()
    require_admin(caller)
    return _created(products.create_product(_body("ProductCreate")))


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
    errors=(400, 401, 403, 404, 409, 415, 503),
)
def update_product(productId: str) -> dict[str, Any]:
    caller, _ = _caller()
    require_admin(caller)
    return products.update_product(productId, _body("ProductUpdate"))


@route(
    "DELETE",
    "/products/{productId}",
    "Delete a product (admin)",
    ADMIN,
    status=204,
    errors=(401, 403, 404, 503),
)
def delete_product(productId: str) -> Response:
    caller, _ = _caller()
    require_admin(caller)
    products.delete_product(productId)
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
    errors=(400, 401, 403, 409, 415, 422, 503),
    parameters=(openapi.IDEMPOTENCY_KEY,),
    headers=(openapi.IDEMPOTENT_REPLAYED,),
)
def place_order() -> Response:
    # The buyer's existence and token version are checked inside the order
    # transaction, so placing an order needs no separate profile read.
    caller = principal_from_token(bearer_token(_request().headers))
    observability.set_user(caller.user_id)
    body = _body("OrderCreate")
    order, created = orders.place_order(caller, body, _request().headers.get("idempotency-key"))
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
def list_orders() -> dict[str, Any]:
    caller, _ = _caller()
    query = _query()
    return orders.list_orders(
        caller, query.get("userId"), parse_limit(query), query.get("cursor"), query.get("status")
    )


@route(
    "GET",
    "/orders/{orderId}",
    "Read an order (owner or admin)",
    USER,
    response="Order",
    errors=(401, 404, 503),
)
def get_order(orderId: str) -> dict[str, Any]:
    caller, order = _caller_and_order(orderId)
    return orders.get_order(caller, order, orderId)


@route(
    "POST",
    "/orders/{orderId}/cancel",
    "Cancel an order, restoring stock",
    USER,
    response="Order",
    errors=(401, 404, 409, 503),
)
def cancel_order(orderId: str) -> dict[str, Any]:
    caller, order = _caller_and_order(orderId)
    return orders.cancel_order(caller, order, orderId)


@route(
    "POST",
    "/orders/{orderId}/ship",
    "Ship a CONFIRMED order (admin)",
    ADMIN,
    response="Order",
    errors=(401, 403, 404, 409, 503),
)
def ship_order(orderId: str) -> dict[str, Any]:
    caller, order = _caller_and_order(orderId)
    return orders.advance_order(caller, order, orderId, SHIPPED)


@route(
    "POST",
    "/orders/{orderId}/deliver",
    "Mark a SHIPPED order delivered (admin)",
    ADMIN,
    response="Order",
    errors=(401, 403, 404, 409, 503),
)
def deliver_order(orderId: str) -> dict[str, Any]:
    caller, order = _caller_and_order(orderId)
    return orders.advance_order(caller, order, orderId, DELIVERED)


# --- cart --------------------------------------------------------------------


def _token() -> str | None:
    return bearer_token(_request().headers)


@route("GET", "/cart", "Read your cart, priced now", USER, response="Cart", errors=(401, 503))
def get_cart() -> dict[str, Any]:
    return cart.get_cart(_token())


@route(
    "PUT",
    "/cart/items/{productId}",
    "Set the quantity of one product in your cart",
    USER,
    request="CartLineSet",
    response="Cart",
    errors=(400, 401, 404, 415, 503),
)
def set_cart_line(productId: str) -> dict[str, Any]:
    body = _body("CartLineSet")
    return cart.set_line(_token(), productId, body["quantity"])


@route(
    "DELETE",
    "/cart/items/{productId}",
    "Remove one product from your cart",
    USER,
    response="Cart",
    errors=(401, 404, 503),
)
def remove_cart_line(productId: str) -> dict[str, Any]:
    return cart.remove_line(_token(), productId)


@route("DELETE", "/cart", "Empty your cart", USER, status=204, errors=(401, 503))
def clear_cart() -> Response:
    cart.clear(_token())
    return _no_content()


@route(
    "POST",
    "/cart/checkout",
    "Order what your cart holds (one transaction; the cart is emptied)",
    USER,
    status=201,
    response="Order",
    errors=(400, 401, 409, 422, 503),
    parameters=(openapi.IDEMPOTENCY_KEY,),
    headers=(openapi.IDEMPOTENT_REPLAYED,),
)
def checkout() -> Response:
    order, created = cart.checkout(_token(), _request().headers.get("idempotency-key"))
    headers: dict[str, str | list[str]] = {} if created else {"Idempotent-Replayed": "true"}
    return Response(body=order, status_code=201, headers=headers)


# --- payments ----------------------------------------------------------------


@route(
    "POST",
    "/payments/webhook",
    "Payment provider notifications (Stripe-Signature verified)",
    PUBLIC,
    errors=(400, 404, 503),
)
def payment_webhook() -> dict[str, str]:
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


@route("GET", "/openapi.json", "This document", PUBLIC, response="OpenApiDocument")
def openapi_document() -> dict[str, Any]:
    return openapi.document(OPERATIONS)


# CORS preflights for every path above, only on stages that allow origins.
if settings.cors_allowed_origins:
    register_preflight_routes(app)


# --- events ------------------------------------------------------------------


@app.on_dynamodb_record(
    stream_arn=settings.orders_stream_arn, batch_size=100, starting_position="TRIM_HORIZON"
)
def publish_order_events(event: DynamoDBEvent) -> None:
    events.publish_changes(
        (record.event_name, record.old_image, record.new_image) for record in event
    )


@app.on_sns_message(topic=settings.order_events_topic)
def on_order_event(event: SNSEvent) -> None:
    events.handle_message(event.message)


@app.schedule(Rate(5, unit=Rate.MINUTES))
def republish_unannounced(event: CloudWatchEvent) -> None:
    # Expiry first: the OrderExpired it writes reaches the stream like any other change.
    payment_flow.expire_unpaid()
    context = event.context
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    events.republish_unannounced(remaining_ms=remaining)
