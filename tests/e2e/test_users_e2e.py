"""Users and access control over real HTTP against the local stack."""

from __future__ import annotations

import functools
import time
from typing import Any

import pytest

from tests.e2e.concurrency import race
from tests.factories import DEFAULT_PASSWORD, DELIVERY, unique_email

PASSWORD = DEFAULT_PASSWORD  # what ShopClient.sign_up registers with


def all_users(http, admin: str) -> list[dict[str, Any]]:
    """Every user, walking the admin listing page by page."""
    users: list[dict[str, Any]] = []
    cursor = None
    while True:
        path = "/users?limit=100" + (f"&cursor={cursor}" if cursor else "")
        status, page = http.get(path, token=admin)
        assert status == 200, page
        users += page["items"]
        cursor = page["nextCursor"]
        if cursor is None:
            return users


def test_register_login_and_use_the_token(http):
    email = unique_email("Mixed.Case")

    status, user = http.post(
        "/users/register", {"email": email, "name": "Ada", "password": PASSWORD}
    )

    assert status == 201, user
    assert set(user) == {
        "userId",
        "email",
        "name",
        "role",
        "emailVerified",
        "createdAt",
    }  # no password hash
    assert user["email"] == email.lower()
    assert user["role"] == "customer"
    status, login = http.post("/users/login", {"email": email.upper(), "password": PASSWORD})
    assert status == 200, login
    assert login["userId"] == user["userId"]
    assert login["name"] == "Ada"
    assert login["expiresAt"] > user["createdAt"]

    assert http.get(f"/users/{user['userId']}", token=login["token"]) == (200, user)
    status, renamed = http.put(f"/users/{user['userId']}", {"name": "Ada L."}, token=login["token"])
    assert status == 200, renamed
    assert renamed["name"] == "Ada L."
    assert http.get(f"/users/{user['userId']}", token=login["token"])[1]["name"] == "Ada L."


def test_emails_are_unique_whatever_their_case(http):
    email = unique_email("unique")
    http.sign_up(email)

    status, error = http.post(
        "/users/register", {"email": email.upper(), "name": "Twin", "password": PASSWORD}
    )

    assert status == 409, error
    assert error["code"] == "EmailTaken"


def test_a_wrong_password_and_an_unknown_email_get_the_same_401(http):
    user = http.sign_up()

    wrong = http.post("/users/login", {"email": user["email"], "password": "not-the-password"})
    unknown = http.post("/users/login", {"email": unique_email("nobody"), "password": PASSWORD})

    assert wrong[0] == unknown[0] == 401
    assert wrong[1] == unknown[1]


@pytest.mark.parametrize(
    "body",
    [
        {"email": "not-an-email", "name": "Ada", "password": PASSWORD},
        {"email": "a@example.com", "name": "Ada", "password": "short"},
        {"email": "a@example.com", "name": " ", "password": PASSWORD},
        {"email": "a@example.com", "password": PASSWORD},
        {"email": "a@example.com", "name": "Ada", "password": PASSWORD, "role": "admin"},
    ],
    ids=["bad-email", "short-password", "blank-name", "missing-name", "role-field"],
)
def test_an_invalid_registration_is_a_400(http, body):
    status, error = http.post("/users/register", body)

    assert status == 400, error
    assert error["code"] == "ValidationError"


# --- who may call what ----------------------------------------------------------------
#
# Callers: nobody (no token), a stranger (another customer), the owner (the customer the
# user/order belongs to; for routes without an owner, just a customer) and the admin.

CALLERS = ("anonymous", "stranger", "owner", "admin")


class World:
    """Targets for one route check, created on first use (users and orders cost time)."""

    def __init__(self, http, admin: str) -> None:
        self.http = http
        self.admin = admin

    @functools.cached_property
    def owner(self) -> dict[str, Any]:
        return self.http.sign_up()

    @functools.cached_property
    def product(self) -> dict[str, Any]:
        status, body = self.http.post(
            "/products", {"name": "Mug", "price": "3", "stock": 100}, token=self.admin
        )
        assert status == 201, body
        return body

    @functools.cached_property
    def order(self) -> dict[str, Any]:
        status, body = self.http.post(
            "/orders",
            {"items": [{"productId": self.product["productId"], "quantity": 1}], **DELIVERY},
            token=self.owner["token"],
        )
        assert status == 201, body
        return body

    def path(self, template: str) -> str:
        return template.format(
            user=self.owner["userId"] if "{user}" in template else "",
            product=self.product["productId"] if "{product}" in template else "",
            order=self.order["orderId"] if "{order}" in template else "",
        )


ORDER_BODY = object()  # placeholder: an order for the world's product
ROUTES = [
    # method, path, body, {caller: expected status}, destructive (the owner's success
    # consumes the target, so the admin gets a fresh one)
    ("GET", "/users", None, (401, 403, 403, 200), False),
    ("GET", "/users/{user}", None, (401, 404, 200, 200), False),
    ("PUT", "/users/{user}", {"name": "Renamed"}, (401, 404, 200, 200), False),
    ("DELETE", "/users/{user}", None, (401, 404, 204, 204), True),
    ("POST", "/products", {"name": "Pen", "price": "1"}, (401, 403, 403, 201), False),
    ("PUT", "/products/{product}", {"stock": 5}, (401, 403, 403, 200), False),
    ("DELETE", "/products/{product}", None, (401, 403, 403, 204), False),
    ("POST", "/orders", ORDER_BODY, (401, 201, 201, 201), False),
    ("GET", "/orders", None, (401, 200, 200, 200), False),
    ("GET", "/orders/{order}", None, (401, 404, 200, 200), False),
    ("POST", "/orders/{order}/cancel", None, (401, 404, 200, 200), True),
]


@pytest.mark.parametrize(
    ("method", "template", "body", "expected", "destructive"),
    ROUTES,
    ids=[f"{method} {template}" for method, template, *_ in ROUTES],
)
def test_who_may_call_each_protected_route(
    http, admin, method, template, body, expected, destructive
):
    stranger = http.sign_up()["token"]
    world = World(http, admin)
    admin_world = World(http, admin) if destructive else world
    if body is ORDER_BODY:
        body = {"items": [{"productId": world.product["productId"], "quantity": 1}], **DELIVERY}
    tokens = {"anonymous": None, "stranger": stranger, "admin": admin}

    actual = {}
    for caller in CALLERS:
        target = admin_world if caller == "admin" else world
        path = target.path(template)
        token = target.owner["token"] if caller == "owner" else tokens[caller]
        status, response = http.request(method, path, body, token=token)
        actual[caller] = status
        if status >= 400:
            assert response["code"] and response["error"], response

    assert actual == dict(zip(CALLERS, expected, strict=True))


def test_customers_cannot_list_another_users_orders(http):
    customer, other = http.sign_up(), http.sign_up()

    status, error = http.get(f"/orders?userId={other['userId']}", token=customer["token"])
    assert (status, error["code"]) == (403, "Forbidden")
    status, page = http.get(f"/orders?userId={customer['userId']}", token=customer["token"])
    assert (status, page["items"]) == (200, [])


def test_admins_manage_other_users(http, admin):
    user = http.sign_up()
    path = f"/users/{user['userId']}"

    status, body = http.get(path, token=admin)
    assert status == 200, body
    assert body["email"] == user["email"]
    # An admin may reset a password without knowing the current one; it revokes the
    # user's tokens.
    status, body = http.put(path, {"password": "reset-by-admin"}, token=admin)
    assert status == 200, body
    assert http.get(path, token=user["token"])[0] == 401
    login = http.post("/users/login", {"email": user["email"], "password": "reset-by-admin"})
    assert login[0] == 200, login
    # Nobody becomes admin through the API.
    status, body = http.put(path, {"role": "admin"}, token=admin)
    assert status == 400, body


def test_a_password_change_revokes_the_old_token(http, admin):
    user = http.sign_up()
    path = f"/users/{user['userId']}"
    old = user["token"]
    _, product = http.post("/products", {"name": "Bell", "price": "2", "stock": 3}, token=admin)
    new_password = "a-brand-new-passphrase"

    # Proving the current password is required, and checked.
    status, error = http.put(path, {"password": new_password}, token=old)
    assert (status, error["code"]) == (400, "ValidationError")
    status, error = http.put(
        path, {"password": new_password, "currentPassword": "wrong-guess"}, token=old
    )
    assert (status, error["code"]) == (401, "Unauthorized")
    assert http.get(path, token=old)[0] == 200  # failed attempts revoke nothing

    status, body = http.put(
        path, {"password": new_password, "currentPassword": PASSWORD}, token=old
    )
    assert status == 200, body

    assert http.get(path, token=old)[0] == 401
    assert http.put(path, {"name": "Mallory"}, token=old)[0] == 401
    assert http.get("/orders", token=old)[0] == 401
    order = {"items": [{"productId": product["productId"], "quantity": 1}], **DELIVERY}
    assert http.post("/orders", order, token=old)[0] == 401
    assert http.get(f"/products/{product['productId']}")[1]["stock"] == 3
    assert http.post("/users/login", {"email": user["email"], "password": PASSWORD})[0] == 401

    status, login = http.post("/users/login", {"email": user["email"], "password": new_password})
    assert status == 200, login
    assert http.get(path, token=login["token"]) == (200, body)


def test_a_deleted_user_is_gone_and_the_email_is_free_again(http, admin):
    user = http.sign_up()
    path = f"/users/{user['userId']}"

    assert http.delete(path, token=user["token"]) == (204, None)

    assert http.get(path, token=user["token"])[0] == 401
    assert http.delete(path, token=user["token"])[0] == 401
    assert http.get("/orders", token=user["token"])[0] == 401
    assert http.post("/users/login", {"email": user["email"], "password": PASSWORD})[0] == 401
    assert http.get(path, token=admin)[0] == 404
    assert http.delete(path, token=admin)[0] == 404
    assert user["userId"] not in [u["userId"] for u in all_users(http, admin)]

    again = http.sign_up(user["email"], "another-passphrase")
    assert again["userId"] != user["userId"]
    assert http.get(f"/users/{again['userId']}", token=again["token"])[0] == 200
    # The old token does not come back to life with the new account.
    assert http.get(path, token=user["token"])[0] == 401


def test_twenty_simultaneous_registrations_of_one_email_create_one_user(http, admin):
    email = unique_email("race")
    # The same address in different cases: uniqueness is case-insensitive.
    variants = [email, email.upper(), email.capitalize(), email.swapcase()]

    results = race(
        20,
        lambda i: http.post(
            "/users/register",
            {"email": variants[i % len(variants)], "name": f"Racer {i}", "password": PASSWORD},
        ),
    )

    statuses = sorted(status for status, _ in results)
    assert statuses == [201] + [409] * 19, results
    assert all(body["code"] == "EmailTaken" for status, body in results if status == 409)
    (winner,) = [body for status, body in results if status == 201]
    matching = [u for u in all_users(http, admin) if u["email"] == email]
    assert matching == [winner]
    # ...and the winner's password is the one that signs in.
    login = http.post("/users/login", {"email": email, "password": PASSWORD})
    assert (login[0], login[1]["name"]) == (200, winner["name"])


def test_the_user_listing_pages_are_consistent(http, admin):
    mine = {http.sign_up()["userId"] for _ in range(3)}
    seen: list[str] = []
    cursor = None
    started = time.monotonic()
    while True:
        path = "/users?limit=5" + (f"&cursor={cursor}" if cursor else "")
        status, page = http.get(path, token=admin)
        assert status == 200, page
        assert len(page["items"]) <= 5
        seen += [u["userId"] for u in page["items"]]
        cursor = page["nextCursor"]
        if cursor is None or time.monotonic() - started > 60:
            break
    assert cursor is None
    assert len(seen) == len(set(seen))
    assert mine <= set(seen)
    assert http.get("/users?cursor=bogus", token=admin)[0] == 400
