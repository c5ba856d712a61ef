"""An officer reads their organisation's commitments and starts adding one."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .support import assert_accessible

pytestmark = pytest.mark.browser


def test_officer_reads_commitments_and_opens_the_add_form(sign_in):
    page = sign_in("officer@west-kent-housing.demo")
    expect(page).to_have_url(re.compile(r"/t/west-kent-housing/$"))
    assert_accessible(page)

    page.get_by_role("navigation", name="Pages for West Kent Housing Association").get_by_role(
        "link", name="Commitments"
    ).click()
    expect(page).to_have_url(re.compile(r"/t/west-kent-housing/plan/commitments$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Commitments")
    expect(
        page.get_by_role("main")
        .get_by_role("listitem")
        .filter(has_text="Ensure work places are accessible.")
    ).to_be_visible()
    assert_accessible(page)

    page.get_by_role("button", name="Add a commitment").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Add a commitment")
    assert_accessible(page)

    page.get_by_role("button", name="Save commitment").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link", name="Enter the commitment")).to_be_visible()
    assert_accessible(page)
