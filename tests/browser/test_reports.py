"""The joint report in the browser: the lead's pages, the public report and the built
HTML file, every one checked with axe-core."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .support import assert_accessible

pytestmark = pytest.mark.browser

YEAR = "2024-25"


def test_the_public_report_and_its_downloads(browser_page):
    page = browser_page
    page.goto(f"/public/p/west-kent/reports/{YEAR}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("joint annual report 2024-25")
    expect(page.get_by_role("navigation", name="Contents")).to_be_visible()
    expect(page.locator("figure img.report-chart").first).to_be_visible()
    assert_accessible(page)

    links = page.get_by_role("link", name=re.compile(r"\(HTML\)|\(DOCX\)|\(ODT\)|PDF|annex"))
    assert links.count() >= 7
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile(r"^Web page \(HTML\)")).click()
    built = download.value.path().read_text()

    # The built HTML file on its own, as a reader opens it (no portal headers): its
    # contents, headings, tables and charts pass too.
    page.route(
        "**/built-report.html",
        lambda route: route.fulfill(status=200, content_type="text/html", body=built),
    )
    page.goto("/built-report.html")
    expect(page.get_by_role("heading", name="Contents")).to_be_visible()
    assert_accessible(page)


def test_the_leads_report_pages(browser_page, sign_in):
    page = sign_in("lead@west-kent.demo")
    assert_accessible(page)
    page.goto("/p/west-kent/reports/2025-26/")
    expect(page.get_by_role("link", name=re.compile("joint annual report 2025-26"))).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name=re.compile("joint annual report 2025-26")).click()
    expect(page.get_by_role("heading", name="Joint annual report 2025-26", level=1)).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Foreword").fill("Our foreword for the year.")
    page.get_by_label("Partnership summary").fill("What we did together.")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("The foreword and partnership summary are saved.")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Preview the whole report").click()
    expect(page.get_by_text("Not submitted by the deadline")).to_be_visible()
    assert_accessible(page)
