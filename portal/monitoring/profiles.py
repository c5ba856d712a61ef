"""Community profiles: the population figures a measure is compared with."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from sqlalchemy import select

from portal import audit, clock
from portal.editing import Invalid
from portal.extensions import db
from portal.monitoring import categories
from portal.monitoring.figure_import import UNREADABLE_CSV
from portal.monitoring.measures import TOTAL, stored_values
from portal.monitoring.models import (
    CommunityProfile,
    Measure,
    PopulationFigure,
)
from portal.partners.models import Tenant


def profile():
    """The current tenant's community profile, if one has been loaded."""
    return db.session.scalar(select(CommunityProfile).order_by(CommunityProfile.id.desc()))


class ProfileError(Invalid):
    """A profile file could not be loaded; nothing was changed."""


_ROUNDED = " (rounded to nearest 100)"


def read_profile(data: str, area: str | None = None) -> tuple[list[dict], str]:
    """Read a community profile CSV: characteristic (or topic), category, value and,
    optionally, source, unit and an area (lad_code, lad_name).

    A census file with several areas needs ``area`` (a code or a name). Category totals
    are rows whose category starts "Total"; sub-categories ("A: B") and rows that are not
    counts are skipped. Returns the figures and the area's name.
    """
    try:
        rows = list(csv.DictReader(io.StringIO(data.lstrip("\ufeff"))))
    except csv.Error:
        raise ProfileError(None, "Nothing was loaded. " + UNREADABLE_CSV) from None
    if not rows:
        raise ProfileError(None, "The file has no figures in it")
    fields = set(rows[0])
    topic_column = "characteristic" if "characteristic" in fields else "topic"
    if not {topic_column, "category", "value"} <= fields:
        raise ProfileError(None, "The file needs the columns characteristic, category and value")
    areas = {(r.get("lad_code") or "", r.get("lad_name") or "") for r in rows}
    if area:
        rows = [r for r in rows if area in {r.get("lad_code"), r.get("lad_name")}]
        if not rows:
            raise ProfileError(None, f"The file has no figures for {area}")
    elif len(areas) > 1:
        names = ", ".join(sorted(f"{code} ({name})" for code, name in areas))
        raise ProfileError(None, f"The file holds several areas; choose one of: {names}")
    area_name = rows[0].get("lad_name") or area or ""
    figures = []
    problems = []
    for line, row in enumerate(rows, start=2):
        if (row.get("unit") or "count") != "count":
            continue
        topic = (row[topic_column] or "").strip()
        category = (row["category"] or "").strip()
        if category.endswith(_ROUNDED):
            category = category[: -len(_ROUNDED)]
        if topic == "population":
            key = "population"
            category = ""
        else:
            c = categories.characteristic(topic) or categories.by_census_topic(topic)
            if c is None:
                problems.append(f"line {line}: “{topic}” is not a protected characteristic")
                continue
            key = c.key
            if category.lower().startswith("total"):
                category = ""
            elif category not in c.categories:
                if any(category.startswith(f"{known}: ") for known in c.categories):
                    continue
                problems.append(f"line {line}: “{category}” is not a category of {c.label}")
                continue
        try:
            value = int(row["value"])
        except (TypeError, ValueError):
            problems.append(f"line {line}: “{row['value']}” is not a whole number")
            continue
        if value < 0:
            problems.append(f"line {line}: a count cannot be negative")
            continue
        figures.append(
            {
                "characteristic": key,
                "category": category,
                "value": value,
                "source": (row.get("source") or "").strip(),
            }
        )
    if problems:
        raise ProfileError(None, "Nothing was loaded: " + "; ".join(problems[:10]))
    if not figures:
        raise ProfileError(None, "The file has no counts in it")
    return figures, area_name


def load_profile(
    tenant: Tenant, data: str, *, source: str, file_name: str = "", area: str | None = None
) -> CommunityProfile:
    """Replace the current tenant's community profile with the figures in ``data``."""
    source = (source or "").strip()
    if not source:
        raise ProfileError(None, "Say where the figures come from (--source)")
    figures, area_name = read_profile(data, area)
    old = profile()
    if old is not None:
        db.session.delete(old)
        db.session.flush()
    row = CommunityProfile(
        source=source, file_name=file_name, area=area_name, loaded_at=clock.utcnow()
    )
    row.figures = [PopulationFigure(**f) for f in figures]
    db.session.add(row)
    db.session.flush()
    audit.record(
        "community_profile.loaded",
        row,
        tenant_id=tenant.id,
        detail={"figures": len(figures), "source": source[:200], "area": area_name},
    )
    db.session.commit()
    return row


@dataclass
class ShareRow:
    category: str
    count: float | None
    share: float | None
    community: int | None
    community_share: float | None


def profile_tables(row: CommunityProfile | None) -> dict[str, dict[str, int]]:
    """The profile's figures by characteristic, then category ("" for the table total)."""
    out: dict[str, dict[str, int]] = {}
    for f in row.figures if row else []:
        out.setdefault(f.characteristic, {})[f.category] = f.value
    return out


def _share(part: float | None, whole: float | None) -> float | None:
    if part is None or not whole:
        return None
    return part * 100 / whole


def compare(
    measure: Measure,
    period: str,
    community: dict[str, int] | None,
    *,
    stored: dict[str, dict[str, float]] | None = None,
) -> list[ShareRow]:
    """The measure's categories for a period beside the community's, as shares of those
    recorded in one of the measure's categories, on both sides: people whose answer is not
    known (in the measure's total but in no category) or not given (the census's "Not
    answered", where the measure has no such category) are left out of both, so a gap is
    a difference between the groups, not between how many answered.

    ``stored``: the measure's figures (:func:`stored_values`), when already read."""
    figures = (stored_values(measure) if stored is None else stored).get(period, {})
    community = community or {}
    categories = measure.rows[1:]
    ours = _recorded_sum(figures, categories)
    theirs = _recorded_sum(community, categories)
    return [
        ShareRow(
            category,
            figures.get(category),
            _share(figures.get(category), ours),
            community.get(category),
            _share(community.get(category), theirs),
        )
        for category in categories
    ]


@dataclass(frozen=True)
class Recorded:
    """How many of a measure's total for a period are recorded in one of its categories."""

    count: float | None
    total: float | None

    @property
    def unrecorded(self) -> float | None:
        """How many of the total are in no category, when that is more than none."""
        if self.count is None or self.total is None or self.total <= self.count:
            return None
        return self.total - self.count

    def describe(self) -> str:
        """What shares against the community are of, in words."""
        words = "Shares are of those recorded in a category"
        missing = self.unrecorded
        if missing is None:
            return f"{words}."
        return (
            f"{words}: {missing:,.0f} of the total of {self.total:,.0f} "
            f"({missing * 100 / self.total:.0f} %) are in no category and are left out."
        )


def recorded(
    measure: Measure, period: str, *, stored: dict[str, dict[str, float]] | None = None
) -> Recorded:
    """The measure's figures for ``period`` in its categories, against its total."""
    figures = (stored_values(measure) if stored is None else stored).get(period, {})
    return Recorded(_recorded_sum(figures, measure.rows[1:]), figures.get(TOTAL))


def _recorded_sum(figures: dict, categories: list[str]) -> float | None:
    held = [figures[c] for c in categories if figures.get(c) is not None]
    return sum(held) or None
