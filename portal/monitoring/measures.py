"""Measures: adding, changing and deleting them, their plan years, and reading their
stored figures exactly; every change is audited."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from sqlalchemy import delete, func, select

from portal import audit, clock
from portal.editing import Invalid, check_version, commit_edit
from portal.extensions import db
from portal.models import limit
from portal.monitoring import catalogue, categories, periods, targets
from portal.monitoring.models import (
    FIGURE_BOUNDS,
    UNITS,
    Figure,
    Measure,
    MeasureDefinition,
    MeasureValue,
    plain_decimal,
)
from portal.partners.models import Tenant

EARLIEST_YEAR, LATEST_YEAR = 2000, 2100
TOTAL = ""


class MeasureError(Invalid):
    """A measure could not be added; ``field`` names the form field at fault."""


def measures():
    """The current tenant's measures, as a select()."""
    return select(Measure).order_by(Measure.name, Measure.breakdown, Measure.id)


def definitions_for(tenant: Tenant):
    """Definitions a tenant may take up: built in, and its partnerships' joint measures
    (the partnership scope of the tenant's pages shows exactly those)."""
    return select(MeasureDefinition).order_by(
        MeasureDefinition.partnership_id.is_not(None), MeasureDefinition.id
    )


def check_shape(
    name: str, unit: str, period_type: str, breakdown: str, first_year, last_year
) -> str:
    """Check what a measure is and the years of its plan; returns the name, tidied."""
    name = (name or "").strip()
    if not name:
        raise MeasureError("name", "Enter the measure's name")
    most = limit(Measure.name)
    if len(name) > most:
        raise MeasureError("name", f"Name must be {most} characters or fewer")
    if unit not in UNITS:
        raise MeasureError("unit", "Choose what the measure counts")
    if period_type not in periods.PERIOD_TYPES:
        raise MeasureError("period_type", "Choose how often it is measured")
    if breakdown and not categories.characteristic(breakdown):
        raise MeasureError("breakdown", "Choose a characteristic from the list")
    if first_year is None or last_year is None:
        raise MeasureError("first_year", "Enter the first and last years of the plan")
    if not all(EARLIEST_YEAR <= y <= LATEST_YEAR for y in (first_year, last_year)):
        raise MeasureError("first_year", "Enter years between 2000 and 2100")
    if last_year < first_year:
        raise MeasureError("last_year", "The last year must be the same as the first or after it")
    if last_year - first_year > 20:
        raise MeasureError("last_year", "A plan can run for at most 21 years")
    return name


def add_measure(
    *,
    definition: MeasureDefinition | None = None,
    name: str = "",
    unit: str = "",
    period_type: str = "",
    breakdown: str = "",
    allows_negative: bool = False,
    description: str = "",
    first_year: int,
    last_year: int,
    is_demo: bool = False,
    target_value=None,
    target_direction: str = "",
    amber_threshold=None,
) -> Measure:
    """Add a measure to the current tenant, from a definition or described in full, with
    its target if it has one (portal/monitoring/targets.py)."""
    if definition is not None:
        name, unit, period_type = definition.name, definition.unit, definition.period_type
        allows_negative, description = definition.allows_negative, definition.description
        if definition.breakdown != catalogue.ANY:
            breakdown = definition.breakdown
        elif not categories.characteristic(breakdown):
            raise MeasureError("breakdown", "Choose the characteristic to break it down by")
    name = check_shape(name, unit, period_type, breakdown, first_year, last_year)
    target = _check_target(unit, allows_negative, target_value, target_direction, amber_threshold)
    now = clock.utcnow()
    row = Measure(
        **target,
        definition_id=definition.id if definition else None,
        name=name,
        unit=unit,
        period_type=period_type,
        breakdown=breakdown or "",
        allows_negative=allows_negative,
        description=description or "",
        source=definition.source if definition else "",
        first_year=first_year,
        last_year=last_year,
        is_demo=is_demo,
        created_at=now,
        updated_at=now,
    )
    db.session.add(row)
    db.session.flush()
    audit.record("measure.created", row, detail={"name": name, "breakdown": row.breakdown})
    db.session.commit()
    return row


def current_plan_years(tenant: Tenant) -> tuple[int, int] | None:
    """The first and last year (April to March) of the tenant's current plan period:
    its partnerships' published periods that cover this year, taken together. None for
    an organisation in no partnership, or whose partnerships have no current period."""
    from portal.aims import services as aims

    return aims.current_plan_years([p.id for p in tenant.partnerships])


def current_plan_label(tenant: Tenant) -> str:
    years = current_plan_years(tenant)
    return periods.plan_label(*years) if years else "no current plan period"


def follow_current_period(tenant: Tenant) -> int:
    """Carry the current tenant's measures into its current plan period: a measure whose
    plan ends before the period does now runs to the period's last year (its earlier
    years and figures stay as they were). Returns how many measures changed."""
    years = current_plan_years(tenant)
    if years is None:
        return 0
    changed = 0
    for row in db.session.scalars(select(Measure).where(Measure.last_year < years[1])):
        before = row.last_year
        row.last_year = years[1]
        row.updated_at = clock.utcnow()
        audit.record(
            "measure.plan_followed",
            row,
            detail={"last_year": [before, years[1]], "plan": periods.plan_label(*years)},
        )
        changed += 1
    db.session.commit()
    return changed


def plan_windows(measure: Measure, tenant: Tenant) -> list[tuple[int, int]]:
    """The spans of years a figures grid shows one at a time: each of the tenant's
    partnerships' published plan periods within the measure's years, and the rest of
    its years as one span each side. A measure within one span has one window."""
    from portal.aims import services as aims
    from portal.aims.models import PlanPeriod

    spans = set()
    for partnership in tenant.partnerships:
        for period in db.session.scalars(
            aims.periods().where(
                PlanPeriod.partnership_id == partnership.id, PlanPeriod.is_draft.is_(False)
            )
        ):
            first = max(period.start_year, measure.first_year)
            last = min(period.end_year - 1, measure.last_year)
            if first <= last:
                spans.add((first, last))
    windows = sorted(spans)
    # Years no period covers form spans of their own, so every year can be reached.
    covered = {y for first, last in windows for y in range(first, last + 1)}
    loose = [y for y in range(measure.first_year, measure.last_year + 1) if y not in covered]
    run: list[int] = []
    for year in [*loose, None]:
        if run and (year is None or year != run[-1] + 1):
            windows.append((run[0], run[-1]))
            run = []
        if year is not None:
            run.append(year)
    return sorted(windows) or [(measure.first_year, measure.last_year)]


def _plain(value):
    """A value the audit trail's JSON can hold (a Decimal target as its text)."""
    return str(value) if isinstance(value, Decimal) else value


def _check_target(unit: str, allows_negative: bool, target, direction, amber) -> dict:
    bounds = FIGURE_BOUNDS[unit]
    if allows_negative:
        bounds = bounds._replace(low=-bounds.high)
    try:
        return targets.check_target(unit, bounds, target, direction, amber)
    except targets.TargetError as exc:
        raise MeasureError(exc.field, exc.message) from None


def _outside(stored_periods: Iterable[str], allowed: list[str]) -> list[str]:
    return sorted(set(stored_periods) - set(allowed))


def shape_change_problem(
    before: dict, after: dict, stored_periods: set[str], whose: str = "It has"
) -> MeasureError | None:
    """Why a change would leave figures already saved meaning something else, if it would."""
    if not stored_periods:
        return None
    if after["unit"] != before["unit"]:
        return MeasureError(
            "unit",
            f"{whose} figures saved, so what it counts cannot change: a figure entered as "
            f"“{UNITS[before['unit']].lower()}” would be read as something else. "
            "Add a new measure instead",
        )
    if after["period_type"] != before["period_type"]:
        return MeasureError(
            "period_type",
            f"{whose} figures saved for each {before['period_type']}, so how often it is "
            "measured cannot change. Add a new measure instead",
        )
    if after["breakdown"] != before["breakdown"]:
        return MeasureError(
            "breakdown",
            f"{whose} figures saved by {breakdown_words(before['breakdown'])}, so the "
            "breakdown cannot change. Add the measure again with the other breakdown",
        )
    allowed = periods.periods(after["period_type"], after["first_year"], after["last_year"])
    outside = _outside(stored_periods, allowed)
    if outside:
        shown = ", ".join(periods.label(p) for p in outside[:4])
        more = f" and {len(outside) - 4} more" if len(outside) > 4 else ""
        return MeasureError(
            "first_year",
            f"{whose} figures saved for {shown}{more}, which would be outside the plan. "
            "Keep those years in the plan, or remove their figures first",
        )
    return None


def breakdown_words(breakdown: str) -> str:
    c = categories.characteristic(breakdown)
    return c.label.lower() if c else "no breakdown (totals only)"


def submitted_shape(
    name: str,
    unit: str,
    period_type: str,
    breakdown: str,
    description: str,
    first_year: int | None,
    last_year: int | None,
    **more,
) -> dict:
    """What an edit of a measure (a member's or a joint one) asks to save, tidied as it is
    stored: what it counts, how often, its breakdown, words and plan years, then ``more``
    (the fields only that kind of measure has) as given."""
    return {
        "name": (name or "").strip(),
        "unit": unit or "",
        "period_type": period_type or "",
        "breakdown": breakdown or "",
        "description": (description or "").strip(),
        "first_year": first_year,
        "last_year": last_year,
        **more,
    }


def update_measure(
    row: Measure,
    *,
    name: str,
    unit: str,
    period_type: str,
    breakdown: str,
    description: str,
    first_year: int | None,
    last_year: int | None,
    version: int,
    target_value=None,
    target_direction: str = "",
    amber_threshold=None,
) -> Measure:
    """Save changes made to ``version`` of a measure; refuse them if somebody saved in
    between (:class:`EditConflict`) or if they would change what saved figures mean.

    A measure taken up from a definition keeps the definition's name, unit and period;
    its breakdown may change only if the definition leaves it open.
    """
    submitted = submitted_shape(
        name,
        unit,
        period_type,
        breakdown,
        description,
        first_year,
        last_year,
        target_value=target_value,
        target_direction=target_direction or "",
        amber_threshold=amber_threshold,
    )
    check_version(row, version, submitted)
    definition = row.definition
    if definition is not None:
        fixed = {"name": row.name, "unit": row.unit, "period_type": row.period_type}
        if definition.breakdown != catalogue.ANY:
            fixed["breakdown"] = row.breakdown
        for key, value in fixed.items():
            if submitted[key] != value:
                kind = "a joint measure of a partnership" if definition.is_joint else "built in"
                can = "plan years and breakdown" if "breakdown" not in fixed else "plan years"
                raise MeasureError(
                    key, f"This measure is {kind}, so only its {can} can change here"
                )
        if definition.breakdown == catalogue.ANY and not submitted["breakdown"]:
            raise MeasureError("breakdown", "Choose the characteristic to break it down by")
        submitted["description"] = row.description
    submitted["name"] = check_shape(
        submitted["name"],
        submitted["unit"],
        submitted["period_type"],
        submitted["breakdown"],
        first_year,
        last_year,
    )
    submitted.update(
        _check_target(
            submitted["unit"], row.allows_negative, target_value, target_direction, amber_threshold
        )
    )
    before = {k: getattr(row, k) for k in submitted}
    problem = shape_change_problem(before, submitted, set(stored_values(row)))
    if problem:
        raise problem
    changed = [k for k, v in submitted.items() if before[k] != v]
    if not changed:
        return row
    for key in changed:
        setattr(row, key, submitted[key])
    row.updated_at = clock.utcnow()
    audit.record(
        "measure.updated",
        row,
        detail={"fields": changed, "from": {k: _plain(before[k]) for k in changed}},
    )
    return commit_edit(row, submitted)


def delete_measure(row: Measure) -> int:
    """Delete a measure and every figure saved for it; returns how many figures went."""
    figures = db.session.scalar(
        select(func.count(MeasureValue.id)).where(MeasureValue.measure_id == row.id)
    )
    audit.record(
        "measure.deleted",
        row,
        detail={"name": row.name, "breakdown": row.breakdown, "figures": figures},
    )
    db.session.execute(delete(MeasureValue).where(MeasureValue.measure_id == row.id))
    db.session.delete(row)
    db.session.commit()
    return figures


def stored_values(measure: Measure) -> dict[str, dict[str, Figure]]:
    """The measure's figures, by period and then category ("" for the total)."""
    return stored_values_of([measure]).get(measure.id, {})


def has_demo_figures(measure: Measure) -> bool:
    """Whether any of the measure's figures is demonstration data."""
    query = select(MeasureValue.id).where(
        MeasureValue.measure_id == measure.id, MeasureValue.is_demo.is_(True)
    )
    return db.session.scalar(query.limit(1)) is not None


def stored_values_of(measures: list[Measure]) -> dict[int, dict[str, dict[str, Figure]]]:
    """Several measures' figures in one query, by measure id and then as
    :func:`stored_values` gives them (a measure with none has an empty dict)."""
    out: dict[int, dict[str, dict[str, Figure]]] = {m.id: {} for m in measures}
    if not out:
        return out
    by_id = {m.id: m for m in measures}
    query = select(
        MeasureValue.measure_id, MeasureValue.period, MeasureValue.category, MeasureValue.value
    ).where(MeasureValue.measure_id.in_(list(out)))
    for measure_id, period, category, value in db.session.execute(query):
        # NUMERIC comes back as Decimal('12.0000'): every read gives the exact figure.
        out[measure_id].setdefault(period, {})[category] = exact(by_id[measure_id], value)
    return out


def exact(measure: Measure, value) -> Figure:
    """A stored figure as the exact number it is: a whole number for a count, else a
    decimal (never a binary float, which cannot hold every figure people type)."""
    if measure.unit == "count":
        return int(value)
    return tidy(Decimal(value))


def tidy(value: Decimal) -> Decimal:
    """``value`` without trailing zeros (12.5, not 12.5000), and never written as 1E+3."""
    return plain_decimal(value)


def row_label(category: str) -> str:
    return category or "Total"
