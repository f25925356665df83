"""Email verification and password reset: single-use, expiring links sent by email.

A link carries ``<userId>.<secret>``. Only the secret's SHA-256 is stored, with its
expiry, on the user's login item (``EMAIL#<email>``); a link is used by one
``TransactWriteItems`` whose condition wants that hash, unexpired, and which removes it
in the same write: however many times it is clicked or raced, it works once.

- Registration stores the verification hash in the transaction that creates the user,
  then sends the email; an unverified (or older, never verified) account asks for a new
  link with :func:`resend_verification`.
- :func:`request_password_reset` answers the same whatever the email: one conditional
  ``UpdateItem`` stores the hash if the account exists and no reset link went out in the
  last :data:`LINK_COOLDOWN_SECONDS`; only then is an email sent. (A resent verification
  link waits the same minute, counted from the registration email.)
- :func:`reset_password` sets the new password, clears the login backoff (it is the way
  back in during a lockout), bumps the token version (every token issued before stops
  working) and marks the email verified: the link proved the reader owns it.

The emails carry no text a user typed (not even their name): only the shop's words and
the link. Their links point at ``PUBLIC_URL`` (the web page), never at a request's Host.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from typing import Any

from pynamodb.exceptions import DoesNotExist, UpdateError
from pynamodb.expressions.update import Action

from chalicelib import login_backoff, mailer, passwords, transactions
from chalicelib.clock import now_iso
from chalicelib.config import get_settings
from chalicelib.errors import AlreadyVerified, InvalidLink, TooManyAttempts, aws_error_code
from chalicelib.models import UserRecord
from chalicelib.notifications import Email
from chalicelib.observability import metric
from chalicelib.schemas import is_id
from chalicelib.text import canonical_email
from chalicelib.transactions import Transaction

VERIFY_TTL_SECONDS = 24 * 3600
RESET_TTL_SECONDS = 3600
LINK_COOLDOWN_SECONDS = 60
VERIFY, RESET = "verify", "reset"

RESET_REQUESTED = {
    "message": "If an account uses this email address, a password reset link is on its way."
}
VERIFICATION_SENT = {"message": "A new verification link is on its way."}

logger = logging.getLogger(__name__)


def now() -> float:
    return time.time()


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _new_secret() -> tuple[str, str]:
    """A fresh secret and the hash that is stored instead of it."""
    secret = secrets.token_urlsafe(32)
    return secret, _digest(secret)


def _parse(token: str) -> tuple[str, str]:
    user_id, _, secret = token.partition(".")
    if not is_id(user_id) or not secret:
        raise _invalid()
    return user_id, secret


def _invalid() -> InvalidLink:
    return InvalidLink("this link is invalid, already used or expired; ask for a new one")


_PAGES = {VERIFY: "verify-email", RESET: "reset-password"}


def link(kind: str, token: str) -> str:
    """Where the email sends the reader: the web page's view that finishes the step. The
    token is in the fragment, which browsers send to no server (nor in a Referer)."""
    base = get_settings().public_url
    fragment = f"#/{_PAGES[kind]}?token={token}"
    return f"{base}/{fragment}" if base else f"(the shop's web page address){fragment}"


def verification_email(token: str) -> Email:
    hours = VERIFY_TTL_SECONDS // 3600
    return Email(
        "Confirm your email address",
        "Someone, hopefully you, created an account at our shop with this email address.\n\n"
        f"To confirm it, open this link within {hours} hours:\n\n"
        f"  {link(VERIFY, token)}\n\n"
        "Until it is confirmed, we send no order emails to this address. If it was not "
        "you, ignore this email.\n",
    )


def reset_email(token: str) -> Email:
    minutes = RESET_TTL_SECONDS // 60
    return Email(
        "Reset your password",
        "A password reset was requested for the account with this email address.\n\n"
        f"To choose a new password, open this link within {minutes} minutes:\n\n"
        f"  {link(RESET, token)}\n\n"
        "The link works once. A new password signs out every device. If you did not ask "
        "for this, ignore this email: your password stays as it is.\n",
    )


def _send(to: str, email: Email, kind: str) -> None:
    """Send, or log why not: the account works either way and can ask again.

    Called after the write it follows (a registration, a stored link) succeeded, so no
    failure of SES, the network or the request's time budget may turn the answer into an
    error that says nothing was written.
    """
    if mailer.sender() is None:
        return
    try:
        mailer.send(to, email)
    except (mailer.EmailRejected, mailer.EmailNotSent) as failure:
        # SES's code only: its message could quote the address.
        logger.warning("the %s email was not sent (%s)", kind, failure.code)
        metric("AccountEmailsFailed")
        return
    except Exception as failure:
        logger.warning("the %s email was not sent (%s)", kind, type(failure).__name__)
        metric("AccountEmailsFailed")
        return
    metric("AccountEmailsSent")


# --- verification ---------------------------------------------------------------


def start_verification(record: UserRecord) -> str:
    """Give a user about to be created its verification link (hash on the record, which
    goes to both items; it is checked, and removed, on the login item)."""
    secret, digest = _new_secret()
    record.email_verified = False
    record.verify_token_hash = digest
    record.verify_expires_at = now() + VERIFY_TTL_SECONDS
    return f"{record.user_id}.{secret}"


def send_verification(record: UserRecord, token: str) -> None:
    _send(record.email, verification_email(token), VERIFY)


def _store_link(
    login_key: str, hash_attribute: Any, expiry_attribute: Any, ttl: int
) -> tuple[UserRecord, str] | None:
    """Store a new link's hash on the login item, if the account exists and its last link
    of this kind is more than :data:`LINK_COOLDOWN_SECONDS` old (read from its expiry).

    One conditional ``UpdateItem`` either way; returns the login item as written and the
    secret, or ``None``.
    """
    at = now()
    secret, digest = _new_secret()
    item = UserRecord(login_key)
    recent = expiry_attribute > at + ttl - LINK_COOLDOWN_SECONDS
    try:
        item.update(
            actions=[hash_attribute.set(digest), expiry_attribute.set(at + ttl)],
            condition=UserRecord.pk.exists() & ~recent,
        )
    except UpdateError as exc:
        if aws_error_code(exc) != "ConditionalCheckFailedException":
            raise
        return None
    return item, secret


def resend_verification(record: UserRecord) -> dict[str, Any]:
    """A new verification link for the signed-in user (the old one stops working)."""
    if record.email_verified:
        raise AlreadyVerified("this email address is already verified")
    stored = _store_link(
        UserRecord.login_key(record.email),
        UserRecord.verify_token_hash,
        UserRecord.verify_expires_at,
        VERIFY_TTL_SECONDS,
    )
    if stored is None:
        raise TooManyAttempts(
            f"a link was sent less than {LINK_COOLDOWN_SECONDS} s ago; check your inbox",
            retry_after=LINK_COOLDOWN_SECONDS,
        )
    _, secret = stored
    send_verification(record, f"{record.user_id}.{secret}")
    return VERIFICATION_SENT


def _profile(user_id: str) -> UserRecord:
    try:
        return UserRecord.get(UserRecord.profile_key(user_id), consistent_read=True)
    except DoesNotExist:
        raise _invalid() from None


def _use_link(
    profile: UserRecord,
    hash_attribute: Any,
    expiry_attribute: Any,
    secret: str,
    actions: list[Action],
) -> None:
    """Apply ``actions`` to both items if the login item holds this unexpired link; the
    link is removed in the same write, so it works once."""
    used = [hash_attribute.remove(), expiry_attribute.remove()]
    valid = (hash_attribute == _digest(secret)) & (expiry_attribute > now())
    invalid = _invalid()

    def build(tx: Transaction) -> None:
        login_item, profile_item = UserRecord.login_key(profile.email), profile.pk
        tx.update(UserRecord(login_item), actions + used, condition=valid, on_fail=invalid)
        same_user = UserRecord.user_id == profile.user_id
        tx.update(UserRecord(profile_item), actions + used, condition=same_user, on_fail=invalid)

    transactions.write(build)


def verify_email(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` has passed the ``VerifyEmail`` schema: one GetItem, one transaction."""
    user_id, secret = _parse(data["token"])
    profile = _profile(user_id)
    actions: list[Action] = [UserRecord.email_verified.set(True)]
    _use_link(profile, UserRecord.verify_token_hash, UserRecord.verify_expires_at, secret, actions)
    metric("EmailsVerified")
    return {"userId": profile.user_id, "email": profile.email, "emailVerified": True}


# --- password reset -------------------------------------------------------------


def request_password_reset(data: dict[str, Any]) -> dict[str, Any]:
    """The same answer whether or not the email has an account (no enumeration)."""
    stored = _store_link(
        UserRecord.login_key(canonical_email(data["email"])),
        UserRecord.reset_token_hash,
        UserRecord.reset_expires_at,
        RESET_TTL_SECONDS,
    )
    if stored is not None:
        item, secret = stored
        _send(item.email, reset_email(f"{item.user_id}.{secret}"), RESET)
    return RESET_REQUESTED


def reset_password(data: dict[str, Any]) -> None:
    """``data`` has passed the ``PasswordReset`` schema: one GetItem, one transaction."""
    user_id, secret = _parse(data["token"])
    profile = _profile(user_id)
    actions: list[Action] = [
        UserRecord.password_hash.set(passwords.hash_password(data["password"])),
        # The mechanism a password change uses: every token issued before is refused.
        UserRecord.token_version.add(1),
        UserRecord.updated_at.set(now_iso()),
        UserRecord.email_verified.set(True),
        *login_backoff.reset_actions(),
    ]
    _use_link(profile, UserRecord.reset_token_hash, UserRecord.reset_expires_at, secret, actions)
    metric("PasswordResets")
