"""The partnership dashboard: what the lead's home page shows, built from stored releases.

Every figure about people comes from :class:`~portal.monitoring.models.FigureRelease`,
read for all members in one query; nothing is read from a member's live figures, so a
figure changed after release changes nothing here until it is corrected. Two things are
counted across the members' walls in one audited aggregate each
(:func:`portal.tenancy.aggregate_across_tenants`), never a query per member:

* how many of each member's actions stand at each status against each joint aim. These
  count the organisation's own pieces of work, not people, so no disclosure rule applies;
  the lead needs them to see whether joint aims are being delivered, and the members
  link their actions to the joint aims for exactly that purpose;
* each member's community profile, the population of its area by characteristic, taken
  from a published source (the census), so nothing private about anybody.

Each view of released figures is recorded once, for the partnership.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import String, Text, func, select, type_coerce

from portal import audit, cache, charts, tenancy
from portal.actions.models import STATUSES, Action, ActionJointAim
from portal.aims.models import JointAim, PartnershipRole, PlanPeriod
from portal.dashboards.filters import Filters, read_filters
from portal.disclosure import ReleasedCell, Rule, cell_from_data
from portal.extensions import db
from portal.monitoring import categories, periods
from portal.monitoring.models import FigureRelease, MeasureDefinition, PopulationFigure
from portal.monitoring.partnership_view import partnership_definitions
from portal.partners.models import Partnership, Tenant

NO_STATUS = "No status recorded"


@dataclass
class DataTable:
    """One chart's data: its heading, a sentence saying what it shows, and its table.

    ``rows`` hold what the page shows and the spreadsheet holds, cell for cell: a number
    where the figure is a number, otherwise the words ("fewer than 8").
    """

    key: str
    heading: str
    summary: str
    headers: list[str]
    rows: list[list]
    # How it is drawn (portal/dashboards/charts.py): the first column names the rows and
    # each other column is a series. "bar", "stacked" (bars), "line" (rows are periods),
    # or "table" (shown as a table only).
    kind: str = "bar"
    unit: str = ""


@dataclass
class Dashboard:
    partnership: Partnership
    filters: Filters
    period: str | None
    periods: list[str]
    members: list[Tenant]
    shown: list[Tenant]
    characteristics: list[categories.Characteristic]
    # The characteristic members are set beside their communities by (None: none released).
    characteristic: str | None
    aims: DataTable | None
    tables: list[DataTable] = field(default_factory=list)
    returns: DataTable | None = None
    latest: str | None = None  # the period shown when none is chosen
    notes: list[str] = field(default_factory=list)  # a filter shown otherwise, and why

    @property
    def all_tables(self) -> list[DataTable]:
        return [t for t in [self.returns, self.aims, *self.tables] if t is not None]


@dataclass(eq=False)
class _Released:
    """One release in force, as the dashboard reads it.

    A release never changes once stored (a correction is a new release), so each is read
    and decoded once per process and kept (:data:`_kept`): a view reads only which
    releases are in force, and what every chart needs of each (its breakdowns, its total)
    is there already. A breakdown's cells are decoded from the stored text when a chart
    first asks for them, then kept with the release.
    """

    tenant_id: int
    definition_id: int
    period: str
    rule: Rule
    keys: tuple[str, ...]  # the breakdowns it was released by ("": the total table)
    total: ReleasedCell | None  # the released total
    stored: str | dict  # its tables, as the database gave them (text, or decoded)
    stamp: object  # when it was made, as the database gave it
    # Breakdown -> its released cells and total, decoded when first asked for (None until
    # then: tens of thousands are kept, and every object kept is more for the collector).
    tables: dict[str, tuple[dict[str, ReleasedCell], ReleasedCell]] | None = None

    def table(self, breakdown: str) -> tuple[dict[str, ReleasedCell], ReleasedCell] | None:
        """The cells and the total of the table released by ``breakdown``, if any."""
        if breakdown not in self.keys:
            return None
        if self.tables is None:
            self.tables = {}
        found = self.tables.get(breakdown)
        if found is None:
            stored = json.loads(self.stored) if isinstance(self.stored, str) else self.stored
            data = stored[breakdown]
            threshold = self.rule.threshold
            found = self.tables[breakdown] = (
                {k: ReleasedCell(status, value, threshold) for k, status, value in data["cells"]},
                cell_from_data(data["total"], self.rule),
            )
        return found


# The releases read so far, by database (the cache's namespace) and release id, each with
# when it was made, so that a database put back from a copy never reads another's.
# Bounded: at RELEASES_KEPT a database's releases are read again (a national partnership
# holds some tens of thousands).
RELEASES_KEPT = 100_000
DATABASES_KEPT = 4
_kept: dict[str, dict[int, _Released]] = {}


def _read(row, threshold: int, rounding: int, stored, rules: dict) -> _Released:
    """A stored release as the dashboard reads it: its breakdowns and its total (of the
    total table, or of whichever table it was released by: every table of one release
    has the same total)."""
    _id, tenant_id, definition_id, period, _version, stamp = row
    rule = rules.get((threshold, rounding)) or rules.setdefault(
        (threshold, rounding), Rule(threshold, rounding)
    )
    tables = (json.loads(stored) if isinstance(stored, str) else stored) or {}
    table = tables.get("")
    if table is None and tables:
        table = next(iter(tables.values()))
    total = cell_from_data(table["total"], rule) if table is not None else None
    return _Released(tenant_id, definition_id, period, rule, tuple(tables), total, stored, stamp)


RETURN_STATUSES = ("signed off", "awaiting sign-off", "in progress", "not started", "overdue")


def returns_status(
    partnership: Partnership, filters: Filters, shown: list[Tenant] | None = None
) -> DataTable | None:
    """The members' annual returns for the reporting year: each one's status, deadline
    and last activity, as the lead's list of returns says them.

    The year is the one the period filter falls in, else the newest. Only those facts
    about a member's return cross its wall (one grouped read for all members,
    :func:`portal.returns.services.member_statuses`), never what it says. None when the
    partnership has no reporting year for the period.
    """
    from portal.returns import services as returns

    years = returns.years_for(partnership)
    if filters.period:
        years = [y for y in years if y.start_year == periods.year_of(filters.period)]
    if not years:
        return None
    year = years[0]
    wanted = None if shown is None else {m.id for m in shown}
    statuses = [s for s in returns.member_statuses(year) if wanted is None or s.tenant.id in wanted]
    rows = [
        [
            s.tenant.name,
            s.status.capitalize(),
            f"{s.deadline:%-d %B %Y}",
            f"{s.last_activity:%-d %B %Y}" if s.last_activity else "No activity yet",
        ]
        for s in statuses
    ]
    counts = {word: sum(1 for s in statuses if s.status == word) for word in RETURN_STATUSES}
    said = [f"{n} {word}" for word, n in counts.items() if n]
    summary = (
        f"Of {len(statuses)} member{'s' if len(statuses) != 1 else ''}' returns for "
        f"{year.label}: {', '.join(said)}."
        if len(statuses) > 1
        else f"{statuses[0].tenant.name}'s return for {year.label}: {statuses[0].status}."
        if statuses
        else f"No member is shown for {year.label}."
    )
    return DataTable(
        "returns-status",
        f"Returns status, {year.label}",
        summary,
        ["Member", "Status", "Deadline", "Last activity"],
        rows,
        kind="table",
    )


def joint_measures(partnership: Partnership) -> list[MeasureDefinition]:
    """The count measures members may release to the partnership: its joint measures
    and the built-in ones."""
    return list(db.session.scalars(partnership_definitions(partnership)))


def with_releases(definitions, released: list[_Released]) -> list[MeasureDefinition]:
    """The measures at least one member has released figures for, by name."""
    used = {r.definition_id for r in released}
    return sorted((d for d in definitions if d.id in used), key=lambda d: (d.name, d.id))


def released_figures(member_ids: list[int], definition_ids: list[int]) -> list[_Released]:
    """The release in force for every member, joint measure and period.

    One query names the releases in force; the stored tables are read (in one more query)
    only for releases this process has not read before. They are read as the database
    holds them (text on SQLite; PostgreSQL's driver decodes JSON itself)."""
    if not member_ids or not definition_ids:
        return []
    rows = db.session.execute(
        select(
            FigureRelease.id,
            FigureRelease.tenant_id,
            FigureRelease.definition_id,
            FigureRelease.period,
            FigureRelease.version,
            # As the database holds it: only compared, never read as a date.
            type_coerce(FigureRelease.released_at, String),
        )
        .where(
            FigureRelease.definition_id.in_(definition_ids),
            FigureRelease.tenant_id.in_(member_ids),
        )
        # The index's order: each chain's versions together, the one in force last.
        .order_by(
            FigureRelease.definition_id,
            FigureRelease.tenant_id,
            FigureRelease.period,
            FigureRelease.version,
        )
        .execution_options(yield_per=READ_AT_ONCE)
    )
    database = cache.key("releases")
    if database not in _kept and len(_kept) >= DATABASES_KEPT:
        _kept.clear()
    kept = _kept.setdefault(database, {})
    # Each release in force is looked up as its chain ends, and its row let go: a view of
    # tens of thousands of releases builds nothing of its own for the collector to walk
    # but the list of them.
    out: list[_Released | int] = []
    missing = {}
    previous = None
    for row in rows:
        if previous is not None and (
            row[3] != previous[3] or row[1] != previous[1] or row[2] != previous[2]
        ):
            out.append(_kept_or_missing(previous, kept, missing))
        previous = row
    if previous is not None:
        out.append(_kept_or_missing(previous, kept, missing))
    if missing:
        if len(kept) + len(missing) > RELEASES_KEPT:
            kept.clear()
        rules: dict[tuple[int, int], Rule] = {}
        ids = sorted(missing)
        for start in range(0, len(ids), READ_AT_ONCE):
            for id_, threshold, rounding, tables in db.session.execute(
                select(
                    FigureRelease.id,
                    FigureRelease.threshold,
                    FigureRelease.rounding,
                    type_coerce(FigureRelease.tables, Text),
                ).where(FigureRelease.id.in_(ids[start : start + READ_AT_ONCE]))
            ):
                kept[id_] = _read(missing[id_], threshold, rounding, tables, rules)
        out = [kept[r] if isinstance(r, int) else r for r in out]
    return out


def _kept_or_missing(row, kept: dict[int, _Released], missing: dict) -> _Released | int:
    """The kept release a row names, or its id (noted in ``missing``) if none is kept."""
    found = kept.get(row[0])
    if found is None or found.stamp != row[5]:
        missing[row[0]] = tuple(row)
        return row[0]
    return found


READ_AT_ONCE = 5000  # releases whose tables are read in one statement


def _shown(cell: ReleasedCell | None):
    """A released figure as a table cell: its number, or what stands in its place."""
    if cell is None:
        return "not released"
    return cell.value if cell.value is not None else cell.label


def _pct(value: float | None):
    # + 0.0: a difference that rounds to nothing is 0.0, never -0.0.
    return "not known" if value is None else round(value, 1) + 0.0


def current_plan(partnership: Partnership, period: str | None) -> PlanPeriod | None:
    """The published plan period covering ``period``'s year, or the latest one."""
    plans = list(
        db.session.scalars(
            select(PlanPeriod)
            .where(PlanPeriod.partnership_id == partnership.id, PlanPeriod.is_draft.is_(False))
            .order_by(PlanPeriod.start_year.desc())
        )
    )
    if period is not None:
        year = periods.year_of(period)
        for plan in plans:
            if plan.start_year <= year <= plan.end_year:
                return plan
    return plans[0] if plans else None


def aim_status_table(
    partnership: Partnership, plan: PlanPeriod | None, member_ids: list[int]
) -> DataTable | None:
    """Members' actions against each joint aim of the plan, counted by status."""
    if plan is None:
        return None
    aims = list(
        db.session.scalars(
            select(JointAim)
            .join(PartnershipRole, JointAim.role_id == PartnershipRole.id)
            .where(PartnershipRole.period_id == plan.id)
            .order_by(PartnershipRole.position, JointAim.position, JointAim.id)
        )
    )
    counts: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    if aims:
        # Every aim the members' actions serve, kept below for this plan's aims only: read
        # member by member (the order the actions are stored in), the count takes half
        # the time it takes aim by aim, and it is a few rows whichever way. The members
        # are named here too, not only by the wall's own condition (which lets an outer
        # join's empty side through, and so steers SQLite to read aim by aim).
        rows = tenancy.aggregate_across_tenants(
            select(ActionJointAim.joint_aim_id, Action.status, func.count())
            .join(Action, Action.id == ActionJointAim.action_id)
            .where(ActionJointAim.tenant_id.in_(member_ids))
            .group_by(ActionJointAim.joint_aim_id, Action.status),
            member_ids,
            purpose=f"status of actions against joint aims of {partnership.slug}",
            about=partnership,
        )
        wanted = {a.id for a in aims}
        for aim_id, status, n in rows:
            if aim_id in wanted:
                counts[aim_id][STATUSES.get(status or "", NO_STATUS)] += n
    labels = [*STATUSES.values(), NO_STATUS]
    table_rows = []
    for number, aim in enumerate(aims, start=1):
        by_status = counts.get(aim.id, {})
        counted = [by_status.get(s, 0) for s in labels]
        table_rows.append([f"{number}. {aim.text}", *counted])
    # The stacked bars add up to each aim's actions: no column of totals to stack twice.
    total = sum(sum(r[1:]) for r in table_rows)
    without = [r[0].split(".")[0] for r in table_rows if not any(r[1:])]
    summary = (
        f"Members have linked {total:,} action{'s' * (total != 1)} "
        f"to the {len(aims)} joint aims of {plan.label}"
    )
    if len(without) == 1:
        summary += f"; aim {without[0]} has none yet."
    elif without:
        summary += f"; aims {', '.join(without)} have none yet."
    else:
        summary += "."
    return DataTable(
        "aims",
        f"Members' actions against the joint aims, {plan.label}",
        summary,
        ["Joint aim", *labels],
        table_rows,
        kind="stacked",
    )


LINES_PER_CHART = 6  # the accessible palette's colours, each with its own marker and dash


def over_time(definitions, released: list[_Released]) -> list[DataTable]:
    """The members' released totals summed for each measure and year, a line per measure,
    at most :data:`LINES_PER_CHART` measures to a chart."""
    by_key: dict[tuple[int, str], list[ReleasedCell]] = defaultdict(list)
    for r in released:
        cell = r.total
        if cell is not None:
            by_key[r.definition_id, r.period].append(cell)
    held = {p for (_, p) in by_key}
    years = sorted(p for p in held if "-Q" not in p) or sorted(held)
    if years and all(y.isdecimal() for y in years):
        # Every year from the first to the last, so a run of years with nothing released
        # is a gap in the line, not two points drawn side by side.
        years = [str(y) for y in range(int(years[0]), int(years[-1]) + 1)]
    measures = [d for d in definitions if any((d.id, y) in by_key for y in years)]
    groups = [
        measures[i : i + LINES_PER_CHART] for i in range(0, len(measures), LINES_PER_CHART)
    ] or [[]]
    tables = []
    for number, group in enumerate(groups, start=1):
        rows = []
        for year in years:
            row = [periods.label(year)]
            for d in group:
                cells = by_key.get((d.id, year))
                shown = [c.value for c in cells or [] if c.value is not None]
                # Summed only when every member's total is a number, as the members'
                # figures page does: otherwise the sum would sit beside a hidden count.
                if not cells:
                    row.append("not released")
                else:
                    row.append(sum(shown) if len(shown) == len(cells) else "not shown")
            rows.append(row)
        numeric = [
            (row[i + 1], d.name, row[0])
            for row in rows
            for i, d in enumerate(group)
            if isinstance(row[i + 1], int)
        ]
        if numeric:
            value, name, year = max(numeric)
            summary = (
                f"The highest total of members' released figures here is {value:,}, "
                f"for {name} in {year}."
            )
        else:
            summary = "No member has released figures for these measures yet."
        suffix = f" ({number} of {len(groups)})" if len(groups) > 1 else ""
        tables.append(
            DataTable(
                f"over-time-{number}",
                f"Members' released totals over time{suffix}",
                summary,
                ["Year", *(d.name for d in group)],
                rows if group else [],
                kind="line",
            )
        )
    return tables


def across_members(definitions, released: list[_Released], shown, period) -> DataTable:
    index = {(r.tenant_id, r.definition_id): r for r in released if r.period == period}
    rows = []
    for member in shown:
        row = [member.name]
        for d in definitions:
            r = index.get((member.id, d.id))
            row.append(_shown(r.total) if r is not None else "not released")
        rows.append(row)
    label = periods.label(period) if period else "no period"
    summary = f"No member has a released figure shown as a number for {label}."
    for column, d in enumerate(definitions, start=1):
        numeric = [(row[0], row[column]) for row in rows if isinstance(row[column], int)]
        if numeric:
            top = max(value for _, value in numeric)
            names = [name for name, value in numeric if value == top]
            summary = (
                f"In {label}, {charts.listed(names)} released the highest figure for "
                f"{d.name}: {top:,}."
            )
            break
    return DataTable(
        "members",
        f"Joint measures by member, {label}",
        summary,
        ["Member", *(d.name for d in definitions)],
        rows,
        kind="table",
    )


def community_profiles(member_ids: list[int]) -> dict[int, dict[str, dict[str, int]]]:
    """Each member's latest community profile: characteristic, then category, in one
    aggregate across the members (population counts from a published source)."""
    if not member_ids:
        return {}
    rows = tenancy.aggregate_across_tenants(
        select(
            PopulationFigure.tenant_id,
            PopulationFigure.profile_id,
            PopulationFigure.characteristic,
            PopulationFigure.category,
            func.sum(PopulationFigure.value),
        ).group_by(
            PopulationFigure.tenant_id,
            PopulationFigure.profile_id,
            PopulationFigure.characteristic,
            PopulationFigure.category,
        ),
        member_ids,
        purpose="members' community profiles",
    )
    latest: dict[int, int] = {}
    for tenant_id, profile_id, *_ in rows:
        latest[tenant_id] = max(latest.get(tenant_id, 0), profile_id)
    out: dict[int, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(dict))
    for tenant_id, profile_id, characteristic, category, value in rows:
        if profile_id == latest[tenant_id]:
            out[tenant_id][characteristic][category] = int(value)
    return out


def _benchmark(characteristic, definitions, released, shown, period, profiles) -> list[DataTable]:
    index = {(r.tenant_id, r.definition_id): r for r in released if r.period == period}
    by = {i for (_, i), r in index.items() if characteristic.key in r.keys}
    defs = [d for d in definitions if d.id in by]
    if not defs:
        return []
    rows = []
    gaps = []
    for d in defs:
        for member in shown:
            r = index.get((member.id, d.id))
            table = r.table(characteristic.key) if r is not None else None
            cells = table[0] if table is not None else None
            recorded = _recorded(cells, characteristic.categories)
            community = profiles.get(member.id, {}).get(characteristic.key, {})
            community_total = _recorded(community, characteristic.categories)
            for category in characteristic.categories:
                cell = cells.get(category) if cells else None
                share = (
                    cell.value * 100 / recorded
                    if cell is not None and cell.value is not None and recorded
                    else None
                )
                base = community.get(category)
                census = (
                    base * 100 / community_total if base is not None and community_total else None
                )
                gap = share - census if share is not None and census is not None else None
                rows.append(
                    [
                        d.name,
                        member.name,
                        category,
                        _shown(cell),
                        _pct(share),
                        _pct(census),
                        _pct(gap),
                    ]
                )
                if gap is not None:
                    gaps.append((gap, member.name, category, share, census))
    label = periods.label(period) if period else "no period"
    chart_rows = _gap_rows(rows, characteristic, len(defs) > 1)
    if gaps:
        gap, name, category, share, census = min(gaps)
        summary = (
            f"In {label} the widest shortfall is {name}'s share of {category.lower()}, "
            f"{share:.0f}%, against {census:.0f}% of its community."
        )
    else:
        summary = f"No member's released figures for {label} can be set beside its community yet."
    key = characteristic.key.replace("_", "-")
    what = characteristic.label.lower()
    return [
        DataTable(
            f"gaps-{key}",
            f"Difference between each member's shares and its community's by {what}, {label}",
            summary,
            ["Member", *characteristic.categories],
            chart_rows,
            kind="bar",
            unit="Difference from the community's share (percentage points)",
        ),
        DataTable(
            f"benchmark-{key}",
            f"Members' released figures and their communities by {what}, {label}",
            f"Each member's released figures by {what} in {label}, as shares of those it "
            "recorded in a category, beside the same shares of its community. A member "
            "with one of these figures not shown as a number has no shares.",
            [
                "Joint measure",
                "Member",
                "Category",
                "Released figure",
                "Share (%)",
                "Community share (%)",
                "Difference (points)",
            ],
            rows,
            kind="table",
        ),
    ]


def _recorded(cells: dict | None, categories: list[str]) -> float | None:
    """How many are recorded in one of ``categories``: the base of a share set beside the
    community's, which leaves out those in none of them on both sides (the figures' "not
    known", the census's "not answered"). None where a category's figure is not shown as a
    number: the base, and every share of it, cannot then be worked out."""
    if not cells:
        return None
    values = [cells.get(c) for c in categories]
    values = [getattr(v, "value", v) for v in values if v is not None]
    if any(v is None for v in values):
        return None
    return sum(values) or None


def _gap_rows(rows: list[list], characteristic, several: bool) -> list[list]:
    """A row per member (and measure, when there are several): the difference, in
    percentage points, between its share of each category and its community's."""
    out: dict[str, dict[str, object]] = {}
    for measure, member, category, _fig, _share, _census, gap in rows:
        name = f"{member}: {measure}" if several else member
        out.setdefault(name, {})[category] = gap
    return [
        [name, *(gaps.get(c, "not known") for c in characteristic.categories)]
        for name, gaps in out.items()
    ]


def latest_period(held: list[str]) -> str | None:
    """The latest whole year held (a year's figures are the headline), else the latest."""
    years = [p for p in held if "-Q" not in p]
    return max(years or held) if held else None


def partnership_dashboard(partnership: Partnership, args) -> Dashboard:
    """Everything the lead's home shows for the filters in ``args``."""
    members = list(partnership.members)
    definitions = joint_measures(partnership)
    released = released_figures([m.id for m in members], [d.id for d in definitions])
    periods_held = sorted({r.period for r in released}, key=lambda p: (p[:4], "-Q" in p, p))
    filters = read_filters(args, periods_held=periods_held, member_slugs=[m.slug for m in members])
    shown = [m for m in members if filters.member in (None, m.slug)]
    shown_ids = {m.id for m in shown}
    released = [r for r in released if r.tenant_id in shown_ids]
    definitions = with_releases(definitions, released)
    period = filters.period or latest_period(periods_held)
    used = {key for r in released for key in r.keys if key}
    characteristics = [c for c in categories.CHARACTERISTICS.values() if c.key in used]
    # One characteristic at a time (the first, unless one is chosen): at hundreds of
    # members every characteristic at once would be tens of thousands of rows.
    wanted = filters.characteristic or (characteristics[0].key if characteristics else None)
    chosen = [c for c in characteristics if c.key == wanted]
    notes = []
    if wanted and not chosen and characteristics:
        # A characteristic the portal knows, but that no figure released here is broken
        # down by: the first that is, said in words rather than an empty section.
        notes.append(
            f"No figures released here are broken down by "
            f"{categories.characteristic(wanted).label.lower()}; members are set beside "
            f"their communities by {characteristics[0].label.lower()} instead."
        )
        wanted, chosen = characteristics[0].key, characteristics[:1]
    profiles = community_profiles(sorted(shown_ids)) if chosen else {}
    dashboard = Dashboard(
        partnership,
        filters,
        period,
        periods_held,
        members,
        shown,
        characteristics,
        wanted,
        aim_status_table(partnership, current_plan(partnership, period), sorted(shown_ids)),
        returns=returns_status(partnership, filters, shown),
        latest=latest_period(periods_held),
        notes=notes,
    )
    dashboard.tables.extend(over_time(definitions, released))
    dashboard.tables.append(across_members(definitions, released, shown, period))
    for c in chosen:
        dashboard.tables.extend(_benchmark(c, definitions, released, shown, period, profiles))
    audit.record(
        "released_figures.read",
        partnership,
        tenant_id=None,
        detail={
            "partnership": partnership.slug,
            "view": "dashboard",
            **filters.args(),
            "members": len(shown),
            "releases": len(released),
        },
    )
    db.session.commit()
    return dashboard
