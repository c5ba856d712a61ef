"""Sign-off: sending a return to the chief executive, sending it back, signing it off
(the snapshot and the release of its figures) and reopening it."""

from __future__ import annotations

from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select

from portal import audit, clock
from portal.auth import lockout
from portal.auth.services import password_hasher
from portal.extensions import db
from portal.partners.models import Tenant
from portal.returns import services
from portal.returns.models import (
    AWAITING_SIGN_OFF,
    DRAFT,
    SIGNED_OFF,
    AnnualReturn,
    ReportingYear,
    ReturnReopening,
    ReturnSignOff,
    ReturnSnapshot,
    SnapshotImage,
)
from portal.tenancy import tenant_scope

# --- sign-off ------------------------------------------------------------------------------

SIGN_OFF_STATEMENT = (
    "I have read this return. To the best of my knowledge it is accurate and complete, and "
    "I sign it off on behalf of the organisation for publication in the partnership's joint "
    "annual report."
)


LOCKED_MESSAGE = (
    "There have been too many wrong passwords for this account. Try again in 15 minutes, "
    "or reset your password"
)


class PasswordLocked(services.ReturnsError):
    """Too many wrong passwords: sign-off is refused, as signing in is, for a while."""


def send_for_sign_off(ret: AnnualReturn, *, user=None, notify: bool = True) -> None:
    """Send a complete return to the chief executive, who is emailed."""
    if ret.status != DRAFT:
        raise services.ReturnsError.of({"return": "This return has already been sent for sign-off"})
    unfinished = [t.title for t in services.tasks(ret)[:-1] if t.status != services.COMPLETED_TASK]
    if unfinished:
        raise services.ReturnsError.of(
            {"return": "Complete every section first: " + ", ".join(unfinished)}
        )
    ret.status = AWAITING_SIGN_OFF
    ret.sent_for_sign_off_at = clock.utcnow()
    ret.sent_for_sign_off_by_id = getattr(user, "id", None)
    ret.updated_at = ret.sent_for_sign_off_at
    audit.record(
        "return.sent_for_sign_off", ret, user=user, detail={"year": ret.reporting_year.label}
    )
    db.session.commit()
    if notify:
        tenant = db.session.get(Tenant, ret.tenant_id)
        services.queue_mail(tenant, ret.reporting_year, "sent for sign-off", user=user)


def send_back(ret: AnnualReturn, *, comments: str, user=None) -> None:
    """The chief executive returns it to the officers with comments."""
    comments = (comments or "").strip()
    if ret.status != AWAITING_SIGN_OFF:
        raise services.ReturnsError.of({"comments": "This return is not waiting for sign-off"})
    if not comments:
        raise services.ReturnsError.of(
            {"comments": "Enter what needs to change before you can sign off"}
        )
    if len(comments) > 5000:
        raise services.ReturnsError.of(
            {"comments": "Your comments must be 5,000 characters or fewer"}
        )
    ret.status = DRAFT
    ret.sent_back_comments = comments
    ret.sent_back_at = clock.utcnow()
    ret.updated_at = ret.sent_back_at
    audit.record(
        "return.sent_back",
        ret,
        user=user,
        detail={"year": ret.reporting_year.label, "comments": comments},
    )
    db.session.commit()
    tenant = db.session.get(Tenant, ret.tenant_id)
    services.queue_mail(tenant, ret.reporting_year, "sent back", user=user, detail=comments)


def check_password(user, password: str) -> bool:
    hasher = password_hasher()
    try:
        return bool(user.password_hash) and hasher.verify(user.password_hash, password or "")
    except (VerificationError, InvalidHashError):
        return False


def sign_off(
    ret: AnnualReturn,
    *,
    user,
    password: str,
    confirmed: bool,
    name: str,
    role: str,
    seen: str | None = None,
    address: str | None = None,
) -> ReturnSnapshot:
    """Sign off: freeze the return as an immutable snapshot with its SHA-256, and release
    its counts once (trigger "sign-off"). Nothing is released unless every check passes.

    ``seen`` is :func:`shown_hash` of the return as the chief executive's page showed it;
    a return whose drawn-in records changed since then is not signed off unread. Wrong
    passwords from ``address`` (the request's network address) count towards the same
    lock as at sign-in (:mod:`portal.auth.lockout`)."""
    name, role = (name or "").strip(), (role or "").strip()
    errors = {}
    if ret.status != AWAITING_SIGN_OFF:
        errors["confirm"] = "This return is not waiting for sign-off"
    elif seen is not None and seen != shown_hash(ret):
        errors["confirm"] = (
            "The return has changed since you opened this page. Read it again, then sign it off"
        )
    if not confirmed:
        errors["confirm"] = "Confirm the statement to sign off"
    if not name:
        errors["name"] = "Enter your name"
    elif len(name) > 200:
        errors["name"] = "Your name must be 200 characters or fewer"
    if not role:
        errors["role"] = "Enter your role, for example Chief Executive"
    elif len(role) > 200:
        errors["role"] = "Your role must be 200 characters or fewer"
    if address is not None and lockout.is_locked(user.email, address):
        raise PasswordLocked("password", LOCKED_MESSAGE)
    if not password:
        errors["password"] = "Enter your password"  # noqa: S105 - a message
    elif not check_password(user, password):
        audit.record("return.sign_off_refused", ret, user=user, detail={"reason": "wrong password"})
        db.session.commit()
        errors["password"] = "The password is not right"  # noqa: S105 - a message
        if address is not None and lockout.record_failure(user.email, address):
            raise PasswordLocked("password", LOCKED_MESSAGE)
    if errors:
        raise services.ReturnsError.of(errors)
    return freeze(ret, user=user, name=name, role=role)


def freeze(ret: AnnualReturn, *, user, name: str, role: str) -> ReturnSnapshot:
    """The sign-off itself, once its checks have passed (:func:`sign_off`)."""
    year = ret.reporting_year
    now = clock.utcnow()
    signed = {
        "name": name,
        "role": role,
        "date": now.date().isoformat(),
        "statement": SIGN_OFF_STATEMENT,
    }
    content = build_content(ret, release=True, user=user, sign_off=signed)
    previous = db.session.scalar(
        select(func.max(ReturnSnapshot.version)).where(
            ReturnSnapshot.tenant_id == ret.tenant_id,
            ReturnSnapshot.reporting_year_id == year.id,
        )
    )
    snapshot = ReturnSnapshot(
        tenant_id=ret.tenant_id,
        reporting_year_id=year.id,
        version=(previous or 0) + 1,
        content=content,
        sha256=services.content_hash(content),
        signed_off_at=now,
        signed_off_by_name=name,
        signed_off_by_role=role,
    )
    db.session.add(snapshot)
    db.session.flush()
    for position, study in enumerate(ret.case_studies, start=1):
        if study.image is not None:
            db.session.add(
                SnapshotImage(
                    tenant_id=ret.tenant_id,
                    snapshot_id=snapshot.id,
                    position=position,
                    content_type=study.image_type,
                    data=study.image,
                )
            )
    db.session.add(
        ReturnSignOff(
            return_id=ret.id,
            snapshot_id=snapshot.id,
            user_id=getattr(user, "id", None),
            name=name,
            role=role,
            statement=SIGN_OFF_STATEMENT,
            signed_at=now,
        )
    )
    ret.status = SIGNED_OFF
    ret.updated_at = now
    audit.record(
        "return.signed_off",
        ret,
        user=user,
        detail={
            "year": year.label,
            "snapshot": snapshot.id,
            "version": snapshot.version,
            "sha256": snapshot.sha256,
            "name": name,
            "role": role,
        },
    )
    db.session.commit()
    return snapshot


def shown_hash(ret: AnnualReturn, content: dict | None = None) -> str:
    """The SHA-256 of the return as the sign-off page shows it (``content`` if built)."""
    return services.content_hash(content if content is not None else build_content(ret))


def build_content(ret: AnnualReturn, **kwargs) -> dict:
    """The return as it will appear (see :mod:`portal.returns.content`)."""
    from portal.returns import content

    return content.build(ret, **kwargs)


def reopen(year: ReportingYear, tenant: Tenant, *, reason: str, user=None) -> ReturnReopening:
    """The lead reopens a signed-off return, with a reason: its snapshot is withdrawn and
    the return goes back to the officers, to be signed off again."""
    reason = (reason or "").strip()
    snapshot = services.current_snapshot(year, tenant)
    if snapshot is None:
        raise services.ReturnsError.of(
            {"reason": f"{tenant.name} has no signed-off return to reopen"}
        )
    if not reason:
        raise services.ReturnsError.of({"reason": "Enter the reason for reopening the return"})
    if len(reason) > 2000:
        raise services.ReturnsError.of({"reason": "The reason must be 2,000 characters or fewer"})
    row = ReturnReopening(
        snapshot_id=snapshot.id,
        reason=reason,
        reopened_at=clock.utcnow(),
        reopened_by_id=getattr(user, "id", None),
    )
    db.session.add(row)
    detail = {
        "partnership": year.partnership.slug,
        "year": year.label,
        "member": tenant.slug,
        "snapshot": snapshot.id,
        "version": snapshot.version,
        "reason": reason,
    }
    audit.record("return.reopened", row, user=user, tenant_id=None, detail=detail)
    with tenant_scope(tenant):
        ret = services.return_for(year)
        if ret is not None:
            ret.status = DRAFT
            ret.sent_back_comments = f"Reopened by the partnership: {reason}"
            ret.sent_back_at = row.reopened_at
            ret.updated_at = row.reopened_at
        audit.record("return.reopened", ret, user=user, object_type="AnnualReturn", detail=detail)
        db.session.commit()
    services.queue_mail(tenant, year, "reopened", user=user, detail=reason)
    return row
