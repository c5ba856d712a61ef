"""Platform settings: SQLite pragmas, shared rate-limit storage, mail outbox."""

from __future__ import annotations

import os
import socket
import uuid

import pytest
from sqlalchemy import text

from tests.conftest import POSTGRES_URL, AuthActions, base_config


@pytest.mark.skipif(bool(POSTGRES_URL), reason="SQLite only")
def test_sqlite_runs_in_wal_mode_with_foreign_keys(db):
    connection = db.session.connection()
    assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1


def _redis_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
        return True
    except OSError:
        return False


@pytest.mark.skipif(
    not _redis_up() and not os.environ.get("CI"), reason="needs Redis on 127.0.0.1:6379"
)
def test_failed_sign_ins_are_counted_in_redis_when_configured(databases, tmp_path, monkeypatch):
    """With REDIS_URL set, every app server counts failures in the same place."""
    import redis

    from portal import config as settings
    from portal import create_app

    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/15")
    prefix = f"test-{uuid.uuid4().hex}"
    config = {
        **base_config(tmp_path),
        **databases.fresh(),
        "RATELIMIT_STORAGE_URI": settings.from_environment()["RATELIMIT_STORAGE_URI"],
        "RATELIMIT_KEY_PREFIX": prefix,
    }
    app = create_app(config)
    server = redis.Redis.from_url("redis://127.0.0.1:6379/15")
    try:
        auth = AuthActions(app.test_client())
        for _ in range(10):
            auth.login("officer@sevenoaks.demo", "wrong-password")
        keys = [k.decode() for k in server.scan_iter(f"*{prefix}*")]
        assert any("officer@sevenoaks.demo" in k for k in keys), keys
        page = auth.login("officer@sevenoaks.demo").get_data(as_text=True)
        assert "It is locked for 15 minutes" in page
    finally:
        for key in server.scan_iter(f"*{prefix}*"):
            server.delete(key)
        with app.app_context():
            from portal.extensions import db, limiter

            limiter.reset()
            db.engine.dispose()
        databases.drop(config)


def test_mail_goes_to_the_file_outbox_by_default(app, outbox):
    from portal import mail

    with app.app_context():
        mail.send("someone@example.org", "Subject line", "Body text")
        [message] = outbox()
    assert message["To"] == "someone@example.org"
    assert message["Subject"] == "Subject line"
    assert "Body text" in message.get_content()


def test_production_refuses_to_start_without_a_public_address(databases, tmp_path):
    from portal import create_app

    config = {
        **base_config(tmp_path),
        "TESTING": False,
        "SQLALCHEMY_DATABASE_URI": "sqlite://",
        "PORTAL_BASE_URL": None,
    }
    with pytest.raises(RuntimeError, match="PORTAL_BASE_URL must be set"):
        create_app(config)
    app = create_app({**config, "PORTAL_BASE_URL": "https://equality.example.org"})
    assert app.config["PORTAL_BASE_URL"] == "https://equality.example.org"


def test_reset_links_use_the_public_address_not_the_host_header(databases, tmp_path):
    from portal import create_app, mail

    config = {
        **base_config(tmp_path),
        **databases.fresh(),
        "PORTAL_BASE_URL": "https://equality.example.org",
    }
    app = create_app(config)
    try:
        from portal.auth import services

        # A request whose Host header a visitor has set to another site.
        with app.test_request_context("/password/forgot", base_url="http://evil.example"):
            services.request_password_reset("officer@sevenoaks.demo")
            [message] = mail.read_outbox()
        body = message.get_content()
        assert "https://equality.example.org/password/reset/" in body
        assert "evil.example" not in body
    finally:
        with app.app_context():
            from portal.extensions import db

            db.engine.dispose()
        databases.drop(config)


def test_behind_a_proxy_the_visitors_address_is_used(databases, tmp_path):
    from portal import create_app
    from tests.helpers import audit_events

    config = {**base_config(tmp_path), **databases.fresh(), "PROXY_HOPS": 1}
    app = create_app(config)
    try:
        client = app.test_client()
        from tests.helpers import csrf_token

        token = csrf_token(client, "/login")
        client.post(
            "/login",
            data={
                "email": "officer@sevenoaks.demo",
                "password": "wrong-password",
                "csrf_token": token,
            },
            headers={"X-Forwarded-For": "203.0.113.7"},
        )
        [event] = audit_events(app, action="auth.login_failed")
        assert event.address == "203.0.113.7"
    finally:
        with app.app_context():
            from portal.extensions import db

            db.engine.dispose()
        databases.drop(config)
