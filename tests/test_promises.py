"""Every sentence on the home pages, in the role descriptions and in the README is true
on the day it is read: none of them promises a feature the portal does not have yet.

Each feature below is named by the words that would promise it. While the portal has no
route for the feature, none of those words may appear; once the feature is built, its
routes exist and the words are allowed again."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from portal.auth.models import TENANT_ROLE_HINTS

README = Path(__file__).resolve().parent.parent / "README.md"

FEATURES = {
    # feature: (what its routes contain, the words that promise it)
    "annual returns and their sign-off": (
        "/returns",
        ("annual return", "signed-off return", "signs off", "sign off", "signed off", "sign-off"),
    ),
    # The reporting years' pages (/p/<partnership>/reports/) come with the returns; the
    # joint report itself is there once it can be read in public.
    "joint annual reports": (
        "/public/p/<partnership_slug>/reports/",
        ("annual report", "joint report", "compile"),
    ),
    # The organisation's dashboard is its home page; its charts' downloads live under it.
    "the organisation's dashboard": ("/t/<tenant_slug>/dashboard", ("dashboard",)),
    "the partnership's dashboards": (
        "/p/<partnership_slug>/dashboard",
        ("cross-authority dashboard", "partnership dashboard", "partnership's dashboard"),
    ),
    "public partnership pages": ("/public/p/", ("/public/p/",)),
}


def _text(page: str) -> str:
    page = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def _broken_promises(app, text: str) -> list[str]:
    rules = [rule.rule for rule in app.url_map.iter_rules()]
    broken = []
    for feature, (route, words) in FEATURES.items():
        if any(route in rule for rule in rules):
            continue
        broken += [f"{word!r} ({feature})" for word in words if word in text.lower()]
    return broken


def test_the_words_of_a_missing_feature_are_caught(app, monkeypatch):
    monkeypatch.setitem(FEATURES, "time travel", ("/no-such-route/", ("time machine",)))
    assert _broken_promises(app, "Officers book the time machine.")
    assert not _broken_promises(app, "An officer's home page is the organisation's dashboard.")
    assert not _broken_promises(app, "The chief executive reads the plan.")


def test_annual_returns_may_be_promised_now_they_exist(app):
    assert not _broken_promises(app, "The chief executive signs off the annual return.")


@pytest.mark.parametrize("path", ["/", "/accessibility", "/privacy", "/cookies"])
def test_public_home_pages_promise_nothing_missing(app, client, path):
    page = client.get(path)
    assert page.status_code == 200
    assert _broken_promises(app, _text(page.get_data(as_text=True))) == []


@pytest.mark.parametrize("role", ["officer", "caseworker", "viewer", "admin", "ceo"])
def test_an_organisations_home_page_promises_nothing_missing(app, client, login_as, role):
    login_as(role, "sevenoaks")
    for path in ("/t/sevenoaks/", "/choose"):
        page = client.get(path)
        assert page.status_code == 200, path
        assert _broken_promises(app, _text(page.get_data(as_text=True))) == [], path


def test_role_descriptions_promise_nothing_missing(app):
    for role, hint in TENANT_ROLE_HINTS.items():
        assert _broken_promises(app, hint) == [], role


def test_role_descriptions_say_what_each_role_can_reach(app, client, login_as):
    # A chief executive reads the organisation's pages, but not hate-incident case records.
    assert "everything" not in TENANT_ROLE_HINTS["ceo"].lower()
    login_as("admin", "sevenoaks")
    page = _text(client.get("/t/sevenoaks/admin/people/invite").get_data(as_text=True))
    for hint in TENANT_ROLE_HINTS.values():
        assert hint in page


def test_the_readme_promises_nothing_missing(app):
    assert _broken_promises(app, README.read_text(encoding="utf-8")) == []


def test_the_readme_describes_the_dashboard_and_public_pages_that_exist(app):
    """The lead's dashboard and both public pages are built: README says so, and their
    routes are there."""
    text = README.read_text(encoding="utf-8")
    rules = {rule.rule for rule in app.url_map.iter_rules()}
    assert "/p/<partnership_slug>/dashboard.xlsx" in rules
    assert "/public/<org_slug>/" in rules and "/public/p/<partnership_slug>/" in rules
    for words in ("a dashboard as the home page", "`/public/p/<partnership>/`", "flask demo scale"):
        assert words in text
