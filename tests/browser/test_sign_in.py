"""Signing in and out, as each kind of user first meets the portal."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .support import assert_accessible

pytestmark = pytest.mark.browser


def test_wrong_password_then_right_one_lands_on_the_tenant_home(browser_page, demo_password):
    page = browser_page
    page.goto("/login")
    expect(page).to_have_title("Sign in – Equality Partnership Portal")
    assert_accessible(page)

    page.get_by_label("Email address").fill("officer@sevenoaks.demo")
    page.get_by_label("Password", exact=True).fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()

    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    expect(summary.get_by_role("heading")).to_have_text("There is a problem")
    error_link = summary.get_by_role("link", name="The email address or password is not right")
    expect(error_link).to_have_attribute("href", "#email")
    expect(page).to_have_title("Error: Sign in – Equality Partnership Portal")
    expect(page).to_have_url(re.compile(r"/login$"))
    # The address typed is kept; the password is not.
    expect(page.get_by_label("Email address")).to_have_value("officer@sevenoaks.demo")
    expect(page.get_by_label("Password", exact=True)).to_have_value("")
    assert_accessible(page)

    error_link.click()
    expect(page.get_by_label("Email address")).to_be_focused()

    page.get_by_label("Password", exact=True).fill(demo_password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/t/sevenoaks/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Sevenoaks District Council")
    assert_accessible(page)


def test_officer_sees_their_tenant_home(sign_in):
    page = sign_in("officer@sevenoaks.demo")
    expect(page).to_have_url(re.compile(r"/t/sevenoaks/$"))
    expect(page).to_have_title("Home – Sevenoaks District Council – Equality Partnership Portal")
    main = page.get_by_role("main")
    expect(main.get_by_text("District council", exact=True)).to_be_visible()
    expect(main).to_contain_text("You are signed in as equality officer.")
    expect(main.get_by_role("heading", name="Partnerships")).to_be_visible()
    expect(main).to_contain_text("West Kent Equality Partnership")
    # An officer is not a tenant administrator.
    expect(main.get_by_role("link", name="People and their roles")).to_have_count(0)
    navigation = page.get_by_role("navigation", name="Pages for Sevenoaks District Council")
    expect(navigation.get_by_role("link", name="Home")).to_have_attribute(
        "aria-current", re.compile(r"page|true")
    )
    expect(navigation.get_by_role("link", name="People")).to_have_count(0)
    # The footer carries the organisation's alternative-formats contact.
    expect(page.get_by_role("contentinfo")).to_contain_text(
        "please contact Sevenoaks District Council"
    )
    assert_accessible(page)

    # Signed in, the start page takes them straight to their organisation.
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/t/sevenoaks/$"))
    assert_accessible(page)


def test_another_organisation_is_not_found(sign_in):
    page = sign_in("officer@sevenoaks.demo")
    assert_accessible(page)
    response = page.goto("/t/thanet/")
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    # The 404 must not reveal the other organisation's name.
    expect(page.locator("body")).not_to_contain_text("Thanet")
    assert_accessible(page)


def test_partnership_lead_lands_on_the_partnership_home(sign_in):
    page = sign_in("lead@west-kent.demo")
    expect(page).to_have_url(re.compile(r"/p/west-kent/$"))
    expect(page).to_have_title(
        "Dashboard – West Kent Equality Partnership – Equality Partnership Portal"
    )
    expect(page.get_by_role("heading", level=1)).to_have_text("West Kent Equality Partnership")
    members = page.get_by_role("table", name="Member organisations")
    for name in (
        "Sevenoaks District Council",
        "Tunbridge Wells Borough Council",
        "West Kent Housing Association",
    ):
        expect(members).to_contain_text(name)
    expect(members).not_to_contain_text("Thanet")
    assert_accessible(page)


def test_sign_out_from_the_header(sign_in):
    page = sign_in("viewer@sevenoaks.demo")
    expect(page).to_have_url(re.compile(r"/t/sevenoaks/$"))
    assert_accessible(page)

    page.get_by_role("banner").get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_text("You have signed out")).to_be_visible()
    expect(page.get_by_role("banner").get_by_role("button", name="Sign out")).to_have_count(0)
    assert_accessible(page)

    # The session is over: the tenant's pages ask for a sign-in again.
    page.goto("/t/sevenoaks/")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    assert_accessible(page)
