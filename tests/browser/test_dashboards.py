"""The partnership dashboard and the public equality pages in a browser: every chart is
drawn under the content security policy with no console error, axe-core passes with the
charts drawn, the page never scrolls sideways on a phone, each CSV holds its table, and
the filters make an address that opens the same view."""

from __future__ import annotations

import csv
import io
import re

import pytest
from playwright.sync_api import expect

from .support import assert_accessible

pytestmark = pytest.mark.browser


def _all_charts_drawn(page) -> int:
    plots = page.locator("[data-chart]")
    count = plots.count()
    assert count > 0
    for i in range(count):
        expect(plots.nth(i)).to_have_attribute("data-chart-drawn", "true")
        expect(plots.nth(i).locator("svg.main-svg").first).to_be_visible()
    return count


def _no_sideways_scroll(page) -> None:
    assert page.evaluate(
        "document.scrollingElement.scrollWidth <= document.scrollingElement.clientWidth"
    ), "the page scrolls sideways"


def _table_rows(page, chart_id: str) -> list[list[str]]:
    table = page.locator(f'[data-chart-table="{chart_id}"]')
    rows = []
    for row in table.locator("tr").all():
        rows.append([" ".join(c.text_content().split()) for c in row.locator("th, td").all()])
    return rows


def test_the_leads_dashboard_draws_every_chart_and_its_csv_is_its_table(sign_in):
    page = sign_in("lead@west-kent.demo")
    expect(page).to_have_url(re.compile(r"/p/west-kent/$"))
    assert _all_charts_drawn(page) >= 3
    assert_accessible(page)

    link = page.locator("#chart-aims").get_by_role("link", name=re.compile("Download the figures"))
    response = page.request.get(link.get_attribute("href"))
    assert response.ok
    got = list(csv.reader(io.StringIO(response.text().lstrip("\ufeff"))))
    assert got == _table_rows(page, "aims")

    # Filters: the form makes an address of its own, which opens the same view.
    page.get_by_label("Member", exact=True).select_option(label="Sevenoaks District Council")
    page.get_by_label("Members against their communities by", exact=True).select_option(label="Sex")
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"member=sevenoaks"))
    expect(page).to_have_url(re.compile(r"characteristic=sex"))
    _all_charts_drawn(page)
    assert_accessible(page)
    address = page.url
    page.goto(address)
    expect(page.get_by_label("Member", exact=True)).to_have_value("sevenoaks")
    expect(page.get_by_label("Members against their communities by", exact=True)).to_have_value(
        "sex"
    )
    assert_accessible(page)


@pytest.mark.parametrize("path", ["/public/p/west-kent/", "/public/sevenoaks/"])
def test_public_pages_pass_axe_with_their_charts(browser_page, path):
    page = browser_page
    page.goto(path)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    if "/public/p/" in path:
        _all_charts_drawn(page)
    _no_sideways_scroll(page)
    assert_accessible(page)
