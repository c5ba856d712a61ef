"""Joint measures: those a partnership asks its members to report."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from portal import audit
from portal.aims.models import AimMeasure, JointAim
from portal.editing import check_version, commit_edit
from portal.extensions import db
from portal.monitoring import periods
from portal.monitoring.measures import (
    MeasureError,
    add_measure,
    breakdown_words,
    check_shape,
    current_plan_years,
    shape_change_problem,
    submitted_shape,
)
from portal.monitoring.models import (
    Measure,
    MeasureDefinition,
    MeasureValue,
)
from portal.partners.models import Partnership, Tenant
from portal.tenancy import across_tenants, current_tenant_id


def joint_measures():
    """The joint measures in scope (a partnership's page: its own), as a select()."""
    return (
        select(MeasureDefinition)
        .where(MeasureDefinition.partnership_id.is_not(None))
        .order_by(MeasureDefinition.name, MeasureDefinition.id)
    )


def aim_measure_choices() -> list[AimMeasure]:
    """The partnership's "How will we measure our results?" answers, to link a joint
    measure to (the partnership in scope's own)."""
    return list(
        db.session.scalars(
            select(AimMeasure)
            .join(JointAim, AimMeasure.aim_id == JointAim.id)
            .order_by(JointAim.id, AimMeasure.position, AimMeasure.id)
        )
    )


def _joint_links(
    partnership: Partnership,
    definition: MeasureDefinition | None,
    unit: str,
    breakdown: str,
    period_type: str,
    aim_measure_id: int | None,
    base_id: int | None,
) -> None:
    if aim_measure_id is not None:
        link = db.session.scalar(select(AimMeasure).where(AimMeasure.id == aim_measure_id))
        if link is None:
            raise MeasureError("aim_measure", "Choose one of the partnership's aims' measures")
    if base_id is not None:
        base = db.session.scalar(select(MeasureDefinition).where(MeasureDefinition.id == base_id))
        if base is None or not base.is_joint:
            raise MeasureError("base", "Choose one of the partnership's joint measures")
        if definition is not None and base.id == definition.id:
            raise MeasureError("base", "A measure cannot be a part of itself")
        if unit != "count" or base.unit != "count":
            raise MeasureError(
                "base",
                "Only a count can be part of another count. Choose “no base”, or make "
                "both measures counts",
            )
        if base.period_type != period_type or base.breakdown != breakdown:
            raise MeasureError(
                "base",
                f"{base.name} is measured {periods.PERIOD_TYPES[base.period_type].lower()} "
                f"by {breakdown_words(base.breakdown)}; the base must be measured as often "
                "and broken down the same way",
            )


def add_joint_measure(
    partnership: Partnership,
    *,
    name: str,
    unit: str,
    period_type: str,
    breakdown: str,
    description: str,
    first_year: int | None,
    last_year: int | None,
    aim_measure_id: int | None = None,
    base_id: int | None = None,
    whole_name: str = "",
) -> MeasureDefinition:
    """Add a measure the partnership asks its members to report.

    A percentage cannot cross the wall safely on its own (a percentage of a small group
    can show how many people it is about), so a percentage is added as two counts: the
    whole (``whole_name``) and the part (``name``), whose base is the whole. Members report
    the counts; the partnership sees the percentage worked out from the released counts.
    Returns the part.
    """
    name = check_shape(name, unit, period_type, breakdown, first_year, last_year)
    whole_name = (whole_name or "").strip()
    if unit == "percentage":
        if base_id is not None:
            raise MeasureError(
                "base",
                "Only a count can be part of another count. A percentage is worked out "
                "from its own two counts: choose “no base”",
            )
        if not whole_name:
            raise MeasureError(
                "whole_name",
                "Enter what the percentage is out of. A percentage is shared as two counts "
                "(how many, and out of how many), so that small groups stay hidden",
            )
        if whole_name.lower() == name.lower():
            raise MeasureError("whole_name", "The whole needs a name of its own")
        whole = add_joint_measure(
            partnership,
            name=whole_name,
            unit="count",
            period_type=period_type,
            breakdown=breakdown,
            description=f"The whole that “{name}” is a percentage of.",
            first_year=first_year,
            last_year=last_year,
            aim_measure_id=aim_measure_id,
        )
        return add_joint_measure(
            partnership,
            name=name,
            unit="count",
            period_type=period_type,
            breakdown=breakdown,
            description=description
            or f"Shared as a percentage of “{whole_name}”, worked out from the two counts.",
            first_year=first_year,
            last_year=last_year,
            aim_measure_id=aim_measure_id,
            base_id=whole.id,
        )
    _joint_links(partnership, None, unit, breakdown, period_type, aim_measure_id, base_id)
    row = MeasureDefinition(
        name=name,
        unit=unit,
        period_type=period_type,
        breakdown=breakdown or "",
        allows_negative=False,
        description=(description or "").strip(),
        source=f"Joint measure of {partnership.name}",
        first_year=first_year,
        last_year=last_year,
        aim_measure_id=aim_measure_id,
        base_id=base_id,
    )
    db.session.add(row)
    db.session.flush()
    audit.record(
        "joint_measure.created", row, detail={"name": name, "partnership": partnership.slug}
    )
    db.session.commit()
    return row


@dataclass
class JointUse:
    """How members use a joint measure: who reports it, and the periods with figures."""

    reporting: list[Tenant]
    periods: set[str]
    figures: int


def joint_use(partnership: Partnership, definition: MeasureDefinition) -> JointUse:
    """Which members report ``definition`` and for which periods (no figures leave)."""
    reporting, seen, figures = [], set(), 0
    for tenant in across_tenants(
        partnership.members, purpose=f"use of joint measure {definition.id}"
    ):
        ids = list(
            db.session.scalars(select(Measure.id).where(Measure.definition_id == definition.id))
        )
        if not ids:
            continue
        reporting.append(tenant)
        for period in db.session.scalars(
            select(MeasureValue.period).where(MeasureValue.measure_id.in_(ids))
        ):
            seen.add(period)
            figures += 1
    # The read is in each member's trail already: across_tenants commits those events
    # before the first read. No commit here, which would expire what the page shows.
    return JointUse(reporting, seen, figures)


def update_joint_measure(
    partnership: Partnership,
    definition: MeasureDefinition,
    *,
    name: str,
    unit: str,
    period_type: str,
    breakdown: str,
    description: str,
    first_year: int | None,
    last_year: int | None,
    aim_measure_id: int | None,
    base_id: int | None,
    version: int,
) -> MeasureDefinition:
    """Save changes made to ``version`` of a joint measure.

    What it counts, how often and its breakdown are fixed once any member has figures
    for it; the plan years may not leave members' figures outside the plan.
    """
    submitted = submitted_shape(
        name,
        unit,
        period_type,
        breakdown,
        description,
        first_year,
        last_year,
        aim_measure_id=aim_measure_id,
        base_id=base_id,
    )
    check_version(definition, version, submitted)
    submitted["name"] = check_shape(
        submitted["name"], unit, period_type, breakdown, first_year, last_year
    )
    _joint_links(partnership, definition, unit, breakdown, period_type, aim_measure_id, base_id)
    before = {k: getattr(definition, k) for k in submitted}
    if any(before[k] != submitted[k] for k in ("unit", "period_type", "breakdown")) or (
        (first_year, last_year) != (before["first_year"], before["last_year"])
    ):
        use = joint_use(partnership, definition)
        for key in ("unit", "period_type", "breakdown"):
            if use.reporting and before[key] != submitted[key]:
                names = ", ".join(t.name for t in use.reporting)
                raise MeasureError(
                    key,
                    f"Members already report this measure ({names}), so what it counts, how "
                    "often and its breakdown cannot change: their figures would no longer "
                    "mean the same. Add a new joint measure instead",
                )
        problem = shape_change_problem(before, submitted, use.periods, "Members have")
        if problem:
            raise problem
    if any(
        before[k] != submitted[k] for k in ("unit", "period_type", "breakdown")
    ) and db.session.scalar(
        select(func.count(MeasureDefinition.id)).where(MeasureDefinition.base_id == definition.id)
    ):
        raise MeasureError(
            "unit",
            "Another joint measure counts part of this one, so what it counts, how often "
            "and its breakdown cannot change",
        )
    if unit == "percentage" and definition.unit != "percentage":
        raise MeasureError(
            "unit",
            "A percentage is shared as two counts (how many, and out of how many), so that "
            "small groups stay hidden. Add it as a new joint measure and choose Percentage",
        )
    changed = [k for k, v in submitted.items() if before[k] != v]
    if not changed:
        return definition
    for key in changed:
        setattr(definition, key, submitted[key])
    audit.record("joint_measure.updated", definition, detail={"fields": changed})
    return commit_edit(definition, submitted)


def delete_joint_measure(partnership: Partnership, definition: MeasureDefinition) -> None:
    """Delete a joint measure. Members keep their figures, as measures of their own."""
    audit.record(
        "joint_measure.deleted",
        definition,
        detail={"name": definition.name, "partnership": partnership.slug},
    )
    db.session.delete(definition)
    db.session.commit()


@dataclass
class JointForTenant:
    """One partnership's joint measures, each with the member's own measure for it."""

    partnership: Partnership
    rows: list[tuple[MeasureDefinition, Measure | None]]


def joint_for_tenant(tenant: Tenant) -> list[JointForTenant]:
    """For each of the tenant's partnerships, its joint measures and the tenant's own
    measure for each (None until the tenant starts reporting it)."""
    own = {
        m.definition_id: m
        for m in db.session.scalars(
            select(Measure).where(Measure.definition_id.is_not(None)).order_by(Measure.id.desc())
        )
    }
    joint = db.session.scalars(joint_measures()).all()
    out = []
    for partnership in sorted(tenant.partnerships, key=lambda p: p.name):
        rows = [d for d in joint if d.partnership_id == partnership.id]
        if rows:
            out.append(JointForTenant(partnership, [(d, own.get(d.id)) for d in rows]))
    return out


def start_reporting(definition: MeasureDefinition) -> Measure:
    """The current tenant's measure for a joint measure, added if it has none yet."""
    row = db.session.scalar(
        select(Measure).where(Measure.definition_id == definition.id).order_by(Measure.id)
    )
    if row is not None:
        return row
    plan = current_plan_years(db.session.get(Tenant, current_tenant_id()))
    first = definition.first_year or (plan[0] if plan else periods.financial_year())
    last = definition.last_year or (plan[1] if plan else first)
    return add_measure(definition=definition, first_year=first, last_year=last)
