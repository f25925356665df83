from __future__ import annotations

from datetime import UTC, datetime


def iso_z(moment: datetime, timespec: str = "milliseconds") -> str:
    """``moment`` in UTC as ISO 8601 with a ``Z`` (by default to the millisecond: sorts as text)."""
    return moment.astimezone(UTC).isoformat(timespec=timespec).replace("+00:00", "Z")


def now_iso() -> str:
    """Current UTC time, ISO 8601 with milliseconds and ``Z`` (sorts as a string)."""
    return iso_z(datetime.now(UTC))
