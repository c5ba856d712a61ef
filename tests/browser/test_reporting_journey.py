"""The whole reporting cycle through the real forms, in one journey: the lead opens a
reporting year; West Kent Housing's officer completes every section of the return and
sends it for sign-off; its chief executive signs it off; the lead writes the foreword and
summary, previews and publishes; the public pages then show the report, and every format
downloads. Every page on the way passes axe-core, the built HTML report included.

A fresh reporting year keeps the journey apart from the demonstration years that the other
browser tests read: the other members have not submitted, and the report says so.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from tests.helpers import PAY_GAP_ANSWERS, QUARTILE_ANSWERS, RETURN_SECTIONS, png

from .support import assert_accessible

pytestmark = pytest.mark.browser

MEMBER = "west-kent-housing"
MEMBER_NAME = "West Kent Housing"
STUDY = "Tenancy support in plain English"
# Publishing builds every format (charts through kaleido, PDFs through WeasyPrint) before
# the job's page answers: a busy machine needs longer than a page load.
BUILD_TIMEOUT_MS = 180_000

MEDIA_TYPES = {
    "Web page (HTML)": "text/html",
    "Accessible PDF (tagged, PDF/UA-1)": "application/pdf",
    "Large print PDF (16 point, Clear Print)": "application/pdf",
    "Word document (DOCX)": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    ),
    "OpenDocument text (ODT)": "application/vnd.oasis.opendocument.text",
    "Data annex (CSV)": "text/csv",
    "Data annex (Excel, XLSX)": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
# What each format starts with: HTML text, a PDF header, or a zip (DOCX, ODT, XLSX).
SIGNATURES = {"text/html": b"<!doctype html", "application/pdf": b"%PDF-", "text/csv": b""}


def _fill_date(page, legend: str, day: date) -> None:
    group = page.get_by_role("group", name=re.compile(legend))
    group.get_by_label("Day").fill(str(day.day))
    group.get_by_label("Month").fill(str(day.month))
    group.get_by_label("Year").fill(str(day.year))


def _sign_in(page, email: str, password: str) -> None:
    page.context.clear_cookies()
    page.goto("/login")
    assert_accessible(page)
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).not_to_have_url(re.compile(r"/login"))
    assert_accessible(page)


def _open_section(page, title: str) -> None:
    page.locator(".govuk-task-list").get_by_role("link", name=title, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    assert_accessible(page)


def _save_section(page, title: str) -> None:
    page.get_by_role("button", name="Save and continue").click()
    expect(page.get_by_text(f"{title}: completed.")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("Annual return"))
    assert_accessible(page)


def _task_status(page, title: str):
    return (
        page.locator(".govuk-task-list__item")
        .filter(has=page.get_by_role("link", name=title, exact=True))
        .locator(".govuk-task-list__status")
    )


def _complete_the_return(page, label: str) -> None:
    """The officer fills every section in through its form."""
    # 1. Progress on each joint aim: a narrative for each, and the first highlight offered.
    _open_section(page, RETURN_SECTIONS["aims"])
    aims = page.get_by_label(f"What you did towards this aim in {label}", exact=True)
    assert aims.count() > 0, "the reporting year covers the partnership's joint aims"
    # An empty narrative is refused in the users' words, and the other answers are kept.
    page.get_by_role("button", name="Save and continue").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Enter what you did towards this aim")
    assert_accessible(page)
    for i in range(aims.count()):
        aims.nth(i).fill(
            f"{MEMBER_NAME} worked with its partners on this aim. We met every quarter "
            "and checked our actions."
        )
    _save_section(page, RETURN_SECTIONS["aims"])
    expect(_task_status(page, RETURN_SECTIONS["aims"])).to_have_text("Completed")

    # 2. Progress on each of the member's commitments.
    _open_section(page, RETURN_SECTIONS["commitments"])
    commitments = page.locator("textarea[name^='commitment-']")
    for i in range(commitments.count()):
        commitments.nth(i).fill("We kept to this commitment and told our board how we did.")
    _save_section(page, RETURN_SECTIONS["commitments"])

    # 3. Joint measures: a figure missing for the new year needs a reason.
    _open_section(page, RETURN_SECTIONS["measures"])
    reasons = page.get_by_label("Why there is no figure")
    assert reasons.count() > 0, "a new year's measures have no figures yet"
    page.get_by_role("button", name="Save and continue").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("say why there is no figure")
    assert_accessible(page)
    for i in range(reasons.count()):
        reasons.nth(i).fill("The figures for the year are collected in April.")
    _save_section(page, RETURN_SECTIONS["measures"])

    # 4. Workforce, with the six gender pay gap figures for an employer of 250 or more.
    _open_section(page, RETURN_SECTIONS["workforce"])
    employees = page.get_by_label("How many people do you employ?")
    if employees.count():
        employees.fill("420")
    page.get_by_label(re.compile(r"No \(snapshot 5 April")).check()
    for _name, label, value in PAY_GAP_ANSWERS:
        page.get_by_label(label, exact=True).fill(value)
    for _band, quartile, men, women in QUARTILE_ANSWERS:
        group = page.get_by_role("group", name=quartile, exact=True)
        group.get_by_label("Men (%)", exact=True).fill(men)
        group.get_by_label("Women (%)", exact=True).fill(women)
    _save_section(page, RETURN_SECTIONS["workforce"])

    # 5 and 6. Impact assessments and hate incidents: counted from the registers, checked.
    _open_section(page, RETURN_SECTIONS["assessments"])
    page.get_by_label("I have checked these figures against the register").check()
    _save_section(page, RETURN_SECTIONS["assessments"])
    _open_section(page, RETURN_SECTIONS["incidents"])
    page.get_by_label(re.compile("I have checked these figures")).check()
    _save_section(page, RETURN_SECTIONS["incidents"])

    # 7. A case study, with a picture and its description.
    _open_section(page, RETURN_SECTIONS["case_studies"])
    page.get_by_role("link", name="Add a case study").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Add a case study")
    assert_accessible(page)
    page.get_by_label("Title").fill(STUDY)
    page.get_by_label("Case study", exact=True).fill(
        "We rewrote our tenancy letters with tenants. Complaints about letters fell by half."
    )
    page.get_by_label("Image (optional)").set_input_files(
        {"name": "letters.png", "mimeType": "image/png", "buffer": png(8, 6)}
    )
    page.get_by_label("Describe the image").fill("A tenant reading the new tenancy letter.")
    page.get_by_role("button", name="Save case study").click()
    expect(page.get_by_text("Case study added.")).to_be_visible()
    expect(page.get_by_role("heading", name=STUDY)).to_be_visible()
    assert_accessible(page)
    _save_section(page, RETURN_SECTIONS["case_studies"])

    # 8. Priorities for next year.
    _open_section(page, RETURN_SECTIONS["priorities"])
    page.get_by_label("Your priorities for next year").fill(
        "We will ask every new tenant about their needs and publish the results."
    )
    _save_section(page, RETURN_SECTIONS["priorities"])

    statuses = page.locator(".govuk-task-list__status")
    assert statuses.count() == len(RETURN_SECTIONS)
    expect(statuses).to_have_text(["Completed"] * len(RETURN_SECTIONS))


def test_a_return_goes_from_the_officer_to_the_published_report(
    browser_page, live_server, demo_password
):
    page = browser_page
    today = date.today()

    # The lead opens a new reporting year.
    _sign_in(page, "lead@west-kent.demo", demo_password)
    page.get_by_role("link", name="Reporting years").click()
    assert_accessible(page)
    page.get_by_role("button", name="Open a reporting year").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Open a reporting year")
    assert_accessible(page)
    # The reporting year under way today (April to March), which no demonstration year takes.
    start = today.year if today.month >= 4 else today.year - 1
    label = f"{start}-{(start + 1) % 100:02d}"
    page.get_by_label("Reporting year").select_option(label=label)
    _fill_date(page, "Deadline for returns", today + timedelta(days=30))
    _fill_date(page, "Target publication date", today + timedelta(days=90))
    page.get_by_role("button", name="Open the reporting year").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Reporting year {label}")
    assert_accessible(page)

    # West Kent Housing's officer completes the return and sends it for sign-off.
    _sign_in(page, f"officer@{MEMBER}.demo", demo_password)
    page.get_by_role("link", name="Annual returns").first.click()
    assert_accessible(page)
    page.get_by_role("link", name=f"{label}, West Kent").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Annual return {label}")
    assert_accessible(page)
    _complete_the_return(page, label)
    page.get_by_role("link", name="See the return as it will appear").click()
    expect(page.get_by_text(STUDY).first).to_be_visible()
    assert_accessible(page)
    page.go_back()
    assert_accessible(page)
    page.get_by_role("button", name="Send for sign-off").click()
    expect(page.get_by_text("sent to your chief executive for sign-off")).to_be_visible()
    assert_accessible(page)
    assert live_server.message_to(f"ceo@{MEMBER}.demo")

    # The chief executive reads it as it will appear and signs it off.
    _sign_in(page, f"ceo@{MEMBER}.demo", demo_password)
    page.goto(f"/t/{MEMBER}/returns/west-kent/{label}/")
    assert_accessible(page)
    page.get_by_role("button", name="Review and sign off").click()
    expect(page.get_by_text(STUDY).first).to_be_visible()
    assert_accessible(page)
    page.get_by_label("I confirm this statement").check()
    page.get_by_label("Your password").fill(demo_password)
    page.get_by_role("button", name="Sign off the return").click()
    expect(page.get_by_text("SHA-256 fingerprint")).to_be_visible()
    expect(page.get_by_text(re.compile(r"Signed off by .*, Chief Executive"))).to_be_visible()
    assert_accessible(page)

    # The lead sees it signed off, writes the foreword and summary, previews and publishes.
    _sign_in(page, "lead@west-kent.demo", demo_password)
    page.goto(f"/p/west-kent/reports/{label}/")
    assert_accessible(page)
    page.get_by_role("link", name=re.compile(f"joint annual report {label}")).click()
    expect(
        page.get_by_role("heading", name=f"Joint annual report {label}", level=1)
    ).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Foreword").fill("A year of working together on fair housing.")
    page.get_by_label("Partnership summary").fill("Members rewrote letters with residents.")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("The foreword and partnership summary are saved.")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Preview the whole report").click()
    expect(page.get_by_text("A year of working together on fair housing.")).to_be_visible()
    expect(page.get_by_text(STUDY).first).to_be_visible()
    expect(page.get_by_text("Not submitted by the deadline").first).to_be_visible()
    assert_accessible(page)
    page.go_back()
    assert_accessible(page)
    page.get_by_role("button", name="Publish version 1").click(timeout=BUILD_TIMEOUT_MS)
    page.wait_for_url(re.compile(r"/jobs/\d+"), timeout=BUILD_TIMEOUT_MS)
    expect(page.locator(".portal-job .govuk-tag")).to_have_text("Finished")
    assert_accessible(page)

    # The public pages show the report, and every format downloads.
    page.context.clear_cookies()
    page.goto("/public/p/west-kent/")
    assert_accessible(page)
    page.get_by_role("link", name=re.compile(f"{label}")).first.click()
    expect(page).to_have_url(re.compile(rf"/public/p/west-kent/reports/{label}/"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"joint annual report {label}")
    expect(page.get_by_text(STUDY).first).to_be_visible()
    expect(page.get_by_text(re.compile("SHA-256")).first).to_be_visible()
    assert_accessible(page)
    for name, media_type in MEDIA_TYPES.items():
        link = page.get_by_role("link", name=name)
        expect(link.first).to_be_visible()
        response = page.request.get(link.first.get_attribute("href"))
        assert response.ok, name
        assert response.headers["content-type"].startswith(media_type), name
        body = response.body()
        assert body, name
        signature = SIGNATURES.get(media_type, b"PK\x03\x04")
        assert body[: len(signature)].lower() == signature.lower(), name
        if name == "Web page (HTML)":
            built = body.decode()
        if name == "Data annex (CSV)":
            assert MEMBER_NAME in body.decode("utf-8-sig")

    # The built HTML file on its own, as a reader opens it, passes axe-core too.
    assert STUDY in built
    page.route(
        "**/built-journey-report.html",
        lambda route: route.fulfill(status=200, content_type="text/html", body=built),
    )
    page.goto("/built-journey-report.html")
    expect(page.get_by_role("heading", name="Contents")).to_be_visible()
    assert_accessible(page)

    # The member's own public page lists the report it appears in.
    page.goto(f"/public/{MEMBER}/")
    expect(page.get_by_role("link", name=re.compile(label)).first).to_be_visible()
    assert_accessible(page)
