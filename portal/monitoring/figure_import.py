"""Figures read from a file (CSV or a spreadsheet) into cells for the figures grid's
checks: nothing is saved here."""

from __future__ import annotations

import csv
import io

from portal.monitoring import periods
from portal.monitoring.figures import Cell, Problem, ValuesRejected
from portal.monitoring.measures import TOTAL, row_label
from portal.monitoring.models import (
    Measure,
)

MAX_IMPORT_BYTES = 1_000_000
MAX_IMPORT_LINES = 5000


UNREADABLE_CSV = (
    "The file could not be read as a CSV file: a value may be far too long, or a quotation "
    "mark may not be closed. Check the file and try again"
)


NOT_A_SPREADSHEET = (
    "That is not a spreadsheet. Choose a CSV file or an Excel workbook (.xlsx) with the "
    "columns period, category and value"
)
# How files that are not spreadsheets begin: PDF, images, Word and other documents.
_OTHER_FILES = (b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"{\\rtf", b"\x1f\x8b", b"Rar!")


def file_cells(measure: Measure, filename: str, data: bytes) -> tuple[list[Cell], str]:
    """Figures from a CSV file or an Excel workbook, told apart by what the file holds.

    Returns the cells and how they came (``"csv"`` or ``"xlsx"``). Raises
    :class:`ValuesRejected` for anything else (a PDF, a Word document, an image), saying
    plainly that it is not a spreadsheet.
    """
    if len(data) > MAX_IMPORT_BYTES:
        raise ValuesRejected([Problem("The file must be smaller than 1 MB")])
    if not data.strip():
        raise ValuesRejected([Problem("The selected file is empty")])
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise ValuesRejected(
            [
                Problem(
                    "Excel 97–2003 workbooks (.xls) cannot be read: save it as .xlsx or CSV "
                    "and import it again"
                )
            ]
        )
    if data.startswith(_OTHER_FILES):
        raise ValuesRejected([Problem(NOT_A_SPREADSHEET)])
    if data.startswith(b"PK\x03\x04"):
        return _cells(measure, _workbook_rows(data)), "xlsx"
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ValuesRejected([Problem(NOT_A_SPREADSHEET)])
    return csv_cells(measure, data), "csv"


def _workbook_rows(data: bytes) -> list[list[str]]:
    """The rows of the workbook's sheet of figures, as text: the first sheet whose first
    row names the columns period and value, or else the first sheet."""
    import zipfile

    from portal.actions import importing

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise ValuesRejected([Problem(NOT_A_SPREADSHEET)]) from None
    if "xl/workbook.xml" not in names:
        raise ValuesRejected([Problem(NOT_A_SPREADSHEET)])
    try:
        sheets = importing.workbook_sheets(data, max_rows=MAX_IMPORT_LINES)
    except importing.ImportProblem as exc:
        raise ValuesRejected([Problem(str(exc))]) from None
    for _, rows in sheets:
        first = next((r for r in rows if any(r)), [])
        if {"period", "value"} <= {c.strip().lower() for c in first}:
            return rows
    return sheets[0][1] if sheets else []


def csv_cells(measure: Measure, data: bytes) -> list[Cell]:
    """Read a CSV file of figures: columns period, category (empty for the total), value.

    Raises :class:`ValuesRejected` for a file that cannot be read or has lines that are
    not figures; values themselves are checked by :func:`save_values`.
    """
    if len(data) > MAX_IMPORT_BYTES:
        raise ValuesRejected([Problem("The file must be smaller than 1 MB")])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValuesRejected([Problem("The file must be a CSV file saved as UTF-8")]) from None
    try:
        lines = list(csv.reader(io.StringIO(text)))
    except csv.Error:
        raise ValuesRejected([Problem(UNREADABLE_CSV)]) from None
    return _cells(measure, lines)


def _cells(measure: Measure, lines: list[list[str]]) -> list[Cell]:
    """The figures in rows of text whose first row names the columns."""
    header = [h.strip().lower() for h in (lines[0] if lines else [])]
    if not {"period", "value"} <= set(header):
        raise ValuesRejected(
            [Problem("The first line of the file must name the columns: period, category, value")]
        )
    at = {name: header.index(name) for name in ("period", "category", "value") if name in header}
    problems: list[Problem] = []
    cells: list[Cell] = []
    seen: dict[tuple[str, str], int] = {}
    for line, row in enumerate(lines[1:], start=2):
        if line > MAX_IMPORT_LINES:
            problems.append(Problem(f"The file can have at most {MAX_IMPORT_LINES} lines"))
            break
        if not any(part.strip() for part in row):
            continue

        def column(name: str, row=row) -> str:
            index = at.get(name)
            return row[index].strip() if index is not None and index < len(row) else ""

        where = f"Line {line}"
        period = periods.parse(column("period"), measure.period_type)
        if period is None:
            example = "2019 Q1" if measure.period_type == periods.QUARTER else "2019"
            problems.append(
                Problem(f"{where}: “{column('period')}” is not a period. Write it like {example}")
            )
            continue
        category = column("category")
        if category.lower() == "total":
            category = TOTAL
        if not column("value"):
            problems.append(Problem(f"{where}: enter a value"))
            continue
        if (period, category) in seen:
            problems.append(
                Problem(
                    f"{where}: repeats the figure for {row_label(category)}, "
                    f"{periods.label(period)} (line {seen[(period, category)]})"
                )
            )
            continue
        seen[(period, category)] = line
        cells.append(Cell(period, category, column("value"), where, line=line))
    if problems:
        raise ValuesRejected(problems)
    if not cells:
        raise ValuesRejected([Problem("The file has no figures in it")])
    return cells
