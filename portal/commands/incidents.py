"""``flask incidents anonymise``: anonymise case records whose retention period has ended."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from portal.extensions import db
from portal.incidents import services
from portal.partners.models import Tenant
from portal.tenancy import tenant_scope

incidents_cli = AppGroup("incidents", help="The hate-incident registers.")


def _day(value) -> str:
    return value.strftime("%-d %B %Y")


@incidents_cli.command("anonymise")
@click.option("--tenant", "tenant_slug", help="Only this organisation (its short name).")
@click.option("--dry-run", is_flag=True, help="Say what would be anonymised; change nothing.")
def anonymise(tenant_slug: str | None, dry_run: bool) -> None:
    """Anonymise closed cases kept longer than each organisation's retention period."""
    query = select(Tenant).order_by(Tenant.slug)
    if tenant_slug:
        query = query.where(Tenant.slug == tenant_slug)
    tenants = db.session.scalars(query).all()
    if tenant_slug and not tenants:
        raise click.BadParameter(f"no organisation '{tenant_slug}'", param_hint="--tenant")
    verb = "would be anonymised" if dry_run else "anonymised"
    total = 0
    for tenant in tenants:
        with tenant_scope(tenant):
            report = services.anonymise_expired(dry_run=dry_run)
        total += report.anonymised
        click.echo(
            f"{tenant.slug}: {report.anonymised} {verb} "
            f"(kept {report.retention_years} years: closed before {_day(report.cutoff)}); "
            f"{report.kept_in_retention} within retention; "
            f"{report.kept_open} still open past retention, kept"
        )
    summary = f"{total} record{'s' if total != 1 else ''} {verb}"
    click.echo(f"Dry run: nothing was changed. {summary}." if dry_run else f"{summary}.")
