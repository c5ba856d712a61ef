"""An organisation's objectives, actions and progress: rules, pages, conflicts, evidence."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from portal.actions import services
from portal.actions.models import Action, Objective, ProgressUpdate
from portal.tenancy import tenant_scope
from tests.helpers import audit_events, by_number, csrf_token, tenant, user

PLAN = "/t/maidstone/plan"


def _in(app, slug, fn):
    with app.app_context():
        with tenant_scope(tenant(slug)):
            return fn()


def _first_action_number(app, slug="maidstone") -> int:
    from portal.extensions import db

    return _in(app, slug, lambda: db.session.scalars(services.actions()).first().number)


def _action_count(app, slug="maidstone") -> int:
    from portal.extensions import db

    return _in(app, slug, lambda: db.session.scalar(select(func.count(Action.id))))


def _objective_id(app, slug="maidstone") -> int:
    from portal.extensions import db

    return _in(app, slug, lambda: db.session.scalars(services.objectives()).first().id)


def _objective_number(app, slug="maidstone") -> int:
    from portal.extensions import db

    return _in(app, slug, lambda: db.session.scalars(services.objectives()).first().number)


# --- rules -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("31 March 2026", date(2026, 3, 31)),
        ("1st April 2017", date(2017, 4, 1)),
        ("November 2017", date(2017, 11, 30)),
        ("February 2028", date(2028, 2, 29)),
        ("31/03/2026", date(2026, 3, 31)),
        ("2026-03-31", date(2026, 3, 31)),
        ("2013/14", None),
        ("Ongoing", None),
        ("TBC", None),
        ("11 July 2013 for final approval", None),
        ("", None),
    ],
)
def test_a_target_is_a_date_or_a_period(text, expected):
    assert services.parse_target(text) == expected


@pytest.mark.parametrize("text", ["31 February 2026", "45/13/2026", "2026-02-30", "1/2/3/2026"])
def test_a_target_that_looks_like_a_date_but_is_not_is_refused(text):
    with pytest.raises(ValueError, match="must be a real date"):
        services.parse_target(text)


def test_overdue_is_derived_from_target_and_status():
    today = date(2026, 6, 1)
    past, future = today - timedelta(days=1), today + timedelta(days=1)
    assert Action(target_date=past, status="on-target").is_overdue(today)
    assert Action(target_date=past, status=None).is_overdue(today)
    assert not Action(target_date=past, status="complete").is_overdue(today)
    assert not Action(target_date=past, status="cancelled").is_overdue(today)
    assert not Action(target_date=future, status="at-risk").is_overdue(today)
    assert not Action(target_date=None, status="at-risk").is_overdue(today)
    assert not Action(target_date=today, status="at-risk").is_overdue(today)


def test_overdue_filter_agrees_with_the_derivation(db):
    with tenant_scope(tenant("maidstone")):
        every = db.session.scalars(services.actions()).all()
        overdue = db.session.scalars(services.actions(services.ActionFilters(overdue=True))).all()
        assert overdue and {a.id for a in overdue} == {a.id for a in every if a.overdue}


def test_action_rules_refuse_bad_input_and_save_nothing(db):
    with tenant_scope(tenant("maidstone")):
        objective_id = db.session.scalars(services.objectives()).first().id
        before = db.session.scalar(select(func.count(Action.id)))
        with pytest.raises(services.ValidationError) as caught:
            services.add_action(
                {
                    "objective_id": objective_id,
                    "task": "Publish the data",
                    "status": "finished",
                    "target_text": "31 February 2026",
                    "characteristics": ["age", "shoe-size"],
                }
            )
        assert set(caught.value.errors) == {"status", "target_text", "characteristics"}
        with pytest.raises(services.ValidationError) as caught:
            services.add_action({"objective_id": 999999, "task": " "})
        assert set(caught.value.errors) == {"task", "objective_id"}
        someone_else = user("officer@thanet.demo")
        with pytest.raises(services.ValidationError) as caught:
            services.add_action(
                {"objective_id": objective_id, "task": "x", "lead_user_id": someone_else.id}
            )
        assert "lead_user_id" in caught.value.errors
        assert db.session.scalar(select(func.count(Action.id))) == before


def test_an_action_is_saved_with_every_column(app, db):
    with tenant_scope(tenant("maidstone")):
        objective_id = db.session.scalars(services.objectives()).first().id
        officer = user("officer@maidstone.demo")
        row = services.add_action(
            {
                "objective_id": objective_id,
                "task": "Publish the data",
                "arising_from": "Service Plan activity",
                "lead_officer": "Policy team",
                "lead_user_id": str(officer.id),
                "directorate": "Corporate Services",
                "section": "Policy",
                "target_text": "2026/27",
                "status": "on-target",
                "corporate_priority": "All",
                "eflg_criteria": "1.1",
                "psed_aims": ["advance", "foster"],
                "characteristics": ["race", "all"],
                "measures": "Data published",
            }
        )
        assert row.target_text == "2026/27" and row.target_date is None
        assert row.psed_aims == ["advance", "foster"]
        assert row.characteristics == ["all"]
        assert row.lead_user_id == officer.id
    assert audit_events(app, action="action.created")


def test_evidence_is_checked_by_name_and_content():
    pdf = b"%PDF-1.7\n" + b"x" * 100
    assert services.check_evidence("report.PDF", pdf) == "pdf"
    assert services.check_evidence("notes.txt", "Café notes".encode()) == "txt"
    assert services.check_evidence("plan.docx", _docx()) == "docx"
    with pytest.raises(services.ValidationError, match="smaller than 10 MB"):
        services.check_evidence("big.pdf", b"%PDF-" + b"0" * (10 * 1024 * 1024))
    with pytest.raises(services.ValidationError, match="must be a PDF"):
        services.check_evidence("tool.exe", b"MZ\x90\x00")
    with pytest.raises(services.ValidationError, match="not a real PDF"):
        services.check_evidence("renamed.pdf", b"MZ\x90\x00 a program")
    with pytest.raises(services.ValidationError, match="not a real DOCX"):
        services.check_evidence("fake.docx", _zip({"other.xml": "x"}))
    with pytest.raises(services.ValidationError, match="not a real TXT"):
        services.check_evidence("binary.txt", b"\x00\x01\x02")


def _zip(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def _docx() -> bytes:
    return _zip({"[Content_Types].xml": "<Types/>", "word/document.xml": "<w:document/>"})


# --- pages -------------------------------------------------------------------------------


def test_viewer_reads_the_plan_but_cannot_change_it(login_as, client, app):
    login_as("viewer", "maidstone")
    page = client.get(f"{PLAN}/objectives").get_data(as_text=True)
    assert "Increase understanding of Maidstone&#39;s residents" in page
    assert "Role 1: As a Community Leader" in page
    assert "Add an objective" not in page
    assert client.get(f"{PLAN}/objectives/new").status_code == 403
    assert client.get(f"{PLAN}/actions/new").status_code == 403
    action_number = _first_action_number(app)
    detail = client.get(f"{PLAN}/actions/{action_number}").get_data(as_text=True)
    assert "Provide ward level analysis of demographic information" in detail
    assert "November 2017" in detail
    assert "Add a progress update" not in detail
    assert client.get(f"{PLAN}/actions/{action_number}/progress").status_code == 403


def test_officer_adds_an_objective_under_a_role_and_an_action(login_as, client, app):
    base = "/t/gentoo/plan"
    login_as("officer", "gentoo")
    token = csrf_token(client, f"{base}/objectives/new")
    response = client.post(
        f"{base}/objectives/new",
        data={"title": "Know our tenants", "area": "role:service-provider", "csrf_token": token},
    )
    assert response.status_code == 302, re.findall(
        r'govuk-error-message">(.*?)</', response.get_data(as_text=True), re.S
    )
    page = client.get(f"{base}/objectives").get_data(as_text=True)
    assert "As a Service Provider" in page and "Know our tenants" in page
    objective_id = _objective_id(app, "gentoo")
    officer_id = _in(app, "gentoo", lambda: user("officer@gentoo.demo").id)
    response = client.post(
        f"{base}/actions/new",
        data={
            "objective_id": str(objective_id),
            "task": "Survey tenants about access needs",
            "lead_user_id": str(officer_id),
            "target_text": "30 September 2026",
            "status": "not-started",
            "psed_aims": ["advance"],
            "characteristics": ["disability"],
            "measures": "Survey results published",
            "csrf_token": token,
        },
    )
    assert response.status_code == 302
    detail = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Survey tenants about access needs" in detail
    assert "Advance equality of opportunity" in detail and "Disability" in detail
    assert "Survey tenants about access needs" in client.get(f"{base}/my-actions").get_data(
        as_text=True
    )
    assert audit_events(app, action="focus_area.created")
    assert audit_events(app, action="objective.created")


def test_bad_action_input_is_explained_and_nothing_saved(login_as, client, app):
    login_as("officer", "maidstone")
    before = _action_count(app)
    token = csrf_token(client, f"{PLAN}/actions/new")
    page = client.post(
        f"{PLAN}/actions/new",
        data={
            "objective_id": str(_objective_id(app)),
            "task": "  ",
            "target_text": "31 February 2026",
            "status": "finished",
            "csrf_token": token,
        },
    ).get_data(as_text=True)
    assert "There is a problem" in page
    assert "Enter the action" in page
    assert "Target date must be a real date" in page
    assert "Choose a status from the list" in page
    assert _action_count(app) == before


def test_second_save_of_the_same_action_is_refused_and_both_versions_shown(login_as, client, app):
    action_number = _first_action_number(app)
    url = f"{PLAN}/actions/{action_number}/edit"
    login_as("officer", "maidstone")
    page = client.get(url).get_data(as_text=True)
    version = re.search(r'name="version"[^>]*value="(\d+)"', page).group(1)
    objective = re.search(r'<option selected value="(\d+)"|value="(\d+)" selected', page)
    objective_id = next(g for g in objective.groups() if g)
    token = csrf_token(client, url)
    data = {"objective_id": objective_id, "version": version, "csrf_token": token}
    first = client.post(url, data={**data, "task": "First person's words."})
    assert first.status_code == 302
    second = client.post(url, data={**data, "task": "Second person's words."})
    page = second.get_data(as_text=True)
    assert second.status_code == 200
    assert "Somebody else changed this action" in page
    assert "First person&#39;s words." in page and "Second person&#39;s words." in page

    assert _in(app, "maidstone", lambda: by_number(Action, action_number).task) == (
        "First person's words."
    )


def test_objective_with_actions_is_not_deleted(login_as, client, app):
    objective_number = _objective_number(app)
    login_as("officer", "maidstone")
    url = f"{PLAN}/objectives/{objective_number}/delete"
    token = csrf_token(client, f"{PLAN}/objectives/new")
    response = client.post(url, data={"csrf_token": token}, follow_redirects=True)
    assert "still has actions" in response.get_data(as_text=True)

    assert _in(app, "maidstone", lambda: by_number(Objective, objective_number)) is not None


def _progress(client, action_number, token, **extra):
    data = {
        "date": ["3", "2", "2026"],
        "narrative": "We met the ward councillors.",
        "status": "on-target",
        "csrf_token": token,
    }
    data.update(extra)
    return client.post(
        f"{PLAN}/actions/{action_number}/progress", data=data, content_type="multipart/form-data"
    )


def test_progress_update_with_evidence_file_is_kept_and_served_to_the_tenant(login_as, client, app):
    action_number = _first_action_number(app)
    login_as("officer", "maidstone")
    token = csrf_token(client, f"{PLAN}/actions/{action_number}/progress")
    pdf = b"%PDF-1.7\nevidence"
    response = _progress(
        client,
        action_number,
        token,
        evidence_link="https://example.org/report",
        evidence=(io.BytesIO(pdf), "../../Ward report.pdf"),
    )
    assert response.status_code == 302
    page = client.get(f"{PLAN}/actions/{action_number}").get_data(as_text=True)
    assert "We met the ward councillors." in page and "3 February 2026" in page
    assert "https://example.org/report" in page and "Ward report.pdf" in page
    from portal.extensions import db

    update = _in(app, "maidstone", lambda: db.session.scalars(select(ProgressUpdate)).first())
    # Kept in the database, under the organisation's walls, not on this server's disk.
    assert _in(app, "maidstone", lambda: services.evidence_content(update)) == pdf
    assert update.evidence_name == "Ward report.pdf" and update.evidence_size == len(pdf)
    assert _in(app, "maidstone", lambda: by_number(Action, action_number).status) == ("on-target")
    download = client.get(f"{PLAN}/evidence/{update.number}")
    assert download.status_code == 200 and download.data == pdf
    assert "attachment" in download.headers["Content-Disposition"]
    assert download.headers["Cache-Control"] == "no-store, private"
    from tests.helpers import audit_events

    assert [e.detail for e in audit_events(app, action="export", object_id=str(update.id))] == [
        {"what": "evidence", "file": "Ward report.pdf"}
    ]
    # Another organisation's people cannot reach it, under either address.
    client.get("/logout")
    other = app.test_client()
    token = csrf_token(other, "/login")
    other.post(
        "/login",
        data={
            "email": "officer@thanet.demo",
            "password": "correct-horse-battery",
            "csrf_token": token,
        },
    )
    # Under its own address the number names Thanet's own update, if any: never this file.
    response = other.get(f"/t/thanet/plan/evidence/{update.number}")
    assert response.status_code == 404 or response.data != pdf
    assert other.get(f"{PLAN}/evidence/{update.number}").status_code == 404


def test_a_large_evidence_file_is_kept_in_pieces_and_streamed_back(login_as, client, app):
    from portal.actions.models import EvidenceChunk
    from portal.extensions import db

    action_number = _first_action_number(app)
    login_as("officer", "maidstone")
    token = csrf_token(client, f"{PLAN}/actions/{action_number}/progress")
    # Bytes that differ along the file, so pieces out of order would not match.
    content = b"%PDF-1.7\n" + bytes(range(256)) * 4000 + b"end"
    response = _progress(
        client, action_number, token, evidence=(io.BytesIO(content), "Rapport réunion.pdf")
    )
    assert response.status_code == 302
    update = _in(app, "maidstone", lambda: db.session.scalars(select(ProgressUpdate)).first())
    pieces = _in(
        app,
        "maidstone",
        lambda: list(
            db.session.scalars(
                select(func.length(EvidenceChunk.data))
                .where(EvidenceChunk.progress_update_id == update.id)
                .order_by(EvidenceChunk.position)
            )
        ),
    )
    assert len(pieces) == 4 and max(pieces) == services.EVIDENCE_CHUNK_BYTES
    assert sum(pieces) == len(content)

    download = client.get(f"{PLAN}/evidence/{update.number}", buffered=False)
    assert download.status_code == 200 and download.is_streamed
    assert download.headers["Content-Length"] == str(len(content))
    assert download.headers["Content-Type"] == "application/pdf"
    disposition = download.headers["Content-Disposition"]
    assert (
        "attachment" in disposition and "filename*=UTF-8''Rapport%20r%C3%A9union.pdf" in disposition
    )
    sent = list(download.response)
    download.close()
    assert len(sent) == 4 and b"".join(sent) == content

    # Deleting the action removes its updates' files with it.
    token = csrf_token(client, f"{PLAN}/actions/{action_number}/delete")
    client.post(f"{PLAN}/actions/{action_number}/delete", data={"csrf_token": token})
    assert _in(app, "maidstone", lambda: by_number(Action, action_number)) is None
    left = _in(
        app, "maidstone", lambda: db.session.scalar(select(func.count()).select_from(EvidenceChunk))
    )
    assert left == 0


def test_progress_evidence_too_big_or_wrong_type_is_explained(login_as, client, app):
    action_number = _first_action_number(app)
    login_as("officer", "maidstone")
    token = csrf_token(client, f"{PLAN}/actions/{action_number}/progress")
    big = b"%PDF-" + b"0" * (10 * 1024 * 1024 + 10)
    response = _progress(client, action_number, token, evidence=(io.BytesIO(big), "big.pdf"))
    assert response.status_code == 200
    assert "The file must be smaller than 10 MB" in response.get_data(as_text=True)
    response = _progress(client, action_number, token, evidence=(io.BytesIO(b"MZ"), "tool.exe"))
    assert "The file must be a PDF, DOCX" in response.get_data(as_text=True)
    response = _progress(client, action_number, token, evidence=(io.BytesIO(b"MZ"), "fake.pdf"))
    assert "not a real PDF file" in response.get_data(as_text=True)
    huge = b"0" * (13 * 1024 * 1024)
    response = _progress(client, action_number, token, evidence=(io.BytesIO(huge), "huge.pdf"))
    assert response.status_code == 413
    page = client.get(f"{PLAN}/actions/{action_number}").get_data(as_text=True)
    assert "No progress has been recorded yet." in page


def test_progress_needs_a_real_date_and_shows_the_plain_language_check(login_as, client, app):
    action_number = _first_action_number(app)
    login_as("officer", "maidstone")
    token = csrf_token(client, f"{PLAN}/actions/{action_number}/progress")
    long = " ".join(["We have considered the multifarious organisational implications"] * 5)
    page = _progress(
        client, action_number, token, date=["31", "2", "2026"], narrative=long + "."
    ).get_data(as_text=True)
    assert "Date of the update must be a real date" in page
    assert "Plain-language check" in page and "This sentence has" in page


# --- lists, filters and exports ----------------------------------------------------------


def test_action_list_filters_by_status_characteristic_and_overdue(login_as, client):
    login_as("viewer", "sevenoaks")
    base = "/t/sevenoaks/plan/actions"
    page = client.get(base).get_data(as_text=True)
    assert "Rewrite the ten most-used web forms in plain English" in page
    assert "Demonstration data" in page
    page = client.get(f"{base}?status=at-risk").get_data(as_text=True)
    assert "Rewrite the ten most-used web forms" in page
    assert "Carry out access checks" not in page
    page = client.get(f"{base}?characteristic=disability").get_data(as_text=True)
    assert "Carry out access checks" in page  # disability
    assert "Rewrite the ten most-used web forms" in page  # all characteristics
    assert "Carry out access checks" in client.get(f"{base}?characteristic=age").get_data(
        as_text=True
    )
    assert "Offer all council tax letters" not in client.get(f"{base}?characteristic=age").get_data(
        as_text=True
    )
    # Nonsense in the query string is ignored, never an error.
    assert client.get(f"{base}?status=zzz&owner=x&area=y&page=-3").status_code == 200


def test_action_list_is_paginated(login_as, client):
    login_as("viewer", "maidstone")
    first = client.get(f"{PLAN}/actions").get_data(as_text=True)
    assert "page 1 of" not in first  # 19 actions fit on one page of 25
    assert "19 actions" in first


def _csv_rows(response) -> list[list[str]]:
    import csv

    text = response.get_data(as_text=True).lstrip("\ufeff")
    return list(csv.reader(io.StringIO(text)))


def test_export_to_csv_honours_filters_and_is_audited(login_as, client, app):
    login_as("viewer", "sevenoaks")
    response = client.get("/t/sevenoaks/plan/actions/export?format=csv&status=at-risk")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "sevenoaks-actions.csv" in response.headers["Content-Disposition"]
    rows = _csv_rows(response)
    header, body = rows[0], rows[1:]
    assert header[3] == "Action" and header[10] == "Target date"
    assert [r[3] for r in body] == ["Rewrite the ten most-used web forms in plain English"]
    assert body[0][10] == "2026-06-30"  # ISO 8601
    assert body[0][11] == "At risk"
    events = audit_events(app, action="export")
    assert events and events[-1].detail["format"] == "csv"
    assert events[-1].detail["filters"] == {"status": "at-risk"}


def test_export_neutralises_formulas(login_as, client, app):
    from portal.extensions import db

    def add():
        objective_id = db.session.scalars(services.objectives()).first().id
        services.add_action(
            {
                "objective_id": objective_id,
                "task": '=HYPERLINK("http://evil.example","Click")',
                "lead_officer": "@SUM(1+1)",
                "directorate": "+44 1622 602000",
                "section": "-2+3",
                "target_text": "31 March 2026",
            }
        )

    _in(app, "maidstone", add)
    login_as("officer", "maidstone")
    rows = _csv_rows(client.get(f"{PLAN}/actions/export?format=csv"))
    row = next(r for r in rows if "HYPERLINK" in r[3])
    assert row[3].startswith("'=HYPERLINK")
    assert row[5] == "'@SUM(1+1)" and row[7] == "'+44 1622 602000" and row[8] == "'-2+3"

    from openpyxl import load_workbook

    response = client.get(f"{PLAN}/actions/export?format=xlsx")
    assert response.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(response.data)).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][3] == "Action"
    row = next(r for r in values if r[3] and "HYPERLINK" in r[3])
    assert row[3].startswith("'=") and row[5] == "'@SUM(1+1)"
    cell = next(c for c in sheet["K"] if c.value is not None and c.row > 1)
    assert cell.value.date() == date(2017, 11, 30) and cell.number_format == "yyyy-mm-dd"


def test_neutralise_covers_every_formula_start():
    from portal.exports import neutralise

    for text in ("=1+1", "+1", "-1", "@A1", "\tx", "\rx"):
        assert neutralise(text) == "'" + text
    assert neutralise("Plain text") == "Plain text"
    assert neutralise(date(2017, 11, 30)) == "2017-11-30"
    assert neutralise(-3) == -3  # numbers are numbers, not text
    assert neutralise(None) == ""


def test_my_actions_export_and_home_page_overdue_count(login_as, client, app):
    from portal.extensions import db

    def lead_two():
        officer = user("officer@maidstone.demo")
        for row in db.session.scalars(services.actions()):
            row.lead_user_id = None  # only these two are the officer's
        rows = db.session.scalars(services.actions()).all()[:2]
        for row in rows:
            row.lead_user_id = officer.id
        rows[1].status = "complete"
        db.session.commit()
        return [r.task for r in rows]

    mine = _in(app, "maidstone", lead_two)
    login_as("officer", "maidstone")
    page = client.get(f"{PLAN}/my-actions").get_data(as_text=True)
    assert all(task.replace("'", "&#39;") in page for task in mine)
    assert "An audit review" not in page or "An audit review" in mine[1]
    home = client.get("/t/maidstone/").get_data(as_text=True)
    assert "You have 1 overdue action" in home
    assert "/plan/my-actions?overdue=1" in home
    rows = _csv_rows(client.get(f"{PLAN}/my-actions/export?format=csv&overdue=1"))
    assert [r[3] for r in rows[1:]] == [mine[0]]


def test_progress_updates_export(login_as, client, app):
    action_number = _first_action_number(app)
    login_as("officer", "maidstone")
    token = csrf_token(client, f"{PLAN}/actions/{action_number}/progress")
    _progress(client, action_number, token, narrative="=1+1 was the sum")
    rows = _csv_rows(client.get(f"{PLAN}/actions/{action_number}/progress/export?format=csv"))
    assert rows[0][:4] == ["Action", "Date", "Status", "Progress"]
    assert rows[1][1] == "2026-02-03" and rows[1][2] == "On target"
    assert rows[1][3] == "'=1+1 was the sum"
    assert audit_events(app, action="export")[-1].object_type == "Progress updates"
