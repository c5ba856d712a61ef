"""Command-line tasks: ``flask tenants sync``, ``flask users create``, ``flask demo load``,
``flask audit verify``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import select

from portal import config as settings
from portal.admin import services as people
from portal.auth import services as accounts
from portal.auth.models import TENANT_ROLES, User
from portal.extensions import db
from portal.partners import services as partners
from portal.partners.models import Partnership, Tenant

tenants_cli = AppGroup("tenants", help="Declared partnerships and organisations.")
users_cli = AppGroup("users", help="People and their roles.")
demo_cli = AppGroup("demo", help="Demonstration data.")
audit_cli = AppGroup("audit", help="The audit trail.")

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


@users_cli.command("create")
@click.argument("email")
@click.option("--name", required=True, help="The person's full name.")
@click.option(
    "--set-password",
    "set_password",
    is_flag=True,
    help="Type a password now (it is not echoed) instead of emailing an invitation.",
)
@click.option("--password", hidden=True, help="For scripts only: ends up in shell history.")
@click.option("--portal-admin", is_flag=True, help="May create partnerships and organisations.")
@click.option("--tenant", "tenant_slug", help="Organisation to give roles in.")
@click.option(
    "--role", "roles", multiple=True, type=click.Choice(sorted(TENANT_ROLES)), help="Repeatable."
)
@click.option("--lead", "partnership_slug", help="Partnership this person leads.")
def users_create(
    email, name, set_password, password, portal_admin, tenant_slug, roles, partnership_slug
):
    """Create a person (or add roles to an existing one)."""
    if set_password and not password:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    tenant = partnership = None
    if tenant_slug:
        tenant = db.session.scalar(select(Tenant).where(Tenant.slug == tenant_slug))
        if tenant is None:
            raise click.BadParameter(f"no organisation '{tenant_slug}'", param_hint="--tenant")
        if not roles:
            raise click.BadParameter("give at least one --role with --tenant", param_hint="--role")
    if partnership_slug:
        partnership = db.session.scalar(
            select(Partnership).where(Partnership.slug == partnership_slug)
        )
        if partnership is None:
            raise click.BadParameter(f"no partnership '{partnership_slug}'", param_hint="--lead")
    try:
        user = ensure_user(email, name, password=password, portal_admin=portal_admin)
        if tenant or partnership:
            people.grant_directly(user, tenant=tenant, roles=list(roles), partnership=partnership)
            if not user.password_hash:
                db.session.commit()
                people.send_password_link(user, tenant or partnership)
    except accounts.AccountError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    click.echo(f"{user.email}: ready")


@users_cli.command("disable")
@click.argument("email")
def users_disable(email):
    """Disable an account everywhere and end its sessions."""
    user = _existing_user(email)
    if user.disabled_at is None:
        from portal import audit, clock

        user.disabled_at = clock.utcnow()
        accounts.end_all_sessions(user, "account disabled")
        audit.record("user.disabled", user, detail={"via": "command line"})
    db.session.commit()
    click.echo(f"{user.email}: disabled")


@users_cli.command("enable")
@click.argument("email")
def users_enable(email):
    """Enable a disabled account."""
    user = _existing_user(email)
    accounts.enable(user)
    click.echo(f"{user.email}: enabled")


def _existing_user(email: str) -> User:
    user = db.session.scalar(select(User).where(User.email == accounts.normalise_email(email)))
    if user is None:
        raise click.ClickException(f"no account for {email}")
    return user


def ensure_user(email: str, name: str, *, password: str | None, portal_admin: bool = False) -> User:
    email = accounts.normalise_email(email)
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        user = User(email=email, name=name)
        db.session.add(user)
    from portal import audit

    db.session.flush()
    if password:
        accounts.check_password_rules(password, user)
        user.password_hash = accounts.hash_password(password)
        audit.record("auth.password_set", user, detail={"via": "command line"})
    if portal_admin and not user.is_portal_admin:
        user.is_portal_admin = True
        audit.record("grant.added", user, detail={"role": "Portal administrator"})
    db.session.flush()
    return user


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


@audit_cli.command("verify")
@click.option(
    "--checkpoint",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Compare with the checkpoint in this file (if it exists) and, when the trail "
    "holds, write the new checkpoint there. Keep it where the database owner cannot write.",
)
def audit_verify(checkpoint: Path | None) -> None:
    """Check that no audit event has been changed, removed or inserted."""
    from portal import audit

    saved = None
    if checkpoint is not None and checkpoint.exists():
        try:
            saved = json.loads(checkpoint.read_text())
        except (OSError, ValueError) as exc:
            raise click.ClickException(f"cannot read the checkpoint {checkpoint}: {exc}") from None
    states, breaks = audit.verify(saved)
    for state in states:
        click.echo(f"{state.name}: {state.count} events, newest hash {state.head}")
    if saved is not None:
        click.echo(f"Compared with the checkpoint of {saved.get('at', 'an unknown time')}.")
    if breaks:
        click.echo(f"{len(breaks)} break(s) in the audit trail:", err=True)
        for item in breaks:
            click.echo(f"  {item}", err=True)
        sys.exit(1)
    click.echo("The audit trail holds: no event has been changed, removed or inserted.")
    if checkpoint is not None:
        checkpoint.write_text(json.dumps(audit.checkpoint_of(states), indent=2) + "\n")
        click.echo(f"Checkpoint written to {checkpoint}.")


def init_app(app: Flask) -> None:
    app.cli.add_command(audit_cli)
    app.cli.add_command(tenants_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(demo_cli)
    from portal.incidents.commands import incidents_cli

    app.cli.add_command(incidents_cli)
    from portal.returns.commands import reports_cli

    app.cli.add_command(reports_cli)
