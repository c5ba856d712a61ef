"""An organisation administrator invites somebody, who accepts and signs in, and changes
another person's roles after checking before and after."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .support import assert_accessible

pytestmark = pytest.mark.browser


def test_people_page(sign_in):
    page = sign_in("admin@sevenoaks.demo")
    expect(page).to_have_url(re.compile(r"/t/sevenoaks/$"))
    assert_accessible(page)

    page.get_by_role("link", name="People and their roles").click()
    expect(page).to_have_url(re.compile(r"/t/sevenoaks/admin/people$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("People")
    people = page.get_by_role("table", name="People")
    expect(
        people.get_by_role("link", name=re.compile(r"^Equality officer, Sevenoaks"))
    ).to_be_visible()
    expect(people).to_contain_text("officer@sevenoaks.demo")
    # Nobody from another organisation is listed.
    expect(people).not_to_contain_text("thanet")
    navigation = page.get_by_role("navigation", name="Pages for Sevenoaks District Council")
    expect(navigation.get_by_role("link", name="People")).to_have_attribute(
        "aria-current", re.compile(r"page|true")
    )
    assert_accessible(page)


def test_invite_somebody_who_then_signs_in(sign_in, live_server, unique_email):
    page = sign_in("admin@sevenoaks.demo")
    assert_accessible(page)
    page.goto("/t/sevenoaks/admin/people")
    assert_accessible(page)
    page.get_by_role("button", name="Invite somebody").click()
    expect(page).to_have_url(re.compile(r"/t/sevenoaks/admin/people/invite$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Invite somebody to Sevenoaks District Council"
    )
    assert_accessible(page)

    # Sent empty: every problem is listed, and each field says what is wrong.
    page.get_by_role("button", name="Send invitation").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    for message in (
        "Enter the person's full name",
        "Enter the person's email address",
        "Choose at least one role",
    ):
        expect(summary.get_by_role("link", name=message)).to_be_visible()
    expect(page.locator(".govuk-error-message")).to_have_count(3)
    expect(page).to_have_title(re.compile(r"^Error: Invite somebody"))
    assert_accessible(page)

    summary.get_by_role("link", name="Enter the person's full name").click()
    expect(page.get_by_label("Full name")).to_be_focused()

    email = unique_email("invitee")
    page.get_by_label("Full name").fill("Ada Newcomer")
    page.get_by_label("Email address").fill(email)
    page.get_by_role("checkbox", name="Viewer").check()
    page.get_by_role("button", name="Send invitation").click()

    expect(page).to_have_url(re.compile(r"/t/sevenoaks/admin/people$"))
    banner = page.locator(".govuk-notification-banner--success")
    expect(banner).to_contain_text(f"Invitation sent to {email}")
    # Nothing changes until they accept: the invitation waits in its own list.
    expect(page.get_by_role("table", name="People")).not_to_contain_text(email)
    row = (
        page.get_by_role("table", name="Invitations waiting to be accepted")
        .get_by_role("row")
        .filter(has_text=email)
    )
    expect(row).to_contain_text("Viewer")
    expect(row).to_contain_text("Ada Newcomer")
    assert_accessible(page)

    message = live_server.message_to(email)
    assert message["Subject"] == (
        "You have been invited to the Equality Partnership Portal for Sevenoaks District Council"
    )
    link = live_server.link_in(message)
    assert link.startswith(live_server.url + "/invitation/")

    # The audit trail records the invitation.
    page.get_by_role("navigation", name="Pages for Sevenoaks District Council").get_by_role(
        "link", name="Audit trail"
    ).click()
    expect(page).to_have_url(re.compile(r"/t/sevenoaks/admin/audit$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Audit trail")
    trail = page.get_by_role("table", name="Audit trail")
    expect(trail.get_by_role("row").filter(has_text="Person invited").first).to_contain_text(
        "admin@sevenoaks.demo"
    )
    assert_accessible(page)
    # Narrowed to invitations, the subject is named.
    page.get_by_label("What happened").select_option(label="Person invited")
    page.get_by_role("button", name="Show events").click()
    expect(page).to_have_url(re.compile(r"/t/sevenoaks/admin/audit\?.*action=user.invited"))
    expect(trail.get_by_role("row").nth(1)).to_contain_text("Ada Newcomer")
    expect(trail).not_to_contain_text("Role granted")
    assert_accessible(page)

    # The admin signs out; the newcomer follows the link in the email.
    page.get_by_role("banner").get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    assert_accessible(page)

    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Ada Newcomer")
    expect(page.get_by_role("main")).to_contain_text(f"Choose a password for {email}")
    assert_accessible(page)

    # Too short and not matching first: both are explained.
    page.get_by_label("New password", exact=True).fill("short")
    page.get_by_label("Confirm new password").fill("different")
    page.get_by_role("button", name="Save password").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Password must be at least 12 characters")
    expect(summary).to_contain_text("The passwords do not match")
    assert_accessible(page)

    new_password = "correct horse battery staple"
    page.get_by_label("New password", exact=True).fill(new_password)
    page.get_by_label("Confirm new password").fill(new_password)
    page.get_by_role("button", name="Save password").click()
    # (The "Your password has been saved" banner is lost: see test_public_pages.py.)
    expect(page).to_have_url(re.compile(r"/login\?email="))
    expect(page.get_by_label("Email address")).to_have_value(email)
    assert_accessible(page)

    page.get_by_label("Password", exact=True).fill(new_password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/t/sevenoaks/$"))
    expect(page.get_by_role("main")).to_contain_text("You are signed in as viewer.")
    expect(page.get_by_role("banner").get_by_role("link", name="Ada Newcomer")).to_be_visible()
    assert_accessible(page)

    # The link works once.
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("This link does not work")
    assert_accessible(page)


def test_changing_roles_shows_before_and_after(sign_in):
    page = sign_in("admin@gentoo.demo")
    assert_accessible(page)
    # Gentoo: no other browser test relies on its viewer.
    page.goto("/t/gentoo/admin/people")
    assert_accessible(page)
    page.get_by_role("table", name="People").get_by_role(
        "link", name=re.compile(r"^Councillor \(viewer\), Gentoo")
    ).click()
    expect(page.get_by_role("checkbox", name="Viewer")).to_be_checked()
    assert_accessible(page)
    page.get_by_role("checkbox", name="Caseworker").check()
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Check the change to")
    summary = page.locator(".govuk-summary-list")
    expect(summary).to_contain_text("Before")
    expect(summary).to_contain_text("After")
    expect(summary).to_contain_text("Caseworker, Viewer")
    expect(page.locator(".govuk-warning-text")).to_contain_text(
        "The other organisation administrators will be told by email."
    )
    assert_accessible(page)

    page.get_by_role("button", name="Save roles").click()
    expect(page).to_have_url(re.compile(r"/t/gentoo/admin/people$"))
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("have been saved")
    access = page.get_by_role("table", name="Who can open hate-incident case records")
    expect(access).to_contain_text("Councillor (viewer), Gentoo")
    expect(access).to_contain_text("granted by")
    assert_accessible(page)

    # Their own page offers no way to change their own roles.
    page.get_by_role("table", name="People").get_by_role(
        "link", name=re.compile(r"^Organisation administrator, Gentoo")
    ).click()
    expect(page.get_by_text("You cannot change your own roles.")).to_be_visible()
    expect(page.get_by_role("checkbox")).to_have_count(0)
    assert_accessible(page)
