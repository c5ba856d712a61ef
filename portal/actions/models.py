"""An organisation's equality objectives, the actions under them and their progress.

Objectives sit under a heading: one of the partnership roles ("As a Community Leader")
or a focus area such as an EFLG performance area ("1. Knowing Our Community …"), which
has its numbered focus points. Whether an action is overdue is worked out when it is
shown (target date passed, not complete or cancelled); it is never stored.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal import clock
from portal.aims import models as _aims  # noqa: F401  (joint_aim, for the link table)
from portal.extensions import db
from portal.models import OrderedMixin, TimestampMixin, VersionedMixin
from portal.references import TenantNumbered
from portal.tenancy import TenantOwned

ROLES = {
    "community-leader": "As a Community Leader",
    "service-provider": "As a Service Provider",
    "employer": "As an Employer",
}

STATUSES = {
    "not-started": "Not started",
    "on-target": "On target",
    "at-risk": "At risk",
    "complete": "Complete",
    "cancelled": "Cancelled",
}
CLOSED_STATUSES = ("complete", "cancelled")

PSED_AIMS = {
    "eliminate": "Eliminate discrimination, harassment and victimisation",
    "advance": "Advance equality of opportunity",
    "foster": "Foster good relations",
}

ALL_CHARACTERISTICS = "all"
CHARACTERISTICS = {
    "age": "Age",
    "disability": "Disability",
    "gender-reassignment": "Gender reassignment",
    "marriage-civil-partnership": "Marriage and civil partnership",
    "pregnancy-maternity": "Pregnancy and maternity",
    "race": "Race",
    "religion-belief": "Religion or belief",
    "sex": "Sex",
    "sexual-orientation": "Sexual orientation",
}


def _tags(values) -> str:
    """Store a set of keys as "|a|b|", so one key can be matched with LIKE '%|a|%'."""
    values = [v for v in values or [] if v]
    return f"|{'|'.join(values)}|" if values else ""


def _untag(text: str | None) -> list[str]:
    return [v for v in (text or "").split("|") if v]


def tag(key: str) -> str:
    """The stored form of one key, for filtering a tag column with ``contains``."""
    return f"|{key}|"


class FocusArea(OrderedMixin, TenantOwned, db.Model):
    """A heading objectives sit under: a partnership role or a performance area."""

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), default="")
    title: Mapped[str] = mapped_column(String(300))
    role: Mapped[str | None] = mapped_column(String(30))
    description: Mapped[str] = mapped_column(Text, default="")
    is_demo: Mapped[bool] = mapped_column(default=False)

    points: Mapped[list[FocusPoint]] = relationship(
        back_populates="area",
        order_by="FocusPoint.position, FocusPoint.id",
        cascade="all, delete-orphan",
    )

    @property
    def label(self) -> str:
        if not self.number:
            return self.title
        separator = "." if self.number[-1].isdigit() and self.number[0].isdigit() else ":"
        return f"{self.number}{separator} {self.title}"

    def __repr__(self) -> str:
        return f"<FocusArea {self.label[:30]}>"


class FocusPoint(OrderedMixin, TenantOwned, db.Model):
    """A numbered point to focus on within a focus area, such as "1.1 Collecting information"."""

    id: Mapped[int] = mapped_column(primary_key=True)
    focus_area_id: Mapped[int] = mapped_column(
        ForeignKey("focus_area.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[str] = mapped_column(String(20), default="")
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")

    area: Mapped[FocusArea] = relationship(back_populates="points")

    @property
    def label(self) -> str:
        return f"{self.number} {self.title}" if self.number else self.title


class Objective(TimestampMixin, VersionedMixin, OrderedMixin, TenantNumbered, db.Model):
    """An equality objective, in order, under a role or focus area."""

    reference_prefix = "OBJ"
    # The public equality page lists an organisation's published objectives.
    __table_args__ = (Index("ix_objective_tenant_published", "tenant_id", "is_published"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(Text, info={"limit": 2000})
    focus_area_id: Mapped[int | None] = mapped_column(
        ForeignKey("focus_area.id", ondelete="SET NULL"), index=True
    )
    focus_point_id: Mapped[int | None] = mapped_column(
        ForeignKey("focus_point.id", ondelete="SET NULL"), index=True
    )
    is_demo: Mapped[bool] = mapped_column(default=False)
    # Shown on the organisation's public equality page only once published.
    is_published: Mapped[bool] = mapped_column(default=False, server_default=false())
    published_on: Mapped[date | None]

    area: Mapped[FocusArea | None] = relationship()
    point: Mapped[FocusPoint | None] = relationship()
    actions: Mapped[list[Action]] = relationship(
        back_populates="objective", order_by="Action.position, Action.id"
    )

    def __repr__(self) -> str:
        return f"<Objective {self.position}: {self.title[:30]}>"


class Action(TimestampMixin, VersionedMixin, OrderedMixin, TenantNumbered, db.Model):
    """Something the organisation will do towards an objective, with every column of
    the seed plans: lead officer, directorate, section, target, status, priorities,
    EFLG criteria, PSED aims, protected characteristics and how it will be known done."""

    reference_prefix = "A"

    id: Mapped[int] = mapped_column(primary_key=True)
    objective_id: Mapped[int] = mapped_column(
        ForeignKey("objective.id", ondelete="RESTRICT"), index=True
    )
    task: Mapped[str] = mapped_column(Text, info={"limit": 4000})
    arising_from: Mapped[str] = mapped_column(String(300), default="")
    lead_officer: Mapped[str] = mapped_column(String(300), default="")
    lead_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), index=True
    )
    directorate: Mapped[str] = mapped_column(String(200), default="")
    section: Mapped[str] = mapped_column(String(200), default="")
    # The target as written ("2013/14", "Ongoing", "11 July 2013 for final approval") and,
    # when it names a day or month, that date, so overdue actions can be found.
    target_text: Mapped[str] = mapped_column(String(100), default="")
    target_date: Mapped[date | None] = mapped_column(index=True)
    status: Mapped[str | None] = mapped_column(String(20), index=True)
    corporate_priority: Mapped[str] = mapped_column(String(300), default="")
    eflg_criteria: Mapped[str] = mapped_column(String(300), default="")
    psed_tags: Mapped[str] = mapped_column(String(100), default="")
    characteristic_tags: Mapped[str] = mapped_column(String(300), default="")
    measures: Mapped[str] = mapped_column(Text, default="", info={"limit": 4000})
    is_demo: Mapped[bool] = mapped_column(default=False)

    objective: Mapped[Objective] = relationship(back_populates="actions")
    lead_user = relationship("User")
    updates: Mapped[list[ProgressUpdate]] = relationship(
        back_populates="action",
        order_by="ProgressUpdate.date.desc(), ProgressUpdate.id.desc()",
        cascade="all, delete-orphan",
    )

    @property
    def psed_aims(self) -> list[str]:
        return _untag(self.psed_tags)

    @psed_aims.setter
    def psed_aims(self, values) -> None:
        self.psed_tags = _tags([v for v in PSED_AIMS if v in set(values or [])])

    @property
    def characteristics(self) -> list[str]:
        return _untag(self.characteristic_tags)

    @characteristics.setter
    def characteristics(self, values) -> None:
        values = set(values or [])
        if ALL_CHARACTERISTICS in values:
            self.characteristic_tags = _tags([ALL_CHARACTERISTICS])
        else:
            self.characteristic_tags = _tags([v for v in CHARACTERISTICS if v in values])

    @property
    def status_label(self) -> str:
        return STATUSES.get(self.status or "", "No status recorded")

    @property
    def psed_labels(self) -> list[str]:
        return [PSED_AIMS[k] for k in self.psed_aims if k in PSED_AIMS]

    @property
    def characteristic_labels(self) -> list[str]:
        if ALL_CHARACTERISTICS in self.characteristics:
            return ["All protected characteristics"]
        return [CHARACTERISTICS[k] for k in self.characteristics if k in CHARACTERISTICS]

    @property
    def lead_label(self) -> str:
        """Who leads it: the officer as written, and the portal user if one is named."""
        names = [n for n in (self.lead_officer, getattr(self.lead_user, "name", "")) if n]
        if len(names) == 2 and names[0].casefold() == names[1].casefold():
            names = names[:1]
        return " – ".join(names)

    def is_overdue(self, today: date | None = None) -> bool:
        """Past its target date and neither complete nor cancelled."""
        today = today or clock.utcnow().date()
        return (
            self.target_date is not None
            and self.target_date < today
            and self.status not in CLOSED_STATUSES
        )

    @property
    def overdue(self) -> bool:
        return self.is_overdue()

    def __repr__(self) -> str:
        return f"<Action {self.id}: {self.task[:30]}>"


class ProgressUpdate(TenantNumbered, db.Model):
    """A dated note of progress on an action, with its status then and optional evidence."""

    reference_prefix = "U"

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("action.id", ondelete="CASCADE"), index=True)
    date: Mapped[date]
    narrative: Mapped[str] = mapped_column(Text, info={"limit": 8000})
    status: Mapped[str] = mapped_column(String(20))
    evidence_link: Mapped[str] = mapped_column(String(500), default="")
    # The uploaded file's cleaned name, shown and offered on download; its content is in
    # evidence_chunk rows (empty files are refused, so a size above 0 means a file).
    evidence_name: Mapped[str] = mapped_column(String(255), default="")
    evidence_type: Mapped[str] = mapped_column(String(100), default="")
    evidence_size: Mapped[int] = mapped_column(default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    # A correction is a new update that replaces an earlier one; the earlier one stays,
    # with its text and evidence, marked superseded. A withdrawn update stays too.
    replaces_id: Mapped[int | None] = mapped_column(index=True)
    superseded_at: Mapped[datetime | None]
    withdrawn_at: Mapped[datetime | None]
    change_reason: Mapped[str] = mapped_column(Text, default="", info={"limit": 2000})

    action: Mapped[Action] = relationship(back_populates="updates")
    created_by = relationship("User")

    @property
    def status_label(self) -> str:
        return STATUSES.get(self.status, self.status)

    @property
    def has_evidence_file(self) -> bool:
        return self.evidence_size > 0

    @property
    def is_current(self) -> bool:
        """Neither replaced by a correction nor withdrawn."""
        return self.superseded_at is None and self.withdrawn_at is None


class EvidenceChunk(TenantOwned, db.Model):
    """One piece of a progress update's evidence file, in order.

    Files live in the database, not on an app server's disk, so every server sees them and
    the tenant walls (criterion, flush guard, row-level security) cover them. A file is
    cut into pieces so that a download reads and sends one piece at a time.
    """

    __tablename__ = "evidence_chunk"

    progress_update_id: Mapped[int] = mapped_column(
        ForeignKey("progress_update.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class PendingImport(TenantOwned, db.Model):
    """A spreadsheet read at upload and waiting to be imported by the person who uploaded it.

    The rows are kept as read (text cells with their row numbers), so the column, preview
    and import steps never open the file again. Rows older than a day are removed.
    """

    __tablename__ = "pending_import"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Random, 32 hex digits: what the addresses of the steps carry.
    token: Mapped[str] = mapped_column(String(32), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    headings: Mapped[list[str]] = mapped_column(JSON)
    # [[row number, [cell, …]], …]: the data rows below the headings.
    rows: Mapped[list] = mapped_column(JSON)
    mapping: Mapped[list[str] | None] = mapped_column(JSON)
    default_objective: Mapped[str] = mapped_column(String(20), default="")
    new_objective: Mapped[str] = mapped_column(Text, default="")
    # A workbook's sheets as read ([{"name", "headings", "rows"} or {"name", "problem"}]),
    # when it has more than one; ``headings`` and ``rows`` above are those of ``sheet``.
    sheets: Mapped[list | None] = mapped_column(JSON)
    sheet: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(index=True)


class ImportStatusWord(TenantOwned, db.Model):
    """What a status word of the organisation's own spreadsheets means on the portal.

    Chosen once on an import's preview ("In progress" is On target, "Done" is Complete)
    and used for every later import. ``word`` is kept lower case with single spaces;
    ``status`` is a key of STATUSES, or "" for no status recorded.
    """

    __tablename__ = "import_status_word"
    __table_args__ = (UniqueConstraint("tenant_id", "word"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    word: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20), default="")
    updated_at: Mapped[datetime]


class ActionJointAim(TenantOwned, db.Model):
    """An action serves a joint aim of one of the tenant's partnerships."""

    __tablename__ = "action_joint_aim"

    action_id: Mapped[int] = mapped_column(
        ForeignKey("action.id", ondelete="CASCADE"), primary_key=True
    )
    joint_aim_id: Mapped[int] = mapped_column(
        ForeignKey("joint_aim.id", ondelete="CASCADE"), primary_key=True, index=True
    )


# What an organisation's home reads (migration 0023_dashboard_speed): a person's due
# actions and a year of progress dates.
Index("ix_action_tenant_lead_target", Action.tenant_id, Action.lead_user_id, Action.target_date)
Index("ix_progress_update_tenant_date", ProgressUpdate.tenant_id, ProgressUpdate.date)
