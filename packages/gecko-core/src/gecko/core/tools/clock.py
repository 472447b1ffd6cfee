"""The built-in ``current_time`` tool: the current date and time, timezone-aware."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from gecko.core.errors import ToolArgumentError
from gecko.core.tools.function import FunctionTool


def now(tz: str | None = None) -> datetime:
    """The current time in the IANA time zone ``tz`` (UTC when None)."""
    if tz is None or tz.strip().upper() in {"", "UTC", "Z"}:
        return datetime.now(timezone.utc)
    try:
        zone = ZoneInfo(tz.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise ToolArgumentError(
            f"unknown time zone {tz!r}",
            hint="use an IANA time zone name such as 'Europe/Paris', 'America/New_York' or 'UTC'",
            tool="current_time",
        ) from None
    return datetime.now(zone)


def current_time(timezone: str | None = None) -> dict[str, Any]:
    """The current date and time.

    Args:
        timezone: IANA time zone name such as "Europe/Paris" or "Asia/Tokyo". Defaults to UTC.
    """
    moment = now(timezone)
    return {
        "iso": moment.isoformat(timespec="seconds"),
        "timezone": str(moment.tzinfo),
        "utc_offset": moment.strftime("%z"),
        "weekday": moment.strftime("%A"),
        "unix": int(moment.timestamp()),
    }


current_time_tool = FunctionTool(current_time, name="current_time")
"""The built-in tool (``create_tool("current_time")``); runs in a worker thread (zone files are read from disk)."""
