"""Per-account login backoff through the HTTP API: 429 + Retry-After, doubling, reset."""

from __future__ import annotations

import json
import logging

import pytest

from chalicelib import login_backoff, passwords
from chalicelib.models import UserRecord


@pytest.fixture
def clock(monkeypatch):
    """The backoff's clock, moved by hand."""

    class Clock:
        at = 1_800_000_000.0

        def advance(self, seconds: float) -> None:
            self.at += seconds

    clock = Clock()
    monkeypatch.setattr(login_backoff, "now", lambda: clock.at)
    return clock


def login(api, account, password):
    return api.post("/users/login", {"email": account.email, "password": password})


def fail(api, account, times: int) -> None:
    for _ in range(times):
        assert login(api, account, "wrong-password").status == 401


def assert_429(reply, retry_after: int) -> None:
    assert reply.status == 429, reply.body
    assert reply.body["code"] == "TooManyAttempts"
    assert reply.headers["Retry-After"] == str(retry_after)


def test_five_failures_lock_even_the_right_password_until_the_window_passes(api, clock):
    account = api.register()
    fail(api, account, 4)
    assert login(api, account, account.password).status == 200  # 4 failures: not locked
    fail(api, account, 5)
    assert_429(login(api, account, account.password), 60)
    assert_429(login(api, account, "wrong-password"), 60)
    clock.advance(59)
    assert_429(login(api, account, account.password), 1)
    clock.advance(1)
    assert login(api, account, account.password).status == 200


def test_the_window_doubles_per_failure_up_to_15_minutes(api, clock):
    account = api.register()
    fail(api, account, 5)
    for expected in (120, 240, 480, 900, 900):
        clock.advance(login_backoff.MAX_LOCK_SECONDS)  # let every window pass
        fail(api, account, 1)
        assert_429(login(api, account, account.password), expected)


def test_a_success_resets_the_count(api, clock, table_item):
    account = api.register()
    fail(api, account, 4)
    assert table_item(account.email).failed_logins == 4
    assert login(api, account, account.password).status == 200
    assert table_item(account.email).failed_logins is None
    fail(api, account, 4)  # four more: still not locked
    assert login(api, account, account.password).status == 200


def test_a_locked_attempt_checks_no_password_and_writes_nothing(api, clock, aws_calls, monkeypatch):
    account = api.register()
    fail(api, account, 5)
    verified = []
    monkeypatch.setattr(passwords, "verify_password", lambda *a: verified.append(a) or True)
    aws_calls.clear()
    assert login(api, account, account.password).status == 429
    assert verified == []
    assert aws_calls.dynamodb() == ["GetItem"]


def test_lockouts_are_counted_and_logged_without_the_email(api, clock, capsys, caplog):
    account = api.register()
    caplog.set_level(logging.INFO)
    fail(api, account, 4)
    capsys.readouterr()
    fail(api, account, 1)
    out = capsys.readouterr().out
    metrics = [json.loads(line) for line in out.splitlines() if '"_aws"' in line]
    assert [m.get("AccountLockouts") for m in metrics] == [1]
    logged = out + caplog.text
    assert "account locked" in caplog.text
    assert account.email not in logged
    assert account.email.split("@")[0] not in logged


def test_current_password_checks_share_the_backoff(api, clock, aws_calls):
    account = api.register()
    change = {"password": "new-password-1", "currentPassword": "wrong-password"}
    for _ in range(5):
        reply = api.put(f"/users/{account.user_id}", change, token=account.token)
        assert reply.status == 401, reply.body
    right = {"password": "new-password-1", "currentPassword": account.password}
    aws_calls.clear()
    assert_429(api.put(f"/users/{account.user_id}", right, token=account.token), 60)
    # The profile (authentication) and the login item (the backoff state); no write.
    assert aws_calls.dynamodb() == ["GetItem", "GetItem"]
    assert_429(login(api, account, account.password), 60)  # the account, not the route
    clock.advance(60)
    reply = api.put(f"/users/{account.user_id}", right, token=account.token)
    assert reply.status == 200, reply.body
    assert login(api, account, "new-password-1").status == 200


def test_a_wrong_current_password_costs_one_write(api, clock, aws_calls):
    account = api.register()
    change = {"password": "new-password-1", "currentPassword": "wrong-password"}
    aws_calls.clear()
    assert api.put(f"/users/{account.user_id}", change, token=account.token).status == 401
    assert aws_calls.dynamodb() == ["GetItem", "GetItem", "UpdateItem"]


def test_an_admin_password_reset_unlocks_the_account(api, clock, admin):
    account = api.register()
    fail(api, account, 5)
    reset = api.put(f"/users/{account.user_id}", {"password": "fresh-password"}, token=admin.token)
    assert reset.status == 200, reset.body
    assert login(api, account, "fresh-password").status == 200


def test_unknown_emails_never_lock(api, clock):
    for _ in range(7):
        reply = api.post("/users/login", {"email": "nobody@example.com", "password": "x" * 8})
        assert reply.status == 401


@pytest.fixture
def table_item(aws):
    def read(email: str) -> UserRecord:
        return UserRecord.get("EMAIL#" + email, consistent_read=True)

    return read


def test_thirty_racing_guesses_get_at_most_five_password_checks(api, clock, monkeypatch):
    """Issue #23 item 8: every one of 30 logins reads the account before any of them
    writes (the interleaving a parallel burst produces); still only 5 checks run."""
    account = api.register()
    key = UserRecord.login_key(account.email)
    before_the_race = UserRecord.get(key, consistent_read=True)
    real_get = UserRecord.get
    first_read = {"done": False}

    def racing_get(hash_key, *args, **kwargs):
        if hash_key == key and not first_read["done"]:
            first_read["done"] = True
            return before_the_race  # read before any other guess wrote
        return real_get(hash_key, *args, **kwargs)

    checked = []
    real_verify = passwords.verify_password

    def counting_verify(password, encoded):
        checked.append(password)
        return real_verify(password, encoded)

    monkeypatch.setattr(UserRecord, "get", racing_get)
    monkeypatch.setattr(passwords, "verify_password", counting_verify)
    guesses = [f"wrong-guess-{i}" for i in range(29)] + [account.password]
    statuses = []
    for guess in guesses:
        first_read["done"] = False
        statuses.append(login(api, account, guess).status)

    assert len(checked) == login_backoff.THRESHOLD
    assert statuses == [401] * 5 + [429] * 25
    assert account.password not in checked


def test_the_right_password_in_a_race_does_not_reopen_the_window(api, clock):
    """A success clears the count only if no other attempt was reserved after its own."""
    account = api.register()
    key = UserRecord.login_key(account.email)
    mine = login_backoff.reserve(key, UserRecord.get(key, consistent_read=True))
    assert mine is not None and mine.failures == 1
    fail(api, account, 4)  # reserved after mine: the fifth locks
    login_backoff.succeeded(mine)
    assert_429(login(api, account, account.password), 60)
    # Alone, a success clears everything.
    clock.advance(60)
    assert login(api, account, account.password).status == 200
    assert UserRecord.get(key).failed_logins is None


def test_a_check_that_never_finished_counts_as_a_failure_and_expires(api, clock):
    """A request that died after reserving leaves a counted failure, never a lock for good."""
    account = api.register()
    key = UserRecord.login_key(account.email)
    for _ in range(5):
        login_backoff.reserve(key, UserRecord.get(key, consistent_read=True))
    assert_429(login(api, account, account.password), 60)
    clock.advance(60)
    assert login(api, account, account.password).status == 200
