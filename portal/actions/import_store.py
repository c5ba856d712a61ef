"""Keeping an upload between its steps, and storing its actions.

The file is read once, when it is uploaded; its rows (as text) wait for the next steps in
a ``pending_import`` row of the database, with a random token for the addresses and the
choices made so far. It belongs to the organisation and to the person who uploaded it: the
token is looked up among the current tenant's rows for that person only, so anybody else's
token is simply not found. The row is removed by the import, or after a day.

Nothing is written until the whole file is valid; then every objective and action is added
in one transaction with one audit event.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from portal import audit, clock, tenancy
from portal.actions import import_checks as checks
from portal.actions import import_files as files
from portal.actions import import_vocabulary as vocabulary
from portal.actions import services
from portal.actions.import_checks import NEW_OBJECTIVE
from portal.actions.import_vocabulary import FIELDS, TEXT_LIMITS, guess_mapping, same
from portal.actions.models import Action, Objective, PendingImport
from portal.extensions import db
from portal.forms import parse_id

KEEP_SECONDS = 24 * 60 * 60


TOKEN = re.compile(r"^[0-9a-f]{32}$")


def _safe_name(filename: str) -> str:
    name = Path((filename or "").replace("\\", "/")).name
    return (re.sub(r"[^\w.\- ()]+", "_", name).strip(" .") or "upload")[-200:]


def clear_old_uploads(now: datetime | None = None) -> int:
    """Remove the current tenant's uploads older than a day; how many were removed."""
    now = clock.utcnow() if now is None else now
    old = list(
        db.session.scalars(
            select(PendingImport).where(
                PendingImport.created_at < now - timedelta(seconds=KEEP_SECONDS)
            )
        )
    )
    for upload in old:
        db.session.delete(upload)
    return len(old)


def _current_user_id() -> int | None:
    from flask import has_request_context
    from flask_login import current_user

    if has_request_context() and current_user.is_authenticated:
        return current_user.id
    return None


def store_upload(filename: str, content: bytes, user_id: int | None = None) -> PendingImport:
    """Read a file once and keep its rows for the next steps; ImportProblem if unreadable.

    The upload belongs to the current tenant and to ``user_id`` (by default the person
    signed in); only they can take it further.
    """
    user_id = user_id if user_id is not None else _current_user_id()
    if user_id is None:
        raise ValueError("an upload belongs to a person: none is signed in")
    sheets = files.read_sheets(filename, content)
    chosen = sheets[files.likeliest(sheets)]
    table = chosen.table
    try:
        clear_old_uploads()
        upload = PendingImport(
            token=secrets.token_hex(16),
            user_id=user_id,
            filename=_safe_name(filename),
            headings=table.headings,
            rows=[[number, cells] for number, cells in table.rows],
            mapping=guess_mapping(table.headings),
            default_objective="",
            new_objective="",
            sheets=[_sheet_data(sheet) for sheet in sheets] if len(sheets) > 1 else None,
            sheet=chosen.name[:100],
            created_at=clock.utcnow(),
        )
        db.session.add(upload)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return upload


def _sheet_data(sheet: files.Sheet) -> dict:
    if sheet.table is None:
        return {"name": sheet.name[:100], "problem": sheet.problem}
    return {
        "name": sheet.name[:100],
        "headings": sheet.table.headings,
        "rows": [[number, cells] for number, cells in sheet.table.rows],
    }


def choose_sheet(upload: PendingImport, name: str) -> None:
    """Import another sheet of the workbook: its columns are matched afresh.

    Raises services.ValidationError for a sheet that is not in the workbook or that has no
    rows of actions.
    """
    sheet = next((s for s in files.sheets_of(upload) if s.name == name), None)
    if sheet is None:
        raise services.ValidationError.of({"sheet": "Choose a sheet from the list"})
    if sheet.table is None:
        raise services.ValidationError.of(
            {"sheet": f"The sheet “{name}” cannot be imported. {sheet.problem}"}
        )
    upload.sheet = sheet.name
    upload.headings = sheet.table.headings
    upload.rows = [[number, cells] for number, cells in sheet.table.rows]
    upload.mapping = guess_mapping(sheet.table.headings)
    db.session.commit()


def find_upload(token: str, user_id: int | None = None) -> PendingImport | None:
    """The current tenant's upload with this token by this person (by default the person
    signed in), or None, also when it has expired (it is then removed)."""
    if not TOKEN.match(token or ""):
        return None
    if tenancy.current_tenant_id() is None:
        return None
    user_id = user_id if user_id is not None else _current_user_id()
    if user_id is None:
        return None
    upload = db.session.scalar(
        select(PendingImport).where(PendingImport.token == token, PendingImport.user_id == user_id)
    )
    if upload is None:
        return None
    if clock.utcnow() - upload.created_at > timedelta(seconds=KEEP_SECONDS):
        discard(upload)
        return None
    return upload


def discard(upload: PendingImport) -> None:
    """Remove an upload that will not be imported."""
    db.session.delete(upload)
    db.session.commit()


def objective_choices() -> list[tuple[str, str]]:
    """Choices for the objective of rows that name none: a new one, or an existing one."""
    rows = db.session.scalars(services.objectives())
    return [(NEW_OBJECTIVE, "A new objective, named below")] + [
        (str(o.id), o.title if len(o.title) <= 120 else o.title[:119] + "…") for o in rows
    ]


def save_choices(
    upload: PendingImport, mapping: list[str], default_objective: str, new_objective: str
) -> None:
    """Keep the chosen columns and default objective; services.ValidationError if wrong."""
    errors: dict[str, str] = {}
    table = files.table_of(upload)
    if len(mapping) != len(table.headings) or set(mapping) - set(FIELDS):
        raise services.ValidationError.of({"mapping": "Choose what each column holds"})
    chosen = [m for m in mapping if m != "ignore"]
    for name in sorted(set(chosen), key=list(FIELDS).index):
        if chosen.count(name) > 1:
            columns = [
                _column_name(i, table.headings[i]) for i, m in enumerate(mapping) if m == name
            ]
            listed = ", ".join(columns[:-1]) + " and " + columns[-1]
            errors[f"column_{mapping.index(name)}"] = (
                f"Only one column can be imported as {FIELDS[name].lower()}: "
                f"{listed} are {'both' if len(columns) == 2 else 'all'} chosen"
            )
    if "task" not in chosen:
        errors["column_0"] = "Choose the column that holds the action (task)"
    new_objective = " ".join((new_objective or "").split())
    if default_objective == NEW_OBJECTIVE:
        if not new_objective:
            errors["new_objective"] = "Enter a name for the new objective"
        elif len(new_objective) > TEXT_LIMITS["objective"]:
            errors["new_objective"] = "The name must be 2,000 characters or fewer"
    elif (objective_id := parse_id(default_objective)) is None or db.session.scalar(
        select(Objective.id).where(Objective.id == objective_id)
    ) is None:
        errors["default_objective"] = "Choose an objective from the list"
    if errors:
        raise services.ValidationError.of(errors)
    upload.mapping = mapping
    upload.default_objective = default_objective
    upload.new_objective = new_objective if default_objective == NEW_OBJECTIVE else ""
    db.session.commit()


def _column_name(index: int, heading: str) -> str:
    letter = ""
    number = index + 1
    while number:
        number, rest = divmod(number - 1, 26)
        letter = chr(65 + rest) + letter
    return f"column {letter} (“{heading}”)" if heading else f"column {letter}"


def column_label(index: int, heading: str) -> str:
    """How a column is named on the page: its letter and its heading."""
    return _column_name(index, heading)[0].upper() + _column_name(index, heading)[1:]


@dataclass
class ImportResult:
    """What an import added."""

    added: int
    already: int
    repeated: int
    objectives: int


def import_upload(upload: PendingImport) -> ImportResult:
    """Add every new row of a fully valid upload, in one transaction with one audit event.

    Raises services.ValidationError, and writes nothing, if any row has a problem.
    """
    result = checks.preview(upload)
    if result.errors:
        raise services.ValidationError.of({"file": result.errors[0]})
    now = clock.utcnow()
    try:
        objectives = {same(o.title): o for o in db.session.scalars(select(Objective))}
        default = None
        if parse_id(upload.default_objective) is not None:
            default = db.session.scalar(
                select(Objective).where(Objective.id == parse_id(upload.default_objective))
            )
        position = db.session.scalar(select(func.max(Objective.position))) or 0
        created = 0
        positions: dict[int, int] = {}
        maker = vocabulary.AreaMaker()
        for row in result.new:
            objective = objectives.get(same(row.objective))
            if default is not None and row.objective == result.default_title:
                objective = default
            if objective is None:
                position += 1
                area = maker.area(row.area)
                point = maker.point(row.point, area)
                objective = Objective(
                    position=position,
                    title=row.objective,
                    focus_area_id=area.id if area else (point.focus_area_id if point else None),
                    focus_point_id=point.id if point else None,
                    created_at=now,
                    updated_at=now,
                )
                db.session.add(objective)
                db.session.flush()
                objectives[same(row.objective)] = objective
                created += 1
            if objective.id not in positions:
                positions[objective.id] = (
                    db.session.scalar(
                        select(func.max(Action.position)).where(Action.objective_id == objective.id)
                    )
                    or 0
                )
            positions[objective.id] += 1
            data = {**row.values, "objective_id": objective.id}
            data.pop("status_word", None)
            # The action form's own rules, once more, on exactly what will be stored.
            clean = services.check_action(data)
            action = Action(position=positions[objective.id], created_at=now, updated_at=now)
            for key, value in clean.items():
                setattr(action, key, value)
            db.session.add(action)
        db.session.flush()
        counts = ImportResult(
            added=len(result.new),
            already=len(result.already),
            repeated=len(result.repeated),
            objectives=created,
        )
        audit.record(
            "actions.imported",
            object_type="Action",
            detail={
                "file": upload.filename,
                "rows": len(result.rows),
                "added": counts.added,
                "already_in_plan": counts.already,
                "repeated_in_file": counts.repeated,
                "objectives_added": counts.objectives,
            },
        )
        # Gone in the same commit as the import, so it cannot be imported twice.
        db.session.delete(upload)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return counts
