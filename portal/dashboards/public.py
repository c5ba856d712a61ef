"""What the public equality pages show: only what was published or released.

``/public/<organisation>/`` shows the organisation's published objectives with how many
of their actions stand at each status, its published impact assessments, the partnership
reports it appears in and its alternative-formats contact. ``/public/p/<partnership>/``
shows the partnership's published joint aims, its published reports and its members'
released headline figures. Each page's content has a fingerprint, so browsers and
caches revalidate cheaply (ETag, 304).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from sqlalchemy import func, select

from portal.actions.models import STATUSES, Action, Objective
from portal.dashboards.services import (
    NO_STATUS,
    DataTable,
    across_members,
    current_plan,
    joint_measures,
    latest_period,
    over_time,
    released_figures,
    with_releases,
)
from portal.eqia.models import ImpactAssessment
from portal.eqia.services import published_assessments
from portal.extensions import db
from portal.partners.models import Partnership, Tenant


def partnership_reports(partnership: Partnership) -> list:
    """The partnership's published joint reports, the latest version of each."""
    from portal.reports.services import published_reports_for_partnership

    return published_reports_for_partnership(partnership)


def reports_including(tenant: Tenant) -> list:
    """The published joint reports of the partnerships ``tenant`` is a member of."""
    from portal.reports.services import published_reports_for_tenant

    return published_reports_for_tenant(tenant)


@dataclass
class PublishedObjective:
    objective: Objective
    statuses: list[tuple[str, int]]

    @property
    def total(self) -> int:
        return sum(n for _, n in self.statuses)


@dataclass
class TenantPage:
    tenant: Tenant
    objectives: list[PublishedObjective]
    assessments: list[ImpactAssessment]
    reports: list
    fingerprint: str = ""


@dataclass
class PartnershipPage:
    partnership: Partnership
    plan: object
    reports: list
    tables: list[DataTable] = field(default_factory=list)
    fingerprint: str = ""


def _fingerprint(*parts) -> str:
    return hashlib.sha256(json.dumps(parts, default=str, sort_keys=True).encode()).hexdigest()[:32]


def tenant_page(tenant: Tenant) -> TenantPage:
    """The organisation's public page (its scope must be set: these are its own rows)."""
    objectives = list(
        db.session.scalars(
            select(Objective)
            .where(Objective.is_published.is_(True))
            .order_by(Objective.position, Objective.id)
        )
    )
    counts: dict[int, dict[str, int]] = {}
    if objectives:
        for objective_id, status, n in db.session.execute(
            select(Action.objective_id, Action.status, func.count())
            .where(Action.objective_id.in_([o.id for o in objectives]))
            .group_by(Action.objective_id, Action.status)
        ):
            label = STATUSES.get(status or "", NO_STATUS)
            counts.setdefault(objective_id, {})[label] = n
    published = [
        PublishedObjective(
            o,
            [(s, n) for s in [*STATUSES.values(), NO_STATUS] if (n := counts.get(o.id, {}).get(s))],
        )
        for o in objectives
    ]
    assessments = list(db.session.scalars(published_assessments()))
    page = TenantPage(tenant, published, assessments, reports_including(tenant))
    page.fingerprint = _fingerprint(
        tenant.name,
        tenant.alternative_formats,
        [(o.objective.id, o.objective.version, o.objective.title, o.statuses) for o in published],
        [(a.id, a.version) for a in assessments],
        [getattr(r, "id", r) for r in page.reports],
    )
    return page


def partnership_page(partnership: Partnership) -> PartnershipPage:
    """The partnership's public page: published aims, reports and released figures."""
    members = list(partnership.members)
    definitions = joint_measures(partnership)
    released = released_figures([m.id for m in members], [d.id for d in definitions])
    definitions = with_releases(definitions, released)
    period = latest_period(sorted({r.period for r in released}))
    page = PartnershipPage(
        partnership, current_plan(partnership, period), partnership_reports(partnership)
    )
    if definitions:
        page.tables = [
            *over_time(definitions, released),
            across_members(definitions, released, members, period),
        ]
    plan = page.plan
    page.fingerprint = _fingerprint(
        partnership.name,
        partnership.description,
        [m.name for m in members],
        (plan.id, plan.version, [(r.version, [a.version for a in r.aims]) for r in plan.roles])
        if plan
        else None,
        [(t.heading, t.rows) for t in page.tables],
        [getattr(r, "id", r) for r in page.reports],
    )
    return page
