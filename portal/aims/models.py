"""The joint aims framework of a partnership, and the links from commitments to it.

A partnership keeps one framework per plan period (for example 2012–16): roles ("As a
Community Leader we will:"), each with its lead-in and "by:" list and its joint aims;
every aim with its "How will we measure our results?" measures; and the "Delivering our
commitments" and "Rights and Responsibilities" statements. These rows belong to the
partnership, not to any one tenant: they are :class:`~portal.tenancy.PartnershipOwned`.
A link from a tenant's commitment to a joint aim is the tenant's own data.
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models import OrderedMixin, TimestampMixin, VersionedMixin
from portal.tenancy import PartnershipOwned, TenantOwned

DELIVERING = "delivering"
RIGHTS = "rights"
STATEMENT_SECTIONS = {
    DELIVERING: "Delivering our commitments",
    RIGHTS: "Rights and Responsibilities",
}


class PlanPeriod(TimestampMixin, VersionedMixin, PartnershipOwned, db.Model):
    """A partnership's aims and commitments for a span of years, such as 2012–16."""

    id: Mapped[int] = mapped_column(primary_key=True)
    start_year: Mapped[int]
    end_year: Mapped[int]
    title: Mapped[str] = mapped_column(String(300))
    introduction: Mapped[str] = mapped_column(Text, default="", info={"limit": 10000})
    alternative_formats: Mapped[str] = mapped_column(Text, default="", info={"limit": 2000})
    is_draft: Mapped[bool] = mapped_column(default=False)
    is_demo: Mapped[bool] = mapped_column(default=False)
    source: Mapped[str] = mapped_column(String(300), default="")

    roles: Mapped[list[PartnershipRole]] = relationship(
        back_populates="period",
        order_by="PartnershipRole.position, PartnershipRole.id",
        cascade="all, delete-orphan",
    )
    statements: Mapped[list[PeriodStatement]] = relationship(
        back_populates="period",
        order_by="PeriodStatement.position, PeriodStatement.id",
        cascade="all, delete-orphan",
    )

    @property
    def label(self) -> str:
        """The period as people write it: "2012–16"."""
        if self.start_year // 100 == self.end_year // 100:
            return f"{self.start_year}–{self.end_year % 100:02d}"
        return f"{self.start_year}–{self.end_year}"

    @property
    def paragraphs(self) -> list[str]:
        return [p.strip() for p in self.introduction.split("\n\n") if p.strip()]

    def statements_in(self, section: str) -> list[PeriodStatement]:
        return [s for s in self.statements if s.section == section]

    def __repr__(self) -> str:
        return f"<PlanPeriod {self.label}>"


class PartnershipRole(VersionedMixin, OrderedMixin, PartnershipOwned, db.Model):
    """A role the partners take on together, such as "As a Community Leader we will:"."""

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(
        ForeignKey("plan_period.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(300))
    lead_in: Mapped[str] = mapped_column(Text, default="", info={"limit": 2000})

    period: Mapped[PlanPeriod] = relationship(back_populates="roles")
    items: Mapped[list[RoleListItem]] = relationship(
        back_populates="role",
        order_by="RoleListItem.position, RoleListItem.id",
        cascade="all, delete-orphan",
    )
    aims: Mapped[list[JointAim]] = relationship(
        back_populates="role",
        order_by="JointAim.position, JointAim.id",
        cascade="all, delete-orphan",
    )


class RoleListItem(VersionedMixin, OrderedMixin, PartnershipOwned, db.Model):
    """One entry of a role's "Work together to … by:" list."""

    id: Mapped[int] = mapped_column(primary_key=True)
    role_id: Mapped[int] = mapped_column(
        ForeignKey("partnership_role.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(Text, info={"limit": 2000})

    role: Mapped[PartnershipRole] = relationship(back_populates="items")


class JointAim(VersionedMixin, OrderedMixin, PartnershipOwned, db.Model):
    """An aim every partner works towards, under one role of a plan period.

    Other features link their records to a joint aim by its ``id``; the aim's
    ``partnership_id`` says which tenants may link to it (the partnership's members).
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    role_id: Mapped[int] = mapped_column(
        ForeignKey("partnership_role.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(Text, info={"limit": 2000})

    role: Mapped[PartnershipRole] = relationship(back_populates="aims")
    measures: Mapped[list[AimMeasure]] = relationship(
        back_populates="aim",
        order_by="AimMeasure.position, AimMeasure.id",
        cascade="all, delete-orphan",
    )

    @property
    def period(self) -> PlanPeriod:
        return self.role.period

    def __repr__(self) -> str:
        return f"<JointAim {self.id}: {self.text[:30]}>"


class AimMeasure(VersionedMixin, OrderedMixin, PartnershipOwned, db.Model):
    """One answer to "How will we measure our results?" for a joint aim."""

    id: Mapped[int] = mapped_column(primary_key=True)
    aim_id: Mapped[int] = mapped_column(ForeignKey("joint_aim.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text, info={"limit": 2000})

    aim: Mapped[JointAim] = relationship(back_populates="measures")


class PeriodStatement(VersionedMixin, OrderedMixin, PartnershipOwned, db.Model):
    """A "Delivering our commitments" or "Rights and Responsibilities" statement."""

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(
        ForeignKey("plan_period.id", ondelete="CASCADE"), index=True
    )
    section: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text, info={"limit": 2000})

    period: Mapped[PlanPeriod] = relationship(back_populates="statements")

    @property
    def section_label(self) -> str:
        return STATEMENT_SECTIONS[self.section]


class CommitmentJointAim(TenantOwned, db.Model):
    """A tenant's commitment serves a joint aim of one of the tenant's partnerships."""

    __tablename__ = "commitment_joint_aim"

    commitment_id: Mapped[int] = mapped_column(
        ForeignKey("commitment.id", ondelete="CASCADE"), primary_key=True
    )
    joint_aim_id: Mapped[int] = mapped_column(
        ForeignKey("joint_aim.id", ondelete="CASCADE"), primary_key=True, index=True
    )
