"""The signed-in person and the URL's organisation, read with the session as plain rows
(portal/auth/principal.py): the same answers as the ORM rows, which a page gets when it
asks for more."""

from __future__ import annotations

from flask import g
from flask_login import login_user

from portal.auth.models import User
from portal.auth.principal import Place, Principal
from portal.extensions import db
from portal.partners.models import Tenant
from portal.tenancy import current_tenant_id, tenant_scope
from tests.helpers import tenant, user
from tests.test_dashboard_queries import _counting


def test_a_kept_home_page_reads_the_session_and_nothing_else(app, client, login_as):
    app.config["AUDIT_VIEWS_DELAY"] = 600  # its view is written behind it
    login_as("officer", "sevenoaks")
    assert client.get("/t/sevenoaks/").status_code == 200
    with app.app_context():
        engine = db.engine
    with _counting(engine) as statements:
        assert client.get("/t/sevenoaks/").status_code == 200
    [session] = statements
    assert "FROM user_session" in session and "JOIN tenant_grant" in session
    app.extensions["portal.audit.views"].flush()


def test_the_person_and_the_organisation_answer_as_their_rows(app, client, login_as):
    from portal.access import _pull_tenant
    from portal.auth import services

    login_as("officer", "sevenoaks")
    with client.session_transaction() as session:
        token = session["_user_id"]
    # A request's scope is set and restored by the request's own hooks, which a bare
    # request context does not run: tenant_scope restores it here.
    with app.test_request_context("/t/sevenoaks/"), tenant_scope(None):
        person = services.load_session(token)
        login_user(person)
        _pull_tenant("home.tenant_home", {"tenant_slug": "sevenoaks"})
        place = g.place
        assert isinstance(person, Principal) and isinstance(place, Place)
        row = user("officer@sevenoaks.demo")
        assert (person.id, person.email, person.name) == (row.id, row.email, row.name)
        assert person.record is db.session.get(User, row.id)
        assert person.roles_in(place) == row.roles_in(row.tenant_for("sevenoaks")) == {"officer"}
        assert person.places() == row.places()  # what it does not hold, from the row
        # The organisation's ORM row, the first time it is asked for, equal to the place.
        assert "tenant" in g and "tenant" not in g.__dict__
        assert isinstance(g.tenant, Tenant) and g.tenant == place and place == g.tenant
        assert place.partnership_ids == {p.id for p in g.tenant.partnerships}
        assert place.data_version == tenant("sevenoaks").data_version
    assert current_tenant_id() is None


def test_a_suspended_grant_gives_no_role_and_the_organisation_is_not_found(app, client, login_as):
    from portal import clock

    with app.app_context():
        officer = user("officer@sevenoaks.demo")
        officer.grant_in(tenant("sevenoaks"), "officer").suspended_at = clock.utcnow()
        db.session.commit()
    login_as("officer", "sevenoaks")
    assert client.get("/t/sevenoaks/").status_code == 404
    assert client.get("/t/tunbridge-wells/").status_code == 404  # never held
