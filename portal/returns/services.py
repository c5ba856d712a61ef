"""The rules of the reporting cycle: reporting years, returns, sign-off and reopening.

The report builder reads only :func:`signed_off_returns` and
:func:`members_without_return`: signed-off snapshots, never a draft.
"""

from __future__ import annotations

import hashlib
import json

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal import audit
from portal.extensions import db
from portal.partners.models import Tenant
from portal.returns.models import ReportingYear, ReturnReopening, ReturnSnapshot


def content_hash(content: dict) -> str:
    """The SHA-256 of a snapshot's content as canonical JSON (sorted keys, no spaces)."""
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _current_snapshots(reporting_year: ReportingYear) -> dict[int, ReturnSnapshot]:
    """The snapshot in force for each member that has one, by tenant id."""
    withdrawn = select(ReturnReopening.snapshot_id)
    rows = db.session.scalars(
        select(ReturnSnapshot)
        .where(
            ReturnSnapshot.reporting_year_id == reporting_year.id,
            ReturnSnapshot.id.not_in(withdrawn),
        )
        .options(selectinload(ReturnSnapshot.tenant))
        .order_by(ReturnSnapshot.tenant_id, ReturnSnapshot.version)
    )
    return {row.tenant_id: row for row in rows}


def signed_off_returns(reporting_year: ReportingYear) -> list[ReturnSnapshot]:
    """The signed-off returns of the year's members: each member's snapshot in force
    (signed off and not reopened since), in the members' name order.

    Only snapshots are read: a draft never crosses the wall, and no member's scope is
    needed. Each member's content is in ``snapshot.content`` (the structure is documented
    on :class:`ReturnSnapshot`), its hash in ``snapshot.sha256``. The read is recorded in
    the partnership's (portal-level) trail.
    """
    members = {t.id: t for t in reporting_year.partnership.members}
    found = [s for tid, s in _current_snapshots(reporting_year).items() if tid in members]
    found.sort(key=lambda s: s.tenant.name.lower())
    audit.record(
        "returns.read_signed_off",
        reporting_year,
        tenant_id=None,
        detail={
            "partnership": reporting_year.partnership.slug,
            "year": reporting_year.label,
            "returns": [f"{s.tenant.slug} v{s.version}" for s in found],
        },
    )
    db.session.commit()
    return found


def members_without_return(reporting_year: ReportingYear) -> list[Tenant]:
    """The year's members with no signed-off return in force, in name order: the report
    names them as not having submitted by the deadline."""
    signed = _current_snapshots(reporting_year)
    members = [t for t in reporting_year.partnership.members if t.id not in signed]
    return sorted(members, key=lambda t: t.name.lower())
