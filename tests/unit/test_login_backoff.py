"""The backoff rule (``chalicelib.login_backoff``): when an account locks and for how long."""

from __future__ import annotations

import pytest

from chalicelib import login_backoff
from chalicelib.errors import TooManyAttempts
from chalicelib.models import UserRecord


@pytest.mark.parametrize(
    ("failures", "seconds"),
    [(0, 0), (1, 0), (4, 0), (5, 60), (6, 120), (7, 240), (8, 480), (9, 900), (10, 900),
     (10**9, 900)],
)  # fmt: skip
def test_five_failures_lock_and_each_further_one_doubles_up_to_15_minutes(failures, seconds):
    assert login_backoff.lock_seconds(failures) == seconds


def item(locked_until=None, failed=None) -> UserRecord:
    return UserRecord("EMAIL#a@example.com", locked_until=locked_until, failed_logins=failed)


def test_retry_after_counts_down_and_ends_when_the_window_passes():
    locked = item(locked_until=1000)
    assert login_backoff.retry_after(locked, 940) == 60
    assert login_backoff.retry_after(locked, 999.2) == 1
    assert login_backoff.retry_after(locked, 1000) == 0
    assert login_backoff.retry_after(item(), 0) == 0
    assert login_backoff.retry_after(None, 0) == 0


def test_a_locked_account_raises_429_with_the_wait(monkeypatch):
    monkeypatch.setattr(login_backoff, "now", lambda: 900.0)
    with pytest.raises(TooManyAttempts) as raised:
        login_backoff.ensure_unlocked(item(locked_until=1000))
    assert raised.value.status_code == 429
    assert raised.value.retry_after == 100
    login_backoff.ensure_unlocked(item(locked_until=900))  # passed: no error


def test_a_reservation_is_conditional_on_the_state_it_was_computed_from():
    """The compare-and-set that keeps racing checks apart (no AWS: the condition's text)."""
    fresh = login_backoff._unchanged(item())
    values = fresh.serialize({}, {})
    assert "attribute_exists" in values and values.count("attribute_not_exists") == 2
    counted = login_backoff._unchanged(item(failed=4, locked_until=1000)).serialize({}, {})
    assert "attribute_not_exists" not in counted and counted.count("=") == 2
