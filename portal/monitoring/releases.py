"""Members' figures released once.

A member's figures for one measure and period leave it once, into a stored release
(FigureRelease); every page outside the member reads that release, never live figures.
Releases are readable across the wall by design (see portal/monitoring/models.py); they
are only ever written under the releasing member's own scope.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from flask import has_request_context
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal import audit, clock
from portal.disclosure import (
    Release,
    Rule,
    next_release,
    table_from_data,
    table_to_data,
)
from portal.editing import Invalid
from portal.extensions import db
from portal.models import limit
from portal.monitoring import categories
from portal.monitoring.measures import TOTAL, stored_values
from portal.monitoring.models import (
    FigureRelease,
    Measure,
    MeasureDefinition,
)
from portal.partners.models import Partnership, Tenant
from portal.tenancy import tenant_scope

FIRST_VIEW, SIGN_OFF, CORRECTION = "first view", "sign-off", "correction"
TRIGGER_WORDS = {
    FIRST_VIEW: "when a partnership lead first looked at the figures",
    SIGN_OFF: "when the chief executive signed off the annual return",
    CORRECTION: "as a correction asked for by the organisation",
}


class ReleaseError(Invalid):
    """A release or correction could not be made; the message says why."""


def release_of(row: FigureRelease) -> Release:
    """A stored release as the released tables it holds."""
    rule = Rule(row.threshold, row.rounding)
    return Release(rule, {k: table_from_data(v, rule) for k, v in row.tables.items()})


def _chain(tenant_id: int, definition_id: int, period: str) -> list[FigureRelease]:
    return list(
        db.session.scalars(
            select(FigureRelease)
            .where(
                FigureRelease.tenant_id == tenant_id,
                FigureRelease.definition_id == definition_id,
                FigureRelease.period == period,
            )
            .order_by(FigureRelease.version)
        )
    )


def current_release(
    tenant: Tenant, definition: MeasureDefinition, period: str
) -> FigureRelease | None:
    """The release now in force for a member, measure and period (None if none yet)."""
    chain = _chain(tenant.id, definition.id, period)
    return chain[-1] if chain else None


def stored_releases(
    partnership: Partnership,
    definition: MeasureDefinition,
    period: str,
    tenants: Iterable[Tenant] | None = None,
) -> dict[int, FigureRelease]:
    """The releases in force for a partnership's members (or ``tenants`` of them), by
    tenant id, read in one query whatever the number of members: the one read path for
    pages outside the members. Only released figures are read, so no member's scope is
    needed and nothing exact is touched; the read is recorded once, for the partnership.
    """
    members = list(partnership.members if tenants is None else tenants)
    ids = [t.id for t in members]
    if not ids:
        return {}
    rows = db.session.scalars(
        select(FigureRelease)
        .where(
            FigureRelease.tenant_id.in_(ids),
            FigureRelease.definition_id == definition.id,
            FigureRelease.period == period,
        )
        .order_by(FigureRelease.tenant_id, FigureRelease.version)
    )
    # The latest version of each member's chain is the one in force.
    found = {row.tenant_id: row for row in rows}
    audit.record(
        "released_figures.read",
        partnership,
        tenant_id=None,
        detail={
            "partnership": partnership.slug,
            "definition": definition.id,
            "period": period,
            "members": len(ids),
            "releases": len(found),
        },
    )
    db.session.commit()
    return found


def _store(
    tenant: Tenant,
    definition: MeasureDefinition,
    period: str,
    release: Release,
    *,
    version: int,
    trigger: str,
    detail: str,
    user=None,
) -> FigureRelease:
    if user is None and has_request_context() and current_user.is_authenticated:
        user = current_user
    row = FigureRelease(
        tenant_id=tenant.id,
        definition_id=definition.id,
        period=period,
        version=version,
        threshold=release.rule.threshold,
        rounding=release.rule.rounding,
        released_at=clock.utcnow(),
        trigger=trigger,
        trigger_detail=detail[: limit(FigureRelease.trigger_detail)],
        released_by_id=getattr(user, "id", None),
        tables={k: table_to_data(t) for k, t in release.tables.items()},
    )
    db.session.add(row)
    db.session.flush()
    return row


def release_member_figures(
    tenant: Tenant,
    definition: MeasureDefinition,
    period: str,
    *,
    trigger: str = FIRST_VIEW,
    detail: str = "",
    user=None,
) -> FigureRelease | None:
    """Release a member's figures for ``definition`` and ``period``, once.

    Idempotent: with a release made, it is returned unchanged, whatever the rules or the
    exact figures are now. Otherwise every table the member reports the measure by is
    released together, under the strictest rule of the member's partnerships at this
    moment, stored, and recorded in the member's trail. None when the member has no
    figures for the period. Called when a partnership lead first looks at the figures,
    and by the sign-off of an annual return.
    """
    existing = current_release(tenant, definition, period)
    if existing is not None:
        return existing
    with tenant_scope(tenant):
        tables = exact_tables(definition, period)
        rules = [p.disclosure_rule for p in tenant.partnerships]
        release = next_release([], tables, rules)
        if release is None:
            db.session.commit()
            return None
        try:
            row = _first_release(tenant, definition, period, release, trigger, detail, user)
            db.session.commit()
        except IntegrityError:
            # Released at the same moment by another request: that release stands.
            db.session.rollback()
            return current_release(tenant, definition, period)
    return row


def release_counts(
    tenant: Tenant,
    definition: MeasureDefinition,
    period: str,
    tables: dict[str, tuple[dict, int]],
    *,
    trigger: str = SIGN_OFF,
    detail: str = "",
    user=None,
) -> FigureRelease | None:
    """Release counts that a member keeps outside its measures (its registers: impact
    assessments, hate incidents by motivation), once, as :func:`release_member_figures`
    does for measures: with a release already made for ``definition`` and ``period`` it
    is returned unchanged; otherwise ``tables`` (breakdown -> (exact cells, exact total))
    are released together under the strictest rule of the member's partnerships."""
    existing = current_release(tenant, definition, period)
    if existing is not None or not tables:
        return existing
    with tenant_scope(tenant):
        release = next_release([], tables, [p.disclosure_rule for p in tenant.partnerships])
        row = _first_release(tenant, definition, period, release, trigger, detail, user)
        db.session.flush()
    return row


def _first_release(tenant, definition, period, release, trigger, detail, user) -> FigureRelease:
    """Store version 1 of a release and record it in the member's trail; the caller
    commits (a lead's first look) or flushes (inside a sign-off)."""
    row = _store(
        tenant,
        definition,
        period,
        release,
        version=1,
        trigger=trigger,
        detail=detail,
        user=user,
    )
    audit.record(
        "figures.released",
        row,
        tenant_id=tenant.id,
        user=user,
        detail={
            "definition": definition.id,
            "measure": definition.name,
            "period": period,
            "version": 1,
            "rule": [release.rule.threshold, release.rule.rounding],
            "trigger": trigger,
            "trigger_detail": detail,
        },
    )
    return row


@dataclass
class CorrectionPreview:
    """A correction as it would be released: the release in force beside the new one."""

    current: FigureRelease
    old: Release
    new: Release
    breakdowns: list[str]

    @property
    def changes(self) -> bool:
        return self.old.tables != self.new.tables


def preview_correction(
    tenant: Tenant, definition: MeasureDefinition, period: str
) -> CorrectionPreview:
    """What a correction of the current tenant's released figures would release now
    (raises :class:`ReleaseError` when nothing has been released)."""
    chain = _chain(tenant.id, definition.id, period)
    if not chain:
        raise ReleaseError(None, "Nothing has been released for that period")
    releases = [release_of(r) for r in chain]
    new = next_release(releases, exact_tables(definition, period), [], correcting=True)
    if new is None:
        new = Release(releases[-1].rule, {})
    breakdowns = sorted(set(releases[-1].tables) | set(new.tables))
    return CorrectionPreview(chain[-1], releases[-1], new, breakdowns)


def correct_release(
    tenant: Tenant,
    definition: MeasureDefinition,
    period: str,
    *,
    reason: str,
    seen_version: int,
    user=None,
) -> FigureRelease:
    """Release the current tenant's corrected figures, as a new release that replaces the
    one in force, checked with every earlier release so that they cannot be set side by
    side to work a hidden count out. ``seen_version`` is the release the officer saw
    beside the correction; if another was made since, nothing is released."""
    reason = (reason or "").strip()
    if not reason:
        raise ReleaseError(None, "Say why the released figures are being corrected")
    most = limit(FigureRelease.trigger_detail)
    if len(reason) > most:
        raise ReleaseError(None, f"The reason must be {most} characters or fewer")
    preview = preview_correction(tenant, definition, period)
    if preview.current.version != seen_version:
        raise ReleaseError(
            None,
            "The released figures changed while you were looking at them. Check the "
            "correction again",
        )
    if not preview.changes:
        raise ReleaseError(
            None,
            "The corrected figures would be released exactly as they are now, so there is "
            "nothing to correct",
        )
    version = preview.current.version + 1
    try:
        row = _store(
            tenant,
            definition,
            period,
            preview.new,
            version=version,
            trigger=CORRECTION,
            detail=reason,
            user=user,
        )
        audit.record(
            "figures.correction_released",
            row,
            tenant_id=tenant.id,
            user=user,
            detail={
                "definition": definition.id,
                "measure": definition.name,
                "period": period,
                "version": version,
                "reason": reason,
                "before": {k: table_to_data(t) for k, t in preview.old.tables.items()},
                "after": {k: table_to_data(t) for k, t in preview.new.tables.items()},
            },
        )
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise ReleaseError(
            None, "Another correction was released at the same moment. Check the correction again"
        ) from None
    return row


def releases_for(tenant: Tenant, definition: MeasureDefinition) -> list[FigureRelease]:
    """Every release of a member's figures for ``definition``, newest first."""
    return list(
        db.session.scalars(
            select(FigureRelease)
            .where(
                FigureRelease.tenant_id == tenant.id,
                FigureRelease.definition_id == definition.id,
            )
            .order_by(FigureRelease.period.desc(), FigureRelease.version.desc())
        )
    )


def _member_tables(definition: MeasureDefinition) -> dict[str, dict[str, dict[str, float]]]:
    """The current tenant's figures for ``definition`` under every breakdown it reports
    it by: breakdown, then period, then category."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    query = select(Measure).where(Measure.definition_id == definition.id).order_by(Measure.id)
    for measure in db.session.scalars(query):
        if measure.breakdown not in out:
            out[measure.breakdown] = stored_values(measure)
    return out


def exact_tables(definition: MeasureDefinition, period: str) -> dict[str, tuple[dict, int]]:
    """The current tenant's tables for ``definition`` in ``period``, one per breakdown it
    reports it by, each as (exact cells, exact total): what a release is made from."""
    exact: dict[str, tuple[dict[str, int], int]] = {}
    for breakdown, values in _member_tables(definition).items():
        figures = values.get(period)
        if not figures or TOTAL not in figures:
            continue
        c = categories.characteristic(breakdown)
        # A category with no figure entered counts as not recorded, not as zero.
        parts = {k: int(figures[k]) for k in (c.categories if c else ()) if k in figures}
        exact[breakdown] = (parts, int(figures[TOTAL]))
    return exact
