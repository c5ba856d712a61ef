"""Views are recorded behind the request (portal/audit.py ViewWriter): every view is in
its organisation's trail, with the moment and person of the view, in the order seen; a
page that only reads writes nothing while it answers; a trail the database refuses is
tried again whole, never left half-written."""

from __future__ import annotations

import logging
import time

import pytest
from sqlalchemy.exc import OperationalError

from portal import audit, clock
from portal.extensions import db
from tests.helpers import audit_events, tenant, user
from tests.test_dashboard_queries import _counting

VIEWED = "incident.statistics_viewed"


def _writer(app) -> audit.ViewWriter:
    return app.extensions[audit._VIEW_WRITER]


def _chain_intact(app) -> None:
    with app.app_context():
        _, breaks = audit.verify()
        db.session.remove()
    assert breaks == []


@pytest.fixture
def behind(app):
    """Views written behind the request, by a writer that waits long enough for each
    test to say when it writes."""
    app.config["AUDIT_VIEWS_DELAY"] = 600
    yield app
    # Before the test's database goes: nothing is left for the writer at exit.
    if audit._VIEW_WRITER in app.extensions:
        _writer(app).flush()


def test_a_view_is_written_behind_the_request_with_its_own_moment_and_person(
    behind, client, login_as
):
    login_as("viewer", "sevenoaks")
    before = clock.utcnow()
    assert client.get("/t/sevenoaks/").status_code == 200
    after = clock.utcnow()
    assert audit_events(behind, action=VIEWED) == []
    assert _writer(behind).waiting == 1

    assert _writer(behind).flush() == 0

    [event] = audit_events(behind, action=VIEWED)
    with behind.app_context():
        assert event.tenant_id == tenant("sevenoaks").id
        assert event.user_id == user("viewer@sevenoaks.demo").id
    assert event.actor_email == "viewer@sevenoaks.demo"
    assert event.address == "127.0.0.1"
    assert event.detail == {"year": event.detail["year"], "exact": False}
    assert before <= event.at <= after  # when it was seen, not when it was written
    assert _writer(behind).waiting == 0
    _chain_intact(behind)


def test_a_kept_home_page_writes_nothing_while_it_answers(behind, client, login_as):
    login_as("viewer", "sevenoaks")
    assert client.get("/t/sevenoaks/").status_code == 200
    with behind.app_context():
        engine = db.engine
    with _counting(engine) as statements:
        assert client.get("/t/sevenoaks/").status_code == 200
    writes = [s for s in statements if s.lstrip().upper().startswith(("INSERT", "UPDATE"))]
    assert writes == []
    assert len(statements) <= 2, statements  # the session, and nothing of the dashboard
    assert _writer(behind).flush() == 0
    assert len(audit_events(behind, action=VIEWED)) == 2


def test_views_in_several_trails_keep_their_order_in_each(behind, client, auth):
    for email, slug in [
        ("viewer@sevenoaks.demo", "sevenoaks"),
        ("caseworker@sevenoaks.demo", "sevenoaks"),
        ("caseworker@tunbridge-wells.demo", "tunbridge-wells"),
        ("viewer@sevenoaks.demo", "sevenoaks"),
    ]:
        auth.login(email)
        assert client.get(f"/t/{slug}/incidents/statistics").status_code == 200
        auth.logout()
    assert _writer(behind).waiting == 4

    assert _writer(behind).flush() == 0

    events = audit_events(behind, action=VIEWED)
    with behind.app_context():
        sevenoaks = tenant("sevenoaks").id
    ours = sorted((e for e in events if e.tenant_id == sevenoaks), key=lambda e: e.seq)
    assert [(e.actor_email, e.detail["exact"]) for e in ours] == [
        ("viewer@sevenoaks.demo", False),
        ("caseworker@sevenoaks.demo", True),
        ("viewer@sevenoaks.demo", False),
    ]
    [theirs] = [e for e in events if e.tenant_id != sevenoaks]
    assert theirs.actor_email == "caseworker@tunbridge-wells.demo"
    _chain_intact(behind)


def test_a_trail_the_database_refuses_is_kept_whole_and_written_next_time(
    behind, client, login_as, monkeypatch
):
    login_as("viewer", "sevenoaks")
    client.get("/t/sevenoaks/incidents/statistics")
    client.get("/t/sevenoaks/")
    write = audit._write
    calls = []

    def second_fails(session, event_row):
        calls.append(event_row)
        if len(calls) == 2:
            raise OperationalError("INSERT", {}, Exception("database is locked"))
        write(session, event_row)

    monkeypatch.setattr(audit, "_write", second_fails)
    assert _writer(behind).flush() == 2
    # The first of the two was written in the same transaction: it went back too.
    assert audit_events(behind, action=VIEWED) == []
    monkeypatch.setattr(audit, "_write", write)

    assert _writer(behind).flush() == 0
    assert len(audit_events(behind, action=VIEWED)) == 2
    _chain_intact(behind)


def test_a_view_never_taken_is_written_to_the_log_in_full(
    behind, client, login_as, monkeypatch, caplog
):
    login_as("viewer", "sevenoaks")
    client.get("/t/sevenoaks/incidents/statistics")

    def refused(session, event_row):
        raise OperationalError("INSERT", {}, Exception("database is locked"))

    monkeypatch.setattr(audit, "_write", refused)
    with caplog.at_level(logging.WARNING, logger="portal.audit"):
        for _ in range(audit.VIEW_ATTEMPTS - 1):
            assert _writer(behind).flush() == 1
        assert _writer(behind).flush() == 0
    [given_up] = [r for r in caplog.records if r.levelno == logging.ERROR]
    message = given_up.getMessage()
    assert "viewer@sevenoaks.demo" in message and VIEWED in message
    assert _writer(behind).waiting == 0


def test_the_writer_writes_on_its_own_soon_after_the_views(app, client, login_as):
    app.config["AUDIT_VIEWS_DELAY"] = 0.05
    login_as("viewer", "sevenoaks")
    client.get("/t/sevenoaks/")
    client.get("/t/sevenoaks/")
    deadline = time.monotonic() + 30
    while len(audit_events(app, action=VIEWED)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(audit_events(app, action=VIEWED)) == 2
    assert _writer(app).waiting == 0
    _chain_intact(app)
