"""The accessibility statement is a full statement under the Public Sector Bodies
(Websites and Mobile Applications) (No. 2) Accessibility Regulations 2018, and stays
true to the portal it describes."""

from __future__ import annotations

import html
import re

from sqlalchemy import select

from portal import clock
from portal.home import routes
from portal.partners.models import Tenant


def _statement(client) -> str:
    response = client.get("/accessibility")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _text(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def _headings(page: str) -> list[str]:
    return [_text(h).strip() for h in re.findall(r"<h[1-4][^>]*>(.*?)</h[1-4]>", page, re.S)]


def test_the_statement_has_every_part_the_regulations_ask_for(client):
    page = _statement(client)
    headings = _headings(page)
    for heading in (
        "How accessible this portal is",
        "What to do if you cannot use this portal or need another format",
        "Reporting accessibility problems with this portal",
        "Enforcement procedure",
        "Compliance status",
        "Non-accessible content",
        "How we tested this portal",
        "Preparation of this accessibility statement",
    ):
        assert heading in headings, heading
    text = _text(page)
    assert (
        "Public Sector Bodies (Websites and Mobile Applications) (No. 2) Accessibility "
        "Regulations 2018" in text
    )
    assert "partially compliant with the Web Content Accessibility Guidelines version 2.2" in (text)
    assert "Equality and Human Rights Commission (EHRC)" in text
    assert 'href="https://www.equalityadvisoryservice.com/"' in page


def test_the_statement_gives_every_organisations_contact_for_other_formats(app, client):
    text = _text(_statement(client))
    with app.app_context():
        from portal.extensions import db

        organisations = db.session.scalars(select(Tenant)).all()
        assert organisations
        for org in organisations:
            assert org.name in text
            assert org.alternative_formats in text, org.slug


def test_the_known_gaps_match_the_portal(app, client):
    text = _text(_statement(client))
    minutes = int(app.config["SESSION_IDLE_TIMEOUT"].total_seconds() // 60)
    assert f"do nothing for {minutes} minutes, you are signed out without a warning" in text
    assert "2.2.1 (Timing Adjustable)" in text
    assert "not yet been audited by an accessibility specialist or tested by disabled people" in (
        text
    )
    assert "axe-core" in text
    # Only what is true is claimed: there is no hand testing to speak of.
    assert "test by hand" not in text


def test_the_statement_says_when_it_was_prepared_and_reviewed(client):
    text = _text(_statement(client))
    prepared, reviewed = routes.STATEMENT_PREPARED, routes.STATEMENT_REVIEWED
    assert prepared <= reviewed <= clock.utcnow().date()
    assert f"This statement was prepared on {prepared:%-d %B %Y}" in text
    assert f"It was last reviewed on {reviewed:%-d %B %Y}" in text
