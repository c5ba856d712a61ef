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
