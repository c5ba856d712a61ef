"""A lead concludes, publishes and exports a joint assessment; the public reads the
published ones; members see which partnership each joint assessment belongs to."""

from __future__ import annotations

import re

from sqlalchemy import select

from portal.eqia.models import JointAssessment
from portal.extensions import db as database
from portal.partners.models import Partnership
from portal.tenancy import partnership_scope
from tests.helpers import audit_events, csrf_token

TITLE = "Joint approach to reporting hate incidents"


def _joint_id(app, slug: str = "west-kent") -> int:
    with app.app_context():
        partnership = database.session.scalar(select(Partnership).where(Partnership.slug == slug))
        # Joint assessments are partnership-owned: read inside the partnership's scope.
        with partnership_scope(partnership):
            return database.session.scalar(
                select(JointAssessment.id).where(JointAssessment.title == TITLE)
            )


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def test_a_member_of_two_partnerships_sees_which_each_joint_assessment_belongs_to(client, login_as):
    login_as("officer", "tonbridge-malling")
    page = _text(client.get("/t/tonbridge-malling/eqia/joint"))
    assert page.count(TITLE) == 2
    assert ">Partnership</th>" in page
    assert "West Kent Equality Partnership" in page and "Kent Equality Network" in page


def test_the_lead_concludes_publishes_and_exports_a_joint_assessment(app, client, login_as):
    joint_id = _joint_id(app)
    login_as("lead", partnership="west-kent")
    base = f"/p/west-kent/eqia/joint/{joint_id}"
    page = _text(client.get(base))
    assert "Not concluded yet" in page and "Publish the assessment" not in page
    # Publishing before concluding is refused in words.
    client.post(f"{base}/publish", data={"csrf_token": csrf_token(client, base)})
    assert "Conclude the assessment before publishing it" in _text(client.get(base))
    url = f"{base}/conclude"
    blank = client.post(url, data={"csrf_token": csrf_token(client, url), "conclusion": " "})
    assert "Enter the conclusion of the assessment" in _text(blank)
    conclusion = "One shared reporting form will make reporting easier for everybody."
    response = client.post(
        url, data={"csrf_token": csrf_token(client, url), "conclusion": conclusion}
    )
    assert response.status_code == 302
    page = _text(client.get(base))
    assert conclusion in page and "Publish the assessment" in page
    rows = client.get(f"{base}/export?format=csv").get_data(as_text=True)
    assert "Conclusion" in rows and conclusion in rows and "Race" in rows
    assert client.get(f"{base}/export?format=xlsx").status_code == 200
    public = f"/public/p/west-kent/eqia/{joint_id}"
    assert client.get(public).status_code == 404  # not published yet
    response = client.post(f"{base}/publish", data={"csrf_token": csrf_token(client, base)})
    assert response.status_code == 302
    assert "Published on" in _text(client.get(base))
    assert audit_events(app, action="eqia.joint_concluded")
    assert audit_events(app, action="eqia.joint_published")
    # The conclusion is fixed once published.
    fixed = client.get(url)
    assert fixed.status_code == 302
    client.get("/logout")


def test_the_public_reads_published_joint_assessments_only(app, client, login_as):
    joint_id = _joint_id(app)
    assert client.get("/public/p/west-kent/eqia/").status_code == 200
    assert TITLE not in _text(client.get("/public/p/west-kent/eqia/"))
    login_as("lead", partnership="west-kent")
    base = f"/p/west-kent/eqia/joint/{joint_id}"
    url = f"{base}/conclude"
    client.post(url, data={"csrf_token": csrf_token(client, url), "conclusion": "Agreed."})
    client.post(f"{base}/publish", data={"csrf_token": csrf_token(client, base)})
    client.get("/logout")
    listing = _text(client.get("/public/p/west-kent/eqia/"))
    assert TITLE in listing
    page = _text(client.get(f"/public/p/west-kent/eqia/{joint_id}"))
    assert "Agreed." in page and "Likely impact on each protected characteristic" in page
    # Another partnership's address never shows it; nor does an unknown partnership.
    assert client.get(f"/public/p/kent-network/eqia/{joint_id}").status_code == 404
    assert client.get("/public/p/nowhere/eqia/").status_code == 404
    assert (
        client.get(f"/public/p/west-kent/eqia/{_joint_id(app, 'kent-network')}").status_code == 404
    )


def test_a_lead_of_another_partnership_cannot_conclude_it(app, client, login_as):
    joint_id = _joint_id(app)
    login_as("lead", partnership="kent-network")
    url = f"/p/kent-network/eqia/joint/{joint_id}/conclude"
    assert client.get(url).status_code == 404
    assert client.get(f"/p/west-kent/eqia/joint/{joint_id}/conclude").status_code == 404
