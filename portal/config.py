"""Settings, read from the environment. Tests pass overrides to ``create_app``."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_PATH = Path(os.environ.get("PORTAL_INSTANCE_PATH", PROJECT_ROOT / "instance"))


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _database_url(value: str) -> str:
    # psycopg 3 is the driver; plain postgres:// URLs are common in hosting settings.
    for prefix in ("postgres://", "postgresql://"):
        if value.startswith(prefix):
            return "postgresql+psycopg://" + value[len(prefix) :]
    return value


def from_environment() -> dict:
    """Build the configuration mapping from environment variables."""
    database_url = _database_url(
        os.environ.get("DATABASE_URL", f"sqlite:///{INSTANCE_PATH / 'portal.sqlite3'}")
    )
    migration_url = os.environ.get("MIGRATION_DATABASE_URL")
    redis_url = os.environ.get("REDIS_URL")
    debug = _bool("FLASK_DEBUG")
    return {
        "SECRET_KEY": os.environ.get("SECRET_KEY"),
        "DEBUG": debug,
        "SQLALCHEMY_DATABASE_URI": database_url,
        # A database server can drop a pooled connection (a restart, an idle timeout), so
        # each is tried before use; a SQLite file has no connection to lose.
        "SQLALCHEMY_ENGINE_OPTIONS": {}
        if database_url.startswith("sqlite")
        else {"pool_pre_ping": True},
        "MIGRATION_DATABASE_URI": _database_url(migration_url) if migration_url else None,
        "DATABASE_APP_ROLE": os.environ.get("DATABASE_APP_ROLE"),
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        "REDIS_URL": redis_url,
        # Computed page data (portal/cache.py): shared in Redis, or kept by each process.
        "CACHE_REDIS_URL": os.environ.get("CACHE_REDIS_URL") or redis_url,
        # The job queue's broker: Redis when there is one. Without it, jobs run in the
        # process that queues them (see portal/jobs/__init__.py).
        "JOBS_BROKER_URL": os.environ.get("JOBS_BROKER_URL") or redis_url,
        "JOBS_QUEUE": os.environ.get("JOBS_QUEUE", "portal"),
        "MAIL_SERVER": os.environ.get("MAIL_SERVER"),
        "MAIL_PORT": int(os.environ.get("MAIL_PORT", "587")),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME"),
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD"),
        "MAIL_USE_TLS": _bool("MAIL_USE_TLS", True),
        "MAIL_TIMEOUT": float(os.environ.get("MAIL_TIMEOUT", "10")),
        "MAIL_SENDER": os.environ.get(
            "MAIL_SENDER", "Equality Partnership Portal <no-reply@localhost>"
        ),
        "PORTAL_BASE_URL": os.environ.get("PORTAL_BASE_URL"),
        # The browser kaleido draws the joint report's charts with.
        "CHROMIUM": os.environ.get("PORTAL_CHROMIUM", "/usr/bin/chromium"),
        "PORTAL_DEVELOPMENT": _bool("PORTAL_DEVELOPMENT"),
        "PROXY_HOPS": int(os.environ.get("PORTAL_PROXY_HOPS", "0") or 0),
        "TRUSTED_HOSTS": [
            h.strip() for h in os.environ.get("PORTAL_TRUSTED_HOSTS", "").split(",") if h.strip()
        ]
        or None,
        "PORTAL_DEMO_PASSWORD": os.environ.get("PORTAL_DEMO_PASSWORD", DEFAULT_DEMO_PASSWORD),
        "SESSION_COOKIE_SECURE": not debug and not _bool("PORTAL_INSECURE_COOKIES"),
        # Seconds within which a view's audit event is written, behind the request
        # (portal/audit.py record_view); 0 writes it in the request.
        "AUDIT_VIEWS_DELAY": float(os.environ.get("PORTAL_AUDIT_VIEWS_DELAY", "1")),
    }


# Where emailed links point when PORTAL_BASE_URL is not set, which only development allows;
# `make run` sets PORTAL_BASE_URL to its own address.
DEVELOPMENT_BASE_URL = "http://127.0.0.1:5000"

# Printed by `make run` and stated in the README: it only opens demonstration accounts.
DEFAULT_DEMO_PASSWORD = "partnership-demo-2026"  # noqa: S105

DEFAULTS = {
    "PORTAL_NAME": "Equality Partnership Portal",
    "WTF_CSRF_TIME_LIMIT": None,  # the session's own timeouts bound a token's life
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_NAME": "portal_session",
    "PERMANENT_SESSION_LIFETIME": timedelta(hours=12),
    # The cookie is written when it changes (sign-in, a new CSRF token), not re-signed on
    # every page: it then expires with the server's absolute limit, and the idle limit is
    # the server's to keep (auth/services.py load_session).
    "SESSION_REFRESH_EACH_REQUEST": False,
    "SESSION_IDLE_TIMEOUT": timedelta(minutes=30),
    "SESSION_ABSOLUTE_TIMEOUT": timedelta(hours=12),
    "PASSWORD_RESET_LIFETIME": timedelta(hours=2),
    "INVITATION_LIFETIME": timedelta(days=7),
    # Wrong passwords for one account from one network address before that address is
    # locked out of it; and from how many addresses before the account is locked everywhere.
    "LOGIN_FAILURE_LIMIT": "10 per 15 minutes",
    "LOGIN_LOCK_ADDRESSES_LIMIT": "5 per 15 minutes",
    "LOGIN_ADDRESS_LIMIT": "50 per 15 minutes",
    "ACCOUNT_LOCK_DURATION": timedelta(minutes=15),
    "RATELIMIT_HEADERS_ENABLED": False,
    "RATELIMIT_STRATEGY": "moving-window",
    # RFC 9106 "low memory" profile: above OWASP's minimum of m=19 MiB, t=2, p=1.
    "ARGON2_TIME_COST": 3,
    "ARGON2_MEMORY_COST": 65536,
    "ARGON2_PARALLELISM": 4,
    "PAGE_SIZE": 25,
    "MAX_CONTENT_LENGTH": 12 * 1024 * 1024,
}
