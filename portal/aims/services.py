"""The rules for a partnership's joint aims framework and for linking commitments to it.

Every change is audited. Edits carry the version the person started from; if somebody
else saved in between, :class:`EditConflict` is raised and nothing is written.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import joinedload, selectinload

from portal import audit, clock, ordering, tenancy
from portal.aims.models import (
    STATEMENT_SECTIONS,
    AimMeasure,
    CommitmentJointAim,
    JointAim,
    PartnershipRole,
    PeriodStatement,
    PlanPeriod,
    RoleListItem,
)
from portal.editing import (  # noqa: F401 - callers catch EditConflict from here too
    EditConflict,
    Invalid,
    check_version,
    commit_edit,
)
from portal.extensions import db
from portal.forms import parse_id
from portal.monitoring import periods as monitoring_periods
from portal.partners.models import Partnership

FIRST_YEAR, LAST_YEAR = 2000, 2100


class LinkError(Invalid):
    """A commitment was to be linked to a joint aim its organisation may not use."""


_NOUNS = {
    PlanPeriod: "plan_period",
    PartnershipRole: "partnership_role",
    RoleListItem: "role_list_item",
    JointAim: "joint_aim",
    AimMeasure: "aim_measure",
    PeriodStatement: "period_statement",
}


def _record(action: str, obj, **detail) -> None:
    audit.record(f"{_NOUNS[type(obj)]}.{action}", obj, detail=detail)


# --- reading --------------------------------------------------------------------------


def periods():
    """The plan periods in scope (a partnership's page: its own), newest first, as a
    select()."""
    return select(PlanPeriod).order_by(PlanPeriod.start_year.desc(), PlanPeriod.id.desc())


def whole_framework() -> tuple:
    """Loader options for all a framework page shows (roles with their lists, aims with
    their measures, and the statements): read up front, a query for each, so that the
    page's template reads nothing however long the framework is."""
    roles = selectinload(PlanPeriod.roles)
    return (
        roles.selectinload(PartnershipRole.items),
        roles.selectinload(PartnershipRole.aims).selectinload(JointAim.measures),
        selectinload(PlanPeriod.statements),
    )


def published_frameworks() -> list[tuple[Partnership, list[PlanPeriod]]]:
    """For the tenant in scope: each of its partnerships with its published periods,
    each period with its whole framework."""
    if tenancy.current_tenant_id() is None:
        raise tenancy.TenantNotSet("joint aims for a tenant were read with no tenant in scope")
    visible = tenancy.visible_partnership_ids() or frozenset()
    partnerships = db.session.scalars(
        select(Partnership).where(Partnership.id.in_(visible)).order_by(Partnership.name)
    ).all()
    published = db.session.scalars(
        periods().where(PlanPeriod.is_draft.is_(False)).options(*whole_framework())
    ).all()
    return [(p, [row for row in published if row.partnership_id == p.id]) for p in partnerships]


def current_period(partnership_id: int, year: int | None = None) -> PlanPeriod | None:
    """The partnership's published plan period that covers ``year`` (April to March;
    this year if not given): the one that started last, if periods overlap.

    A period written 2024–28 covers the years April 2024 to March 2028.
    """
    year = monitoring_periods.financial_year() if year is None else year
    return db.session.scalar(
        periods()
        .where(
            PlanPeriod.partnership_id == partnership_id,
            PlanPeriod.is_draft.is_(False),
            PlanPeriod.start_year <= year,
            PlanPeriod.end_year > year,
        )
        .limit(1)
    )


def current_plan_years(partnership_ids, year: int | None = None) -> tuple[int, int] | None:
    """The first and last year (April to March) of the current plan periods of the given
    partnerships, taken together; None when none of them has a current period."""
    spans = [
        (p.start_year, p.end_year - 1)
        for p in (current_period(pid, year) for pid in partnership_ids)
        if p is not None
    ]
    if not spans:
        return None
    return min(s for s, _ in spans), max(e for _, e in spans)


def linkable_aims():
    """Joint aims the tenant in scope may link to: published, in its own partnerships
    (the partnership scope of a tenant's page holds exactly those)."""
    if tenancy.current_tenant_id() is None:
        raise tenancy.TenantNotSet("joint aims for a tenant were read with no tenant in scope")
    return (
        select(JointAim)
        .join(JointAim.role)
        .join(PartnershipRole.period)
        .join(Partnership, Partnership.id == JointAim.partnership_id)
        .where(PlanPeriod.is_draft.is_(False))
        .order_by(
            Partnership.name,
            PlanPeriod.start_year.desc(),
            PartnershipRole.position,
            JointAim.position,
            JointAim.id,
        )
    )


def tenant_aim(aim_id: int) -> JointAim | None:
    """A joint aim the tenant in scope may read, or None; with its role, period and
    measures, which its page shows."""
    return db.session.scalar(
        linkable_aims()
        .where(JointAim.id == aim_id)
        .options(
            joinedload(JointAim.role).joinedload(PartnershipRole.period),
            selectinload(JointAim.measures),
        )
    )


def aims_for_commitments() -> dict[int, list[JointAim]]:
    """The joint aims each of the tenant's commitments serves, keyed by commitment id."""
    links: dict[int, list[JointAim]] = {}
    rows = db.session.execute(
        select(CommitmentJointAim.commitment_id, JointAim)
        .join(JointAim, JointAim.id == CommitmentJointAim.joint_aim_id)
        .join(JointAim.role)
        .order_by(PartnershipRole.position, JointAim.position)
    )
    for commitment_id, aim in rows:
        links.setdefault(commitment_id, []).append(aim)
    return links


def linked_aim_ids(commitment_id: int) -> list[int]:
    """The ids of the joint aims a commitment of the tenant in scope serves."""
    return list(
        db.session.scalars(
            select(CommitmentJointAim.joint_aim_id).where(
                CommitmentJointAim.commitment_id == commitment_id
            )
        )
    )


def commitments_serving(aim: JointAim):
    """The tenant in scope's commitments linked to ``aim``, in order, as a select()."""
    from portal.commitments.models import Commitment

    return (
        select(Commitment)
        .join(CommitmentJointAim, CommitmentJointAim.commitment_id == Commitment.id)
        .where(CommitmentJointAim.joint_aim_id == aim.id)
        .order_by(Commitment.position)
    )


# --- linking commitments ----------------------------------------------------------------


def check_linkable(aim_ids) -> set[int]:
    """The ids, if the tenant in scope may link to every one of them; else LinkError."""
    parsed = [parse_id(i) for i in aim_ids or []]
    if None in parsed:
        raise LinkError("joint_aims", "Choose only joint aims of your own partnerships")
    wanted = set(parsed)
    if not wanted:
        return wanted
    allowed = set(
        db.session.scalars(
            linkable_aims().where(JointAim.id.in_(wanted)).with_only_columns(JointAim.id)
        )
    )
    if wanted - allowed:
        raise LinkError("joint_aims", "Choose only joint aims of your own partnerships")
    return wanted


def set_commitment_aims(commitment, aim_ids) -> bool:
    """Make ``commitment`` serve exactly these joint aims. Returns True if links changed.

    Validates first (:func:`check_linkable`) and writes nothing when refused. The
    caller audits and commits, with the rest of the commitment's change.
    """
    wanted = check_linkable(aim_ids)
    current = set(linked_aim_ids(commitment.id)) if commitment.id else set()
    if wanted == current:
        return False
    removed = current - wanted
    if removed:
        db.session.execute(
            delete(CommitmentJointAim).where(
                CommitmentJointAim.commitment_id == commitment.id,
                CommitmentJointAim.joint_aim_id.in_(removed),
            )
        )
    for aim_id in sorted(wanted - current):
        db.session.add(CommitmentJointAim(commitment_id=commitment.id, joint_aim_id=aim_id))
    return True


# --- plan periods ------------------------------------------------------------------------


def _check_years(start_year: int, end_year: int) -> None:
    if not FIRST_YEAR <= start_year <= LAST_YEAR:
        raise Invalid("start_year", f"Start year must be between {FIRST_YEAR} and {LAST_YEAR}")
    if not start_year < end_year <= start_year + 10:
        raise Invalid(
            "end_year",
            "End year must be after the start year, and no more than 10 years after it",
        )


def _check_unique_period(start_year: int, end_year: int, own_id=None):
    """Refuse a second period of the same years in the partnership in scope."""
    query = select(PlanPeriod.id).where(
        PlanPeriod.start_year == start_year,
        PlanPeriod.end_year == end_year,
    )
    if own_id is not None:
        query = query.where(PlanPeriod.id != own_id)
    if db.session.scalar(query) is not None:
        raise Invalid(
            "start_year", f"There is already a plan period for {start_year} to {end_year}"
        )


def create_period(
    partnership: Partnership,
    *,
    title: str,
    start_year: int,
    end_year: int,
    introduction: str = "",
    alternative_formats: str = "",
) -> PlanPeriod:
    """Start an empty plan period, as a draft that members do not see yet."""
    _check_years(start_year, end_year)
    _check_unique_period(start_year, end_year)
    now = clock.utcnow()
    period = PlanPeriod(
        title=title.strip(),
        start_year=start_year,
        end_year=end_year,
        introduction=introduction.strip(),
        alternative_formats=alternative_formats.strip(),
        is_draft=True,
        created_at=now,
        updated_at=now,
    )
    db.session.add(period)
    db.session.flush()
    _record("created", period, partnership=partnership.slug)
    db.session.commit()
    return period


def update_period(period: PlanPeriod, *, version: int, **fields) -> PlanPeriod:
    """Save a period's title, years, introduction and alternative formats note."""
    submitted = {k: v.strip() if isinstance(v, str) else v for k, v in fields.items()}
    check_version(period, version, submitted)
    _check_years(submitted["start_year"], submitted["end_year"])
    _check_unique_period(submitted["start_year"], submitted["end_year"], period.id)
    changed = [k for k, v in submitted.items() if getattr(period, k) != v]
    if not changed:
        return period
    for key in changed:
        setattr(period, key, submitted[key])
    period.updated_at = clock.utcnow()
    _record("updated", period, fields=changed)
    return commit_edit(period, submitted)


def publish_period(period: PlanPeriod) -> None:
    """Show a draft period to the partnership's member organisations."""
    if not period.is_draft:
        return
    period.is_draft = False
    period.updated_at = clock.utcnow()
    _record("published", period)
    db.session.commit()
    follow_period(period.partnership_id)


def follow_period(partnership_id: int) -> None:
    """Carry every member's measures into the partnership's current plan period."""
    from portal.monitoring import measures as monitoring

    partnership = db.session.get(Partnership, partnership_id)
    if current_period(partnership_id) is None:
        return
    for tenant in sorted(partnership.members, key=lambda t: t.id):
        # Each member's own change, made and audited under its own scope.
        with tenancy.tenant_scope(tenant):
            monitoring.follow_current_period(tenant)


def delete_period(period: PlanPeriod) -> None:
    """Delete a period and everything in it (links from commitments go with its aims)."""
    _record("deleted", period, title=period.title, years=period.label)
    db.session.delete(period)
    db.session.commit()


def copy_period(period: PlanPeriod, *, title: str, start_year: int, end_year: int) -> PlanPeriod:
    """Copy a period's whole framework into a new draft period for the given years."""
    _check_years(start_year, end_year)
    _check_unique_period(start_year, end_year)
    now = clock.utcnow()
    copy = PlanPeriod(
        title=title.strip(),
        start_year=start_year,
        end_year=end_year,
        introduction=period.introduction,
        alternative_formats=period.alternative_formats,
        is_draft=True,
        is_demo=period.is_demo,
        source=f"Copied from {period.title} ({period.label})"[:300],
        created_at=now,
        updated_at=now,
    )
    for role in period.roles:
        new_role = PartnershipRole(position=role.position, name=role.name, lead_in=role.lead_in)
        new_role.items = [RoleListItem(position=i.position, text=i.text) for i in role.items]
        for aim in role.aims:
            new_aim = JointAim(position=aim.position, text=aim.text)
            new_aim.measures = [AimMeasure(position=m.position, text=m.text) for m in aim.measures]
            new_role.aims.append(new_aim)
        copy.roles.append(new_role)
    copy.statements = [
        PeriodStatement(section=s.section, position=s.position, text=s.text)
        for s in period.statements
    ]
    db.session.add(copy)
    db.session.flush()
    _record("copied", copy, copied_from=period.id, years=copy.label)
    db.session.commit()
    return copy


# --- roles, list items, aims, measures, statements ----------------------------------------


def _siblings(obj) -> list:
    if isinstance(obj, PartnershipRole):
        return obj.period.roles
    if isinstance(obj, RoleListItem):
        return obj.role.items
    if isinstance(obj, JointAim):
        return obj.role.aims
    if isinstance(obj, AimMeasure):
        return obj.aim.measures
    return obj.period.statements_in(obj.section)


def _next_position(rows) -> int:
    return max((r.position for r in rows), default=0) + 1


def _add(obj, parent_collection) -> None:
    obj.position = _next_position(parent_collection)
    parent_collection.append(obj)
    db.session.flush()
    _record("created", obj)
    db.session.commit()


def add_role(period: PlanPeriod, *, name: str, lead_in: str = "") -> PartnershipRole:
    """Add a role at the end of a period's roles."""
    role = PartnershipRole(name=name.strip(), lead_in=lead_in.strip())
    _add(role, period.roles)
    return role


def add_list_item(role: PartnershipRole, text: str) -> RoleListItem:
    """Add an entry at the end of a role's "by:" list."""
    item = RoleListItem(text=text.strip())
    _add(item, role.items)
    return item


def add_aim(role: PartnershipRole, text: str) -> JointAim:
    """Add a joint aim at the end of a role's aims."""
    aim = JointAim(text=text.strip())
    _add(aim, role.aims)
    return aim


def add_measure(aim: JointAim, text: str) -> AimMeasure:
    """Add a measure at the end of an aim's "How will we measure our results?"."""
    measure = AimMeasure(text=text.strip())
    _add(measure, aim.measures)
    return measure


def add_statement(period: PlanPeriod, section: str, text: str) -> PeriodStatement:
    """Add a statement at the end of its section."""
    if section not in STATEMENT_SECTIONS:
        raise Invalid("section", "Choose which list the statement belongs to")
    statement = PeriodStatement(
        section=section,
        text=text.strip(),
        position=_next_position(period.statements_in(section)),
    )
    period.statements.append(statement)
    db.session.flush()
    _record("created", statement)
    db.session.commit()
    return statement


def update(obj, *, version: int, **fields):
    """Save the text fields of a role, list item, aim, measure or statement."""
    submitted = {k: v.strip() for k, v in fields.items()}
    check_version(obj, version, submitted)
    changed = [k for k, v in submitted.items() if getattr(obj, k) != v]
    if not changed:
        return obj
    for key in changed:
        setattr(obj, key, submitted[key])
    _record("updated", obj, fields=changed)
    return commit_edit(obj, submitted)


def delete_part(obj) -> None:
    """Delete a role, list item, aim, measure or statement, and close up the numbering."""
    siblings = [s for s in _siblings(obj) if s is not obj]
    _record("deleted", obj, text=(getattr(obj, "text", None) or obj.name)[:200])
    db.session.delete(obj)
    ordering.renumber(siblings)
    db.session.commit()


def move(obj, direction: str) -> None:
    """Move a role, list item, aim, measure or statement up or down one place."""
    if not ordering.move(_siblings(obj), obj, direction):
        return
    _record("moved", obj, direction=direction)
    db.session.commit()
