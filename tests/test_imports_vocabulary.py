"""Other councils' spreadsheets: their status words, the portal's own export, lead
officers who have accounts, and workbooks whose first sheet is not the plan."""

from __future__ import annotations

import csv
import io
import re

from sqlalchemy import select

from portal.actions.models import Action, FocusArea, FocusPoint, ImportStatusWord, Objective
from portal.auth.models import TenantGrant, User
from portal.extensions import db
from tests.helpers import audit_events, csrf_token, tenant
from tests.test_actions_import import (
    IMPORT,
    _actions,
    _columns,
    _count,
    _go,
    _import,
    _in,
    _preview,
    _selected,
    _token,
    _upload,
)

# A district council's plan as it is kept: their own status words, lead officers by name
# or email, one of them without an account.
SWALE_CSV = (
    "Objective,Action,Lead officer,Target date,Status\n"
    "Know our residents,Publish ward profiles,Priya Shah,31 March 2027,In progress\n"
    ",Survey residents every year,priya.shah@maidstone.gov.uk,2026/27,Ongoing\n"
    ",Refresh the equality pages,Web Team,2026/27,Not yet started\n"
    "Fair services,Review the complaints form,Customer Services,Ongoing,Completed\n"
    ",Train front-line staff,Customer Services,2026/27,done\n"
    ",Audit the translation budget,Finance,2026/27,In progress\n"
)


def _person(app, slug: str, name: str, email: str) -> int:
    with app.app_context():
        person = User(email=email, name=name, password_hash="x")
        db.session.add(person)
        db.session.flush()
        db.session.add(TenantGrant(user=person, tenant=tenant(slug), role="viewer"))
        db.session.commit()
        return person.id


def _status_form(page: str) -> dict[str, str]:
    """The status-word selects on the preview: each word's chosen value."""
    form = re.search(r'<form[^>]*action="[^"]*/statuses"[^>]*>(.*?)</form>', page, re.S)
    assert form, "the preview offers no status words to map"
    return _selected(form.group(1))


def _save_statuses(client, token: str, choices: dict[str, str]):
    url = f"{IMPORT}/{token}/statuses"
    data = {"csrf_token": csrf_token(client, f"{IMPORT}/{token}/preview"), **choices}
    return client.post(url, data=data)


def _words(page: str) -> list[str]:
    return re.findall(r'<label class="govuk-label" for="(word_\d+)">\s*([^<]*?)\s*</label>', page)


# --- status words ------------------------------------------------------------------------


def test_unknown_status_words_are_offered_with_likely_meanings(login_as, client, app):
    login_as("officer", "maidstone")
    before = _count(app)
    token, page = _go(client, "swale.csv", SWALE_CSV.encode())
    # Not refused row by row: each word is asked once, with the likely status chosen.
    assert "is not one of" not in page
    labels = dict((text, name) for name, text in _words(page))
    assert set(labels) == {
        "“In progress”",
        "“Ongoing”",
        "“Not yet started”",
        "“Completed”",
        "“done”",
    }
    chosen = _status_form(page)
    assert chosen[labels["“In progress”"]] == "on-target"
    assert chosen[labels["“Ongoing”"]] == "on-target"
    assert chosen[labels["“Not yet started”"]] == "not-started"
    assert chosen[labels["“Completed”"]] == "complete"
    assert chosen[labels["“done”"]] == "complete"
    assert "Choose what each status word means" in page
    # Until the choices are saved nothing can be imported.
    assert _import(client, token).status_code == 200
    assert _count(app) == before

    chosen[labels["“Ongoing”"]] = "at-risk"
    response = _save_statuses(client, token, chosen)
    assert response.status_code == 302 and response.headers["Location"].endswith("/preview")
    page = _preview(client, token)
    assert "problem" not in page
    # Each row shows the status it will get.
    assert re.search(r"Survey residents every year.*?At risk", page, re.S)
    assert re.search(r"Publish ward profiles.*?On target", page, re.S)
    assert _import(client, token).status_code == 302
    stored = {a.task: a.status for a in _actions(app, objective="Fair services")}
    assert stored == {
        "Review the complaints form": "complete",
        "Train front-line staff": "complete",
        "Audit the translation budget": "on-target",
    }
    [event] = audit_events(app, action="actions.import_status_words")
    assert event.detail["words"]["ongoing"] == "at-risk"


def test_status_choices_are_remembered_for_the_organisation_only(login_as, client, app):
    login_as("officer", "maidstone")
    token, page = _go(client, "swale.csv", SWALE_CSV.encode())
    _save_statuses(client, token, _status_form(page))
    words = _in(
        app,
        "maidstone",
        lambda: {w.word: w.status for w in db.session.scalars(select(ImportStatusWord))},
    )
    assert words["in progress"] == "on-target" and words["done"] == "complete"
    # The next file with the same words asks nothing.
    again = SWALE_CSV.replace("Publish ward profiles", "Publish ward maps")
    token, page = _go(client, "swale-2.csv", again.encode())
    assert "Choose what each status word means" not in page
    assert "problem" not in page
    assert "In progress" in page and "read as On target" in page
    # Another organisation has its own words.
    assert _in(app, "thanet", lambda: list(db.session.scalars(select(ImportStatusWord)))) == []
    client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})
    login_as("officer", "thanet")
    base = "/t/thanet/plan/import"
    token, page = _go(client, "swale.csv", SWALE_CSV.encode(), base)
    assert "Choose what each status word means" in page


def test_status_choices_are_checked(login_as, client, app):
    login_as("officer", "maidstone")
    text = "Action,Status\nA task,Parked\nAnother,Ongoing\n"
    token, page = _go(client, "p.csv", text.encode())
    chosen = _status_form(page)
    labels = dict((text, name) for name, text in _words(page))
    # "Parked" has no likely meaning: the select asks for a choice.
    assert chosen[labels["“Parked”"]] == ""
    response = _save_statuses(client, token, {**chosen, labels["“Parked”"]: "banana"})
    assert response.status_code == 200
    assert "Choose what “Parked” means" in response.get_data(as_text=True)
    assert _in(app, "maidstone", lambda: list(db.session.scalars(select(ImportStatusWord)))) == []
    response = _save_statuses(client, token, {**chosen, labels["“Parked”"]: "none"})
    assert response.status_code == 302
    page = _preview(client, token)
    assert "problem" not in page and "No status recorded" in page


def test_status_choices_for_a_file_without_status_words_change_nothing(login_as, client, app):
    login_as("officer", "maidstone")
    token, page = _go(client, "p.csv", b"Action,Status\nA task,On target\n")
    response = _save_statuses(client, token, {"word_0": "complete"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/preview")
    assert _in(app, "maidstone", lambda: list(db.session.scalars(select(ImportStatusWord)))) == []
    assert not audit_events(app, action="actions.import_status_words")


def test_a_column_of_progress_notes_is_not_taken_for_status_words(login_as, client):
    login_as("officer", "maidstone")
    rows = "".join(f"Task {i},Met with group {i} on {i} May\n" for i in range(40))
    token, page = _go(client, "p.csv", ("Action,Status\n" + rows).encode())
    assert "40 different wordings" in page
    assert "Do not import" in page


# --- lead officers -----------------------------------------------------------------------


def test_lead_officers_are_matched_to_accounts_by_name_or_email(login_as, client, app):
    priya = _person(app, "maidstone", "Priya Shah", "priya.shah@maidstone.gov.uk")
    _person(app, "thanet", "Web Team", "web.team@thanet.gov.uk")  # another organisation's
    login_as("officer", "maidstone")
    token, page = _go(client, "swale.csv", SWALE_CSV.encode())
    _save_statuses(client, token, _status_form(page))
    page = _preview(client, token)
    assert "2 rows have lead officers matched to portal accounts" in page
    assert re.search(r"Publish ward profiles.*?Priya Shah.*?portal account", page, re.S)
    _import(client, token)
    rows = {a.task: a for a in _actions(app, objective="Know our residents")}
    assert rows["Publish ward profiles"].lead_user_id == priya
    assert rows["Publish ward profiles"].lead_officer == "Priya Shah"
    # The name is shown once, not as "Priya Shah – Priya Shah".
    assert (
        _in(
            app,
            "maidstone",
            lambda: db.session.get(Action, rows["Publish ward profiles"].id).lead_label,
        )
        == "Priya Shah"
    )
    survey = rows["Survey residents every year"]
    assert survey.lead_user_id == priya
    assert survey.lead_officer == "priya.shah@maidstone.gov.uk"
    # Unmatched (and another organisation's person) stays as text.
    pages = rows["Refresh the equality pages"]
    assert pages.lead_user_id is None and pages.lead_officer == "Web Team"


def test_two_accounts_with_one_name_are_not_guessed_between(login_as, client, app):
    _person(app, "maidstone", "Sam Jones", "sam.jones@maidstone.gov.uk")
    _person(app, "maidstone", "Sam Jones", "sam.jones2@maidstone.gov.uk")
    login_as("officer", "maidstone")
    token, page = _go(client, "p.csv", b"Action,Lead officer\nA task,Sam Jones\n")
    _import(client, token)
    [row] = [a for a in _actions(app) if a.task == "A task"]
    assert row.lead_user_id is None and row.lead_officer == "Sam Jones"


# --- the portal's own export -------------------------------------------------------------


def test_the_exports_role_and_focus_point_columns_import(login_as, client, app):
    def set_up():
        area = FocusArea(position=1, number="1", title="Knowing our communities")
        db.session.add(area)
        db.session.flush()
        point = FocusPoint(
            focus_area_id=area.id, position=1, number="1.1", title="Collecting information"
        )
        db.session.add(point)
        db.session.flush()
        objective = db.session.scalar(select(Objective).order_by(Objective.id))
        objective.focus_area_id, objective.focus_point_id = area.id, point.id
        db.session.commit()
        return objective.title

    title = _in(app, "maidstone", set_up)
    login_as("officer", "maidstone")
    exported = client.get("/t/maidstone/plan/actions/export?format=csv").data
    heads = next(csv.reader(io.StringIO(exported.decode("utf-8-sig"))))
    token = _token(_upload(client, "maidstone-actions.csv", exported))
    page = client.get(f"{IMPORT}/{token}/columns").get_data(as_text=True)
    chosen = _selected(page)
    at = {h: chosen[f"column_{i}"] for i, h in enumerate(heads)}
    assert at["Role or focus area"] == "area"
    assert at["Focus point"] == "focus_point"
    assert at["Lead officer on the portal"] == "lead_user"
    assert at["Overdue"] == "ignore"

    client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})
    login_as("officer", "thanet")
    base = "/t/thanet/plan/import"
    token, page = _go(client, "maidstone-actions.csv", exported, base)
    assert "problem" not in page
    assert "New roles or focus areas" in page and "1. Knowing our communities" in page
    _import(client, token, base)

    def read():
        objective = db.session.scalar(select(Objective).where(Objective.title == title))
        return (
            objective.area.label,
            objective.point.label,
            objective.point.area.id == objective.area.id,
        )

    assert _in(app, "thanet", read) == (
        "1. Knowing our communities",
        "1.1 Collecting information",
        True,
    )
    # Exported again, the imported plan reads the same in every column the import reads.
    theirs = _in(app, "maidstone", lambda: _export_rows())
    ours = _in(app, "thanet", lambda: _export_rows())
    assert theirs <= ours


def _export_rows() -> set:
    return {
        (
            a.objective.area.label if a.objective.area else "",
            a.objective.point.label if a.objective.point else "",
            a.objective.title,
            a.task,
            a.lead_officer,
            a.target_text,
            a.status,
            a.psed_tags,
            a.characteristic_tags,
            a.measures,
        )
        for a in db.session.scalars(select(Action))
    }


def test_a_standard_role_is_used_or_added(login_as, client, app):
    login_as("officer", "maidstone")
    text = "Role or focus area,Objective,Action\nAs an Employer,Fair pay,Publish the pay gap\n"
    token, page = _go(client, "p.csv", text.encode())
    _import(client, token)
    area = _in(
        app,
        "maidstone",
        lambda: db.session.scalar(select(Objective).where(Objective.title == "Fair pay")).area.role,
    )
    assert area == "employer"


def test_a_focus_point_without_its_area_is_a_problem(login_as, client):
    login_as("officer", "maidstone")
    text = "Focus point,Action\n9.9 Nowhere,A task\n"
    token, page = _go(client, "p.csv", text.encode())
    assert "Row 2: focus point ‘9.9 Nowhere’ is not one of the organisation’s" in page


# --- workbooks ---------------------------------------------------------------------------


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


NOTES = [
    ["Equality action plan 2024–28: notes for officers"],
    [],
    ["Update the status column monthly; RAG as agreed at CMT."],
]
PLAN = [
    ["Action", "Responsible officer", "Due date", "Status"],
    ["Publish ward profiles", "Data Officer", "31 March 2027", "On target"],
    ["Survey residents every year", "Data Officer", "2026/27", "Not started"],
    ["Review the complaints form", "Customer Services", "2026/27", "Complete"],
]
LOOKUPS = [["Statuses"], ["On target"], ["At risk"]]


def test_a_workbook_whose_first_sheet_is_notes_offers_its_sheets(login_as, client, app):
    login_as("officer", "maidstone")
    content = _workbook({"Notes": NOTES, "Action plan": PLAN, "Lookups": LOOKUPS})
    token = _token(_upload(client, "swale.xlsx", content))
    page = client.get(f"{IMPORT}/{token}/columns").get_data(as_text=True)
    assert "Action plan (3 rows)" in page
    assert "Notes (" in page and "Lookups (2 rows)" in page
    assert _selected(page)["sheet"] == "Action plan"
    assert _columns(client, token).status_code == 302
    page = _preview(client, token)
    assert "3 rows: 3 new" in page
    before = _count(app)
    _import(client, token)
    assert _count(app) == before + 3


def test_another_sheet_can_be_chosen(login_as, client):
    login_as("officer", "maidstone")
    content = _workbook({"Notes": NOTES, "Action plan": PLAN, "Archive": PLAN[:2]})
    token = _token(_upload(client, "swale.xlsx", content))
    url = f"{IMPORT}/{token}/columns"
    response = client.post(
        url, data={"csrf_token": csrf_token(client, url), "form": "sheet", "sheet": "Archive"}
    )
    assert response.status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert _selected(page)["sheet"] == "Archive"
    assert "Rows to import: 1" in page or "1 row" in page
    response = client.post(
        url, data={"csrf_token": csrf_token(client, url), "form": "sheet", "sheet": "Nope"}
    )
    assert response.status_code == 200
    assert "Choose a sheet from the list" in response.get_data(as_text=True)


def test_a_workbook_with_no_sheet_of_actions_says_so(login_as, client):
    login_as("officer", "maidstone")
    content = _workbook({"Notes": [["Action"]], "Blank": []})
    page = _upload(client, "swale.xlsx", content).get_data(as_text=True)
    assert "no rows of actions" in page


def test_two_people_choosing_a_new_words_meaning_at_once_both_save(
    login_as, client, app, monkeypatch
):
    from portal import clock
    from portal.actions import import_vocabulary

    login_as("officer", "maidstone")
    token, page = _go(client, "swale.csv", SWALE_CSV.encode())
    chosen = _status_form(page)
    real = import_vocabulary._keep_status_words
    raced = []

    def other_person_saves_first(words, choices):
        if not raced:
            raced.append(True)
            # Another officer's choice for "done" reaches the database between this save
            # reading the kept words and writing its own.
            now = clock.utcnow()
            db.session.add(ImportStatusWord(word="done", status="cancelled", updated_at=now))
            db.session.commit()
            db.session.add(ImportStatusWord(word="done", status="complete", updated_at=now))
            db.session.flush()
        return real(words, choices)

    monkeypatch.setattr(import_vocabulary, "_keep_status_words", other_person_saves_first)
    response = _save_statuses(client, token, chosen)
    assert raced and response.status_code == 302
    words = _in(
        app,
        "maidstone",
        lambda: {w.word: w.status for w in db.session.scalars(select(ImportStatusWord))},
    )
    # The later save wins, as a change of the row the other person made.
    assert words["done"] == "complete"
