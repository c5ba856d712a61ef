"""The partnership's view of its members' figures: its disclosure rule, the measures it
may see, and each member's released figures side by side."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from portal import audit
from portal.disclosure import (
    ReleasedCell,
    ReleasedTable,
    Rule,
    RuleError,
    below_floor,
    released_rate,
    withheld,
)
from portal.extensions import db
from portal.monitoring import categories
from portal.monitoring.measures import TOTAL
from portal.monitoring.models import (
    FigureRelease,
    Measure,
    MeasureDefinition,
    MeasureValue,
)
from portal.monitoring.releases import (
    FIRST_VIEW,
    release_member_figures,
    release_of,
    stored_releases,
)
from portal.partners.models import Partnership, Tenant
from portal.tenancy import across_tenants, tenant_scope


def set_disclosure_rule(partnership: Partnership, threshold: int, rounding: int) -> Rule:
    """Change a partnership's disclosure rule, if it can keep its promises and is no
    weaker than the portal's default (raises :class:`RuleError` saying why not).

    The new rule applies to releases made from now on, never to figures already released.
    The change is recorded in every member's own trail, as it decides how that member's
    figures will leave it.
    """
    floor = below_floor(threshold, rounding)
    if floor:
        raise RuleError(None, floor)
    rule = Rule(threshold, rounding)
    before = (partnership.disclosure_threshold, partnership.disclosure_rounding)
    partnership.disclosure_threshold, partnership.disclosure_rounding = threshold, rounding
    detail = {"partnership": partnership.slug, "from": list(before), "to": [threshold, rounding]}
    audit.record("partnership.disclosure_rule_changed", partnership, detail=detail)
    for member in partnership.members:
        # Written under the member's own scope: each event belongs to that member's trail.
        with tenant_scope(member):
            audit.record(
                "partnership.disclosure_rule_changed",
                partnership,
                tenant_id=member.id,
                detail=detail,
            )
            db.session.flush()
    db.session.commit()
    return rule


def partnership_definitions(partnership: Partnership):
    """Count measures a partnership may see across its members, as a select(): the
    built-in ones and, with the partnership in scope, its own joint ones."""
    return (
        select(MeasureDefinition)
        .where(MeasureDefinition.unit == "count")
        .order_by(MeasureDefinition.partnership_id.is_(None), MeasureDefinition.id)
    )


@dataclass
class MemberFigures:
    tenant: Tenant
    reported: bool
    table: object | None = None
    base: ReleasedCell | None = None
    rate: float | None = None
    release: FigureRelease | None = None


@dataclass
class PartnershipView:
    """A count measure across a partnership's members for one period, released."""

    periods: list[str]
    period: str | None
    categories: list[str]
    members: list[MemberFigures]
    combined: object | None
    rule: Rule
    base: MeasureDefinition | None = None


def _member_periods(definition: MeasureDefinition) -> set[str]:
    """The periods for which the current tenant has a total for ``definition`` (names of
    periods only; no figure)."""
    ids = select(Measure.id).where(Measure.definition_id == definition.id)
    return set(
        db.session.scalars(
            select(MeasureValue.period).where(
                MeasureValue.measure_id.in_(ids), MeasureValue.category == TOTAL
            )
        )
    )


def across_members(
    partnership: Partnership, definition: MeasureDefinition, breakdown: str, period: str | None
) -> PartnershipView:
    """Each member's released figures for ``definition`` (by ``breakdown``) in ``period``.

    Only stored releases are shown (:func:`stored_releases`, one query for all members).
    A member with figures for the period and no release yet releases them now
    (:func:`release_member_figures`, the first view); from then on that release is what
    every partnership the member is in sees, whatever its rule becomes. For a count that
    is part of another (its ``base``), the base's release is read the same way, and the
    percentage is worked out from the two released totals. The row across members is
    worked out from the members' released totals only.
    """
    base = definition.base if definition.base is not None and definition.is_count else None
    live: dict[int, set[str]] = {}
    live_base: dict[int, set[str]] = {}
    for tenant in across_tenants(
        partnership.members, purpose=f"measure {definition.id} for {partnership.slug}"
    ):
        live[tenant.id] = _member_periods(definition)
        if base is not None:
            live_base[tenant.id] = _member_periods(base)
    db.session.commit()
    released_periods = set(
        db.session.scalars(
            select(FigureRelease.period).where(
                FigureRelease.definition_id == definition.id,
                FigureRelease.tenant_id.in_([t.id for t in partnership.members]),
            )
        )
    )
    all_periods = sorted(set().union(*live.values(), released_periods))
    if period not in all_periods:
        period = all_periods[-1] if all_periods else None
    c = categories.characteristic(breakdown)
    cats = list(c.categories) if c else []
    if period is None:
        return PartnershipView(all_periods, None, cats, [], None, partnership.disclosure_rule)
    releases = _release_where_needed(partnership, definition, period, live)
    base_releases = (
        _release_where_needed(partnership, base, period, live_base) if base is not None else {}
    )
    members = []
    totals: dict[str, ReleasedCell] = {}
    for tenant in partnership.members:
        row = releases.get(tenant.id)
        stored = release_of(row) if row is not None else None
        table = stored.tables.get(breakdown) if stored is not None else None
        if table is None:
            members.append(MemberFigures(tenant, False))
            continue
        figures = MemberFigures(tenant, True, table, release=row)
        base_row = base_releases.get(tenant.id)
        base_table = release_of(base_row).tables.get(breakdown) if base_row else None
        if base is not None and base_table is not None:
            figures.base = base_table.total
            figures.rate = released_rate(table.total, figures.base)
        members.append(figures)
        totals[tenant.slug] = table.total
    # Across members only when there is no breakdown: a members-by-categories table with
    # totals both ways would let rows and columns be subtracted from each other.
    combined = _combined(totals, partnership.disclosure_rule) if totals and not cats else None
    return PartnershipView(
        all_periods, period, cats, members, combined, partnership.disclosure_rule, base
    )


def _release_where_needed(
    partnership: Partnership,
    definition: MeasureDefinition,
    period: str,
    live: dict[int, set[str]],
) -> dict[int, FigureRelease]:
    """The members' releases for ``period``, releasing now for members with figures and
    none released yet."""
    releases = stored_releases(partnership, definition, period)
    for tenant in partnership.members:
        if tenant.id not in releases and period in live.get(tenant.id, set()):
            row = release_member_figures(
                tenant, definition, period, trigger=FIRST_VIEW, detail=partnership.slug
            )
            if row is not None:
                releases[tenant.id] = row
    return releases


def _combined(totals: dict[str, ReleasedCell], rule: Rule) -> ReleasedTable:
    """The members' released totals, and their sum where every one is shown as a number.

    Worked out from released figures only, never from exact totals: exact figures read
    again at every view would move with every change a member makes and could be set
    beside the stored releases. The sum says nothing the members' released totals do not.
    """
    if all(cell.value is not None for cell in totals.values()):
        value = sum(cell.value for cell in totals.values())
        total = ReleasedCell("rounded" if value else "zero", value, rule.threshold)
    else:
        total = withheld(rule)
    return ReleasedTable(dict(totals), ReleasedCell("zero", 0, rule.threshold), total, rule)


def member_breakdowns(partnership: Partnership) -> list[tuple[MeasureDefinition, str]]:
    """The (definition, breakdown) pairs that at least one member reports."""
    pairs: set[tuple[int, str]] = set()
    for _tenant in across_tenants(partnership.members, purpose="list of shared measures"):
        query = select(Measure.definition_id, Measure.breakdown).where(
            Measure.definition_id.is_not(None)
        )
        pairs |= {(d, b) for d, b in db.session.execute(query)}
    db.session.commit()
    shown = db.session.scalars(partnership_definitions(partnership)).all()
    return [(d, b) for d in shown for b in sorted({b for i, b in pairs if i == d.id})]
