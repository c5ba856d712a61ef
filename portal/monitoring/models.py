"""Measures, their values per period, the community profile of each organisation, and the
releases of members' figures to their partnerships.

Released figures (:class:`FigureRelease`) are by definition allowed across the wall, and a
partnership's pages must read hundreds of members' releases in one query. So a release is
not :class:`~portal.tenancy.TenantOwned`: it carries ``tenant_id`` (the member that
released it) without the per-tenant select criterion, and anybody may read it, through
the one read path in ``portal.monitoring.releases`` (which audits partnership reads).
Writing is another matter: a release may only be added while its own tenant is in scope
(the flush guard below, and on PostgreSQL a row-level security policy that allows SELECT
to all but INSERT only for the tenant in scope), and never changed or removed (no UPDATE
or DELETE policy, so the database refuses them as the ORM does). A correction is a new
row with the next ``version``; the highest version is the current release.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from sqlalchemy import JSON, ForeignKey, Index, Numeric, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from portal.aims.models import AimMeasure
from portal.extensions import db
from portal.models import TimestampMixin, VersionedMixin
from portal.monitoring import categories, periods
from portal.references import TenantNumbered
from portal.tenancy import (
    CrossTenantWrite,
    PartnershipOwned,
    TenantNotSet,
    TenantOwned,
    current_tenant_id,
)

UNITS = {
    "count": "Count (number of people or cases)",
    "percentage": "Percentage",
    "rate": "Rate",
    "money": "Money (pounds)",
}


# Figures are stored exactly (NUMERIC), never as binary floating point: up to 16 digits
# before the point (the largest plausible figure has 11) and 4 after it.
VALUE_DIGITS = 20
DECIMAL_PLACES = 4
Figure = int | Decimal


class Bounds(NamedTuple):
    """The plausible range of a figure, and what the figure is called in messages."""

    low: int
    high: int
    noun: str
    beyond: str  # how the highest figure reads in "cannot be <beyond>"


# What a figure of each unit can plausibly be. The figures form and every importer check
# against these, so that a slip like 9e40 is refused in words rather than stored.
def plain_decimal(value: Decimal | int | float) -> Decimal:
    """``value`` as an exact decimal without trailing zeros (12.5, not 12.5000), never
    written as 1E+3; a float is read as the digits it prints."""
    value = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    # int() is exact at any size, where quantize() stops at the context's 28 digits.
    return Decimal(int(value)) if value == value.to_integral_value() else value.normalize()


FIGURE_BOUNDS = {
    "count": Bounds(0, 10_000_000, "a count", "more than 10,000,000"),
    "percentage": Bounds(0, 100, "a percentage", "over 100"),
    "rate": Bounds(0, 1_000_000, "a rate", "more than 1,000,000"),
    "money": Bounds(0, 10_000_000_000, "an amount of money", "more than £10,000,000,000"),
}


class _Shape:
    """What a measure counts and how: shared by definitions and tenants' measures."""

    name: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(20))
    period_type: Mapped[str] = mapped_column(String(10))
    breakdown: Mapped[str] = mapped_column(String(40), default="")
    allows_negative: Mapped[bool] = mapped_column(default=False)
    description: Mapped[str] = mapped_column(Text, default="", info={"limit": 2000})
    source: Mapped[str] = mapped_column(Text, default="")

    @property
    def characteristic(self) -> categories.Characteristic | None:
        return categories.characteristic(self.breakdown)

    @property
    def unit_label(self) -> str:
        return UNITS.get(self.unit, self.unit)

    @property
    def breakdown_label(self) -> str:
        c = self.characteristic
        return c.label if c else "No breakdown"

    @property
    def bounds(self) -> Bounds:
        """The plausible range of this measure's figures; below 0 only where it may be."""
        bounds = FIGURE_BOUNDS[self.unit]
        return bounds._replace(low=-bounds.high) if self.allows_negative else bounds

    @property
    def is_count(self) -> bool:
        return self.unit == "count"

    def format(self, value: Decimal | int | None) -> str:
        """A figure as the page shows it: 1,234 or 12.5% or £1,234.00."""
        if value is None:
            return ""
        # Stored figures are exact decimals (NUMERIC(20, 4)): shown without the trailing
        # zeros of their four places, and never through a binary float, which would
        # change a large or finely divided figure.
        value = plain_decimal(value)
        if self.unit == "count":
            return f"{value:,.0f}"
        if self.unit == "percentage":
            return f"{value:g}%"
        if self.unit == "money":
            return f"£{value:,.2f}"
        return f"{value:,g}"

    def raw(self, value: Decimal | int | None) -> str:
        """A figure as typed into a form field."""
        if value is None:
            return ""
        value = plain_decimal(value)
        return f"{value:.0f}" if self.unit == "count" else f"{value:g}"


class MeasureDefinition(_Shape, VersionedMixin, PartnershipOwned, db.Model):
    """A measure any organisation may take up: built in (no partnership, shared by all),
    or a joint measure that a partnership asks its members to report."""

    partnership_shared_rows = True

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str | None] = mapped_column(String(60), unique=True)
    # A joint measure's plan years (members start from them) and what it answers: one of
    # its partnership's "How will we measure our results?".
    first_year: Mapped[int | None]
    last_year: Mapped[int | None]
    aim_measure_id: Mapped[int | None] = mapped_column(
        ForeignKey("aim_measure.id", ondelete="SET NULL"), index=True
    )
    # A count that is part of another count (satisfied respondents of all respondents):
    # the partnership sees the percentage worked out from the two released counts.
    base_id: Mapped[int | None] = mapped_column(
        ForeignKey("measure_definition.id", ondelete="SET NULL"), index=True
    )

    aim_measure: Mapped[AimMeasure | None] = relationship()
    base: Mapped[MeasureDefinition | None] = relationship(remote_side="MeasureDefinition.id")

    @property
    def is_joint(self) -> bool:
        return self.partnership_id is not None

    @property
    def plan_label(self) -> str:
        if self.first_year is None or self.last_year is None:
            return "Not set"
        return periods.plan_label(self.first_year, self.last_year)

    def __repr__(self) -> str:
        return f"<MeasureDefinition {self.name}>"


class Measure(_Shape, TimestampMixin, VersionedMixin, TenantNumbered, db.Model):
    """A measure an organisation reports, over the years of its plan."""

    reference_prefix = "M"

    id: Mapped[int] = mapped_column(primary_key=True)
    definition_id: Mapped[int | None] = mapped_column(
        ForeignKey("measure_definition.id", ondelete="SET NULL"), index=True
    )
    first_year: Mapped[int]
    last_year: Mapped[int]
    # The organisation's target for the measure's total, which way is better ("higher",
    # "lower" or "" for not said), and the figure beyond which amber turns red
    # (portal/monitoring/targets.py).
    target_value: Mapped[Decimal | None] = mapped_column(Numeric(20, 4))
    target_direction: Mapped[str] = mapped_column(String(10), default="", server_default="")
    amber_threshold: Mapped[Decimal | None] = mapped_column(Numeric(20, 4))
    is_demo: Mapped[bool] = mapped_column(default=False)

    definition: Mapped[MeasureDefinition | None] = relationship()
    values: Mapped[list[MeasureValue]] = relationship(
        back_populates="measure", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def title(self) -> str:
        """Its name; a joint measure goes by the name its partnership gives it now."""
        if self.definition is not None and self.definition.is_joint:
            return self.definition.name
        return self.name

    @property
    def periods(self) -> list[str]:
        return periods.periods(self.period_type, self.first_year, self.last_year)

    @property
    def plan_label(self) -> str:
        return periods.plan_label(self.first_year, self.last_year)

    @property
    def rows(self) -> list[str]:
        """The rows of its grid: "" for the total (or the value), then each category."""
        c = self.characteristic
        return ["", *(c.categories if c else ())]

    def __repr__(self) -> str:
        return f"<Measure {self.name}>"


class MeasureValue(TenantOwned, db.Model):
    """One figure: a measure's value for a period, overall ("" category) or for one
    category of its breakdown."""

    __table_args__ = (UniqueConstraint("measure_id", "period", "category"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    measure_id: Mapped[int] = mapped_column(
        ForeignKey("measure.id", ondelete="CASCADE"), index=True
    )
    period: Mapped[str] = mapped_column(String(10))
    category: Mapped[str] = mapped_column(String(200), default="")
    # Exact: a count is a whole number, other figures have at most DECIMAL_PLACES places.
    value: Mapped[Decimal] = mapped_column(Numeric(VALUE_DIGITS, DECIMAL_PLACES))
    is_demo: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime]

    measure: Mapped[Measure] = relationship(back_populates="values")


class CommunityProfile(TenantOwned, db.Model):
    """The population an organisation serves, by characteristic, from a stated source."""

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(Text)
    file_name: Mapped[str] = mapped_column(String(200), default="")
    area: Mapped[str] = mapped_column(String(200), default="")
    loaded_at: Mapped[datetime]

    figures: Mapped[list[PopulationFigure]] = relationship(
        back_populates="profile",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="PopulationFigure.id",
    )


class PopulationFigure(TenantOwned, db.Model):
    """How many people of the community fall in one category of a characteristic."""

    id: Mapped[int] = mapped_column(primary_key=True)
    profile_id: Mapped[int] = mapped_column(
        ForeignKey("community_profile.id", ondelete="CASCADE"), index=True
    )
    characteristic: Mapped[str] = mapped_column(String(40))
    category: Mapped[str] = mapped_column(String(200))
    value: Mapped[int]
    source: Mapped[str] = mapped_column(Text, default="")

    profile: Mapped[CommunityProfile] = relationship(back_populates="figures")


class FigureRelease(db.Model):
    """One release of a member's figures for one measure definition and period: every
    table it reports it by, as released (values and marks), the rule used, when, and what
    triggered it. Append-only; ``version`` 1 is the first release, each correction adds
    the next."""

    __table_args__ = (
        UniqueConstraint("tenant_id", "definition_id", "period", "version"),
        Index("ix_figure_release_definition_period", "definition_id", "period"),
        # The partnership dashboard reads every member's releases of its measures at once.
        Index(
            "ix_figure_release_definition_tenant", "definition_id", "tenant_id", "period", "version"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="RESTRICT"), index=True)
    definition_id: Mapped[int] = mapped_column(
        ForeignKey("measure_definition.id", ondelete="CASCADE")
    )
    period: Mapped[str] = mapped_column(String(10))
    version: Mapped[int] = mapped_column(default=1)
    threshold: Mapped[int]
    rounding: Mapped[int]
    released_at: Mapped[datetime]
    # "first view" (a lead looked first), "sign-off" (an annual return), "correction".
    trigger: Mapped[str] = mapped_column(String(40))
    trigger_detail: Mapped[str] = mapped_column(String(200), default="")
    released_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    # Breakdown ("" for none) -> the released table (portal.disclosure.table_to_data).
    tables: Mapped[dict] = mapped_column(JSON)

    def __repr__(self) -> str:
        where = f"{self.tenant_id}/{self.definition_id}/{self.period}"
        return f"<FigureRelease {where} v{self.version}>"


@event.listens_for(FigureRelease, "before_update")
@event.listens_for(FigureRelease, "before_delete")
def _release_is_append_only(mapper, connection, target) -> None:
    raise PermissionError("a release is never changed: a correction is a new release")


@event.listens_for(Session, "before_flush")
def _release_only_under_its_tenant(session, flush_context, instances) -> None:
    for obj in session.new:
        if isinstance(obj, FigureRelease):
            tenant_id = current_tenant_id()
            if tenant_id is None:
                raise TenantNotSet("a release was made with no tenant in scope")
            if obj.tenant_id is None:
                obj.tenant_id = tenant_id
            elif obj.tenant_id != tenant_id:
                raise CrossTenantWrite("a release may only be made by its own tenant")
