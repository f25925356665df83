"""Email verification and password reset through the API (issue #23 items 7 and 8).

The links travel through moto's SES (the ``sender`` fixture turns emails on); each test
reads them where a person would, in the email.
"""

from __future__ import annotations

import re

import boto3
import pytest

from chalicelib import account_links, login_backoff
from chalicelib.models import UserRecord
from tests.api.conftest import ses_outbox, verify

PAGES = {"verify": "verify-email", "reset": "reset-password"}
SPOOF = "Your account is suspended, log in at http://evil.example/login"


def link_in(email: dict, kind: str) -> str:
    found = re.search(rf"#/{PAGES[kind]}\?token=(\S+)", email["text"])
    assert found, email["text"]
    return found.group(1)


def mail_to(address: str, subject: str) -> list[dict]:
    return [m for m in ses_outbox() if m["to"] == [address] and m["subject"] == subject]


def verification_link(address: str) -> str:
    return link_in(mail_to(address, "Confirm your email address")[-1], "verify")


def reset_link(address: str) -> str:
    return link_in(mail_to(address, "Reset your password")[-1], "reset")


def profile(api, account) -> dict:
    reply = api.get(f"/users/{account.user_id}", token=account.token)
    assert reply.status == 200, reply.body
    return dict(reply.body)


@pytest.fixture
def moving_clock(monkeypatch):
    class Clock:
        at = 1_800_000_000.0

    clock = Clock()
    monkeypatch.setattr(account_links, "now", lambda: clock.at)
    monkeypatch.setattr(login_backoff, "now", lambda: clock.at)
    return clock


# --- verification ----------------------------------------------------------------


def test_registration_emails_a_single_use_link_that_verifies_the_address(api, sender):
    account = api.register(name=SPOOF)
    assert profile(api, account)["emailVerified"] is False
    [email] = mail_to(account.email, "Confirm your email address")
    assert SPOOF not in email["text"] and "evil" not in email["text"]  # the shop's words only
    token = link_in(email, "verify")

    reply = api.post("/users/verify-email", {"token": token})
    assert reply.status == 200, reply.body
    assert reply.body == {"userId": account.user_id, "email": account.email, "emailVerified": True}
    assert profile(api, account)["emailVerified"] is True

    again = api.post("/users/verify-email", {"token": token})
    assert again.status == 400 and again.body["code"] == "InvalidLink"


def test_only_the_links_hash_is_stored(api, sender, aws):
    account = api.register()
    secret = verification_link(account.email).split(".", 1)[1]
    table = boto3.client("dynamodb", region_name="us-east-1")
    items = table.scan(TableName=UserRecord.Meta.table_name)["Items"]
    assert items and secret not in str(items)


def test_an_expired_link_is_refused(api, sender, moving_clock):
    account = api.register()
    token = verification_link(account.email)
    moving_clock.at += account_links.VERIFY_TTL_SECONDS + 1
    reply = api.post("/users/verify-email", {"token": token})
    assert reply.status == 400 and reply.body["code"] == "InvalidLink"
    assert profile(api, account)["emailVerified"] is False


@pytest.mark.parametrize(
    "token",
    [
        "",
        "no-dot",
        "x" * 300,
        "a.b",
        "../../etc.passwd-but-long-enough-xx",
        "00000000.x" + "y" * 40,
    ],
)
def test_malformed_or_unknown_tokens_are_a_400_that_changes_nothing(api, token):
    reply = api.post("/users/verify-email", {"token": token})
    assert reply.status == 400, reply.body
    assert reply.body["code"] in ("ValidationError", "InvalidLink")
    reply = api.post("/users/reset-password", {"token": token, "password": "new-password-1"})
    assert reply.status == 400, reply.body


def test_a_forged_secret_for_a_real_user_is_refused(api, sender):
    account = api.register()
    forged = f"{account.user_id}.{'A' * 43}"
    reply = api.post("/users/verify-email", {"token": forged})
    assert reply.status == 400 and reply.body["code"] == "InvalidLink"


def test_a_resend_replaces_the_link_waits_a_minute_and_stops_once_verified(
    api, sender, moving_clock
):
    account = api.register()
    first = verification_link(account.email)
    too_soon = api.post("/users/verify-email/resend", token=account.token)
    assert too_soon.status == 429 and too_soon.headers["Retry-After"] == "60"
    assert too_soon.body["code"] == "TooManyAttempts"

    moving_clock.at += 61
    reply = api.post("/users/verify-email/resend", token=account.token)
    assert reply.status == 202, reply.body
    second = verification_link(account.email)
    assert second != first
    assert api.post("/users/verify-email/resend", token=account.token).status == 429

    assert api.post("/users/verify-email", {"token": first}).status == 400  # replaced
    assert api.post("/users/verify-email", {"token": second}).status == 200
    moving_clock.at += 61
    done = api.post("/users/verify-email/resend", token=account.token)
    assert done.status == 409 and done.body["code"] == "AlreadyVerified"


def test_an_account_from_before_verification_reads_unverified_and_can_verify(api, sender):
    account = api.register()
    for key in (UserRecord.profile_key(account.user_id), UserRecord.login_key(account.email)):
        UserRecord(key).update(
            actions=[
                UserRecord.email_verified.remove(),
                UserRecord.verify_token_hash.remove(),
                UserRecord.verify_expires_at.remove(),
            ]
        )
    assert profile(api, account)["emailVerified"] is False
    verify(api, account)
    assert profile(api, account)["emailVerified"] is True


# --- password reset ---------------------------------------------------------------


def forgot(api, email: str):
    return api.post("/users/forgot-password", {"email": email})


def test_forgot_password_answers_the_same_and_costs_the_same_for_unknown_emails(
    api, sender, aws_calls
):
    account = api.register()
    answers, calls = [], []
    for email in (account.email, "nobody@example.com"):
        aws_calls.clear()
        reply = forgot(api, email)
        answers.append((reply.status, reply.body))
        calls.append(aws_calls.dynamodb())
    assert answers[0] == answers[1]
    assert answers[0][0] == 202
    assert calls == [["UpdateItem"], ["UpdateItem"]]
    assert mail_to("nobody@example.com", "Reset your password") == []
    assert UserRecord.count("EMAIL#nobody@example.com") == 0  # no stub item
    [email] = mail_to(account.email, "Reset your password")
    assert "Test User" not in email["text"]


def test_forgot_password_sends_at_most_one_email_a_minute(api, sender, moving_clock):
    account = api.register()
    for _ in range(3):
        assert forgot(api, account.email).status == 202
    assert len(mail_to(account.email, "Reset your password")) == 1
    moving_clock.at += 61
    assert forgot(api, account.email).status == 202
    assert len(mail_to(account.email, "Reset your password")) == 2


def test_a_reset_sets_the_password_revokes_tokens_and_works_once(api, sender):
    account = api.register()
    forgot(api, account.email)
    token = reset_link(account.email)

    reply = api.post("/users/reset-password", {"token": token, "password": "brand-new-pass"})
    assert reply.status == 204, reply.body
    # Every token issued before is refused (the password-change mechanism).
    assert api.get(f"/users/{account.user_id}", token=account.token).status == 401
    assert (
        api.post("/users/login", {"email": account.email, "password": account.password})[0] == 401
    )
    fresh = api.login(account.email, "brand-new-pass")
    # The link reached the address's owner: that verifies it too.
    assert profile(api, fresh)["emailVerified"] is True

    again = api.post("/users/reset-password", {"token": token, "password": "another-pass-1"})
    assert again.status == 400 and again.body["code"] == "InvalidLink"
    assert api.login(account.email, "brand-new-pass").user_id == account.user_id


def test_an_expired_reset_link_changes_nothing(api, sender, moving_clock):
    account = api.register()
    forgot(api, account.email)
    token = reset_link(account.email)
    moving_clock.at += account_links.RESET_TTL_SECONDS + 1
    reply = api.post("/users/reset-password", {"token": token, "password": "brand-new-pass"})
    assert reply.status == 400 and reply.body["code"] == "InvalidLink"
    assert api.login(account.email, account.password).user_id == account.user_id


def test_the_reset_link_is_the_way_back_in_during_a_lockout(api, sender, moving_clock):
    """Issue #23 item 8: anyone who knows the email can lock it; the owner is never
    locked out for good."""
    account = api.register()
    for _ in range(5):
        api.post("/users/login", {"email": account.email, "password": "guess-guess"})
    locked = api.post("/users/login", {"email": account.email, "password": account.password})
    assert locked.status == 429

    forgot(api, account.email)
    body = {"token": reset_link(account.email), "password": "brand-new-pass"}
    assert api.post("/users/reset-password", body).status == 204
    assert api.login(account.email, "brand-new-pass").user_id == account.user_id  # no wait
    assert UserRecord.get(UserRecord.login_key(account.email)).locked_until is None


@pytest.mark.parametrize("failure", ["Throttling", "MessageRejected", "network"])
def test_an_email_that_cannot_be_sent_never_fails_the_registration(
    api, sender, monkeypatch, moving_clock, failure
):
    """The user is written before the email goes: the answer must not say otherwise."""
    from botocore.exceptions import ClientError, EndpointConnectionError

    from chalicelib import mailer

    real_send = mailer.send

    def broken(to, email):
        if failure == "network":
            raise EndpointConnectionError(endpoint_url="https://email.us-east-1.amazonaws.com")
        raise ClientError({"Error": {"Code": failure, "Message": "x"}}, "SendEmail")

    monkeypatch.setattr(mailer, "send", broken)
    reply = api.post(
        "/users/register", {"email": "late@example.com", "name": "Late", "password": "long-enough"}
    )
    assert reply.status == 201, reply.body
    account = api.login("late@example.com", "long-enough")
    # SES is back: a new link a minute later.
    monkeypatch.setattr(mailer, "send", real_send)
    moving_clock.at += 61
    assert api.post("/users/verify-email/resend", token=account.token).status == 202
    assert (
        api.post("/users/verify-email", {"token": verification_link(account.email)}).status == 200
    )
