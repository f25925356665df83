"""Passwords, tokens and the signing secret never reach a log line or stdout/stderr."""

from __future__ import annotations

import io
import logging
import os

import boto3
import pytest

from chalicelib.config import get_settings

PASSWORD = "first-Secret-pw-1"
WRONG_PASSWORD = "wrong-Secret-pw-2"
NEW_PASSWORD = "second-Secret-pw-3"
OVERLONG_PASSWORD = "overlong-Secret-pw-4" + "x" * 120
ATTACKER_PASSWORD = "unknown-Secret-pw-5"
EMAIL = "careful@example.com"


@pytest.fixture
def all_output(caplog, capfd):
    """Everything logged (every logger at DEBUG) or printed during the test, as one text."""
    root = logging.getLogger()
    names = [None, *list(logging.root.manager.loggerDict)]
    for name in names:
        caplog.set_level(logging.DEBUG, logger=name)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    root.addHandler(handler)

    def collect() -> str:
        out, err = capfd.readouterr()
        parts = [stream.getvalue(), out, err, caplog.text]
        for record in caplog.records:
            parts += [record.getMessage(), repr(vars(record))]
        return "\n".join(parts)

    yield collect
    root.removeHandler(handler)


def test_no_password_token_or_secret_is_ever_logged(api, all_output, caplog):
    secrets: dict[str, str] = {"TOKEN_SECRET": os.environ["TOKEN_SECRET"]}
    for name in ("PASSWORD", "WRONG_PASSWORD", "NEW_PASSWORD", "OVERLONG_PASSWORD"):
        secrets[name] = globals()[name]
    secrets["ATTACKER_PASSWORD"] = ATTACKER_PASSWORD
    bodies = []

    def call(method, path, body=None, expected=None, **kw):
        reply = api.request(method, path, body=body, **kw)
        if expected is not None:
            assert reply.status == expected, (method, path, reply.body)
        bodies.append(reply)
        return reply

    # Registration, including a rejected one that carries a password.
    call("POST", "/users/register", {"email": EMAIL, "name": "Careful", "password": PASSWORD}, 201)
    call(
        "POST",
        "/users/register",
        {"email": "other@example.com", "name": "Other", "password": OVERLONG_PASSWORD},
        400,
    )
    # Failed sign-ins: wrong password, unknown email.
    call("POST", "/users/login", {"email": EMAIL, "password": WRONG_PASSWORD}, 401)
    call("POST", "/users/login", {"email": "no@example.com", "password": ATTACKER_PASSWORD}, 401)
    # Sign-in and authenticated requests.
    login = call("POST", "/users/login", {"email": EMAIL, "password": PASSWORD}, 200)
    user_id, token = login.body["userId"], login.body["token"]
    secrets["token"] = token
    secrets["token signature"] = token.rsplit(".", 1)[1]
    call("GET", f"/users/{user_id}", token=token, expected=200)
    call("GET", "/users", token=token, expected=403)
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    secrets["tampered token"] = tampered
    call("GET", f"/users/{user_id}", token=tampered, expected=401)
    # Password change: a wrong current password, then the real change.
    call(
        "PUT",
        f"/users/{user_id}",
        {"password": NEW_PASSWORD, "currentPassword": WRONG_PASSWORD},
        token=token,
        expected=401,
    )
    call(
        "PUT",
        f"/users/{user_id}",
        {"password": NEW_PASSWORD, "currentPassword": PASSWORD},
        token=token,
        expected=200,
    )
    call("GET", f"/users/{user_id}", token=token, expected=401)  # revoked
    relogin = call("POST", "/users/login", {"email": EMAIL, "password": NEW_PASSWORD}, 200)
    new_token = relogin.body["token"]
    secrets["new token"] = new_token

    # Unhandled errors: the users table disappears under the running app.
    boto3.client("dynamodb", region_name="us-east-1").delete_table(
        TableName=get_settings().users_table
    )
    call("GET", f"/users/{user_id}", token=new_token, expected=500)
    call("POST", "/users/login", {"email": EMAIL, "password": NEW_PASSWORD}, 500)
    call(
        "PUT",
        f"/users/{user_id}",
        {"password": PASSWORD, "currentPassword": NEW_PASSWORD},
        token=new_token,
        expected=500,
    )
    call("POST", "/users/register", {"email": "x@example.com", "name": "X", "password": PASSWORD})

    text = all_output()
    # The capture really saw the requests and the unhandled errors with their tracebacks...
    assert "unhandled error" in text
    assert "Traceback" in text
    assert user_id in text
    # ...and none of the secrets.
    leaked = [name for name, value in secrets.items() if value in text]
    assert leaked == []
    # Hashes do appear in botocore/PynamoDB DEBUG request dumps (forced on above; the app's
    # logging configuration keeps those loggers at INFO or above), but never above DEBUG.
    assert "scrypt$" not in "\n".join(
        f"{record.getMessage()} {record.exc_text or ''} {vars(record).get('fields', '')}"
        for record in caplog.records
        if record.levelno >= logging.INFO
    )
    # Error responses do not echo passwords either (tokens are only in login responses).
    for reply in bodies:
        body = str(reply.body)
        assert not [n for n, v in secrets.items() if "PASSWORD" in n and v in body]
        assert secrets["TOKEN_SECRET"] not in body
        if reply.status >= 500:
            assert reply.body == {"error": "internal server error", "code": "InternalError"}
