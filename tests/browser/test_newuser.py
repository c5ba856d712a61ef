"""A new user's first week: correcting a progress update, and a joint assessment from
conclusion to its public page, each page checked with axe-core."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .support import assert_accessible

pytestmark = pytest.mark.browser


def test_an_officer_corrects_a_progress_update_and_reads_its_history(sign_in):
    page = sign_in("officer@maidstone.demo")
    assert_accessible(page)
    page.get_by_role("link", name="My actions").first.click()
    assert_accessible(page)
    page.locator("table a.govuk-link").first.click()
    assert_accessible(page)
    page.get_by_role("button", name="Add a progress update").click()
    assert_accessible(page)
    page.get_by_label("Day").fill("3")
    page.get_by_label("Month").fill("2")
    page.get_by_label("Year").fill("2026")
    page.get_by_label("What progress has been made?").fill("We met the ward councilors.")
    page.get_by_label("On target").check()
    page.get_by_role("button", name="Save update").click()
    assert_accessible(page)
    page.get_by_role("link", name=re.compile("^Correct")).first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Correct the update of")
    assert_accessible(page)
    page.get_by_label("What progress has been made?").fill("We met the ward councillors.")
    page.get_by_label("Why are you correcting it?").fill("Spelling")
    page.get_by_role("button", name="Save the correction").click()
    assert_accessible(page)
    page.get_by_role("link", name=re.compile("^Earlier versions")).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("History of a progress update")
    expect(page.locator("main")).to_contain_text("We met the ward councilors.")
    assert_accessible(page)


def test_a_lead_concludes_and_publishes_a_joint_assessment(sign_in, live_server):
    page = sign_in("lead@west-kent.demo")
    assert_accessible(page)
    page.goto(f"{live_server.url}/p/west-kent/eqia/joint")
    assert_accessible(page)
    page.get_by_role("link", name="Joint approach to reporting hate incidents").click()
    assert_accessible(page)
    page.get_by_role("link", name="Conclude the assessment").click()
    assert_accessible(page)
    page.get_by_label("Conclusion").fill("One shared reporting form helps everybody report.")
    page.get_by_role("button", name="Save the conclusion").click()
    assert_accessible(page)
    page.get_by_role("button", name="Publish the assessment").click()
    assert_accessible(page)
    page.get_by_role("link", name="its public page").click()
    expect(page.locator("main")).to_contain_text("One shared reporting form helps everybody")
    assert_accessible(page)
    page.get_by_role("link", name="Back to the joint assessments").click()
    assert_accessible(page)
