"""``chalicelib.users`` against moto: the two stored items, uniqueness, login, admins."""

from __future__ import annotations

import boto3
import pytest

from chalicelib import passwords, users
from chalicelib.config import get_settings
from chalicelib.errors import Conflict, NotFound, Unauthorized, ValidationError
from chalicelib.roles import ADMIN, CUSTOMER

PASSWORD = "correct-horse"


@pytest.fixture
def table(aws):
    return boto3.resource("dynamodb", region_name="us-east-1").Table(get_settings().users_table)


def raw(table, pk: str) -> dict | None:
    return table.get_item(Key={"pk": pk}, ConsistentRead=True).get("Item")


def all_items(table) -> list[dict]:
    return table.scan(ConsistentRead=True)["Items"]


def register(email: str = "ann@example.com", name: str = "Ann", password: str = PASSWORD):
    return users.register({"email": email, "name": name, "password": password})


def signed_in(email: str, password: str = PASSWORD):
    token = users.login({"email": email, "password": password})["token"]
    return token, users.authenticate(token)


def assert_items_agree(table, user_id: str, email: str) -> tuple[dict, dict]:
    profile, login = raw(table, f"USER#{user_id}"), raw(table, f"EMAIL#{email}")
    assert profile is not None and login is not None
    assert {k: v for k, v in profile.items() if k != "pk"} == {
        k: v for k, v in login.items() if k != "pk"
    }
    return profile, login


# --- email normalization -------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("ann@example.com", "ann@example.com"),
        ("  Ann@Example.COM\t", "ann@example.com"),
        ("a.b+tag@sub.example.co.uk", "a.b+tag@sub.example.co.uk"),
    ],
)
def test_normalize_email_trims_and_lower_cases(given, stored):
    assert users.normalize_email(given) == stored


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "   ",
        "ann",
        "ann@",
        "@example.com",
        "ann@example",
        "ann@@example.com",
        "ann @example.com",
        "ann@exa mple.com",
        "ann@example..com",
        "ann@.example.com",
        "ann@example.com.",
        "a" * 250 + "@example.com",
    ],
)
def test_normalize_email_rejects_invalid_addresses(bad):
    with pytest.raises(ValidationError):
        users.normalize_email(bad)


# --- registration ----------------------------------------------------------------


def test_register_writes_two_identical_items_and_returns_no_hash(table):
    view = register("  Ann@Example.com ")
    assert set(view) == {"userId", "email", "name", "role", "emailVerified", "createdAt"}
    assert view["emailVerified"] is False  # until the emailed link is used
    assert view["email"] == "ann@example.com"
    assert view["role"] == CUSTOMER
    profile, _ = assert_items_agree(table, view["userId"], "ann@example.com")
    assert profile["userId"] == view["userId"]
    assert profile["tokenVersion"] == 0
    assert profile["passwordHash"].startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert passwords.verify_password(PASSWORD, profile["passwordHash"])
    assert len(all_items(table)) == 2


def test_a_second_registration_of_the_same_email_in_any_case_conflicts(table):
    first = register("ann@example.com")
    with pytest.raises(Conflict) as info:
        register("  ANN@example.COM", name="Impostor", password="other-password")
    assert info.value.status_code == 409
    assert info.value.details == {"field": "email"}
    assert len(all_items(table)) == 2
    assert raw(table, "EMAIL#ann@example.com")["userId"] == first["userId"]
    assert raw(table, "EMAIL#ann@example.com")["name"] == "Ann"


def test_the_login_record_alone_is_enough_to_block_a_registration(table):
    # As if a concurrent registration had won the race for the email: only the
    # EMAIL# item exists. The conditional write must refuse, and write nothing.
    table.put_item(Item={"pk": "EMAIL#race@example.com", "userId": "winner"})
    with pytest.raises(Conflict):
        register("race@example.com")
    items = all_items(table)
    assert items == [{"pk": "EMAIL#race@example.com", "userId": "winner"}]
    assert not [i for i in items if i["pk"].startswith("USER#")]


def test_registration_is_one_transaction_with_both_conditions(aws, aws_calls):
    aws_calls.clear()
    register()
    assert aws_calls.dynamodb() == ["TransactWriteItems"]
    (params,) = [p for _, op, p in aws_calls.calls if op == "TransactWriteItems"]
    puts = [item["Put"] for item in params["TransactItems"]]
    assert sorted(p["Item"]["pk"]["S"].split("#")[0] for p in puts) == ["EMAIL", "USER"]
    for put in puts:
        assert "attribute_not_exists" in put["ConditionExpression"]


def test_invalid_email_is_rejected_before_any_write(aws, aws_calls):
    aws_calls.clear()
    with pytest.raises(ValidationError):
        register("not-an-email")
    assert aws_calls.dynamodb() == []


# --- login -------------------------------------------------------------------------


def test_login_reads_the_login_record_once_consistently(aws, aws_calls):
    register("ann@example.com")
    aws_calls.clear()
    result = users.login({"email": " ANN@example.com ", "password": PASSWORD})
    assert set(result) == {"userId", "name", "token", "expiresAt"}
    # The read, the check reserved before the password is verified, the count cleared.
    assert aws_calls.dynamodb() == ["GetItem", "UpdateItem", "UpdateItem"]
    read, reserve, clear = [p for _, op, p in aws_calls.calls]
    assert read["Key"] == reserve["Key"] == clear["Key"] == {"pk": {"S": "EMAIL#ann@example.com"}}
    assert read["ConsistentRead"] is True
    assert "attribute_exists" in reserve["ConditionExpression"]


def test_unknown_email_burns_a_hash_and_fails_like_a_wrong_password(aws, monkeypatch):
    register("ann@example.com")
    burned, verified = [], []
    real_burn, real_verify = passwords.burn_time, passwords.verify_password
    monkeypatch.setattr(passwords, "burn_time", lambda pw: burned.append(pw) or real_burn(pw))
    monkeypatch.setattr(
        passwords, "verify_password", lambda pw, h: verified.append(pw) or real_verify(pw, h)
    )

    with pytest.raises(Unauthorized) as unknown:
        users.login({"email": "nobody@example.com", "password": "guess-one"})
    # Both paths run exactly one full verification (burn_time verifies against a dummy).
    assert burned == ["guess-one"]
    assert verified == ["guess-one"]

    with pytest.raises(Unauthorized) as wrong:
        users.login({"email": "ann@example.com", "password": "guess-two"})
    assert burned == ["guess-one"]
    assert verified == ["guess-one", "guess-two"]

    assert unknown.value.body() == wrong.value.body()


@pytest.mark.parametrize("email", ["", "   "])
def test_blank_email_burns_a_hash_without_reading(aws, aws_calls, monkeypatch, email):
    burned = []
    monkeypatch.setattr(passwords, "burn_time", burned.append)
    aws_calls.clear()
    with pytest.raises(Unauthorized):
        users.login({"email": email, "password": "whatever"})
    assert burned == ["whatever"]
    assert aws_calls.dynamodb() == []


# --- updates keep both items consistent ------------------------------------------


def test_name_change_updates_both_items(table):
    user = register()
    _, (caller, record) = signed_in("ann@example.com")
    view = users.update_user(caller, record, user["userId"], {"name": "Annie"})
    assert view["name"] == "Annie"
    profile, _ = assert_items_agree(table, user["userId"], "ann@example.com")
    assert profile["name"] == "Annie"
    assert profile["updatedAt"] == view["updatedAt"]
    assert profile["tokenVersion"] == 0


def test_password_change_updates_both_items_and_bumps_the_version(table):
    user = register()
    _, (caller, record) = signed_in("ann@example.com")
    users.update_user(
        caller,
        record,
        user["userId"],
        {"password": "new-password", "currentPassword": PASSWORD},
    )
    profile, _ = assert_items_agree(table, user["userId"], "ann@example.com")
    assert profile["tokenVersion"] == 1
    assert passwords.verify_password("new-password", profile["passwordHash"])
    assert not passwords.verify_password(PASSWORD, profile["passwordHash"])


def test_an_update_based_on_a_stale_read_is_a_conflict_not_a_lost_write(table):
    user = register()
    _, (caller, stale) = signed_in("ann@example.com")
    _, (_, fresh) = signed_in("ann@example.com")
    users.update_user(caller, fresh, user["userId"], {"name": "First"})
    with pytest.raises(Conflict):
        users.update_user(caller, stale, user["userId"], {"name": "Second"})
    profile, _ = assert_items_agree(table, user["userId"], "ann@example.com")
    assert profile["name"] == "First"


def test_an_update_racing_a_deletion_does_not_resurrect_the_user(table):
    user = register()
    _, (caller, record) = signed_in("ann@example.com")
    users.delete_user(caller, record, user["userId"])
    with pytest.raises(Conflict):
        users.update_user(caller, record, user["userId"], {"name": "Zombie"})
    with pytest.raises(Conflict):
        users.update_user(
            caller,
            record,
            user["userId"],
            {"password": "zombie-password", "currentPassword": PASSWORD},
        )
    assert all_items(table) == []


def test_delete_removes_both_items(table):
    user = register()
    _, (caller, record) = signed_in("ann@example.com")
    users.delete_user(caller, record, user["userId"])
    assert all_items(table) == []


# --- admins ------------------------------------------------------------------------


def test_promote_to_admin_changes_the_role_and_revokes_tokens(table):
    user = register("ann@example.com")
    token, _ = signed_in("ann@example.com")
    view = users.promote_to_admin("  ANN@example.com ")
    assert view["role"] == ADMIN
    profile, _ = assert_items_agree(table, user["userId"], "ann@example.com")
    assert profile["role"] == ADMIN
    assert profile["tokenVersion"] == 1
    with pytest.raises(Unauthorized):
        users.authenticate(token)
    _, (caller, _) = signed_in("ann@example.com")
    assert caller.is_admin


def test_promoting_an_admin_again_changes_nothing(table):
    user = register("ann@example.com")
    users.promote_to_admin("ann@example.com")
    before = all_items(table)
    token, _ = signed_in("ann@example.com")
    assert users.promote_to_admin("ann@example.com")["role"] == ADMIN
    assert all_items(table) == before
    caller, _ = users.authenticate(token)
    assert caller.user_id == user["userId"]


def test_promoting_an_unknown_email_is_not_found(table):
    with pytest.raises(NotFound):
        users.promote_to_admin("nobody@example.com")
    assert all_items(table) == []


def test_ensure_admin_creates_then_is_idempotent(table):
    created = users.ensure_admin("Root@Example.com", "root-password")
    assert created["role"] == ADMIN
    assert created["email"] == "root@example.com"
    before = all_items(table)
    token, _ = signed_in("root@example.com", "root-password")

    again = users.ensure_admin("root@example.com", "root-password")
    assert again["userId"] == created["userId"]
    assert all_items(table) == before
    caller, _ = users.authenticate(token)
    assert caller.is_admin


def test_ensure_admin_promotes_an_existing_user_without_touching_the_password(table):
    user = register("ann@example.com")
    promoted = users.ensure_admin("ann@example.com", "seed-password")
    assert promoted["userId"] == user["userId"]
    assert promoted["role"] == ADMIN
    items = all_items(table)
    assert len([i for i in items if not i["pk"].startswith("AUDIT#")]) == 2
    # The role change's audit entry (one item per listing), by the operator.
    audited = [i for i in items if i["pk"].startswith("AUDIT#")]
    assert {(i["action"], i["actor"], i["entityId"]) for i in audited} == {
        ("user.role", "operator", user["userId"])
    }
    assert len(audited) == 3
    _, (caller, _) = signed_in("ann@example.com", PASSWORD)
    assert caller.is_admin
    with pytest.raises(Unauthorized):
        users.login({"email": "ann@example.com", "password": "seed-password"})
