"""The shop, end to end, through the client generated from /openapi.json only.

``tests/e2e/shop_client`` is what openapi-python-client makes of the document (kept
current by ``tests/api/test_generated_client.py``). Nothing here builds a URL, a header or
a JSON body by hand: if the document were wrong about a route, a body, a status or an
error code, this flow would stop.
"""

from __future__ import annotations

import time
import uuid

from tests.e2e.conftest import RunningStack
from tests.e2e.shop_client import AuthenticatedClient, Client
from tests.e2e.shop_client.api.cart import checkout_cart, set_cart_line
from tests.e2e.shop_client.api.orders import cancel_order, get_order, list_orders, place_order
from tests.e2e.shop_client.api.products import create_product, get_product
from tests.e2e.shop_client.api.users import login_user, register_user
from tests.e2e.shop_client.models import (
    AddressInput,
    CartCheckout,
    CartLineSet,
    Error,
    ErrorCode,
    LoginResult,
    Order,
    OrderCreate,
    OrderLineInput,
    OrderPage,
    OrderStatus,
    Product,
    ProductCreate,
    User,
    UserLogin,
    UserRegister,
)
from tests.factories import ADDRESS, PICKUP

PASSWORD = "generated-client-pw"
SHIP_TO = AddressInput.from_dict(ADDRESS)
CONFIRMATION_SECONDS = 15


def _signed_in(stack: RunningStack, email: str, password: str) -> AuthenticatedClient:
    login = login_user.sync(
        client=Client(base_url=stack.url), body=UserLogin(email=email, password=password)
    )
    assert isinstance(login, LoginResult), login
    return AuthenticatedClient(base_url=stack.url, token=login.token)


def _order(client: AuthenticatedClient, product: Product, quantity: int) -> Order:
    line = OrderLineInput(product_id=product.product_id, quantity=quantity)
    body = OrderCreate(items=[line], shipping_address=SHIP_TO, shipping_method=PICKUP)
    order = place_order.sync(client=client, body=body)
    assert isinstance(order, Order), order
    return order


def test_the_shop_flow_through_the_generated_client_only(stack: RunningStack):
    email = f"client-{uuid.uuid4().hex[:12]}@example.com"
    user = register_user.sync(
        client=Client(base_url=stack.url),
        body=UserRegister(email=email, name="Gen Client", password=PASSWORD),
    )
    assert isinstance(user, User), user
    taken = register_user.sync(
        client=Client(base_url=stack.url),
        body=UserRegister(email=email, name="Twin", password=PASSWORD),
    )
    assert isinstance(taken, Error) and taken.code is ErrorCode.EMAILTAKEN, taken
    customer = _signed_in(stack, email, PASSWORD)
    admin = _signed_in(stack, stack.admin_email, stack.admin_password)

    product = create_product.sync(
        client=admin,
        body=ProductCreate(name=f"Lamp {uuid.uuid4().hex[:8]}", price="12.50", stock=10),
    )
    assert isinstance(product, Product), product

    cart = set_cart_line.sync(product.product_id, client=customer, body=CartLineSet(quantity=3))
    assert not isinstance(cart, Error) and cart is not None, cart
    assert (cart.total, cart.currency) == ("37.50", "USD")
    key = f"checkout-{uuid.uuid4()}"
    delivery = CartCheckout(shipping_address=SHIP_TO, shipping_method="standard")
    placed = checkout_cart.sync_detailed(client=customer, body=delivery, idempotency_key=key)
    assert placed.status_code == 201 and isinstance(placed.parsed, Order), placed
    # Oregon: no sales tax; 37.50 of goods by post: 5.99 of shipping.
    assert placed.parsed.totals.to_dict() == {
        "subtotal": "37.50",
        "shipping": "5.99",
        "tax": "0.00",
        "discount": "0.00",
        "total": "43.49",
    }
    replayed = checkout_cart.sync_detailed(client=customer, body=delivery, idempotency_key=key)
    assert replayed.status_code == 201 and isinstance(replayed.parsed, Order), replayed
    assert replayed.headers["Idempotent-Replayed"] == "true"
    assert replayed.parsed.order_id == placed.parsed.order_id
    order_id = placed.parsed.order_id

    deadline = time.monotonic() + CONFIRMATION_SECONDS
    while True:
        current = get_order.sync(order_id, client=customer)
        assert isinstance(current, Order), current
        if current.status is OrderStatus.CONFIRMED or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert current.status is OrderStatus.CONFIRMED

    others = [_order(customer, product, 1), _order(customer, product, 1)]
    seen: list[str] = []
    cursor = None
    while True:
        page = list_orders.sync(client=customer, limit=2, **({"cursor": cursor} if cursor else {}))
        assert isinstance(page, OrderPage), page
        assert len(page.items) <= 2
        seen += [o.order_id for o in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    # Newest first, every order once, over two pages.
    assert seen == [others[1].order_id, others[0].order_id, order_id]

    cancelled = cancel_order.sync(order_id, client=customer)
    assert isinstance(cancelled, Order) and cancelled.status is OrderStatus.CANCELLED, cancelled
    again = cancel_order.sync(order_id, client=customer)
    assert isinstance(again, Error) and again.code is ErrorCode.INVALIDTRANSITION, again

    stock = get_product.sync(product.product_id, client=Client(base_url=stack.url))
    assert isinstance(stock, Product), stock
    assert stock.stock == 10 - 2  # the 3 of the cancelled checkout came back; 2 still ordered
