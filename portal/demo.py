"""Demonstration data: the declared organisations, a person in every role, and content.

Everything here that is not taken from a source document is marked as demonstration
data where it is shown. Loading twice changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import select

from portal import config as settings
from portal.auth import services as accounts
from portal.auth.models import PartnershipGrant, TenantGrant, User
from portal.extensions import db
from portal.partners import services as partners
from portal.partners.models import Partnership, Tenant

DEMO_DOMAIN = ".demo"
TENANT_PEOPLE = {
    "officer": ("Equality officer", ["officer"]),
    "caseworker": ("Caseworker", ["caseworker"]),
    "viewer": ("Councillor (viewer)", ["viewer"]),
    "admin": ("Organisation administrator", ["admin"]),
    "ceo": ("Chief executive", ["ceo"]),
}


def _person(email: str, name: str, password_hash: str) -> tuple[User, bool]:
    user = db.session.scalar(select(User).where(User.email == email))
    if user is not None:
        return user, False
    user = User(email=email, name=name, password_hash=password_hash)
    db.session.add(user)
    db.session.flush()
    return user, True


def has_real_people() -> bool:
    """True if anybody other than the demonstration people has an account."""
    return (
        db.session.scalar(select(User.id).where(~User.email.like(f"%{DEMO_DOMAIN}")).limit(1))
        is not None
    )


def active_demo_accounts(limit: int = 5) -> list[str]:
    """Up to ``limit`` demonstration accounts that could still sign in."""
    return list(
        db.session.scalars(
            select(User.email)
            .where(User.email.like(f"%{DEMO_DOMAIN}"), User.disabled_at.is_(None))
            .order_by(User.email)
            .limit(limit)
        )
    )


def load(password: str) -> Iterator[str]:
    """Load the demonstration data; yields one line per thing done."""
    report = partners.sync(settings.PROJECT_ROOT / "tenants")
    yield from ("organisations: " + line for line in report.lines())
    password_hash = accounts.hash_password(password)
    created = 0
    for tenant in db.session.scalars(select(Tenant).order_by(Tenant.slug)):
        for local, (title, roles) in TENANT_PEOPLE.items():
            user, new = _person(
                f"{local}@{tenant.slug}{DEMO_DOMAIN}",
                f"{title}, {tenant.name} (demonstration)",
                password_hash,
            )
            created += new
            for role in roles:
                if role not in user.roles_in(tenant):
                    db.session.add(TenantGrant(user=user, tenant=tenant, role=role))
    for partnership in db.session.scalars(select(Partnership).order_by(Partnership.slug)):
        user, new = _person(
            f"lead@{partnership.slug}{DEMO_DOMAIN}",
            f"Partnership lead, {partnership.name} (demonstration)",
            password_hash,
        )
        created += new
        if not user.leads(partnership):
            db.session.add(PartnershipGrant(user=user, partnership=partnership, role="lead"))
    admin, new = _person("admin@portal.demo", "Portal administrator (demonstration)", password_hash)
    admin.is_portal_admin = True
    created += new
    db.session.commit()
    yield f"people: {created} created"
    for module in _content_loaders():
        yield from module.load_demo()


def _content_loaders() -> list:
    """Feature modules that contribute demonstration content, in load order."""
    from portal.actions import demo as actions
    from portal.aims import demo as aims
    from portal.commitments import demo as commitments
    from portal.dashboards import demo as dashboards
    from portal.eqia import demo as eqia
    from portal.incidents import demo as incidents
    from portal.monitoring import demo as monitoring
    from portal.reports import demo as reports
    from portal.returns import demo as returns

    return [aims, commitments, actions, eqia, incidents, monitoring, returns, reports, dashboards]
