"""The author of a progress update can correct or withdraw it; the history keeps the
earlier text and evidence, and the audit trail records both."""

from __future__ import annotations

import io
import re

from sqlalchemy import select

from portal.actions import services
from portal.actions.models import Action, ProgressUpdate
from portal.extensions import db as database
from portal.tenancy import tenant_scope
from tests.helpers import audit_events, by_number, csrf_token, tenant

PLAN = "/t/maidstone/plan"


def _action(app) -> tuple[int, int]:
    with app.app_context(), tenant_scope(tenant("maidstone")):
        row = database.session.scalars(services.actions()).first()
        return row.number, row.id


def _add(client, action_number: int, **extra) -> int:
    url = f"{PLAN}/actions/{action_number}/progress"
    data = {
        "date": ["3", "2", "2026"],
        "narrative": "We met the ward councilors.",
        "status": "on-target",
        "csrf_token": csrf_token(client, url),
        "evidence": (io.BytesIO(b"minutes of the meeting"), "minutes.txt"),
    } | extra
    response = client.post(url, data=data, content_type="multipart/form-data")
    assert response.status_code == 302
    page = client.get(f"{PLAN}/actions/{action_number}").get_data(as_text=True)
    return int(re.findall(r"/progress/(\d+)/correct", page)[0])


def _current(app, action_id: int) -> list[ProgressUpdate]:
    with app.app_context(), tenant_scope(tenant("maidstone")):
        action = database.session.get(Action, action_id)
        rows = database.session.scalars(services.progress_updates(action)).all()
        return [(u.narrative, u.status, u.evidence_name, u.number) for u in rows]


def test_the_author_corrects_an_update_and_the_history_keeps_the_earlier_one(app, client, login_as):
    number, action_id = _action(app)
    login_as("officer", "maidstone")
    update_number = _add(client, number)
    url = f"{PLAN}/progress/{update_number}/correct"
    form = client.get(url).get_data(as_text=True)
    assert "We met the ward councilors." in form and "minutes.txt" in form
    base = {
        "date": ["3", "2", "2026"],
        "narrative": "We met the ward councillors.",
        "status": "complete",
        "csrf_token": csrf_token(client, url),
    }
    missing = client.post(url, data=base, content_type="multipart/form-data")
    assert "Say why the update is being corrected" in missing.get_data(as_text=True)
    response = client.post(
        url, data={**base, "reason": "Spelling"}, content_type="multipart/form-data"
    )
    assert response.status_code == 302
    current = _current(app, action_id)
    assert [c[:3] for c in current] == [("We met the ward councillors.", "complete", "minutes.txt")]
    with app.app_context(), tenant_scope(tenant("maidstone")):
        assert database.session.get(Action, action_id).status == "complete"
        earlier = by_number(ProgressUpdate, update_number)
        assert earlier.narrative == "We met the ward councilors." and earlier.superseded_at
        new = by_number(ProgressUpdate, current[0][3])
        # The evidence file is kept with the correction, and the earlier one keeps its own.
        assert services.evidence_content(new) == services.evidence_content(earlier)
        assert services.evidence_content(earlier) == b"minutes of the meeting"
    history = client.get(f"{PLAN}/progress/{current[0][3]}/history").get_data(as_text=True)
    assert "We met the ward councilors." in history and "We met the ward councillors." in history
    assert "Spelling" in history and "replaced by a correction" in history
    event = audit_events(app, action="progress.corrected")[-1]
    assert event.detail["reason"] == "Spelling"
    assert set(event.detail["changed"]) == {"narrative", "status"}
    # The earlier version can no longer be corrected: its history is shown instead.
    again = client.get(url)
    assert again.status_code == 302 and "/history" in again.headers["Location"]


def test_the_author_withdraws_an_update(app, client, login_as):
    number, action_id = _action(app)
    login_as("officer", "maidstone")
    update_number = _add(client, number, narrative="Posted to the wrong action")
    url = f"{PLAN}/progress/{update_number}/withdraw"
    assert "Withdraw the update of" in client.get(url).get_data(as_text=True)
    blank = client.post(url, data={"csrf_token": csrf_token(client, url), "reason": " "})
    assert "Say why the update is being withdrawn" in blank.get_data(as_text=True)
    response = client.post(
        url, data={"csrf_token": csrf_token(client, url), "reason": "Wrong action"}
    )
    assert response.status_code == 302
    assert _current(app, action_id) == []
    page = client.get(f"{PLAN}/actions/{number}").get_data(as_text=True)
    assert "Withdrawn by their authors" in page
    history = client.get(f"{PLAN}/progress/{update_number}/history").get_data(as_text=True)
    assert "Posted to the wrong action" in history and "Wrong action" in history
    assert "minutes.txt" in history
    assert audit_events(app, action="progress.withdrawn")[-1].detail["reason"] == "Wrong action"
    rows = client.get(f"{PLAN}/actions/{number}/progress/export?format=csv").get_data(as_text=True)
    assert "Posted to the wrong action" not in rows


def test_only_the_author_may_correct_or_withdraw(app, client, auth, login_as):
    number, action_id = _action(app)
    with app.app_context(), tenant_scope(tenant("maidstone")):
        from portal.auth.models import TenantGrant
        from tests.helpers import user

        colleague = user("admin@maidstone.demo")
        database.session.add(
            TenantGrant(user=colleague, tenant=tenant("maidstone"), role="officer")
        )
        database.session.commit()
    login_as("officer", "maidstone")
    update_number = _add(client, number)
    auth.logout()
    login_as("admin", "maidstone")
    page = client.get(f"{PLAN}/actions/{number}").get_data(as_text=True)
    assert f"/progress/{update_number}/correct" not in page
    url = f"{PLAN}/progress/{update_number}/correct"
    response = client.post(
        url,
        data={
            "date": ["3", "2", "2026"],
            "narrative": "Not mine to change",
            "status": "complete",
            "reason": "x",
            "csrf_token": csrf_token(client, f"{PLAN}/actions/{number}"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302 and "/history" in response.headers["Location"]
    withdraw = f"{PLAN}/progress/{update_number}/withdraw"
    client.post(withdraw, data={"csrf_token": csrf_token(client, f"{PLAN}/"), "reason": "x"})
    assert [c[0] for c in _current(app, action_id)] == ["We met the ward councilors."]
    with app.app_context(), tenant_scope(tenant("maidstone")):
        assert not database.session.scalars(
            select(ProgressUpdate.id).where(ProgressUpdate.replaces_id.is_not(None))
        ).all()
