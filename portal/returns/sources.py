"""What a return draws from the rest of the portal, never typed again.

Every function reads the tenant in scope: its action plan, commitments, measures,
community profile, impact assessment register and hate-incident register, for one
reporting year (1 April to 31 March).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal import clock
from portal.actions.models import STATUSES, Action, ActionJointAim, ProgressUpdate
from portal.aims.models import JointAim
from portal.commitments.models import Commitment
from portal.eqia.models import ImpactAssessment
from portal.extensions import db
from portal.incidents.models import MOTIVATIONS, HateIncident
from portal.monitoring import categories, profiles
from portal.monitoring import periods as period_keys
from portal.monitoring.measures import TOTAL, stored_values
from portal.monitoring.models import Measure, MeasureDefinition
from portal.returns.models import ReportingYear

WORKFORCE_KEY = "workforce-profile"
# Employers of this many or more publish the gender pay gap (the 2017 regulations).
GENDER_PAY_GAP_EMPLOYEES = 250


def year_period(year: ReportingYear) -> str:
    """The monitoring period key of a reporting year: "2025" for 2025-26."""
    return str(year.start_year)


def quarter_periods(year: ReportingYear) -> list[str]:
    return period_keys.periods(period_keys.QUARTER, year.start_year, year.start_year)


def quarter_label(key: str) -> str:
    return period_keys.label(key)


def in_year(day: date | None, year: ReportingYear) -> bool:
    return day is not None and year.first_day <= day <= year.last_day


# --- joint aims and actions -----------------------------------------------------------


@dataclass
class AimProgress:
    aim: JointAim
    actions: list[Action]
    by_status: dict[str, int]
    overdue: int
    completed_in_year: int
    updates: list[ProgressUpdate] = field(default_factory=list)

    @property
    def role_name(self) -> str:
        return self.aim.role.name


def joint_aims(year: ReportingYear) -> list[JointAim]:
    """The joint aims the year covers, in the framework's order."""
    if not year.aim_ids:
        return []
    rows = db.session.scalars(
        select(JointAim).where(JointAim.id.in_(year.aim_ids)).options(selectinload(JointAim.role))
    ).all()
    return sorted(rows, key=lambda a: (a.role.position, a.position, a.id))


def _completed_on(action: Action) -> date | None:
    dates = [u.date for u in action.updates if u.status == "complete"]
    if dates:
        return max(dates)
    return action.updated_at.date() if action.status == "complete" else None


def aims_progress(year: ReportingYear, today: date | None = None) -> list[AimProgress]:
    """For each joint aim of the year: the member's actions linked to it, counted by
    status, overdue and completed in the year, and the progress updates of the year that
    may be picked as highlights (newest first)."""
    today = today or clock.utcnow().date()
    aims = joint_aims(year)
    links = db.session.execute(
        select(ActionJointAim.joint_aim_id, ActionJointAim.action_id).where(
            ActionJointAim.joint_aim_id.in_([a.id for a in aims] or [0])
        )
    ).all()
    action_ids = {row.action_id for row in links}
    actions = {
        a.id: a
        for a in db.session.scalars(
            select(Action)
            .where(Action.id.in_(action_ids or {0}))
            .options(selectinload(Action.updates))
        )
    }
    out = []
    for aim in aims:
        linked = sorted(
            (
                actions[r.action_id]
                for r in links
                if r.joint_aim_id == aim.id and r.action_id in actions
            ),
            key=lambda a: a.number,
        )
        by_status = {label: 0 for label in STATUSES.values()}
        for action in linked:
            by_status[action.status_label] = by_status.get(action.status_label, 0) + 1
        updates = sorted(
            (u for a in linked for u in a.updates if in_year(u.date, year)),
            key=lambda u: (u.date, u.id),
            reverse=True,
        )
        out.append(
            AimProgress(
                aim=aim,
                actions=linked,
                by_status={k: v for k, v in by_status.items() if v},
                overdue=sum(1 for a in linked if a.is_overdue(min(today, year.last_day))),
                completed_in_year=sum(1 for a in linked if in_year(_completed_on(a), year)),
                updates=updates,
            )
        )
    return out


def commitments() -> list[Commitment]:
    return list(db.session.scalars(select(Commitment).order_by(Commitment.position, Commitment.id)))


# --- measures -------------------------------------------------------------------------


@dataclass
class MeasureFigures:
    """A joint measure for the year, as the member reports it."""

    definition: MeasureDefinition
    measure: Measure | None
    period: str
    values: dict[str, float]

    @property
    def has_figure(self) -> bool:
        return TOTAL in self.values

    @property
    def total_text(self) -> str:
        shape = self.measure or self.definition
        return shape.format(self.values.get(TOTAL))


def joint_measures(year: ReportingYear) -> list[MeasureFigures]:
    """Each joint measure the year covers, with the member's own figures for the year
    (its first breakdown's, the total and each category), or none."""
    if not year.measure_ids:
        return []
    definitions = db.session.scalars(
        select(MeasureDefinition)
        .where(MeasureDefinition.id.in_(year.measure_ids))
        .order_by(MeasureDefinition.name)
    ).all()
    out = []
    for definition in definitions:
        measure = db.session.scalar(
            select(Measure).where(Measure.definition_id == definition.id).order_by(Measure.id)
        )
        period = year_period(year)
        if measure is not None and measure.period_type == period_keys.QUARTER:
            values = _year_from_quarters(measure, year)
        else:
            values = stored_values(measure).get(period, {}) if measure else {}
        out.append(MeasureFigures(definition, measure, period, values))
    return out


def _year_from_quarters(measure: Measure, year: ReportingYear) -> dict[str, float]:
    """A quarterly measure's year: the sum of its four quarters, when all four are in."""
    stored = stored_values(measure)
    quarters = [stored.get(q, {}) for q in quarter_periods(year)]
    if not all(TOTAL in q for q in quarters) or not measure.is_count:
        return {}
    keys = set().union(*quarters)
    return {k: sum(q.get(k, 0) for q in quarters) for k in keys if all(k in q for q in quarters)}


# --- workforce ------------------------------------------------------------------------


@dataclass
class ProfileRow:
    characteristic: str
    label: str
    categories: list[str]
    staff: dict[str, float]
    community: dict[str, float]  # percentages
    community_source: str


@dataclass
class Workforce:
    definition: MeasureDefinition | None
    employees: int | None
    rows: list[ProfileRow]


def workforce_definition() -> MeasureDefinition | None:
    return db.session.scalar(
        select(MeasureDefinition).where(MeasureDefinition.key == WORKFORCE_KEY)
    )


def workforce(year: ReportingYear) -> Workforce:
    """The member's workforce profile for the year, by each characteristic it reports,
    beside the community profile as percentages."""
    definition = workforce_definition()
    community = profiles.profile()
    community_tables = profiles.profile_tables(community)
    employees = None
    rows = []
    if definition is not None:
        measures = db.session.scalars(
            select(Measure).where(Measure.definition_id == definition.id).order_by(Measure.id)
        ).all()
        for measure in measures:
            values = stored_values(measure).get(year_period(year), {})
            if TOTAL in values and employees is None:
                employees = int(values[TOTAL])
            c = measure.characteristic
            if c is None or not values:
                continue
            table = community_tables.get(c.key, {})
            whole = table.get("") or sum(v for k, v in table.items() if k) or 0
            shares = {k: round(v * 100 / whole, 1) for k, v in table.items() if k and whole}
            rows.append(
                ProfileRow(
                    c.key,
                    c.label,
                    list(c.categories),
                    {k: v for k, v in values.items() if k},
                    shares,
                    community.source if community and table else "",
                )
            )
    return Workforce(definition, employees, rows)


def is_public_authority(tenant) -> bool:
    """Councils are public authorities; housing associations are not."""
    return tenant.kind.endswith("council")


def pay_gap_snapshot_date(year: ReportingYear, public_authority: bool) -> date:
    """The gender pay gap snapshot reported in the year: 31 March for public authorities,
    5 April for other employers (the 2017 regulations)."""
    return date(year.start_year, 3, 31) if public_authority else date(year.start_year, 4, 5)


# --- registers ------------------------------------------------------------------------


@dataclass
class Assessments:
    completed: list[ImpactAssessment]
    published: list[ImpactAssessment]


def assessments(year: ReportingYear) -> Assessments:
    """Impact assessments completed (assessed) and published in the year."""
    rows = db.session.scalars(select(ImpactAssessment).order_by(ImpactAssessment.assessed_on)).all()
    return Assessments(
        completed=[r for r in rows if in_year(r.assessed_on, year)],
        published=[r for r in rows if r.is_published and in_year(r.published_on, year)],
    )


def incident_tables(year: ReportingYear) -> dict[str, tuple[Counter, int]]:
    """Hate incidents of the year by quarter: (count by motivation, total incidents)."""
    rows = db.session.execute(
        select(HateIncident.occurred_on, HateIncident.motivations).where(
            HateIncident.occurred_on >= year.first_day, HateIncident.occurred_on <= year.last_day
        )
    ).all()
    out = {}
    for key in quarter_periods(year):
        number = int(key[-1])
        chosen = [r for r in rows if _quarter_of(r.occurred_on, year) == number]
        out[key] = (Counter(m for r in chosen for m in (r.motivations or [])), len(chosen))
    return out


def _quarter_of(day: date, year: ReportingYear) -> int:
    months = (day.year - year.start_year) * 12 + day.month - 4
    return months // 3 + 1


def motivation_tables(counts: Counter, total: int) -> dict[str, tuple[dict, int]]:
    """An incident may have several motivations, so each is released as "with it" and
    "without it", all breaking down the same total (as the statistics page does)."""
    return {
        f"motivation:{key}": ({key: counts.get(key, 0), "": total - counts.get(key, 0)}, total)
        for key in MOTIVATIONS
    }


def characteristic_label(key: str) -> str:
    c = categories.characteristic(key)
    return c.label if c else key
