"""Importing an action plan from a spreadsheet: upload, map columns, preview, import.

The file is read once, when it is uploaded; its rows (as text) wait for the next steps in
a ``pending_import`` row of the database, with a random token for the addresses and the
choices made so far. It belongs to the organisation and to the person who uploaded it: the
token is looked up among the current tenant's rows for that person only, so anybody else's
token is simply not found. The row is removed by the import, or after a day.

An XLSX file is a zip of XML. Before it is opened, the sizes its zip directory declares are
added up: a real action plan unpacks to a few megabytes, so a workbook that would unpack to
more than ``MAX_UNPACKED_BYTES``, or that is packed more tightly than ``MAX_RATIO`` (the
mark of a "zip bomb"), is refused without being read.

The steps are plain functions (``store_upload``, ``save_choices``, ``preview``,
``import_upload``) that need only a tenant in scope, so they can run outside a request.

Every row is checked with the same rules as the action form (target dates, statuses, the
aims of the general duty, protected characteristics, lengths), and every problem is listed
with its row number as the spreadsheet shows it (the heading row is row 1). Nothing is
written until the whole file is valid; then every objective and action is added in one
transaction with one audit event. A row whose objective already has an action with the
same wording is already in the plan, and is left as it is.
"""

from __future__ import annotations

import csv
import io
import re
import secrets
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

from sqlalchemy import func, select

from portal import audit, clock, tenancy
from portal.actions import import_vocabulary as vocabulary
from portal.actions import services
from portal.actions.models import (
    ALL_CHARACTERISTICS,
    CHARACTERISTICS,
    PSED_AIMS,
    STATUSES,
    Action,
    Objective,
    PendingImport,
)
from portal.extensions import db

MAX_BYTES = 10 * 1024 * 1024
# An XLSX file is compressed XML. A council's action plan of a few hundred rows unpacks to
# one or two megabytes; 20 MB leaves room for 5,000 long rows. Python's zip reader never
# unpacks a part beyond the size declared for it, so checking the declared sizes is enough.
MAX_UNPACKED_BYTES = 20 * 1024 * 1024
# Spreadsheet XML packs to between a tenth and a twentieth of its size, even when every row
# is the same; a part packed tighter than this (and bigger than a megabyte) is a zip bomb.
MAX_RATIO = 100
RATIO_FROM_BYTES = 1024 * 1024
MAX_PARTS = 1000
MAX_ROWS = 5000
MAX_COLUMNS = 100
# Rows of a sheet read in all, blank ones included: a plan with a few blank lines between
# its sections never comes near this.
MAX_SHEET_ROWS = 50_000
KEEP_SECONDS = 24 * 60 * 60
EXTENSIONS = ("csv", "tsv", "txt", "xlsx")
TOKEN = re.compile(r"^[0-9a-f]{32}$")
PREVIEW_ROWS = 10
NEW_OBJECTIVE = "new"

# What a column can be imported as, in the order the select lists them.
FIELDS = {
    "task": "Action (task)",
    "objective": "Objective",
    "area": "Role or focus area (of a new objective)",
    "focus_point": "Focus point (of a new objective)",
    "arising_from": "Arising from",
    "lead_officer": "Lead officer",
    "lead_user": "Lead officer’s portal account (name or email)",
    "directorate": "Directorate",
    "section": "Section",
    "target_text": "Target date",
    "status": "Status",
    "corporate_priority": "Corporate plan priority",
    "eflg_criteria": "EFLG criteria",
    "psed_aims": "PSED aims",
    "characteristics": "Protected characteristics",
    "measures": "How we will know it is done",
    "ignore": "Do not import this column",
}
TEXT_FIELDS = (
    "task",
    "arising_from",
    "lead_officer",
    "directorate",
    "section",
    "target_text",
    "corporate_priority",
    "eflg_criteria",
    "measures",
)
LENGTH_NAMES = {
    "objective": "objective",
    "task": "task",
    "arising_from": "“arising from”",
    "lead_officer": "lead officer",
    "directorate": "directorate",
    "section": "section",
    "target_text": "target date",
    "corporate_priority": "corporate plan priority",
    "eflg_criteria": "EFLG criteria",
    "measures": "“how we will know it is done”",
    "area": "role or focus area",
    "focus_point": "focus point",
}
# The action form's limits for the long text fields (the others come from the columns).
TEXT_LIMITS = {"objective": 2000, "task": 4000, "measures": 4000, "area": 300, "focus_point": 300}

# Headings of the seed tables (Thanet's action plan, Maidstone's objectives and action
# plan) and of the portal's own export, and a few common alternatives.
HEADINGS = {
    "task": ["objective/task", "task", "action", "actions", "action/task"],
    "objective": ["objective", "objectives", "equality objective"],
    "area": ["role or focus area", "role/focus area", "role", "focus area", "theme"],
    "focus_point": ["focus point", "focus points"],
    "arising_from": ["arising from"],
    "lead_officer": [
        "lead officer",
        "responsible officer",
        "lead or responsible officer",
        "lead",
        "officer",
    ],
    "lead_user": ["lead officer on the portal", "portal account", "lead officer email"],
    "directorate": ["directorate"],
    "section": ["section"],
    "target_text": [
        "target completion date",
        "target date (as written)",
        "target date",
        "to be delivered by",
        "delivered by",
        "deliver by",
        "target date or deliver by",
        "due date",
    ],
    "status": ["status"],
    "corporate_priority": ["cp priority", "corporate plan priority", "corporate priority"],
    "eflg_criteria": ["eflg criteria", "eflg"],
    "psed_aims": [
        "psed aim",
        "psed aims",
        "aims of the general equality duty",
        "general duty aims",
    ],
    "characteristics": ["pc", "protected characteristic", "protected characteristics"],
    "measures": [
        "how will we know that this done",
        "how will we know that this is done",
        "how will we know it is done",
        "how we will know it is done",
        "measures",
    ],
    # Columns of the portal's export that the import does not read.
    "ignore": [
        "overdue",
        "joint aims",
        "demonstration data",
    ],
}


def _key(heading: str) -> str:
    text = " ".join((heading or "").replace("\u00a0", " ").split()).lower()
    return text.rstrip(":?. ").strip()


KNOWN_HEADINGS = {_key(h): name for name, headings in HEADINGS.items() for h in headings}

PSED_WORDS = {
    **{key: key for key in PSED_AIMS},
    **{_key(label): key for key, label in PSED_AIMS.items()},
    "eliminate discrimination": "eliminate",
    "eliminate unlawful discrimination": "eliminate",
    "advance equality": "advance",
    "equality of opportunity": "advance",
    "good relations": "foster",
}
CHARACTERISTIC_WORDS = {
    **{key: key for key in CHARACTERISTICS},
    **{_key(label): key for key, label in CHARACTERISTICS.items()},
    "gender reassignment": "gender-reassignment",
    "marriage & civil partnership": "marriage-civil-partnership",
    "pregnancy & maternity": "pregnancy-maternity",
    "religion and belief": "religion-belief",
    "religion & belief": "religion-belief",
    "religion/belief": "religion-belief",
    "religion or belief": "religion-belief",
    "sexual orientation": "sexual-orientation",
}
ALL_WORDS = {"all", "all protected characteristics", "all characteristics", "all aims"}
NONE_WORDS = {"", "n/a", "na", "none", "not applicable", "-", "not recorded"}
STATUS_WORDS = {
    **{key: key for key in STATUSES},
    **{_key(label): key for key, label in STATUSES.items()},
}
NO_STATUS_WORDS = {"", "no status recorded", "not recorded"}
STATUS_NAMES = ", ".join(STATUSES.values())
DANGEROUS_START = ("=", "+", "-", "@", "\t", "\r")


class ImportProblem(ValueError):
    """A file that cannot be read at all; the message says why in plain words."""


# --- reading a file ----------------------------------------------------------------------


@dataclass
class Table:
    """A sheet as text: its headings and its rows, each with its row number."""

    headings: list[str]
    rows: list[tuple[int, list[str]]]

    def cell(self, row: list[str], column: int) -> str:
        return row[column] if column < len(row) else ""


def _cell_text(value) -> str:
    """A cell as text. Formulas stay as their text; they are never worked out."""
    if value is None:
        return ""
    if isinstance(value, datetime) and value.time() == time(0):
        value = value.date()
    if isinstance(value, date) and not isinstance(value, datetime):
        return f"{value.day} {value:%B %Y}"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).replace("\r\n", "\n").replace("\r", "\n").strip()
    # The portal's export puts a quote before text that a spreadsheet could run as a
    # formula; take it off again, so that exporting and importing gives the same words.
    if text.startswith("'") and text[1:].startswith(DANGEROUS_START):
        text = text[1:]
    return text


def _decode(content: bytes) -> str:
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return content.decode("utf-16")
        except UnicodeDecodeError:
            pass
    elif b"\x00" not in content:
        for encoding in ("utf-8-sig", "cp1252"):
            try:
                return content.decode(encoding)
            except UnicodeDecodeError:
                continue
    raise ImportProblem(
        "The file’s text could not be read. Save it as “CSV UTF-8” (or as an Excel "
        "workbook, .xlsx) and upload it again."
    )


def _delimiter(text: str) -> str:
    first = next((line for line in text.splitlines() if line.strip()), "")
    counts = {d: first.count(d) for d in ("\t", ",", ";")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


TOO_WIDE = (
    f"The file has more than {MAX_COLUMNS} columns. Keep only the columns of the action "
    "plan and upload it again."
)


def _trim(row: list[str]) -> list[str]:
    """A row without its trailing empty cells; ImportProblem if it is too wide."""
    end = len(row)
    while end and not row[end - 1]:
        end -= 1
    if end > MAX_COLUMNS:
        raise ImportProblem(TOO_WIDE)
    return row[:end]


def _read_csv(content: bytes) -> list[list[str]]:
    text = _decode(content)
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
        rows: list[list[str]] = []
        filled = 0
        for row in reader:
            rows.append(_trim([_cell_text(v) for v in row]))
            filled += bool(rows[-1])
            # The headings, the most rows allowed, and one more to know there are more.
            if filled > MAX_ROWS + 1:
                break
        return rows
    except csv.Error:
        raise ImportProblem(
            "The file could not be read as CSV: check it was saved as “CSV” from a "
            "spreadsheet program, then upload it again."
        ) from None


TOO_BIG_UNPACKED = ImportProblem(
    "The workbook is too big to read: it would take more than 20 MB once opened. Save it "
    "as CSV, or remove what is not part of the action plan, and upload it again."
)


def check_zip(content: bytes) -> list[str]:
    """The names in an XLSX file's zip, after checking what it declares it would unpack to.

    Raises ImportProblem for a damaged zip, too many parts, more than MAX_UNPACKED_BYTES in
    all, or a big part packed more tightly than MAX_RATIO. Nothing is unpacked here.
    """
    damaged = ImportProblem(
        "The file could not be opened as an Excel workbook. It may be damaged: open it in "
        "your spreadsheet program, save it again as .xlsx or CSV, and upload it again."
    )
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise damaged from None
    if len(parts) > MAX_PARTS:
        raise damaged
    if sum(part.file_size for part in parts) > MAX_UNPACKED_BYTES:
        raise TOO_BIG_UNPACKED
    for part in parts:
        if part.file_size > RATIO_FROM_BYTES and part.file_size > MAX_RATIO * max(
            part.compress_size, 1
        ):
            raise TOO_BIG_UNPACKED
    names = [part.filename for part in parts]
    if "xl/workbook.xml" not in names:
        raise damaged
    return names


MAX_SHEETS = 50


def workbook_sheets(content: bytes, max_rows: int = MAX_ROWS) -> list[tuple[str, list[list[str]]]]:
    """Each worksheet of an XLSX file, in order: its name and its rows as text.

    A sheet is read up to ``max_rows`` rows with something in them (and one more, to know
    there are more). Raises ImportProblem for a workbook that cannot be opened or is too big.
    """
    damaged = ImportProblem(
        "The file could not be opened as an Excel workbook. It may be damaged: open it in "
        "your spreadsheet program, save it again as .xlsx or CSV, and upload it again."
    )
    check_zip(content)
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=False)
        try:
            return [
                (sheet.title, _sheet_rows(sheet, max_rows))
                for sheet in workbook.worksheets[:MAX_SHEETS]
            ]
        finally:
            workbook.close()
    except ImportProblem:
        raise
    except Exception:  # openpyxl raises many kinds of error for a damaged workbook
        raise damaged from None


def _sheet_rows(sheet, max_rows: int) -> list[list[str]]:
    # The size a sheet declares for itself is not trusted: each row is read as wide as its
    # last cell, and only the first columns are turned into text.
    sheet.reset_dimensions()
    rows: list[list[str]] = []
    filled = 0
    for row in sheet.iter_rows(values_only=True):
        tail = row[MAX_COLUMNS:]
        if tail.count(None) != len(tail) and any(_cell_text(v) for v in tail):
            raise ImportProblem(TOO_WIDE)
        rows.append(_trim([_cell_text(v) for v in row[:MAX_COLUMNS]]))
        filled += bool(rows[-1])
        if filled > max_rows + 1:
            break
        if len(rows) > MAX_SHEET_ROWS:
            raise ImportProblem(
                f"The sheet goes on past row {MAX_SHEET_ROWS:,} (on “{sheet.title}”). Delete "
                "the rows below the action plan, save it, and upload it again."
            )
    return rows


def _looks_like_data(text: str) -> bool:
    if not text:
        return False
    if _key(text) in STATUS_WORDS or re.fullmatch(r"[\d\s.,£%/-]+", text):
        return True
    try:
        return services.parse_target(text) is not None
    except ValueError:
        return True


@dataclass
class Sheet:
    """A sheet of a workbook (or the one table of a CSV file): its table, or why not."""

    name: str
    table: Table | None
    problem: str = ""

    @property
    def size(self) -> str:
        """How the sheet is described in the list of sheets."""
        if self.table is None:
            return "no rows of actions"
        count = len(self.table.rows)
        return f"{count:,} row{'' if count == 1 else 's'}"


def read_sheets(filename: str, content: bytes) -> list[Sheet]:
    """Every sheet of a CSV or XLSX file with its table, or ImportProblem saying why the
    file cannot be read; a workbook in which no sheet holds a table is ImportProblem too."""
    name = (filename or "").strip()
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if not name:
        raise ImportProblem("Select a CSV or XLSX file")
    if len(content) > MAX_BYTES:
        raise ImportProblem("The file must be smaller than 10 MB")
    if not content.strip():
        raise ImportProblem("The selected file is empty")
    if extension == "xls" or content.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportProblem(
            "Excel 97–2003 workbooks (.xls) cannot be read: save it as .xlsx or CSV and "
            "upload it again."
        )
    if extension not in EXTENSIONS:
        raise ImportProblem("The file must be a CSV or XLSX file")
    if not (extension == "xlsx" or content.startswith(b"PK\x03\x04")):
        return [Sheet(name="", table=_table(_read_csv(content)))]
    sheets = []
    for title, rows in workbook_sheets(content):
        try:
            sheets.append(Sheet(name=title, table=_table(rows)))
        except ImportProblem as exc:
            sheets.append(Sheet(name=title, table=None, problem=str(exc)))
    if not any(sheet.table for sheet in sheets):
        # Say what is wrong with the first sheet that has anything in it.
        with_rows = [s for s in sheets if s.problem != EMPTY] or sheets
        raise ImportProblem(with_rows[0].problem if with_rows else EMPTY)
    return sheets


def likeliest(sheets: list[Sheet]) -> int:
    """The index of the sheet most like an action plan: the most recognised headings,
    then the most rows, then the first."""
    scores = [
        (
            sum(recognised(h) for h in sheet.table.headings) if sheet.table else -1,
            len(sheet.table.rows) if sheet.table else -1,
            -index,
        )
        for index, sheet in enumerate(sheets)
    ]
    return -max(scores)[2]


def read_table(filename: str, content: bytes) -> Table:
    """The likeliest sheet of a CSV or XLSX file, or ImportProblem saying why it cannot be
    read."""
    sheets = read_sheets(filename, content)
    return sheets[likeliest(sheets)].table


EMPTY = "The file has no rows: it is empty"


def _table(rows: list[list[str]]) -> Table:
    """The headings and rows of a sheet's rows, or ImportProblem saying why not."""
    numbered = [(n, [c for c in row]) for n, row in enumerate(rows, start=1)]
    numbered = [(n, row) for n, row in numbered if any(row)]
    if not numbered:
        raise ImportProblem(EMPTY)
    header_number, headings = numbered[0]
    if header_number != 1:
        raise ImportProblem(
            f"Row 1 of the file is empty. The first row must hold the column headings "
            f"(they start on row {header_number})."
        )
    recognised = [h for h in headings if _key(h) in KNOWN_HEADINGS]
    if not recognised and any(_looks_like_data(h) for h in headings):
        raise ImportProblem(
            "The first row of the file must hold the column headings, such as “Action”, "
            "“Lead officer” and “Target date”, but it looks like a row of data."
        )
    data = numbered[1:]
    if len(data) > MAX_ROWS:
        raise ImportProblem(
            f"The file has more than {MAX_ROWS:,} rows. Split it into smaller files."
        )
    if not data:
        raise ImportProblem("The file has column headings but no rows of actions below them")
    width = max(len(headings), *(len(row) for _, row in data))
    headings = headings + [""] * (width - len(headings))
    # Columns with neither a heading nor any content (such as a trailing tab) are dropped.
    while (
        headings
        and not headings[-1]
        and not any(len(r) >= len(headings) and r[len(headings) - 1] for _, r in data)
    ):
        headings.pop()
    return Table(headings=headings, rows=data)


def guess_mapping(headings: list[str]) -> list[str]:
    """The field each column is recognised as; each field goes to its first column only."""
    taken: set[str] = set()
    mapping = []
    for heading in headings:
        name = KNOWN_HEADINGS.get(_key(heading), "ignore")
        if name != "ignore" and name in taken:
            name = "ignore"
        taken.add(name)
        mapping.append(name)
    return mapping


def recognised(heading: str) -> bool:
    """Whether a heading is one the import knows."""
    return _key(heading) in KNOWN_HEADINGS


# --- keeping the upload between steps ----------------------------------------------------


def table_of(upload: PendingImport) -> Table:
    """The rows of an upload as they were read when it was uploaded; the file is not kept."""
    return Table(
        headings=list(upload.headings),
        rows=[(int(number), list(cells)) for number, cells in upload.rows],
    )


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
    sheets = read_sheets(filename, content)
    chosen = sheets[likeliest(sheets)]
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


def _sheet_data(sheet: Sheet) -> dict:
    if sheet.table is None:
        return {"name": sheet.name[:100], "problem": sheet.problem}
    return {
        "name": sheet.name[:100],
        "headings": sheet.table.headings,
        "rows": [[number, cells] for number, cells in sheet.table.rows],
    }


def sheets_of(upload: PendingImport) -> list[Sheet]:
    """The sheets of an uploaded workbook as read at upload (none for a CSV file or a
    workbook of one sheet)."""
    return [
        Sheet(
            name=data["name"],
            table=Table(
                headings=list(data["headings"]),
                rows=[(int(number), list(cells)) for number, cells in data["rows"]],
            )
            if "headings" in data
            else None,
            problem=data.get("problem", ""),
        )
        for data in upload.sheets or []
    ]


def choose_sheet(upload: PendingImport, name: str) -> None:
    """Import another sheet of the workbook: its columns are matched afresh.

    Raises services.ValidationError for a sheet that is not in the workbook or that has no
    rows of actions.
    """
    sheet = next((s for s in sheets_of(upload) if s.name == name), None)
    if sheet is None:
        raise services.ValidationError({"sheet": "Choose a sheet from the list"})
    if sheet.table is None:
        raise services.ValidationError(
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
    table = table_of(upload)
    if len(mapping) != len(table.headings) or set(mapping) - set(FIELDS):
        raise services.ValidationError({"mapping": "Choose what each column holds"})
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
    elif (objective_id := _id(default_objective)) is None or db.session.scalar(
        select(Objective.id).where(Objective.id == objective_id)
    ) is None:
        errors["default_objective"] = "Choose an objective from the list"
    if errors:
        raise services.ValidationError(errors)
    upload.mapping = mapping
    upload.default_objective = default_objective
    upload.new_objective = new_objective if default_objective == NEW_OBJECTIVE else ""
    db.session.commit()


def _id(value: str | None) -> int | None:
    """A database id from text, or None: only plain digits of a size an id can have."""
    return int(value) if value and re.fullmatch(r"[0-9]{1,9}", value) else None


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


# --- checking the rows -------------------------------------------------------------------


@dataclass
class ImportRow:
    """One row as it will be imported."""

    number: int
    objective: str
    values: dict
    already: bool = False
    repeated: bool = False
    # The portal account the lead officer was matched to, if any.
    lead_name: str = ""
    area: vocabulary.AreaSpec | None = None
    point: vocabulary.PointSpec | None = None
    # The status as it will be imported, in words, with the file's own word if it differs.
    status_shown: str = ""


@dataclass
class Preview:
    """The file as it will be imported, with every problem found."""

    rows: list[ImportRow] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    new_objectives: list[str] = field(default_factory=list)
    default_title: str = ""
    # The file's status words that are not the portal's: asked about on the preview.
    status_words: list[vocabulary.StatusWord] = field(default_factory=list)
    new_areas: list[str] = field(default_factory=list)

    @property
    def unchosen_words(self) -> list[vocabulary.StatusWord]:
        return [w for w in self.status_words if w.chosen is None]

    @property
    def matched_leads(self) -> int:
        return sum(bool(r.lead_name) for r in self.rows)

    @property
    def new(self) -> list[ImportRow]:
        return [r for r in self.rows if not r.already and not r.repeated]

    @property
    def already(self) -> list[ImportRow]:
        return [r for r in self.rows if r.already]

    @property
    def repeated(self) -> list[ImportRow]:
        return [r for r in self.rows if r.repeated]


def _show(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 60 else text[:59] + "…"


def _split(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"[;\n|]", text) if p.strip()]


def _match_words(text: str, words: dict[str, str]) -> tuple[list[str], list[str]]:
    """Known keys named in a cell and the parts not understood.

    Parts are separated by semicolons or new lines, and then by commas, because some
    names (such as the first aim of the general duty) contain a comma themselves.
    """
    keys: list[str] = []
    unknown: list[str] = []
    for part in _split(text):
        pieces = [p.strip() for p in part.split(",")]
        start = 0
        while start < len(pieces):
            # The longest run of comma-separated pieces that names something known.
            for end in range(len(pieces), start, -1):
                phrase = _key(", ".join(pieces[start:end]))
                if phrase in words:
                    keys.append(words[phrase])
                    start = end
                    break
            else:
                if pieces[start]:
                    unknown.append(pieces[start])
                start += 1
    return keys, unknown


def _limit(name: str) -> int | None:
    if name in TEXT_LIMITS:
        return TEXT_LIMITS[name]
    return getattr(Action.__table__.c[name].type, "length", None)


def check_row(
    number: int, cells: dict[str, str], words: dict[str, str] | None = None
) -> tuple[dict, list[str]]:
    """An action's values from a row's cells, and the row's problems in plain words.

    ``words`` are the organisation's own status words (word → status, "" for none). When
    they are given, a status word that is neither the portal's nor one of them is not a
    problem of the row: its ``status_word`` is asked about once for the whole file.
    """
    problems: list[str] = []
    values: dict = {name: cells.get(name, "") for name in TEXT_FIELDS}
    if not values["task"]:
        problems.append(f"Row {number}: the task is empty")
    for name in ("objective", "area", "focus_point", *TEXT_FIELDS):
        text = cells.get(name, "")
        limit = _limit(name)
        if limit and len(text) > limit:
            problems.append(
                f"Row {number}: the {LENGTH_NAMES[name]} is {len(text):,} characters long; "
                f"it must be {limit:,} or fewer"
            )
    try:
        values["target_date"] = services.parse_target(values["target_text"])
    except ValueError:
        values["target_date"] = None
        problems.append(
            f"Row {number}: target date ‘{_show(values['target_text'])}’ is not a real date"
        )
    status_text = cells.get("status", "")
    values["status_word"] = ""
    if _key(status_text) in NO_STATUS_WORDS:
        values["status"] = None
    elif _key(status_text) in STATUS_WORDS:
        values["status"] = STATUS_WORDS[_key(status_text)]
    elif words is not None and vocabulary.word_key(status_text) in words:
        values["status"] = words[vocabulary.word_key(status_text)] or None
        values["status_word"] = status_text
    elif words is not None and len(vocabulary.word_key(status_text)) <= vocabulary.WORD_LENGTH:
        values["status"] = None
        values["status_word"] = status_text
    elif words is not None:
        values["status"] = None
        problems.append(
            f"Row {number}: status ‘{_show(status_text)}’ is too long to be a status: keep "
            f"it to {vocabulary.WORD_LENGTH} characters, or do not import the column"
        )
    else:
        values["status"] = None
        problems.append(f"Row {number}: status ‘{_show(status_text)}’ is not one of {STATUS_NAMES}")
    aims_text = cells.get("psed_aims", "")
    if _key(aims_text) in ALL_WORDS:
        values["psed_aims"] = list(PSED_AIMS)
    elif _key(aims_text) in NONE_WORDS:
        values["psed_aims"] = []
    else:
        keys, unknown = _match_words(aims_text, PSED_WORDS)
        values["psed_aims"] = [k for k in PSED_AIMS if k in keys]
        for part in unknown:
            problems.append(
                f"Row {number}: PSED aim ‘{_show(part)}’ is not one of the three aims of the "
                f"general duty: {'; '.join(PSED_AIMS.values())} (or All)"
            )
    characteristics_text = cells.get("characteristics", "")
    if _key(characteristics_text) in ALL_WORDS:
        values["characteristics"] = [ALL_CHARACTERISTICS]
    elif _key(characteristics_text) in NONE_WORDS:
        values["characteristics"] = []
    else:
        keys, unknown = _match_words(characteristics_text, CHARACTERISTIC_WORDS)
        values["characteristics"] = [k for k in CHARACTERISTICS if k in keys]
        for part in unknown:
            problems.append(
                f"Row {number}: protected characteristic ‘{_show(part)}’ is not one of "
                f"{', '.join(CHARACTERISTICS.values())} (or All)"
            )
    return values, problems


def _same(text: str) -> str:
    return " ".join((text or "").split()).casefold()


def preview(upload: PendingImport) -> Preview:
    """Every row of the upload checked, and which are new or already in the plan."""
    table = table_of(upload)
    mapping = upload.mapping or guess_mapping(table.headings)
    result = Preview()
    default = None
    if upload.default_objective == NEW_OBJECTIVE or not upload.default_objective:
        result.default_title = upload.new_objective or "Imported actions"
    else:
        default = db.session.scalar(
            select(Objective).where(Objective.id == _id(upload.default_objective))
        )
        if default is None:
            result.errors.append(
                "The objective chosen for rows that name none has been deleted: choose another"
            )
            return result
        result.default_title = default.title
    existing = {_same(o.title): o for o in db.session.scalars(select(Objective))}
    in_plan = {
        (objective_id, _same(task))
        for objective_id, task in db.session.execute(select(Action.objective_id, Action.task))
    }
    seen: set[tuple[str, str]] = set()
    carried = ""
    words = vocabulary.remembered_words()
    found_words: dict[str, vocabulary.StatusWord] = {}
    people = vocabulary.People()
    areas = vocabulary.Areas()
    for number, row in table.rows:
        cells: dict[str, str] = {}
        for column, name in enumerate(mapping):
            if name != "ignore":
                cells[name] = table.cell(row, column)
        if not any(cells.values()):
            continue
        # A spreadsheet often names an objective once, above the actions under it (or in
        # merged cells): a row without one belongs to the objective above it.
        if "objective" in cells:
            carried = cells["objective"] or carried
            if not any(v for k, v in cells.items() if k != "objective"):
                continue  # a heading row: the objective of the rows below it
        title = carried or result.default_title
        values, problems = check_row(number, cells, words)
        item = ImportRow(number=number, objective=title, values=values)
        if values["status_word"]:
            key = vocabulary.word_key(values["status_word"])
            word = found_words.setdefault(
                key, vocabulary.StatusWord(text=values["status_word"], key=key, chosen=None)
            )
            if key in words:
                word.chosen = vocabulary.choice_of(words[key])
                item.status_shown = f"{word.meaning} (from “{values['status_word']}”)"
            else:
                item.status_shown = f"Not yet chosen: “{values['status_word']}”"
            word.rows += 1
        else:
            item.status_shown = STATUSES.get(values["status"] or "", "No status recorded")
        person = people.match(cells.get("lead_user", "")) or people.match(values["lead_officer"])
        values["lead_user_id"] = person.id if person is not None else None
        item.lead_name = person.name if person is not None else ""
        if len(cells.get("area", "")) <= TEXT_LIMITS["area"]:
            item.area = areas.area(cells.get("area", ""))
        if len(cells.get("focus_point", "")) <= TEXT_LIMITS["focus_point"]:
            try:
                item.point = areas.point(cells.get("focus_point", ""), item.area)
            except ValueError:
                problems.append(
                    f"Row {number}: focus point ‘{_show(cells['focus_point'])}’ is not one of "
                    "the organisation’s: name its role or focus area in the same row"
                )
        if (
            item.area is not None
            and item.area.id is None
            and item.area.label not in result.new_areas
        ):
            result.new_areas.append(item.area.label)
        result.errors.extend(problems)
        key = (_same(title), _same(values["task"]))
        target = default if not carried and default is not None else existing.get(_same(title))
        if key in seen:
            item.repeated = True
        elif target is not None and (target.id, _same(values["task"])) in in_plan:
            item.already = True
        seen.add(key)
        if target is None and title not in result.new_objectives:
            if _same(title) not in {_same(t) for t in result.new_objectives}:
                result.new_objectives.append(title)
        result.rows.append(item)
    if not result.rows:
        result.errors.append("None of the rows has anything in the columns chosen to import")
    result.status_words = list(found_words.values())
    if len(result.status_words) > vocabulary.MAX_STATUS_WORDS:
        result.errors.append(
            f"The status column holds {len(result.status_words)} different wordings: it looks "
            "like notes of progress rather than statuses. Change the columns and choose “Do "
            "not import this column” for it, or keep to one status word in each row."
        )
        result.status_words = []
    elif result.unchosen_words:
        listed = ", ".join(f"‘{_show(w.text)}’" for w in result.unchosen_words)
        result.errors.append(f"Choose what each status word means, below the rows: {listed}")
    return result


def save_status_words(upload: PendingImport, choices: list[str]) -> None:
    """Keep what each status word of the upload means, for this and later imports;
    services.ValidationError, with nothing kept, if a choice is missing or wrong."""
    vocabulary.save_status_words(preview(upload).status_words, choices)


# --- importing ---------------------------------------------------------------------------


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
    result = preview(upload)
    if result.errors:
        raise services.ValidationError({"file": result.errors[0]})
    now = clock.utcnow()
    try:
        objectives = {_same(o.title): o for o in db.session.scalars(select(Objective))}
        default = None
        if _id(upload.default_objective) is not None:
            default = db.session.scalar(
                select(Objective).where(Objective.id == _id(upload.default_objective))
            )
        position = db.session.scalar(select(func.max(Objective.position))) or 0
        created = 0
        positions: dict[int, int] = {}
        maker = vocabulary.AreaMaker()
        for row in result.new:
            objective = objectives.get(_same(row.objective))
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
                objectives[_same(row.objective)] = objective
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
            clean = services._clean_action(data)
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
