"""``flask users create``, ``disable`` and ``enable``: people and their roles."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from portal.admin import services as people
from portal.auth import services as accounts
from portal.auth.models import TENANT_ROLES, User
from portal.extensions import db
from portal.partners.models import Partnership, Tenant

users_cli = AppGroup("users", help="People and their roles.")


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
