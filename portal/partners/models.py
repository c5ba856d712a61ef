"""Partnerships and tenants: the directory every other feature hangs from."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, String, Table, Text, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db

TENANT_KINDS = {
    "district-council": "District council",
    "borough-council": "Borough council",
    "city-council": "City council",
    "county-council": "County council",
    "housing-association": "Housing association",
}

partnership_member = Table(
    "partnership_member",
    db.metadata,
    Column("partnership_id", ForeignKey("partnership.id", ondelete="CASCADE"), primary_key=True),
    Column("tenant_id", ForeignKey("tenant.id", ondelete="CASCADE"), primary_key=True),
)


class Partnership(db.Model):
    """A group of organisations that share joint aims and a joint annual report."""

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    # The partnership's disclosure rule (DESIGN.md); portal/disclosure.py applies it.
    disclosure_threshold: Mapped[int] = mapped_column(default=8, server_default="8")
    disclosure_rounding: Mapped[int] = mapped_column(default=5, server_default="5")

    members: Mapped[list[Tenant]] = relationship(
        secondary=partnership_member, back_populates="partnerships", order_by="Tenant.name"
    )

    @property
    def disclosure_rule(self):
        """The rule under which figures leave its members for this partnership."""
        from portal.disclosure import DEFAULT_RULE, Rule, below_floor

        if below_floor(self.disclosure_threshold, self.disclosure_rounding):
            # Stored before the portal's floor existed: never release under it.
            return DEFAULT_RULE
        return Rule(self.disclosure_threshold, self.disclosure_rounding)

    def __repr__(self) -> str:
        return f"<Partnership {self.slug}>"


class Tenant(db.Model):
    """A partner organisation: a council or housing association with its own data."""

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40))
    colour: Mapped[str] = mapped_column(String(7), default="#1d70b8")
    alternative_formats: Mapped[str] = mapped_column(Text, default="", info={"limit": 1000})
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    # Moved on by every change to the organisation's data (portal/cache.py): pages keep
    # what they computed under it, and a change makes them compute afresh.
    data_version: Mapped[int] = mapped_column(default=0, server_default="0")

    partnerships: Mapped[list[Partnership]] = relationship(
        secondary=partnership_member, back_populates="members", order_by="Partnership.name"
    )

    @property
    def kind_label(self) -> str:
        return TENANT_KINDS.get(self.kind, self.kind)

    def __repr__(self) -> str:
        return f"<Tenant {self.slug}>"
