"""Equality impact assessments: the register, validation, conflicts, joint assessments,
review reminders and the public pages."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from portal.eqia.models import CHARACTERISTICS, ImpactAssessment, JointContribution
from portal.tenancy import tenant_scope
from tests.helpers import audit_events, csrf_token, tenant

BASE = "/t/sevenoaks/eqia"


def form_data(token: str, **overrides) -> dict:
    data = {
        "csrf_token": token,
        "title": "Library opening hours",
        "subject": "Libraries",
        "kind": "screening",
        "lead_officer": "A. Officer",
        "assessed_on": ["1", "4", "2024"],
        "decision": "Go ahead. Keep one late evening each week.",
        "review_on": ["1", "4", "2026"],
        "is_published": "no",
        "published_on": ["", "", ""],
    }
    for key in CHARACTERISTICS:
        data[f"impact_{key}"] = "neutral"
        data[f"evidence_{key}"] = ""
        data[f"mitigation_{key}"] = ""
    data.update(overrides)
    return data


def assessments(app, slug="sevenoaks") -> list[ImpactAssessment]:
    with app.app_context():
        from portal.extensions import db

        with tenant_scope(tenant(slug)):
            rows = db.session.scalars(select(ImpactAssessment).order_by(ImpactAssessment.id)).all()
            for row in rows:
                row.ordered_impacts()  # load while in scope
            db.session.expunge_all()
            return rows


def by_number_in(app, slug, number) -> ImpactAssessment | None:
    rows = [r for r in assessments(app, slug) if r.number == number]
    return rows[0] if rows else None


def by_title(app, title, slug="sevenoaks") -> ImpactAssessment:
    return next(a for a in assessments(app, slug) if a.title == title)


def test_officer_adds_an_assessment_with_all_nine_characteristics(app, login_as, client):
    login_as("officer", "sevenoaks")
    token = csrf_token(client, f"{BASE}/new")
    data = form_data(
        token,
        impact_age="negative",
        evidence_age="Older people visit in the evening less.",
        mitigation_age="Keep the Saturday morning session.",
        impact_race="positive",
    )
    response = client.post(f"{BASE}/new", data=data)
    assert response.status_code == 302
    row = by_title(app, "Library opening hours")
    assert [i.characteristic for i in row.ordered_impacts()] == list(CHARACTERISTICS)
    assert row.impact_for("age").impact == "negative"
    assert row.impact_for("age").mitigation == "Keep the Saturday morning session."
    assert row.impact_for("race").impact == "positive"
    assert not row.is_published
    assert audit_events(app, action="eqia.created")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Older people visit in the evening less." in page
    assert "1 April 2024" in page


def test_mistakes_are_explained_and_nothing_is_saved(app, login_as, client):
    before = len(assessments(app))
    login_as("officer", "sevenoaks")
    token = csrf_token(client, f"{BASE}/new")
    cases = [
        ({"impact_disability": ""}, "Choose the likely impact on disability"),
        ({"impact_sex": "terrible"}, "Choose the likely impact on sex"),
        (
            {"impact_age": "negative", "mitigation_age": "  "},
            "Say how you will reduce or remove the negative impact on age",
        ),
        ({"review_on": ["1", "1", "2024"]}, "The review date must be after the date of"),
        ({"is_published": "yes"}, "Enter the date it was published"),
        (
            {"is_published": "yes", "published_on": ["1", "1", "2020"]},
            "The publication date cannot be before the assessment",
        ),
        ({"assessed_on": ["31", "2", "2024"]}, "must be a real date"),
        ({"assessed_on": ["1", "1", "2999"]}, "must be today or earlier"),
        ({"title": "   "}, "Enter a title"),
        ({"kind": ""}, "Choose screening or full assessment"),
        ({"decision": "x" * 5001}, "Decision must be 5,000 characters or fewer"),
    ]
    for overrides, message in cases:
        response = client.post(f"{BASE}/new", data=form_data(token, **overrides))
        page = response.get_data(as_text=True)
        assert response.status_code == 200, overrides
        assert message in page, overrides
        assert "There is a problem" in page, overrides
    assert len(assessments(app)) == before


def test_viewer_reads_but_cannot_change(app, login_as, client):
    row = by_title(app, "Changes to the garden waste collection service")
    login_as("viewer", "sevenoaks")
    page = client.get(BASE + "/").get_data(as_text=True)
    assert "Changes to the garden waste collection service" in page
    assert "Demonstration data" in page
    assert "Add an assessment" not in page
    assert client.get(f"{BASE}/{row.number}").status_code == 200
    assert client.get(f"{BASE}/new").status_code == 403
    assert client.get(f"{BASE}/{row.number}/edit").status_code == 403


def test_second_save_of_the_same_assessment_is_refused(app, login_as, client):
    row = by_title(app, "Community grants scheme")
    url = f"{BASE}/{row.number}/edit"
    login_as("officer", "sevenoaks")
    page = client.get(url).get_data(as_text=True)
    version = re.search(r'name="version"[^>]*value="(\d+)"', page).group(1)
    token = csrf_token(client, url)
    first = form_data(token, title="First title", version=version)
    second = form_data(token, title="Second title", version=version)
    assert client.post(url, data=first).status_code == 302
    response = client.post(url, data=second)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Somebody else changed this assessment" in page
    assert "First title" in page and "Second title" in page
    assert by_title(app, "First title").id == row.id
    assert audit_events(app, action="eqia.updated")


def test_plain_language_check_is_shown_beside_the_narrative(login_as, client):
    login_as("officer", "sevenoaks")
    token = csrf_token(client, f"{BASE}/new")
    long_sentence = " ".join(["The council will consider the multifarious implications"] * 5)
    page = client.post(
        f"{BASE}/new", data=form_data(token, decision=long_sentence + ".", title="")
    ).get_data(as_text=True)
    assert "Plain-language check" in page
    assert "This sentence has 35 words" in page


def test_public_page_shows_only_that_tenants_published_assessments(app, client):
    published = by_title(app, "New customer service opening hours")
    unpublished = by_title(app, "Community grants scheme")
    theirs = by_title(app, "New customer service opening hours", slug="thanet")
    page = client.get("/public/sevenoaks/eqia/").get_data(as_text=True)
    assert "Published equality impact assessments" in page
    assert "New customer service opening hours" in page
    assert "Changes to the garden waste collection service" in page
    assert "Community grants scheme" not in page
    response = client.get(f"/public/sevenoaks/eqia/{published.number}")
    assert response.status_code == 200
    assert "Likely impact on each protected characteristic" in response.get_data(as_text=True)
    assert client.get(f"/public/sevenoaks/eqia/{unpublished.number}").status_code == 404
    # Thanet's number on Sevenoaks' pages names Sevenoaks' own assessment of that number.
    own = by_number_in(app, "sevenoaks", theirs.number)
    response = client.get(f"/public/sevenoaks/eqia/{theirs.number}")
    assert response.status_code == (200 if own and own.is_published else 404)
    if own:
        assert own.title in response.get_data(as_text=True) or not own.is_published
    assert client.get("/public/nowhere/eqia/").status_code == 404


def test_publishing_puts_an_assessment_on_the_public_page(app, login_as, client):
    row = by_title(app, "Community grants scheme")
    url = f"{BASE}/{row.number}/edit"
    login_as("officer", "sevenoaks")
    token = csrf_token(client, url)
    data = form_data(
        token,
        title="Community grants scheme",
        version=str(row.version),
        is_published="yes",
        published_on=["2", "4", "2024"],
    )
    assert client.post(url, data=data).status_code == 302
    client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})
    assert client.get(f"/public/sevenoaks/eqia/{row.number}").status_code == 200
    assert "2 April 2024" in client.get(f"/public/sevenoaks/eqia/{row.number}").get_data(
        as_text=True
    )


def test_assessments_due_for_review_show_on_the_officers_home_page(app, login_as, client, auth):
    login_as("officer", "sevenoaks")
    page = client.get("/t/sevenoaks/").get_data(as_text=True)
    assert "Impact assessments due for review" in page
    due = page.split("Impact assessments due for review")[1].split("</ul>")[0]
    assert "Community grants scheme" in due
    assert "garden waste" not in due  # its review is almost a year away
    auth.logout()
    login_as("viewer", "sevenoaks")
    page = client.get("/t/sevenoaks/").get_data(as_text=True)
    assert "Impact assessments due for review" not in page
    assert "Equality impact assessments" in page


def test_other_tenants_assessment_is_not_found(app, login_as, client):
    theirs = by_title(app, "Community grants scheme", slug="thanet")
    with app.app_context():
        from portal.extensions import db

        with tenant_scope(tenant("thanet")):
            db.session.get(ImpactAssessment, theirs.id).title = "Thanet's own scheme"
            db.session.commit()
    login_as("officer", "sevenoaks")
    # Under Sevenoaks' address Thanet's number is Sevenoaks' own assessment, or nothing.
    for url in (f"{BASE}/{theirs.number}", f"{BASE}/{theirs.number}/edit"):
        response = client.get(url)
        assert "Thanet's own scheme" not in response.get_data(as_text=True)
    own = by_number_in(app, "sevenoaks", theirs.number)
    assert client.get(f"{BASE}/{theirs.number}").status_code == (200 if own else 404)
    # Thanet's own address: no grant there, not found.
    assert client.get(f"/t/thanet/eqia/{theirs.number}").status_code == 404
    # Nor does its database id reach it anywhere.
    assert "Thanet's own scheme" not in client.get(f"{BASE}/{theirs.id}").get_data(as_text=True)


def contribution_data(token: str, **overrides) -> dict:
    data = {
        "csrf_token": token,
        "evidence": "Few disabled people report incidents to us.",
        "mitigation": "",
        "contributor": "Sevenoaks officer",
        **{f"impact_{key}": "unknown" for key in CHARACTERISTICS},
    }
    data.update(overrides)
    return data


def test_joint_assessment_flow(app, client, login_as, auth):
    # The lead starts a joint assessment...
    login_as("lead", partnership="west-kent")
    token = csrf_token(client, "/p/west-kent/eqia/joint/new")
    response = client.post(
        "/p/west-kent/eqia/joint/new",
        data={
            "csrf_token": token,
            "title": "Shared CCTV policy",
            "subject": "CCTV",
            "lead_officer": "The lead",
            "due_on": ["", "", ""],
        },
    )
    assert response.status_code == 302
    joint_url = response.headers["Location"]
    joint_id = int(joint_url.rstrip("/").rsplit("/", 1)[1])
    assert audit_events(app, action="eqia.joint_started")
    auth.logout()

    # ...a member's officer saves a draft, which the lead cannot see...
    login_as("officer", "sevenoaks")
    url = f"/t/sevenoaks/eqia/joint/{joint_id}"
    assert "Shared CCTV policy" in client.get("/t/sevenoaks/eqia/joint").get_data(as_text=True)
    token = csrf_token(client, url)
    page = client.post(url, data=contribution_data(token, evidence=" ")).get_data(as_text=True)
    assert "Enter what your organisation knows about the impact" in page
    page = client.post(url, data=contribution_data(token, impact_age="")).get_data(as_text=True)
    assert "Choose the likely impact on age" in page
    assert client.post(url, data=contribution_data(token, save="Save draft")).status_code == 302
    auth.logout()
    login_as("lead", partnership="west-kent")
    page = client.get(joint_url).get_data(as_text=True)
    assert "Few disabled people report incidents to us." not in page
    assert "Not submitted yet" in page
    auth.logout()

    # ...then submits it, after which the lead sees it and nobody can change it.
    login_as("officer", "sevenoaks")
    page = client.get(url).get_data(as_text=True)
    version = re.search(r'name="version"[^>]*value="(\d+)"', page).group(1)
    token = csrf_token(client, url)
    data = contribution_data(token, submit="Submit", version=version)
    assert client.post(url, data=data).status_code == 302
    assert client.post(url, data=data).status_code == 403
    assert audit_events(app, action="eqia.contribution_submitted")
    auth.logout()
    login_as("lead", partnership="west-kent")
    page = client.get(joint_url).get_data(as_text=True)
    assert "Few disabled people report incidents to us." in page
    assert "Sevenoaks officer" in page
    assert audit_events(app, action="cross_tenant.read")
    auth.logout()

    # Other partnerships and their members never reach it.
    login_as("lead", partnership="kent-network")
    assert client.get(f"/p/kent-network/eqia/joint/{joint_id}").status_code == 404
    assert client.get(joint_url).status_code == 404
    auth.logout()
    login_as("officer", "thanet")
    assert client.get(f"/t/thanet/eqia/joint/{joint_id}").status_code == 404


def test_viewer_reads_a_contribution_but_cannot_write_one(app, client, login_as):
    login_as("viewer", "sevenoaks")
    page = client.get("/t/sevenoaks/eqia/joint").get_data(as_text=True)
    match = re.search(r'href="/t/sevenoaks/eqia/joint/(\d+)"', page)
    assert match, "the demonstration joint assessment is listed"
    url = f"/t/sevenoaks/eqia/joint/{match.group(1)}"
    assert client.get(url).status_code == 200
    token = csrf_token(client, "/account")
    assert client.post(url, data=contribution_data(token)).status_code == 403
    with app.app_context():
        from portal.extensions import db

        with tenant_scope(tenant("sevenoaks")):
            drafts = db.session.scalar(
                select(func.count(JointContribution.id)).where(
                    JointContribution.submitted_at.is_(None)
                )
            )
    assert drafts == 0


def test_demo_content_loads_once(app):
    from portal import demo
    from tests.conftest import PASSWORD

    before = len(assessments(app))
    with app.app_context():
        lines = list(demo.load(PASSWORD))
    assert any("impact assessments: sevenoaks already has examples" in line for line in lines)
    assert len(assessments(app)) == before == 3
