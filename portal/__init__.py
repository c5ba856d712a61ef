"""The Equality Partnership Portal: a staged application factory."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask
from jinja2 import ChoiceLoader, FileSystemLoader, PackageLoader, PrefixLoader

from portal import config as settings
from portal.extensions import csrf, db, limiter, login_manager, migrate

BLUEPRINTS = (
    "portal.home.routes",
    "portal.auth.routes",
    "portal.admin.routes",
    "portal.partners.routes",
    "portal.plans.routes",
    "portal.actions.routes",
    "portal.eqia.routes",
    "portal.incidents.routes",
    "portal.aims.routes",
    "portal.monitoring.routes",
)


def create_app(config: dict | None = None) -> Flask:
    """Build the app. ``config`` overrides settings read from the environment."""
    app = Flask(
        __name__,
        instance_path=str((config or {}).get("INSTANCE_PATH", settings.INSTANCE_PATH)),
        template_folder=str(settings.PROJECT_ROOT / "templates"),
        static_folder="static",
    )
    app.config.update(settings.DEFAULTS)
    app.config.update(settings.from_environment())
    if config:
        app.config.update(config)
    _check_secret_key(app)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    register_extensions(app)
    register_templates(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    return app


def _check_secret_key(app: Flask) -> None:
    if app.config.get("SECRET_KEY"):
        return
    if app.debug or app.testing or os.environ.get("PORTAL_DEVELOPMENT"):
        # A development key kept in instance/, so sessions survive a restart of `make run`.
        key_file = Path(app.instance_path) / "secret_key"
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        if not key_file.exists():
            import secrets

            key_file.write_text(secrets.token_hex(32))
            key_file.chmod(0o600)
        app.config["SECRET_KEY"] = key_file.read_text().strip()
        return
    raise RuntimeError("SECRET_KEY must be set (see README: running in production)")


def register_extensions(app: Flask) -> None:
    from portal import database, security
    from portal.auth import sessions

    db.init_app(app)
    database.init_app(app)
    migrate.init_app(app, db, directory=str(settings.PROJECT_ROOT / "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    sessions.init_app(app)
    security.init_app(app)
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
        for attribute in ("bp", "tenant_bp", "partnership_bp"):
            if hasattr(module, attribute):
                app.register_blueprint(getattr(module, attribute))


def register_errorhandlers(app: Flask) -> None:
    from portal import errors

    errors.init_app(app)


def register_commands(app: Flask) -> None:
    from portal import commands

    commands.init_app(app)
