"""``flask tenants sync``: the declared partnerships and organisations, from their files."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import AppGroup

from portal import config as settings
from portal.extensions import db
from portal.partners import services as partners

tenants_cli = AppGroup("tenants", help="Declared partnerships and organisations.")

DEFAULT_DECLARATIONS = settings.PROJECT_ROOT / "tenants"


@tenants_cli.command("sync")
@click.option(
    "--path",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_DECLARATIONS,
    show_default=True,
    help="Folder holding partnerships/ and organisations/.",
)
def tenants_sync(path: Path) -> None:
    """Create and update partnerships and organisations from their files."""
    try:
        report = partners.sync(path)
    except partners.DeclarationError as exc:
        db.session.rollback()
        click.echo(f"Error: {exc}", err=True)
        click.echo("Nothing was changed.", err=True)
        sys.exit(1)
    for line in report.lines():
        click.echo(line)
