"""Measures, the figures grid, the community profile and the partnership's released view,
each checked with axe-core."""

from __future__ import annotations

import re
import secrets
import string

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
    # The current plan period's years come first; the earlier plan is one choice away.
    expect(page.get_by_label("Total, 2025 to 2026")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Years of the plan").select_option(label="April 2012 to March 2016")
    page.get_by_role("button", name="Show these years").click()
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
    expect(page.get_by_role("table").first).to_contain_text("(rounded)")
    assert_accessible(page)
    page.goto("/p/west-kent/monitoring/disclosure")
    assert_accessible(page)


def _sign_out(page) -> None:
    page.get_by_role("banner").get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("banner").get_by_role("button", name="Sign out")).to_have_count(0)
    assert_accessible(page)


def test_a_joint_measure_from_the_lead_to_a_member_and_back(sign_in):
    # Letters only: a figure checked for below must not turn up inside the name.
    name = "Attendance at joint events " + "".join(
        secrets.choice(string.ascii_lowercase) for _ in range(6)
    )
    page = sign_in("lead@west-kent.demo")
    assert_accessible(page)
    page.get_by_role("link", name="Members' figures").first.click()
    assert_accessible(page)
    page.get_by_role("button", name="Add a joint measure").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Add a joint measure")
    assert_accessible(page)
    page.get_by_role("button", name="Save joint measure").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter the measure's name")
    assert_accessible(page)
    page.get_by_label("Name").fill(name)
    page.get_by_label("Count (number of people or cases)").check()
    page.get_by_label("Each year (April to March)").check()
    page.get_by_label("First year of the plan").fill("2012")
    page.get_by_label("Last year of the plan").fill("2015")
    page.get_by_label("Which aim's measure it answers (optional)").select_option(index=1)
    page.get_by_role("button", name="Save joint measure").click()
    expect(page.get_by_role("table").first).to_contain_text(name)
    assert_accessible(page)
    _sign_out(page)

    page = sign_in("officer@sevenoaks.demo")
    assert_accessible(page)
    page.goto("/t/sevenoaks/monitoring/measures")
    expect(
        page.get_by_role("heading", name="Joint measures of West Kent Equality Partnership")
    ).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name=f"Start reporting {name}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    assert_accessible(page)
    page.get_by_role("button", name="Enter figures").click()
    assert_accessible(page)
    page.get_by_label("Total, 2014 to 2015").fill("23")
    page.get_by_role("button", name="Save figures").click()
    expect(page.get_by_role("table")).to_contain_text("23")
    assert_accessible(page)
    _sign_out(page)

    page = sign_in("lead@west-kent.demo")
    assert_accessible(page)
    page.goto("/p/west-kent/monitoring/measures")
    assert_accessible(page)
    page.get_by_role("link", name=name, exact=True).click()
    table = page.get_by_role("table").first
    expect(table).to_contain_text("25 (rounded)")
    expect(table.locator("tbody")).not_to_contain_text("23")
    assert_accessible(page)
    page.get_by_role("link", name="Back to members' figures").click()
    assert_accessible(page)
    page.get_by_role("link", name=f"Change {name}").click()
    assert_accessible(page)


def test_an_officer_corrects_released_figures(sign_in):
    name = "Complaints about services " + "".join(
        secrets.choice(string.ascii_lowercase) for _ in range(6)
    )
    page = sign_in("lead@west-kent.demo")
    assert_accessible(page)
    page.goto("/p/west-kent/monitoring/joint-measures/new")
    assert_accessible(page)
    page.get_by_label("Name").fill(name)
    page.get_by_label("Count (number of people or cases)").check()
    page.get_by_label("Each year (April to March)").check()
    page.get_by_label("First year of the plan").fill("2012")
    page.get_by_label("Last year of the plan").fill("2015")
    page.get_by_role("button", name="Save joint measure").click()
    assert_accessible(page)
    _sign_out(page)

    page = sign_in("officer@sevenoaks.demo")
    assert_accessible(page)
    page.goto("/t/sevenoaks/monitoring/measures")
    assert_accessible(page)
    page.get_by_role("button", name=f"Start reporting {name}").click()
    assert_accessible(page)
    measure_url = page.url
    page.get_by_role("button", name="Enter figures").click()
    assert_accessible(page)
    page.get_by_label("Total, 2014 to 2015").fill("23")
    page.get_by_role("button", name="Save figures").click()
    assert_accessible(page)
    _sign_out(page)

    page = sign_in("lead@west-kent.demo")
    assert_accessible(page)
    page.goto("/p/west-kent/monitoring/measures")
    assert_accessible(page)
    page.get_by_role("link", name=name, exact=True).click()
    assert_accessible(page)
    expect(page.get_by_role("table").first).to_contain_text("25 (rounded)")
    expect(page.get_by_text("When each member’s figures were released")).to_be_visible()
    assert_accessible(page)
    lead_url = page.url
    _sign_out(page)

    page = sign_in("officer@sevenoaks.demo")
    assert_accessible(page)
    page.goto(measure_url)
    assert_accessible(page)
    page.get_by_role("button", name="Enter figures").click()
    assert_accessible(page)
    page.get_by_label("Total, 2014 to 2015").fill("31")
    page.get_by_role("button", name="Save figures").click()
    assert_accessible(page)
    page.get_by_role("link", name="Released figures: what your partnerships see").click()
    assert_accessible(page)
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    expect(page.get_by_text("when a partnership lead first looked")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Correct the released figures for 2014 to 2015").click()
    assert_accessible(page)
    table = page.get_by_role("table")
    expect(table).to_contain_text("25 (rounded)")
    expect(table).to_contain_text("30 (rounded)")
    assert_accessible(page)
    page.get_by_role("button", name="Release the corrected figures").click()
    assert_accessible(page)
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Say why the released figures are being corrected"
    )
    assert_accessible(page)
    page.get_by_label("Why are the released figures being corrected?").fill(
        "Eight complaints were logged against the wrong year"
    )
    page.get_by_role("button", name="Release the corrected figures").click()
    assert_accessible(page)
    expect(page.get_by_text("have been released")).to_be_visible()
    expect(page.get_by_text("Correction 1: Eight complaints")).to_be_visible()
    assert_accessible(page)
    _sign_out(page)

    page = sign_in("lead@west-kent.demo")
    assert_accessible(page)
    page.goto(lead_url)
    assert_accessible(page)
    expect(page.get_by_role("table").first).to_contain_text("30 (rounded)")
    expect(page.get_by_text("corrected by the organisation")).to_be_visible()
