"""A canary in one organisation's records must never be seen from anywhere else.

Every narrative field of every Sevenoaks record is marked with a canary; then every page
that takes no object id (home pages, lists, registers, statistics, exports) is fetched
as people of other organisations, as another partnership's lead, as the portal
administrator and as a member of the public. The matrix test covers pages that name an
object; this covers the lists, filters and figures in between.
"""

from __future__ import annotations

import pytest
from sqlalchemy import Text, select

from portal.extensions import db
from portal.tenancy import TenantOwned, tenant_scope
from tests.conftest import PASSWORD
from tests.helpers import csrf_token, tenant

CANARY = "CANARY-7f3a9c"
SCOPES = {"tenant_slug": "thanet", "partnership_slug": "kent-network", "org_slug": "thanet"}


def _plant(app) -> int:
    """Add the canary to every long-text field of every Sevenoaks record."""
    planted = 0
    with app.app_context():
        models = [m.class_ for m in db.Model.registry.mappers if issubclass(m.class_, TenantOwned)]
        with tenant_scope(tenant("sevenoaks")):
            for model in models:
                columns = [c.key for c in model.__table__.columns if isinstance(c.type, Text)]
                if not columns:
                    continue
                for row in db.session.scalars(select(model)):
                    for key in columns:
                        setattr(row, key, f"{getattr(row, key) or ''} {CANARY}")
                        planted += 1
            db.session.commit()
    return planted


def _pages(app) -> list[str]:
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        if set(rule.arguments) - set(SCOPES):
            continue
        url = rule.rule
        for name, value in SCOPES.items():
            url = url.replace(f"<{name}>", value)
        urls.append(url)
        if "export" in rule.endpoint:
            urls += [f"{url}?format=csv", f"{url}?format=xlsx"]
    return sorted(set(urls))


def _client(app, email: str | None):
    client = app.test_client()
    if email:
        token = csrf_token(client, "/login")
        response = client.post(
            "/login", data={"email": email, "password": PASSWORD, "csrf_token": token}
        )
        assert response.status_code == 302, email
    return client


@pytest.mark.parametrize(
    "email",
    [
        "officer@thanet.demo",
        "caseworker@thanet.demo",
        "admin@thanet.demo",
        "lead@kent-network.demo",
        "admin@portal.demo",
        None,
    ],
    ids=["officer", "caseworker", "admin", "other-lead", "portal-admin", "public"],
)
def test_another_organisations_canary_is_never_shown(app, email):
    assert _plant(app) > 20
    client = _client(app, email)
    fetched = 0
    for url in _pages(app):
        if url in ("/logout",):
            continue
        response = client.get(url)
        assert response.status_code != 500, url
        body = response.get_data()
        assert CANARY.encode() not in body, f"{url} shows Sevenoaks's records to {email}"
        fetched += response.status_code == 200
    assert fetched > (5 if email is None else 10)


def test_the_canary_is_visible_at_home(app):
    """The control: Sevenoaks's own people do see it, so its absence elsewhere means something."""
    _plant(app)
    client = _client(app, "officer@sevenoaks.demo")
    seen = [
        url
        for url in _pages(app)
        if "/t/thanet" in url
        and CANARY.encode() in client.get(url.replace("/t/thanet", "/t/sevenoaks")).get_data()
    ]
    assert seen, "the canary should show on Sevenoaks's own pages"
