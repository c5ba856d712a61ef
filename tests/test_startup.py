"""What `make` sets up, what the portal refuses to start with, and where emailed links point."""

from __future__ import annotations

import re
import shutil
import subprocess
from contextlib import contextmanager
from pathlib import Path

import click
import pytest

from tests.conftest import base_config
from tests.helpers import links_in_mail

ROOT = Path(__file__).resolve().parent.parent


def _make_dry_run(*args: str) -> str:
    make = shutil.which("make")
    assert make, "make is needed to build and run the portal"
    result = subprocess.run(  # noqa: S603 - fixed arguments from the tests themselves
        [make, "--no-print-directory", "-n", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


def test_make_install_upgrades_setuptools_in_the_venv():
    # -B prints every recipe install needs, the new virtual environment's included.
    lines = _make_dry_run("-B", "install").splitlines()
    upgrades = [line for line in lines if "pip install" in line and "--upgrade" in line]
    words = [word.strip("'\"") for line in upgrades for word in line.split()]
    assert any(word.startswith("setuptools") for word in words), lines


def test_make_run_gives_emailed_links_its_own_address():
    out = _make_dry_run("run", "PORT=5123")
    [serve] = [line for line in out.splitlines() if " run --host" in line]
    assert "PORTAL_BASE_URL=http://127.0.0.1:5123" in serve


@contextmanager
def _app(databases, tmp_path, **overrides):
    from portal import create_app

    config = {**base_config(tmp_path), **databases.fresh(), **overrides}
    app = None
    try:
        app = create_app(config)
        yield app
    finally:
        if app is not None:
            with app.app_context():
                from portal.extensions import db

                db.engine.dispose()
        databases.drop(config)


@pytest.mark.parametrize("base", [None, "http://127.0.0.1:5123"])
def test_a_forged_host_in_development_does_not_reach_emailed_links(databases, tmp_path, base):
    from portal import mail
    from portal.config import DEVELOPMENT_BASE_URL

    dev = {"TESTING": False, "PORTAL_DEVELOPMENT": True, "PORTAL_BASE_URL": base}
    with _app(databases, tmp_path, **dev) as app:
        client = app.test_client()
        headers = {"Host": "evil.example"}
        page = client.get("/password/forgot", headers=headers).get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        response = client.post(
            "/password/forgot",
            data={"email": "officer@sevenoaks.demo", "csrf_token": token},
            headers=headers,
        )
        assert "Check your email" in response.get_data(as_text=True)
        with app.app_context():
            [message] = mail.read_outbox()
    [link] = links_in_mail(message)
    assert link.startswith((base or DEVELOPMENT_BASE_URL) + "/password/reset/")
    assert "evil.example" not in message.get_content()


def _production(**extra) -> dict:
    return {
        "TESTING": False,
        "PORTAL_DEVELOPMENT": False,
        "PORTAL_BASE_URL": "https://equality.example.org",
        **extra,
    }


def test_production_refuses_to_start_while_demonstration_accounts_exist(databases, tmp_path):
    with pytest.raises(RuntimeError, match="Demonstration accounts can sign in") as raised:
        with _app(databases, tmp_path, **_production()):
            pass
    assert "admin@portal.demo" in str(raised.value)
    assert "flask users disable" in str(raised.value)


def test_production_starts_once_demonstration_accounts_are_disabled(databases, tmp_path):
    from sqlalchemy import select, update

    from portal import create_app
    from portal.auth.models import User
    from portal.extensions import db

    with _app(databases, tmp_path) as dev:
        with dev.app_context():
            db.session.execute(
                update(User).where(User.email.like("%.demo")).values(disabled_at=db.func.now())
            )
            db.session.commit()
        config = {**base_config(tmp_path), **_production()}
        config["SQLALCHEMY_DATABASE_URI"] = dev.config["SQLALCHEMY_DATABASE_URI"]
        config["MIGRATION_DATABASE_URI"] = dev.config.get("MIGRATION_DATABASE_URI")
        config["DATABASE_APP_ROLE"] = dev.config.get("DATABASE_APP_ROLE")
        app = create_app(config)
        with app.app_context():
            assert db.session.scalar(select(User.id).limit(1)) is not None
            db.engine.dispose()


def test_command_line_tasks_still_load_in_production(databases, tmp_path):
    # So that an operator can disable the demonstration accounts.
    with click.Context(click.Command("users")):
        with _app(databases, tmp_path, **_production()) as app:
            assert app.config["PORTAL_BASE_URL"] == "https://equality.example.org"


def _demo_load(app, *args):
    app.config.update(TESTING=False, PORTAL_DEVELOPMENT=False)
    app.testing = False
    return app.test_cli_runner().invoke(args=["demo", "load", *args])


def test_demo_load_refuses_outside_development(app):
    result = _demo_load(app)
    assert result.exit_code == 1
    assert "not a development installation" in result.stderr
    assert "--allow-production" in result.stderr


def test_demo_load_in_production_when_told_explicitly(app):
    result = _demo_load(app, "--allow-production")
    assert result.exit_code == 0, result.stderr
    assert "people: 0 created" in result.stdout


def test_demo_load_in_development(app):
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code == 0 and "people: 0 created" in result.output
