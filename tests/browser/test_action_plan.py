"""An officer of Maidstone works through the action plan: reads it, records progress, filters,
downloads it and imports actions from a spreadsheet."""

from __future__ import annotations

import re
import secrets

import pytest
from playwright.sync_api import expect

from .support import assert_accessible

pytestmark = pytest.mark.browser

ACTION = "Provide ward level analysis of demographic information"


def _open_plan(page):
    page.get_by_role("navigation", name=re.compile("Pages for Maidstone")).get_by_role(
        "link", name="Action plan"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Equality objectives and actions")
    assert_accessible(page)


def test_officer_reads_an_action_and_adds_a_progress_update(sign_in):
    page = sign_in("officer@maidstone.demo")
    assert_accessible(page)
    _open_plan(page)
    expect(page.get_by_role("heading", name="Role 1: As a Community Leader")).to_be_visible()

    page.get_by_role("link", name=re.compile(ACTION)).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(ACTION)
    expect(page.get_by_text("No progress has been recorded yet.")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("button", name="Add a progress update").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Add a progress update")
    assert_accessible(page)
    # Saved with nothing filled in: the errors are listed and linked, and still accessible.
    page.get_by_role("button", name="Save update").click()
    expect(page.locator(".govuk-error-summary")).to_be_focused()
    assert_accessible(page)

    page.get_by_label("Day").fill("3")
    page.get_by_label("Month").fill("10")
    page.get_by_label("Year").fill("2017")
    page.get_by_label("What progress has been made?").fill(
        "The ward reports were sent to every councillor after the survey."
    )
    page.get_by_role("radio", name="Complete").check()
    page.get_by_role("button", name="Save update").click()
    expect(page.get_by_text("The progress update has been saved")).to_be_visible()
    progress = page.get_by_role("table", name="Progress updates, newest first")
    expect(progress).to_contain_text("3 October 2017")
    expect(progress).to_contain_text("The ward reports were sent to every councillor")
    assert_accessible(page)


def test_officer_filters_the_actions_and_downloads_them(sign_in):
    page = sign_in("officer@maidstone.demo")
    assert_accessible(page)
    _open_plan(page)

    page.get_by_role("link", name="Find and filter actions").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Actions")
    assert_accessible(page)
    page.get_by_label("Role or focus area").select_option(label="Role 3: As an employer")
    page.get_by_label("Only overdue actions").check()
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"area=\d+.*overdue=1"))
    expect(page.get_by_text(re.compile(r"\d+ actions? match the filters"))).to_be_visible()
    table = page.get_by_role("table")
    expect(table).to_contain_text("Equalities Training to be included in the Member Development")
    expect(table).not_to_contain_text(ACTION)
    assert_accessible(page)

    with page.expect_download() as caught:
        page.get_by_role("link", name="CSV file of these actions").click()
    download = caught.value
    assert re.fullmatch(r"maidstone-actions\.csv", download.suggested_filename)
    text = open(download.path(), encoding="utf-8-sig").read()
    assert text.startswith('"Role or focus area","Focus point","Objective","Action",')
    assert "Member Development Programme" in text and ACTION not in text

    page.get_by_role("link", name="Clear filters").click()
    expect(page.get_by_text(re.compile(r"^\d+ actions\."))).to_be_visible()
    assert_accessible(page)

    page.get_by_role("navigation", name=re.compile("Pages for Maidstone")).get_by_role(
        "link", name="Action plan"
    ).click()
    assert_accessible(page)
    page.get_by_role("link", name="My actions").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My actions")
    # The demonstration officer leads the Equalities and Corporate Policy Officer's actions.
    expect(
        page.get_by_role(
            "link", name="To complete an annual equality data audit with Service Managers."
        )
    ).to_be_visible()
    assert_accessible(page)


def _choose_file(page, name: str, text: str) -> None:
    page.get_by_label("Spreadsheet file").set_input_files(
        files=[{"name": name, "mimeType": "text/csv", "buffer": text.encode("utf-8")}]
    )
    page.get_by_role("button", name="Upload and continue").click()


def test_officer_imports_actions_from_a_spreadsheet(sign_in):
    marker = secrets.token_hex(3)
    page = sign_in("officer@maidstone.demo")
    assert_accessible(page)
    _open_plan(page)

    page.get_by_role("button", name="Import actions from a spreadsheet").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Import actions from a spreadsheet")
    assert_accessible(page)

    # A file that cannot be read is refused with a plain message.
    _choose_file(page, "empty.csv", "")
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("The selected file is empty")
    assert_accessible(page)

    objective = f"Welcome new residents {marker}"
    broken = (
        "Objective,Action,Responsible officer,To be delivered by:,Status\n"
        f"{objective},Publish a welcome pack,Communications Officer,31 March 2027,On target\n"
        f",Hold a welcome event,Community Officer,31/02/2027,Done\n"
    )
    _choose_file(page, "welcome.csv", broken)
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose what each column holds")
    expect(page.get_by_label(re.compile(r"Column B"))).to_have_value("task")
    expect(page.get_by_label(re.compile(r"Column C"))).to_have_value("lead_officer")
    expect(page.get_by_label(re.compile(r"Column D"))).to_have_value("target_text")
    assert_accessible(page)
    page.get_by_role("button", name="Continue to the preview").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Check the actions before importing")
    problems = page.locator("#row-problems")
    expect(problems).to_contain_text("Row 3: target date ‘31/02/2027’ is not a real date")
    expect(problems).to_contain_text("Choose what each status word means, below the rows: ‘Done’")
    expect(page.get_by_label("“Done”")).to_have_value("complete")
    expect(page.get_by_role("button", name=re.compile(r"^Import"))).to_have_count(0)
    assert_accessible(page)

    page.get_by_role("button", name="Upload a corrected file").click()
    assert_accessible(page)
    _choose_file(
        page, "welcome.csv", broken.replace("31/02/2027", "28/02/2027").replace("Done", "Complete")
    )
    assert_accessible(page)
    page.get_by_role("button", name="Continue to the preview").click()
    expect(page.get_by_text("2 rows: 2 new, 0 already in the plan.")).to_be_visible()
    table = page.get_by_role("table", name="Every row, as they will be imported")
    expect(table).to_contain_text("Hold a welcome event")
    assert_accessible(page)

    page.get_by_role("button", name="Import 2 actions").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Equality objectives and actions")
    expect(page.get_by_text("2 actions imported")).to_be_visible()
    expect(page.get_by_role("heading", name=objective)).to_be_visible()
    expect(page.get_by_role("link", name="Hold a welcome event")).to_be_visible()
    assert_accessible(page)


def test_officer_imports_another_councils_workbook(sign_in):
    """A workbook with notes on its first sheet and the council's own status words."""
    import io

    from openpyxl import Workbook

    marker = secrets.token_hex(3)
    workbook = Workbook()
    notes = workbook.active
    notes.title = "Notes"
    notes.append(["Equality action plan: notes for officers"])
    plan = workbook.create_sheet("Action plan")
    plan.append(["Objective", "Action", "Responsible officer", "Due date", "Status"])
    plan.append([f"Open data {marker}", "Publish ward profiles", "Data Officer", "2026/27", "WIP"])
    plan.append(["", "Survey residents", "Data Officer", "2026/27", "Parked"])
    buffer = io.BytesIO()
    workbook.save(buffer)

    page = sign_in("officer@maidstone.demo")
    assert_accessible(page)
    page.goto("/t/maidstone/plan/import")
    assert_accessible(page)
    page.get_by_label("Spreadsheet file").set_input_files(
        files=[
            {
                "name": "plan.xlsx",
                "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "buffer": buffer.getvalue(),
            }
        ]
    )
    page.get_by_role("button", name="Upload and continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose what each column holds")
    expect(page.get_by_label("Sheet to import")).to_have_value("Action plan")
    assert_accessible(page)
    page.get_by_role("button", name="Continue to the preview").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Check the actions before importing")
    expect(page.get_by_label("“WIP”")).to_have_value("on-target")
    expect(page.get_by_label("“Parked”")).to_have_value("")
    assert_accessible(page)
    page.get_by_role("button", name="Save what the words mean").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Choose what “Parked” means")
    assert_accessible(page)
    page.get_by_label("“Parked”").select_option("at-risk")
    page.get_by_role("button", name="Save what the words mean").click()
    table = page.get_by_role("table", name="Every row, as they will be imported")
    expect(table).to_contain_text("At risk (from “Parked”)")
    assert_accessible(page)
    page.get_by_role("button", name="Import 2 actions").click()
    expect(page.get_by_text("2 actions imported")).to_be_visible()
    assert_accessible(page)
