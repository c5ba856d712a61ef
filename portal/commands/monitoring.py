"""``flask monitoring load-profile``: an organisation's community profile, from a CSV file."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import select

from portal.extensions import db
from portal.monitoring import profiles
from portal.partners.models import Tenant
from portal.tenancy import tenant_scope

monitoring_cli = AppGroup("monitoring", help="Measures and community profiles.")


@monitoring_cli.command("load-profile")
@click.argument("tenant_slug")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--source", required=True, help="Where the figures come from; shown with them.")
@click.option("--area", help="The area's code or name, when the file holds several areas.")
def load_profile_command(tenant_slug: str, file: Path, source: str, area: str | None) -> None:
    """Load an organisation's community profile from a CSV file, replacing the old one."""
    tenant = db.session.scalar(select(Tenant).where(Tenant.slug == tenant_slug))
    if tenant is None:
        raise click.ClickException(f"There is no organisation '{tenant_slug}'")
    with tenant_scope(tenant):
        try:
            row = profiles.load_profile(
                tenant,
                file.read_text(encoding="utf-8"),
                source=source,
                file_name=file.name,
                area=area,
            )
        except (profiles.ProfileError, UnicodeDecodeError) as exc:
            db.session.rollback()
            raise click.ClickException(str(exc)) from None
        click.echo(
            f"{tenant.name}: {len(row.figures)} figures loaded"
            + (f" for {row.area}" if row.area else "")
            + f". Source: {row.source}"
        )
