"""Shared fixtures: a fresh, migrated and seeded database for every test.

The schema is built once per run by the real migrations and seeded with the declared
organisations and one person in every role; each test gets its own copy (a file copy on
SQLite, ``CREATE DATABASE … TEMPLATE`` on PostgreSQL). With ``TEST_DATABASE_URL`` set, the
app connects as a non-owner role without BYPASSRLS, exactly as in production.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

PASSWORD = "correct-horse-battery"
FAST_ARGON2 = {"ARGON2_TIME_COST": 2, "ARGON2_MEMORY_COST": 19456, "ARGON2_PARALLELISM": 1}
APP_ROLE = "portal_app_test"

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL")


def _pg_url(url: str) -> str:
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def base_config(instance: Path) -> dict:
    return {
        "TESTING": True,
        "INSTANCE_PATH": str(instance),
        "SECRET_KEY": "test-secret-key",
        "SESSION_COOKIE_SECURE": False,
        "RATELIMIT_STORAGE_URI": "memory://",
        "MAIL_SERVER": None,
        "JOBS_BROKER_URL": None,
        "PORTAL_DEMO_PASSWORD": PASSWORD,
        "SERVER_NAME": None,
        "PORTAL_BASE_URL": "http://localhost",
        # A view's event is written in its request, so a test reads it straight after;
        # tests/test_audit_views.py tries the writer that works behind the request.
        "AUDIT_VIEWS_DELAY": 0,
        **FAST_ARGON2,
    }


class Databases:
    """Makes a database per test from a template built once."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.postgres = bool(POSTGRES_URL)
        if self.postgres:
            self.admin_url = make_url(_pg_url(POSTGRES_URL))
            self.admin = create_engine(
                self.admin_url, poolclass=NullPool, isolation_level="AUTOCOMMIT"
            )
            self.prefix = f"portal_test_{uuid.uuid4().hex[:8]}"
            self.template = f"{self.prefix}_template"
            self.created: list[str] = []
            with self.admin.connect() as conn:
                exists = conn.execute(
                    text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": APP_ROLE}
                ).first()
                if not exists:
                    conn.execute(
                        text(f"CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB")
                    )
                conn.execute(text(f'CREATE DATABASE "{self.template}"'))
        else:
            self.template = str(workdir / "template.sqlite3")

    def urls(self, name: str) -> tuple[str, str]:
        """(app url, owner url) for database ``name``."""
        owner = self.admin_url.set(database=name)
        app = owner.set(username=APP_ROLE, password=None)
        return app.render_as_string(hide_password=False), owner.render_as_string(
            hide_password=False
        )

    def template_config(self) -> dict:
        if self.postgres:
            app_url, owner_url = self.urls(self.template)
            return {
                "SQLALCHEMY_DATABASE_URI": app_url,
                "MIGRATION_DATABASE_URI": owner_url,
                "DATABASE_APP_ROLE": APP_ROLE,
                "SQLALCHEMY_ENGINE_OPTIONS": {"poolclass": NullPool},
            }
        return {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{self.template}"}

    def fresh(self) -> dict:
        if self.postgres:
            name = f"{self.prefix}_{len(self.created)}"
            with self.admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"'))
            self.created.append(name)
            app_url, owner_url = self.urls(name)
            return {
                "SQLALCHEMY_DATABASE_URI": app_url,
                "MIGRATION_DATABASE_URI": owner_url,
                "DATABASE_APP_ROLE": APP_ROLE,
                "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
            }
        path = self.workdir / f"{uuid.uuid4().hex}.sqlite3"
        shutil.copyfile(self.template, path)
        return {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"}

    def drop(self, config: dict) -> None:
        url = make_url(config["SQLALCHEMY_DATABASE_URI"])
        if self.postgres:
            with self.admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
            self.created.remove(url.database)
        else:
            for suffix in ("", "-wal", "-shm"):
                Path(str(url.database) + suffix).unlink(missing_ok=True)

    def close(self) -> None:
        if self.postgres:
            with self.admin.connect() as conn:
                for name in [*self.created, self.template]:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            self.admin.dispose()


@pytest.fixture(scope="session")
def databases(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("db")
    instance = tmp_path_factory.mktemp("instance")
    dbs = Databases(workdir)
    from flask_migrate import upgrade

    from portal import create_app, demo
    from portal.extensions import db

    app = create_app({**base_config(instance), **dbs.template_config()})
    with app.app_context():
        upgrade(revision="heads")
        list(demo.load(PASSWORD))
        db.session.remove()
        db.engine.dispose()
    yield dbs
    dbs.close()


@pytest.fixture
def app(databases, tmp_path):
    from portal import create_app
    from portal.extensions import db, limiter

    config = {**base_config(tmp_path), **databases.fresh()}
    application = create_app(config)
    with application.app_context():
        limiter.reset()
    # No app context is held here: each request gets its own, as in production, and a
    # test that reads the database opens one (the ``ctx`` fixture, or app.app_context()).
    yield application
    with application.app_context():
        db.engine.dispose()
    databases.drop(config)


@pytest.fixture
def ctx(app):
    """An application context for tests that call services directly."""
    with app.app_context():
        yield
        from portal.extensions import db as database

        database.session.remove()


@pytest.fixture
def db(ctx):
    from portal.extensions import db as database

    return database


@pytest.fixture
def client(app):
    return app.test_client()


class AuthActions:
    """Sign in and out through the real form, as a person would."""

    def __init__(self, client):
        self.client = client

    def login(self, email: str, password: str = PASSWORD, follow: bool = False):
        from tests.helpers import csrf_token

        token = csrf_token(self.client, "/login")
        return self.client.post(
            "/login",
            data={"email": email, "password": password, "csrf_token": token},
            follow_redirects=follow,
        )

    def logout(self):
        from tests.helpers import csrf_token

        token = csrf_token(self.client, "/account")
        return self.client.post("/logout", data={"csrf_token": token})


@pytest.fixture
def auth(client):
    return AuthActions(client)


@pytest.fixture
def login_as(auth):
    """``login_as("officer", "sevenoaks")``; ``login_as("lead", partnership="west-kent")``."""

    def _login(role: str, tenant: str | None = None, *, partnership: str | None = None):
        if partnership:
            email = f"lead@{partnership}.demo"
        elif role == "portal-admin":
            email = "admin@portal.demo"
        else:
            email = f"{role}@{tenant}.demo"
        response = auth.login(email)
        assert response.status_code == 302, f"could not sign in as {email}"
        return response

    return _login


@pytest.fixture
def outbox(app):
    from portal import mail

    return mail.read_outbox
