"""Figures of a measure imported from an Excel workbook as well as CSV; other files are
told plainly that they are not spreadsheets."""

from __future__ import annotations

import io

import pytest

from tests.helpers import audit_events, csrf_token
from tests.test_monitoring import _measure, _values


def _post(client, measure_number: int, content: bytes, name: str):
    url = f"/t/sevenoaks/monitoring/measures/{measure_number}/import"
    return client.post(
        url,
        data={"csrf_token": csrf_token(client, url), "file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )


def _workbook(sheets: dict[str, list[list]]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_figures_are_imported_from_an_xlsx_workbook(app, client, login_as):
    with app.app_context():
        measure_number = _measure("sevenoaks")
    login_as("officer", "sevenoaks")
    content = _workbook(
        {
            "Figures": [
                ["Period", "Category", "Value"],
                [2019, None, 40],
                [2019, "Female", 22],
                ["2019-20", "Male", 17.0],
                [2020, "Total", 41],
            ]
        }
    )
    response = _post(client, measure_number, content, "complaints.xlsx")
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    with app.app_context():
        assert _values("sevenoaks", measure_number) == {
            "2019": {"": 40, "Female": 22, "Male": 17},
            "2020": {"": 41},
        }
        assert audit_events(app, action="measure.values_saved")[-1].detail["via"] == "xlsx"


def test_the_workbook_sheet_with_the_figures_is_read_though_notes_come_first(app, client, login_as):
    with app.app_context():
        measure_number = _measure("sevenoaks")
    login_as("officer", "sevenoaks")
    content = _workbook(
        {
            "Notes": [["Complaints by sex, from the customer services system"], ["Draft"]],
            "Data": [["period", "category", "value"], [2019, "", 12]],
        }
    )
    assert _post(client, measure_number, content, "figures.xlsx").status_code == 302
    with app.app_context():
        assert _values("sevenoaks", measure_number) == {"2019": {"": 12}}


def test_a_workbook_mistake_is_reported_by_row_and_nothing_is_saved(app, client, login_as):
    with app.app_context():
        measure_number = _measure("sevenoaks")
    login_as("officer", "sevenoaks")
    content = _workbook(
        {"Sheet1": [["period", "category", "value"], [2019, "", 40], ["soon", "", 3]]}
    )
    page = _post(client, measure_number, content, "f.xlsx").get_data(as_text=True)
    assert "Line 3: “soon” is not a period" in page
    with app.app_context():
        assert _values("sevenoaks", measure_number) == {}


PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"


def _docx() -> bytes:
    import docx

    document = docx.Document()
    document.add_paragraph("period,category,value")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("figures.pdf", PDF),
        ("figures.csv", PDF),  # a PDF renamed: known by what it holds
        ("figures.xlsx", PDF),
        ("figures.docx", "docx"),
        ("figures.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40),
        ("figures.csv", b"\x00\x01\x02\x03binary\x00"),
    ],
    ids=["pdf", "pdf-named-csv", "pdf-named-xlsx", "docx", "png", "binary"],
)
def test_a_file_that_is_not_a_spreadsheet_is_told_so(app, client, login_as, name, content):
    with app.app_context():
        measure_number = _measure("sevenoaks")
    login_as("officer", "sevenoaks")
    if content == "docx":
        content = _docx()
    page = _post(client, measure_number, content, name).get_data(as_text=True)
    assert "That is not a spreadsheet" in page
    assert "must name the columns" not in page
    with app.app_context():
        assert _values("sevenoaks", measure_number) == {}


def test_an_old_excel_workbook_is_asked_to_be_saved_again(app, client, login_as):
    with app.app_context():
        measure_number = _measure("sevenoaks")
    login_as("officer", "sevenoaks")
    content = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 200
    page = _post(client, measure_number, content, "figures.xls").get_data(as_text=True)
    assert "save it as .xlsx or CSV" in page


def test_the_import_page_offers_xlsx(app, client, login_as):
    with app.app_context():
        measure_number = _measure("sevenoaks")
    login_as("officer", "sevenoaks")
    page = client.get(f"/t/sevenoaks/monitoring/measures/{measure_number}/import")
    text = page.get_data(as_text=True)
    assert ".xlsx" in text and "CSV or Excel" in text
