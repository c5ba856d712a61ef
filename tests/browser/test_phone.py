"""Every page of the dashboards, the reporting cycle, the public pages and the action
import, on a phone 390 pixels wide: the page never scrolls sideways (a wide table scrolls
inside its own region, which the keyboard can reach), every chart is drawn, and axe-core
passes as the page is at that width."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .support import assert_accessible

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}

# Who signs in, and the pages they open. The West Kent 2025-26 returns are the
# demonstration's: Tonbridge & Malling in draft, Tunbridge Wells awaiting its chief
# executive, Sevenoaks signed off.
RETURN = "/t/tonbridge-malling/returns/west-kent/2025-26"
SECTIONS = (
    "aims",
    "commitments",
    "measures",
    "workforce",
    "assessments",
    "incidents",
    "case_studies",
    "priorities",
)
PAGES = {
    "officer@sevenoaks.demo": ["/t/sevenoaks/"],
    "ceo@tunbridge-wells.demo": [
        "/t/tunbridge-wells/",
        "/t/tunbridge-wells/returns/west-kent/2025-26/",
        "/t/tunbridge-wells/returns/west-kent/2025-26/sign-off",
    ],
    "officer@tonbridge-malling.demo": [
        "/t/tonbridge-malling/",
        "/t/tonbridge-malling/returns/",
        f"{RETURN}/",
        *(f"{RETURN}/sections/{key}" for key in SECTIONS),
        f"{RETURN}/case-studies/new",
        f"{RETURN}/preview",
    ],
    "lead@west-kent.demo": [
        "/p/west-kent/",
        "/p/west-kent/?member=sevenoaks&characteristic=sex",
        "/p/west-kent/reports/",
        "/p/west-kent/reports/open",
        "/p/west-kent/reports/2025-26/",
        "/p/west-kent/reports/2025-26/returns/sevenoaks",
        "/p/west-kent/reports/2025-26/extend?member=west-kent-housing",
        "/p/west-kent/reports/2025-26/report/",
        "/p/west-kent/reports/2025-26/report/preview",
    ],
    None: [
        "/public/p/west-kent/",
        "/public/sevenoaks/",
        "/public/west-kent-housing/",
        "/public/p/west-kent/reports/2024-25/",
    ],
}


def _sideways(page) -> str | None:
    """Why the page, as a phone shows it, scrolls sideways (None when it does not).

    Every chart is drawn first, and every region that scrolls sideways must be one the
    keyboard can reach and a screen reader can name.
    """
    charts = page.locator("[data-chart]")
    for i in range(charts.count()):
        expect(charts.nth(i)).to_have_attribute("data-chart-drawn", "true")
    for region in page.locator(".portal-table-scroll").all():
        expect(region).to_have_attribute("tabindex", "0")
        expect(region).to_have_attribute("role", "region")
        assert (region.get_attribute("aria-label") or "").strip(), "a scrolling region needs a name"
    if page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"):
        return None
    # Name the culprits: the outermost elements that reach past the screen's edge.
    wide = page.evaluate(
        """() => {
            const scrolls = e => getComputedStyle(e).overflowX !== "visible";
            const inside = e => {
                for (let p = e.parentElement; p && p !== document.body; p = p.parentElement) {
                    if (scrolls(p)) return true;
                }
                return false;
            };
            const past = e => e.getBoundingClientRect().right > window.innerWidth + 1;
            return Array.from(document.body.querySelectorAll("*"))
                .filter(e => past(e) && !inside(e))
                .filter(e => !past(e.parentElement) || getComputedStyle(e).position !== "static")
                .slice(0, 3)
                .map(e => e.tagName.toLowerCase() + "." + (e.className || "").split(" ")[0]
                     + " " + (e.textContent || "").trim().slice(0, 40));
        }"""
    )
    return f"{page.url}: {wide}"


def _fits(page) -> None:
    problem = _sideways(page)
    assert problem is None, f"scrolls sideways on a phone: {problem}"
    assert_accessible(page)


@pytest.mark.parametrize("who", list(PAGES), ids=lambda who: who or "public")
def test_every_page_fits_a_phone(browser_page, sign_in, who):
    page = browser_page
    page.set_viewport_size(PHONE)
    if who:
        sign_in(who)
        assert_accessible(page)
    problems = []
    for path in PAGES[who]:
        response = page.goto(path)
        assert response.ok, f"{path}: {response.status}"
        problem = _sideways(page)
        if problem:
            problems.append(problem)
        assert_accessible(page)
    assert not problems, "pages that scroll sideways on a phone:\n" + "\n".join(problems)


def test_the_action_import_preview_fits_a_phone(sign_in):
    page = sign_in("officer@maidstone.demo")
    page.set_viewport_size(PHONE)
    page.goto("/t/maidstone/plan/import")
    _fits(page)
    rows = "".join(
        f"Make our services easier to reach for everyone who lives here,"
        f"Review the accessibility of every customer contact point number {n},"
        f"Head of Customer Services and Digital Transformation,31 March 2027,On target\n"
        for n in range(1, 4)
    )
    page.get_by_label("Spreadsheet file").set_input_files(
        files=[
            {
                "name": "phone.csv",
                "mimeType": "text/csv",
                "buffer": (
                    "Objective,Action,Responsible officer,To be delivered by:,Status\n" + rows
                ).encode("utf-8"),
            }
        ]
    )
    page.get_by_role("button", name="Upload and continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose what each column holds")
    _fits(page)
    page.get_by_role("button", name="Continue to the preview").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check the actions before importing")
    table = page.get_by_role("table", name="Every row, as they will be imported")
    expect(table).to_be_visible()
    # The seven columns scroll inside their own region, named for the table.
    region = page.get_by_role("region", name="Every row, as they will be imported")
    expect(region).to_have_attribute("tabindex", "0")
    _fits(page)
