"""``flask demo load`` and ``flask demo scale``: demonstration and synthetic data."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import AppGroup

demo_cli = AppGroup("demo", help="Demonstration data.")


@demo_cli.command("load")
@click.option(
    "--if-empty",
    is_flag=True,
    help="Do nothing if the database already holds people other than demonstration ones.",
)
@click.option(
    "--allow-production",
    is_flag=True,
    help="Load even though this is not a development installation (for a demonstration site).",
)
def demo_load(if_empty: bool, allow_production: bool) -> None:
    """Load the demonstration partnerships, organisations, people and content."""
    from portal import demo, development

    if not development(current_app) and not allow_production:
        # Demonstration accounts share one published password.
        click.echo(
            "Refusing to load demonstration data: this is not a development installation "
            "(PORTAL_DEVELOPMENT is not set), and every demonstration account shares a "
            "published password. Use --allow-production if you really mean to.",
            err=True,
        )
        sys.exit(1)
    if if_empty and demo.has_real_people():
        click.echo("The database holds real accounts: demonstration data not loaded.")
        return
    for line in demo.load(current_app.config["PORTAL_DEMO_PASSWORD"]):
        click.echo(line)


@demo_cli.command("scale")
@click.option("--tenants", default=400, show_default=True, type=click.IntRange(1, 5000))
@click.option("--years", default=10, show_default=True, type=click.IntRange(1, 30))
@click.option(
    "--into-this-database",
    is_flag=True,
    help="Add the synthetic data even though the database holds other organisations.",
)
def demo_scale(tenants: int, years: int, into_this_database: bool) -> None:
    """Fill a database of its own with synthetic national-scale data, for `make bench`.

    Run it on an empty, migrated database (DATABASE_URL): 400 members and 10 years make
    about 2 million figures and 200,000 actions, all marked as synthetic.
    """
    import time

    from portal.dashboards import scale

    try:
        scale.check_database(allow_existing=into_this_database)
    except scale.ScaleRefused as exc:
        raise click.ClickException(f"Refusing to add synthetic data: {exc}.") from None
    started = time.perf_counter()
    for line in scale.fill(tenants, years):
        click.echo(line)
    click.echo(f"done in {time.perf_counter() - started:.0f} s")
