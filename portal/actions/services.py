"""The rules for an organisation's objectives, actions and progress; every change is audited.

Routes call these functions; they validate again whatever a form already checked (so a
crafted request cannot store an unknown status or another tenant's person), write,
record the change in the audit trail and commit.
"""

from __future__ import annotations

import calendar
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from portal import audit, clock, tenancy
from portal.actions.models import (
    ALL_CHARACTERISTICS,
    CHARACTERISTICS,
    CLOSED_STATUSES,
    PSED_AIMS,
    ROLES,
    STATUSES,
    Action,
    EvidenceChunk,
    FocusArea,
    FocusPoint,
    Objective,
    ProgressUpdate,
    tag,
)
from portal.auth.models import TenantGrant, User
from portal.editing import Invalid, check_version, commit_edit
from portal.extensions import db
from portal.forms import parse_id, with_prompt
from portal.models import limit

MAX_EVIDENCE_BYTES = 10 * 1024 * 1024
EVIDENCE_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "csv": "text/csv",
    "txt": "text/plain",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
}
EVIDENCE_TYPE_NAMES = "PDF, DOCX, XLSX, CSV, ODT, ODS, PNG, JPG or TXT"

ACTION_FIELDS = (
    "objective_id",
    "task",
    "arising_from",
    "lead_officer",
    "lead_user_id",
    "directorate",
    "section",
    "target_text",
    "status",
    "corporate_priority",
    "eflg_criteria",
    "psed_aims",
    "characteristics",
    "measures",
)


class ValidationError(Invalid):
    """Input the rules of the action plan refuse (several fields at once: ``of``)."""


# --- target dates ------------------------------------------------------------------------

_MONTHS = {name.lower(): number for number, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): number for number, name in enumerate(calendar.month_abbr) if name})
_MONTH_NAMES = "|".join(sorted(_MONTHS, key=len, reverse=True))
_DAY_MONTH_YEAR = re.compile(
    rf"^(\d{{1,2}})\s*(?:st|nd|rd|th)?\s+({_MONTH_NAMES})\.?\s+(\d{{4}})$", re.IGNORECASE
)
_MONTH_YEAR = re.compile(rf"^({_MONTH_NAMES})\.?\s+(\d{{4}})$", re.IGNORECASE)
_NUMERIC = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
BAD_DATE = (
    "Target date must be a real date, like 31 March 2026, or a period, like 2025/26, Ongoing or TBC"
)


def parse_target(text: str | None) -> date | None:
    """The date a target names, or None for a period ("2013/14", "Ongoing", "TBC").

    A month alone ("November 2017") means the end of that month. Text that looks like a
    date but is not one ("31 February 2026", "45/13/2026") is refused with ValueError.
    """
    text = " ".join((text or "").split())
    if not text:
        return None
    try:
        if match := _ISO.match(text):
            year, month, day = (int(g) for g in match.groups())
            return date(year, month, day)
        if match := _NUMERIC.match(text):
            day, month, year = (int(g) for g in match.groups())
            return date(year, month, day)
        if match := _DAY_MONTH_YEAR.match(text):
            day, month, year = match.groups()
            return date(int(year), _MONTHS[month.lower()], int(day))
        if match := _MONTH_YEAR.match(text):
            month, year = _MONTHS[match.group(1).lower()], int(match.group(2))
            return date(year, month, calendar.monthrange(year, month)[1])
    except ValueError:
        raise ValueError(BAD_DATE) from None
    if re.fullmatch(r"[\d\s/.-]+", text) and re.search(r"\d+[/.-]\d+[/.-]\d+", text):
        raise ValueError(BAD_DATE)
    return None


# --- reading -----------------------------------------------------------------------------


def focus_areas():
    """The current tenant's roles and focus areas in order, as a select()."""
    return (
        select(FocusArea)
        .options(selectinload(FocusArea.points))
        .order_by(FocusArea.position, FocusArea.id)
    )


def objectives(*, with_actions: bool = True):
    """The current tenant's objectives in order, as a select(); their actions too unless
    ``with_actions`` is false (a page that only counts them)."""
    # One query each for the headings and the actions, not one per objective.
    options = [selectinload(Objective.area), selectinload(Objective.point)]
    if with_actions:
        options.append(selectinload(Objective.actions).selectinload(Action.lead_user))
    return (
        select(Objective)
        .outerjoin(FocusArea, Objective.focus_area_id == FocusArea.id)
        .options(*options)
        .order_by(FocusArea.position.is_(None), FocusArea.position, Objective.position)
    )


def tenant_people(tenant_id: int | None = None) -> list[User]:
    """People with any role in the tenant, who may be named as an action's lead."""
    tenant_id = tenant_id or tenancy.current_tenant_id()
    query = (
        select(User)
        .join(TenantGrant, TenantGrant.user_id == User.id)
        .where(TenantGrant.tenant_id == tenant_id, User.disabled_at.is_(None))
        .distinct()
        .order_by(User.name)
    )
    return list(db.session.scalars(query))


@dataclass
class ActionFilters:
    """The filters of an action list, read from the query string."""

    status: str = ""
    owner: str = ""
    area: str = ""
    characteristic: str = ""
    overdue: bool = False
    aim: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_args(cls, args) -> ActionFilters:
        """Read filters; an unknown value is dropped, never an error page."""
        filters = cls(
            status=args.get("status", ""),
            owner=args.get("owner", ""),
            area=args.get("area", ""),
            characteristic=args.get("characteristic", ""),
            overdue=args.get("overdue") in {"1", "yes", "on", "true"},
            aim=args.get("aim", ""),
        )
        if filters.status not in {"", "none", *STATUSES}:
            filters.status = ""
        if filters.characteristic not in {"", *CHARACTERISTICS}:
            filters.characteristic = ""
        for name in ("owner", "area", "aim"):
            if parse_id(getattr(filters, name)) is None:
                setattr(filters, name, "")
        return filters

    def args(self) -> dict[str, str]:
        """The filters as query-string arguments, for links and exports."""
        values = {
            "status": self.status,
            "owner": self.owner,
            "area": self.area,
            "characteristic": self.characteristic,
            "overdue": "1" if self.overdue else "",
            "aim": self.aim,
        }
        return {k: v for k, v in values.items() if v}

    @property
    def active(self) -> bool:
        return bool(self.args())


def actions(filters: ActionFilters | None = None, *, lead_user_id: int | None = None):
    """The current tenant's actions in plan order, filtered, as a select()."""
    query = (
        select(Action)
        .join(Objective, Action.objective_id == Objective.id)
        .outerjoin(FocusArea, Objective.focus_area_id == FocusArea.id)
        .options(
            selectinload(Action.objective).selectinload(Objective.area),
            selectinload(Action.objective).selectinload(Objective.point),
            selectinload(Action.lead_user),
        )
        .order_by(
            FocusArea.position.is_(None),
            FocusArea.position,
            Objective.position,
            Action.position,
            Action.id,
        )
    )
    if lead_user_id is not None:
        query = query.where(Action.lead_user_id == lead_user_id)
    if filters is None:
        return query
    if filters.status == "none":
        query = query.where(Action.status.is_(None))
    elif filters.status:
        query = query.where(Action.status == filters.status)
    if filters.owner:
        query = query.where(Action.lead_user_id == int(filters.owner))
    if filters.area:
        query = query.where(Objective.focus_area_id == int(filters.area))
    if filters.characteristic:
        query = query.where(
            or_(
                Action.characteristic_tags.contains(tag(filters.characteristic)),
                Action.characteristic_tags.contains(tag(ALL_CHARACTERISTICS)),
            )
        )
    if filters.overdue:
        query = query.where(*overdue_criteria())
    if filters.aim:
        from portal.actions.models import ActionJointAim

        query = query.where(
            Action.id.in_(
                select(ActionJointAim.action_id).where(
                    ActionJointAim.joint_aim_id == int(filters.aim)
                )
            )
        )
    return query


def overdue_criteria(today: date | None = None) -> tuple:
    """Where-clauses for "overdue": target date passed, not complete or cancelled."""
    today = today or clock.utcnow().date()
    return (
        Action.target_date.is_not(None),
        Action.target_date < today,
        or_(Action.status.is_(None), Action.status.not_in(CLOSED_STATUSES)),
    )


def overdue_count(lead_user_id: int) -> int:
    """How many of this person's actions in the current tenant are overdue."""
    return db.session.scalar(
        select(func.count(Action.id)).where(
            Action.lead_user_id == lead_user_id, *overdue_criteria()
        )
    )


# --- objectives --------------------------------------------------------------------------


def area_choices() -> list[tuple[str, str]]:
    """Choices for "Role or focus area": the tenant's own, then standard roles it lacks."""
    areas = list(db.session.scalars(focus_areas()))
    choices = with_prompt("Choose a role or focus area", [(str(a.id), a.label) for a in areas])
    have = {a.role for a in areas if a.role}
    choices += [(f"role:{key}", label) for key, label in ROLES.items() if key not in have]
    return choices


def point_choices() -> list[tuple[str, str]]:
    points = db.session.scalars(
        select(FocusPoint)
        .join(FocusArea, FocusPoint.focus_area_id == FocusArea.id)
        .order_by(FocusArea.position, FocusPoint.position)
    )
    return with_prompt("Choose a focus point", [(str(p.id), p.label) for p in points])


def _resolve_area(choice: str | None) -> FocusArea | None:
    choice = (choice or "").strip()
    if not choice:
        return None
    if choice.startswith("role:"):
        key = choice[5:]
        if key not in ROLES:
            raise ValidationError.of({"area": "Choose a role or focus area from the list"})
        area = db.session.scalar(select(FocusArea).where(FocusArea.role == key))
        if area is None:
            position = (db.session.scalar(select(func.max(FocusArea.position))) or 0) + 1
            area = FocusArea(position=position, title=ROLES[key], role=key)
            db.session.add(area)
            db.session.flush()
            audit.record("focus_area.created", area)
        return area
    area_id = parse_id(choice)
    area = area_id and db.session.scalar(select(FocusArea).where(FocusArea.id == area_id))
    if area is None or not area_id:
        raise ValidationError.of({"area": "Choose a role or focus area from the list"})
    return area


def _resolve_point(choice: str | None, area: FocusArea | None) -> FocusPoint | None:
    choice = (choice or "").strip()
    if not choice:
        return None
    point_id = parse_id(choice)
    point = point_id and db.session.scalar(select(FocusPoint).where(FocusPoint.id == point_id))
    if not point:
        raise ValidationError.of({"point": "Choose a focus point from the list"})
    if area is not None and point.focus_area_id != area.id:
        raise ValidationError.of({"point": "Choose a focus point of the chosen focus area"})
    return point


def _check_choice(value: str | None) -> None:
    if value and not value.startswith("role:") and parse_id(value) is None:
        raise ValidationError.of({"area": "Choose a role or focus area from the list"})


def add_objective(title: str, area: str | None = None, point: str | None = None) -> Objective:
    """Add an objective at the end of its heading."""
    title = (title or "").strip()
    if not title:
        raise ValidationError.of({"title": "Enter the objective"})
    _check_choice(area)
    if point and parse_id(point) is None:
        raise ValidationError.of({"point": "Choose a focus point from the list"})
    try:
        focus_area = _resolve_area(area)
        focus_point = _resolve_point(point, focus_area)
        if focus_area is None and focus_point is not None:
            focus_area = focus_point.area
        position = (db.session.scalar(select(func.max(Objective.position))) or 0) + 1
        now = clock.utcnow()
        row = Objective(
            position=position,
            title=title,
            focus_area_id=focus_area.id if focus_area else None,
            focus_point_id=focus_point.id if focus_point else None,
            created_at=now,
            updated_at=now,
        )
        db.session.add(row)
        db.session.flush()
        audit.record("objective.created", row)
        db.session.commit()
    except ValidationError:
        db.session.rollback()
        raise
    return row


def update_objective(
    row: Objective, *, title: str, area: str | None, point: str | None, version: int
) -> Objective:
    """Save an edit made to ``version``; refuse it if somebody saved in between."""
    title = (title or "").strip()
    if not title:
        raise ValidationError.of({"title": "Enter the objective"})
    _check_choice(area)
    if point and parse_id(point) is None:
        raise ValidationError.of({"point": "Choose a focus point from the list"})
    submitted = {"title": title, "area": area or "", "point": point or ""}
    check_version(row, version, submitted)
    try:
        focus_area = _resolve_area(area)
        focus_point = _resolve_point(point, focus_area)
    except ValidationError:
        db.session.rollback()
        raise
    values = {
        "title": title,
        "focus_area_id": focus_area.id if focus_area else None,
        "focus_point_id": focus_point.id if focus_point else None,
    }
    changed = [k for k, v in values.items() if getattr(row, k) != v]
    if not changed:
        db.session.commit()
        return row
    for key in changed:
        setattr(row, key, values[key])
    row.updated_at = clock.utcnow()
    audit.record("objective.updated", row, detail={"fields": changed})
    return commit_edit(row, submitted)


def set_objective_published(row: Objective, published: bool) -> bool:
    """Show the objective on the organisation's public equality page, or stop showing it."""
    if row.is_published != published:
        row.is_published = published
        row.published_on = clock.utcnow().date() if published else None
        audit.record(
            "objective.published" if published else "objective.withdrawn",
            row,
            detail={"title": row.title[:200]},
        )
        db.session.commit()
    return row.is_published


def delete_objective(row: Objective) -> None:
    """Delete an objective that has no actions left."""
    if row.actions:
        raise ValidationError.of(
            {"objective": "This objective still has actions. Delete or move them first."}
        )
    audit.record("objective.deleted", row, detail={"title": row.title[:200]})
    db.session.delete(row)
    db.session.commit()


# --- actions -----------------------------------------------------------------------------

# An action's one-line fields: each is checked against its column's limit.
_SHORT_TEXTS = (
    "arising_from",
    "lead_officer",
    "directorate",
    "section",
    "target_text",
    "corporate_priority",
    "eflg_criteria",
)


def check_action(data: dict) -> dict:
    """The action form's rules on an action's fields, for other ways in (an import):
    the clean values, or ValidationError listing every problem."""
    return _clean_action(data)


def _clean_action(data: dict) -> dict:
    """Check and normalise an action's fields; raise ValidationError listing every problem."""
    errors: dict[str, str] = {}
    clean: dict = {}
    for name in ("task", *_SHORT_TEXTS, "measures"):
        clean[name] = (data.get(name) or "").strip()
    if not clean["task"]:
        errors["task"] = "Enter the action"
    for name in _SHORT_TEXTS:
        most = limit(getattr(Action, name))
        if len(clean[name]) > most:
            errors[name] = f"This must be {most} characters or fewer"
    try:
        clean["target_date"] = parse_target(clean["target_text"])
    except ValueError as exc:
        errors["target_text"] = str(exc)
    status = data.get("status") or None
    if status is not None and status not in STATUSES:
        errors["status"] = "Choose a status from the list"
    clean["status"] = status
    objective = None
    objective_id = parse_id(data.get("objective_id"))
    if objective_id is not None:
        objective = db.session.scalar(select(Objective).where(Objective.id == objective_id))
    if objective is None:
        errors["objective_id"] = "Choose the objective this action is for"
    clean["objective_id"] = objective.id if objective else None
    lead_user_id = data.get("lead_user_id") or None
    if lead_user_id is not None:
        lead_user_id = parse_id(lead_user_id) or -1
        if lead_user_id not in {p.id for p in tenant_people()}:
            errors["lead_user_id"] = "Choose a person from this organisation"
    clean["lead_user_id"] = lead_user_id
    aims = list(data.get("psed_aims") or [])
    if set(aims) - set(PSED_AIMS):
        errors["psed_aims"] = "Choose aims of the general duty from the list"
    clean["psed_aims"] = [a for a in PSED_AIMS if a in aims]
    characteristics = list(data.get("characteristics") or [])
    if set(characteristics) - {*CHARACTERISTICS, ALL_CHARACTERISTICS}:
        errors["characteristics"] = "Choose protected characteristics from the list"
    if ALL_CHARACTERISTICS in characteristics:
        clean["characteristics"] = [ALL_CHARACTERISTICS]
    else:
        clean["characteristics"] = [c for c in CHARACTERISTICS if c in characteristics]
    if "joint_aim_ids" in data:
        clean["joint_aim_ids"] = _clean_aims(data.get("joint_aim_ids"), errors)
    if errors:
        raise ValidationError.of(errors)
    return clean


def joint_aims_for_tenant() -> list:
    """Published joint aims of the current tenant's partnerships, as (aim, partnership):
    the partnership scope of a tenant's pages holds exactly its own partnerships."""
    from portal.aims.models import JointAim, PartnershipRole, PlanPeriod
    from portal.partners.models import Partnership

    if tenancy.current_tenant_id() is None:
        raise tenancy.TenantNotSet("joint aims for a tenant were read with no tenant in scope")
    query = (
        select(JointAim, Partnership)
        .join(PartnershipRole, JointAim.role_id == PartnershipRole.id)
        .join(PlanPeriod, PartnershipRole.period_id == PlanPeriod.id)
        .join(Partnership, JointAim.partnership_id == Partnership.id)
        .where(PlanPeriod.is_draft.is_(False))
        .order_by(
            Partnership.name,
            PlanPeriod.start_year.desc(),
            PartnershipRole.position,
            JointAim.position,
            JointAim.id,
        )
    )
    return [tuple(row) for row in db.session.execute(query)]


def _clean_aims(values, errors: dict) -> list[int]:
    ids: list[int] = []
    for value in values or []:
        aim_id = parse_id(value)
        if aim_id is not None:
            ids.append(aim_id)
        else:
            errors["joint_aim_ids"] = "Choose joint aims of your partnerships from the list"
            return []
    allowed = {aim.id for aim, _ in joint_aims_for_tenant()}
    if set(ids) - allowed:
        errors["joint_aim_ids"] = "Choose joint aims of your partnerships from the list"
        return []
    return sorted(set(ids))


def _set_aims(action: Action, aim_ids: list[int]) -> bool:
    from portal.actions.models import ActionJointAim

    current = set(
        db.session.scalars(
            select(ActionJointAim.joint_aim_id).where(ActionJointAim.action_id == action.id)
        )
    )
    wanted = set(aim_ids)
    if current == wanted:
        return False
    for link in db.session.scalars(
        select(ActionJointAim).where(
            ActionJointAim.action_id == action.id,
            ActionJointAim.joint_aim_id.in_(current - wanted),
        )
    ):
        db.session.delete(link)
    for aim_id in wanted - current:
        db.session.add(ActionJointAim(action_id=action.id, joint_aim_id=aim_id))
    return True


def joint_aim_links(actions: list[Action]) -> dict[int, list[int]]:
    """The joint aims each of ``actions`` serves, in one query."""
    from portal.actions.models import ActionJointAim

    links: dict[int, list[int]] = {a.id: [] for a in actions}
    if links:
        query = select(ActionJointAim.action_id, ActionJointAim.joint_aim_id).where(
            ActionJointAim.action_id.in_(list(links))
        )
        for action_id, aim_id in db.session.execute(query):
            links[action_id].append(aim_id)
    return links


def joint_aim_ids(action: Action) -> list[int]:
    """The joint aims an action serves."""
    from portal.actions.models import ActionJointAim

    return list(
        db.session.scalars(
            select(ActionJointAim.joint_aim_id).where(ActionJointAim.action_id == action.id)
        )
    )


def add_action(data: dict, *, is_demo: bool = False) -> Action:
    """Add an action at the end of its objective."""
    clean = _clean_action(data)
    aims = clean.pop("joint_aim_ids", None)
    position = (
        db.session.scalar(
            select(func.max(Action.position)).where(Action.objective_id == clean["objective_id"])
        )
        or 0
    ) + 1
    now = clock.utcnow()
    row = Action(position=position, is_demo=is_demo, created_at=now, updated_at=now)
    for key, value in clean.items():
        setattr(row, key, value)
    db.session.add(row)
    db.session.flush()
    if aims:
        _set_aims(row, aims)
    audit.record("action.created", row)
    db.session.commit()
    return row


def _snapshot(row: Action) -> dict:
    values = {name: getattr(row, name) for name in ACTION_FIELDS}
    values["target_date"] = row.target_date
    return values


def update_action(row: Action, data: dict, *, version: int) -> Action:
    """Save an edit made to ``version``; refuse it if somebody saved in between."""
    clean = _clean_action(data)
    aims = clean.pop("joint_aim_ids", None)
    check_version(row, version, clean)
    before = _snapshot(row)
    changed = [k for k, v in clean.items() if before.get(k) != v]
    aims_changed = aims is not None and set(aims) != set(joint_aim_ids(row))
    if not changed and not aims_changed:
        return row
    for key in changed:
        setattr(row, key, clean[key])
    if aims_changed:
        _set_aims(row, aims)
        changed.append("joint_aims")
    row.updated_at = clock.utcnow()
    audit.record("action.updated", row, detail={"fields": changed})
    return commit_edit(row, clean)


def delete_action(row: Action) -> None:
    """Delete an action, its progress updates and their evidence files."""
    audit.record("action.deleted", row, detail={"task": row.task[:200]})
    # The evidence pieces go with their updates (ON DELETE CASCADE), in the same commit.
    db.session.delete(row)
    db.session.commit()


# --- progress and evidence ---------------------------------------------------------------

# Evidence is stored in pieces of this size: a download holds one piece in memory at a time.
EVIDENCE_CHUNK_BYTES = 256 * 1024


def store_evidence(update: ProgressUpdate, content: bytes) -> None:
    """Add a flushed update's file to the session, in pieces; committed with the update."""
    for position, start in enumerate(range(0, len(content), EVIDENCE_CHUNK_BYTES)):
        db.session.add(
            EvidenceChunk(
                progress_update_id=update.id,
                position=position,
                data=content[start : start + EVIDENCE_CHUNK_BYTES],
            )
        )


def evidence_chunks(update_id: int) -> Iterator[bytes]:
    """An evidence file's pieces in order, each read with its own query when it is needed.

    Runs under the current tenant's scope like every query, so another tenant's file has
    no pieces.
    """
    position = 0
    while True:
        data = db.session.scalar(
            select(EvidenceChunk.data).where(
                EvidenceChunk.progress_update_id == update_id,
                EvidenceChunk.position == position,
            )
        )
        if data is None:
            return
        yield data
        position += 1


def evidence_content(update: ProgressUpdate) -> bytes:
    """A whole evidence file (for tests and small uses; downloads stream the pieces)."""
    return b"".join(evidence_chunks(update.id))


def _looks_like_text(content: bytes) -> bool:
    if b"\x00" in content:
        return False
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        try:
            content.decode("cp1252")
        except UnicodeDecodeError:
            return False
    return True


def _zip_holds(content: bytes, check) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            return check(archive)
    except (zipfile.BadZipFile, OSError, KeyError):
        return False


def _odf_type(archive: zipfile.ZipFile) -> str:
    return archive.read("mimetype").decode("ascii", "replace").strip()


SNIFFERS = {
    "pdf": lambda c: c.startswith(b"%PDF-"),
    "png": lambda c: c.startswith(b"\x89PNG\r\n\x1a\n"),
    "jpg": lambda c: c.startswith(b"\xff\xd8\xff"),
    "jpeg": lambda c: c.startswith(b"\xff\xd8\xff"),
    "docx": lambda c: _zip_holds(c, lambda z: "word/document.xml" in z.namelist()),
    "xlsx": lambda c: _zip_holds(c, lambda z: "xl/workbook.xml" in z.namelist()),
    "odt": lambda c: _zip_holds(c, lambda z: _odf_type(z) == EVIDENCE_TYPES["odt"]),
    "ods": lambda c: _zip_holds(c, lambda z: _odf_type(z) == EVIDENCE_TYPES["ods"]),
    "csv": _looks_like_text,
    "txt": _looks_like_text,
}


def check_evidence(filename: str, content: bytes) -> str:
    """The file's extension if it may be kept as evidence; else ValidationError.

    Both the name and the content must say the same type: a renamed program or a
    spreadsheet called ".pdf" is refused.
    """
    name = (filename or "").strip()
    if len(content) > MAX_EVIDENCE_BYTES:
        raise ValidationError.of({"evidence": "The file must be smaller than 10 MB"})
    if not content:
        raise ValidationError.of({"evidence": "The selected file is empty"})
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in EVIDENCE_TYPES:
        raise ValidationError.of({"evidence": f"The file must be a {EVIDENCE_TYPE_NAMES}"})
    if not SNIFFERS[extension](content):
        raise ValidationError.of(
            {
                "evidence": f"The file’s content is not a real {extension.upper()} file. "
                f"Upload a {EVIDENCE_TYPE_NAMES}"
            }
        )
    return extension


def _safe_name(filename: str) -> str:
    name = Path(filename.replace("\\", "/")).name
    name = re.sub(r"[^\w.\- ()]+", "_", name).strip(" .") or "evidence"
    return name[-200:]


def _check_progress(
    on, narrative: str, status: str, link: str, filename: str, content: bytes | None
) -> tuple[str, str, str | None]:
    """The cleaned narrative and link and the evidence file's kind, or ValidationError."""
    errors: dict[str, str] = {}
    narrative = (narrative or "").strip()
    link = (link or "").strip()
    if not isinstance(on, date):
        errors["date"] = "Enter the date of the update"
    elif on > clock.utcnow().date():
        errors["date"] = "The date of the update must be today or in the past"
    if not narrative:
        errors["narrative"] = "Describe the progress made"
    if status not in STATUSES:
        errors["status"] = "Choose a status from the list"
    if link and not re.match(r"^https?://[^\s/]+\.[^\s]+$", link):
        errors["evidence_link"] = "Enter a link starting with https://, like https://example.org"
    if len(link) > limit(ProgressUpdate.evidence_link):
        errors["evidence_link"] = (
            f"Link must be {limit(ProgressUpdate.evidence_link)} characters or fewer"
        )
    extension = None
    if content is not None:
        try:
            extension = check_evidence(filename, content)
        except ValidationError as exc:
            errors.update(exc.errors)
    if errors:
        raise ValidationError.of(errors)
    return narrative, link, extension


def add_progress(
    action: Action,
    *,
    on: date,
    narrative: str,
    status: str,
    link: str = "",
    filename: str = "",
    content: bytes | None = None,
) -> ProgressUpdate:
    """Record progress on an action; the action takes the update's status."""
    narrative, link, extension = _check_progress(on, narrative, status, link, filename, content)
    update = ProgressUpdate(
        action_id=action.id,
        date=on,
        narrative=narrative,
        status=status,
        evidence_link=link,
        created_at=clock.utcnow(),
        created_by_id=_current_user_id(),
    )
    if extension is not None:
        update.evidence_name = _safe_name(filename)
        update.evidence_type = EVIDENCE_TYPES[extension]
        update.evidence_size = len(content)
    try:
        db.session.add(update)
        if action.status != status:
            action.status = status
            action.updated_at = clock.utcnow()
        db.session.flush()
        if extension is not None:
            store_evidence(update, content)
        audit.record(
            "progress.added",
            update,
            detail={"action_id": action.id, "status": status, "evidence": bool(extension)},
        )
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return update


def _current_user_id() -> int | None:
    from flask import has_request_context
    from flask_login import current_user

    if has_request_context() and current_user.is_authenticated:
        return current_user.id
    return None


def record_evidence_download(update: ProgressUpdate) -> None:
    """Downloading a document is an export of the organisation's records: audit it."""
    audit.record("export", update, detail={"what": "evidence", "file": update.evidence_name})
    db.session.commit()


def progress_updates(action: Action, *, everything: bool = False):
    """An action's progress updates in force (neither corrected nor withdrawn), newest
    first, as a select(); with ``everything``, earlier versions and withdrawn ones too."""
    query = (
        select(ProgressUpdate)
        .where(ProgressUpdate.action_id == action.id)
        .order_by(ProgressUpdate.date.desc(), ProgressUpdate.id.desc())
    )
    if not everything:
        query = query.where(
            ProgressUpdate.superseded_at.is_(None), ProgressUpdate.withdrawn_at.is_(None)
        )
    return query


def may_change_progress(update: ProgressUpdate) -> bool:
    """Only an update's author may correct or withdraw it, and only while it is in force."""
    author = _current_user_id()
    return update.is_current and author is not None and update.created_by_id == author


def progress_history(update: ProgressUpdate) -> list[ProgressUpdate]:
    """Every version of an update, newest first: it and the ones it replaced, in turn."""
    chain = [update]
    while chain[-1].replaces_id is not None:
        earlier = db.session.scalar(
            select(ProgressUpdate).where(ProgressUpdate.id == chain[-1].replaces_id)
        )
        if earlier is None:
            break
        chain.append(earlier)
    return chain


def latest_version(update: ProgressUpdate) -> ProgressUpdate:
    """The version now in force of an update that may have been corrected since."""
    while update.superseded_at is not None:
        later = db.session.scalar(
            select(ProgressUpdate).where(ProgressUpdate.replaces_id == update.id)
        )
        if later is None:
            break
        update = later
    return update


def _check_reason(reason: str, what: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError.of({"reason": f"Say why the update is being {what}"})
    most = limit(ProgressUpdate.change_reason)
    if len(reason) > most:
        raise ValidationError.of({"reason": f"The reason must be {most:,} characters or fewer"})
    return reason


def _take_latest_status(action: Action) -> None:
    """The action's status is that of its latest update in force."""
    latest = db.session.scalar(progress_updates(action).limit(1))
    if latest is not None and action.status != latest.status:
        action.status = latest.status
        action.updated_at = clock.utcnow()


def correct_progress(
    update: ProgressUpdate,
    *,
    on: date,
    narrative: str,
    status: str,
    link: str = "",
    filename: str = "",
    content: bytes | None = None,
    reason: str,
) -> ProgressUpdate:
    """Correct an update: a new version replaces it, and it stays, with its text and
    evidence, as history. Without a new file the evidence file is kept."""
    errors: dict[str, str] = {}
    try:
        narrative, link, extension = _check_progress(on, narrative, status, link, filename, content)
    except ValidationError as exc:
        errors.update(exc.errors)
    try:
        reason = _check_reason(reason, "corrected")
    except ValidationError as exc:
        errors.update(exc.errors)
    if errors:
        raise ValidationError.of(errors)
    now = clock.utcnow()
    new = ProgressUpdate(
        action_id=update.action_id,
        date=on,
        narrative=narrative,
        status=status,
        evidence_link=link,
        created_at=now,
        created_by_id=update.created_by_id,
        replaces_id=update.id,
        change_reason=reason,
    )
    if extension is not None:
        new.evidence_name = _safe_name(filename)
        new.evidence_type = EVIDENCE_TYPES[extension]
        new.evidence_size = len(content)
    elif update.has_evidence_file:
        new.evidence_name = update.evidence_name
        new.evidence_type = update.evidence_type
        new.evidence_size = update.evidence_size
    try:
        update.superseded_at = now
        db.session.add(new)
        db.session.flush()
        if extension is not None:
            store_evidence(new, content)
        elif update.has_evidence_file:
            store_evidence(new, b"".join(evidence_chunks(update.id)))
        changed = [
            name
            for name in ("date", "narrative", "status", "evidence_link", "evidence_name")
            if getattr(update, name) != getattr(new, name)
        ] + (["evidence file"] if extension is not None else [])
        _take_latest_status(update.action)
        audit.record(
            "progress.corrected",
            new,
            detail={
                "action_id": update.action_id,
                "replaces": update.number,
                "reason": reason,
                "changed": changed,
            },
        )
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return new


def withdraw_progress(update: ProgressUpdate, reason: str) -> None:
    """Withdraw an update: it leaves the action's progress but stays in its history."""
    reason = _check_reason(reason, "withdrawn")
    update.withdrawn_at = clock.utcnow()
    update.change_reason = reason
    db.session.flush()
    _take_latest_status(update.action)
    audit.record(
        "progress.withdrawn",
        update,
        detail={"action_id": update.action_id, "reason": reason},
    )
    db.session.commit()
