"""Targets of measures: red, amber or green, and the direction of travel.

A measure may have a target for its total, a direction ("higher is better" or "lower is
better") and an amber threshold: the figure beyond which it is red rather than amber.

- Higher is better: green at or above the target; amber below it but at or above the
  threshold; red below the threshold.
- Lower is better: green at or below the target; amber above it but at or below the
  threshold; red above the threshold.

Without a threshold a figure that misses the target is amber. The direction of travel
compares the latest figure with the one before it, and says whether that is better or
worse when the measure's direction is known.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from sqlalchemy import select

from portal.editing import Invalid
from portal.extensions import db
from portal.monitoring import periods
from portal.monitoring.models import Figure, Measure, MeasureValue

DIRECTIONS = {"higher": "Higher is better", "lower": "Lower is better"}
RAG_LABELS = {
    "green": "Green: target met",
    "amber": "Amber: close to target",
    "red": "Red: off target",
}
RAG_TAGS = {"green": "green", "amber": "yellow", "red": "red"}


class TargetError(Invalid):
    """A target that cannot be saved, with the field it belongs to."""


def parse_figure(text) -> Decimal | None:
    """A typed figure as a number; None when empty. Commas, % and £ are allowed."""
    if text is None:
        return None
    if isinstance(text, int | float | Decimal):
        return Decimal(str(text))
    cleaned = str(text).strip().replace(",", "").removeprefix("£").removesuffix("%").strip()
    if not cleaned:
        return None
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(text) from None
    if not value.is_finite():
        raise ValueError(text)
    return value


def plain(value) -> str:
    """A stored figure as typed into a form field: 75, not 75.0000."""
    if value is None:
        return ""
    text = format(Decimal(str(value)).normalize(), "f")
    return text


def check_target(measure_unit: str, bounds, target, direction: str, amber) -> dict:
    """The target fields, checked; raises :class:`TargetError` in the users' words."""
    try:
        target = parse_figure(target)
    except ValueError:
        raise TargetError("target_value", "Enter the target as a number, like 75") from None
    try:
        amber = parse_figure(amber)
    except ValueError:
        raise TargetError(
            "amber_threshold", "Enter the amber threshold as a number, like 60"
        ) from None
    direction = direction or ""
    if direction not in ("", *DIRECTIONS):
        raise TargetError("target_direction", "Choose whether higher or lower is better")
    if target is None:
        if amber is not None:
            raise TargetError("target_value", "Enter a target for the amber threshold to work from")
        return {"target_value": None, "target_direction": direction, "amber_threshold": None}
    if not direction:
        raise TargetError("target_direction", "Choose whether higher or lower is better")
    for field, value, name in (
        ("target_value", target, "The target"),
        ("amber_threshold", amber, "The amber threshold"),
    ):
        if value is not None and not (bounds.low <= value <= bounds.high):
            raise TargetError(field, f"{name} must be between {bounds.low:,g} and {bounds.high:,g}")
    if amber is not None:
        if direction == "higher" and amber > target:
            raise TargetError(
                "amber_threshold",
                "When higher is better, the amber threshold must be the target or below it",
            )
        if direction == "lower" and amber < target:
            raise TargetError(
                "amber_threshold",
                "When lower is better, the amber threshold must be the target or above it",
            )
    return {"target_value": target, "target_direction": direction, "amber_threshold": amber}


def rag(value, target, direction: str, amber) -> str | None:
    """ "green", "amber" or "red" for ``value``; None without a target or a figure."""
    if value is None or target is None or direction not in DIRECTIONS:
        return None
    value, target = Decimal(str(value)), Decimal(str(target))
    amber = None if amber is None else Decimal(str(amber))
    if direction == "higher":
        if value >= target:
            return "green"
        return "amber" if amber is None or value >= amber else "red"
    if value <= target:
        return "green"
    return "amber" if amber is None or value <= amber else "red"


@dataclass(frozen=True)
class Travel:
    """How the latest figure moved from the one before: an arrow and the words for it."""

    arrow: str
    words: str
    judgement: str  # "better", "worse", "same" or "" (direction not known)


def travel(previous, latest, direction: str) -> Travel | None:
    if previous is None or latest is None:
        return None
    previous, latest = Decimal(str(previous)), Decimal(str(latest))
    if latest == previous:
        return Travel("→", "No change", "same")
    up = latest > previous
    arrow = "↑" if up else "↓"
    moved = "Up" if up else "Down"
    if direction not in DIRECTIONS:
        return Travel(arrow, moved, "")
    better = up == (direction == "higher")
    return Travel(
        arrow, f"{moved}: {'better' if better else 'worse'}", "better" if better else "worse"
    )


@dataclass(frozen=True)
class MeasureStatus:
    """A measure's latest total against its target, for the dashboard."""

    measure: Measure
    latest_period: str | None
    latest: float | None
    previous_period: str | None
    previous: float | None
    rag: str | None
    travel: Travel | None

    @property
    def latest_text(self) -> str:
        return self.measure.format(self.latest) if self.latest is not None else "No figures yet"

    @property
    def target_text(self) -> str:
        m = self.measure
        return "" if m.target_value is None else m.format(m.target_value)

    @property
    def rag_label(self) -> str:
        return RAG_LABELS.get(self.rag or "", "No target")

    @property
    def rag_tag(self) -> str:
        return RAG_TAGS.get(self.rag or "", "grey")

    @property
    def period_label(self) -> str:
        return periods.label(self.latest_period) if self.latest_period else ""

    @property
    def travel_text(self) -> str:
        if self.travel is None:
            return "Not enough figures to compare"
        before = self.measure.format(self.previous)
        return f"{self.travel.words}, from {before} in {periods.label(self.previous_period)}"


def statuses(measures: list[Measure]) -> list[MeasureStatus]:
    """Each measure's latest two totals, RAG and travel, from one query for them all."""
    from portal.monitoring.measures import exact  # measures imports this module

    totals: dict[int, dict[str, Figure]] = {m.id: {} for m in measures}
    if totals:
        by_id = {m.id: m for m in measures}
        query = select(MeasureValue.measure_id, MeasureValue.period, MeasureValue.value).where(
            MeasureValue.measure_id.in_(list(totals)), MeasureValue.category == ""
        )
        for measure_id, period, value in db.session.execute(query):
            totals[measure_id][period] = exact(by_id[measure_id], value)
    out = []
    for m in measures:
        ordered = [p for p in m.periods if p in totals[m.id]]
        latest_period = ordered[-1] if ordered else None
        previous_period = ordered[-2] if len(ordered) > 1 else None
        latest = totals[m.id].get(latest_period) if latest_period else None
        previous = totals[m.id].get(previous_period) if previous_period else None
        out.append(
            MeasureStatus(
                m,
                latest_period,
                latest,
                previous_period,
                previous,
                rag(latest, m.target_value, m.target_direction, m.amber_threshold),
                travel(previous, latest, m.target_direction),
            )
        )
    return out
