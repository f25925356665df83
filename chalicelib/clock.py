from __future__ import annotations

from datetime import UTC, datetime


def now_iso() -> str:
    """Current UTC time, ISO 8601 with milliseconds and ``Z`` (sorts as a string)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
