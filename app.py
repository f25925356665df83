"""Routes and event handlers only: each reads the request, calls chalicelib, returns."""

from __future__ import annotations

from chalice import Chalice, Rate, Response

from chalicelib import events, observability, openapi, orders, products, users
from chalicelib.auth import principal_from_headers, require_admin
from chalicelib.config import get_settings
from chalicelib.http import (
    ANY_CONTENT,
    JSON,
    chalice_errors_as_json,
    hardening_middleware,
    json_errors,
    register_preflight_routes,
)
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


def _request():
    return app.current_request


def _query() -> dict[str, str]:
    return _request().query_params or {}


def _body(schema: str) -> dict:
    return parse_body(_request().raw_body, schema)


def _caller():
    caller, record = users.authenticate(_request().headers)
    observability.set_user(caller.user_id)
    return caller, record


def _created(body: dict) -> Response:
    return Response(body=body, status_code=201)


def _no_content() -> Response:
    return Response(body="", status_code=204)


# --- users -------------------------------------------------------------------


@app.route("/users/register", methods=["POST"], content_types=[JSON])
@json_errors
def register_user():
    return _created(users.register(_body("UserRegister")))


@app.route("/users/login", methods=["POST"], content_types=[JSON])
@json_errors
def login_user():
    return users.login(_body("UserLogin"))


@app.route("/users", methods=["GET"], content_types=ANY_CONTENT)
@json_errors
def list_users():
    caller, _ = _caller()
    require_admin(caller)
    return users.list_users(parse_limit(_query()), _query().get("cursor"))


@app.route("/users/{userId}", methods=["GET"], content_types=ANY_CONTENT)
@json_errors
def get_user(userId):
    caller, record = _caller()
    return users.get_user(caller, record, userId)


@app.route("/users/{userId}", methods=["PUT"], content_types=[JSON])
@json_errors
def update_user(userId):
    caller, record = _caller()
    return users.update_user(caller, record, userId, _body("UserUpdate"))


@app.route("/users/{userId}", methods=["DELETE"], content_types=ANY_CONTENT)
@json_errors
def delete_user(userId):
    caller, record = _caller()
    users.delete_user(caller, record, userId)
    return _no_content()


# --- products ----------------------------------------------------------------


@app.route("/products", methods=["GET"], content_types=ANY_CONTENT)
@json_errors
def list_products():
    return products.list_products(parse_limit(_query()), _query().get("cursor"))


@app.route("/products", methods=["POST"], content_types=[JSON])
@json_errors
def create_product():
    caller, _ = _caller()
    require_admin(caller)
    return _created(products.create_product(_body("ProductCreate")))


@app.route("/products/{productId}", methods=["GET"], content_types=ANY_CONTENT)
@json_errors
def get_product(productId):
    return products.get_product(productId)


@app.route("/products/{productId}", methods=["PUT"], content_types=[JSON])
@json_errors
def update_product(productId):
    caller, _ = _caller()
    require_admin(caller)
    return products.update_product(productId, _body("ProductUpdate"))


@app.route("/products/{productId}", methods=["DELETE"], content_types=ANY_CONTENT)
@json_errors
def delete_product(productId):
    caller, _ = _caller()
    require_admin(caller)
    products.delete_product(productId)
    return _no_content()


# --- orders ------------------------------------------------------------------


@app.route("/orders", methods=["POST"], content_types=[JSON])
@json_errors
def place_order():
    # The buyer's existence and token version are checked inside the order
    # transaction, so placing an order needs no separate profile read.
    caller = principal_from_headers(_request().headers)
    observability.set_user(caller.user_id)
    body = _body("OrderCreate")
    order, created = orders.place_order(caller, body, _request().headers.get("idempotency-key"))
    headers = {} if created else {"Idempotent-Replayed": "true"}
    return Response(body=order, status_code=201, headers=headers)


@app.route("/orders", methods=["GET"], content_types=ANY_CONTENT)
@json_errors
def list_orders():
    caller, _ = _caller()
    query = _query()
    return orders.list_orders(caller, query.get("userId"), parse_limit(query), query.get("cursor"))


@app.route("/orders/{orderId}", methods=["GET"], content_types=ANY_CONTENT)
@json_errors
def get_order(orderId):
    caller, _ = _caller()
    return orders.get_order(caller, orderId)


@app.route("/orders/{orderId}/cancel", methods=["POST"], content_types=ANY_CONTENT)
@json_errors
def cancel_order(orderId):
    caller, _ = _caller()
    return orders.cancel_order(caller, orderId)


@app.route("/openapi.json", methods=["GET"], content_types=ANY_CONTENT)
def openapi_document():
    return openapi.document()


# CORS preflights for every path above, only on stages that allow origins.
if settings.cors_allowed_origins:
    register_preflight_routes(app)


# --- events ------------------------------------------------------------------


@app.on_sns_message(topic=settings.order_events_topic)
def on_order_event(event):
    events.handle_message(event.message)


@app.schedule(Rate(5, unit=Rate.MINUTES))
def republish_unannounced(event):
    events.republish_unannounced()
