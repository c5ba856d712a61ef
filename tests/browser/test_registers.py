"""Impact assessments, joint assessments, the public EqIA page and the hate-incident
register, each page checked with axe-core."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .support import assert_accessible

pytestmark = pytest.mark.browser


def test_an_officer_works_with_the_eqia_register(sign_in):
    page = sign_in("officer@sevenoaks.demo")
    expect(page.get_by_role("heading", name="Impact assessments due for review")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Equality impact assessments").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Equality impact assessments")
    assert_accessible(page)
    page.get_by_role("link", name="Changes to the garden waste collection service").click()
    expect(page.get_by_text("Demonstration data").first).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Change this assessment").click()
    assert_accessible(page)
    page.get_by_role("group", name="Likely impact on age").get_by_label("Negative").check()
    page.get_by_label("Mitigation for age (optional)").fill("")
    page.get_by_role("button", name="Save assessment").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Say how you will reduce or remove the negative impact on age")
    expect(page).to_have_title(re.compile(r"^Error: "))
    assert_accessible(page)
    page.goto("/t/sevenoaks/eqia/joint")
    assert_accessible(page)
    page.get_by_role("link", name="Joint approach to reporting hate incidents").click()
    expect(page.get_by_text("It can no longer be changed")).to_be_visible()
    assert_accessible(page)


def test_the_public_page_needs_no_sign_in(browser_page):
    page = browser_page
    page.goto("/public/maidstone/eqia/")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Published equality impact assessments"
    )
    expect(page.get_by_text("Community grants scheme")).to_have_count(0)
    assert_accessible(page)
    page.get_by_role("link", name="New customer service opening hours").click()
    expect(page.get_by_role("table")).to_contain_text("Pregnancy and maternity")
    assert_accessible(page)


def test_a_partnership_lead_starts_a_joint_assessment(sign_in):
    page = sign_in("lead@kent-network.demo")
    assert_accessible(page)
    page.get_by_role("link", name="Joint impact assessments").click()
    assert_accessible(page)
    page.get_by_role("link", name="Joint approach to reporting hate incidents").click()
    expect(page.get_by_text("Maidstone Borough Council").first).to_be_visible()
    assert_accessible(page)
    page.goto("/p/kent-network/eqia/joint/new")
    assert_accessible(page)
    page.get_by_role("button", name="Start joint assessment").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter a title")
    assert_accessible(page)


def test_a_caseworker_records_an_incident(sign_in):
    page = sign_in("caseworker@thanet.demo")
    assert_accessible(page)
    page.get_by_role("link", name="Hate incident register").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hate incidents")
    assert_accessible(page)
    page.get_by_role("table").get_by_role("link").first.click()
    expect(page.get_by_text("It is not about a real person")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Change this case").click()
    assert_accessible(page)
    page.goto("/t/thanet/incidents/new")
    assert_accessible(page)
    page.get_by_role("button", name="Save case").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Choose at least one motivation")
    assert_accessible(page)
    page.goto("/t/thanet/incidents/statistics")
    expect(page.get_by_role("table", name="By month")).to_be_visible()
    assert_accessible(page)


def test_the_tenant_admin_sets_the_retention_period(sign_in):
    page = sign_in("admin@thanet.demo")
    assert_accessible(page)
    page.get_by_role("link", name="How long hate incident records are kept").click()
    assert_accessible(page)
    page.get_by_label("Years to keep case records").fill("0")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("from 1 to 100")
    assert_accessible(page)


def test_a_caseworker_searches_the_register_and_keeps_the_wards(sign_in):
    page = sign_in("caseworker@thanet.demo")
    assert_accessible(page)
    page.goto("/t/thanet/incidents/")
    assert_accessible(page)
    page.get_by_label("Motivation").select_option("race")
    page.get_by_label("From").fill("31-31-2020")
    page.get_by_role("button", name="Search").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter the date from")
    assert_accessible(page)
    page.get_by_label("From").fill("")
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"motivation=race"))
    assert_accessible(page)
    page.get_by_role("link", name="The list of wards").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Wards")
    assert_accessible(page)
    page.get_by_label("Name of the ward").fill("Cliftonville ward (demonstration)")
    page.get_by_role("button", name="Save ward").click()
    expect(page.get_by_role("table")).to_contain_text("Cliftonville ward (demonstration)")
    assert_accessible(page)
    page.get_by_role("link", name="Rename Cliftonville ward (demonstration)").click()
    assert_accessible(page)


def test_a_viewer_sees_statistics_under_the_disclosure_rule(sign_in):
    page = sign_in("viewer@thanet.demo")
    assert_accessible(page)
    page.goto("/t/thanet/incidents/statistics")
    expect(page.get_by_role("table", name="By ward")).to_contain_text("fewer than 8")
    assert_accessible(page)
