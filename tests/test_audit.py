"""The audit trail: events stay in the tenant in scope, the chain shows tampering, and
both trail pages name people and can be filtered."""

from __future__ import annotations

import json
import re
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, event, text
from sqlalchemy.pool import NullPool

from portal import audit, clock
from portal.extensions import db
from portal.tenancy import CrossTenantWrite, across_tenants, tenant_scope
from tests.conftest import POSTGRES_URL, AuthActions
from tests.helpers import audit_events, csrf_token, tenant, user

TENANT_ROLES = ("officer", "caseworker", "viewer", "admin", "ceo")


# --- helpers -----------------------------------------------------------------------------


def _owner(app):
    url = app.config.get("MIGRATION_DATABASE_URI") or app.config["SQLALCHEMY_DATABASE_URI"]
    return create_engine(url, poolclass=NullPool)


def as_owner(app, *statements, params=None):
    """Run statements as the schema owner, with the append-only triggers out of the way
    (as an owner bent on rewriting the trail could do)."""
    engine = _owner(app)
    try:
        with engine.begin() as conn:
            postgres = conn.dialect.name == "postgresql"
            if postgres:
                conn.execute(
                    text("ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only")
                )
            else:
                conn.execute(text("DROP TRIGGER IF EXISTS audit_event_no_update"))
                conn.execute(text("DROP TRIGGER IF EXISTS audit_event_no_delete"))
            for statement in statements:
                conn.execute(text(statement), params or {})
            if postgres:
                conn.execute(text("ALTER TABLE audit_event ENABLE TRIGGER audit_event_append_only"))
    finally:
        engine.dispose()


def record_some(app, slug="sevenoaks", count=3, action="tenant.updated"):
    """Write ``count`` events into a tenant's trail; returns the tenant's id."""
    with app.app_context():
        t = tenant(slug)
        with tenant_scope(t):
            for n in range(count):
                audit.record(action, t, detail={"n": n})
            db.session.commit()
        tenant_id = t.id
        db.session.remove()
    return tenant_id


def table(client, url) -> str:
    """The trail's table on a page (the filters' options name every action too)."""
    page = client.get(url).get_data(as_text=True)
    return page[page.index("<table") :]


def verify(app, checkpoint=None):
    with app.app_context():
        states, breaks = audit.verify(checkpoint)
        db.session.remove()
    return states, breaks


def run_verify(app, *args):
    return app.test_cli_runner().invoke(args=["audit", "verify", *args])


def sevenoaks_events(app):
    with app.app_context():
        tenant_id = tenant("sevenoaks").id
    return tenant_id, audit_events(app, tenant_id=tenant_id)


# --- events carry the tenant in scope ------------------------------------------------------


def test_an_event_for_another_tenant_is_refused_while_a_tenant_is_in_scope(ctx):
    thanet = tenant("thanet")
    with tenant_scope(tenant("sevenoaks")):
        with pytest.raises(CrossTenantWrite):
            audit.record("tenant.updated", tenant_id=thanet.id)


def test_portal_level_code_writes_an_organisations_event_under_its_own_scope(app):
    with app.app_context():
        thanet = tenant("thanet")
        event_row = audit.record("tenant.updated", thanet, tenant_id=thanet.id)
        event_id, thanet_id = event_row.id, thanet.id
        db.session.commit()
        db.session.remove()
    (row,) = audit_events(app, id=event_id)
    assert row.tenant_id == thanet_id
    assert verify(app)[1] == []


def test_across_tenants_records_the_read_in_each_trail_under_its_own_scope(app):
    with app.app_context():
        members = [tenant("sevenoaks"), tenant("thanet")]
        ids = {t.id for t in members}
        for _ in across_tenants(members, purpose="a test"):
            pass
        db.session.remove()
    reads = audit_events(app, action="cross_tenant.read")
    assert {e.tenant_id for e in reads} == ids
    assert verify(app)[1] == []


# --- the chain -------------------------------------------------------------------------------


def test_each_tenants_events_form_a_chain(app):
    tenant_id = record_some(app, count=3)
    events = audit_events(app, tenant_id=tenant_id)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert events[0].prev_hash == audit.GENESIS
    for before, after in zip(events, events[1:], strict=False):
        assert after.prev_hash == before.hash
    states, breaks = verify(app)
    assert breaks == []
    assert any(s.count == len(events) for s in states)


def test_an_event_is_written_at_once_and_shares_its_transactions_fate(app):
    with app.app_context():
        sevenoaks = tenant("sevenoaks")
        with tenant_scope(sevenoaks):
            sevenoaks.alternative_formats = "Call 01732 227000"
            event_row = audit.record("tenant.updated", sevenoaks, detail={"field": "contact"})
            # Written in the transaction, without flushing the caller's own change.
            assert event_row.id is not None and event_row.hash
            assert sevenoaks in db.session.dirty and event_row not in db.session
            db.session.rollback()
        db.session.remove()
    assert audit_events(app, id=event_row.id) == []
    assert verify(app)[1] == []


def test_an_event_that_cannot_be_written_undoes_its_transaction(app, monkeypatch):
    def broken(values):
        raise RuntimeError("the event could not be written")

    with app.app_context():
        sevenoaks = tenant("sevenoaks")
        before = sevenoaks.alternative_formats
        with tenant_scope(sevenoaks):
            sevenoaks.alternative_formats = "Call 01732 227000"
            monkeypatch.setattr(audit, "event_hash", broken)
            with pytest.raises(RuntimeError):
                audit.record("tenant.updated", sevenoaks)
            # A caller that goes on to commit saves nothing without its event.
            db.session.commit()
        db.session.remove()
        assert tenant("sevenoaks").alternative_formats == before


def test_verify_command_passes_on_an_untouched_trail(app):
    record_some(app)
    result = run_verify(app)
    assert result.exit_code == 0, result.output
    assert "The audit trail holds" in result.output
    assert "sevenoaks's trail" in result.output


def test_a_changed_event_is_reported_with_its_id_and_tenant(app):
    record_some(app)
    tenant_id, events = sevenoaks_events(app)
    target = events[1]
    as_owner(
        app,
        "UPDATE audit_event SET actor_email = 'nobody@example.org' WHERE id = :id",
        params={"id": target.id},
    )
    result = run_verify(app)
    assert result.exit_code == 1
    assert f"sevenoaks's trail: event {target.id} (position {target.seq})" in result.output
    assert "do not match its hash" in result.output


def test_a_change_with_every_later_hash_recomputed_is_caught_by_the_checkpoint(app, tmp_path):
    record_some(app)
    checkpoint = tmp_path / "audit-checkpoint.json"
    assert run_verify(app, "--checkpoint", str(checkpoint)).exit_code == 0
    saved = json.loads(checkpoint.read_text())
    tenant_id, events = sevenoaks_events(app)
    assert saved["chains"][f"tenant:{tenant_id}"]["count"] == len(events)
    # Rewrite the newest event and give it a fresh, self-consistent hash.
    last = events[-1]
    values = {name: getattr(last, name) for name in audit.HASHED_FIELDS}
    values["action"] = "auth.logout"
    as_owner(
        app,
        "UPDATE audit_event SET action = 'auth.logout', hash = :h WHERE id = :id",
        params={"h": audit.event_hash(values), "id": last.id},
    )
    assert verify(app)[1] == [], "without the checkpoint, a rewritten head is consistent"
    result = run_verify(app, "--checkpoint", str(checkpoint))
    assert result.exit_code == 1
    assert f"the event at position {last.seq} is not the one in the checkpoint" in result.output
    assert json.loads(checkpoint.read_text()) == saved, "a failed check keeps the checkpoint"


def test_a_deleted_event_is_reported(app):
    record_some(app)
    tenant_id, events = sevenoaks_events(app)
    gone = events[1]
    as_owner(app, "DELETE FROM audit_event WHERE id = :id", params={"id": gone.id})
    states, breaks = verify(app)
    assert [(b.chain, b.event_id) for b in breaks] == [("sevenoaks's trail", events[2].id)]
    assert f"position {gone.seq} is missing" in breaks[0].reason
    assert run_verify(app).exit_code == 1


def test_deleting_the_newest_events_is_caught_by_the_checkpoint(app, tmp_path):
    record_some(app)
    checkpoint = tmp_path / "checkpoint.json"
    assert run_verify(app, "--checkpoint", str(checkpoint)).exit_code == 0
    tenant_id, events = sevenoaks_events(app)
    as_owner(app, "DELETE FROM audit_event WHERE id = :id", params={"id": events[-1].id})
    result = run_verify(app, "--checkpoint", str(checkpoint))
    assert result.exit_code == 1
    assert f"holds {len(events) - 1} events but held {len(events)}" in result.output


def test_truncating_the_trail_is_caught_by_the_checkpoint(app, tmp_path):
    record_some(app)
    checkpoint = tmp_path / "checkpoint.json"
    assert run_verify(app, "--checkpoint", str(checkpoint)).exit_code == 0
    engine = _owner(app)
    try:
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # No trigger stops TRUNCATE: the owner may always do this.
                conn.execute(text("TRUNCATE audit_event"))
    finally:
        engine.dispose()
    if not POSTGRES_URL:
        as_owner(app, "DELETE FROM audit_event")
    assert verify(app)[1] == [], "an empty trail is consistent on its own"
    result = run_verify(app, "--checkpoint", str(checkpoint))
    assert result.exit_code == 1
    assert "(events were removed, for example by TRUNCATE)" in result.output
    assert "the portal's own trail" in result.output


def test_new_events_after_a_checkpoint_pass(app, tmp_path):
    checkpoint = tmp_path / "checkpoint.json"
    assert run_verify(app, "--checkpoint", str(checkpoint)).exit_code == 0
    record_some(app)
    result = run_verify(app, "--checkpoint", str(checkpoint))
    assert result.exit_code == 0, result.output


def test_an_unreadable_checkpoint_is_an_error_not_a_pass(app, tmp_path):
    checkpoint = tmp_path / "checkpoint.json"
    checkpoint.write_text("not json")
    result = run_verify(app, "--checkpoint", str(checkpoint))
    assert result.exit_code != 0
    assert "cannot read the checkpoint" in result.output


@pytest.mark.postgres
@pytest.mark.skipif(not POSTGRES_URL, reason="needs TEST_DATABASE_URL (PostgreSQL)")
def test_two_writers_of_one_tenant_do_not_fork_its_chain(app):
    errors = []
    start = threading.Barrier(2)

    def write(n):
        try:
            with app.app_context():
                t = tenant("sevenoaks")
                with tenant_scope(t):
                    start.wait(timeout=10)
                    for i in range(3):
                        audit.record("tenant.updated", t, detail={"writer": n, "i": i})
                        # Hold the transaction open so that the writers overlap.
                        time.sleep(0.05)
                    db.session.commit()
                db.session.remove()
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    tenant_id, events = sevenoaks_events(app)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert len([e for e in events if e.detail.get("writer") is not None]) == 6
    assert verify(app)[1] == []


# --- the tenant's trail page ---------------------------------------------------------------


def _give_viewer_ceo(client, app):
    with app.app_context():
        viewer = user("viewer@sevenoaks.demo")
        viewer_id, viewer_name = viewer.id, viewer.name
    token = csrf_token(client, f"/t/sevenoaks/admin/people/{viewer_id}")
    response = client.post(
        f"/t/sevenoaks/admin/people/{viewer_id}",
        data={"roles": ["viewer", "ceo"], "confirmed": "yes", "csrf_token": token},
    )
    assert response.status_code == 302
    return viewer_id, viewer_name


def test_the_trail_names_the_actor_and_the_subject(login_as, client, app):
    login_as("admin", "sevenoaks")
    viewer_id, viewer_name = _give_viewer_ceo(client, app)
    with app.app_context():
        admin_name = user("admin@sevenoaks.demo").name
    page = table(client, "/t/sevenoaks/admin/audit")
    assert "Role granted" in page
    assert f"{admin_name} (admin@sevenoaks.demo)" in page
    assert viewer_name in page
    assert f"User {viewer_id}" not in page
    assert "Role: ceo" in page


def test_the_trail_filters_by_person_action_and_date(login_as, client, app):
    login_as("admin", "sevenoaks")
    viewer_id, viewer_name = _give_viewer_ceo(client, app)
    record_some(app, count=2, action="tenant.updated")
    base = "/t/sevenoaks/admin/audit"

    page = table(client, f"{base}?person={viewer_id}")
    assert "Role granted" in page and "Organisation updated" not in page

    page = table(client, f"{base}?action=tenant.updated")
    assert "Organisation updated" in page and "Role granted" not in page
    assert "2 events match" in client.get(f"{base}?action=tenant.updated").get_data(as_text=True)

    today = clock.utcnow().date()
    tomorrow = today + timedelta(days=1)
    day = f"since={today.day}&since={today.month}&since={today.year}"
    assert "Role granted" in table(client, f"{base}?{day}")
    later = f"since={tomorrow.day}&since={tomorrow.month}&since={tomorrow.year}"
    page = table(client, f"{base}?{later}")
    assert "No events match these filters" in page and "Role granted" not in page
    until = f"until={today.day}&until={today.month}&until={today.year}"
    assert "Role granted" in table(client, f"{base}?{until}")


def test_bad_filters_get_a_message_not_a_500(login_as, client):
    login_as("admin", "sevenoaks")
    base = "/t/sevenoaks/admin/audit"
    response = client.get(f"{base}?since=31&since=2&since=2026")
    assert response.status_code == 200
    assert "The start date must be a real date" in response.get_data(as_text=True)
    page = client.get(f"{base}?person=999999&action=nonsense").get_data(as_text=True)
    assert "Choose person from the list" in page
    assert "Choose what happened from the list" in page
    page = client.get(f"{base}?since=2&since=2&since=2026&until=1&until=2&until=2026")
    page = page.get_data(as_text=True)
    assert "The end date must be the same as or after the start date" in page


def test_pagination_keeps_the_filters(login_as, client, app):
    login_as("admin", "sevenoaks")
    record_some(app, count=app.config["PAGE_SIZE"] + 2, action="tenant.updated")
    today = clock.utcnow().date()
    query = f"action=tenant.updated&since={today.day}&since={today.month}&since={today.year}"
    page = table(client, f"/t/sevenoaks/admin/audit?{query}")
    links = re.findall(r'href="([^"]*page=2[^"]*)"', page)
    assert links
    link = links[0].replace("&amp;", "&")
    assert "action=tenant.updated" in link
    assert link.count("since=") == 3
    second = table(client, link)
    assert "Organisation updated" in second and "Role granted" not in second


def _statements_for(app, client, url) -> int:
    with app.app_context():
        engine = db.engine
    count = 0

    def counter(*args):
        nonlocal count
        count += 1

    event.listen(engine, "before_cursor_execute", counter)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", counter)
    return count


def test_the_names_are_loaded_without_a_query_per_row(login_as, client, app):
    login_as("admin", "sevenoaks")
    with app.app_context():
        people = [user(f"{r}@sevenoaks.demo") for r in TENANT_ROLES]
        t = tenant("sevenoaks")
        with tenant_scope(t):
            for person in people[:2]:
                audit.record("user.enabled", person, user=person)
            db.session.commit()
    few = _statements_for(app, client, "/t/sevenoaks/admin/audit")
    with app.app_context():
        people = [user(f"{r}@sevenoaks.demo") for r in TENANT_ROLES]
        with tenant_scope(tenant("sevenoaks")):
            for person in people * 3:
                audit.record("user.enabled", person, user=person)
            db.session.commit()
    many = _statements_for(app, client, "/t/sevenoaks/admin/audit")
    assert many == few


# --- the portal's own trail ----------------------------------------------------------------


def test_the_portal_administrator_sees_events_with_no_tenant(login_as, client, app):
    failed = app.test_client()
    AuthActions(failed).login("officer@thanet.demo", "wrong password")
    with app.app_context():
        officer = user("officer@thanet.demo")
    login_as("portal-admin")
    page = table(client, "/admin/audit")
    assert "Sign-in failed" in page
    assert f"{officer.name} (officer@thanet.demo)" in page
    assert "Reason: wrong password" in page
    assert f"User {officer.id}" not in page
    page = table(client, f"/admin/audit?action=auth.login_failed&person={officer.id}")
    assert "Sign-in failed" in page and "Signed in" not in page
    assert 'href="/admin/audit"' in client.get("/admin/").get_data(as_text=True)


def test_the_portal_trail_holds_no_tenants_events(login_as, client, app):
    login_as("admin", "sevenoaks")
    _give_viewer_ceo(client, app)
    admin = app.test_client()
    AuthActions(admin).login("admin@portal.demo")
    page = table(admin, "/admin/audit")
    assert "Sign-in" in page or "Signed in" in page
    assert "Role granted" not in page and "Role: ceo" not in page


@pytest.mark.parametrize("role", TENANT_ROLES)
def test_tenant_roles_cannot_reach_the_portal_trail(login_as, client, role):
    login_as(role, "sevenoaks")
    assert client.get("/admin/audit").status_code == 404


def test_the_portal_administrator_cannot_reach_a_tenants_trail(login_as, client):
    login_as("portal-admin")
    assert client.get("/t/sevenoaks/admin/audit").status_code == 404


@pytest.mark.parametrize("role", [r for r in TENANT_ROLES if r != "admin"])
def test_only_the_tenants_administrators_reach_its_trail(login_as, client, role):
    login_as(role, "sevenoaks")
    assert client.get("/t/sevenoaks/admin/audit").status_code in (403, 404)


def test_the_tenants_trail_is_only_its_own(login_as, client, app):
    record_some(app, slug="thanet", count=1, action="partnership.updated")
    login_as("admin", "sevenoaks")
    page = table(client, "/t/sevenoaks/admin/audit")
    assert "Partnership updated" not in page
    admin = app.test_client()
    AuthActions(admin).login("admin@thanet.demo")
    assert "Partnership updated" in table(admin, "/t/thanet/admin/audit")
