"""Pages do not query from their templates: the view asks the services for what the page
shows and passes it in, and the template only formats it.

Counted while each template renders: a statement run then is a lazy load or a query
hidden in a template, and it is one more on every request for that page.
"""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from flask import before_render_template, template_rendered
from sqlalchemy import event

from tests.conftest import AuthActions


@contextmanager
def _statements_while_rendering(app):
    from portal.extensions import db

    with app.app_context():
        engine = db.engine
    rendering = {"depth": 0}
    statements: list[str] = []

    def started(sender, template, context, **extra):
        rendering["depth"] += 1

    def finished(sender, template, context, **extra):
        rendering["depth"] -= 1

    def executed(conn, cursor, statement, parameters, context, executemany):
        if rendering["depth"] and "set_config(" not in statement:
            statements.append(statement)

    before_render_template.connect(started, app)
    template_rendered.connect(finished, app)
    event.listen(engine, "before_cursor_execute", executed)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", executed)
        before_render_template.disconnect(started, app)
        template_rendered.disconnect(finished, app)


@pytest.mark.parametrize(
    ("email", "path"),
    [
        ("officer@sevenoaks.demo", "/t/sevenoaks/"),
        ("caseworker@sevenoaks.demo", "/t/sevenoaks/"),
        ("officer@sevenoaks.demo", "/t/sevenoaks/monitoring/measures"),
        ("lead@west-kent.demo", "/p/west-kent/"),
        # The joint aims: a member's whole framework, one aim, and a lead's plan period.
        ("officer@sevenoaks.demo", "/t/sevenoaks/aims/"),
        ("officer@sevenoaks.demo", "/t/sevenoaks/aims/1"),
        ("lead@west-kent.demo", "/p/west-kent/aims/1"),
        # Viewing cases is written in the audit trail: not at the cost of reading them again.
        ("caseworker@sevenoaks.demo", "/t/sevenoaks/incidents/"),
        ("caseworker@sevenoaks.demo", "/t/sevenoaks/incidents/1"),
        ("caseworker@sevenoaks.demo", "/t/sevenoaks/incidents/1/edit"),
        ("officer@sevenoaks.demo", "/t/sevenoaks/monitoring/measures/1"),
        ("officer@sevenoaks.demo", "/t/sevenoaks/monitoring/measures/1/delete"),
        ("lead@west-kent.demo", "/p/west-kent/monitoring/measures"),
        ("officer@sevenoaks.demo", "/t/sevenoaks/plan/actions/1"),
        ("officer@sevenoaks.demo", "/t/sevenoaks/plan/actions/1/delete"),
        ("officer@sevenoaks.demo", "/t/sevenoaks/plan/objectives/1/delete"),
        ("admin@sevenoaks.demo", "/t/sevenoaks/admin/people"),
        ("lead@west-kent.demo", "/p/west-kent/reports/2024-25/report/"),
        # Read across members, in their trails: the page shows what was read.
        ("lead@west-kent.demo", "/p/west-kent/eqia/joint/2"),
        ("lead@west-kent.demo", "/p/west-kent/monitoring/joint-measures/13/delete"),
    ],
)
def test_a_page_reads_nothing_while_its_template_renders(app, email, path):
    client = app.test_client()
    assert AuthActions(client).login(email).status_code == 302
    assert client.get(path).status_code == 200  # the session is loaded once
    with _statements_while_rendering(app) as statements:
        response = client.get(path)
    assert response.status_code == 200
    assert "<h1" in response.get_data(as_text=True)
    assert statements == []


def test_the_check_sees_a_query_run_from_a_template(app):
    from flask import render_template_string

    from portal.extensions import db
    from portal.partners.models import Tenant

    with _statements_while_rendering(app) as statements, app.test_request_context("/"):
        render_template_string("{{ count() }}", count=lambda: db.session.query(Tenant).count())
    assert len(statements) == 1
