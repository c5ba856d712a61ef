"""The hate-incident register: caseworkers only, every view audited, statistics, retention
and anonymisation."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portal import clock
from portal.extensions import db
from portal.incidents.models import HateIncident, Ward
from portal.tenancy import tenant_scope
from tests.helpers import audit_events, by_number, csrf_token, tenant

BASE = "/t/sevenoaks/incidents"


def form_data(token: str, **overrides) -> dict:
    data = {
        "csrf_token": token,
        "occurred_on": ["3", "5", "2024"],
        "motivations": ["race", "religion"],
        "incident_type": "verbal",
        "ward_id": "",
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


def ward(app, slug: str, name: str = "Town centre ward (demonstration)") -> int:
    """The id of ``slug``'s ward ``name``, added to its list if missing."""
    with app.app_context():
        from portal.extensions import db

        with tenant_scope(tenant(slug)):
            row = db.session.scalar(select(Ward).where(Ward.name == name))
            if row is None:
                row = Ward(name=name, created_at=clock.utcnow())
                db.session.add(row)
                db.session.commit()
            return row.id


def add(app, slug: str, **fields) -> int:
    """Put a case straight into ``slug``'s register (``ward`` names a ward of its list);
    its number, which the case's addresses carry."""
    fields["ward_id"] = ward(app, slug, fields.pop("ward", "Ward A"))
    with app.app_context():
        from portal.extensions import db

        with tenant_scope(tenant(slug)):
            now = clock.utcnow()
            values = {
                "occurred_on": now.date(),
                "motivations": ["race"],
                "incident_type": "verbal",
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
            return row.number


def load(app, slug: str, number: int) -> HateIncident:
    with app.app_context():
        from portal.extensions import db

        with tenant_scope(tenant(slug)):
            row = by_number(HateIncident, number)
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
    town = ward(app, "sevenoaks")
    response = client.post(f"{BASE}/new", data=form_data(token, ward_id=str(town)))
    assert response.status_code == 302
    incident_number = int(response.headers["Location"].rsplit("/", 1)[1])
    row = load(app, "sevenoaks", incident_number)
    assert row.occurred_on == date(2024, 5, 3)
    assert row.motivations == ["race", "religion"]
    assert row.police_referral and row.police_reference == "KP/123"
    assert row.status == "open" and row.closed_on is None
    assert row.ward_id == town and row.ward == "Town centre ward (demonstration)"
    created = audit_events(app, action="incident.created")
    assert created and created[-1].object_id == str(row.id)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Shouted at in the street." in page and "Race, Religion or belief" in page


def test_mistakes_are_explained_and_nothing_is_saved(app, login_as, client):
    before = count(app, "sevenoaks")
    town = str(ward(app, "sevenoaks"))
    elsewhere = str(ward(app, "thanet"))
    login_as("caseworker", "sevenoaks")
    token = csrf_token(client, f"{BASE}/new")
    cases = [
        ({"motivations": []}, "Choose at least one motivation"),
        ({"motivations": ["race", "star-sign"]}, "Choose at least one motivation"),
        ({"incident_type": "rude"}, "Choose the type of incident"),
        ({"occurred_on": ["1", "1", "2999"]}, "The date of the incident must be today or earlier"),
        ({"occurred_on": ["", "", ""]}, "Enter the date of the incident"),
        ({"occurred_on": ["30", "2", "2024"]}, "must be a real date"),
        ({"ward_id": ""}, "Choose the ward where it happened"),
        ({"ward_id": "99999999"}, "Choose the ward where it happened"),
        ({"ward_id": elsewhere}, "Choose the ward where it happened"),
        ({"description": ""}, "Enter what happened"),
        (
            {"police_referral": "no"},
            "Only give a police reference if it was referred to the police",
        ),
        ({"status": "closed"}, "Enter the outcome before closing the case"),
        ({"how_reported": ""}, "Choose how it was reported"),
    ]
    for overrides, message in cases:
        data = form_data(token, ward_id=town)
        data.update(overrides)
        response = client.post(f"{BASE}/new", data=data)
        page = response.get_data(as_text=True)
        assert response.status_code == 200, overrides
        assert message in page, overrides
        assert "There is a problem" in page, overrides
    assert count(app, "sevenoaks") == before


@pytest.mark.parametrize("role", ["officer", "viewer", "admin", "ceo"])
def test_only_caseworkers_see_cases(app, login_as, client, role):
    incident_number = add(app, "sevenoaks", description="Private details")
    login_as(role, "sevenoaks")
    token = csrf_token(client, "/account")
    for url in (
        BASE + "/",
        f"{BASE}/new",
        f"{BASE}/{incident_number}",
        f"{BASE}/{incident_number}/edit",
    ):
        assert client.get(url).status_code == 403, url
    assert client.post(f"{BASE}/new", data=form_data(token)).status_code == 403
    assert client.post(f"{BASE}/{incident_number}/edit", data=form_data(token)).status_code == 403
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
    incident_number = add(app, "sevenoaks")
    login_as(**who)
    assert client.get(f"{BASE}/{incident_number}").status_code == 404
    assert client.get(f"{BASE}/").status_code == 404


def test_caseworker_of_another_tenant_does_not_find_the_case(app, login_as, client):
    incident_number = add(app, "sevenoaks")
    login_as("caseworker", "thanet")
    assert client.get(f"/t/thanet/incidents/{incident_number}").status_code == 404
    assert client.get(f"{BASE}/{incident_number}").status_code == 404
    assert not audit_events(app, action="incident.viewed")


def test_every_view_of_a_case_is_audited(app, login_as, client):
    incident_number = add(app, "sevenoaks")
    login_as("caseworker", "sevenoaks")
    client.get(f"{BASE}/{incident_number}")
    client.get(f"{BASE}/{incident_number}")
    client.get(f"{BASE}/{incident_number}/edit")
    row_id = load(app, "sevenoaks", incident_number).id
    views = audit_events(app, action="incident.viewed", object_id=str(row_id))
    assert [v.detail["page"] for v in views] == ["case", "case", "edit"]
    assert {v.actor_email for v in views} == {"caseworker@sevenoaks.demo"}
    assert {v.tenant_id for v in views} == {views[0].tenant_id} and views[0].tenant_id
    client.get(f"{BASE}/")
    assert audit_events(app, action="incident.register_viewed")


def test_closing_a_case_and_edit_conflicts(app, login_as, client):
    incident_number = add(app, "sevenoaks")
    url = f"{BASE}/{incident_number}/edit"
    login_as("caseworker", "sevenoaks")
    page = client.get(url).get_data(as_text=True)
    version = re.search(r'name="version"[^>]*value="(\d+)"', page).group(1)
    token = csrf_token(client, url)
    ward_a = str(ward(app, "sevenoaks", "Ward A"))
    closing = form_data(token, version=version, status="closed", outcome="Resolved", ward_id=ward_a)
    assert client.post(url, data=closing).status_code == 302
    row = load(app, "sevenoaks", incident_number)
    assert row.status == "closed" and row.closed_on == clock.utcnow().date()
    assert audit_events(app, action="incident.updated")[-1].detail["fields"]
    stale = form_data(token, version=version, actions="Different", ward_id=ward_a)
    response = client.post(url, data=stale)
    assert response.status_code == 200
    assert "Somebody else changed this case" in response.get_data(as_text=True)
    assert load(app, "sevenoaks", incident_number).actions == ""


def test_statistics_show_exact_counts_to_caseworkers(app, login_as, client):
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
    login_as("caseworker", "gentoo")
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
    [first, _] = audit_events(app, action="incident.statistics_viewed")
    assert first.detail == {"year": 2021, "exact": True}
    assert first.actor_email == "caseworker@gentoo.demo"


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
    assert [e.object_id for e in events] == [str(load(app, "gentoo", ids["expired"]).id)]
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
    incident_number = add(
        app, "sevenoaks", status="closed", anonymised_at=clock.utcnow(), description=""
    )
    login_as("caseworker", "sevenoaks")
    page = client.get(f"{BASE}/{incident_number}").get_data(as_text=True)
    assert "This record was anonymised" in page
    assert "Change this case" not in page
    response = client.get(f"{BASE}/{incident_number}/edit", follow_redirects=True)
    assert "can no longer be changed" in response.get_data(as_text=True)


def test_caseworker_sees_the_register_with_demonstration_cases(login_as, client):
    login_as("caseworker", "sevenoaks")
    page = client.get(f"{BASE}/").get_data(as_text=True)
    assert "Demonstration data" in page
    assert "They are not about real people" in page
    home = client.get("/t/sevenoaks/").get_data(as_text=True)
    assert "Hate incident register" in home


# --- statistics under the disclosure rule --------------------------------------------------


def _statistics_cells(page: str, caption: str) -> dict[str, str]:
    table = page.split(caption)[1].split("</table>")[0]
    return dict(re.findall(r">([^<>]+)</th>\s*<td[^>]*>\s*([^<]+?)\s*</td>", table))


@pytest.mark.parametrize("role", ["viewer", "officer", "admin", "ceo"])
def test_other_roles_see_statistics_only_under_the_disclosure_rule(app, login_as, client, role):
    add(app, "gentoo", occurred_on=date(2021, 1, 10), ward="Lonely ward")
    for day in range(1, 13):
        add(app, "gentoo", occurred_on=date(2021, 3, day), ward="Busy ward")
    login_as(role, "gentoo")
    page = client.get("/t/gentoo/incidents/statistics?year=2021").get_data(as_text=True)
    wards = _statistics_cells(page, "By ward")
    # A viewer saw "1" here: one person's case, in a named ward.
    assert wards["Lonely ward"] == "fewer than 8"
    assert wards["Busy ward"] == "10"  # 12, rounded to the nearest 5
    months = _statistics_cells(page, "By month")
    assert months["January"] == "fewer than 8" and months["March"] == "10"
    assert months["June"] == "0"
    assert "rounded" in page and "13 in all" not in page
    for caption in ("By month", "By status", "By motivation", "By type", "By ward"):
        for label, shown in _statistics_cells(page, caption).items():
            assert shown in {"0", "fewer than 8"} or int(shown) % 5 == 0, (caption, label)
    [event] = audit_events(app, action="incident.statistics_viewed")
    assert event.detail == {"year": 2021, "exact": False}
    assert event.actor_email == f"{role}@gentoo.demo"


def test_caseworkers_see_the_exact_small_counts(app, login_as, client):
    add(app, "gentoo", occurred_on=date(2021, 1, 10), ward="Lonely ward")
    login_as("caseworker", "gentoo")
    page = client.get("/t/gentoo/incidents/statistics?year=2021").get_data(as_text=True)
    assert _statistics_cells(page, "By ward")["Lonely ward"] == "1"
    assert "1 in all" in page


def test_released_statistics_use_the_strictest_partnership_rule(app, db):
    from portal.incidents import services
    from portal.partners.models import Partnership

    west_kent = db.session.scalar(select(Partnership).where(Partnership.slug == "west-kent"))
    west_kent.disclosure_threshold, west_kent.disclosure_rounding = 15, 10
    db.session.commit()
    rule = services.disclosure_rule(tenant("tonbridge-malling"))  # also in Kent network
    assert (rule.threshold, rule.rounding) == (15, 10)
    assert services.disclosure_rule(tenant("gentoo")).threshold == 8


def test_released_statistics_never_let_a_hidden_count_be_worked_out(app, ctx):
    """Every table breaks down the same incidents: the total is withheld where the other
    tables would give a suppressed cell away, and the oracle confirms nothing can be."""
    from portal.disclosure import DEFAULT_RULE
    from portal.extensions import db
    from portal.incidents import services

    with tenant_scope(tenant("gentoo")):
        now = clock.utcnow()
        wards = [Ward(name=f"W{i}", created_at=now) for i in range(4)]
        db.session.add_all(wards)
        db.session.flush()
        # The table 7, 12, 12, 12 (total 43), all in May and all verbal.
        for i, n in enumerate((7, 12, 12, 12)):
            for _ in range(n):
                db.session.add(
                    HateIncident(
                        occurred_on=date(2021, 5, 1),
                        motivations=["race"],
                        incident_type="verbal",
                        ward_id=wards[i].id,
                        description="x",
                        created_at=now,
                        updated_at=now,
                    )
                )
        db.session.commit()
        stats = services.statistics(2021, exact=False, rule=DEFAULT_RULE)
    by_ward = dict(stats.by_ward)
    shown = {label: f.text for label, f in stats.by_month + stats.by_type}
    # Shown as 45, "May" or "verbal" would bound the total to 43-47, and the wards'
    # "fewer than 8, 10, 10, 10" (at most 7 + 36 = 43) would then give W0 = 7.
    assert stats.total.text == "not shown"
    assert shown["May"] == "not shown" and shown["Verbal abuse"] == "not shown"
    assert by_ward["W0"].text in {"fewer than 8", "not shown"}
    assert "7" not in {f.text for _, f in stats.by_ward}


# --- the list of wards -------------------------------------------------------------------


def test_caseworkers_keep_the_list_of_wards(app, login_as, client):
    login_as("caseworker", "sevenoaks")
    url = f"{BASE}/wards"
    page = client.get(url).get_data(as_text=True)
    assert "Town centre ward (demonstration)" in page  # the demonstration list
    token = csrf_token(client, url)
    response = client.post(url, data={"name": "  Riverside   ward ", "csrf_token": token})
    assert response.status_code == 302
    for name, message in [
        ("", "Enter the name of the ward"),
        ("riverside WARD", "is already in the list"),
        ("x" * 121, "120 characters or fewer"),
    ]:
        page = client.post(url, data={"name": name, "csrf_token": token}).get_data(as_text=True)
        assert message in page, name
    added = audit_events(app, action="ward.added")
    assert [e.detail["name"] for e in added] == ["Riverside ward"]
    new_form = client.get(f"{BASE}/new").get_data(as_text=True)
    assert "Riverside ward" in new_form and "Choose a ward" in new_form


@pytest.mark.parametrize("role", ["viewer", "officer", "ceo"])
def test_only_caseworkers_and_administrators_change_the_list(app, login_as, client, role):
    with app.app_context(), tenant_scope(tenant("sevenoaks")):
        ward_number = db.session.get(Ward, ward(app, "sevenoaks")).number
    login_as(role, "sevenoaks")
    token = csrf_token(client, "/account")
    assert client.get(f"{BASE}/wards").status_code == 403
    assert client.post(f"{BASE}/wards", data={"name": "X", "csrf_token": token}).status_code == 403
    data = {"name": "X", "csrf_token": token}
    assert client.post(f"{BASE}/wards/{ward_number}", data=data).status_code == 403
    assert client.post(f"{BASE}/wards/{ward_number}/retire", data=data).status_code == 403


def test_administrator_may_keep_the_list(app, login_as, client):
    login_as("admin", "sevenoaks")
    token = csrf_token(client, f"{BASE}/wards")
    assert (
        client.post(f"{BASE}/wards", data={"name": "Hill", "csrf_token": token}).status_code == 302
    )


def test_retired_ward_keeps_its_cases_and_renaming_follows(app, login_as, client):
    incident_number = add(app, "sevenoaks", ward="Old ward")
    old = ward(app, "sevenoaks", "Old ward")
    with app.app_context(), tenant_scope(tenant("sevenoaks")):
        old_number = db.session.get(Ward, old).number
    login_as("caseworker", "sevenoaks")
    token = csrf_token(client, f"{BASE}/wards")
    assert (
        client.post(f"{BASE}/wards/{old_number}/retire", data={"csrf_token": token}).status_code
        == 302
    )
    new_form = client.get(f"{BASE}/new").get_data(as_text=True)
    assert ">Old ward</option>" not in new_form
    response = client.post(
        f"{BASE}/new", data=form_data(csrf_token(client, f"{BASE}/new"), ward_id=str(old))
    )
    assert "Choose the ward where it happened" in response.get_data(as_text=True)
    # The case keeps it, and can still be saved with it.
    page = client.get(f"{BASE}/{incident_number}/edit").get_data(as_text=True)
    assert ">Old ward</option>" in page
    version = re.search(r'name="version"[^>]*value="(\d+)"', page).group(1)
    data = form_data(token, version=version, ward_id=str(old), police_referral="no")
    data["police_reference"] = ""
    assert client.post(f"{BASE}/{incident_number}/edit", data=data).status_code == 302
    assert (
        client.post(
            f"{BASE}/wards/{old_number}", data={"name": "Older ward", "csrf_token": token}
        ).status_code
        == 302
    )
    assert "Older ward" in client.get(f"{BASE}/{incident_number}").get_data(as_text=True)
    actions = [e.action for e in audit_events(app) if e.action.startswith("ward.")]
    assert actions == ["ward.retired", "ward.renamed"]


# --- the register's search, filters and export ---------------------------------------------


def _register_cases(app) -> dict[str, int]:
    return {
        "race_north": add(
            app,
            "gentoo",
            occurred_on=date(2025, 1, 5),
            motivations=["race"],
            ward="North",
            description="Shouting at the bus stop",
        ),
        "sex_south": add(
            app,
            "gentoo",
            occurred_on=date(2025, 3, 9),
            motivations=["sex", "religion"],
            ward="South",
            status="closed",
            outcome="Resolved",
            description="Graffiti on a fence",
        ),
        "sexual_orientation": add(
            app,
            "gentoo",
            occurred_on=date(2025, 6, 1),
            motivations=["sexual_orientation"],
            ward="North",
            description="Online messages, 100% abusive",
        ),
    }


def _listed(client, query: str) -> set[int]:
    page = client.get(f"/t/gentoo/incidents/?{query}").get_data(as_text=True)
    return {int(i) for i in re.findall(r"/t/gentoo/incidents/(\d+)\"", page)}


def test_register_search_and_filters_each_have_an_address(app, login_as, client):
    ids = _register_cases(app)
    with app.app_context(), tenant_scope(tenant("gentoo")):
        # The register's address names a ward by its running number.
        north = db.session.get(Ward, ward(app, "gentoo", "North")).number
    login_as("caseworker", "gentoo")
    everything = _listed(client, "")
    assert set(ids.values()) <= everything
    assert _listed(client, "motivation=sex") == {ids["sex_south"]}  # not sexual orientation
    assert _listed(client, "motivation=sexual_orientation") == {ids["sexual_orientation"]}
    assert _listed(client, f"ward={north}") == {ids["race_north"], ids["sexual_orientation"]}
    assert _listed(client, "status=closed") == {ids["sex_south"]}
    assert _listed(client, "from=2025-02-01&to=2025-05-31") == {ids["sex_south"]}
    assert _listed(client, "from=1/6/2025") == {ids["sexual_orientation"]}
    assert _listed(client, "q=bus+stop") == {ids["race_north"]}
    assert _listed(client, "q=100%25") == {ids["sexual_orientation"]}
    assert _listed(client, "q=south") == {ids["sex_south"]}  # the ward's name
    assert _listed(client, f"ward={north}&motivation=race&q=shouting") == {ids["race_north"]}
    # Unknown choices are ignored, not an error page.
    assert _listed(client, "motivation=star-sign&ward=%C2%B2&status=x") == everything
    page = client.get("/t/gentoo/incidents/?from=31-31-2025&to=2025-01-01").get_data(as_text=True)
    assert "Enter the date from as a real date" in page
    page = client.get("/t/gentoo/incidents/?from=2025-06-01&to=2025-01-01").get_data(as_text=True)
    assert "must be the same as or after the date from" in page
    # The page's own links keep the filters.
    page = client.get(f"/t/gentoo/incidents/?ward={north}&status=open").get_data(as_text=True)
    assert f"export?format=csv&amp;status=open&amp;ward={north}" in page


def test_register_export_is_for_caseworkers_and_audited(app, login_as, client, auth):
    import csv
    import io

    ids = _register_cases(app)
    login_as("caseworker", "gentoo")
    response = client.get("/t/gentoo/incidents/export?format=csv&motivation=race")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:5] == ["Case", "Date of the incident", "Type", "Motivation", "Ward"]
    assert [r[0] for r in rows[1:]] == [f"HI-{ids['race_north']:04d}"]
    assert rows[1][1] == "2025-01-05" and rows[1][4] == "North"
    assert "Shouting" not in response.get_data(as_text=True)  # no case narrative
    xlsx = client.get("/t/gentoo/incidents/export?format=xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    events = audit_events(app, action="export")
    assert [e.detail["format"] for e in events] == ["csv", "xlsx"]
    assert events[0].detail["filters"] == {"motivation": "race"}
    assert events[0].object_type == "Hate incidents"
    auth.logout()
    for role in ("viewer", "officer", "admin", "ceo"):
        login_as(role, "gentoo")
        assert client.get("/t/gentoo/incidents/export?format=csv").status_code == 403, role
        auth.logout()
    assert len(audit_events(app, action="export")) == 2


# --- free-text wards become lists --------------------------------------------------------


def test_migration_turns_free_text_wards_into_each_tenants_list(app):
    import sqlalchemy as sa
    from flask_migrate import downgrade, upgrade
    from sqlalchemy.pool import NullPool

    from portal.extensions import db

    url = app.config.get("MIGRATION_DATABASE_URI") or app.config["SQLALCHEMY_DATABASE_URI"]
    engine = sa.create_engine(url, poolclass=NullPool)
    incident = sa.table("hate_incident", sa.column("id"), sa.column("tenant_id"), sa.column("ward"))
    try:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
            downgrade(revision="0013_wards_lockouts-1")
            with engine.begin() as conn:
                rows = conn.execute(sa.select(incident.c.id, incident.c.tenant_id)).all()
                first, second = rows[0], rows[1]
                conn.execute(
                    incident.update().where(incident.c.id == first.id).values(ward=" Odd ward ")
                )
                conn.execute(
                    incident.update().where(incident.c.id == second.id).values(ward="Odd ward")
                )
            upgrade()
        with app.app_context(), tenant_scope(first.tenant_id):
            row = db.session.get(HateIncident, first.id)
            assert row.ward == "Odd ward"
            names = db.session.scalars(select(Ward.name)).all()
            assert names.count("Odd ward") == 1
            assert "Town centre ward (demonstration)" in names
    finally:
        engine.dispose()


def test_a_total_not_shown_is_said_in_words(app, login_as, client):
    # By month 7, 12, 12, 12 (portal/disclosure.py): a total of 45 would pin down the 7.
    for month, count in ((1, 7), (3, 12), (4, 12), (5, 12)):
        for day in range(1, count + 1):
            add(app, "gentoo", occurred_on=date(2021, month, day))
    login_as("viewer", "gentoo")
    page = client.get("/t/gentoo/incidents/statistics?year=2021").get_data(as_text=True)
    sentence = re.search(r"by the date they happened[^.]*\.", page).group(0)
    assert sentence == "by the date they happened; their total is not shown."
    assert "not shown in all" not in page
