"""Measures, the figures grid, the community profile and the partnership's released view,
each checked with axe-core."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .support import assert_accessible

pytestmark = pytest.mark.browser


def test_an_officer_enters_figures_in_the_grid(sign_in):
    page = sign_in("officer@sevenoaks.demo")
    assert_accessible(page)
    page.get_by_role("link", name="Measures and their figures").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Measures")
    assert_accessible(page)
    page.get_by_role("link", name="Employees taking flexible retirement").click()
    expect(page.get_by_text("Demonstration data").first).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Enter figures").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Enter figures")
    assert_accessible(page)
    page.get_by_label("Total, 2013 to 2014").fill("-3")
    page.get_by_role("button", name="Save figures").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Total, 2013 to 2014: a count cannot be negative")
    expect(page).to_have_title(re.compile(r"^Error: "))
    assert_accessible(page)
    page.get_by_role("link", name=re.compile("Back to the measure")).click()
    assert_accessible(page)
    page.get_by_role("link", name="Compare with the community").click()
    expect(page.get_by_role("table")).to_contain_text("Female")
    assert_accessible(page)
    page.goto("/t/sevenoaks/monitoring/community")
    expect(page.get_by_text("Census 2021, Office for National Statistics")).to_be_visible()
    assert_accessible(page)
    page.goto("/t/sevenoaks/monitoring/measures/new")
    assert_accessible(page)


def test_a_lead_sees_released_figures(sign_in):
    page = sign_in("lead@west-kent.demo")
    assert_accessible(page)
    page.get_by_role("link", name="Members' figures").first.click()
    assert_accessible(page)
    page.get_by_role("link", name="Hate incidents reported").click()
    expect(page.get_by_role("table")).to_contain_text("(rounded)")
    assert_accessible(page)
    page.goto("/p/west-kent/monitoring/disclosure")
    assert_accessible(page)
