"""What every signed-in page pays before it starts: one query for the session, the user,
their grants and their organisations. Counted, never timed (`make bench` times pages)."""

from __future__ import annotations

import re
from contextlib import contextmanager

from sqlalchemy import event

from portal.extensions import db


@contextmanager
def counted(app):
    statements: list[str] = []

    def note(conn, cursor, statement, *args):
        # PostgreSQL's row-level security settings travel with each transaction; they are
        # the walls, not the page's work.
        if "set_config(" not in statement:
            statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", note)


def test_a_signed_in_404_costs_one_query(app, login_as, client):
    login_as("officer", "sevenoaks")
    client.get("/t/sevenoaks/")  # the session's once-a-minute touch is not what is counted
    with counted(app) as statements:
        assert client.get("/t/sevenoaks/nowhere").status_code == 404
    assert len(statements) == 1, statements


def test_another_organisations_address_is_a_404_without_asking_the_database(app, login_as, client):
    login_as("officer", "sevenoaks")
    client.get("/t/sevenoaks/")
    with counted(app) as statements:
        assert client.get("/t/tunbridge-wells/plan/commitments").status_code == 404
    assert len(statements) == 1, statements
    assert "tenant_grant" in statements[0]


def test_a_tenant_page_adds_only_its_own_queries(app, login_as, client):
    login_as("officer", "sevenoaks")
    client.get("/t/sevenoaks/")
    with counted(app) as statements:
        assert client.get("/t/sevenoaks/plan/commitments").status_code == 200
    # The session with its user, grants and organisations; then the page's own rows.
    assert "user_session" in statements[0] and "tenant_grant" in statements[0]
    assert not any(re.search(r"FROM tenant\s+WHERE tenant\.slug", s) for s in statements)
    assert len(statements) <= 3, statements


def test_a_suspended_access_is_still_a_404(app, login_as, client):
    from portal import clock
    from tests.helpers import user

    login_as("officer", "sevenoaks")
    with app.app_context():
        officer = user("officer@sevenoaks.demo")
        for grant in officer.tenant_grants:
            grant.suspended_at = clock.utcnow()
        db.session.commit()
    assert client.get("/t/sevenoaks/plan/commitments").status_code == 404
