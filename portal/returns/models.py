"""Reporting years, annual returns, their sections, sign-off and the signed-off snapshots.

A :class:`ReportingYear` belongs to a partnership (April to March, "2025-26"). Each
member keeps one :class:`AnnualReturn` for it, tenant-owned like the rest of its records:
a draft never leaves the member. What crosses the wall is only a :class:`ReturnSnapshot`,
written when the chief executive signs off. Like a figure release
(:class:`portal.monitoring.models.FigureRelease`) a snapshot carries ``tenant_id`` without
the per-tenant select criterion, may be added only while its own tenant is in scope
(flush guard below; on PostgreSQL a row-level security policy), and is never changed or
removed. Reopening a signed-off return adds a :class:`ReturnReopening` beside the
snapshot; the snapshot in force is the newest one with no reopening.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    ForeignKey,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from portal.extensions import db
from portal.models import OrderedMixin, TimestampMixin, VersionedMixin
from portal.partners.models import Partnership, Tenant
from portal.references import TenantNumbered
from portal.tenancy import (
    CrossTenantWrite,
    PartnershipOwned,
    TenantNotSet,
    TenantOwned,
    current_tenant_id,
)

# The sections of a return, in the order of its task list.
SECTIONS = {
    "aims": "Progress on each joint aim",
    "commitments": "Progress on our commitments",
    "measures": "Joint measures for the year",
    "workforce": "Workforce",
    "assessments": "Impact assessments",
    "incidents": "Hate incidents",
    "case_studies": "Case studies",
    "priorities": "Priorities for next year",
}

# The states of a return, as stored.
DRAFT, AWAITING_SIGN_OFF, SIGNED_OFF = "draft", "awaiting sign-off", "signed off"

# Case study images: kept in the database, checked by their first bytes.
IMAGE_TYPES = {"image/png": "PNG", "image/jpeg": "JPEG"}
IMAGE_MAX_BYTES = 2 * 1024 * 1024


class ReportingYear(VersionedMixin, PartnershipOwned, db.Model):
    """A partnership's reporting year, such as 2025-26 (1 April 2025 to 31 March 2026).

    The returns cover the joint aims (``aim_ids``, :class:`portal.aims.models.JointAim`)
    and joint measures (``measure_ids``, :class:`MeasureDefinition` ids) of the plan
    period current when the year was opened, fixed then so that a later edit of the
    framework does not change what members were asked for.
    """

    __table_args__ = (UniqueConstraint("partnership_id", "start_year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    start_year: Mapped[int]
    deadline: Mapped[date]
    publication_target: Mapped[date]
    period_id: Mapped[int | None] = mapped_column(
        ForeignKey("plan_period.id", ondelete="SET NULL"), index=True
    )
    aim_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    measure_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    is_demo: Mapped[bool] = mapped_column(default=False)
    opened_at: Mapped[datetime]
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    partnership: Mapped[Partnership] = relationship()

    @property
    def label(self) -> str:
        """The year as written in addresses and on pages: "2025-26"."""
        return year_label(self.start_year)

    @property
    def first_day(self) -> date:
        return date(self.start_year, 4, 1)

    @property
    def last_day(self) -> date:
        return date(self.start_year + 1, 3, 31)

    def __repr__(self) -> str:
        return f"<ReportingYear {self.partnership_id} {self.label}>"


def year_label(start_year: int) -> str:
    """2025 -> "2025-26"."""
    return f"{start_year}-{(start_year + 1) % 100:02d}"


def parse_year_label(label: str) -> int | None:
    """ "2025-26" -> 2025; None for anything else."""
    digits = label[:4] + label[5:]
    # isdigit() accepts "²", which int() refuses: only ASCII decimal digits make a year.
    if len(label) != 7 or label[4] != "-" or not (digits.isascii() and digits.isdecimal()):
        return None
    start = int(label[:4])
    if not 2000 <= start <= 2098 or year_label(start) != label:
        return None
    return start


class AnnualReturn(TimestampMixin, VersionedMixin, TenantOwned, db.Model):
    """A member's return for one reporting year: drafted by its officers, signed off by
    its chief executive. ``status`` is one of :data:`DRAFT`, :data:`AWAITING_SIGN_OFF`,
    :data:`SIGNED_OFF`; "not started" and "overdue" are worked out
    (:func:`portal.returns.services.lead_status`)."""

    __table_args__ = (UniqueConstraint("tenant_id", "reporting_year_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reporting_year_id: Mapped[int] = mapped_column(
        ForeignKey("reporting_year.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(20), default=DRAFT)
    sent_for_sign_off_at: Mapped[datetime | None]
    sent_for_sign_off_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL")
    )
    # The chief executive's comments when they sent it back; cleared when sent again.
    sent_back_comments: Mapped[str] = mapped_column(Text, default="")
    sent_back_at: Mapped[datetime | None]
    is_demo: Mapped[bool] = mapped_column(default=False)

    reporting_year: Mapped[ReportingYear] = relationship()
    sections: Mapped[list[ReturnSection]] = relationship(
        back_populates="annual_return",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="ReturnSection.id",
    )
    case_studies: Mapped[list[CaseStudy]] = relationship(
        back_populates="annual_return",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="CaseStudy.position, CaseStudy.id",
    )

    def section(self, key: str) -> ReturnSection | None:
        return next((s for s in self.sections if s.key == key), None)

    @property
    def is_editable(self) -> bool:
        return self.status == DRAFT

    def __repr__(self) -> str:
        return f"<AnnualReturn {self.tenant_id}/{self.reporting_year_id} {self.status}>"


class ReturnSection(VersionedMixin, TenantOwned, db.Model):
    """What the officers wrote for one section of a return (``key`` in :data:`SECTIONS`).

    ``answers`` holds only what is typed: narratives by joint aim or commitment id, the
    progress updates picked as highlights, reasons for missing figures, the gender pay gap
    figures. Everything the portal already holds is drawn from its source when the
    section is shown and frozen only at sign-off. ``completed`` is set only when the
    section was valid when last saved.
    """

    __table_args__ = (UniqueConstraint("return_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    return_id: Mapped[int] = mapped_column(
        ForeignKey("annual_return.id", ondelete="CASCADE"), index=True
    )
    key: Mapped[str] = mapped_column(String(20))
    answers: Mapped[dict] = mapped_column(JSON, default=dict)
    completed: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime]
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    annual_return: Mapped[AnnualReturn] = relationship(back_populates="sections")


class CaseStudy(VersionedMixin, TenantNumbered, db.Model):
    """A case study in a return: a title, its text, and an optional image with alt text."""

    reference_prefix = "CS"

    id: Mapped[int] = mapped_column(primary_key=True)
    return_id: Mapped[int] = mapped_column(
        ForeignKey("annual_return.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    title: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    image: Mapped[bytes | None] = mapped_column(LargeBinary)
    image_type: Mapped[str] = mapped_column(String(20), default="")
    image_alt: Mapped[str] = mapped_column(String(500), default="")
    updated_at: Mapped[datetime]

    annual_return: Mapped[AnnualReturn] = relationship(back_populates="case_studies")


class DeadlineExtension(db.Model):
    """A later deadline for one member, granted by a lead with a reason. The newest
    extension for a member and year is the one in force. It is the partnership's record
    (the lead makes it; the member reads it), so it is not tenant-owned."""

    id: Mapped[int] = mapped_column(primary_key=True)
    reporting_year_id: Mapped[int] = mapped_column(
        ForeignKey("reporting_year.id", ondelete="CASCADE"), index=True
    )
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), index=True)
    deadline: Mapped[date]
    reason: Mapped[str] = mapped_column(Text)
    granted_at: Mapped[datetime]
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    tenant: Mapped[Tenant] = relationship()


class ReturnReminder(TenantOwned, db.Model):
    """An automatic reminder sent about a return: ``kind`` is "14 days", "3 days" or
    "overdue" (the escalation to the chief executive). The unique constraint makes each
    one once only; reminders sent by hand are in the audit trail."""

    __table_args__ = (UniqueConstraint("tenant_id", "reporting_year_id", "kind", "deadline"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reporting_year_id: Mapped[int] = mapped_column(
        ForeignKey("reporting_year.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    # The deadline the reminder was about: an extension earns fresh reminders.
    deadline: Mapped[date]
    sent_at: Mapped[datetime]
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))


class ReturnSignOff(TenantOwned, db.Model):
    """The chief executive's sign-off: who, in what role, when, the statement they
    confirmed, and the snapshot it froze."""

    id: Mapped[int] = mapped_column(primary_key=True)
    return_id: Mapped[int] = mapped_column(
        ForeignKey("annual_return.id", ondelete="CASCADE"), index=True
    )
    snapshot_id: Mapped[int] = mapped_column(ForeignKey("return_snapshot.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(200))
    statement: Mapped[str] = mapped_column(Text)
    signed_at: Mapped[datetime]


class ReturnSnapshot(db.Model):
    """A signed-off return, frozen: the contract the joint report is built from.

    Written once, at sign-off, under the member's own scope; never changed or removed.
    ``version`` counts the member's sign-offs for the year (a reopened return signed off
    again makes version 2). ``content`` is JSON of this shape. Every count in it has
    passed disclosure control: ``<table data>`` is a released table as
    :func:`portal.disclosure.table_to_data` stores it (read it back with
    :func:`portal.disclosure.table_from_data` and the ``rule`` beside it), and
    ``[status, value]`` a released cell (:func:`portal.disclosure.cell_from_data`).
    Action counts are counts of actions, not of people. Nothing in it is a live figure::

        {
          "schema": 1,
          "member": {"slug": "sevenoaks", "name": "Sevenoaks District Council",
                     "kind": "district-council"},
          "partnership": {"slug": "west-kent", "name": "..."},
          "year": {"label": "2025-26", "start": "2025-04-01", "end": "2026-03-31",
                   "deadline": "2026-05-31"},
          "aims": [{"id": 3, "role": "As a Community Leader we will:", "text": "...",
                    "narrative": "...",
                    "actions": {"total": 4, "by_status": {"Complete": 1, "On target": 2,
                                "At risk": 1}, "overdue": 1, "completed_in_year": 1},
                    "highlights": [{"reference": "U-0040", "action": "A-0012",
                                    "date": "2025-10-02", "text": "..."}]}],
          "commitments": [{"id": 7, "reference": "C-0004", "text": "We will ...",
                           "narrative": "..."}],
          "measures": [{"definition_id": 12, "name": "...", "unit": "count",
                        "period": "2025-26", "breakdown": "sex",
                        "released": {"<breakdown or ''>": <table data>} | null,
                        "rule": {"threshold": 8, "rounding": 5} | null,
                        "value": 12.5 | null,          # non-count units, as reported
                        "release_id": 31 | null,       # the FigureRelease it came from
                        "missing_reason": "..." | null}],   # null when there is a figure
          "workforce": {
              "employees": 420 | null,
              "profile": [{"characteristic": "sex", "label": "Sex",
                           "released": <table data> | null,
                           "community": {"Female": 51.2, "Male": 48.8},  # percentages
                           "community_source": "Census 2021 ..."}],
              "rule": {"threshold": 8, "rounding": 5} | null,
              "gender_pay_gap": null | {      # employers of 250 or more only
                  "snapshot_date": "2025-03-31",   # 31 March public, 5 April others
                  "public_authority": true,
                  "mean_hourly_gap": 7.2, "median_hourly_gap": 5.1,
                  "mean_bonus_gap": 0.0, "median_bonus_gap": 0.0,
                  "bonus_men": 1.2, "bonus_women": 0.9,
                  "quartiles": {"lower": {"men": 40.0, "women": 60.0},
                                "lower_middle": {...}, "upper_middle": {...},
                                "upper": {...}}},
              "narrative": "..."},
          "assessments": {"completed": [status, value], "published": [status, value],
                          "rule": {"threshold": 8, "rounding": 5},
                          "published_links": [{"title": "...", "url": "https://..."}],
                          "narrative": "..."},
          "hate_incidents": {
              "released": {"2025-Q1": {"motivation:race": <table data: cells "race"
                           (with it) and "" (without it)>, ...} | null, ...},
              "rules": {"2025-Q1": {"threshold": 8, "rounding": 5} | null, ...},
              "quarters": ["April to June 2025", ...],
              "narrative": "..."},
          "case_studies": [{"title": "...", "text": "...",
                            "image": {"position": 1, "type": "image/png",
                                      "alt": "..."} | null}],
          "priorities": "...",
          "sign_off": {"name": "...", "role": "Chief Executive", "date": "2026-05-02",
                       "statement": "..."}
        }

    ``sha256`` is the SHA-256 of ``content`` serialised as canonical JSON (sorted keys,
    no spaces, UTF-8; :func:`portal.returns.services.content_hash`). A case study's image
    is the :class:`SnapshotImage` of this snapshot with the same ``position`` (the case
    study's place in the list, from 1; :func:`portal.returns.services.snapshot_image`).
    """

    __table_args__ = (UniqueConstraint("tenant_id", "reporting_year_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="RESTRICT"), index=True)
    reporting_year_id: Mapped[int] = mapped_column(
        ForeignKey("reporting_year.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int] = mapped_column(default=1)
    content: Mapped[dict] = mapped_column(JSON)
    sha256: Mapped[str] = mapped_column(String(64))
    signed_off_at: Mapped[datetime]
    signed_off_by_name: Mapped[str] = mapped_column(String(200))
    signed_off_by_role: Mapped[str] = mapped_column(String(200))

    tenant: Mapped[Tenant] = relationship()
    reporting_year: Mapped[ReportingYear] = relationship()
    reopenings: Mapped[list[ReturnReopening]] = relationship(back_populates="snapshot")

    @property
    def is_current(self) -> bool:
        return not self.reopenings

    def __repr__(self) -> str:
        return f"<ReturnSnapshot {self.tenant_id}/{self.reporting_year_id} v{self.version}>"


class SnapshotImage(OrderedMixin, db.Model):
    """A case study image as it was signed off; readable like its snapshot."""

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="RESTRICT"), index=True)
    snapshot_id: Mapped[int] = mapped_column(
        ForeignKey("return_snapshot.id", ondelete="CASCADE"), index=True
    )
    content_type: Mapped[str] = mapped_column(String(20))
    data: Mapped[bytes] = mapped_column(LargeBinary)


class ReturnReopening(db.Model):
    """A lead's reopening of a signed-off return, with the reason: the snapshot it
    withdrew is no longer in force and the return needs signing off again."""

    id: Mapped[int] = mapped_column(primary_key=True)
    snapshot_id: Mapped[int] = mapped_column(
        ForeignKey("return_snapshot.id", ondelete="CASCADE"), unique=True
    )
    reason: Mapped[str] = mapped_column(Text)
    reopened_at: Mapped[datetime]
    reopened_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    snapshot: Mapped[ReturnSnapshot] = relationship(back_populates="reopenings")


@event.listens_for(ReturnSnapshot, "before_update")
@event.listens_for(ReturnSnapshot, "before_delete")
@event.listens_for(SnapshotImage, "before_update")
@event.listens_for(SnapshotImage, "before_delete")
@event.listens_for(ReturnReopening, "before_update")
@event.listens_for(ReturnReopening, "before_delete")
def _signed_off_is_immutable(mapper, connection, target) -> None:
    raise PermissionError("a signed-off return is never changed: reopen it and sign off again")


@event.listens_for(Session, "before_flush")
def _snapshot_only_under_its_tenant(session, flush_context, instances) -> None:
    for obj in session.new:
        if isinstance(obj, ReturnSnapshot | SnapshotImage):
            tenant_id = current_tenant_id()
            if tenant_id is None:
                raise TenantNotSet("a return was signed off with no tenant in scope")
            if obj.tenant_id is None:
                obj.tenant_id = tenant_id
            elif obj.tenant_id != tenant_id:
                raise CrossTenantWrite("a return may only be signed off by its own tenant")
