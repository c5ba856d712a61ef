"""The portal's one clock. Times are stored as naive UTC; tests move this clock."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    """The current time in UTC, without tzinfo (as stored in the database)."""
    return datetime.now(UTC).replace(tzinfo=None)
