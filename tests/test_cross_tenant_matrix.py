"""The cross-tenant matrix: another tenant's object is a 404 on every route and method.

The matrix is built from ``app.url_map``. Every route whose URL names an object must be
either in the matrix (its arguments have a maker below) or in the commented allow-list;
a new route in neither fails :func:`test_every_object_route_is_covered`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from portal import clock
from portal.auth.models import TENANT_ROLES, TenantGrant, User
from portal.extensions import db
from portal.tenancy import tenant_scope
from tests.conftest import PASSWORD
from tests.helpers import csrf_token, tenant

SCOPE_ARGS = {"tenant_slug", "partnership_slug", "org_slug"}
SKIPPED_METHODS = {"HEAD", "OPTIONS"}

# Whose object is tried, and by whom, for each kind of route: an organisation's pages
# (/t/<tenant_slug>/), a partnership's (/p/<partnership_slug>/) and public pages
# (/public/<org_slug>/, no sign-in). Thanet and Kent Equality Network share nothing with
# Sevenoaks and West Kent.
VICTIM = {"tenant": "sevenoaks", "partnership": "west-kent", "public": "sevenoaks"}
ACTOR = {"tenant": "thanet", "partnership": "kent-network", "public": "thanet"}

# Routes whose arguments are not objects of a tenant, and why they stay out of the matrix.
ALLOW_LIST = {
    "static": "the portal's own stylesheet and scripts; no tenant data",
    "auth.reset_password": "a secret single-use token, not an object id (tests/test_auth.py)",
    "auth.accept_invitation": "a secret single-use token, not an object id (tests/test_auth.py)",
}


@dataclass
class ObjectMaker:
    """Makes (or finds) an object and reports its state, to see it unchanged afterwards.

    ``make(owner)`` gets the slug of the owner for the kind of route: the tenant for
    /t/ routes and /public/ routes (where it must make a *published* object), the
    partnership for /p/ routes. It returns the object's id.
    """

    make: Callable[[str], int]
    state: Callable[[str, int], object]


def _person(slug: str) -> int:
    return db.session.scalar(select(User.id).where(User.email == f"viewer@{slug}.demo"))


def _person_state(slug: str, user_id: int):
    user = db.session.get(User, user_id)
    return user.disabled_at, sorted((g.tenant_id, g.role) for g in user.tenant_grants)


def _commitment(slug: str) -> int:
    from portal.plans.models import Commitment

    with tenant_scope(tenant(slug)):
        now = clock.utcnow()
        row = Commitment(position=1, text=f"{slug} will", created_at=now, updated_at=now)
        db.session.add(row)
        db.session.commit()
        return row.id


def _commitment_state(slug: str, object_id: int):
    from portal.plans.models import Commitment

    with tenant_scope(tenant(slug)):
        row = db.session.get(Commitment, object_id)
        return row and (row.text, row.position, row.version)


OBJECTS = {
    "user_id": ObjectMaker(_person, _person_state),
    "commitment_id": ObjectMaker(_commitment, _commitment_state),
}

# Portal administration: the ids name organisations and partnerships themselves. A
# tenant's user (even its administrator) must get 404, as for any page they may not see.
PORTAL_ADMIN_ARGS = {"tenant_id", "partnership_id"}


def _rules():
    from portal import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x", "TESTING": True})
    return [r for r in app.url_map.iter_rules() if set(r.arguments) - SCOPE_ARGS]


RULES = _rules()


def kind_of(rule) -> str:
    if rule.endpoint.startswith("portal_admin."):
        return "admin"
    if "<partnership_slug>" in rule.rule:
        return "partnership"
    if "<org_slug>" in rule.rule:
        return "public"
    return "tenant"


def _cases(kinds: set[str]):
    for rule in RULES:
        if rule.endpoint in ALLOW_LIST or kind_of(rule) not in kinds:
            continue
        for method in sorted(rule.methods - SKIPPED_METHODS):
            yield pytest.param(rule.rule, kind_of(rule), method, id=f"{rule.endpoint}-{method}")


def test_every_object_route_is_covered():
    missing = []
    for rule in RULES:
        args = set(rule.arguments) - SCOPE_ARGS
        if rule.endpoint in ALLOW_LIST:
            continue
        if rule.endpoint.startswith("portal_admin."):
            unknown = args - PORTAL_ADMIN_ARGS
        else:
            unknown = args - set(OBJECTS)
        if unknown:
            missing.append(f"{rule.rule} ({rule.endpoint}): {sorted(unknown)}")
    assert not missing, "Routes missing from the cross-tenant matrix:\n" + "\n".join(missing)


@pytest.fixture
def actor(app):
    """A person holding every role in the actor tenant, signed in."""
    with app.app_context():
        from portal.auth.services import hash_password

        person = User(
            email="matrix@thanet.demo", name="Matrix", password_hash=hash_password(PASSWORD)
        )
        for role in TENANT_ROLES:
            person.tenant_grants.append(TenantGrant(tenant=tenant(ACTOR["tenant"]), role=role))
        db.session.add(person)
        db.session.commit()
    client = app.test_client()
    token = csrf_token(client, "/login")
    response = client.post(
        "/login", data={"email": "matrix@thanet.demo", "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
    return client, csrf_token(client, "/account")


def _url(template: str, slug: str, ids: dict) -> str:
    url = template
    for scope in SCOPE_ARGS:
        url = url.replace(f"<{scope}>", slug)
    for name, value in ids.items():
        url = url.replace(f"<int:{name}>", str(value)).replace(f"<{name}>", str(value))
    return url


@pytest.fixture
def lead(app):
    """The lead of the actor partnership, signed in."""
    client = app.test_client()
    token = csrf_token(client, "/login")
    response = client.post(
        "/login",
        data={
            "email": f"lead@{ACTOR['partnership']}.demo",
            "password": PASSWORD,
            "csrf_token": token,
        },
    )
    assert response.status_code == 302
    return client, csrf_token(client, "/account")


@pytest.mark.parametrize(
    ("rule", "kind", "method"), list(_cases({"tenant", "partnership", "public"}))
)
def test_another_tenants_object_is_not_found(app, actor, lead, rule, kind, method):
    client, token = {"tenant": actor, "partnership": lead, "public": (app.test_client(), "")}[kind]
    victim, own = VICTIM[kind], ACTOR[kind]
    args = [a for a in OBJECTS if f"<int:{a}>" in rule or f"<{a}>" in rule]
    with app.app_context():
        theirs = {a: OBJECTS[a].make(victim) for a in args}
        ours = {a: OBJECTS[a].make(own) for a in args}
        before = {a: OBJECTS[a].state(victim, theirs[a]) for a in args}
    data = {"csrf_token": token} if token else {}

    # Their object, under our own address: not found.
    response = client.open(_url(rule, own, theirs), method=method, data=data)
    assert response.status_code == 404, f"{method} {rule} with {victim}'s object"
    assert "Sevenoaks" not in response.get_data(as_text=True)
    if kind != "public":
        # Their object under their address: we hold no grant there, so not found either.
        response = client.open(_url(rule, victim, theirs), method=method, data=data)
        assert response.status_code == 404, f"{method} {rule} under {victim}'s address"
    with app.app_context():
        after = {a: OBJECTS[a].state(victim, theirs[a]) for a in args}
    assert after == before, "another tenant's object was changed"

    # Control: our own object at the same route is found, so the 404s above mean something.
    response = client.open(_url(rule, own, ours), method=method, data=data)
    assert response.status_code != 404, f"{method} {rule} with our own object"


@pytest.mark.parametrize(("rule", "endpoint", "method"), list(_cases("admin")))
def test_portal_administration_is_not_found_for_tenant_users(
    app, actor, login_as, rule, endpoint, method
):
    client, token = actor
    with app.app_context():
        ids = {"tenant_id": tenant(VICTIM["tenant"]).id}
        from portal.partners.models import Partnership

        ids["partnership_id"] = db.session.scalar(
            select(Partnership.id).where(Partnership.slug == "west-kent")
        )
    url = _url(rule, "", ids)
    response = client.open(url, method=method, data={"csrf_token": token})
    assert response.status_code == 404
    # Control: the portal administrator reaches it.
    admin = app.test_client()
    admin_token = csrf_token(admin, "/login")
    admin.post(
        "/login",
        data={"email": "admin@portal.demo", "password": PASSWORD, "csrf_token": admin_token},
    )
    assert admin.get(url).status_code == 200
