"""Lists exported as CSV or XLSX, safe to open in a spreadsheet.

A cell whose text starts with = + - @, a tab or a carriage return could run as a formula
when the file is opened, so such text gets a leading single quote. Every CSV cell is
quoted too: a spreadsheet that splits on semicolons (as in many European locales) could
otherwise cut ``'x;=cmd`` into a live formula. Dates are written as ISO 8601 (2017-11-30).
Every export is recorded in the audit trail.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime

from flask import Response

from portal import audit
from portal.extensions import db

FORMATS = {
    "csv": ("text/csv; charset=utf-8", "csv"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
}
DANGEROUS_START = ("=", "+", "-", "@", "\t", "\r")
# Control characters an XLSX cell cannot hold (tab, line feed and carriage return it can):
# text pasted or sent with them is kept without them, rather than failing the download.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def neutralise(value):
    """A cell value that cannot run as a formula; dates as ISO 8601 text."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.replace(microsecond=0).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, int | float):
        return value
    if isinstance(value, list | tuple | set):
        value = "; ".join(str(v) for v in value)
    text = CONTROL_CHARACTERS.sub("", str(value))
    if text.startswith(DANGEROUS_START):
        return "'" + text
    return text


def to_csv(headers: Sequence[str], rows: Iterable[Sequence]) -> bytes:
    """CSV with a byte-order mark, so spreadsheet programs read UTF-8 text correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL)
    writer.writerow([neutralise(h) for h in headers])
    for row in rows:
        writer.writerow([neutralise(v) for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(headers: Sequence[str], rows: Iterable[Sequence], *, title: str = "Export") -> bytes:
    """An XLSX workbook of one sheet; dates are real dates shown as YYYY-MM-DD."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = re.sub(r"[\[\]:*?/\\]", " ", title)[:31] or "Export"
    sheet.append([neutralise(h) for h in headers])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        values = []
        for value in row:
            if isinstance(value, date) and not isinstance(value, datetime):
                values.append(value)
            else:
                values.append(neutralise(value))
        sheet.append(values)
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, date | datetime):
                cell.number_format = "yyyy-mm-dd"
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def to_xlsx_sheets(sheets: Iterable[tuple[str, Sequence[str], Iterable[Sequence]]]) -> bytes:
    """An XLSX workbook of several sheets, each (title, headings, rows), in order."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    workbook.remove(workbook.active)
    used: set[str] = set()
    for title, headers, rows in sheets:
        name = re.sub(r"[\[\]:*?/\\\x00-\x1f]", " ", title)[:31].strip() or "Sheet"
        n = 2
        while name.lower() in used:
            suffix = f" ({n})"
            name = name[: 31 - len(suffix)] + suffix
            n += 1
        used.add(name.lower())
        sheet = workbook.create_sheet(name)
        sheet.append([neutralise(h) for h in headers])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in rows:
            sheet.append([neutralise(v) for v in row])
        sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def response(
    fmt: str,
    filename: str,
    headers: Sequence[str],
    rows: Iterable[Sequence],
    *,
    what: str,
    detail: dict | None = None,
) -> Response:
    """The export as a download, recorded in the audit trail as an "export"."""
    if fmt not in FORMATS:
        fmt = "csv"
    rows = list(rows)
    mimetype, extension = FORMATS[fmt]
    body = to_csv(headers, rows) if fmt == "csv" else to_xlsx(headers, rows, title=what)
    audit.record(
        "export",
        object_type=what,
        detail={"format": fmt, "rows": len(rows), **(detail or {})},
    )
    db.session.commit()
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", filename).strip("-") or "export"
    # content_type, not mimetype: Flask would add a second charset to a text/ type.
    return Response(
        body,
        content_type=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{safe}.{extension}"'},
    )
