"""Equality impact assessments (EqIAs) and joint assessments across a partnership."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal import clock
from portal.extensions import db
from portal.models import TimestampMixin, VersionedMixin
from portal.references import TenantNumbered
from portal.tenancy import PartnershipOwned, TenantOwned

# The nine protected characteristics of the Equality Act 2010, in the Act's order.
CHARACTERISTICS = {
    "age": "Age",
    "disability": "Disability",
    "gender_reassignment": "Gender reassignment",
    "marriage": "Marriage and civil partnership",
    "pregnancy": "Pregnancy and maternity",
    "race": "Race",
    "religion": "Religion or belief",
    "sex": "Sex",
    "sexual_orientation": "Sexual orientation",
}

IMPACTS = {
    "positive": "Positive",
    "neutral": "Neutral",
    "negative": "Negative",
    "unknown": "Not known",
}

KINDS = {"screening": "Screening", "full": "Full assessment"}


class ImpactAssessment(TimestampMixin, VersionedMixin, TenantNumbered, db.Model):
    """One equality impact assessment of a service, policy or function."""

    reference_prefix = "EQIA"

    __tablename__ = "impact_assessment"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(20))
    lead_officer: Mapped[str] = mapped_column(String(200))
    assessed_on: Mapped[date]
    decision: Mapped[str] = mapped_column(Text, default="", info={"limit": 5000})
    review_on: Mapped[date | None]
    is_published: Mapped[bool] = mapped_column(default=False)
    published_on: Mapped[date | None]
    is_demo: Mapped[bool] = mapped_column(default=False)

    impacts: Mapped[list[CharacteristicImpact]] = relationship(
        back_populates="assessment", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def kind_label(self) -> str:
        return KINDS.get(self.kind, self.kind)

    @property
    def is_review_overdue(self) -> bool:
        return self.review_on is not None and self.review_on < clock.utcnow().date()

    def impact_for(self, characteristic: str) -> CharacteristicImpact | None:
        return next((i for i in self.impacts if i.characteristic == characteristic), None)

    def ordered_impacts(self) -> list[CharacteristicImpact]:
        """The impacts in the Act's order of the characteristics."""
        order = list(CHARACTERISTICS)
        return sorted(self.impacts, key=lambda i: order.index(i.characteristic))

    def __repr__(self) -> str:
        return f"<ImpactAssessment {self.id}: {self.title[:30]}>"


# Reviews due, on an organisation's home (migration 0023_dashboard_speed).
Index("ix_impact_assessment_tenant_review", ImpactAssessment.tenant_id, ImpactAssessment.review_on)


class CharacteristicImpact(TenantOwned, db.Model):
    """The likely impact of an assessed service or policy on one protected characteristic."""

    __tablename__ = "impact_assessment_impact"
    __table_args__ = (UniqueConstraint("assessment_id", "characteristic"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(
        ForeignKey("impact_assessment.id", ondelete="CASCADE"), index=True
    )
    characteristic: Mapped[str] = mapped_column(String(30))
    impact: Mapped[str] = mapped_column(String(20))
    evidence: Mapped[str] = mapped_column(Text, default="", info={"limit": 5000})
    mitigation: Mapped[str] = mapped_column(Text, default="", info={"limit": 5000})

    assessment: Mapped[ImpactAssessment] = relationship(back_populates="impacts")

    @property
    def label(self) -> str:
        return CHARACTERISTICS.get(self.characteristic, self.characteristic)

    @property
    def impact_label(self) -> str:
        return IMPACTS.get(self.impact, self.impact)


class JointAssessment(PartnershipOwned, db.Model):
    """An assessment a partnership lead starts for its member organisations to contribute to.

    It belongs to the partnership, not to any one tenant; each member's contribution is
    that member's own row (:class:`JointContribution`), which the lead sees only once the
    member has submitted it.
    """

    __tablename__ = "joint_assessment"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(300))
    brief: Mapped[str] = mapped_column(Text, default="", info={"limit": 5000})
    lead_officer: Mapped[str] = mapped_column(String(200))
    due_on: Mapped[date | None]
    is_demo: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]
    # The lead's conclusion, once drawn from the members' contributions; publishing keeps
    # what the public page shows (the conclusion and the submitted contributions then),
    # so the public page never reads members' rows.
    conclusion: Mapped[str] = mapped_column(Text, default="", info={"limit": 8000})
    concluded_at: Mapped[datetime | None]
    published_at: Mapped[datetime | None]
    published_content: Mapped[dict | None] = mapped_column(JSON)

    partnership = relationship("Partnership")

    @property
    def is_concluded(self) -> bool:
        return self.concluded_at is not None

    @property
    def is_published(self) -> bool:
        return self.published_at is not None

    def __repr__(self) -> str:
        return f"<JointAssessment {self.id}: {self.title[:30]}>"


class JointContribution(TimestampMixin, VersionedMixin, TenantOwned, db.Model):
    """One member organisation's contribution to a joint assessment."""

    __tablename__ = "joint_contribution"
    __table_args__ = (UniqueConstraint("joint_id", "tenant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    joint_id: Mapped[int] = mapped_column(
        ForeignKey("joint_assessment.id", ondelete="CASCADE"), index=True
    )
    # {characteristic: impact}, one entry for each of the nine characteristics.
    impacts: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    evidence: Mapped[str] = mapped_column(Text, default="", info={"limit": 5000})
    mitigation: Mapped[str] = mapped_column(Text, default="", info={"limit": 5000})
    contributor: Mapped[str] = mapped_column(String(200), default="")
    submitted_at: Mapped[datetime | None]
    is_demo: Mapped[bool] = mapped_column(default=False)

    joint: Mapped[JointAssessment] = relationship()

    @property
    def is_submitted(self) -> bool:
        return self.submitted_at is not None

    def ordered_impacts(self) -> list[tuple[str, str]]:
        """(characteristic label, impact label) in the Act's order."""
        return [
            (label, IMPACTS.get(self.impacts.get(key, ""), "Not given"))
            for key, label in CHARACTERISTICS.items()
        ]
