"""The rules of the reporting cycle: reporting years, the lead's view, each member's
return and its sections. Sign-off and reopening are in :mod:`portal.returns.signoff`,
case studies in :mod:`portal.returns.case_studies`, reminders in
:mod:`portal.returns.reminders`.

The report builder reads only :func:`signed_off_returns` and
:func:`members_without_return`: signed-off snapshots, never a draft.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Text, case, cast, distinct, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from portal import audit, clock, tenancy
from portal.aims.models import PlanPeriod
from portal.editing import EditConflict, Invalid, check_version, commit_edit
from portal.extensions import db
from portal.monitoring.models import MeasureDefinition
from portal.partners.models import Partnership, Tenant
from portal.returns import sections, sources
from portal.returns.models import (
    AWAITING_SIGN_OFF,
    DRAFT,
    SECTIONS,
    SIGNED_OFF,
    AnnualReturn,
    CaseStudy,
    DeadlineExtension,
    ReportingYear,
    ReturnReopening,
    ReturnSection,
    ReturnSnapshot,
    SnapshotImage,
    parse_year_label,
    year_label,
)
from portal.tenancy import tenant_scope


def content_hash(content: dict) -> str:
    """The SHA-256 of a snapshot's content as canonical JSON (sorted keys, no spaces)."""
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _current_snapshots(reporting_year: ReportingYear) -> dict[int, ReturnSnapshot]:
    """The snapshot in force for each member that has one, by tenant id."""
    withdrawn = select(ReturnReopening.snapshot_id)
    rows = db.session.scalars(
        select(ReturnSnapshot)
        .where(
            ReturnSnapshot.reporting_year_id == reporting_year.id,
            ReturnSnapshot.id.not_in(withdrawn),
        )
        .options(selectinload(ReturnSnapshot.tenant))
        .order_by(ReturnSnapshot.tenant_id, ReturnSnapshot.version)
    )
    return {row.tenant_id: row for row in rows}


def signed_off_returns(reporting_year: ReportingYear) -> list[ReturnSnapshot]:
    """The signed-off returns of the year's members: each member's snapshot in force
    (signed off and not reopened since), in the members' name order.

    Only snapshots are read: a draft never crosses the wall, and no member's scope is
    needed. Each member's content is in ``snapshot.content`` (the structure is documented
    on :class:`ReturnSnapshot`), its hash in ``snapshot.sha256``. The read is recorded in
    the partnership's (portal-level) trail.
    """
    members = {t.id: t for t in reporting_year.partnership.members}
    found = [s for tid, s in _current_snapshots(reporting_year).items() if tid in members]
    found.sort(key=lambda s: s.tenant.name.lower())
    audit.record(
        "returns.read_signed_off",
        reporting_year,
        tenant_id=None,
        detail={
            "partnership": reporting_year.partnership.slug,
            "year": reporting_year.label,
            "returns": [f"{s.tenant.slug} v{s.version}" for s in found],
        },
    )
    db.session.commit()
    return found


def members_without_return(reporting_year: ReportingYear) -> list[Tenant]:
    """The year's members with no signed-off return in force, in name order: the report
    names them as not having submitted by the deadline."""
    signed = _current_snapshots(reporting_year)
    members = [t for t in reporting_year.partnership.members if t.id not in signed]
    return sorted(members, key=lambda t: t.name.lower())


# --- errors -----------------------------------------------------------------------------


class ReturnsError(Invalid):
    """A request about a return or a reporting year that cannot be met (several fields at
    once: ``of``)."""


# --- reporting years (the partnership's) -------------------------------------------------


def _in_scope(partnership: Partnership) -> None:
    """Refuse to work for a partnership that is not the one in scope: reporting years are
    partnership-owned, and the scope (its lead's page, or ``partnership_scope`` in
    commands and jobs) is what keeps one partnership's years from another's."""
    if tenancy.visible_partnership_ids() != frozenset({partnership.id}):
        raise tenancy.PartnershipNotSet(
            f"the reporting years of {partnership.slug} were used outside its scope"
        )


def years_for(partnership: Partnership) -> list[ReportingYear]:
    """The partnership's reporting years, newest first (inside its scope)."""
    _in_scope(partnership)
    return list(db.session.scalars(select(ReportingYear).order_by(ReportingYear.start_year.desc())))


def find_year(partnership: Partnership, label: str) -> ReportingYear | None:
    """The partnership's reporting year with this label, or None.

    Only years visible in the scope are found; the partnership chooses among them (a
    member's page sees the years of each of its partnerships)."""
    start = parse_year_label(label or "")
    if start is None:
        return None
    return db.session.scalar(
        select(ReportingYear).where(
            ReportingYear.partnership_id == partnership.id, ReportingYear.start_year == start
        )
    )


def current_period(partnership: Partnership, start_year: int) -> PlanPeriod | None:
    """The partnership's published plan period covering the reporting year, or else its
    latest one (inside its scope)."""
    _in_scope(partnership)
    rows = list(
        db.session.scalars(
            select(PlanPeriod)
            .where(PlanPeriod.is_draft.is_(False))
            .order_by(PlanPeriod.start_year.desc())
        )
    )
    covering = [p for p in rows if p.start_year <= start_year < p.end_year]
    return (covering or rows or [None])[0]


def _covered(period: PlanPeriod | None, start_year: int):
    aim_ids = [a.id for role in (period.roles if period else []) for a in role.aims]
    measure_ids = []
    # The partnership's joint measures (the scope holds only its own), not the built-in ones.
    for d in db.session.scalars(
        select(MeasureDefinition).where(MeasureDefinition.partnership_id.is_not(None))
    ):
        years_ok = (d.first_year or start_year) <= start_year <= (d.last_year or start_year)
        aim_ok = d.aim_measure is None or d.aim_measure.aim_id in aim_ids
        if years_ok and aim_ok:
            measure_ids.append(d.id)
    return aim_ids, sorted(measure_ids)


def open_year(
    partnership: Partnership,
    *,
    start_year: int | None,
    deadline: date | None,
    publication_target: date | None,
    user=None,
    is_demo: bool = False,
    notify: bool = True,
) -> ReportingYear:
    """Open a reporting year for the partnership's returns, covering the joint aims and
    measures of its current plan period, and email each member's officers and chief
    executive the deadline."""
    _in_scope(partnership)
    errors = {}
    if start_year is None or not 2000 <= start_year <= 2098:
        errors["start_year"] = "Choose the reporting year"
    elif db.session.scalar(select(ReportingYear.id).where(ReportingYear.start_year == start_year)):
        errors["start_year"] = f"{year_label(start_year)} is already open"
    if deadline is None:
        errors["deadline"] = "Enter the deadline for returns"
    elif start_year is not None and deadline < date(start_year, 4, 2):
        errors["deadline"] = "The deadline must be after the reporting year starts"
    if publication_target is None:
        errors["publication_target"] = "Enter the target publication date"
    elif deadline is not None and publication_target < deadline:
        errors["publication_target"] = "The target publication date must be after the deadline"
    if errors:
        raise ReturnsError.of(errors)
    period = current_period(partnership, start_year)
    aim_ids, measure_ids = _covered(period, start_year)
    year = ReportingYear(
        partnership_id=partnership.id,
        start_year=start_year,
        deadline=deadline,
        publication_target=publication_target,
        period_id=period.id if period else None,
        aim_ids=aim_ids,
        measure_ids=measure_ids,
        is_demo=is_demo,
        opened_at=clock.utcnow(),
        opened_by_id=getattr(user, "id", None),
    )
    db.session.add(year)
    db.session.flush()
    audit.record(
        "reporting_year.opened",
        year,
        user=user,
        tenant_id=None,
        detail={
            "partnership": partnership.slug,
            "year": year.label,
            "deadline": deadline.isoformat(),
            "publication_target": publication_target.isoformat(),
            "joint_aims": len(aim_ids),
            "joint_measures": len(measure_ids),
        },
    )
    db.session.commit()
    if notify:
        for member in partnership.members:
            queue_mail(member, year, "opened", user=user)
    return year


def extensions_for(year: ReportingYear) -> dict[int, DeadlineExtension]:
    """The extension in force for each member that has one (the newest)."""
    rows = db.session.scalars(
        select(DeadlineExtension)
        .where(DeadlineExtension.reporting_year_id == year.id)
        .order_by(DeadlineExtension.granted_at, DeadlineExtension.id)
    )
    return {row.tenant_id: row for row in rows}


def deadline_for(year: ReportingYear, tenant: Tenant) -> date:
    extension = extensions_for(year).get(tenant.id)
    return extension.deadline if extension else year.deadline


def extend_deadline(
    year: ReportingYear, tenant: Tenant, *, deadline: date | None, reason: str, user=None
) -> DeadlineExtension:
    """Give one member a later deadline, with a reason; recorded in the partnership's
    trail and the member's."""
    reason = (reason or "").strip()
    current = deadline_for(year, tenant)
    errors = {}
    if deadline is None:
        errors["deadline"] = "Enter the new deadline"
    elif deadline <= current:
        errors["deadline"] = f"The new deadline must be after {current:%-d %B %Y}"
    if not reason:
        errors["reason"] = "Enter the reason for the extension"
    elif len(reason) > 2000:
        errors["reason"] = "The reason must be 2,000 characters or fewer"
    if errors:
        raise ReturnsError.of(errors)
    row = DeadlineExtension(
        reporting_year_id=year.id,
        tenant_id=tenant.id,
        deadline=deadline,
        reason=reason,
        granted_at=clock.utcnow(),
        granted_by_id=getattr(user, "id", None),
    )
    db.session.add(row)
    db.session.flush()
    detail = {
        "partnership": year.partnership.slug,
        "year": year.label,
        "member": tenant.slug,
        "from": current.isoformat(),
        "to": deadline.isoformat(),
        "reason": reason,
    }
    audit.record("return.deadline_extended", row, user=user, tenant_id=None, detail=detail)
    audit.record("return.deadline_extended", row, user=user, tenant_id=tenant.id, detail=detail)
    db.session.commit()
    return row


# --- the lead's view -----------------------------------------------------------------------

NOT_STARTED, IN_PROGRESS, OVERDUE = "not started", "in progress", "overdue"
LEAD_STATUS_TAGS = {
    NOT_STARTED: "govuk-tag--grey",
    IN_PROGRESS: "govuk-tag--light-blue",
    AWAITING_SIGN_OFF: "govuk-tag--yellow",
    SIGNED_OFF: "govuk-tag--green",
    OVERDUE: "govuk-tag--red",
}


@dataclass
class MemberStatus:
    tenant: Tenant
    status: str
    deadline: date
    extension: DeadlineExtension | None
    last_activity: datetime | None
    snapshot: ReturnSnapshot | None

    @property
    def tag(self) -> str:
        return LEAD_STATUS_TAGS[self.status]


def return_state(ret: AnnualReturn | None) -> tuple[str, datetime | None]:
    """A return's stored state as the lead's list names it, and its last activity."""
    if ret is None:
        return NOT_STARTED, None
    times = [ret.updated_at, *(s.updated_at for s in ret.sections)]
    last = max(t for t in times if t is not None)
    if ret.status == DRAFT and not any(s.answers or s.completed for s in ret.sections):
        return (NOT_STARTED if not ret.case_studies else IN_PROGRESS), last
    if ret.status == DRAFT:
        return IN_PROGRESS, last
    return ret.status, last


def lead_status(state: str, deadline: date, today: date) -> str:
    """Overdue is any return not signed off by its deadline (extension included)."""
    if state != SIGNED_OFF and today > deadline:
        return OVERDUE
    return state


def _states(year: ReportingYear, members: list[Tenant]) -> dict[int, tuple[str, datetime | None]]:
    """Each started return's state and last activity, by tenant id: one grouped query
    across the members (:func:`portal.tenancy.aggregate_across_tenants`), one audit event.

    Only the facts the lead's list shows are read: the stored status, whether anything
    has been written, and when. No answer, case study or figure leaves the member."""
    returns, sections_, studies = (
        AnnualReturn.__table__,
        ReturnSection.__table__,
        CaseStudy.__table__,
    )
    written = or_(
        sections_.c.completed.is_(True),
        cast(sections_.c.answers, Text).not_in(("{}", "null")),
    )
    statement = (
        select(
            returns.c.tenant_id,
            returns.c.status,
            returns.c.updated_at,
            func.max(sections_.c.updated_at),
            func.coalesce(func.sum(case((written, 1), else_=0)), 0),
            func.count(distinct(studies.c.id)),
        )
        .select_from(
            returns.outerjoin(sections_, sections_.c.return_id == returns.c.id).outerjoin(
                studies, studies.c.return_id == returns.c.id
            )
        )
        .where(returns.c.reporting_year_id == year.id)
        .group_by(returns.c.tenant_id, returns.c.status, returns.c.updated_at)
    )
    rows = tenancy.aggregate_across_tenants(
        statement,
        [m.id for m in members],
        purpose=f"status of returns {year.label}",
        about=year,
    )
    states = {}
    for tenant_id, status, updated_at, section_at, written_count, study_count in rows:
        last = max(t for t in (updated_at, section_at) if t is not None)
        if status == DRAFT:
            started = written_count or study_count
            status = IN_PROGRESS if started else NOT_STARTED
        states[tenant_id] = (status, last)
    return states


def member_statuses(year: ReportingYear, today: date | None = None) -> list[MemberStatus]:
    """Every member's return for the lead: its status, deadline and last activity. Only
    these facts about a draft cross the wall, read for all members at once; its content
    never does."""
    today = today or clock.utcnow().date()
    members = sorted(year.partnership.members, key=lambda t: t.name.lower())
    extensions = extensions_for(year)
    snapshots = _current_snapshots(year)
    states = _states(year, members)
    out = []
    for member in members:
        extension = extensions.get(member.id)
        deadline = extension.deadline if extension else year.deadline
        state, last = states.get(member.id, (NOT_STARTED, None))
        snapshot = snapshots.get(member.id)
        if snapshot is not None and (last is None or snapshot.signed_off_at > last):
            last = snapshot.signed_off_at
        out.append(
            MemberStatus(
                member, lead_status(state, deadline, today), deadline, extension, last, snapshot
            )
        )
    return out


@dataclass
class OwnReturn:
    """The tenant's own return for one reporting year, as its home page shows it."""

    year: ReportingYear
    status: str
    deadline: date
    last_activity: datetime | None

    @property
    def tag(self) -> str:
        return LEAD_STATUS_TAGS[self.status]


def own_returns(tenant: Tenant, today: date | None = None) -> list[OwnReturn]:
    """The tenant in scope's return for the newest reporting year of each of its
    partnerships, in the words of the lead's list (not started, in progress, awaiting
    sign-off, signed off, overdue), with its deadline and last activity."""
    today = today or clock.utcnow().date()
    newest: dict[int, ReportingYear] = {}
    for year in years_for_tenant(tenant):
        newest.setdefault(year.partnership_id, year)
    if not newest:
        return []
    years = sorted(newest.values(), key=lambda y: y.partnership.name.lower())
    started = {
        ret.reporting_year_id: ret
        for ret in db.session.scalars(
            select(AnnualReturn)
            .where(AnnualReturn.reporting_year_id.in_([y.id for y in years]))
            .options(selectinload(AnnualReturn.sections), selectinload(AnnualReturn.case_studies))
        )
    }
    extended = {
        row.reporting_year_id: row.deadline
        for row in db.session.scalars(
            select(DeadlineExtension)
            .where(
                DeadlineExtension.reporting_year_id.in_([y.id for y in years]),
                DeadlineExtension.tenant_id == tenant.id,
            )
            .order_by(DeadlineExtension.granted_at, DeadlineExtension.id)
        )
    }
    out = []
    for year in years:
        state, last = return_state(started.get(year.id))
        deadline = extended.get(year.id, year.deadline)
        out.append(OwnReturn(year, lead_status(state, deadline, today), deadline, last))
    return out


def member_of(year: ReportingYear, slug: str) -> Tenant | None:
    return next((t for t in year.partnership.members if t.slug == slug), None)


def remind_by_hand(year: ReportingYear, tenant: Tenant, *, user=None) -> None:
    """A reminder sent by the lead: to the officers, or to the chief executive when the
    return waits for them."""
    with tenant_scope(tenant):
        ret = return_for(year)
        state, _ = return_state(ret)
        if state == SIGNED_OFF:
            raise ReturnsError.of({"member": f"{tenant.name} has already signed off its return"})
        audit.record(
            "return.reminded",
            ret,
            user=user,
            object_type="AnnualReturn",
            detail={"year": year.label, "by": "hand", "partnership": year.partnership.slug},
        )
        db.session.commit()
    kind = "reminder to sign off" if state == AWAITING_SIGN_OFF else "reminder"
    queue_mail(tenant, year, kind, user=user)


# --- a member's return -----------------------------------------------------------------------


def years_for_tenant(tenant: Tenant) -> list[ReportingYear]:
    """The reporting years of the tenant's partnerships (its page's scope holds exactly
    those), newest first."""
    if tenancy.current_tenant_id() != tenant.id:
        raise tenancy.TenantNotSet("a tenant's reporting years were read outside its scope")
    return list(db.session.scalars(select(ReportingYear).order_by(ReportingYear.start_year.desc())))


def tenant_year(tenant: Tenant, partnership_slug: str, label: str) -> ReportingYear | None:
    """A reporting year of one of the tenant's partnerships, or None."""
    partnership = next((p for p in tenant.partnerships if p.slug == partnership_slug), None)
    return find_year(partnership, label) if partnership else None


def return_for(year: ReportingYear) -> AnnualReturn | None:
    """The tenant in scope's return for the year, if started."""
    return db.session.scalar(select(AnnualReturn).where(AnnualReturn.reporting_year_id == year.id))


def start_return(year: ReportingYear, *, is_demo: bool = False) -> AnnualReturn:
    """The tenant in scope's return for the year, made when first needed."""
    ret = return_for(year)
    if ret is not None:
        return ret
    now = clock.utcnow()
    ret = AnnualReturn(reporting_year_id=year.id, is_demo=is_demo, created_at=now, updated_at=now)
    db.session.add(ret)
    try:
        db.session.flush()
    except IntegrityError:
        # Started at the same moment by a colleague: theirs is the return.
        db.session.rollback()
        return return_for(year)
    audit.record("return.started", ret, detail={"year": year.label})
    db.session.commit()
    return ret


def drawn(key: str, year: ReportingYear, ret: AnnualReturn | None):
    """What the portal holds for a section, drawn from its source."""
    if key == "aims":
        return sources.aims_progress(year)
    if key == "commitments":
        return sources.commitments()
    if key == "measures":
        return sources.joint_measures(year)
    if key == "workforce":
        return sources.workforce(year)
    if key == "assessments":
        return sources.assessments(year)
    if key == "incidents":
        return sources.incident_tables(year)
    if key == "case_studies":
        return list(ret.case_studies) if ret else []
    return None


NOT_STARTED_TASK, IN_PROGRESS_TASK, COMPLETED_TASK, CANNOT_START = (
    "Not started",
    "In progress",
    "Completed",
    "Cannot start yet",
)


@dataclass
class Task:
    key: str
    title: str
    status: str
    hint: str = ""


def tasks(ret: AnnualReturn | None) -> list[Task]:
    """The task list: each section's status, then sending for sign-off."""
    out = []
    for key, title in SECTIONS.items():
        section = ret.section(key) if ret else None
        if section is None or (not section.answers and not section.completed):
            status = (
                IN_PROGRESS_TASK
                if key == "case_studies" and ret and ret.case_studies
                else (NOT_STARTED_TASK)
            )
        elif section.completed:
            status = COMPLETED_TASK
        else:
            status = IN_PROGRESS_TASK
        out.append(Task(key, title, status))
    ready = all(t.status == COMPLETED_TASK for t in out)
    if ret is not None and ret.status != DRAFT:
        send = COMPLETED_TASK
    else:
        send = NOT_STARTED_TASK if ready else CANNOT_START
    out.append(
        Task("send", "Send for sign-off", send, "" if ready else "Complete every section first")
    )
    return out


def save_section(
    ret: AnnualReturn, key: str, answers: dict, *, version: int | None, user=None
) -> tuple[ReturnSection, dict]:
    """Save a section's answers; it is complete only if they are valid. Returns the
    section and its problems. Raises :class:`EditConflict` if a colleague saved it since
    ``version``, and :class:`ReturnsError` once the return has left the officers."""
    if not ret.is_editable:
        raise ReturnsError.of(
            {"return": "This return has been sent for sign-off and cannot be changed"}
        )
    year = ret.reporting_year
    problems = sections.problems(key, answers, year, drawn(key, year, ret))
    section = ret.section(key)
    now = clock.utcnow()
    if section is None:
        if version != 0:
            # Opened when the section had been saved by nobody (version 0): somebody saved
            # first, or the form came back without the version it was opened at.
            raise EditConflict(None, answers)
        section = ReturnSection(return_id=ret.id, key=key, answers={}, updated_at=now)
        ret.sections.append(section)
    else:
        check_version(section, version, answers)
    section.answers = answers
    section.completed = not problems
    section.updated_at = now
    section.updated_by_id = getattr(user, "id", None)
    ret.updated_at = now
    audit.record(
        "return.section_saved",
        ret,
        user=user,
        detail={"year": year.label, "section": key, "complete": not problems},
    )
    try:
        commit_edit(section, answers, reload=lambda: ret.section(key))
    except IntegrityError:
        db.session.rollback()
        raise EditConflict(None, answers) from None
    return section, problems


def current_snapshot(year: ReportingYear, tenant: Tenant) -> ReturnSnapshot | None:
    return _current_snapshots(year).get(tenant.id)


def snapshot_image(snapshot: ReturnSnapshot, position: int) -> SnapshotImage | None:
    """The frozen image of the snapshot's case study at ``position`` (from 1)."""
    return db.session.scalar(
        select(SnapshotImage).where(
            SnapshotImage.snapshot_id == snapshot.id, SnapshotImage.position == position
        )
    )


def snapshot_images(snapshots: list[ReturnSnapshot]) -> dict[int, list[SnapshotImage]]:
    """The frozen case study images of several snapshots, by snapshot id, in one query
    (signed-off snapshots and their images are readable by the partnership)."""
    ids = [s.id for s in snapshots]
    found: dict[int, list[SnapshotImage]] = {i: [] for i in ids}
    if ids:
        for image in db.session.scalars(
            select(SnapshotImage)
            .where(SnapshotImage.snapshot_id.in_(ids))
            .order_by(SnapshotImage.position)
        ):
            found[image.snapshot_id].append(image)
    return found


# --- mail ----------------------------------------------------------------------------------


def queue_mail(
    tenant: Tenant, year: ReportingYear, kind: str, *, user=None, detail: str = ""
) -> None:
    """Queue one email job about a member's return; the job finds the people."""
    from portal.jobs.services import enqueue
    from portal.jobs.tasks import RETURN_MAIL

    enqueue(
        RETURN_MAIL,
        title=f"Email about the {year.label} return: {kind}",
        tenant_id=tenant.id,
        requested_by=user,
        reporting_year_id=year.id,
        kind=kind,
        detail=detail,
    )
