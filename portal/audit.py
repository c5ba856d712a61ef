"""The append-only audit trail.

Every sign-in attempt, grant change, create, update, delete and export lands here with
the time (UTC), the user, the tenant, the action and the object. Rows are never changed:
the ORM refuses, and on PostgreSQL the application's role holds no UPDATE or DELETE.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import JSON, ForeignKey, String, event, select
from sqlalchemy.orm import Mapped, mapped_column

from portal import clock, tenancy
from portal.extensions import db

ACTION_LABELS = {
    "auth.login": "Signed in",
    "auth.login_failed": "Sign-in failed",
    "auth.login_refused": "Sign-in refused",
    "auth.account_locked": "Account locked after failed sign-ins",
    "auth.logout": "Signed out",
    "auth.session_expired": "Session expired",
    "auth.password_reset_requested": "Password reset requested",
    "auth.password_set": "Password set",
    "user.invited": "Person invited",
    "user.disabled": "Account disabled",
    "user.enabled": "Account enabled",
    "user.removed": "Person removed from the organisation",
    "user.suspended": "Access to the organisation suspended",
    "user.restored": "Access to the organisation restored",
    "user.invitation_accepted": "Invitation accepted",
    "grant.added": "Role granted",
    "grant.removed": "Role removed",
    "partnership.created": "Partnership created",
    "partnership.updated": "Partnership updated",
    "tenant.created": "Organisation created",
    "tenant.updated": "Organisation updated",
    "cross_tenant.read": "Figures read across organisations",
}


class AuditEvent(db.Model):
    """One thing that happened, kept for good."""

    # Row-level security lets the app read only the current tenant's events, and an
    # INSERT … RETURNING must pass that read policy too; so the id is taken from the
    # sequence first and no RETURNING is used, letting sign-ins and portal-level events
    # (no tenant in scope) be written.
    __table_args__ = {"implicit_returning": False}

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    actor_email: Mapped[str | None] = mapped_column(String(254))
    tenant_id: Mapped[int | None] = mapped_column(
        ForeignKey("tenant.id", ondelete="RESTRICT"), index=True
    )
    action: Mapped[str] = mapped_column(String(60), index=True)
    object_type: Mapped[str | None] = mapped_column(String(60))
    object_id: Mapped[str | None] = mapped_column(String(60))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    address: Mapped[str | None] = mapped_column(String(64))

    @property
    def label(self) -> str:
        return ACTION_LABELS.get(self.action, self.action.replace("_", " ").replace(".", ": "))


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _append_only(mapper, connection, target) -> None:
    raise PermissionError("the audit trail is append-only")


def record(
    action: str,
    obj: Any = None,
    *,
    user: Any = None,
    tenant_id: int | None = None,
    detail: dict[str, Any] | None = None,
    object_type: str | None = None,
    object_id: Any = None,
) -> AuditEvent:
    """Add an event to the session; it is written with the change it describes."""
    if user is None and has_request_context() and current_user and current_user.is_authenticated:
        user = current_user
    if obj is not None:
        object_type = object_type or type(obj).__name__
        object_id = object_id if object_id is not None else getattr(obj, "id", None)
    if tenant_id is None:
        tenant_id = tenancy.current_tenant_id() or getattr(obj, "tenant_id", None)
    event_row = AuditEvent(
        at=clock.utcnow(),
        user_id=getattr(user, "id", None),
        actor_email=getattr(user, "email", None),
        tenant_id=tenant_id,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        detail=detail or {},
        address=request.remote_addr if has_request_context() else None,
    )
    db.session.add(event_row)
    return event_row


def for_tenant(tenant_id: int):
    """The trail of one tenant, newest first, as a select() for pagination."""
    return (
        select(AuditEvent)
        .where(AuditEvent.tenant_id == tenant_id)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    )
