"""An organisation's policy commitments ("We will …")."""

from __future__ import annotations

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.models import OrderedMixin, TimestampMixin, VersionedMixin
from portal.references import TenantNumbered


class Commitment(TimestampMixin, VersionedMixin, OrderedMixin, TenantNumbered, db.Model):
    """One "We will …" statement of an organisation's equality policy, in order."""

    reference_prefix = "C"

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(Text, info={"limit": 2000})
    source: Mapped[str] = mapped_column(String(300), default="")
    is_demo: Mapped[bool] = mapped_column(default=False)

    def __repr__(self) -> str:
        return f"<Commitment {self.position}: {self.text[:30]}>"
