"""An officer works on the annual return, the chief executive signs it off, and the lead
sees every member's return: every page passes axe-core."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .support import assert_accessible

pytestmark = pytest.mark.browser


def test_officer_works_through_the_task_list(sign_in):
    page = sign_in("officer@tonbridge-malling.demo")
    assert_accessible(page)
    page.get_by_role("link", name="Annual returns").click()
    assert_accessible(page)
    page.get_by_role("link", name=re.compile("2025-26, West Kent")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Annual return 2025-26")
    assert_accessible(page)

    page.get_by_role("link", name="Workforce").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Workforce")
    assert_accessible(page)
    page.get_by_role("button", name="Save and continue").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name="Back to the task list").click()
    assert_accessible(page)
    page.get_by_role("link", name="Progress on each joint aim").click()
    assert_accessible(page)
    page.get_by_role("link", name="Back to the task list").click()
    assert_accessible(page)
    page.get_by_role("link", name="See the return as it will appear").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("as it will appear")
    assert_accessible(page)


def test_chief_executive_signs_off(sign_in, demo_password):
    page = sign_in("ceo@tunbridge-wells.demo")
    assert_accessible(page)
    page.goto("/t/tunbridge-wells/returns/west-kent/2025-26/")
    assert_accessible(page)
    page.get_by_role("button", name="Review and sign off").click()
    assert_accessible(page)
    page.get_by_role("button", name="Sign off the return").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("I confirm this statement").check()
    page.get_by_label("Your password").fill(demo_password)
    page.get_by_role("button", name="Sign off the return").click()
    expect(page.get_by_text("SHA-256 fingerprint")).to_be_visible()
    assert_accessible(page)


def test_lead_sees_the_returns(sign_in):
    page = sign_in("lead@west-kent.demo")
    assert_accessible(page)
    page.get_by_role("link", name="Reporting years").click()
    assert_accessible(page)
    page.get_by_role("link", name="2025-26").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Reporting year 2025-26")
    assert_accessible(page)
    page.get_by_role("link", name=re.compile("Read the signed-off return.*of Sevenoaks")).click()
    assert_accessible(page)
    page.goto("/p/west-kent/reports/2025-26/extend?member=west-kent-housing")
    assert_accessible(page)
    page.goto("/p/west-kent/reports/open")
    assert_accessible(page)
