"""People, what they may do where, and their sign-in sessions."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.partners.models import Partnership, Tenant

TENANT_ROLES = {
    "officer": "Equality officer",
    "caseworker": "Caseworker",
    "viewer": "Viewer",
    "admin": "Organisation administrator",
    "ceo": "Chief executive",
}
TENANT_ROLE_HINTS = {
    "officer": "Edits commitments, objectives, actions and their progress, measures and their "
    "figures, and impact assessments, and drafts the annual return.",
    "caseworker": "Keeps the hate-incident register. Case records are seen by nobody else.",
    "viewer": "Reads this organisation's pages, for example councillors and monitoring groups.",
    "admin": "Invites people, suspends their access here and changes what they may do (never "
    "their own roles), reads the audit trail and sets how long hate-incident records are kept.",
    "ceo": "Reads this organisation's plan, figures and impact assessments, but not "
    "hate-incident case records, and signs off the annual return.",
}
PARTNERSHIP_ROLES = {"lead": "Partnership lead"}


class HoldsGrants:
    """What a person may do where, from the grants they hold (``held_grants``: each with
    ``tenant``, ``tenant_id``, ``role`` and ``suspended_at``). The same answers for the
    ORM row (:class:`User`) and for the person read with their session
    (:class:`portal.auth.principal.Principal`)."""

    def held_grants(self) -> list:
        raise NotImplementedError

    def tenant_for(self, slug: str):
        """The organisation ``slug`` if this person holds a grant there (in use or not)."""
        return next((g.tenant for g in self.held_grants() if g.tenant.slug == slug), None)

    def roles_in(self, tenant) -> set[str]:
        """The roles this person may use in ``tenant`` now (a suspended access gives none)."""
        return {
            g.role
            for g in self.held_grants()
            if g.tenant_id == tenant.id and g.suspended_at is None
        }

    def held_roles_in(self, tenant) -> set[str]:
        """The roles this person holds in ``tenant``, in use or suspended."""
        return {g.role for g in self.held_grants() if g.tenant_id == tenant.id}

    def is_suspended_in(self, tenant) -> bool:
        """True if this tenant's administrators have suspended the person's access there."""
        return any(
            g.tenant_id == tenant.id and g.suspended_at is not None for g in self.held_grants()
        )

    def has_role(self, tenant, *roles: str) -> bool:
        return bool(self.roles_in(tenant) & set(roles))


class User(HoldsGrants, UserMixin, db.Model):
    """Somebody who can sign in. What they may do comes from their grants."""

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    is_portal_admin: Mapped[bool] = mapped_column(default=False)
    disabled_at: Mapped[datetime | None]
    locked_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    tenant_grants: Mapped[list[TenantGrant]] = relationship(
        back_populates="user", cascade="all, delete-orphan", foreign_keys="TenantGrant.user_id"
    )
    partnership_grants: Mapped[list[PartnershipGrant]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    # Set for the request by the session loader; Flask-Login stores it in the cookie.
    session_token = None

    def get_id(self) -> str | None:
        return self.session_token

    @property
    def record(self) -> User:
        """The person's ORM row: this one (as :attr:`portal.auth.principal.Principal.record`
        is for a person read with their session)."""
        return self

    @property
    def is_active(self) -> bool:
        return self.disabled_at is None

    def held_grants(self) -> list[TenantGrant]:
        return self.tenant_grants

    def grant_in(self, tenant: Tenant, role: str) -> TenantGrant | None:
        return next(
            (g for g in self.tenant_grants if g.tenant_id == tenant.id and g.role == role), None
        )

    def leads(self, partnership: Partnership) -> bool:
        return any(g.partnership_id == partnership.id for g in self.partnership_grants)

    def places(self) -> list[tuple[str, Tenant | Partnership]]:
        """Every tenant and partnership this user may enter, in a stable order."""
        tenants = {g.tenant.id: g.tenant for g in self.tenant_grants if g.suspended_at is None}
        partnerships = {g.partnership.id: g.partnership for g in self.partnership_grants}
        return [("partnership", p) for p in sorted(partnerships.values(), key=lambda p: p.name)] + [
            ("tenant", t) for t in sorted(tenants.values(), key=lambda t: t.name)
        ]

    def __repr__(self) -> str:
        return f"<User {self.email}>"


class TenantGrant(db.Model):
    """A role held by a user in one tenant.

    Grants are directory data, read before any tenant is chosen (to decide where a user
    may go), so they are not tenant-owned rows; every page that lists or changes them
    filters by the tenant in the URL.
    """

    __table_args__ = (UniqueConstraint("user_id", "tenant_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    granted_at: Mapped[datetime | None]
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    # Set when the tenant's administrators suspend the person's access to this tenant:
    # the grant is kept (so access can be restored as it was) but gives no role.
    suspended_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(back_populates="tenant_grants", foreign_keys=[user_id])
    tenant: Mapped[Tenant] = relationship()
    granted_by: Mapped[User | None] = relationship(foreign_keys=[granted_by_id])


class PartnershipGrant(db.Model):
    """A role held by a user in one partnership (partnership lead)."""

    __table_args__ = (UniqueConstraint("user_id", "partnership_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    partnership_id: Mapped[int] = mapped_column(
        ForeignKey("partnership.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(20), default="lead")

    user: Mapped[User] = relationship(back_populates="partnership_grants")
    partnership: Mapped[Partnership] = relationship()


class UserSession(db.Model):
    """A signed-in session, kept on the server so that it can be ended there."""

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(String(40))

    user: Mapped[User] = relationship()


class AuthToken(db.Model):
    """A single-use, expiring token sent by email: an invitation or a password reset."""

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class SignInLock(db.Model):
    """Sign-in to an email address refused until ``locked_until``: from one network
    address, or from every address when ``address`` is empty.

    Kept by email address, not by account, so that a lock reads the same whether or not
    the account exists.
    """

    __tablename__ = "sign_in_lock"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    address: Mapped[str] = mapped_column(String(64), default="")
    locked_until: Mapped[datetime]
    created_at: Mapped[datetime]


class Invitation(db.Model):
    """An invitation to roles in one tenant, or to lead one partnership, until accepted.

    Nothing changes for anybody until the person at ``email`` accepts: an existing account
    signs in and accepts; a new address chooses a password. Inviting the same address to
    the same place again replaces the earlier invitation, whose link stops working.
    Invitations are directory data, like grants: read before any tenant is in scope.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    name: Mapped[str] = mapped_column(String(200))
    tenant_id: Mapped[int | None] = mapped_column(
        ForeignKey("tenant.id", ondelete="CASCADE"), index=True
    )
    partnership_id: Mapped[int | None] = mapped_column(
        ForeignKey("partnership.id", ondelete="CASCADE"), index=True
    )
    roles: Mapped[str] = mapped_column(String(200), default="")
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    replaced_at: Mapped[datetime | None]

    tenant: Mapped[Tenant | None] = relationship()
    partnership: Mapped[Partnership | None] = relationship()
    invited_by: Mapped[User | None] = relationship()

    @property
    def role_list(self) -> list[str]:
        return [r for r in self.roles.split(",") if r]

    @property
    def place(self) -> Tenant | Partnership | None:
        return self.tenant or self.partnership
