"""Importing an action plan from CSV or XLSX: upload, columns, preview, import."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal import clock
from portal.actions import importing, services
from portal.actions.models import Action, Objective, PendingImport
from portal.tenancy import tenant_scope
from tests.helpers import audit_events, csrf_token, tenant, user

IMPORT = "/t/maidstone/plan/import"
THANET_TSV = Path(__file__).parent.parent / "portal/actions/seed_data/thanet-action-plan.tsv"
GOOD_CSV = (
    "Objective,Action,Lead officer,Target date,Status,PSED aims,Protected characteristics,"
    "How will we know it is done\n"
    "Know our residents,Publish ward profiles,Data Officer,31 March 2027,On target,"
    '"Advance equality of opportunity; Foster good relations","Age; Disability",'
    "Profiles on the website\n"
    ",Survey residents every year,Data Officer,2026/27,Not started,All,All,\n"
    "Fair services,Review the complaints form,Customer Services,Ongoing,,n/a,Race,\n"
)


def _in(app, slug, fn):
    with app.app_context():
        with tenant_scope(tenant(slug)):
            return fn()


def _officer_id(slug: str = "maidstone") -> int:
    return user(f"officer@{slug}.demo").id


def _store(app, content: bytes, slug: str = "maidstone", name: str = "p.csv") -> str:
    """An upload by the organisation's officer, made without the pages; its token."""
    return _in(app, slug, lambda: importing.store_upload(name, content, _officer_id(slug)).token)


def _pending(app, slug: str = "maidstone") -> list[str]:
    """The tokens of the organisation's uploads waiting to be imported."""
    from portal.extensions import db

    return _in(app, slug, lambda: list(db.session.scalars(select(PendingImport.token))))


def _count(app, model=Action, slug="maidstone") -> int:
    from portal.extensions import db

    return _in(app, slug, lambda: db.session.scalar(select(func.count(model.id))))


def _upload(client, name: str, content: bytes, base: str = IMPORT):
    token = csrf_token(client, base)
    return client.post(
        base,
        data={"csrf_token": token, "spreadsheet": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )


def _token(response) -> str:
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    match = re.search(r"/import/([0-9a-f]{32})/columns$", response.headers["Location"])
    assert match, response.headers["Location"]
    return match.group(1)


def _selected(html: str) -> dict[str, str]:
    """Each select's chosen value, by its name."""
    chosen = {}
    for name, body in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', html, re.S):
        match = re.search(r'<option value="([^"]*)"[^>]*selected', body)
        chosen[name] = match.group(1) if match else ""
    return chosen


def _columns(client, token: str, base: str = IMPORT, **changes):
    """Accept the columns page as it is pre-filled, with ``changes``."""
    url = f"{base}/{token}/columns"
    html = client.get(url).get_data(as_text=True)
    data = _selected(html)
    match = re.search(r'name="new_objective"[^>]*value="([^"]*)"', html)
    data["new_objective"] = match.group(1) if match else ""
    data.update(changes)
    data["csrf_token"] = csrf_token(client, url)
    return client.post(url, data=data)


def _preview(client, token: str, base: str = IMPORT) -> str:
    return client.get(f"{base}/{token}/preview").get_data(as_text=True)


def _import(client, token: str, base: str = IMPORT):
    url = f"{base}/{token}/preview"
    return client.post(url, data={"csrf_token": csrf_token(client, url)})


def _go(client, name: str, content: bytes, base: str = IMPORT, **changes):
    token = _token(_upload(client, name, content, base))
    response = _columns(client, token, base, **changes)
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    return token, _preview(client, token, base)


def _actions(app, slug="maidstone", objective: str | None = None) -> list[Action]:
    from portal.extensions import db

    def read():
        query = select(Action).join(Objective).order_by(Action.id)
        if objective:
            query = query.where(Objective.title == objective)
        rows = list(db.session.scalars(query))
        db.session.expunge_all()
        return rows

    return _in(app, slug, read)


def _xlsx(rows: list[list]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- good files --------------------------------------------------------------------------


def test_the_thanet_seed_table_imports_with_no_mapping(login_as, client, app):
    login_as("officer", "maidstone")
    response = _upload(client, "thanet-action-plan.tsv", THANET_TSV.read_bytes())
    token = _token(response)
    html = client.get(f"{IMPORT}/{token}/columns").get_data(as_text=True)
    chosen = _selected(html)
    assert [chosen[f"column_{i}"] for i in range(11)] == [
        "task",
        "arising_from",
        "lead_officer",
        "directorate",
        "section",
        "target_text",
        "status",
        "corporate_priority",
        "eflg_criteria",
        "psed_aims",
        "characteristics",
    ]
    assert html.count("Recognised heading.") == 11
    assert _columns(client, token).status_code == 302
    page = _preview(client, token)
    assert "problem" not in page
    assert "15 rows: 15 new, 0 already in the plan." in page
    assert "Import 15 actions" in page
    before = _count(app)

    response = _import(client, token)
    assert response.status_code == 302 and response.headers["Location"].endswith("/objectives")
    assert _count(app) == before + 15
    rows = _actions(app, objective="Imported actions")
    assert len(rows) == 15
    first = rows[0]
    assert first.task.startswith("Develop equality/service user impact analysis approach")
    assert first.lead_officer == "Claire Grant"
    assert first.directorate == "Corporate Services & Transformation"
    assert first.target_text == "Before July 2013"
    assert first.psed_aims == ["eliminate", "advance", "foster"]
    assert first.characteristics == ["all"]
    assert rows[2].status == "on-target" and rows[0].status is None
    assert rows[10].target_text == "31 st January (annually)" and rows[10].psed_aims == []
    [event] = audit_events(app, action="actions.imported")
    assert event.detail["added"] == 15 and event.detail["already_in_plan"] == 0
    assert event.detail["objectives_added"] == 1
    assert event.tenant_id == _in(app, "maidstone", lambda: tenant("maidstone").id)
    # The upload is gone once imported.
    assert client.get(f"{IMPORT}/{token}/preview").status_code == 404
    assert _pending(app) == []


def test_the_thanet_seed_table_is_already_in_thanets_plan(login_as, client, app):
    from portal.extensions import db

    objective_id = _in(
        app,
        "thanet",
        lambda: db.session.scalar(
            select(Objective.id).where(Objective.title == "Equality Objectives Action Plan")
        ),
    )
    base = "/t/thanet/plan/import"
    login_as("officer", "thanet")
    before = _count(app, slug="thanet")
    token, page = _go(
        client, "plan.tsv", THANET_TSV.read_bytes(), base, default_objective=str(objective_id)
    )
    assert "15 rows: 0 new, 15 already in the plan." in page
    assert "nothing to import" in page and "Import 0" not in page
    _import(client, token)
    assert _count(app, slug="thanet") == before


def test_a_csv_with_objectives_is_imported_with_every_column(login_as, client, app):
    login_as("officer", "maidstone")
    objectives = _count(app, Objective)
    token, page = _go(client, "plan.csv", GOOD_CSV.encode())
    assert "3 rows: 3 new, 0 already in the plan." in page
    assert "2 new objectives will be added" in page
    _import(client, token)
    assert _count(app, Objective) == objectives + 2
    profiles, survey = _actions(app, objective="Know our residents")
    assert profiles.task == "Publish ward profiles"
    assert profiles.target_date == date(2027, 3, 31) and profiles.status == "on-target"
    assert profiles.psed_aims == ["advance", "foster"]
    assert profiles.characteristics == ["age", "disability"]
    assert profiles.measures == "Profiles on the website"
    # A row with no objective belongs to the objective of the row above.
    assert survey.task == "Survey residents every year" and survey.characteristics == ["all"]
    assert survey.target_text == "2026/27" and survey.target_date is None
    [review] = _actions(app, objective="Fair services")
    assert review.status is None and review.psed_aims == [] and review.characteristics == ["race"]


def test_an_xlsx_with_real_dates_and_formula_cells_is_imported_as_text(login_as, client, app):
    content = _xlsx(
        [
            ["Objective/Task", "Target Completion Date", "Status", "Lead Officer", "Notes"],
            [
                '=HYPERLINK("http://evil.example","Click")',
                datetime(2027, 1, 31),
                "At risk",
                "@SUM(1)",
            ],
            ["Train staff", date(2026, 11, 30), "complete", "+44 1622", "ignored"],
            [None, None, None, None, None],
            ["Count visitors", "=1+1", "", "-2+3", ""],
        ]
    )
    login_as("officer", "maidstone")
    token, page = _go(client, "plan.xlsx", content)
    assert "3 rows: 3 new" in page and "problem" not in page
    _import(client, token)
    formula, train, count = _actions(app, objective="Imported actions")
    assert formula.task == '=HYPERLINK("http://evil.example","Click")'
    assert formula.lead_officer == "@SUM(1)"
    assert formula.target_text == "31 January 2027" and formula.target_date == date(2027, 1, 31)
    assert formula.status == "at-risk"
    assert train.status == "complete" and train.lead_officer == "+44 1622"
    assert train.target_date == date(2026, 11, 30)
    assert count.target_text == "=1+1" and count.target_date is None
    assert count.lead_officer == "-2+3"


def test_maidstones_headings_are_recognised():
    headings = [
        "Objective",
        "Actions",
        "Responsible officer",
        "How will we know that this done?",
        "To be delivered by:",
    ]
    assert importing.guess_mapping(headings) == [
        "objective",
        "task",
        "lead_officer",
        "measures",
        "target_text",
    ]


# The seeds sit beside the project, at ../shared/seeds.
MAIDSTONE_SEED = (
    Path(__file__).resolve().parent.parent.parent
    / "shared/seeds/maidstone-equalities-policy-and-objectives-2017-21.txt"
)


def _maidstone_table() -> bytes:
    """The heading row and first rows of Maidstone's action plan table, as in the seed."""
    if not MAIDSTONE_SEED.exists():
        pytest.skip("the Maidstone seed document is not beside the project")
    seed = MAIDSTONE_SEED
    lines = seed.read_text(encoding="utf-8").splitlines()
    start = lines.index(next(line for line in lines if line.startswith("Objective\tActions")))
    return "\n".join(lines[start : start + 5]).encode("utf-8")


def test_maidstones_seed_table_imports_with_no_mapping(login_as, client, app):
    login_as("officer", "thanet")
    base = "/t/thanet/plan/import"
    token, page = _go(client, "maidstone.txt", _maidstone_table(), base)
    # The "Role 1: …" row names only an objective, like a heading: it is not an action.
    assert "3 rows: 3 new, 0 already in the plan." in page and "problem" not in page
    _import(client, token, base)
    [row] = _actions(
        app,
        "thanet",
        "Increase understanding of Maidstone's residents through analysis of demographic "
        "information.",
    )
    assert row.task.startswith("Provide ward level analysis of demographic information")
    assert row.lead_officer == "Policy and Information team – Data Intelligence Officer"
    assert (
        row.measures == "Report to be produced for every ward member following annual "
        "Resident's Survey"
    )
    assert row.target_text == "November 2017" and row.target_date == date(2017, 11, 30)


def test_the_portals_own_export_imports_again_without_duplicates(login_as, client, app):
    login_as("officer", "maidstone")
    exported = client.get("/t/maidstone/plan/actions/export?format=csv").data
    total = _count(app)
    token, page = _go(client, "maidstone-actions.csv", exported)
    assert f"{total} rows: 0 new, {total} already in the plan." in page
    assert "problem" not in page

    # The same file in another organisation: every action and objective is new.
    client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})
    login_as("officer", "thanet")
    base = "/t/thanet/plan/import"
    before = _count(app, slug="thanet")
    token, page = _go(client, "maidstone-actions.csv", exported, base)
    assert f"{total} rows: {total} new, 0 already in the plan." in page
    _import(client, token, base)
    assert _count(app, slug="thanet") == before + total
    theirs = {(a.task, a.lead_officer, a.target_text, a.measures) for a in _actions(app)}
    ours = {(a.task, a.lead_officer, a.target_text, a.measures) for a in _actions(app, "thanet")}
    assert theirs <= ours


def test_windows_1252_and_utf8_with_a_byte_order_mark_are_read(login_as, client, app):
    login_as("officer", "maidstone")
    text = "Action,Lead officer\nCafé opening – access check,Equalities Officer £\n"
    for content in (text.encode("cp1252"), b"\xef\xbb\xbf" + text.encode("utf-8")):
        token, page = _go(client, "plan.csv", content)
        assert "1 row: 1 new" in page or "1 row: 0 new, 1 already" in page
        _import(client, token)
    [row] = [a for a in _actions(app) if a.task.startswith("Café")]
    assert row.task == "Café opening – access check" and row.lead_officer.endswith("£")


def test_reimporting_the_same_file_adds_nothing(login_as, client, app):
    login_as("officer", "maidstone")
    token, _ = _go(client, "plan.csv", GOOD_CSV.encode())
    _import(client, token)
    after_first = (_count(app), _count(app, Objective))
    token, page = _go(client, "plan.csv", GOOD_CSV.encode())
    assert "3 rows: 0 new, 3 already in the plan." in page
    assert "left as they are" in page
    _import(client, token)
    assert (_count(app), _count(app, Objective)) == after_first
    # A row repeated within one file is counted once.
    doubled = "Action\nWrite the plan\nWrite the plan\n"
    token, page = _go(client, "plan.csv", doubled.encode())
    assert "2 rows: 1 new, 0 already in the plan, 1 repeated in the file." in page
    _import(client, token)
    assert _count(app) == after_first[0] + 1


# --- broken files ------------------------------------------------------------------------


BAD_ROWS = (
    "Objective/Task,Target Completion Date,Status,PSED Aim,PC\n"  # row 1
    "Row two is fine,31 March 2014,On target,All,All\n"  # 2
    "Row three is fine,2013/14,,n/a,Age\n"  # 3
    "Row four is fine,TBC,Complete,Foster good relations,All\n"  # 4
    "Row five,,,Promote happiness,Age; Shoe size\n"  # 5
    "Row six is fine,Ongoing,At risk,All,All\n"  # 6
    "Row seven,31/02/2014,On target,All,All\n"  # 7
    "Row eight is fine,,Cancelled,,\n"  # 8
    "Row nine,,Done,All,All\n"  # 9
    ",,,,\n"  # 10: blank, skipped
    "Row eleven is fine,,,,\n"  # 11
    ",1 April 2014,On target,All,All\n"  # 12
)


def test_every_row_error_is_listed_with_its_row_number(login_as, client, app):
    login_as("officer", "maidstone")
    before = _count(app)
    token, page = _go(client, "plan.csv", BAD_ROWS.encode())
    problems = re.findall(r"<li>(Row \d+:[^<]*)</li>", page)
    assert problems == [
        "Row 5: PSED aim ‘Promote happiness’ is not one of the three aims of the general duty: "
        "Eliminate discrimination, harassment and victimisation; Advance equality of "
        "opportunity; Foster good relations (or All)",
        "Row 5: protected characteristic ‘Shoe size’ is not one of Age, Disability, Gender "
        "reassignment, Marriage and civil partnership, Pregnancy and maternity, Race, Religion "
        "or belief, Sex, Sexual orientation (or All)",
        "Row 7: target date ‘31/02/2014’ is not a real date",
        "Row 12: the task is empty",
    ]
    # A status word the portal does not know is asked about once, not refused by row.
    assert "Choose what each status word means, below the rows: ‘Done’" in page
    assert "There are 5 problems in the file" in page
    assert "Nothing has been imported" in page
    assert not re.search(r">\s*Import \d+ action", page)
    # Posting anyway imports nothing: the whole file must be valid first.
    response = _import(client, token)
    assert response.status_code == 200
    assert _count(app) == before
    assert not audit_events(app, action="actions.imported")

    fixed = BAD_ROWS.replace("Promote happiness", "Advance").replace("; Shoe size", "")
    fixed = fixed.replace("31/02/2014", "28/02/2014").replace("Done", "Complete")
    fixed = fixed.replace(",1 April 2014", "Row twelve,1 April 2014")
    token, page = _go(client, "plan.csv", fixed.encode())
    assert "problem" not in page and "10 rows: 10 new" in page
    _import(client, token)
    assert _count(app) == before + 10


def _corrupt_xlsx() -> bytes:
    good = _xlsx([["Action"], ["Something"]])
    return good[: len(good) // 2]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("plan.csv", b"", "The selected file is empty"),
        ("plan.csv", b"  \r\n\r\n", "The selected file is empty"),
        (
            "plan.xlsx",
            b"PK\x03\x04 this is not really a workbook",
            "could not be opened as an Excel",
        ),
        ("plan.xlsx", _corrupt_xlsx(), "could not be opened as an Excel"),
        ("plan.xlsx", b"Action\nA task\n", "could not be opened as an Excel"),
        ("plan.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "97–2003"),
        ("plan.pdf", b"%PDF-1.7 not a spreadsheet", "must be a CSV or XLSX file"),
        ("plan.csv", "Action\nCaf\x81 \u2019\n".encode("latin-1", "replace"), "text could not"),
        ("plan.csv", b"Action\x00\x01\x02\nbinary\n", "text could not be read"),
        ("plan.csv", b"Publish ward profiles,31 March 2027,On target\n", "looks like a row of"),
        ("plan.csv", b"\nAction\nA task\n", "Row 1 of the file is empty"),
        ("plan.csv", b"Action,Lead officer\n", "no rows of actions"),
        ("plan.csv", b"Action\n" + b"A task\n" * 5001, "more than 5,000 rows"),
    ],
    ids=[
        "empty",
        "blank",
        "not-a-zip",
        "truncated-xlsx",
        "text-named-xlsx",
        "old-xls",
        "wrong-type",
        "wrong-encoding",
        "binary",
        "no-header-row",
        "header-not-on-row-1",
        "headings-only",
        "too-many-rows",
    ],
)
def test_a_file_that_cannot_be_read_gets_a_plain_message(login_as, client, name, content, message):
    login_as("officer", "maidstone")
    response = _upload(client, name, content)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "govuk-error-summary" in html
    assert message in html.replace("&#39;", "'").replace("&amp;", "&")


SHEET = "xl/worksheets/sheet1.xml"


def _bomb(unpacked: int) -> bytes:
    """A real workbook whose sheet is swapped for ``unpacked`` bytes that pack to almost
    nothing: the shape of a "zip bomb"."""
    good = zipfile.ZipFile(io.BytesIO(_xlsx([["Action"], ["A task"]])))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in good.infolist():
            if info.filename != SHEET:
                archive.writestr(info.filename, good.read(info.filename))
        with archive.open(SHEET, "w", force_zip64=True) as part:
            block = b" " * (1024 * 1024)
            for _ in range(unpacked // len(block)):
                part.write(block)
    return buffer.getvalue()


@pytest.fixture
def openpyxl_never_opens(monkeypatch):
    """Fails the test if the workbook reader is asked to open anything."""
    import openpyxl

    opened = []

    def refuse(*args, **kwargs):
        opened.append(args)
        raise AssertionError("the workbook was opened")

    monkeypatch.setattr(openpyxl, "load_workbook", refuse)
    return opened


def test_a_zip_bomb_is_refused_before_the_workbook_is_opened(
    login_as, client, app, openpyxl_never_opens
):
    # The report: 150 KB that unpacks to 60 MB. Made here, so no binary is kept.
    bomb = _bomb(60 * 1024 * 1024)
    assert len(bomb) < 200 * 1024
    login_as("officer", "maidstone")
    response = _upload(client, "plan.xlsx", bomb)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "The workbook is too big to read" in page and "20 MB" in page
    assert openpyxl_never_opens == []
    assert _pending(app) == []


def test_a_workbook_packed_too_tightly_is_refused_though_it_is_small(openpyxl_never_opens):
    # Under the 20 MB limit, but packed a thousand to one: no spreadsheet packs like that.
    bomb = _bomb(15 * 1024 * 1024)
    with pytest.raises(importing.ImportProblem, match="too big to read"):
        importing.read_table("plan.xlsx", bomb)
    assert openpyxl_never_opens == []


def test_a_long_real_plan_passes_the_unpacking_checks():
    # 5,000 rows, the most allowed, pack about fifteen to one and unpack to a few MB.
    rows = [["Objective", "Action", "Lead officer", "Target date", "Status"]] + [
        ["Know our residents", f"Task {i} for the residents", "Data Officer", "2027", "On target"]
        for i in range(5000)
    ]
    table = importing.read_table("plan.xlsx", _xlsx(rows))
    assert len(table.rows) == 5000


def test_a_sheet_wider_than_a_plan_is_refused_without_reading_every_column(login_as, client):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Action", "Lead officer"])
    # One cell in the last column Excel has, on every row: 16,384 cells a row if read.
    for row in range(2, 2000):
        sheet.cell(row=row, column=1, value="A task")
        sheet.cell(row=row, column=16384, value="x")
    buffer = io.BytesIO()
    workbook.save(buffer)
    login_as("officer", "maidstone")
    response = _upload(client, "wide.xlsx", buffer.getvalue())
    assert "The file has more than 100 columns" in response.get_data(as_text=True)
    response = _upload(client, "wide.csv", b"Action" + b",x" * 150 + b"\nA task\n")
    assert "The file has more than 100 columns" in response.get_data(as_text=True)


def test_a_sheet_that_goes_on_far_below_the_plan_is_refused_plainly(login_as, client):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Action"])
    sheet.append(["A task"])
    # Blank rows cost nothing to pack; reading them one by one held a worker.
    sheet.cell(row=60_000, column=1, value="Another task")
    buffer = io.BytesIO()
    workbook.save(buffer)
    login_as("officer", "maidstone")
    response = _upload(client, "long.xlsx", buffer.getvalue())
    assert "The sheet goes on past row 50,000" in response.get_data(as_text=True)


def test_the_file_is_read_once_at_upload_and_never_again(login_as, client, app, monkeypatch):
    content = _xlsx(
        [
            ["Objective", "Action", "Status"],
            ["Know our residents", "Publish ward profiles", "On target"],
            ["", "Survey residents", ""],
        ]
    )
    login_as("officer", "maidstone")
    token = _token(_upload(client, "plan.xlsx", content))
    kept = _in(app, "maidstone", lambda: importing.find_upload(token, _officer_id()).rows[0])

    def never(*args, **kwargs):
        raise AssertionError("the file was read again")

    import openpyxl

    from portal.actions import import_files

    for name in ("read_table", "read_sheets", "workbook_sheets", "_read_csv", "check_zip"):
        monkeypatch.setattr(import_files, name, never)
    monkeypatch.setattr(openpyxl, "load_workbook", never)
    response = _columns(client, token)
    assert response.status_code == 302
    page = _preview(client, token)
    assert "2 rows: 2 new" in page
    assert _import(client, token).status_code == 302
    tasks = [a.task for a in _actions(app, objective="Know our residents")]
    assert tasks == ["Publish ward profiles", "Survey residents"]
    assert kept[0] == 2 and kept[1][:2] == ["Know our residents", "Publish ward profiles"]


def test_a_file_over_10_mb_is_refused_plainly(login_as, client):
    login_as("officer", "maidstone")
    content = b"Action\n" + b"x" * (10 * 1024 * 1024)
    response = _upload(client, "big.csv", content)
    assert response.status_code == 200
    assert "The file must be smaller than 10 MB" in response.get_data(as_text=True)
    # Past the request limit the same message is shown, not a bare error page.
    response = _upload(client, "huge.csv", b"x" * (13 * 1024 * 1024))
    assert response.status_code == 413
    assert "The file must be smaller than 10 MB" in response.get_data(as_text=True)


def test_no_file_chosen_is_a_plain_message(login_as, client):
    login_as("officer", "maidstone")
    response = client.post(IMPORT, data={"csrf_token": csrf_token(client, IMPORT)})
    assert response.status_code == 200
    assert "Select a CSV or XLSX file" in response.get_data(as_text=True)


def test_column_choices_are_checked(login_as, client):
    login_as("officer", "maidstone")
    token = _token(_upload(client, "plan.csv", b"Thing,Other thing\nA,B\n"))
    html = client.get(f"{IMPORT}/{token}/columns").get_data(as_text=True)
    assert "Recognised heading." not in html
    assert _selected(html)["column_0"] == "ignore"
    response = _columns(client, token)
    assert response.status_code == 200
    assert "Choose the column that holds the action (task)" in response.get_data(as_text=True)
    response = _columns(client, token, column_0="task", column_1="task")
    page = response.get_data(as_text=True).replace("&#34;", "“")
    assert "Only one column can be imported as action (task)" in page
    assert "are both chosen" in page
    response = _columns(client, token, column_0="task", new_objective="  ")
    assert "Enter a name for the new objective" in response.get_data(as_text=True)
    for wrong in ("999999", "9" * 30, "²", "new2"):
        response = _columns(client, token, column_0="task", default_objective=wrong)
        assert response.status_code == 200
        assert "Choose an objective from the list" in response.get_data(as_text=True)
    response = _columns(client, token, column_0="task", column_1="shoe-size")
    assert "Choose what each column holds" in response.get_data(as_text=True)
    response = _columns(client, token, column_0="task", column_1="measures")
    assert response.status_code == 302
    assert "1 row: 1 new" in _preview(client, token)


def test_nothing_is_half_imported_when_a_row_fails_while_writing(app, monkeypatch):
    from portal.extensions import db

    real = services._clean_action
    calls = []

    def failing(data):
        calls.append(data)
        if len(calls) == 3:
            raise services.ValidationError.of({"task": "Enter the action"})
        return real(data)

    def run():
        upload = importing.store_upload("plan.csv", GOOD_CSV.encode(), _officer_id())
        importing.save_choices(upload, upload.mapping, "new", "Imported actions")
        before = (
            db.session.scalar(select(func.count(Action.id))),
            db.session.scalar(select(func.count(Objective.id))),
        )
        monkeypatch.setattr(services, "_clean_action", failing)
        with pytest.raises(services.ValidationError):
            importing.import_upload(upload)
        after = (
            db.session.scalar(select(func.count(Action.id))),
            db.session.scalar(select(func.count(Objective.id))),
        )
        assert after == before
        kept = importing.find_upload(upload.token, _officer_id())
        assert kept is not None, "the upload is kept so it can be tried again"

    with app.test_request_context():
        with tenant_scope(tenant("maidstone")):
            run()
    assert len(calls) == 3
    assert not audit_events(app, action="actions.imported")


# --- who may import ----------------------------------------------------------------------


def test_only_officers_may_import(login_as, client, app):
    token = _store(app, b"Action\nA\n")
    login_as("viewer", "maidstone")
    assert client.get(IMPORT).status_code == 403
    assert client.get(f"{IMPORT}/{token}/columns").status_code == 403
    assert client.get(f"{IMPORT}/{token}/preview").status_code == 403
    objectives = client.get("/t/maidstone/plan/objectives").get_data(as_text=True)
    assert "Import actions from a spreadsheet" not in objectives


def test_the_objectives_page_links_to_the_import(login_as, client):
    login_as("officer", "maidstone")
    page = client.get("/t/maidstone/plan/objectives").get_data(as_text=True)
    assert "Import actions from a spreadsheet" in page and f'href="{IMPORT}"' in page


def test_another_organisations_upload_is_not_found(login_as, client, app):
    token = _store(app, b"Action\nA\n")
    login_as("officer", "thanet")
    base = "/t/thanet/plan/import"
    for url in (f"{base}/{token}/columns", f"{base}/{token}/preview"):
        assert client.get(url).status_code == 404
        response = client.post(url, data={"csrf_token": csrf_token(client, base)})
        assert response.status_code == 404
    assert client.get(f"{IMPORT}/{token}/columns").status_code == 404
    for bad in ("../../secret_key", "0" * 31, "Z" * 32):
        assert client.get(f"{base}/{bad}/columns").status_code == 404
    # Still there, untouched, for its own organisation.
    assert _in(app, "maidstone", lambda: importing.find_upload(token, _officer_id())) is not None


def test_an_upload_belongs_to_the_person_who_uploaded_it(login_as, client, app):
    from portal.auth.models import TenantGrant
    from portal.extensions import db

    token = _store(app, b"Action\nA\n")
    # A second officer of the same organisation.
    with app.app_context():
        db.session.add(
            TenantGrant(
                user_id=user("viewer@maidstone.demo").id,
                tenant_id=tenant("maidstone").id,
                role="officer",
            )
        )
        db.session.commit()
    login_as("viewer", "maidstone")
    assert client.get(IMPORT).status_code == 200
    for url in (f"{IMPORT}/{token}/columns", f"{IMPORT}/{token}/preview"):
        assert client.get(url).status_code == 404
        response = client.post(url, data={"csrf_token": csrf_token(client, IMPORT)})
        assert response.status_code == 404
    assert _pending(app) == [token]


def test_uploads_are_removed_after_a_day(app):
    from portal.extensions import db

    def run():
        officer = _officer_id()
        old = importing.store_upload("old.csv", b"Action\nA\n", officer)
        old.created_at = clock.utcnow() - timedelta(seconds=importing.KEEP_SECONDS + 60)
        db.session.commit()
        fresh = importing.store_upload("new.csv", b"Action\nB\n", officer)
        # Uploading removed the organisation's uploads older than a day.
        assert list(db.session.scalars(select(PendingImport.token))) == [fresh.token]
        assert importing.find_upload(fresh.token, officer) is not None
        fresh.created_at = clock.utcnow() - timedelta(seconds=importing.KEEP_SECONDS + 1)
        db.session.commit()
        assert importing.find_upload(fresh.token, officer) is None
        assert list(db.session.scalars(select(PendingImport.token))) == []

    _in(app, "maidstone", run)


def test_row_checks_use_the_action_rules():
    values, problems = importing.check_row(
        4,
        {
            "task": "Do it",
            "lead_officer": "x" * 301,
            "status": "ON TARGET",
            "psed_aims": "Eliminate discrimination, harassment and victimisation, Advance",
            "characteristics": "Religion and belief, Sex",
        },
    )
    assert problems == ["Row 4: the lead officer is 301 characters long; it must be 300 or fewer"]
    assert values["status"] == "on-target"
    assert values["psed_aims"] == ["eliminate", "advance"]
    assert values["characteristics"] == ["religion-belief", "sex"]


def test_csv_rows_read_from_the_export_are_the_same_words(tmp_path):
    text = io.StringIO()
    csv.writer(text).writerow(["Action", "Lead officer"])
    csv.writer(text).writerow(["'=SUM(A1)", "'@team"])
    table = importing.read_table("x.csv", text.getvalue().encode())
    assert table.rows == [(2, ["=SUM(A1)", "@team"])]
