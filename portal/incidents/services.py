"""The rules of the hate-incident register. Every write, and every view of a case, is audited."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select

from portal import audit, clock
from portal.editing import EditConflict, commit_edit
from portal.extensions import db
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
)

CASE_FIELDS = (
    "occurred_on",
    "motivations",
    "incident_type",
    "ward",
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
    "ward",
    "person_details",
    "description",
    "support_offered",
    "police_reference",
    "actions",
    "outcome",
)
MAX_RETENTION_YEARS = 100


class InvalidIncident(ValueError):
    """Data that breaks a rule of the register; ``field`` names the form field at fault."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


class Anonymised(Exception):
    """An anonymised record cannot be changed."""


# --- queries -------------------------------------------------------------------------------


def incidents(status: str | None = None):
    """The current tenant's incidents, newest first, as a select()."""
    query = select(HateIncident).order_by(HateIncident.occurred_on.desc(), HateIncident.id.desc())
    if status in STATUSES:
        query = query.where(HateIncident.status == status)
    return query


def retention_years() -> int:
    """How many years the current tenant keeps case records."""
    settings = db.session.scalar(select(IncidentSettings))
    return settings.retention_years if settings else DEFAULT_RETENTION_YEARS


# --- rules -----------------------------------------------------------------------------------


def _clean(data: dict, today: date) -> dict:
    clean = {k: data.get(k) for k in CASE_FIELDS}
    for key in TEXT_FIELDS:
        clean[key] = (clean[key] or "").strip()
    clean["police_referral"] = bool(clean["police_referral"])
    clean["how_reported"] = clean["how_reported"] or ""
    clean["motivations"] = [m for m in MOTIVATIONS if m in (clean["motivations"] or [])]
    if clean["occurred_on"] is None:
        raise InvalidIncident("occurred_on", "Enter the date of the incident")
    if clean["occurred_on"] > today:
        raise InvalidIncident("occurred_on", "The date of the incident must be today or earlier")
    if clean["occurred_on"] < EARLIEST_INCIDENT_DATE:
        earliest = f"{EARLIEST_INCIDENT_DATE.day} {EARLIEST_INCIDENT_DATE:%B %Y}"
        raise InvalidIncident(
            "occurred_on", f"The date of the incident must be {earliest} or later"
        )
    if not clean["motivations"] or set(data.get("motivations") or []) - set(MOTIVATIONS):
        raise InvalidIncident("motivations", "Choose at least one motivation")
    if clean["incident_type"] not in INCIDENT_TYPES:
        raise InvalidIncident("incident_type", "Choose the type of incident")
    if not clean["ward"]:
        raise InvalidIncident("ward", "Enter the ward where it happened")
    if clean["how_reported"] and clean["how_reported"] not in HOW_REPORTED:
        raise InvalidIncident("how_reported", "Choose how it was reported")
    if not clean["description"]:
        raise InvalidIncident("description", "Enter what happened")
    if clean["police_reference"] and not clean["police_referral"]:
        raise InvalidIncident(
            "police_reference", "Only give a police reference if it was referred to the police"
        )
    if clean["status"] not in STATUSES:
        raise InvalidIncident("status", "Choose whether the case is open or closed")
    if clean["status"] == "closed" and not clean["outcome"]:
        raise InvalidIncident("outcome", "Enter the outcome before closing the case")
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
    clean = _clean(data, today)
    if row.version != version:
        raise EditConflict(row, clean)
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
        raise InvalidIncident(
            "retention_years", f"Enter a number of years from 1 to {MAX_RETENTION_YEARS}"
        )
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


@dataclass
class Statistics:
    year: int
    years: list[int]
    total: int
    by_month: list[tuple[str, int]]
    by_motivation: list[tuple[str, int]]
    by_type: list[tuple[str, int]]
    by_ward: list[tuple[str, int]]
    by_status: list[tuple[str, int]]


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


def statistics(year: int | None = None) -> Statistics:
    """Exact counts of the current tenant's incidents in a calendar year, for its own users."""
    rows = db.session.execute(
        select(
            HateIncident.occurred_on,
            HateIncident.motivations,
            HateIncident.incident_type,
            HateIncident.ward,
            HateIncident.status,
        )
    ).all()
    years = sorted({r.occurred_on.year for r in rows}, reverse=True)
    this_year = clock.utcnow().year
    if year is None or year not in years:
        year = years[0] if years and this_year not in years else this_year
    chosen = [r for r in rows if r.occurred_on.year == year]
    months = Counter(r.occurred_on.month for r in chosen)
    motivations = Counter(m for r in chosen for m in (r.motivations or []))
    types = Counter(r.incident_type for r in chosen)
    wards = Counter(r.ward for r in chosen)
    statuses = Counter(r.status for r in chosen)
    return Statistics(
        year=year,
        years=years,
        total=len(chosen),
        by_month=[(MONTHS[m - 1], months.get(m, 0)) for m in range(1, 13)],
        by_motivation=[(label, motivations.get(key, 0)) for key, label in MOTIVATIONS.items()],
        by_type=[(label, types.get(key, 0)) for key, label in INCIDENT_TYPES.items()],
        by_ward=sorted(wards.items(), key=lambda item: (-item[1], item[0])),
        by_status=[(label, statuses.get(key, 0)) for key, label in STATUSES.items()],
    )
