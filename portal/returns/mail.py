"""The emails of the reporting cycle, sent by the job queue (``portal.jobs.tasks``)."""

from __future__ import annotations

from sqlalchemy import select

from portal import mail
from portal.auth.models import TenantGrant, User
from portal.auth.services import external_url
from portal.extensions import db
from portal.partners.models import Tenant
from portal.returns.models import ReportingYear

# Who is emailed about what, and what they are told.
RECIPIENTS = {
    "opened": ("officer", "ceo"),
    "reminder": ("officer",),
    "reminder to sign off": ("ceo",),
    "overdue": ("ceo",),
    "sent for sign-off": ("ceo",),
    "sent back": ("officer",),
    "reopened": ("officer", "ceo"),
}


def people(tenant: Tenant, roles: tuple[str, ...]) -> list[User]:
    """The organisation's people holding ``roles`` there now (not suspended or disabled)."""
    rows = db.session.scalars(
        select(User)
        .join(TenantGrant, TenantGrant.user_id == User.id)
        .where(
            TenantGrant.tenant_id == tenant.id,
            TenantGrant.role.in_(roles),
            TenantGrant.suspended_at.is_(None),
            User.disabled_at.is_(None),
        )
        .order_by(User.id)
    ).unique()
    return list(rows)


def _message(kind: str, tenant: Tenant, year: ReportingYear, deadline, detail: str):
    partnership = year.partnership.name
    when = f"{deadline:%-d %B %Y}"
    subjects = {
        "opened": f"{partnership}: annual return {year.label} due by {when}",
        "reminder": f"Reminder: {tenant.name}'s annual return {year.label} is due by {when}",
        "reminder to sign off": f"Reminder: the annual return {year.label} waits for your "
        f"sign-off by {when}",
        "overdue": f"Overdue: {tenant.name}'s annual return {year.label} was due on {when}",
        "sent for sign-off": f"The annual return {year.label} is ready for your sign-off",
        "sent back": f"The annual return {year.label} was sent back",
        "reopened": f"The annual return {year.label} was reopened by the partnership",
    }
    lines = {
        "opened": f"{partnership} has opened the reporting year {year.label}. Please complete "
        f"{tenant.name}'s annual return and have it signed off by {when}.",
        "reminder": f"{tenant.name}'s annual return for {year.label} has not been signed off "
        f"yet. The deadline is {when}.",
        "reminder to sign off": f"{tenant.name}'s annual return for {year.label} is waiting "
        f"for your sign-off. The deadline is {when}.",
        "overdue": f"{tenant.name}'s annual return for {year.label} was due on {when} and has "
        "not been signed off. As chief executive you are accountable for it.",
        "sent for sign-off": f"{tenant.name}'s annual return for {year.label} is complete and "
        "waits for your sign-off. Read it as it will appear, then sign it off or send it back.",
        "sent back": f"The chief executive sent {tenant.name}'s annual return for {year.label} "
        f"back with these comments:\n\n{detail}",
        "reopened": f"{partnership} reopened {tenant.name}'s signed-off annual return for "
        f"{year.label}, for this reason:\n\n{detail}\n\nIt needs signing off again.",
    }
    link = external_url(
        "returns.task_list",
        tenant_slug=tenant.slug,
        partnership=year.partnership.slug,
        year=year.label,
    )
    return subjects[kind], f"{lines[kind]}\n\n{link}\n"


def send_about_return(tenant_id: int, reporting_year_id: int, kind: str, detail: str) -> int:
    """Email the people ``kind`` is for; the number of people emailed."""
    from portal.returns.services import deadline_for

    tenant = db.session.get(Tenant, tenant_id)
    year = db.session.get(ReportingYear, reporting_year_id)
    if tenant is None or year is None or kind not in RECIPIENTS:
        return 0
    subject, body = _message(kind, tenant, year, deadline_for(year, tenant), detail)
    recipients = people(tenant, RECIPIENTS[kind])
    for person in recipients:
        mail.send(person.email, subject, body)
    return len(recipients)
