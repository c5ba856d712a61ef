"""The rules of the hate-incident register. Every write, and every view of a case, is audited."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import NamedTuple

from sqlalchemy import String, cast, or_, select

from portal import audit, clock
from portal.disclosure import DEFAULT_RULE, ReleasedCell, Rule, release_tables
from portal.editing import Invalid, check_version, commit_edit
from portal.extensions import db
from portal.forms import parse_id
from portal.incidents.models import (
    DEFAULT_RETENTION_YEARS,
    EARLIEST_INCIDENT_DATE,
    HOW_REPORTED,
    INCIDENT_TYPES,
    MOTIVATIONS,
    PERSONAL_FIELDS,
    STATUSES,
    HateIncident,
    IncidentSettings,
    Ward,
)
from portal.models import limit

CASE_FIELDS = (
    "occurred_on",
    "motivations",
    "incident_type",
    "ward_id",
    "how_reported",
    "person_details",
    "description",
    "support_offered",
    "police_referral",
    "police_reference",
    "actions",
    "status",
    "outcome",
)
TEXT_FIELDS = (
    "person_details",
    "description",
    "support_offered",
    "police_reference",
    "actions",
    "outcome",
)
MAX_RETENTION_YEARS = 100
SEARCH_FIELDS = (
    "description",
    "person_details",
    "support_offered",
    "police_reference",
    "actions",
    "outcome",
)


class Anonymised(Exception):
    """An anonymised record cannot be changed."""


# --- queries -------------------------------------------------------------------------------


def _parse_day(text: str) -> date | None:
    """A date typed as 2026-03-27 or 27/3/2026; None if it is neither."""
    text = (text or "").strip()
    for pattern, order in (
        (r"(\d{4})-(\d{1,2})-(\d{1,2})", "ymd"),
        (r"(\d{1,2})/(\d{1,2})/(\d{4})", "dmy"),
    ):
        match = re.fullmatch(pattern, text)
        if match:
            a, b, c = (int(x) for x in match.groups())
            year, month, day = (a, b, c) if order == "ymd" else (c, b, a)
            try:
                return date(year, month, day)
            except ValueError:
                return None
    return None


@dataclass
class RegisterFilters:
    """The register's search and filters, read from the query string: every combination
    has its own address."""

    q: str = ""
    start: str = ""
    end: str = ""
    motivation: str = ""
    status: str = ""
    ward: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_args(cls, args) -> RegisterFilters:
        """Read filters; an unknown choice is dropped, a date that is not a date is
        explained and not applied."""
        filters = cls(
            q=(args.get("q") or "").strip()[:200],
            start=(args.get("from") or "").strip()[:20],
            end=(args.get("to") or "").strip()[:20],
            motivation=args.get("motivation", ""),
            status=args.get("status", ""),
            ward=args.get("ward", ""),
        )
        if filters.motivation not in MOTIVATIONS:
            filters.motivation = ""
        if filters.status not in STATUSES:
            filters.status = ""
        if parse_id(filters.ward) is None:
            filters.ward = ""
        for name, label in (("start", "from"), ("end", "to")):
            text = getattr(filters, name)
            if text and _parse_day(text) is None:
                filters.errors[name] = (
                    f"Enter the date {label} as a real date, for example 2026-03-27"
                )
        if not filters.errors and filters.start_date and filters.end_date:
            if filters.start_date > filters.end_date:
                filters.errors["end"] = "The date to must be the same as or after the date from"
        return filters

    @property
    def start_date(self) -> date | None:
        return None if "start" in self.errors else _parse_day(self.start)

    @property
    def end_date(self) -> date | None:
        return None if "end" in self.errors else _parse_day(self.end)

    def args(self) -> dict[str, str]:
        """The filters as query-string arguments, for links and exports."""
        values = {
            "q": self.q,
            "from": self.start,
            "to": self.end,
            "motivation": self.motivation,
            "status": self.status,
            "ward": self.ward,
        }
        return {k: v for k, v in values.items() if v}

    @property
    def active(self) -> bool:
        return bool(self.args())


def incidents(filters: RegisterFilters | str | None = None):
    """The current tenant's incidents, newest first, filtered, as a select()."""
    if filters is None or isinstance(filters, str):
        filters = RegisterFilters(status=filters or "")
    query = select(HateIncident).order_by(HateIncident.occurred_on.desc(), HateIncident.id.desc())
    if filters.status in STATUSES:
        query = query.where(HateIncident.status == filters.status)
    if filters.motivation in MOTIVATIONS:
        # Stored as a JSON list of keys; a quoted key matches that element only.
        query = query.where(
            cast(HateIncident.motivations, String).like(f'%"{filters.motivation}"%')
        )
    if filters.ward:
        # The ward's running number, as the register's address carries it.
        query = query.where(HateIncident.ward_row.has(Ward.number == int(filters.ward)))
    if filters.start_date:
        query = query.where(HateIncident.occurred_on >= filters.start_date)
    if filters.end_date:
        query = query.where(HateIncident.occurred_on <= filters.end_date)
    if filters.q:
        words = filters.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{words}%"
        query = query.where(
            or_(
                *(
                    getattr(HateIncident, name).ilike(pattern, escape="\\")
                    for name in SEARCH_FIELDS
                ),
                HateIncident.ward_row.has(Ward.name.ilike(pattern, escape="\\")),
            )
        )
    return query


def wards(*, include_retired: bool = True):
    """The current tenant's wards in name order, as a select()."""
    query = select(Ward).order_by(Ward.name)
    if not include_retired:
        query = query.where(Ward.retired_at.is_(None))
    return query


def ward_choices(current: Ward | None = None) -> list[tuple[str, str]]:
    """Wards a case may be given: those in use, and the case's own even if retired."""
    rows = list(db.session.scalars(wards(include_retired=False)))
    if current is not None and current not in rows:
        rows.append(current)
        rows.sort(key=lambda w: w.name)
    return [(str(w.id), w.name) for w in rows]


def _clean_ward_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise Invalid("name", "Enter the name of the ward")
    if len(name) > limit(Ward.name):
        raise Invalid("name", f"The name must be {limit(Ward.name)} characters or fewer")
    return name


def _same_name(name: str, exclude: Ward | None = None) -> Ward | None:
    for row in db.session.scalars(select(Ward)):
        if row is not exclude and row.name.casefold() == name.casefold():
            return row
    return None


def add_ward(name: str) -> Ward:
    """Add a ward to the current tenant's list."""
    name = _clean_ward_name(name)
    if _same_name(name):
        raise Invalid("name", f"“{name}” is already in the list")
    row = Ward(name=name, created_at=clock.utcnow())
    db.session.add(row)
    db.session.flush()
    audit.record("ward.added", row, detail={"name": name})
    db.session.commit()
    return row


def rename_ward(row: Ward, name: str) -> Ward:
    """Correct a ward's name; its incidents follow it."""
    name = _clean_ward_name(name)
    if _same_name(name, exclude=row):
        raise Invalid("name", f"“{name}” is already in the list")
    before = row.name
    if before != name:
        row.name = name
        audit.record("ward.renamed", row, detail={"from": before, "to": name})
    db.session.commit()
    return row


def set_ward_retired(row: Ward, retired: bool) -> Ward:
    """Retire a ward (new cases cannot use it) or bring it back."""
    if retired and row.retired_at is None:
        row.retired_at = clock.utcnow()
        audit.record("ward.retired", row, detail={"name": row.name})
    elif not retired and row.retired_at is not None:
        row.retired_at = None
        audit.record("ward.restored", row, detail={"name": row.name})
    db.session.commit()
    return row


def _ward(ward_id) -> Ward | None:
    try:
        ward_id = int(ward_id)
    except (TypeError, ValueError):
        return None
    if not 1 <= ward_id < 2**31:
        return None
    # A select, so that the tenancy criterion applies: another tenant's ward is not found.
    return db.session.scalar(select(Ward).where(Ward.id == ward_id))


def retention_years() -> int:
    """How many years the current tenant keeps case records."""
    settings = db.session.scalar(select(IncidentSettings))
    return settings.retention_years if settings else DEFAULT_RETENTION_YEARS


# --- rules -----------------------------------------------------------------------------------


def _clean(data: dict, today: date, current_ward_id: int | None = None) -> dict:
    clean = {k: data.get(k) for k in CASE_FIELDS}
    for key in TEXT_FIELDS:
        clean[key] = (clean[key] or "").strip()
    clean["police_referral"] = bool(clean["police_referral"])
    clean["how_reported"] = clean["how_reported"] or ""
    clean["motivations"] = [m for m in MOTIVATIONS if m in (clean["motivations"] or [])]
    if clean["occurred_on"] is None:
        raise Invalid("occurred_on", "Enter the date of the incident")
    if clean["occurred_on"] > today:
        raise Invalid("occurred_on", "The date of the incident must be today or earlier")
    if clean["occurred_on"] < EARLIEST_INCIDENT_DATE:
        earliest = f"{EARLIEST_INCIDENT_DATE.day} {EARLIEST_INCIDENT_DATE:%B %Y}"
        raise Invalid("occurred_on", f"The date of the incident must be {earliest} or later")
    if not clean["motivations"] or set(data.get("motivations") or []) - set(MOTIVATIONS):
        raise Invalid("motivations", "Choose at least one motivation")
    if clean["incident_type"] not in INCIDENT_TYPES:
        raise Invalid("incident_type", "Choose the type of incident")
    ward = _ward(clean["ward_id"])
    if ward is None or (ward.is_retired and ward.id != current_ward_id):
        raise Invalid("ward_id", "Choose the ward where it happened")
    clean["ward_id"] = ward.id
    if clean["how_reported"] and clean["how_reported"] not in HOW_REPORTED:
        raise Invalid("how_reported", "Choose how it was reported")
    if not clean["description"]:
        raise Invalid("description", "Enter what happened")
    if clean["police_reference"] and not clean["police_referral"]:
        raise Invalid(
            "police_reference", "Only give a police reference if it was referred to the police"
        )
    if clean["status"] not in STATUSES:
        raise Invalid("status", "Choose whether the case is open or closed")
    if clean["status"] == "closed" and not clean["outcome"]:
        raise Invalid("outcome", "Enter the outcome before closing the case")
    return clean


def add_incident(data: dict, *, is_demo: bool = False) -> HateIncident:
    """Record a new incident in the current tenant's register."""
    today = clock.utcnow().date()
    clean = _clean(data, today)
    now = clock.utcnow()
    row = HateIncident(**clean, is_demo=is_demo, created_at=now, updated_at=now)
    row.closed_on = today if clean["status"] == "closed" else None
    db.session.add(row)
    db.session.flush()
    audit.record("incident.created", row)
    db.session.commit()
    return row


def update_incident(row: HateIncident, data: dict, *, version: int) -> HateIncident:
    """Save an edit made to ``version``; refuse it if somebody saved in between."""
    if row.is_anonymised:
        raise Anonymised()
    today = clock.utcnow().date()
    clean = _clean(data, today, row.ward_id)
    check_version(row, version, clean)
    changed = [k for k in CASE_FIELDS if getattr(row, k) != clean[k]]
    if not changed:
        return row
    was_open = row.status == "open"
    for key in changed:
        setattr(row, key, clean[key])
    if row.status == "closed" and (was_open or row.closed_on is None):
        row.closed_on = today
    elif row.status == "open":
        row.closed_on = None
    row.updated_at = clock.utcnow()
    # Field names only: the audit trail must not become a second copy of the case.
    audit.record("incident.updated", row, detail={"fields": changed})
    return commit_edit(row, clean)


def record_view(row: HateIncident, page: str) -> None:
    """Every time a case is shown to anybody, the trail says who saw it and where."""
    audit.record("incident.viewed", row, detail={"page": page})
    db.session.commit()


def record_list_view(count: int, page: int) -> None:
    audit.record(
        "incident.register_viewed",
        object_type="HateIncident",
        detail={"page": page, "cases_listed": count},
    )
    db.session.commit()


def set_retention(years: int) -> IncidentSettings:
    """Change how long the current tenant keeps case records before anonymising them."""
    if not 1 <= years <= MAX_RETENTION_YEARS:
        raise Invalid("retention_years", f"Enter a number of years from 1 to {MAX_RETENTION_YEARS}")
    settings = db.session.scalar(select(IncidentSettings))
    before = settings.retention_years if settings else DEFAULT_RETENTION_YEARS
    if settings is None:
        settings = IncidentSettings(retention_years=years, updated_at=clock.utcnow())
        db.session.add(settings)
    else:
        settings.retention_years = years
        settings.updated_at = clock.utcnow()
    db.session.flush()
    audit.record("incident.retention_changed", settings, detail={"from": before, "to": years})
    db.session.commit()
    return settings


# --- retention ----------------------------------------------------------------------------


def years_before(day: date, years: int) -> date:
    """The same day ``years`` earlier (28 February for 29 February in a common year)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


@dataclass
class AnonymiseReport:
    retention_years: int
    cutoff: date
    anonymised: int = 0
    kept_open: int = 0
    kept_in_retention: int = 0
    ids: list[int] = field(default_factory=list)


def anonymise_expired(*, dry_run: bool = False, today: date | None = None) -> AnonymiseReport:
    """Anonymise the current tenant's closed cases whose retention period has ended.

    The period runs from the day the case closed (or the incident, if it never had a
    closing date). Open cases are kept whatever their age. The date, motivation, type,
    ward and status stay, so the statistics do not change.
    """
    today = today or clock.utcnow().date()
    years = retention_years()
    report = AnonymiseReport(retention_years=years, cutoff=years_before(today, years))
    rows = db.session.scalars(
        select(HateIncident).where(HateIncident.anonymised_at.is_(None)).order_by(HateIncident.id)
    ).all()
    for row in rows:
        if row.retention_starts >= report.cutoff:
            report.kept_in_retention += 1
        elif row.status != "closed":
            report.kept_open += 1
        else:
            report.anonymised += 1
            report.ids.append(row.id)
            if not dry_run:
                _anonymise(row, years)
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    return report


def _anonymise(row: HateIncident, years: int) -> None:
    for name in PERSONAL_FIELDS:
        setattr(row, name, "")
    row.anonymised_at = clock.utcnow()
    row.updated_at = row.anonymised_at
    audit.record("incident.anonymised", row, detail={"retention_years": years})


# --- statistics ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """One figure on the statistics page: what it shows, and how it was released."""

    text: str
    note: str = ""


@dataclass
class Statistics:
    year: int
    years: list[int]
    exact: bool
    rule: Rule | None
    total: Figure
    by_month: list[tuple[str, Figure]]
    by_motivation: list[tuple[str, Figure]]
    by_type: list[tuple[str, Figure]]
    by_ward: list[tuple[str, Figure]]
    by_status: list[tuple[str, Figure]]


MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


def disclosure_rule(tenant) -> Rule:
    """The strictest rule among the tenant's partnerships (the portal's default if none)."""
    rules = [DEFAULT_RULE, *(p.disclosure_rule for p in tenant.partnerships)]
    return max(rules, key=lambda r: (r.threshold, r.rounding))


def _exact(count: int) -> Figure:
    return Figure(f"{count:,}")


def _released(cell: ReleasedCell) -> Figure:
    return Figure(cell.label, cell.note)


def statistics(year: int | None = None, *, exact: bool = False, rule: Rule = DEFAULT_RULE):
    """Counts of the current tenant's incidents in a calendar year.

    Exact for its caseworkers (``exact``); for everybody else released under ``rule``,
    every table at once, since they all break down the same incidents.
    """
    rows = db.session.execute(
        select(
            HateIncident.occurred_on,
            HateIncident.motivations,
            HateIncident.incident_type,
            HateIncident.ward_id,
            HateIncident.status,
        )
    ).all()
    years = sorted({r.occurred_on.year for r in rows}, reverse=True)
    this_year = clock.utcnow().year
    if year is None or year not in years:
        year = years[0] if years and this_year not in years else this_year
    chosen = [r for r in rows if r.occurred_on.year == year]
    total = len(chosen)
    months = Counter(r.occurred_on.month for r in chosen)
    motivations = Counter(m for r in chosen for m in (r.motivations or []))
    types = Counter(r.incident_type for r in chosen)
    ward_counts = Counter(r.ward_id for r in chosen)
    statuses = Counter(r.status for r in chosen)
    ward_rows = [
        w for w in db.session.scalars(wards()) if not w.is_retired or ward_counts.get(w.id)
    ]
    tables = {
        "month": {MONTHS[m - 1]: months.get(m, 0) for m in range(1, 13)},
        "status": {label: statuses.get(key, 0) for key, label in STATUSES.items()},
        "type": {label: types.get(key, 0) for key, label in INCIDENT_TYPES.items()},
        "ward": {w.name: ward_counts.get(w.id, 0) for w in ward_rows},
    }
    if exact:
        figures = {name: {k: _exact(v) for k, v in t.items()} for name, t in tables.items()}
        by_motivation = [
            (label, _exact(motivations.get(key, 0))) for key, label in MOTIVATIONS.items()
        ]
        shown_total = _exact(total)
    else:
        # An incident can have several motivations, so each motivation is released as
        # "with it" and "without it": a breakdown of the same total, decided together
        # with the other tables so that none can be set against another. Only the "with"
        # cell is shown, which tells less than the check assumes.
        motivation_tables = [
            {key: motivations.get(key, 0), "": total - motivations.get(key, 0)}
            for key in MOTIVATIONS
        ]
        released = release_tables(
            [(t, total) for t in tables.values()] + [(t, total) for t in motivation_tables],
            rule,
        )
        figures = {
            name: {k: _released(c) for k, c in r.cells.items()}
            for name, r in zip(tables, released, strict=False)
        }
        by_motivation = [
            (label, _released(r.cells[key]))
            for (key, label), r in zip(MOTIVATIONS.items(), released[len(tables) :], strict=True)
        ]
        shown_total = _released(released[0].total)
    by_ward = list(figures["ward"].items())
    if exact:
        by_ward.sort(key=lambda item: (-tables["ward"][item[0]], item[0]))
    return Statistics(
        year=year,
        years=years,
        exact=exact,
        rule=None if exact else rule,
        total=shown_total,
        by_month=list(figures["month"].items()),
        by_motivation=by_motivation,
        by_type=list(figures["type"].items()),
        by_ward=by_ward,
        by_status=list(figures["status"].items()),
    )


class StatisticsView(NamedTuple):
    """What a view of the statistics is recorded with, when the figures were kept from
    an earlier view (the organisation's dashboard): their year, and whether exact."""

    year: int
    exact: bool


def record_statistics_view(stats: Statistics | StatisticsView) -> None:
    """Every view of the statistics is in the audit trail, saying whether it was exact
    (written behind the request: see :func:`portal.audit.record_view`)."""
    audit.record_view(
        "incident.statistics_viewed",
        object_type="HateIncident",
        detail={"year": stats.year, "exact": stats.exact},
    )
