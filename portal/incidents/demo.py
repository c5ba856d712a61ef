"""Demonstration hate incidents for each council: made up, about nobody, and marked so."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from sqlalchemy import func, select

from portal import clock
from portal.extensions import db
from portal.incidents.models import HateIncident, Ward
from portal.partners.models import Tenant
from portal.tenancy import tenant_scope

PERSON = "Made-up person for the demonstration; no real contact details."

# Each council's list of wards, made up and marked as such.
WARDS = [
    "East ward (demonstration)",
    "North ward (demonstration)",
    "South ward (demonstration)",
    "Town centre ward (demonstration)",
    "West ward (demonstration)",
]

# (days ago, motivations, type, ward, how reported, status, police reference)
EXAMPLES = [
    (12, ["race"], "verbal", "Town centre ward (demonstration)", "online_form", "open", ""),
    (40, ["sexual_orientation"], "online", "North ward (demonstration)", "third_party", "open", ""),
    (75, ["disability"], "verbal", "East ward (demonstration)", "phone", "closed", ""),
    (
        130,
        ["religion", "race"],
        "graffiti",
        "Town centre ward (demonstration)",
        "in_person",
        "closed",
        "",
    ),
    (210, ["race"], "physical", "West ward (demonstration)", "police", "closed", "DEMO/0001"),
    # Closed long ago: past the default retention period, so `flask incidents anonymise`
    # has something to show.
    (
        365 * 7 + 30,
        ["gender_reassignment"],
        "verbal",
        "North ward (demonstration)",
        "phone",
        "closed",
        "",
    ),
]


def _ward_list() -> dict[str, Ward]:
    """The current tenant's demonstration wards, added where missing."""
    now = clock.utcnow()
    held = {w.name: w for w in db.session.scalars(select(Ward))}
    for name in WARDS:
        if name not in held:
            held[name] = Ward(name=name, created_at=now)
            db.session.add(held[name])
    db.session.flush()
    return held


def load_demo() -> Iterator[str]:
    """Add a list of wards and example incidents to every council that has no
    demonstration incidents yet."""
    today = clock.utcnow().date()
    now = clock.utcnow()
    councils = [
        t
        for t in db.session.scalars(select(Tenant).order_by(Tenant.slug)).all()
        if t.kind.endswith("council")
    ]
    for tenant in councils:
        with tenant_scope(tenant):
            wards = _ward_list()
            if db.session.scalar(
                select(func.count(HateIncident.id)).where(HateIncident.is_demo.is_(True))
            ):
                db.session.commit()
                yield f"hate incidents: {tenant.slug} already has examples"
                continue
            for days, motivations, kind, ward, how, status, reference in EXAMPLES:
                occurred = today - timedelta(days=days)
                closed = status == "closed"
                db.session.add(
                    HateIncident(
                        occurred_on=occurred,
                        motivations=motivations,
                        incident_type=kind,
                        ward_row=wards[ward],
                        how_reported=how,
                        person_details=PERSON,
                        description="A made-up incident for the demonstration.",
                        support_offered="Referred to victim support (demonstration).",
                        police_referral=bool(reference),
                        police_reference=reference,
                        actions="Caseworker called the person affected (demonstration).",
                        status=status,
                        closed_on=occurred + timedelta(days=21) if closed else None,
                        outcome="Support given; case closed (demonstration)." if closed else "",
                        is_demo=True,
                        created_at=now,
                        updated_at=now,
                    )
                )
            db.session.commit()
            yield f"hate incidents: {tenant.slug}: {len(EXAMPLES)} examples added"
