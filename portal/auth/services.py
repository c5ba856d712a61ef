"""Sign-in, sessions, passwords, invitations and grants: the rules, and their audit."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, url_for
from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.orm import joinedload

from portal import audit, clock, mail
from portal.auth.models import AuthToken, SignInLock, TenantGrant, User, UserSession
from portal.auth.principal import Principal, read_session
from portal.config import DEVELOPMENT_BASE_URL
from portal.editing import Invalid
from portal.extensions import db
from portal.partners.models import Tenant

MIN_PASSWORD_LENGTH = 12


class AccountError(Invalid):
    """A request about an account that cannot be carried out, in the user's words (the
    route knows which field it is about)."""


# --- passwords ---------------------------------------------------------------------------


def password_hasher() -> PasswordHasher:
    config = current_app.config
    return PasswordHasher(
        time_cost=config["ARGON2_TIME_COST"],
        memory_cost=config["ARGON2_MEMORY_COST"],
        parallelism=config["ARGON2_PARALLELISM"],
    )


def hash_password(password: str) -> str:
    return password_hasher().hash(password)


def check_password_rules(password: str, user: User | None = None) -> None:
    """Refuse passwords that are too short or just the email address."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(None, f"Password must be at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > 256:
        raise AccountError(None, "Password must be 256 characters or fewer")
    if user is not None and password.strip().lower() == user.email.lower():
        raise AccountError(None, "Password must not be your email address")


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


@dataclass
class SignIn:
    user: User | None
    reason: str  # "ok", "bad", "disabled", "locked", "no-password"


def authenticate(email: str, password: str) -> SignIn:
    """Check an email and password. Every outcome is audited; nothing is committed here."""
    hasher = password_hasher()
    user = db.session.scalar(select(User).where(User.email == normalise_email(email)))
    now = clock.utcnow()
    if user is not None and user.locked_until and user.locked_until > now:
        audit.record("auth.login_refused", user, user=user, detail={"reason": "locked"})
        return SignIn(user, "locked")
    if user is None or not user.password_hash:
        # Spend the same effort as a real check so that timing does not reveal accounts.
        try:
            hasher.verify(_dummy_hash(hasher), password + "x")
        except VerificationError:
            pass
        audit.record(
            "auth.login_failed",
            user=user,
            object_type="User",
            detail={"email": normalise_email(email)[:254], "reason": "unknown account"},
        )
        return SignIn(None, "bad")
    try:
        hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        audit.record("auth.login_failed", user, user=user, detail={"reason": "wrong password"})
        return SignIn(user, "bad")
    if not user.is_active:
        audit.record("auth.login_refused", user, user=user, detail={"reason": "disabled"})
        return SignIn(user, "disabled")
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    return SignIn(user, "ok")


_DUMMY: dict[tuple, str] = {}


def _dummy_hash(hasher: PasswordHasher) -> str:
    key = (hasher.time_cost, hasher.memory_cost, hasher.parallelism)
    if key not in _DUMMY:
        _DUMMY[key] = hasher.hash(secrets.token_urlsafe(16))
    return _DUMMY[key]


def account_exists(email: str) -> bool:
    return (
        db.session.scalar(select(User.id).where(User.email == normalise_email(email))) is not None
    )


def refuse_locked(email: str) -> None:
    """Record a sign-in refused because the address is locked (nothing is hashed)."""
    user = db.session.scalar(select(User).where(User.email == normalise_email(email)))
    audit.record(
        "auth.login_refused",
        user,
        user=user,
        object_type="User",
        detail={"reason": "locked", "email": normalise_email(email)[:254]},
    )
    db.session.commit()


# --- sessions ----------------------------------------------------------------------------


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(user: User) -> str:
    """Open a server-side session for ``user`` and return its token (kept in the cookie)."""
    token = secrets.token_urlsafe(32)
    now = clock.utcnow()
    db.session.add(
        UserSession(token_hash=_digest(token), user=user, created_at=now, last_seen_at=now)
    )
    user.locked_until = None
    user.session_token = token
    audit.record("auth.login", user, user=user)
    return token


# The session, its user, the user's grants, their organisations and those organisations'
# partnerships in one query: every signed-in page needs them before it can answer (the
# partnerships set what a tenant page may read), even with a 404. Built once, as every
# signed-in request runs it: a statement built afresh works out its cache key each time.
_SESSION_BY_TOKEN = (
    select(UserSession)
    .where(UserSession.token_hash == bindparam("token_hash"))
    .options(
        joinedload(UserSession.user)
        .joinedload(User.tenant_grants)
        .joinedload(TenantGrant.tenant)
        .joinedload(Tenant.partnerships)
    )
)


def _session_row(token: str) -> UserSession | None:
    result = db.session.execute(_SESSION_BY_TOKEN, {"token_hash": _digest(token)})
    return result.unique().scalar_one_or_none()


def load_session(token: str) -> Principal | None:
    """The person of a live session, or None if it has ended, expired or been revoked."""
    if not token:
        return None
    found = read_session(token, _digest(token))
    if found is None or found.ended_at is not None:
        return None
    now = clock.utcnow()
    config = current_app.config
    expired = None
    if now - found.created_at > config["SESSION_ABSOLUTE_TIMEOUT"]:
        expired = "absolute timeout"
    elif now - found.last_seen_at > config["SESSION_IDLE_TIMEOUT"]:
        expired = "idle timeout"
    elif not found.principal.is_active:
        expired = "account disabled"
    if expired:
        row = _session_row(token)
        row.ended_at, row.end_reason = now, expired
        audit.record("auth.session_expired", row.user, user=row.user, detail={"reason": expired})
        db.session.commit()
        return None
    if now - found.last_seen_at > timedelta(seconds=60):
        # Touch at most once a minute: enough for a 30-minute idle limit, few writes.
        db.session.execute(
            update(UserSession).where(UserSession.id == found.id).values(last_seen_at=now)
        )
        db.session.commit()
    return found.principal


def end_session(token: str | None, reason: str = "signed out") -> None:
    if not token:
        return
    row = _session_row(token)
    if row is not None and row.ended_at is None:
        row.ended_at, row.end_reason = clock.utcnow(), reason
        audit.record("auth.logout", row.user, user=row.user)


def end_all_sessions(user: User, reason: str) -> None:
    db.session.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
        .values(ended_at=clock.utcnow(), end_reason=reason)
    )


# --- emailed tokens: invitations and password resets -------------------------------------


def issue_token(user: User, purpose: str) -> str:
    lifetime = current_app.config[
        "INVITATION_LIFETIME" if purpose == "invite" else "PASSWORD_RESET_LIFETIME"
    ]
    token = secrets.token_urlsafe(32)
    now = clock.utcnow()
    db.session.add(
        AuthToken(
            token_hash=_digest(token),
            purpose=purpose,
            user=user,
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    return token


def find_token(token: str, purpose: str) -> AuthToken | None:
    """A usable token: right purpose, not used, not expired, account not disabled."""
    row = db.session.scalar(select(AuthToken).where(AuthToken.token_hash == _digest(token or "")))
    if row is None or row.purpose != purpose or row.used_at is not None:
        return None
    if row.expires_at <= clock.utcnow() or not row.user.is_active:
        return None
    return row


def set_password_with_token(row: AuthToken, password: str) -> User:
    """Use an invitation or reset token to set a password; the token and old sessions end."""
    user = row.user
    check_password_rules(password, user)
    now = clock.utcnow()
    user.password_hash = hash_password(password)
    user.locked_until = None
    row.used_at = now
    db.session.execute(
        update(AuthToken)
        .where(AuthToken.user_id == user.id, AuthToken.used_at.is_(None))
        .values(used_at=now)
    )
    end_all_sessions(user, "password changed")
    # A new password ends any sign-in lock, as the locked message promises.
    db.session.execute(delete(SignInLock).where(SignInLock.email == user.email))
    audit.record("auth.password_set", user, user=user, detail={"via": row.purpose})
    db.session.commit()
    return user


def external_url(endpoint: str, **values) -> str:
    """An absolute link for an email, always from the configured base address.

    Never from the current request: its Host header is whatever the visitor sent.
    """
    base = current_app.config.get("PORTAL_BASE_URL") or DEVELOPMENT_BASE_URL
    with current_app.test_request_context(base_url=base):
        return url_for(endpoint, _external=True, **values)


def request_password_reset(email: str) -> None:
    """Queue a reset email for ``email``, whatever the address.

    Every request does the same work (one job, queued) and gets the same answer; whether
    an account exists is decided later, by the job, out of sight of whoever asked. A slow
    or broken mail server therefore changes neither the answer nor its timing.
    """
    from portal.jobs import services as jobs
    from portal.jobs.tasks import PASSWORD_RESET_MAIL

    jobs.enqueue(
        PASSWORD_RESET_MAIL, title="Password reset email", email=normalise_email(email)[:254]
    )


def send_password_reset(email: str) -> bool:
    """Email a reset link if the account exists and is active (run by the job queue).

    Nothing is committed here: the new token and its audit event are written together
    with the job's success, after the message has been handed to the mail server, so a
    failed send leaves no token behind. True if a message was sent.
    """
    user = db.session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None or not user.is_active:
        return False
    token = issue_token(user, "reset")
    audit.record("auth.password_reset_requested", user, user=user)
    hours = int(current_app.config["PASSWORD_RESET_LIFETIME"].total_seconds() // 3600)
    mail.send(
        user.email,
        "Reset your password for the Equality Partnership Portal",
        f"Hello {user.name},\n\n"
        "Somebody asked to reset the password for your account. If it was you, use this "
        f"link within {hours} hours. It works once.\n\n"
        f"{external_url('auth.reset_password', token=token)}\n\n"
        "If it was not you, you can ignore this email: your password has not changed.\n",
    )
    return True


# --- accounts ----------------------------------------------------------------------------


def disable(user: User, *, by: User, tenant: Tenant | None = None) -> None:
    """Disable an account: it can no longer sign in, and its sessions end now."""
    if user.id == by.id:
        raise AccountError(None, "You cannot disable your own account")
    if user.disabled_at is None:
        user.disabled_at = clock.utcnow()
        end_all_sessions(user, "account disabled")
        audit.record("user.disabled", user, tenant_id=tenant.id if tenant else None)
    db.session.commit()


def enable(user: User, *, tenant: Tenant | None = None) -> None:
    if user.disabled_at is not None:
        user.disabled_at = None
        audit.record("user.enabled", user, tenant_id=tenant.id if tenant else None)
    db.session.commit()
