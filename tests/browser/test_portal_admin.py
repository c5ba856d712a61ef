"""The portal administrator: partnerships and organisations, and nothing inside them."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .support import assert_accessible

pytestmark = pytest.mark.browser


def test_portal_admin_creates_an_organisation_form_errors(sign_in):
    page = sign_in("admin@portal.demo")
    expect(page).to_have_url(re.compile(r"/admin/$"))
    expect(page).to_have_title("Portal administration – Equality Partnership Portal")
    expect(page.get_by_role("heading", level=1)).to_have_text("Portal administration")
    expect(page.get_by_role("table", name="Partnerships")).to_contain_text(
        "West Kent Equality Partnership"
    )
    expect(page.get_by_role("table", name="Organisations")).to_contain_text("Gentoo")
    assert_accessible(page)

    page.get_by_role("button", name="Create an organisation").click()
    expect(page).to_have_url(re.compile(r"/admin/organisations/new$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Create an organisation")
    assert_accessible(page)

    page.get_by_role("button", name="Create organisation").click()
    expect(page).to_have_url(re.compile(r"/admin/organisations/new$"))
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    for message in (
        "Enter the organisation's name",
        "Enter a short name",
        "Choose what kind of organisation it is",
    ):
        expect(summary.get_by_role("link", name=message)).to_be_visible()
    expect(page).to_have_title(re.compile(r"^Error: Create an organisation"))
    assert_accessible(page)

    # The link for a group of radios moves focus to its first radio.
    summary.get_by_role("link", name="Choose what kind of organisation it is").click()
    expect(page.get_by_role("radio").first).to_be_focused()

    # A short name in the wrong shape is explained, and what was typed is kept.
    page.get_by_label("Name", exact=True).fill("Demonstration Borough Council")
    page.get_by_label("Short name for web addresses").fill("Not A Slug")
    page.get_by_role("radio", name="Borough council").check()
    page.get_by_role("button", name="Create organisation").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Short name must be lower-case letters, numbers and single hyphens"
    )
    expect(page.get_by_label("Name", exact=True)).to_have_value("Demonstration Borough Council")
    expect(page.get_by_role("radio", name="Borough council")).to_be_checked()
    assert_accessible(page)


def test_portal_admin_cannot_open_a_tenant(sign_in):
    page = sign_in("admin@portal.demo")
    assert_accessible(page)
    response = page.goto("/t/sevenoaks/")
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    assert_accessible(page)


def test_portal_admin_reads_the_portal_audit_trail(sign_in):
    page = sign_in("admin@portal.demo")
    assert_accessible(page)
    page.get_by_role("link", name="Portal audit trail").click()
    expect(page).to_have_url(re.compile(r"/admin/audit$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Portal audit trail")
    trail = page.get_by_role("table", name="Portal audit trail")
    expect(trail).to_contain_text("Portal administrator (demonstration) (admin@portal.demo)")
    assert_accessible(page)

    page.get_by_label("What happened").select_option(label="Signed in")
    page.get_by_role("group", name="From").get_by_label("Day").fill("31")
    page.get_by_role("group", name="From").get_by_label("Month").fill("2")
    page.get_by_role("group", name="From").get_by_label("Year").fill("2026")
    page.get_by_role("button", name="Show events").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link", name="The start date must be a real date")).to_be_visible()
    assert_accessible(page)


def test_portal_admin_cannot_invite_themselves(sign_in, live_server, unique_email):
    page = sign_in("admin@portal.demo")
    assert_accessible(page)
    page.get_by_role("table", name="Organisations").get_by_role(
        "link", name="Invite an organisation administrator for Gentoo Group"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Invite an organisation administrator"
    )
    assert_accessible(page)
    page.get_by_label("Full name").fill("Me Myself")
    page.get_by_label("Email address").fill("admin@portal.demo")
    page.get_by_role("button", name=re.compile("Send")).click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("You cannot invite yourself")
    assert_accessible(page)

    email = unique_email("gentoo-admin")
    page.get_by_label("Email address").fill(email)
    page.get_by_role("button", name=re.compile("Send")).click()
    expect(page).to_have_url(re.compile(r"/admin/$"))
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        f"Invitation sent to {email}"
    )
    assert "organisation administrator" in live_server.message_to(email).get_content()
    assert_accessible(page)
