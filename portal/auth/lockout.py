"""Locking sign-in after wrong passwords, without letting anybody lock anybody else out.

Failures are counted per email address and network address: ten wrong passwords from one
network address within 15 minutes lock that email address *from that network address*
for 15 minutes. Somebody who knows a colleague's email address therefore only locks
themselves out. Only when the failures for one email address come from many network
addresses (``LOGIN_LOCK_ADDRESSES``, 5) - guessing spread out to get round the first lock
- is the email address locked from everywhere.

The owner of a locked account is emailed a single-use link that unlocks it (at most one
such email every 15 minutes). Locks are kept by email address, not by account, and every
answer reads the same whether or not an account exists. Counters live in the rate-limit
storage (Redis in production, shared by every app server); locks live in the database,
with their end time, so they last exactly as long as they say.
"""

from __future__ import annotations

from flask import current_app
from limits import parse
from sqlalchemy import delete, or_, select

from portal import audit, clock, mail
from portal.auth import services
from portal.auth.models import AuthToken, SignInLock, User
from portal.extensions import db, limiter

EVERYWHERE = ""  # the ``address`` of a lock that applies from every network address


def _limit(name: str):
    return parse(current_app.config[name])


def _prefix() -> str:
    return current_app.config.get("RATELIMIT_KEY_PREFIX") or "portal"


def _scope(kind: str, email: str, address: str | None = None) -> tuple[str, ...]:
    parts = (_prefix(), kind, email)
    return parts if address is None else (*parts, address)


def _duration():
    return current_app.config["ACCOUNT_LOCK_DURATION"]


def is_locked(email: str, address: str) -> bool:
    """True if sign-in to ``email`` from ``address`` is refused now. Nothing is hashed."""
    email = services.normalise_email(email)
    if not email:
        return False
    found = db.session.scalar(
        select(SignInLock.id)
        .where(
            SignInLock.email == email,
            or_(SignInLock.address == address, SignInLock.address == EVERYWHERE),
            SignInLock.locked_until > clock.utcnow(),
        )
        .limit(1)
    )
    return found is not None


def record_failure(email: str, address: str) -> bool:
    """Count a wrong password for ``email`` from ``address``; lock where the limits are
    reached. True if sign-in from ``address`` is now locked."""
    email = services.normalise_email(email)
    if not email:
        return False
    store = limiter.limiter
    per_address = _limit("LOGIN_FAILURE_LIMIT")
    addresses = _limit("LOGIN_LOCK_ADDRESSES_LIMIT")
    everywhere = _limit("LOGIN_FAILURE_LIMIT")
    first_from_here = (
        store.get_window_stats(per_address, *_scope("login-account", email, address)).remaining
        == per_address.amount
    )
    store.hit(per_address, *_scope("login-account", email, address))
    store.hit(everywhere, *_scope("login-account-total", email))
    if first_from_here:
        store.hit(addresses, *_scope("login-account-addresses", email))
    locked_here = False
    if not store.test(per_address, *_scope("login-account", email, address)):
        _lock(email, address)
        locked_here = True
    if not store.test(addresses, *_scope("login-account-addresses", email)) and not store.test(
        everywhere, *_scope("login-account-total", email)
    ):
        _lock(email, EVERYWHERE)
        locked_here = True
    db.session.commit()
    return locked_here


def _lock(email: str, address: str) -> None:
    now = clock.utcnow()
    active = db.session.scalar(
        select(SignInLock).where(
            SignInLock.email == email,
            SignInLock.address == address,
            SignInLock.locked_until > now,
        )
    )
    if active is not None:
        return
    until = now + _duration()
    db.session.add(SignInLock(email=email, address=address, locked_until=until, created_at=now))
    user = db.session.scalar(select(User).where(User.email == email))
    audit.record(
        "auth.account_locked",
        user,
        user=user,
        object_type="User",
        detail={
            "email": email[:254],
            "from": "every address" if address == EVERYWHERE else address,
            "until": until.isoformat(timespec="seconds"),
        },
    )
    # Queued for every address, account or not: the job decides, out of sight of whoever
    # is guessing, so neither the answer nor its timing tells them an account exists.
    from portal.jobs import services as jobs
    from portal.jobs.tasks import UNLOCK_MAIL

    jobs.enqueue(UNLOCK_MAIL, title="Sign-in unlock email", email=email[:254])


def send_unlock(email: str) -> bool:
    """Email the owner of a locked account a link that unlocks it (run by the job queue).

    Nothing happens for an address with no active account, or when such an email went out
    within the lock's duration. As with reset mail, the token is committed with the job's
    success, after the message has been handed over. True if a message was sent.
    """
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None or not user.is_active:
        return False
    now = clock.utcnow()
    recent = db.session.scalar(
        select(AuthToken.id).where(
            AuthToken.user_id == user.id,
            AuthToken.purpose == "unlock",
            AuthToken.created_at > now - _duration(),
        )
    )
    if recent is not None:
        return False
    token = services.issue_token(user, "unlock")
    hours = int(current_app.config["PASSWORD_RESET_LIFETIME"].total_seconds() // 3600)
    minutes = int(_duration().total_seconds() // 60)
    db.session.flush()
    mail.send(
        user.email,
        "Sign-in to your Equality Partnership Portal account is locked",
        f"Hello {user.name},\n\n"
        "Somebody has typed the wrong password for your account too many times, so signing "
        f"in is locked for {minutes} minutes.\n\n"
        f"If it was you, this link unlocks your account at once. It works once, within "
        f"{hours} hours:\n\n"
        f"{services.external_url('auth.unlock_account', token=token)}\n\n"
        "If it was not you, nobody has signed in: your password has not been accepted. "
        "You may want to choose a new password once you have signed in.\n",
    )
    return True


def clear_failures(email: str, address: str) -> None:
    """Forget the failures from ``address`` after a successful sign-in from it."""
    email = services.normalise_email(email)
    limiter.limiter.clear(_limit("LOGIN_FAILURE_LIMIT"), *_scope("login-account", email, address))


def unlock(row: AuthToken) -> User:
    """Use an unlock token: every lock on the account ends, and its counts start again."""
    user = row.user
    email = services.normalise_email(user.email)
    addresses = set(db.session.scalars(select(SignInLock.address).where(SignInLock.email == email)))
    db.session.execute(delete(SignInLock).where(SignInLock.email == email))
    store = limiter.limiter
    for address in addresses - {EVERYWHERE}:
        store.clear(_limit("LOGIN_FAILURE_LIMIT"), *_scope("login-account", email, address))
    store.clear(_limit("LOGIN_FAILURE_LIMIT"), *_scope("login-account-total", email))
    store.clear(_limit("LOGIN_LOCK_ADDRESSES_LIMIT"), *_scope("login-account-addresses", email))
    user.locked_until = None
    row.used_at = clock.utcnow()
    audit.record("auth.account_unlocked", user, user=user, detail={"via": "emailed link"})
    db.session.commit()
    return user
