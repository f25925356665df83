"""Per-account backoff for password checks (login and ``currentPassword``).

After :data:`THRESHOLD` consecutive wrong passwords the account is locked for
:data:`BASE_LOCK_SECONDS`; every further failure once the lock has passed doubles the
window, up to :data:`MAX_LOCK_SECONDS`. While locked, attempts get 429 with
``Retry-After`` without the password being checked, so even the right one waits.
A success resets the count.

The state (``failedLogins``, ``lockedUntil``) lives on the login item
(``EMAIL#<email>``), which login reads anyway: a successful login with no earlier
failures costs no extra call; a failure costs one ``UpdateItem`` (an atomic ``ADD``,
so concurrent failures are all counted).
"""

from __future__ import annotations

import logging
import math
import time

from pynamodb.exceptions import DoesNotExist, UpdateError
from pynamodb.expressions.update import Action

from chalicelib.errors import TooManyAttempts
from chalicelib.models import UserRecord
from chalicelib.observability import metric

THRESHOLD = 5
BASE_LOCK_SECONDS = 60
MAX_LOCK_SECONDS = 15 * 60

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


def ensure_unlocked(login_item: UserRecord | None) -> None:
    wait = retry_after(login_item, now())
    if wait:
        raise TooManyAttempts(
            f"too many wrong passwords for this account; retry in {wait} s", retry_after=wait
        )


def load(login_key: str) -> UserRecord | None:
    """The login item, for checks that did not read it (``currentPassword``)."""
    try:
        return UserRecord.get(login_key, consistent_read=True)
    except DoesNotExist:
        return None


def record_failure(login_item: UserRecord) -> None:
    """One conditional ``UpdateItem``: count the failure and lock when the count calls for it."""
    failures = int(login_item.failed_logins or 0) + 1
    actions: list[Action] = [UserRecord.failed_logins.add(1)]
    lock = lock_seconds(failures)
    if lock:
        actions.append(UserRecord.locked_until.set(now() + lock))
    try:
        # The condition keeps a concurrently deleted account from reappearing as a stub.
        UserRecord(login_item.pk).update(actions=actions, condition=UserRecord.pk.exists())
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
        return
    if lock:
        metric("AccountLockouts")
        # The user id, never the email: logs carry no personal data.
        logger.warning(
            "account locked",
            extra={"fields": {"userId": login_item.user_id, "lockSeconds": lock}},
        )


def reset(login_item: UserRecord) -> None:
    """One ``UpdateItem`` clearing the state (after a success that followed failures)."""
    try:
        UserRecord(login_item.pk).update(actions=reset_actions(), condition=UserRecord.pk.exists())
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise


def has_failures(login_item: UserRecord) -> bool:
    return bool(login_item.failed_logins) or login_item.locked_until is not None


def reset_actions() -> list[Action]:
    """Actions that clear the state (harmless on an item without it)."""
    return [UserRecord.failed_logins.remove(), UserRecord.locked_until.remove()]
