"""Reading an uploaded spreadsheet: a CSV file or an XLSX workbook, as sheets of text.

An XLSX file is a zip of XML. Before it is opened, the sizes its zip directory declares are
added up: a real action plan unpacks to a few megabytes, so a workbook that would unpack to
more than ``MAX_UNPACKED_BYTES``, or that is packed more tightly than ``MAX_RATIO`` (the
mark of a "zip bomb"), is refused without being read. Every sheet of a workbook is read, and
the one most like an action plan is offered first.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time

from portal.actions import services
from portal.actions.import_vocabulary import KNOWN_HEADINGS, STATUS_WORDS, recognised, word_key
from portal.actions.models import PendingImport

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


EXTENSIONS = ("csv", "tsv", "txt", "xlsx")


DANGEROUS_START = ("=", "+", "-", "@", "\t", "\r")


class ImportProblem(ValueError):
    """A file that cannot be read at all; the message says why in plain words."""


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
    if word_key(text) in STATUS_WORDS or re.fullmatch(r"[\d\s.,£%/-]+", text):
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
    recognised = [h for h in headings if word_key(h) in KNOWN_HEADINGS]
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


def table_of(upload: PendingImport) -> Table:
    """The rows of an upload as they were read when it was uploaded; the file is not kept."""
    return Table(
        headings=list(upload.headings),
        rows=[(int(number), list(cells)) for number, cells in upload.rows],
    )


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
