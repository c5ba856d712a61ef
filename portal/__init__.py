"""The Equality Partnership Portal: a staged application factory."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask
from jinja2 import ChoiceLoader, FileSystemLoader, PackageLoader, PrefixLoader
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from portal import config as settings
from portal import incoming
from portal.extensions import csrf, db, limiter, login_manager, migrate

BLUEPRINTS = (
    "portal.home.routes",
    "portal.auth.routes",
    # Adds the trail pages to the organisation's and the portal's administration
    # blueprints, so it comes before both are registered.
    "portal.admin.audit_routes",
    "portal.admin.routes",
    "portal.partners.routes",
    "portal.commitments.routes",
    "portal.actions.routes",
    "portal.actions.import_routes",
    "portal.eqia.routes",
    "portal.eqia.public_joint",
    "portal.incidents.routes",
    "portal.aims.routes",
    "portal.monitoring.routes",
    "portal.jobs.routes",
    "portal.returns.routes",
    "portal.reports.routes",
    "portal.dashboards.routes",
    "portal.charts",
)


class BoundedIntegerConverter(IntegerConverter):
    """``<int:…>`` for database ids: 1 to 2**31 - 1."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(url_map, *args, **kwargs)


def create_app(config: dict | None = None) -> Flask:
    """Build the app. ``config`` overrides settings read from the environment."""
    app = Flask(
        __name__,
        instance_path=str((config or {}).get("INSTANCE_PATH", settings.INSTANCE_PATH)),
        template_folder=str(settings.PROJECT_ROOT / "templates"),
        static_folder="static",
    )
    # Ids in addresses stay within the database's integer range: a longer number is a 404,
    # not an overflow deep in the database driver.
    app.url_map.converters["int"] = BoundedIntegerConverter
    incoming.init_app(app)
    from portal.access import Globals
    from portal.templating import Environment

    app.app_ctx_globals_class = Globals

    app.jinja_environment = Environment
    app.config.update(settings.DEFAULTS)
    app.config.update(settings.from_environment())
    if config:
        app.config.update(config)
    _check_secret_key(app)
    _check_production_settings(app)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if app.config.get("PROXY_HOPS"):
        # Behind a proxy: the visitor's address (for rate limits and the audit trail) and
        # the scheme come from the proxy's X-Forwarded-* headers, trusting that many hops.
        hops = app.config["PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)

    register_extensions(app)
    register_templates(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    _check_database_role(app)
    _check_no_demo_accounts(app)
    return app


def development(app: Flask) -> bool:
    """True for a development or test installation, where looser settings are allowed."""
    return bool(app.debug or app.testing or app.config.get("PORTAL_DEVELOPMENT"))


def _serving() -> bool:
    """True unless the app was loaded for a command-line task other than ``flask run``.

    Command-line tasks still work, so that an operator can disable demonstration accounts.
    """
    import click

    ctx = click.get_current_context(silent=True)
    return ctx is None or ctx.command.name == "run"


def _check_no_demo_accounts(app: Flask) -> None:
    """Refuse to serve in production while demonstration accounts can sign in: they all
    share a password printed in the README."""
    if development(app) or not _serving():
        return
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from portal import demo

    with app.app_context():
        try:
            found = demo.active_demo_accounts()
        except (OperationalError, ProgrammingError):
            # Not migrated yet: there are no accounts of any kind.
            db.session.rollback()
            return
        finally:
            db.session.remove()
    if found:
        raise RuntimeError(
            "Demonstration accounts can sign in to this database ("
            + ", ".join(found)
            + ", ...). They share a published password, so the portal does not start in "
            "production while they exist. Disable them with `flask users disable EMAIL`, "
            "or use a database without demonstration data."
        )


def _check_production_settings(app: Flask) -> None:
    """Refuse to serve real users with settings that are only safe on a laptop."""
    if development(app):
        return
    if not app.config.get("PORTAL_BASE_URL"):
        # Emailed links must not be built from a request's Host header, which a visitor
        # controls: a reset link could be made to point at another site.
        raise RuntimeError("PORTAL_BASE_URL must be set (see README: running in production)")
    if app.config["RATELIMIT_STORAGE_URI"].startswith("memory"):
        app.logger.warning("REDIS_URL is not set: each app process counts sign-in attempts alone")
    if not app.config.get("MAIL_SERVER"):
        app.logger.warning("MAIL_SERVER is not set: invitations are written to instance/outbox/")
    if not app.config.get("JOBS_BROKER_URL"):
        app.logger.warning("REDIS_URL is not set: jobs run inside the web requests that queue them")


ROLE_ADVICE = (
    "Row-level security, the second wall between organisations, does not bind it. "
    "Set DATABASE_URL to the application's own role (no superuser, no BYPASSRLS, owning "
    "no table) and MIGRATION_DATABASE_URL to the schema owner (see README: running in "
    "production)."
)


def _check_database_role(app: Flask) -> None:
    """Refuse to serve from a database role that row-level security does not bind."""
    from sqlalchemy import event
    from sqlalchemy.exc import OperationalError

    from portal import tenancy

    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "postgresql":
        return

    def refuse_if_unsafe(connection) -> None:
        problems = tenancy.database_role_problems(connection)
        if problems:
            raise RuntimeError(f"Refusing to start: {'; '.join(problems)}. {ROLE_ADVICE}")

    try:
        with engine.connect() as connection:
            refuse_if_unsafe(connection)
    except OperationalError:
        # The database may come up after the app does: then the first connection that
        # succeeds is checked instead, and nothing is served through an unsafe role.
        app.logger.warning("The database did not answer; its role is checked on first use")
        checked = []

        @event.listens_for(engine, "engine_connect")
        def _check_first_connection(connection) -> None:
            if not checked:
                try:
                    refuse_if_unsafe(connection)
                finally:
                    connection.rollback()
                checked.append(True)


def _check_secret_key(app: Flask) -> None:
    if app.config.get("SECRET_KEY"):
        return
    if development(app):
        # A development key kept in instance/, so sessions survive a restart of `make run`.
        key_file = Path(app.instance_path) / "secret_key"
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        if not key_file.exists():
            import secrets

            descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as handle:
                handle.write(secrets.token_hex(32))
        app.config["SECRET_KEY"] = key_file.read_text().strip()
        return
    raise RuntimeError("SECRET_KEY must be set (see README: running in production)")


def register_extensions(app: Flask) -> None:
    from portal import cache, database, jobs, security
    from portal.auth import sessions

    db.init_app(app)
    database.init_app(app)
    cache.init_app(app)
    migrate.init_app(app, db, directory=str(settings.PROJECT_ROOT / "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    sessions.init_app(app)
    security.init_app(app)
    jobs.init_app(app)
    from govuk_frontend_wtf.main import WTFormsHelpers

    WTFormsHelpers(app)


def register_templates(app: Flask) -> None:
    from portal import templating

    app.jinja_loader = ChoiceLoader(
        [
            FileSystemLoader(str(settings.PROJECT_ROOT / "templates")),
            PrefixLoader(
                {
                    "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
                    "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf"),
                }
            ),
        ]
    )
    templating.init_app(app)


def register_blueprints(app: Flask) -> None:
    from importlib import import_module

    for module_name in BLUEPRINTS:
        module = import_module(module_name)
        for attribute in ("bp", "tenant_bp", "partnership_bp", "public_bp"):
            if hasattr(module, attribute):
                app.register_blueprint(getattr(module, attribute))


def register_errorhandlers(app: Flask) -> None:
    from portal import errors

    errors.init_app(app)


def register_commands(app: Flask) -> None:
    from portal import commands

    commands.init_app(app)
