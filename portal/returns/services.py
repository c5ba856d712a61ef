"""The rules of the reporting cycle: reporting years, returns, sign-off and reopening.

The report builder reads only :func:`signed_off_returns` and
:func:`members_without_return`: signed-off snapshots, never a draft.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime

from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from portal import audit, clock
from portal.aims.models import PlanPeriod
from portal.auth.services import password_hasher
from portal.editing import EditConflict, commit_edit
from portal.extensions import db
from portal.monitoring.models import MeasureDefinition
from portal.partners.models import Partnership, Tenant
from portal.returns import sections, sources
from portal.returns.models import (
    AWAITING_SIGN_OFF,
    DRAFT,
    IMAGE_MAX_BYTES,
    IMAGE_TYPES,
    SECTIONS,
    SIGNED_OFF,
    AnnualReturn,
    CaseStudy,
    DeadlineExtension,
    ReportingYear,
    ReturnReminder,
    ReturnReopening,
    ReturnSection,
    ReturnSignOff,
    ReturnSnapshot,
    SnapshotImage,
    parse_year_label,
    year_label,
)
from portal.tenancy import across_tenants, tenant_scope


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


class ReturnsError(ValueError):
    """A request about a return or a reporting year that cannot be met: ``errors`` maps
    form fields to messages in the users' words."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(next(iter(errors.values())))
        self.errors = errors


# --- reporting years (the partnership's) -------------------------------------------------


def years_for(partnership: Partnership) -> list[ReportingYear]:
    return list(
        db.session.scalars(
            select(ReportingYear)
            .where(ReportingYear.partnership_id == partnership.id)
            .order_by(ReportingYear.start_year.desc())
        )
    )


def find_year(partnership: Partnership, label: str) -> ReportingYear | None:
    start = parse_year_label(label or "")
    if start is None:
        return None
    return db.session.scalar(
        select(ReportingYear).where(
            ReportingYear.partnership_id == partnership.id, ReportingYear.start_year == start
        )
    )


def current_period(partnership: Partnership, start_year: int) -> PlanPeriod | None:
    """The published plan period covering the reporting year, or else the latest one."""
    rows = list(
        db.session.scalars(
            select(PlanPeriod)
            .where(PlanPeriod.partnership_id == partnership.id, PlanPeriod.is_draft.is_(False))
            .order_by(PlanPeriod.start_year.desc())
        )
    )
    covering = [p for p in rows if p.start_year <= start_year <= p.end_year]
    return (covering or rows or [None])[0]


def _covered(partnership: Partnership, period: PlanPeriod | None, start_year: int):
    aim_ids = [a.id for role in (period.roles if period else []) for a in role.aims]
    measure_ids = []
    for d in db.session.scalars(
        select(MeasureDefinition).where(MeasureDefinition.partnership_id == partnership.id)
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
    errors = {}
    if start_year is None or not 2000 <= start_year <= 2098:
        errors["start_year"] = "Choose the reporting year"
    elif db.session.scalar(
        select(ReportingYear.id).where(
            ReportingYear.partnership_id == partnership.id,
            ReportingYear.start_year == start_year,
        )
    ):
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
        raise ReturnsError(errors)
    period = current_period(partnership, start_year)
    aim_ids, measure_ids = _covered(partnership, period, start_year)
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
            _mail(member, year, "opened", user=user)
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
        raise ReturnsError(errors)
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


def _state(ret: AnnualReturn | None) -> tuple[str, datetime | None]:
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


def member_statuses(year: ReportingYear, today: date | None = None) -> list[MemberStatus]:
    """Every member's return for the lead: its status, deadline and last activity. Only
    these facts about a draft cross the wall (each member's trail records the look);
    its content never does."""
    today = today or clock.utcnow().date()
    members = sorted(year.partnership.members, key=lambda t: t.name.lower())
    extensions = extensions_for(year)
    snapshots = _current_snapshots(year)
    states: dict[int, tuple[str, datetime | None]] = {}
    for member in across_tenants(members, purpose=f"status of returns {year.label}"):
        ret = db.session.scalar(
            select(AnnualReturn).where(AnnualReturn.reporting_year_id == year.id)
        )
        states[member.id] = _state(ret)
    out = []
    for member in members:
        extension = extensions.get(member.id)
        deadline = extension.deadline if extension else year.deadline
        state, last = states[member.id]
        snapshot = snapshots.get(member.id)
        if snapshot is not None and (last is None or snapshot.signed_off_at > last):
            last = snapshot.signed_off_at
        out.append(
            MemberStatus(
                member, lead_status(state, deadline, today), deadline, extension, last, snapshot
            )
        )
    return out


def member_of(year: ReportingYear, slug: str) -> Tenant | None:
    return next((t for t in year.partnership.members if t.slug == slug), None)


def remind_by_hand(year: ReportingYear, tenant: Tenant, *, user=None) -> None:
    """A reminder sent by the lead: to the officers, or to the chief executive when the
    return waits for them."""
    with tenant_scope(tenant):
        ret = return_for(year)
        state, _ = _state(ret)
        if state == SIGNED_OFF:
            raise ReturnsError({"member": f"{tenant.name} has already signed off its return"})
        audit.record(
            "return.reminded",
            ret,
            user=user,
            object_type="AnnualReturn",
            detail={"year": year.label, "by": "hand", "partnership": year.partnership.slug},
        )
        db.session.commit()
    kind = "reminder to sign off" if state == AWAITING_SIGN_OFF else "reminder"
    _mail(tenant, year, kind, user=user)


# --- a member's return -----------------------------------------------------------------------


def years_for_tenant(tenant: Tenant) -> list[ReportingYear]:
    ids = [p.id for p in tenant.partnerships]
    return list(
        db.session.scalars(
            select(ReportingYear)
            .where(ReportingYear.partnership_id.in_(ids or [0]))
            .order_by(ReportingYear.start_year.desc())
        )
    )


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
        raise ReturnsError(
            {"return": "This return has been sent for sign-off and cannot be changed"}
        )
    year = ret.reporting_year
    problems = sections.problems(key, answers, year, drawn(key, year, ret))
    section = ret.section(key)
    now = clock.utcnow()
    if section is None:
        if version not in (None, 0):
            # Opened when the section had been saved by nobody: somebody saved first.
            raise EditConflict(None, answers)
        section = ReturnSection(return_id=ret.id, key=key, answers={}, updated_at=now)
        ret.sections.append(section)
    elif version is None or version != section.version:
        raise EditConflict(section, answers)
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


# --- case studies -------------------------------------------------------------------------

IMAGE_SIGNATURES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}


def image_type(data: bytes) -> str | None:
    """The image's type from its first bytes (PNG or JPEG), whatever its name says."""
    return next((t for sig, t in IMAGE_SIGNATURES.items() if data.startswith(sig)), None)


def save_case_study(
    ret: AnnualReturn,
    row: CaseStudy | None,
    *,
    title: str,
    text: str,
    image: bytes | None,
    image_alt: str,
    remove_image: bool = False,
    version: int | None = None,
    user=None,
) -> CaseStudy:
    """Add or change a case study. An image must be PNG or JPEG, at most 2 MB, with alt
    text that says what it shows."""
    if not ret.is_editable:
        raise ReturnsError(
            {"title": "This return has been sent for sign-off and cannot be changed"}
        )
    title, text, image_alt = (title or "").strip(), (text or "").strip(), (image_alt or "").strip()
    errors = {}
    if not title:
        errors["title"] = "Enter a title for the case study"
    elif len(title) > 200:
        errors["title"] = "The title must be 200 characters or fewer"
    if not text:
        errors["text"] = "Enter the case study"
    elif len(text) > sections.NARRATIVE_MAX:
        errors["text"] = f"The case study must be {sections.NARRATIVE_MAX:,} characters or fewer"
    kind = None
    if image:
        kind = image_type(image)
        if len(image) > IMAGE_MAX_BYTES:
            errors["image"] = "The image must be smaller than 2 MB"
        elif kind not in IMAGE_TYPES:
            errors["image"] = "The image must be a PNG or JPEG"
    has_image = bool(image) or (row is not None and row.image is not None and not remove_image)
    if has_image and not image_alt:
        errors["image_alt"] = "Describe the image for people who cannot see it"
    elif len(image_alt) > 500:
        errors["image_alt"] = "The description of the image must be 500 characters or fewer"
    if errors:
        raise ReturnsError(errors)
    now = clock.utcnow()
    if row is None:
        row = CaseStudy(
            return_id=ret.id,
            position=len(ret.case_studies) + 1,
            title=title,
            text=text,
            updated_at=now,
        )
        ret.case_studies.append(row)
        action = "return.case_study_added"
    else:
        if version is None or version != row.version:
            raise EditConflict(row, {"title": title, "text": text, "image_alt": image_alt})
        row.title, row.text = title, text
        action = "return.case_study_changed"
    if image:
        row.image, row.image_type = image, kind
    elif remove_image:
        row.image, row.image_type = None, ""
    row.image_alt = image_alt if row.image is not None else ""
    row.updated_at = now
    ret.updated_at = now
    db.session.flush()
    audit.record(action, row, user=user, detail={"year": ret.reporting_year.label, "title": title})
    commit_edit(row, {"title": title, "text": text, "image_alt": image_alt})
    return row


def delete_case_study(ret: AnnualReturn, row: CaseStudy, *, user=None) -> None:
    if not ret.is_editable:
        raise ReturnsError(
            {"title": "This return has been sent for sign-off and cannot be changed"}
        )
    audit.record(
        "return.case_study_removed",
        row,
        user=user,
        detail={"year": ret.reporting_year.label, "title": row.title},
    )
    ret.case_studies.remove(row)
    ret.updated_at = clock.utcnow()
    db.session.commit()


# --- sign-off ------------------------------------------------------------------------------

SIGN_OFF_STATEMENT = (
    "I have read this return. To the best of my knowledge it is accurate and complete, and "
    "I sign it off on behalf of the organisation for publication in the partnership's joint "
    "annual report."
)


def send_for_sign_off(ret: AnnualReturn, *, user=None, notify: bool = True) -> None:
    """Send a complete return to the chief executive, who is emailed."""
    if ret.status != DRAFT:
        raise ReturnsError({"return": "This return has already been sent for sign-off"})
    unfinished = [t.title for t in tasks(ret)[:-1] if t.status != COMPLETED_TASK]
    if unfinished:
        raise ReturnsError({"return": "Complete every section first: " + ", ".join(unfinished)})
    ret.status = AWAITING_SIGN_OFF
    ret.sent_for_sign_off_at = clock.utcnow()
    ret.sent_for_sign_off_by_id = getattr(user, "id", None)
    ret.updated_at = ret.sent_for_sign_off_at
    audit.record(
        "return.sent_for_sign_off", ret, user=user, detail={"year": ret.reporting_year.label}
    )
    db.session.commit()
    if notify:
        tenant = db.session.get(Tenant, ret.tenant_id)
        _mail(tenant, ret.reporting_year, "sent for sign-off", user=user)


def send_back(ret: AnnualReturn, *, comments: str, user=None) -> None:
    """The chief executive returns it to the officers with comments."""
    comments = (comments or "").strip()
    if ret.status != AWAITING_SIGN_OFF:
        raise ReturnsError({"comments": "This return is not waiting for sign-off"})
    if not comments:
        raise ReturnsError({"comments": "Enter what needs to change before you can sign off"})
    if len(comments) > 5000:
        raise ReturnsError({"comments": "Your comments must be 5,000 characters or fewer"})
    ret.status = DRAFT
    ret.sent_back_comments = comments
    ret.sent_back_at = clock.utcnow()
    ret.updated_at = ret.sent_back_at
    audit.record(
        "return.sent_back",
        ret,
        user=user,
        detail={"year": ret.reporting_year.label, "comments": comments},
    )
    db.session.commit()
    tenant = db.session.get(Tenant, ret.tenant_id)
    _mail(tenant, ret.reporting_year, "sent back", user=user, detail=comments)


def check_password(user, password: str) -> bool:
    hasher = password_hasher()
    try:
        return bool(user.password_hash) and hasher.verify(user.password_hash, password or "")
    except (VerificationError, InvalidHashError):
        return False


def sign_off(
    ret: AnnualReturn,
    *,
    user,
    password: str,
    confirmed: bool,
    name: str,
    role: str,
) -> ReturnSnapshot:
    """Sign off: freeze the return as an immutable snapshot with its SHA-256, and release
    its counts once (trigger "sign-off"). Nothing is released unless every check passes."""
    name, role = (name or "").strip(), (role or "").strip()
    errors = {}
    if ret.status != AWAITING_SIGN_OFF:
        errors["confirm"] = "This return is not waiting for sign-off"
    if not confirmed:
        errors["confirm"] = "Confirm the statement to sign off"
    if not name:
        errors["name"] = "Enter your name"
    elif len(name) > 200:
        errors["name"] = "Your name must be 200 characters or fewer"
    if not role:
        errors["role"] = "Enter your role, for example Chief Executive"
    elif len(role) > 200:
        errors["role"] = "Your role must be 200 characters or fewer"
    if not password:
        errors["password"] = "Enter your password"  # noqa: S105 - a message
    elif not check_password(user, password):
        audit.record("return.sign_off_refused", ret, user=user, detail={"reason": "wrong password"})
        db.session.commit()
        errors["password"] = "The password is not right"  # noqa: S105 - a message
    if errors:
        raise ReturnsError(errors)
    return freeze(ret, user=user, name=name, role=role)


def freeze(ret: AnnualReturn, *, user, name: str, role: str) -> ReturnSnapshot:
    """The sign-off itself, once its checks have passed (:func:`sign_off`)."""
    year = ret.reporting_year
    now = clock.utcnow()
    signed = {
        "name": name,
        "role": role,
        "date": now.date().isoformat(),
        "statement": SIGN_OFF_STATEMENT,
    }
    content = build_content(ret, release=True, user=user, sign_off=signed)
    previous = db.session.scalar(
        select(func.max(ReturnSnapshot.version)).where(
            ReturnSnapshot.tenant_id == ret.tenant_id,
            ReturnSnapshot.reporting_year_id == year.id,
        )
    )
    snapshot = ReturnSnapshot(
        tenant_id=ret.tenant_id,
        reporting_year_id=year.id,
        version=(previous or 0) + 1,
        content=content,
        sha256=content_hash(content),
        signed_off_at=now,
        signed_off_by_name=name,
        signed_off_by_role=role,
    )
    db.session.add(snapshot)
    db.session.flush()
    for position, study in enumerate(ret.case_studies, start=1):
        if study.image is not None:
            db.session.add(
                SnapshotImage(
                    tenant_id=ret.tenant_id,
                    snapshot_id=snapshot.id,
                    position=position,
                    content_type=study.image_type,
                    data=study.image,
                )
            )
    db.session.add(
        ReturnSignOff(
            return_id=ret.id,
            snapshot_id=snapshot.id,
            user_id=getattr(user, "id", None),
            name=name,
            role=role,
            statement=SIGN_OFF_STATEMENT,
            signed_at=now,
        )
    )
    ret.status = SIGNED_OFF
    ret.updated_at = now
    audit.record(
        "return.signed_off",
        ret,
        user=user,
        detail={
            "year": year.label,
            "snapshot": snapshot.id,
            "version": snapshot.version,
            "sha256": snapshot.sha256,
            "name": name,
            "role": role,
        },
    )
    db.session.commit()
    return snapshot


def build_content(ret: AnnualReturn, **kwargs) -> dict:
    """The return as it will appear (see :mod:`portal.returns.content`)."""
    from portal.returns import content

    return content.build(ret, **kwargs)


def current_snapshot(year: ReportingYear, tenant: Tenant) -> ReturnSnapshot | None:
    return _current_snapshots(year).get(tenant.id)


def snapshot_image(snapshot: ReturnSnapshot, position: int) -> SnapshotImage | None:
    """The frozen image of the snapshot's case study at ``position`` (from 1)."""
    return db.session.scalar(
        select(SnapshotImage).where(
            SnapshotImage.snapshot_id == snapshot.id, SnapshotImage.position == position
        )
    )


def reopen(year: ReportingYear, tenant: Tenant, *, reason: str, user=None) -> ReturnReopening:
    """The lead reopens a signed-off return, with a reason: its snapshot is withdrawn and
    the return goes back to the officers, to be signed off again."""
    reason = (reason or "").strip()
    snapshot = current_snapshot(year, tenant)
    if snapshot is None:
        raise ReturnsError({"reason": f"{tenant.name} has no signed-off return to reopen"})
    if not reason:
        raise ReturnsError({"reason": "Enter the reason for reopening the return"})
    if len(reason) > 2000:
        raise ReturnsError({"reason": "The reason must be 2,000 characters or fewer"})
    row = ReturnReopening(
        snapshot_id=snapshot.id,
        reason=reason,
        reopened_at=clock.utcnow(),
        reopened_by_id=getattr(user, "id", None),
    )
    db.session.add(row)
    detail = {
        "partnership": year.partnership.slug,
        "year": year.label,
        "member": tenant.slug,
        "snapshot": snapshot.id,
        "version": snapshot.version,
        "reason": reason,
    }
    audit.record("return.reopened", row, user=user, tenant_id=None, detail=detail)
    with tenant_scope(tenant):
        ret = return_for(year)
        if ret is not None:
            ret.status = DRAFT
            ret.sent_back_comments = f"Reopened by the partnership: {reason}"
            ret.sent_back_at = row.reopened_at
            ret.updated_at = row.reopened_at
        audit.record("return.reopened", ret, user=user, object_type="AnnualReturn", detail=detail)
        db.session.commit()
    _mail(tenant, year, "reopened", user=user, detail=reason)
    return row


# --- reminders ------------------------------------------------------------------------------

REMINDER_DAYS = {"14 days": 14, "3 days": 3}
ESCALATION = "overdue"
# Years whose deadline passed longer ago than this are left alone by the reminders.
REMINDER_HORIZON_DAYS = 90


@dataclass
class ReminderReport:
    sent: list[tuple[str, str, str]] = field(default_factory=list)  # partnership, member, kind


def _due_kind(days_left: int) -> str | None:
    if days_left < 0:
        return ESCALATION
    if days_left <= REMINDER_DAYS["3 days"]:
        return "3 days"
    if days_left <= REMINDER_DAYS["14 days"]:
        return "14 days"
    return None


def send_reminders(today: date | None = None) -> ReminderReport:
    """Remind every member whose return is not signed off, 14 and 3 days before its
    deadline, and escalate an overdue return to its chief executive: each once per
    deadline (an extension earns fresh ones), whenever and however often this runs."""
    today = today or clock.utcnow().date()
    report = ReminderReport()
    years = db.session.scalars(select(ReportingYear).order_by(ReportingYear.id)).all()
    for year in years:
        extensions = extensions_for(year)
        for member in sorted(year.partnership.members, key=lambda t: t.id):
            extension = extensions.get(member.id)
            deadline = extension.deadline if extension else year.deadline
            if (today - deadline).days > REMINDER_HORIZON_DAYS:
                continue
            kind = _due_kind((deadline - today).days)
            if kind is None:
                continue
            with tenant_scope(member):
                ret = return_for(year)
                state, _ = _state(ret)
                if state == SIGNED_OFF or db.session.scalar(
                    select(ReturnReminder.id).where(
                        ReturnReminder.reporting_year_id == year.id,
                        ReturnReminder.kind == kind,
                        ReturnReminder.deadline == deadline,
                    )
                ):
                    continue
                db.session.add(
                    ReturnReminder(
                        reporting_year_id=year.id,
                        kind=kind,
                        deadline=deadline,
                        sent_at=clock.utcnow(),
                    )
                )
                audit.record(
                    "return.reminded",
                    ret,
                    object_type="AnnualReturn",
                    detail={"year": year.label, "kind": kind, "deadline": deadline.isoformat()},
                )
                try:
                    db.session.commit()
                except IntegrityError:
                    # Sent at the same moment by another run: once is enough.
                    db.session.rollback()
                    continue
            if kind == ESCALATION:
                mail_kind = "overdue"
            elif state == AWAITING_SIGN_OFF:
                mail_kind = "reminder to sign off"
            else:
                mail_kind = "reminder"
            _mail(member, year, mail_kind, detail=kind)
            report.sent.append((year.partnership.slug, member.slug, kind))
    return report


# --- mail ----------------------------------------------------------------------------------


def _mail(tenant: Tenant, year: ReportingYear, kind: str, *, user=None, detail: str = "") -> None:
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
