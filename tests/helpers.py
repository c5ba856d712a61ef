"""Small helpers for tests that drive pages through the test client."""

from __future__ import annotations

import contextlib
import re

_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(client, url: str) -> str:
    """The CSRF token from a form on ``url``."""
    html = client.get(url).get_data(as_text=True)
    match = _TOKEN.search(html)
    if not match:
        match = re.search(r'value="([^"]+)"[^>]*name="csrf_token"', html)
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def user(email: str):
    from sqlalchemy import select

    from portal.auth.models import User
    from portal.extensions import db

    return db.session.scalar(select(User).where(User.email == email))


def tenant(slug: str):
    from sqlalchemy import select

    from portal.extensions import db
    from portal.partners.models import Tenant

    return db.session.scalar(select(Tenant).where(Tenant.slug == slug))


def links_in_mail(message) -> list[str]:
    body = message.get_content()
    return re.findall(r"https?://\S+", body)


def audit_events(app, **filters) -> list:
    """Every audit event, read as the schema owner (the app's role may only read its
    current tenant's events on PostgreSQL)."""
    from sqlalchemy import create_engine, select
    from sqlalchemy.orm import Session
    from sqlalchemy.pool import NullPool

    from portal.audit import AuditEvent

    url = app.config.get("MIGRATION_DATABASE_URI") or app.config["SQLALCHEMY_DATABASE_URI"]
    engine = create_engine(url, poolclass=NullPool)
    try:
        with Session(engine) as session:
            query = select(AuditEvent).filter_by(**filters).order_by(AuditEvent.id)
            rows = session.scalars(query).all()
            session.expunge_all()
            return rows
    finally:
        engine.dispose()


def by_number(model, number: int):
    """The record of ``model`` with this running number, in the tenant in scope."""
    from sqlalchemy import select

    from portal.extensions import db

    return db.session.scalar(select(model).where(model.number == number))


def partnership(slug: str):
    from sqlalchemy import select

    from portal.extensions import db
    from portal.partners.models import Partnership

    return db.session.scalar(select(Partnership).where(Partnership.slug == slug))


@contextlib.contextmanager
def as_partnership(slug: str):
    """Read and write as the partnership ``slug``, as its own pages do."""
    from portal.tenancy import partnership_scope

    with partnership_scope(partnership(slug)):
        yield


@contextlib.contextmanager
def scoped(app, slug: str = "west-kent"):
    """An application context with the partnership ``slug`` in scope."""
    with app.app_context(), as_partnership(slug):
        yield
