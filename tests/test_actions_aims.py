"""Actions linked to the joint aims of the tenant's partnerships, and filtered by them."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal.actions import services
from portal.actions.models import Action
from portal.aims.models import JointAim
from portal.partners.models import Partnership
from portal.tenancy import tenant_scope
from tests.helpers import csrf_token, tenant

BASE = "/t/sevenoaks/plan"


def _aim(db, partnership: str, words: str) -> JointAim:
    """The aim of the partnership's current plan period (the demonstration's actions
    serve it) whose text contains ``words``."""
    pid = db.session.scalar(select(Partnership.id).where(Partnership.slug == partnership))
    aims = db.session.scalars(select(JointAim).where(JointAim.partnership_id == pid))
    return max((a for a in aims if words in a.text), key=lambda a: a.period.start_year)


def test_only_aims_of_the_tenants_partnerships_may_be_linked(db):
    with tenant_scope(tenant("sevenoaks")):
        offered = {aim.id for aim, _ in services.joint_aims_for_tenant()}
        ours = _aim(db, "west-kent", "physical barriers")
        foreign = db.session.scalar(
            select(JointAim.id).join(Partnership).where(Partnership.slug == "kent-network")
        )
        assert ours.id in offered and foreign not in offered
        action = db.session.scalars(services.actions()).first()
        data = {
            "objective_id": action.objective_id,
            "task": action.task,
            "joint_aim_ids": [str(foreign)],
        }
        with pytest.raises(services.ValidationError) as caught:
            services.update_action(action, data, version=action.version)
        assert "joint_aim_ids" in caught.value.errors
        services.update_action(
            action, {**data, "joint_aim_ids": [str(ours.id)]}, version=action.version
        )
        assert services.joint_aim_ids(action) == [ours.id]


def _ids(app, words: str, task: str) -> tuple[int, int]:
    from portal.extensions import db

    with app.app_context(), tenant_scope(tenant("sevenoaks")):
        aim = _aim(db, "west-kent", words)
        action_number = db.session.scalar(select(Action.number).where(Action.task.like(f"{task}%")))
        return aim.id, action_number


def test_demonstration_actions_serve_west_kent_aims_and_filter_by_them(app, login_as, client):
    aim_id, action_number = _ids(app, "events and activities", "Carry out access checks")
    login_as("viewer", "sevenoaks")
    page = client.get(f"{BASE}/actions/{action_number}").get_data(as_text=True)
    assert "We will make sure our events and activities are open to all" in page
    listed = client.get(f"{BASE}/actions?aim={aim_id}").get_data(as_text=True)
    assert "Carry out access checks" in listed
    assert "Rewrite the ten most-used web forms" not in listed
    rows = client.get(f"{BASE}/actions/export?format=csv&aim={aim_id}").get_data(as_text=True)
    assert "Carry out access checks" in rows and "Rewrite the ten" not in rows


def test_officer_links_an_action_to_an_aim_on_the_form(app, login_as, client):
    aim_id, action_number = _ids(app, "physical barriers", "Rewrite the ten")
    login_as("officer", "sevenoaks")
    url = f"{BASE}/actions/{action_number}/edit"
    page = client.get(url).get_data(as_text=True)
    assert "Joint aims this action serves" in page
    assert "Kent Equality Network" not in page  # Sevenoaks is not a member
    version = re.search(r'name="version"[^>]*value="(\d+)"', page).group(1)
    objective_id = re.search(r'<option selected value="(\d+)"|value="(\d+)" selected', page)
    token = csrf_token(client, url)
    response = client.post(
        url,
        data={
            "objective_id": next(g for g in objective_id.groups() if g),
            "task": "Rewrite the ten most-used web forms in plain English",
            "status": "at-risk",
            "target_text": "30 June 2026",
            "joint_aim_ids": [str(aim_id)],
            "version": version,
            "csrf_token": token,
        },
    )
    assert response.status_code == 302
    listed = client.get(f"{BASE}/actions?aim={aim_id}").get_data(as_text=True)
    assert "Rewrite the ten most-used web forms" in listed
