"""Per-account backoff for password checks (login and ``currentPassword``).

After :data:`THRESHOLD` consecutive wrong passwords the account is locked for
:data:`BASE_LOCK_SECONDS`; every further failure once the lock has passed doubles the
window, up to :data:`MAX_LOCK_SECONDS`. While locked, attempts get 429 with
``Retry-After`` without the password being checked, so even the right one waits.
The way back in during a lock is a password reset (chalicelib.account_links), which clears it.

The state (``failedLogins``, ``lockedUntil``) lives on the login item
(``EMAIL#<email>``). A check is *reserved* before the password is verified: one
conditional ``UpdateItem`` that counts the attempt as a failure (and sets the lock when
that count calls for one) only if the state is still the one read. So however many
requests race, each check has its own count and at most :data:`THRESHOLD` checks run
before the lock: a loser of the race reads the state again and tries once more. A right
password then clears the count, if no other attempt was reserved after its own.

An unknown email gets the same ``UpdateItem``; its ``attribute_exists(pk)`` condition
fails, so login costs the same calls whether or not the account exists.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

from pynamodb.exceptions import DoesNotExist, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from chalicelib.errors import TooManyAttempts
from chalicelib.models import UserRecord
from chalicelib.observability import metric

THRESHOLD = 5
BASE_LOCK_SECONDS = 60
MAX_LOCK_SECONDS = 15 * 60
# Reads and retries of one reservation that keeps losing races, before a 429.
MAX_RESERVE_TRIES = 8
BUSY_RETRY_SECONDS = 1

logger = logging.getLogger("shop.login_backoff")


def now() -> float:
    return time.time()


def lock_seconds(failures: int) -> int:
    """How long ``failures`` consecutive failures lock the account (0: not locked)."""
    if failures < THRESHOLD:
        return 0
    # Capped before exponentiation, so a huge count cannot build a huge integer.
    doublings = min(failures - THRESHOLD, 16)
    return min(BASE_LOCK_SECONDS * (1 << doublings), MAX_LOCK_SECONDS)


def retry_after(login_item: UserRecord | None, at: float) -> int:
    """Seconds the account stays locked (0: not locked)."""
    locked_until = login_item.locked_until if login_item is not None else None
    if locked_until is None or at >= locked_until:
        return 0
    return max(1, math.ceil(locked_until - at))


def _too_many(wait: int) -> TooManyAttempts:
    return TooManyAttempts(
        f"too many wrong passwords for this account; retry in {wait} s", retry_after=wait
    )


def ensure_unlocked(login_item: UserRecord | None) -> None:
    wait = retry_after(login_item, now())
    if wait:
        raise _too_many(wait)


def load(login_key: str) -> UserRecord | None:
    """The login item, for checks that did not read it (``currentPassword``)."""
    try:
        return UserRecord.get(login_key, consistent_read=True)
    except DoesNotExist:
        return None


@dataclass(frozen=True)
class Reservation:
    """One reserved password check: the failure count it wrote, and the lock it set."""

    login_key: str
    failures: int
    lock_seconds: int


def _unchanged(login_item: UserRecord | None) -> Condition:
    """The item exists and its backoff state is still the one read."""
    condition: Condition = UserRecord.pk.exists()
    seen = login_item.failed_logins if login_item is not None else None
    locked = login_item.locked_until if login_item is not None else None
    condition &= (
        UserRecord.failed_logins.does_not_exist()
        if seen is None
        else UserRecord.failed_logins == seen
    )
    condition &= (
        UserRecord.locked_until.does_not_exist()
        if locked is None
        else UserRecord.locked_until == locked
    )
    return condition


def _try_reserve(login_key: str, login_item: UserRecord | None) -> Reservation | None:
    """One conditional ``UpdateItem``; ``None`` when the state was not the one read."""
    failures = int(login_item.failed_logins or 0) + 1 if login_item is not None else 1
    lock = lock_seconds(failures)
    actions: list[Action] = [UserRecord.failed_logins.set(failures)]
    if lock:
        actions.append(UserRecord.locked_until.set(now() + lock))
    try:
        UserRecord(login_key).update(actions=actions, condition=_unchanged(login_item))
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
        return None
    return Reservation(login_key, failures, lock)


def reserve(login_key: str, login_item: UserRecord | None) -> Reservation | None:
    """Count one password check before it runs; 429 while the account is locked.

    ``login_item`` is the item as read (``None``: no such account). Returns ``None``
    when there is no account to count on (the write was still made, and refused).
    """
    for _ in range(MAX_RESERVE_TRIES):
        ensure_unlocked(login_item)
        reservation = _try_reserve(login_key, login_item)
        if reservation is not None or login_item is None:
            return reservation
        # Another attempt (or a reset, or a deletion) changed the state: read it again.
        login_item = load(login_key)
        if login_item is None:
            return None
    raise _too_many(BUSY_RETRY_SECONDS)


def failed(reservation: Reservation | None, user_id: str) -> None:
    """The reserved check found a wrong password: the count stands; say if it locked."""
    if reservation is None or not reservation.lock_seconds:
        return
    metric("AccountLockouts")
    # The user id, never the email: logs carry no personal data.
    logger.warning(
        "account locked",
        extra={"fields": {"userId": user_id, "lockSeconds": reservation.lock_seconds}},
    )


def succeeded(reservation: Reservation) -> None:
    """The reserved check found the right password: clear the count, unless another
    attempt was reserved after this one (then it stands, and so does its lock)."""
    try:
        UserRecord(reservation.login_key).update(
            actions=reset_actions(),
            condition=UserRecord.failed_logins == reservation.failures,
        )
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise


def reset_actions() -> list[Action]:
    """Actions that clear the state (harmless on an item without it)."""
    return [UserRecord.failed_logins.remove(), UserRecord.locked_until.remove()]
