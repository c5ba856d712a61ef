"""Create forms are one-time: the same form sent twice makes one record."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from portal.actions import services
from portal.actions.models import Objective, ProgressUpdate
from portal.extensions import db as database
from portal.once import FIELD
from portal.tenancy import tenant_scope
from tests.helpers import audit_events, csrf_token, tenant

PLAN = "/t/maidstone/plan"

# Every form that adds a record. Each must be one-time.
CREATE_ENDPOINTS = [
    "commitments.new_commitment",
    "aims.new_period",
    "aims.copy_period",
    "aims.new_role",
    "aims.new_statement",
    "aims.new_list_item",
    "aims.new_aim",
    "aims.new_measure",
    "tenant_admin.invite",
    "monitoring.new_measure",
    "partner_monitoring.new_joint_measure",
    "actions.new_objective",
    "actions.new_action",
    "actions.add_progress",
    "incidents.new_incident",
    "incidents.wards",
    "portal_admin.new_partnership",
    "portal_admin.new_tenant",
    "portal_admin.invite_tenant_admin",
    "portal_admin.invite_partnership_lead",
    "eqia.new_assessment",
    "joint_eqia.new_joint_assessment",
    "returns.new_case_study",
]


def _token(page: str) -> str:
    match = re.search(rf'name="{FIELD}" value="([^"]+)"', page)
    assert match, "the form carries no one-time token"
    return match.group(1)


def test_every_create_form_is_one_time(app):
    endpoints = set(app.view_functions)
    for endpoint in CREATE_ENDPOINTS:
        assert endpoint in endpoints, endpoint
        assert getattr(app.view_functions[endpoint], "one_time", False), endpoint


@pytest.mark.parametrize(
    "url",
    [
        f"{PLAN}/objectives/new",
        f"{PLAN}/actions/new",
        f"{PLAN}/commitments/new",
        "/t/maidstone/monitoring/measures/new",
        "/t/maidstone/eqia/new",
    ],
)
def test_create_forms_carry_a_token(client, login_as, url):
    login_as("officer", "maidstone")
    page = client.get(url).get_data(as_text=True)
    token = _token(page)
    assert token != _token(client.get(url).get_data(as_text=True))  # new for each form


def _objectives(app) -> int:
    with app.app_context(), tenant_scope(tenant("maidstone")):
        return database.session.scalar(select(func.count(Objective.id)))


def test_the_same_objective_form_sent_twice_makes_one_objective(app, client, login_as):
    login_as("officer", "maidstone")
    url = f"{PLAN}/objectives/new"
    page = client.get(url).get_data(as_text=True)
    data = {
        "title": "Know our tenants",
        "area": "",
        "csrf_token": csrf_token(client, url),
        FIELD: _token(page),
    }
    before = _objectives(app)
    first = client.post(url, data=data)
    assert first.status_code == 302
    again = client.post(url, data=data)  # Back, and save again
    assert again.status_code == 302
    assert again.headers["Location"] == first.headers["Location"]
    assert _objectives(app) == before + 1
    landed = client.get(again.headers["Location"]).get_data(as_text=True)
    assert "This was saved when you first sent it, so it has not been saved again" in landed


def test_a_form_sent_back_with_mistakes_can_be_saved_with_the_same_token(app, client, login_as):
    login_as("officer", "maidstone")
    url = f"{PLAN}/objectives/new"
    token = _token(client.get(url).get_data(as_text=True))
    data = {"title": "", "csrf_token": csrf_token(client, url), FIELD: token}
    wrong = client.post(url, data=data)
    assert wrong.status_code == 200 and _token(wrong.get_data(as_text=True)) == token
    before = _objectives(app)
    assert client.post(url, data={**data, "title": "Know our tenants"}).status_code == 302
    assert _objectives(app) == before + 1


def test_a_progress_update_sent_twice_is_saved_once(app, client, login_as):
    with app.app_context(), tenant_scope(tenant("maidstone")):
        action = database.session.scalars(services.actions()).first()
        number, action_id = action.number, action.id
    login_as("officer", "maidstone")
    url = f"{PLAN}/actions/{number}/progress"
    token = _token(client.get(url).get_data(as_text=True))
    data = {
        "date": ["3", "2", "2026"],
        "narrative": "We met the ward councillors.",
        "status": "on-target",
        "csrf_token": csrf_token(client, url),
        FIELD: token,
    }
    for _ in range(2):
        response = client.post(url, data=dict(data), content_type="multipart/form-data")
        assert response.status_code == 302
    with app.app_context(), tenant_scope(tenant("maidstone")):
        count = database.session.scalar(
            select(func.count(ProgressUpdate.id)).where(ProgressUpdate.action_id == action_id)
        )
    assert count == 1
    assert len(audit_events(app, action="progress.added")) == 1


def test_a_token_is_its_senders_only(app, client, auth, login_as):
    login_as("officer", "maidstone")
    url = f"{PLAN}/objectives/new"
    token = _token(client.get(url).get_data(as_text=True))
    data = {"title": "One", "area": "", "csrf_token": csrf_token(client, url), FIELD: token}
    assert client.post(url, data=data).status_code == 302
    auth.logout()
    login_as("officer", "thanet")
    other = "/t/thanet/plan/objectives/new"
    response = client.post(
        other, data={**data, "title": "Two", "csrf_token": csrf_token(client, other)}
    )
    # Somebody else's token never leads to their record: the form is saved as sent.
    assert response.status_code == 302 and "/t/maidstone/" not in response.headers["Location"]


def test_every_new_form_is_in_the_list(app):
    # A view named for adding something ("new_…") is a create form: it must be listed
    # above, so that a form added later cannot be left out unnoticed.
    named_new = {e for e in app.view_functions if e.split(".")[-1].startswith("new_")}
    assert named_new <= set(CREATE_ENDPOINTS), sorted(named_new - set(CREATE_ENDPOINTS))


def test_a_case_study_sent_twice_is_added_once(app, client, login_as):
    from portal.returns.models import CaseStudy

    login_as("officer", "tonbridge-malling")
    url = "/t/tonbridge-malling/returns/west-kent/2025-26/case-studies/new"
    page = client.get(url).get_data(as_text=True)
    data = {
        "csrf_token": re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1),
        FIELD: _token(page),
        "title": "Twice",
        "text": "Sent twice by a double click.",
    }
    first = client.post(url, data=data)
    second = client.post(url, data=data)
    assert first.status_code == second.status_code == 302
    assert second.headers["Location"] == first.headers["Location"]
    with app.app_context(), tenant_scope(tenant("tonbridge-malling")):
        count = database.session.scalar(
            select(func.count(CaseStudy.id)).where(CaseStudy.title == "Twice")
        )
        assert count == 1
