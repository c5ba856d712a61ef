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


# --- fixed costs that are paid once, not on every request --------------------------------


@contextmanager
def rendered(app):
    from flask import template_rendered

    names: list[str] = []

    def note(sender, template, context, **extra):
        names.append(template.name)

    template_rendered.connect(note, app)
    try:
        yield names
    finally:
        template_rendered.disconnect(note, app)


def test_a_kept_home_view_draws_nothing(app, login_as, client):
    login_as("officer", "sevenoaks")
    with rendered(app) as first:
        page = client.get("/t/sevenoaks/").get_data(as_text=True)
    assert first == ["home/_dashboard.html", "home/tenant_home.html"]
    with rendered(app) as second:
        again = client.get("/t/sevenoaks/").get_data(as_text=True)
    assert second == []
    # The same page, but for what each request carries of its own.
    token = re.compile(r'(nonce|value)="[^"]*"')
    assert token.sub("", again) == token.sub("", page)


def test_the_session_cookie_is_not_written_again_on_every_page(app, login_as, client):
    login_as("officer", "sevenoaks")
    client.get("/t/sevenoaks/")
    response = client.get("/t/sevenoaks/plan/commitments")
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers


def test_template_globals_added_after_a_template_is_loaded_are_still_seen(app):
    with app.test_request_context("/"):
        template = app.jinja_env.from_string(
            '{% from "_chart.html" import scroll_table %}{{ late_global }}'
        )
        app.jinja_env.globals["late_global"] = "seen"
        try:
            assert template.render() == "seen"
        finally:
            del app.jinja_env.globals["late_global"]


def test_the_tables_a_statement_touches_are_worked_out_once_per_shape():
    from sqlalchemy import select

    from portal import tenancy
    from portal.actions.models import Action
    from portal.auth.models import User

    first = tenancy._tables_touched(select(Action).where(Action.id == 1))
    again = tenancy._tables_touched(select(Action).where(Action.id == 2))
    assert first is again and "action" in first
    other = tenancy._tables_touched(select(User).join(User.tenant_grants))
    assert "action" not in other and {"user", "tenant_grant"} <= other


def test_a_kept_home_view_reads_the_session_and_writes_one_audit_event(app, login_as, client):
    login_as("officer", "sevenoaks")
    client.get("/t/sevenoaks/")
    with counted(app) as statements:
        assert client.get("/t/sevenoaks/").status_code == 200
    # PostgreSQL's chain lock and the id taken from the sequence read no table.
    locks = ("pg_advisory_xact_lock", "nextval(")
    reads = [
        s
        for s in statements
        if s.lstrip().upper().startswith("SELECT") and not any(lock in s for lock in locks)
    ]
    inserts = [s for s in statements if s.lstrip().upper().startswith("INSERT")]
    assert "user_session" in reads[0]
    # The head of the organisation's audit chain, then the event: nothing else is read.
    assert len(reads) == 2 and "audit_event" in reads[1], statements
    assert len(inserts) == 1 and "audit_event" in inserts[0], statements


def test_a_menu_drawn_once_is_kept_by_every_field_it_shows(app):
    from portal.templating import service_navigation

    link = {"text": "Home", "href": "/t/sevenoaks/", "current": True, "active": True}
    menu = {"serviceName": "Sevenoaks", "serviceUrl": "/t/sevenoaks/", "navigation": [link]}
    with app.test_request_context("/t/sevenoaks/"):
        first = service_navigation({**menu, "navigationLabel": "Pages for Sevenoaks"})
        again = service_navigation({**menu, "navigationLabel": "Pages for Sevenoaks"})
        other = service_navigation({**menu, "navigationLabel": "Pages for Thanet"})
        elsewhere = {**link, "current": False, "active": False}
        moved = service_navigation(
            {**menu, "navigation": [elsewhere], "navigationLabel": "Pages for Sevenoaks"}
        )
        marked_up = {**link, "html": "<strong>Home</strong>"}
        styled = service_navigation(
            {**menu, "navigation": [marked_up], "navigationLabel": "Pages for Sevenoaks"}
        )
    assert again is first and 'aria-current="page"' in first
    assert "Pages for Thanet" in other and "Pages for Thanet" not in first
    assert 'aria-current="page"' not in moved
    assert "<strong>Home</strong>" in styled and "<strong>" not in first


def test_a_stencil_cuts_a_page_at_its_requests_nonce_and_token_only(app):
    from flask_wtf.csrf import generate_csrf

    from portal.security import csp_nonce
    from portal.templating import Stencil

    with app.test_request_context("/"):
        nonce, token = csp_nonce(), generate_csrf()
        page = (
            f'<script nonce="{nonce}"></script><input name="csrf_token" value="{token}">'
            f'<style nonce="{nonce}"></style><p>{nonce[:-1]} nonce csrf</p>'
        )
        stencil = Stencil.cut(page)
        assert stencil.parts[1::2] == ("nonce", "csrf", "nonce")
        assert not any(nonce in part or token in part for part in stencil.parts)
        assert stencil.fill() == page
    with app.test_request_context("/"):
        other_nonce, other_token = csp_nonce(), generate_csrf()
        assert stencil.fill() == page.replace(nonce, other_nonce).replace(token, other_token)
    with app.test_request_context("/"):
        # A page with no form has no token to cut, and asks for none when filled.
        plain = Stencil.cut(f'<script nonce="{csp_nonce()}"></script>')
        assert plain.parts[1::2] == ("nonce",)
    with app.test_request_context("/"):
        from flask import g

        plain.fill()
        assert "csrf_token" not in g
