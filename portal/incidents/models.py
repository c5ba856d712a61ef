"""Hate incidents, and how long each organisation keeps their case records."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.eqia.models import CHARACTERISTICS
from portal.extensions import db
from portal.models import TimestampMixin, VersionedMixin
from portal.references import TenantNumbered
from portal.tenancy import TenantOwned

MOTIVATIONS = CHARACTERISTICS

INCIDENT_TYPES = {
    "verbal": "Verbal abuse",
    "physical": "Physical assault",
    "property": "Damage to property",
    "graffiti": "Graffiti",
    "online": "Online",
    "other": "Other",
}

HOW_REPORTED = {
    "in_person": "In person",
    "phone": "Phone",
    "online_form": "Online form or email",
    "third_party": "Third-party reporting centre",
    "police": "Passed on by the police",
    "other": "Other",
}

STATUSES = {"open": "Open", "closed": "Closed"}

DEFAULT_RETENTION_YEARS = 6

# The earliest date an incident can plausibly be recorded with; an earlier one is a slip.
EARLIEST_INCIDENT_DATE = date(2000, 1, 1)

# Cleared when a record is anonymised; the rest are kept for statistics.
PERSONAL_FIELDS = (
    "person_details",
    "description",
    "how_reported",
    "support_offered",
    "police_reference",
    "actions",
    "outcome",
)


class Ward(TenantNumbered, db.Model):
    """A ward in the organisation's own list, so that incidents are counted by the same
    names. A ward no longer in use is retired: its incidents keep it, new ones cannot."""

    reference_prefix = "W"

    __tablename__ = "ward"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    retired_at: Mapped[datetime | None]
    created_at: Mapped[datetime]

    @property
    def is_retired(self) -> bool:
        return self.retired_at is not None

    def __repr__(self) -> str:
        return f"<Ward {self.name!r}>"


class HateIncident(TimestampMixin, VersionedMixin, TenantNumbered, db.Model):
    """One reported hate incident: a case record seen only by the organisation's caseworkers."""

    reference_prefix = "HI"

    __tablename__ = "hate_incident"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_on: Mapped[date] = mapped_column(index=True)
    motivations: Mapped[list[str]] = mapped_column(JSON, default=list)
    incident_type: Mapped[str] = mapped_column(String(20))
    ward_id: Mapped[int] = mapped_column(ForeignKey("ward.id", ondelete="RESTRICT"), index=True)
    how_reported: Mapped[str] = mapped_column(String(20), default="")
    person_details: Mapped[str] = mapped_column(Text, default="", info={"limit": 2000})
    description: Mapped[str] = mapped_column(Text, default="", info={"limit": 5000})
    support_offered: Mapped[str] = mapped_column(Text, default="", info={"limit": 5000})
    police_referral: Mapped[bool] = mapped_column(default=False)
    police_reference: Mapped[str] = mapped_column(String(60), default="")
    actions: Mapped[str] = mapped_column(Text, default="", info={"limit": 5000})
    status: Mapped[str] = mapped_column(String(10), default="open")
    closed_on: Mapped[date | None]
    outcome: Mapped[str] = mapped_column(Text, default="", info={"limit": 5000})
    anonymised_at: Mapped[datetime | None]
    is_demo: Mapped[bool] = mapped_column(default=False)

    ward_row: Mapped[Ward] = relationship(lazy="joined")

    @property
    def ward(self) -> str:
        """The ward's name."""
        return self.ward_row.name if self.ward_row else ""

    @property
    def motivation_labels(self) -> list[str]:
        return [MOTIVATIONS.get(m, m) for m in self.motivations or []]

    @property
    def type_label(self) -> str:
        return INCIDENT_TYPES.get(self.incident_type, self.incident_type)

    @property
    def how_reported_label(self) -> str:
        return HOW_REPORTED.get(self.how_reported, self.how_reported)

    @property
    def status_label(self) -> str:
        return STATUSES.get(self.status, self.status)

    @property
    def is_anonymised(self) -> bool:
        return self.anonymised_at is not None

    @property
    def retention_starts(self) -> date:
        """The date the retention period runs from: closure, or the incident if never closed."""
        return self.closed_on or self.occurred_on

    def __repr__(self) -> str:
        return f"<HateIncident {self.id} {self.occurred_on}>"


class IncidentSettings(TenantOwned, db.Model):
    """An organisation's settings for its register: how long case records are kept."""

    __tablename__ = "incident_settings"
    __table_args__ = (UniqueConstraint("tenant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    retention_years: Mapped[int] = mapped_column(default=DEFAULT_RETENTION_YEARS)
    updated_at: Mapped[datetime]
