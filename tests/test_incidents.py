"""The hate-incident register: caseworkers only, every view audited, statistics, retention
and anonymisation."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portal import clock
from portal.incidents.models import HateIncident
from portal.tenancy import tenant_scope
from tests.helpers import audit_events, csrf_token, tenant

BASE = "/t/sevenoaks/incidents"


def form_data(token: str, **overrides) -> dict:
    data = {
        "csrf_token": token,
        "occurred_on": ["3", "5", "2024"],
        "motivations": ["race", "religion"],
        "incident_type": "verbal",
        "ward": "Town ward",
        "how_reported": "phone",
        "person_details": "A resident",
        "description": "Shouted at in the street.",
        "support_offered": "",
        "police_referral": "yes",
        "police_reference": "KP/123",
        "actions": "",
        "status": "open",
        "outcome": "",
    }
    data.update(overrides)
    return data


def add(app, slug: str, **fields) -> int:
    """Put a case straight into ``slug``'s register."""
    with app.app_context():
        from portal.extensions import db

        with tenant_scope(tenant(slug)):
            now = clock.utcnow()
            values = {
                "occurred_on": now.date(),
                "motivations": ["race"],
                "incident_type": "verbal",
                "ward": "Ward A",
                "how_reported": "phone",
                "person_details": "Somebody",
                "description": "Something happened.",
                "support_offered": "Support",
                "police_reference": "",
                "actions": "Called back",
                "outcome": "",
                "created_at": now,
                "updated_at": now,
                **fields,
            }
            row = HateIncident(**values)
            db.session.add(row)
            db.session.commit()
            return row.id


def load(app, slug: str, incident_id: int) -> HateIncident:
    with app.app_context():
        from portal.extensions import db

        with tenant_scope(tenant(slug)):
            row = db.session.get(HateIncident, incident_id)
            db.session.expunge(row)
            return row


def count(app, slug: str) -> int:
    with app.app_context():
        from portal.extensions import db

        with tenant_scope(tenant(slug)):
            return len(db.session.scalars(select(HateIncident.id)).all())


def test_caseworker_records_an_incident(app, login_as, client):
    login_as("caseworker", "sevenoaks")
    token = csrf_token(client, f"{BASE}/new")
    response = client.post(f"{BASE}/new", data=form_data(token))
    assert response.status_code == 302
    incident_id = int(response.headers["Location"].rsplit("/", 1)[1])
    row = load(app, "sevenoaks", incident_id)
    assert row.occurred_on == date(2024, 5, 3)
    assert row.motivations == ["race", "religion"]
    assert row.police_referral and row.police_reference == "KP/123"
    assert row.status == "open" and row.closed_on is None
    created = audit_events(app, action="incident.created")
    assert created and created[-1].object_id == str(incident_id)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Shouted at in the street." in page and "Race, Religion or belief" in page


def test_mistakes_are_explained_and_nothing_is_saved(app, login_as, client):
    before = count(app, "sevenoaks")
    login_as("caseworker", "sevenoaks")
    token = csrf_token(client, f"{BASE}/new")
    cases = [
        ({"motivations": []}, "Choose at least one motivation"),
        ({"motivations": ["race", "star-sign"]}, "Choose at least one motivation"),
        ({"incident_type": "rude"}, "Choose the type of incident"),
        ({"occurred_on": ["1", "1", "2999"]}, "The date of the incident must be today or earlier"),
        ({"occurred_on": ["", "", ""]}, "Enter the date of the incident"),
        ({"occurred_on": ["30", "2", "2024"]}, "must be a real date"),
        ({"ward": " "}, "Enter the ward where it happened"),
        ({"description": ""}, "Enter what happened"),
        (
            {"police_referral": "no"},
            "Only give a police reference if it was referred to the police",
        ),
        ({"status": "closed"}, "Enter the outcome before closing the case"),
        ({"how_reported": ""}, "Choose how it was reported"),
    ]
    for overrides, message in cases:
        response = client.post(f"{BASE}/new", data=form_data(token, **overrides))
        page = response.get_data(as_text=True)
        assert response.status_code == 200, overrides
        assert message in page, overrides
        assert "There is a problem" in page, overrides
    assert count(app, "sevenoaks") == before


@pytest.mark.parametrize("role", ["officer", "viewer", "admin", "ceo"])
def test_only_caseworkers_see_cases(app, login_as, client, role):
    incident_id = add(app, "sevenoaks", description="Private details")
    login_as(role, "sevenoaks")
    token = csrf_token(client, "/account")
    for url in (BASE + "/", f"{BASE}/new", f"{BASE}/{incident_id}", f"{BASE}/{incident_id}/edit"):
        assert client.get(url).status_code == 403, url
    assert client.post(f"{BASE}/new", data=form_data(token)).status_code == 403
    assert client.post(f"{BASE}/{incident_id}/edit", data=form_data(token)).status_code == 403
    assert not audit_events(app, action="incident.viewed")
    # Statistics are for everybody there.
    assert client.get(f"{BASE}/statistics").status_code == 200
    home = client.get("/t/sevenoaks/").get_data(as_text=True)
    assert "Hate incident statistics" in home
    assert "Hate incident register" not in home


@pytest.mark.parametrize(
    "who", [{"role": "lead", "partnership": "west-kent"}, {"role": "portal-admin"}]
)
def test_leads_and_portal_admins_do_not_find_cases(app, login_as, client, who):
    incident_id = add(app, "sevenoaks")
    login_as(**who)
    assert client.get(f"{BASE}/{incident_id}").status_code == 404
    assert client.get(f"{BASE}/").status_code == 404


def test_caseworker_of_another_tenant_does_not_find_the_case(app, login_as, client):
    incident_id = add(app, "sevenoaks")
    login_as("caseworker", "thanet")
    assert client.get(f"/t/thanet/incidents/{incident_id}").status_code == 404
    assert client.get(f"{BASE}/{incident_id}").status_code == 404
    assert not audit_events(app, action="incident.viewed")


def test_every_view_of_a_case_is_audited(app, login_as, client):
    incident_id = add(app, "sevenoaks")
    login_as("caseworker", "sevenoaks")
    client.get(f"{BASE}/{incident_id}")
    client.get(f"{BASE}/{incident_id}")
    client.get(f"{BASE}/{incident_id}/edit")
    views = audit_events(app, action="incident.viewed", object_id=str(incident_id))
    assert [v.detail["page"] for v in views] == ["case", "case", "edit"]
    assert {v.actor_email for v in views} == {"caseworker@sevenoaks.demo"}
    assert {v.tenant_id for v in views} == {views[0].tenant_id} and views[0].tenant_id
    client.get(f"{BASE}/")
    assert audit_events(app, action="incident.register_viewed")


def test_closing_a_case_and_edit_conflicts(app, login_as, client):
    incident_id = add(app, "sevenoaks")
    url = f"{BASE}/{incident_id}/edit"
    login_as("caseworker", "sevenoaks")
    page = client.get(url).get_data(as_text=True)
    version = re.search(r'name="version"[^>]*value="(\d+)"', page).group(1)
    token = csrf_token(client, url)
    closing = form_data(token, version=version, status="closed", outcome="Resolved")
    assert client.post(url, data=closing).status_code == 302
    row = load(app, "sevenoaks", incident_id)
    assert row.status == "closed" and row.closed_on == clock.utcnow().date()
    assert audit_events(app, action="incident.updated")[-1].detail["fields"]
    stale = form_data(token, version=version, actions="Different")
    response = client.post(url, data=stale)
    assert response.status_code == 200
    assert "Somebody else changed this case" in response.get_data(as_text=True)
    assert load(app, "sevenoaks", incident_id).actions == ""


def test_statistics_show_exact_counts_to_the_tenants_users(app, login_as, client):
    for month, motivations, kind, ward in [
        (1, ["race"], "verbal", "Ward A"),
        (1, ["race", "religion"], "graffiti", "Ward A"),
        (3, ["disability"], "verbal", "Ward B"),
    ]:
        add(
            app,
            "gentoo",
            occurred_on=date(2021, month, 10),
            motivations=motivations,
            incident_type=kind,
            ward=ward,
        )
    add(app, "gentoo", occurred_on=date(2020, 6, 1))
    login_as("viewer", "gentoo")
    page = client.get("/t/gentoo/incidents/statistics?year=2021").get_data(as_text=True)
    assert "Hate incident statistics 2021" in page
    assert "3 in all" in page

    def cell(caption: str, label: str) -> str:
        table = page.split(caption)[1].split("</table>")[0]
        match = re.search(rf">{re.escape(label)}</th>\s*<td[^>]*>\s*(\d+)", table)
        assert match, (caption, label)
        return match.group(1)

    assert cell("By month", "January") == "2"
    assert cell("By month", "March") == "1"
    assert cell("By month", "June") == "0"
    assert cell("By motivation", "Race") == "2"
    assert cell("By motivation", "Religion or belief") == "1"
    assert cell("By type", "Verbal abuse") == "2"
    assert cell("By ward", "Ward A") == "2"
    assert cell("By ward", "Ward B") == "1"
    assert "2020" in page  # a link to the other year
    assert client.get("/t/gentoo/incidents/statistics?year=abc").status_code == 200


def test_retention_setting_is_for_the_tenant_admin(app, login_as, client, auth):
    login_as("caseworker", "gentoo")
    assert client.get("/t/gentoo/incidents/retention").status_code == 403
    auth.logout()
    login_as("admin", "gentoo")
    page = client.get("/t/gentoo/incidents/retention").get_data(as_text=True)
    assert 'value="6"' in page
    token = csrf_token(client, "/t/gentoo/incidents/retention")
    for bad, message in [("0", "from 1 to 100"), ("six", "whole number"), ("", "Enter a number")]:
        response = client.post(
            "/t/gentoo/incidents/retention", data={"retention_years": bad, "csrf_token": token}
        )
        assert message in response.get_data(as_text=True), bad
    response = client.post(
        "/t/gentoo/incidents/retention", data={"retention_years": "3", "csrf_token": token}
    )
    assert response.status_code == 302
    assert 'value="3"' in client.get("/t/gentoo/incidents/retention").get_data(as_text=True)
    changed = audit_events(app, action="incident.retention_changed")
    assert changed[-1].detail == {"from": 6, "to": 3}


def _retention_cases(app) -> dict[str, int]:
    today = clock.utcnow().date()
    long_ago = today - timedelta(days=365 * 8)
    return {
        "expired": add(
            app,
            "gentoo",
            occurred_on=long_ago,
            status="closed",
            closed_on=long_ago + timedelta(days=10),
            outcome="Done",
            police_referral=True,
            police_reference="KP/9",
            motivations=["race", "sex"],
            ward="Ward Z",
        ),
        "recent": add(
            app,
            "gentoo",
            occurred_on=today - timedelta(days=800),
            status="closed",
            closed_on=today - timedelta(days=700),
            outcome="Done",
        ),
        "open": add(app, "gentoo", occurred_on=long_ago, status="open"),
        "other_tenant": add(
            app,
            "sevenoaks",
            occurred_on=long_ago,
            status="closed",
            closed_on=long_ago,
            outcome="Done",
        ),
    }


def test_anonymise_dry_run_changes_nothing(app):
    ids = _retention_cases(app)
    result = app.test_cli_runner().invoke(
        args=["incidents", "anonymise", "--tenant", "gentoo", "--dry-run"]
    )
    assert result.exit_code == 0, result.output
    assert "gentoo: 1 would be anonymised" in result.output
    assert "1 within retention" in result.output
    assert "1 still open past retention, kept" in result.output
    assert "Dry run: nothing was changed." in result.output
    row = load(app, "gentoo", ids["expired"])
    assert row.anonymised_at is None and row.description == "Something happened."
    assert not audit_events(app, action="incident.anonymised")


def test_anonymise_clears_personal_fields_and_keeps_statistics(app):
    ids = _retention_cases(app)
    result = app.test_cli_runner().invoke(args=["incidents", "anonymise", "--tenant", "gentoo"])
    assert result.exit_code == 0, result.output
    assert "gentoo: 1 anonymised (kept 6 years" in result.output
    assert "1 record anonymised." in result.output
    row = load(app, "gentoo", ids["expired"])
    assert row.anonymised_at is not None
    for name in (
        "person_details",
        "description",
        "how_reported",
        "support_offered",
        "police_reference",
        "actions",
        "outcome",
    ):
        assert getattr(row, name) == "", name
    assert row.motivations == ["race", "sex"] and row.ward == "Ward Z"
    assert row.incident_type == "verbal" and row.status == "closed"
    assert row.occurred_on < clock.utcnow().date()
    for key in ("recent", "open"):
        kept = load(app, "gentoo", ids[key])
        assert kept.anonymised_at is None and kept.description == "Something happened.", key
    assert load(app, "sevenoaks", ids["other_tenant"]).anonymised_at is None
    events = audit_events(app, action="incident.anonymised")
    assert [e.object_id for e in events] == [str(ids["expired"])]
    # Running again finds nothing more to do.
    again = app.test_cli_runner().invoke(args=["incidents", "anonymise", "--tenant", "gentoo"])
    assert "gentoo: 0 anonymised" in again.output


def test_anonymise_follows_each_tenants_retention_period(app, login_as, client):
    ids = _retention_cases(app)
    login_as("admin", "gentoo")
    token = csrf_token(client, "/t/gentoo/incidents/retention")
    client.post("/t/gentoo/incidents/retention", data={"retention_years": "1", "csrf_token": token})
    result = app.test_cli_runner().invoke(args=["incidents", "anonymise"])
    assert result.exit_code == 0, result.output
    assert "gentoo: 2 anonymised (kept 1 years" in result.output
    assert "sevenoaks: 2 anonymised (kept 6 years" in result.output  # ours + the demo one
    assert load(app, "gentoo", ids["recent"]).anonymised_at is not None
    assert load(app, "gentoo", ids["open"]).anonymised_at is None


def test_anonymise_refuses_an_unknown_tenant(app):
    result = app.test_cli_runner().invoke(args=["incidents", "anonymise", "--tenant", "nowhere"])
    assert result.exit_code != 0
    assert "no organisation 'nowhere'" in result.output


def test_anonymised_case_can_be_seen_but_not_changed(app, login_as, client):
    incident_id = add(
        app, "sevenoaks", status="closed", anonymised_at=clock.utcnow(), description=""
    )
    login_as("caseworker", "sevenoaks")
    page = client.get(f"{BASE}/{incident_id}").get_data(as_text=True)
    assert "This record was anonymised" in page
    assert "Change this case" not in page
    response = client.get(f"{BASE}/{incident_id}/edit", follow_redirects=True)
    assert "can no longer be changed" in response.get_data(as_text=True)


def test_caseworker_sees_the_register_with_demonstration_cases(login_as, client):
    login_as("caseworker", "sevenoaks")
    page = client.get(f"{BASE}/").get_data(as_text=True)
    assert "Demonstration data" in page
    assert "They are not about real people" in page
    home = client.get("/t/sevenoaks/").get_data(as_text=True)
    assert "Hate incident register" in home
