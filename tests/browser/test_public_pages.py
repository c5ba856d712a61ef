"""Pages anybody can reach without signing in."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .support import assert_accessible

pytestmark = pytest.mark.browser


def test_start_page_leads_to_sign_in(browser_page):
    page = browser_page
    page.goto("/")
    expect(page).to_have_title("Welcome – Equality Partnership Portal")
    expect(page.get_by_role("heading", level=1)).to_have_text("Equality Partnership Portal")
    expect(
        page.get_by_role("contentinfo").get_by_role("link", name="Accessibility statement")
    ).to_be_visible()
    assert_accessible(page)

    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_role("heading", name="Sign in", level=1)).to_be_visible()
    assert_accessible(page)


@pytest.mark.parametrize(
    ("path", "heading", "text"),
    [
        ("/accessibility", "Accessibility statement", "WCAG"),
        ("/privacy", "Privacy notice", "data controller"),
        ("/cookies", "Cookies", "portal_session"),
    ],
)
def test_policy_pages_are_linked_from_the_footer(browser_page, path, heading, text):
    page = browser_page
    page.goto("/")
    assert_accessible(page)
    page.get_by_role("contentinfo").get_by_role("link", name=heading).click()
    expect(page).to_have_url(re.compile(re.escape(path) + "$"))
    expect(page).to_have_title(f"{heading} – Equality Partnership Portal")
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    expect(page.get_by_role("main")).to_contain_text(text)
    assert_accessible(page)


def test_unknown_address_shows_a_helpful_404(browser_page):
    page = browser_page
    response = page.goto("/no-such-page")
    assert response.status == 404
    expect(page).to_have_title("Page not found – Equality Partnership Portal")
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    expect(page.get_by_text("If you typed the web address, check it is correct.")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name="Go to the start page").click()
    expect(page).to_have_url(re.compile(r"/$"))
    assert_accessible(page)


def test_tenant_page_asks_a_visitor_to_sign_in(browser_page):
    page = browser_page
    page.goto("/t/sevenoaks/")
    # A tenant page asks a visitor to sign in first, and comes back afterwards.
    expect(page).to_have_url(re.compile(r"/login\?next=(/|%2F)t(/|%2F)sevenoaks(/|%2F)$"))
    expect(page.get_by_text("Sign in to continue")).to_be_visible()
    assert_accessible(page)


def test_forgotten_password(browser_page, live_server):
    page = browser_page
    page.goto("/login")
    assert_accessible(page)
    page.get_by_role("link", name="I have forgotten my password").click()
    expect(page).to_have_url(re.compile(r"/password/forgot$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Reset your password")
    assert_accessible(page)

    page.get_by_role("button", name="Send me a reset link").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link", name="Enter your email address")).to_be_visible()
    expect(page).to_have_title(re.compile(r"^Error: Reset your password"))
    assert_accessible(page)

    page.get_by_label("Email address").fill("viewer@sevenoaks.demo")
    page.get_by_role("button", name="Send me a reset link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    expect(page.get_by_role("main")).to_contain_text(
        "If viewer@sevenoaks.demo belongs to an account"
    )
    assert_accessible(page)
    message = live_server.message_to("viewer@sevenoaks.demo")
    assert message["Subject"] == "Reset your password for the Equality Partnership Portal"
    assert "/password/reset/" in live_server.link_in(message)

    page.get_by_role("link", name="Back to sign in").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    assert_accessible(page)


def test_choosing_a_new_password_says_it_was_saved(browser_page, live_server):
    page = browser_page
    page.goto("/password/forgot")
    assert_accessible(page)
    page.get_by_label("Email address").fill("ceo@gentoo.demo")
    page.get_by_role("button", name="Send me a reset link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    assert_accessible(page)

    page.goto(live_server.link_in(live_server.message_to("ceo@gentoo.demo")))
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose a new password")
    assert_accessible(page)
    new_password = "a different long password"
    page.get_by_label("New password", exact=True).fill(new_password)
    page.get_by_label("Confirm new password").fill(new_password)
    page.get_by_role("button", name="Save password").click()
    expect(page).to_have_url(re.compile(r"/login\?email="))
    assert_accessible(page)
    expect(page.get_by_role("alert").get_by_text("Your password has been saved")).to_be_visible(
        timeout=1_000
    )
