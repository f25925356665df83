"""Users through the HTTP API: registration, profiles, updates, deletion, admins."""

from __future__ import annotations

import json
import uuid

import boto3
import pytest

from chalicelib import users
from chalicelib.config import get_settings
from tests.factories import DELIVERY, line

PASSWORD = "correct-horse"
USER_FIELDS = {"userId", "email", "name", "role", "emailVerified", "createdAt"}


# --- helpers and fixtures ------------------------------------------------------


def keys_of(value) -> set[str]:
    if isinstance(value, dict):
        return set(value).union(*(keys_of(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(keys_of(v) for v in value))
    return set()


def assert_no_secret_material(body) -> None:
    """No password hash anywhere in a response: no such key, no scrypt string."""
    assert "scrypt$" not in json.dumps(body)
    assert not {k for k in keys_of(body) if "hash" in k.lower() or "password" in k.lower()}


@pytest.fixture(autouse=True)
def every_reply_is_free_of_hashes(api, monkeypatch):
    """Checks every response any test in this module receives."""
    original = api.request

    def checked(*args, **kwargs):
        reply = original(*args, **kwargs)
        assert_no_secret_material(reply.body)
        return reply

    monkeypatch.setattr(api, "request", checked)


@pytest.fixture
def table(aws):
    return boto3.resource("dynamodb", region_name="us-east-1").Table(get_settings().users_table)


def raw(table, pk: str) -> dict | None:
    return table.get_item(Key={"pk": pk}, ConsistentRead=True).get("Item")


def stored_pair(table, user_id: str, email: str) -> tuple[dict | None, dict | None]:
    return raw(table, f"USER#{user_id}"), raw(table, f"EMAIL#{email}")


def assert_consistent(table, user_id: str, email: str) -> dict:
    profile, login = stored_pair(table, user_id, email)
    assert profile is not None, "profile item missing"
    assert login is not None, "login item missing"
    assert profile.pop("pk") == f"USER#{user_id}"
    assert login.pop("pk") == f"EMAIL#{email}"
    assert profile == login
    return profile


def register(api, email: str, name: str = "Ann", password: str = PASSWORD):
    return api.post("/users/register", {"email": email, "name": name, "password": password})


def me(api, account):
    return api.get(f"/users/{account.user_id}", token=account.token)


def login_status(api, email: str, password: str) -> int:
    return api.post("/users/login", {"email": email, "password": password}).status


# --- registration ------------------------------------------------------------------


def test_register_returns_the_user_without_the_hash(api, table):
    reply = register(api, "  Ann.Lee@Example.COM ", name="Ann Lee")
    assert reply.status == 201
    assert set(reply.body) == USER_FIELDS
    assert reply.body["email"] == "ann.lee@example.com"
    assert reply.body["name"] == "Ann Lee"
    assert reply.body["role"] == "customer"
    uuid.UUID(reply.body["userId"])
    assert reply.body["createdAt"].endswith("Z")
    # ...while the store does keep an Argon2id hash, on both items.
    stored = assert_consistent(table, reply.body["userId"], "ann.lee@example.com")
    assert stored["passwordHash"].startswith("$argon2id$")


def test_register_is_one_transaction(api, aws_calls):
    aws_calls.clear()
    assert register(api, "ann@example.com").status == 201
    assert aws_calls.dynamodb() == ["TransactWriteItems"]


def test_the_registered_user_can_sign_in(api):
    register(api, "Ann@Example.com")
    assert login_status(api, "ann@example.com", PASSWORD) == 200
    assert login_status(api, " ANN@EXAMPLE.COM", PASSWORD) == 200


@pytest.mark.parametrize(
    "other_spelling", ["ann@example.com", "ANN@Example.Com", " ann@example.com "]
)
def test_duplicate_email_is_a_conflict_whatever_the_case(api, table, other_spelling):
    first = register(api, "Ann@example.com")
    assert first.status == 201
    reply = register(api, other_spelling, name="Impostor", password="another-password")
    assert reply.status == 409
    assert reply.body["code"] == "EmailTaken"
    assert reply.body["error"]
    # The first account is untouched and still the only one.
    assert raw(table, "EMAIL#ann@example.com")["userId"] == first.body["userId"]
    assert table.scan(Select="COUNT")["Count"] == 2
    assert login_status(api, "ann@example.com", "another-password") == 401


BOUNDARY_OK = [
    pytest.param({"name": "A"}, id="name-1"),
    pytest.param({"name": "N" * 100}, id="name-100"),
    pytest.param({"password": "p" * 8}, id="password-8"),
    pytest.param({"password": "p" * 128}, id="password-128"),
    pytest.param({"name": "Zoë Ñuñez 张伟"}, id="unicode-name"),
]


@pytest.mark.parametrize("override", BOUNDARY_OK)
def test_register_accepts_the_boundaries(api, override):
    body = {"email": "ann@example.com", "name": "Ann", "password": PASSWORD, **override}
    reply = api.post("/users/register", body)
    assert reply.status == 201, reply.body
    if "name" in override:
        assert reply.body["name"] == override["name"]
    if "password" in override:
        assert login_status(api, "ann@example.com", override["password"]) == 200


INVALID_REGISTRATIONS = [
    pytest.param({"email": ...}, id="no-email"),
    pytest.param({"name": ...}, id="no-name"),
    pytest.param({"password": ...}, id="no-password"),
    pytest.param({"email": "not-an-email"}, id="email-no-at"),
    pytest.param({"email": "ann@example"}, id="email-no-dot"),
    pytest.param({"email": "ann smith@example.com"}, id="email-space"),
    pytest.param({"email": ""}, id="email-empty"),
    pytest.param({"email": "a" * 250 + "@example.com"}, id="email-too-long"),
    pytest.param({"email": 42}, id="email-number"),
    pytest.param({"name": ""}, id="name-empty"),
    pytest.param({"name": "   "}, id="name-blank"),
    pytest.param({"name": "N" * 101}, id="name-101"),
    pytest.param({"name": None}, id="name-null"),
    pytest.param({"password": "p" * 7}, id="password-7"),
    pytest.param({"password": "p" * 129}, id="password-129"),
    pytest.param({"password": 12345678}, id="password-number"),
    pytest.param({"password": "\ud800" + PASSWORD}, id="password-lone-surrogate"),
    pytest.param({"name": "\udfff"}, id="name-lone-surrogate"),
    pytest.param({"email": "\ud800ann@example.com"}, id="email-lone-surrogate"),
    pytest.param({"role": "admin"}, id="role-admin"),
    pytest.param({"role": "customer"}, id="role-customer"),
    pytest.param({"userId": "chosen-id"}, id="userId"),
    pytest.param({"passwordHash": "scrypt$1$1$1$x$y"}, id="passwordHash"),
]


@pytest.mark.parametrize("override", INVALID_REGISTRATIONS)
def test_invalid_registrations_are_400_and_write_nothing(api, table, override):
    body = {"email": "ann@example.com", "name": "Ann", "password": PASSWORD, **override}
    body = {k: v for k, v in body.items() if v is not ...}
    reply = api.post("/users/register", body)
    assert reply.status == 400, reply.body
    assert reply.body["code"] == "ValidationError"
    assert isinstance(reply.body["error"], str) and reply.body["error"]
    assert table.scan(Select="COUNT")["Count"] == 0


@pytest.mark.parametrize("field", ["role", "isAdmin"])
def test_an_extra_field_is_named_in_the_error(api, field):
    body = {"email": "ann@example.com", "name": "Ann", "password": PASSWORD, field: "admin"}
    reply = api.post("/users/register", body)
    assert reply.status == 400
    assert "unknown field" in reply.body["error"]
    assert field in reply.body["error"]


@pytest.mark.parametrize(
    "raw_body", ["", "not json", "[]", '"text"', "null", '{"email": "a@b.co",}', "NaN"]
)
def test_a_body_that_is_not_a_json_object_is_400(api, table, raw_body):
    reply = api.request("POST", "/users/register", raw=raw_body)
    assert reply.status == 400
    assert reply.body["code"] == "ValidationError"
    assert table.scan(Select="COUNT")["Count"] == 0


def test_register_requires_json_content_type(api):
    body = json.dumps({"email": "ann@example.com", "name": "Ann", "password": PASSWORD})
    reply = api.request("POST", "/users/register", raw=body, headers={"Content-Type": "text/plain"})
    assert reply.status == 415
    assert set(reply.body) == {"error", "code"}


def test_a_deleted_email_can_register_again_with_a_new_id(api, customer, table):
    assert api.delete(f"/users/{customer.user_id}", token=customer.token).status == 204
    reply = register(api, customer.email.upper())
    assert reply.status == 201
    assert reply.body["userId"] != customer.user_id
    assert_consistent(table, reply.body["userId"], customer.email)
    assert raw(table, f"USER#{customer.user_id}") is None


# --- reading --------------------------------------------------------------------------


def test_a_user_reads_their_own_profile_with_one_call(api, customer, aws_calls):
    aws_calls.clear()
    reply = me(api, customer)
    assert reply.status == 200
    assert aws_calls.dynamodb() == ["BatchGetItem"]
    assert set(reply.body) == USER_FIELDS
    assert reply.body["userId"] == customer.user_id
    assert reply.body["email"] == customer.email


def test_another_users_profile_is_404_like_a_missing_one(api, customer):
    other = api.register()
    reply = api.get(f"/users/{other.user_id}", token=customer.token)
    assert reply.status == 404
    assert reply.body == {"error": f"user {other.user_id} not found", "code": "NotFound"}
    missing = str(uuid.uuid4())
    reply = api.get(f"/users/{missing}", token=customer.token)
    assert reply.body == {"error": f"user {missing} not found", "code": "NotFound"}


def test_an_admin_reads_any_profile(api, admin, customer):
    reply = api.get(f"/users/{customer.user_id}", token=admin.token)
    assert reply.status == 200
    assert reply.body["email"] == customer.email
    assert reply.body["role"] == "customer"


@pytest.mark.parametrize("user_id", ["00000000-0000-0000-0000-000000000000", "x" * 65, "USER%23x"])
def test_an_admin_gets_404_for_unknown_ids(api, admin, user_id):
    reply = api.get(f"/users/{user_id}", token=admin.token)
    assert reply.status == 404
    assert reply.body["code"] == "NotFound"


def test_profile_routes_require_a_token(api, customer):
    for method in ("GET", "PUT", "DELETE"):
        reply = api.request(method, f"/users/{customer.user_id}", body={"name": "X"})
        assert reply.status == 401, method
        assert reply.body["code"] == "Unauthorized"
    assert me(api, customer).body["name"] == "Test User"


# --- the admin listing ----------------------------------------------------------


def test_admin_pages_through_all_users_without_duplicates(api, admin):
    created = {api.register().user_id for _ in range(6)} | {admin.user_id}
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        path = "/users?limit=3" + (f"&cursor={cursor}" if cursor else "")
        reply = api.get(path, token=admin.token)
        assert reply.status == 200, reply.body
        assert set(reply.body) == {"items", "nextCursor"}
        assert len(reply.body["items"]) <= 3
        for item in reply.body["items"]:
            assert set(item) >= USER_FIELDS
        seen += [item["userId"] for item in reply.body["items"]]
        pages += 1
        cursor = reply.body["nextCursor"]
        if cursor is None:
            break
        assert pages < 10
    assert len(seen) == len(set(seen))
    assert set(seen) == created
    assert pages == 3


def test_default_page_lists_every_user_once(api, admin, customer):
    reply = api.get("/users", token=admin.token)
    assert reply.status == 200
    emails = sorted(u["email"] for u in reply.body["items"])
    assert emails == sorted([admin.email, customer.email])
    assert reply.body["nextCursor"] is None


@pytest.mark.parametrize(
    "query", ["limit=0", "limit=101", "limit=abc", "limit=-1", "cursor=%21%21", "cursor=e30"]
)
def test_bad_limit_or_cursor_is_400(api, admin, query):
    reply = api.get(f"/users?{query}", token=admin.token)
    assert reply.status == 400
    assert reply.body["code"] == "ValidationError"


# --- updates --------------------------------------------------------------------------


def test_a_name_change_keeps_both_items_consistent_and_the_token_valid(api, customer, table):
    reply = api.put(f"/users/{customer.user_id}", {"name": "Renamed"}, token=customer.token)
    assert reply.status == 200
    assert set(reply.body) == USER_FIELDS | {"updatedAt"}
    assert reply.body["name"] == "Renamed"
    stored = assert_consistent(table, customer.user_id, customer.email)
    assert stored["name"] == "Renamed"
    assert stored["updatedAt"] == reply.body["updatedAt"]
    assert me(api, customer).body["name"] == "Renamed"
    assert (
        api.post("/users/login", {"email": customer.email, "password": PASSWORD}).body["name"]
        == "Renamed"
    )


def test_a_password_change_revokes_earlier_tokens(api, table):
    account = api.register(password=PASSWORD)
    second_session = api.login(account.email, PASSWORD)
    reply = api.put(
        f"/users/{account.user_id}",
        {"password": "brand-new-password", "currentPassword": PASSWORD},
        token=account.token,
    )
    assert reply.status == 200
    stored = assert_consistent(table, account.user_id, account.email)
    assert stored["tokenVersion"] == 1
    for old in (account, second_session):
        stale = me(api, old)
        assert stale.status == 401
        assert stale.body["code"] == "Unauthorized"
    assert login_status(api, account.email, PASSWORD) == 401
    fresh = api.login(account.email, "brand-new-password")
    assert me(api, fresh).status == 200


def test_name_and_password_change_together(api, customer, table):
    reply = api.put(
        f"/users/{customer.user_id}",
        {"name": "Both", "password": "brand-new-password", "currentPassword": customer.password},
        token=customer.token,
    )
    assert reply.status == 200
    stored = assert_consistent(table, customer.user_id, customer.email)
    assert stored["name"] == "Both"
    assert login_status(api, customer.email, "brand-new-password") == 200


def test_a_wrong_current_password_is_401_and_changes_nothing(api, customer, table):
    before = stored_pair(table, customer.user_id, customer.email)
    reply = api.put(
        f"/users/{customer.user_id}",
        {"password": "brand-new-password", "currentPassword": "not-my-password"},
        token=customer.token,
    )
    assert reply.status == 401
    assert reply.body["code"] == "Unauthorized"
    # Only the login item's failure counter moves (the backoff, docs/security.md).
    profile, login_item = stored_pair(table, customer.user_id, customer.email)
    assert login_item.pop("failedLogins") == 1
    assert (profile, login_item) == before
    assert me(api, customer).status == 200
    assert login_status(api, customer.email, customer.password) == 200


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        pytest.param({"password": "brand-new-password"}, "currentPassword", id="no-current"),
        pytest.param({"currentPassword": PASSWORD}, "currentPassword", id="current-only"),
        pytest.param({"name": "X", "currentPassword": PASSWORD}, "currentPassword", id="name+cur"),
        pytest.param({}, "", id="empty"),
        pytest.param({"role": "admin"}, "role", id="role"),
        pytest.param({"name": "X", "role": "admin"}, "role", id="name+role"),
        pytest.param({"email": "new@example.com"}, "email", id="email"),
        pytest.param({"name": ""}, "", id="name-empty"),
        pytest.param({"name": "N" * 101}, "", id="name-101"),
        pytest.param({"password": "short", "currentPassword": PASSWORD}, "", id="pw-7"),
        pytest.param({"password": "p" * 129, "currentPassword": PASSWORD}, "", id="pw-129"),
    ],
)
def test_invalid_updates_are_400_and_change_nothing(api, customer, table, body, needle):
    before = stored_pair(table, customer.user_id, customer.email)
    reply = api.put(f"/users/{customer.user_id}", body, token=customer.token)
    assert reply.status == 400, reply.body
    assert reply.body["code"] == "ValidationError"
    assert needle in reply.body["error"]
    assert stored_pair(table, customer.user_id, customer.email) == before
    assert me(api, customer).body["role"] == "customer"


def test_a_customer_cannot_update_or_delete_another_user(api, customer, table):
    other = api.register()
    before = stored_pair(table, other.user_id, other.email)
    for method, body in (
        ("PUT", {"name": "Hijacked"}),
        ("PUT", {"password": "hijacked-password", "currentPassword": customer.password}),
        ("DELETE", None),
    ):
        reply = api.request(method, f"/users/{other.user_id}", body=body, token=customer.token)
        assert reply.status == 404, (method, body)
        assert reply.body == {"error": f"user {other.user_id} not found", "code": "NotFound"}
    assert stored_pair(table, other.user_id, other.email) == before
    assert me(api, other).status == 200


def test_an_admin_renames_another_user(api, admin, customer, table):
    reply = api.put(f"/users/{customer.user_id}", {"name": "By Admin"}, token=admin.token)
    assert reply.status == 200
    assert reply.body["userId"] == customer.user_id
    assert assert_consistent(table, customer.user_id, customer.email)["name"] == "By Admin"
    assert me(api, customer).status == 200  # a rename revokes nothing


def test_an_admin_resets_another_users_password_without_the_current_one(api, admin, customer):
    reply = api.put(f"/users/{customer.user_id}", {"password": "reset-by-admin"}, token=admin.token)
    assert reply.status == 200
    assert me(api, customer).status == 401
    assert login_status(api, customer.email, customer.password) == 401
    assert login_status(api, customer.email, "reset-by-admin") == 200
    assert me(api, admin).status == 200  # the admin's own session is unaffected


def test_an_admin_proves_their_own_current_password(api, admin):
    reply = api.put(f"/users/{admin.user_id}", {"password": "new-admin-pass"}, token=admin.token)
    assert reply.status == 400
    reply = api.put(
        f"/users/{admin.user_id}",
        {"password": "new-admin-pass", "currentPassword": "wrong-password"},
        token=admin.token,
    )
    assert reply.status == 401
    assert me(api, admin).status == 200


def test_an_admin_updating_an_unknown_user_gets_404(api, admin):
    reply = api.put(f"/users/{uuid.uuid4()}", {"name": "Ghost"}, token=admin.token)
    assert reply.status == 404


# --- deletion -------------------------------------------------------------------------


def test_a_deleted_user_cannot_sign_in_use_old_tokens_or_order(api, admin, table):
    product = api.create_product(admin, stock=5)
    account = api.register()
    reply = api.delete(f"/users/{account.user_id}", token=account.token)
    assert reply.status == 204
    assert reply.body is None
    assert stored_pair(table, account.user_id, account.email) == (None, None)

    assert login_status(api, account.email, account.password) == 401
    for method, path, body in (
        ("GET", f"/users/{account.user_id}", None),
        ("PUT", f"/users/{account.user_id}", {"name": "Back"}),
        ("DELETE", f"/users/{account.user_id}", None),
        ("GET", "/orders", None),
        ("POST", "/orders", {"items": [line(product)], **DELIVERY}),
    ):
        reply = api.request(method, path, body=body, token=account.token)
        assert reply.status == 401, (method, path, reply.body)
        assert reply.body["code"] == "Unauthorized"
    assert api.get(f"/products/{product['productId']}").body["stock"] == 5
    assert api.get(f"/users/{account.user_id}", token=admin.token).status == 404


def test_an_admin_deletes_another_user(api, admin, customer, table):
    assert api.delete(f"/users/{customer.user_id}", token=admin.token).status == 204
    assert stored_pair(table, customer.user_id, customer.email) == (None, None)
    assert me(api, customer).status == 401
    assert api.delete(f"/users/{customer.user_id}", token=admin.token).status == 404
    assert me(api, admin).status == 200


def test_old_tokens_stay_dead_after_the_email_is_registered_again(api, customer):
    api.delete(f"/users/{customer.user_id}", token=customer.token)
    again = api.register(customer.email)
    assert again.user_id != customer.user_id
    assert me(api, customer).status == 401
    assert me(api, again).status == 200


# --- admins -----------------------------------------------------------------------------


def test_promotion_requires_signing_in_again(api, customer, table):
    assert api.get("/users", token=customer.token).status == 403
    view = users.promote_to_admin(customer.email.upper())
    assert view["role"] == "admin"
    assert assert_consistent(table, customer.user_id, customer.email)["role"] == "admin"
    assert api.get("/users", token=customer.token).status == 401
    promoted = api.login(customer.email, customer.password)
    assert api.get("/users", token=promoted.token).status == 200
    assert me(api, promoted).body["role"] == "admin"


def test_ensure_admin_is_idempotent(api, admin, table):
    before = stored_pair(table, admin.user_id, admin.email)
    again = users.ensure_admin(admin.email, admin.password)
    assert again["userId"] == admin.user_id
    assert stored_pair(table, admin.user_id, admin.email) == before
    assert api.get("/users", token=admin.token).status == 200
