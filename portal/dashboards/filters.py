"""The partnership dashboard's filters, read from and written back to the query string.

Every filter state has its own address: :meth:`Filters.args` gives exactly the query
arguments that :func:`read_filters` reads back, so a shared link shows the same view.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from portal.monitoring import categories, periods


@dataclass(frozen=True)
class Filters:
    """What the lead chose: a reporting period, one member, one characteristic."""

    period: str | None = None
    member: str | None = None
    characteristic: str | None = None
    problems: tuple[str, ...] = field(default=(), compare=False)

    def args(self) -> dict[str, str]:
        """The query arguments of this state (empty ones left out), in a fixed order."""
        out = {}
        for key in ("period", "member", "characteristic"):
            value = getattr(self, key)
            if value:
                out[key] = value
        return out


def read_filters(
    args: Mapping[str, str], *, periods_held: Sequence[str], member_slugs: Sequence[str]
) -> Filters:
    """The filters in ``args``; a value that names nothing here is dropped with a
    sentence saying so, so a stale or mistyped link still shows the dashboard."""
    problems = []
    period = (args.get("period") or "").strip() or None
    if period is not None and period not in periods_held:
        problems.append(f"No figures have been released for the period '{period[:20]}'.")
        period = None
    member = (args.get("member") or "").strip() or None
    if member is not None and member not in member_slugs:
        problems.append(f"'{member[:60]}' is not a member of this partnership.")
        member = None
    characteristic = (args.get("characteristic") or "").strip() or None
    if characteristic is not None and categories.characteristic(characteristic) is None:
        problems.append(f"'{characteristic[:40]}' is not a characteristic the portal knows.")
        characteristic = None
    return Filters(period, member, characteristic, tuple(problems))


def period_label(key: str) -> str:
    return periods.label(key)
