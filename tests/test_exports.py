"""CSV and XLSX exports: safe in any spreadsheet locale, with a correct content type."""

from __future__ import annotations

import csv
import io

from portal.exports import to_csv


def _read(body: bytes, delimiter: str) -> list[list[str]]:
    text = body.decode("utf-8").lstrip("\ufeff")
    return list(csv.reader(io.StringIO(text), delimiter=delimiter))


def test_a_semicolon_locale_cannot_split_a_neutralised_value_into_a_formula():
    body = to_csv(["Title", "Count"], [["=1+1;=SUM(A1:A9)", 3], ["Plain", 4]])
    # A spreadsheet set to a semicolon list separator reads the same file like this.
    for row in _read(body, ";"):
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@")), row
    rows = _read(body, ",")
    assert rows[1][0] == "'=1+1;=SUM(A1:A9)"
    assert rows[1][1] == "3"


def test_every_csv_cell_is_quoted():
    body = to_csv(["A", "B"], [["x", 1]]).decode("utf-8").lstrip("\ufeff")
    assert body.splitlines() == ['"A","B"', '"x","1"']


def test_csv_download_names_its_charset_once(login_as, client):
    login_as("viewer", "sevenoaks")
    response = client.get("/t/sevenoaks/plan/actions/export?format=csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"


def test_xlsx_download_has_no_charset(login_as, client):
    login_as("viewer", "sevenoaks")
    response = client.get("/t/sevenoaks/plan/actions/export?format=xlsx")
    assert response.headers["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )


def test_control_characters_that_a_spreadsheet_refuses_are_left_out_not_a_server_error():
    # Text typed into the portal can carry control characters (pasted from elsewhere, or
    # sent on purpose); XLSX cannot hold them, and openpyxl raised an error for the page.
    from openpyxl import load_workbook

    from portal.exports import to_xlsx, to_xlsx_sheets
    from portal.reports import formats

    text = "Staff\x0b survey\x01 \x1b=1+1"
    sheet = load_workbook(io.BytesIO(to_xlsx(["Name"], [[text]]))).active
    assert sheet["A2"].value == "Staff survey =1+1"
    sheet = load_workbook(io.BytesIO(to_xlsx_sheets([("Measures", ["Name"], [[text]])]))).active
    assert sheet["A2"].value == "Staff survey =1+1"
    annex = {
        "title": "Joint annual report",
        "annex": [
            {
                "member": "Sevenoaks",
                "measure": "\x01=HYPERLINK(1)",
                "period": "2025-26",
                "category": "",
                "unit": "count",
                "value": 15,
                "mark": "rounded",
            }
        ],
    }
    sheet = load_workbook(io.BytesIO(formats.annex_xlsx(annex))).active
    assert sheet["B2"].value == "'=HYPERLINK(1)"
    rows = list(csv.reader(io.StringIO(to_csv(["Name"], [[text]]).decode("utf-8-sig"))))
    assert rows[1] == ["Staff survey =1+1"]
