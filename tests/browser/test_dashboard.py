"""The organisation's dashboard in Chromium: every chart drawn under the content security
policy, no console error, axe-core passing with the charts drawn, each CSV equal to its
table, and the tables without JavaScript (a phone's width: test_phone.py)."""

from __future__ import annotations

import csv
import io
import re

import pytest
from playwright.sync_api import expect

from .support import assert_accessible

pytestmark = pytest.mark.browser

TABLE_CELLS = """table => Array.from(table.rows).map(
    row => Array.from(row.cells).map(cell => cell.textContent.trim()))"""


def _all_drawn(page) -> int:
    charts = page.locator("[data-chart]")
    count = charts.count()
    assert count > 0
    expect(page.locator("[data-chart][data-chart-drawn]")).to_have_count(count)
    expect(page.locator("[data-chart-failed]")).to_have_count(0)
    return count


@pytest.mark.parametrize("who", ["officer@sevenoaks.demo", "caseworker@sevenoaks.demo"])
def test_the_dashboard_draws_every_chart_under_the_csp(sign_in, live_server, who):
    page = sign_in(who)
    page.goto("/t/sevenoaks/")
    count = _all_drawn(page)
    assert page.locator(".js-plotly-plot .main-svg").count() >= count
    # The drawn charts' tables fold away and the no-JavaScript sentences are hidden.
    expect(page.locator(".portal-chart__nojs").first).to_be_hidden()
    assert page.locator("details[data-chart-details][open]").count() == 0
    assert_accessible(page)

    # Each chart's CSV holds exactly the cells of its table.
    for section in page.locator("section.portal-chart").all():
        link = section.get_by_role("link", name=re.compile("Download the figures"))
        if link.count() == 0:
            continue
        table = section.locator("table[data-chart-table]").evaluate(TABLE_CELLS)
        response = page.request.get(live_server.url + link.get_attribute("href"))
        assert response.ok
        rows = list(csv.reader(io.StringIO(response.body().decode("utf-8-sig"))))
        assert rows == table

    # The chart tools are real buttons, reached from the keyboard.
    save = page.get_by_role("button", name=re.compile("Save chart as image")).first
    save.focus()
    expect(save).to_be_focused()
    with page.expect_download() as download:
        page.keyboard.press("Enter")
    saved = download.value
    assert saved.suggested_filename.endswith(".png")
    with open(saved.path(), "rb") as image:
        assert image.read(8) == b"\x89PNG\r\n\x1a\n"


def test_without_javascript_the_tables_show(chromium_browser, live_server, demo_password):
    context = chromium_browser.new_context(base_url=live_server.url, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto("/login")
        page.get_by_label("Email address").fill("viewer@sevenoaks.demo")
        page.get_by_label("Password", exact=True).fill(demo_password)
        page.get_by_role("button", name="Sign in").click()
        page.goto("/t/sevenoaks/")
        notes = page.get_by_text("The chart is drawn with JavaScript, which is switched off")
        expect(notes.first).to_be_visible()
        assert notes.count() == page.locator("section.portal-chart [data-chart]").count()
        expect(page.locator("table[data-chart-table]").first).to_be_visible()
        expect(page.locator("[data-chart]").first).to_be_hidden()
    finally:
        context.close()


def test_the_leads_measure_page_draws_its_chart(sign_in):
    page = sign_in("lead@west-kent.demo")
    assert_accessible(page)
    page.goto("/p/west-kent/monitoring/measures")
    assert_accessible(page)
    links = page.locator("main a[href*='/monitoring/measures/']")
    for href in [links.nth(i).get_attribute("href") for i in range(links.count())]:
        page.goto(href)
        if page.locator("[data-chart]").count():
            _all_drawn(page)
            assert_accessible(page)
            page.set_viewport_size({"width": 390, "height": 844})
            page.reload()
            _all_drawn(page)
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
            assert_accessible(page)
            return
        assert_accessible(page)
    pytest.fail("no measure of the lead's has a chart of members' figures")
