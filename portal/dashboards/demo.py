"""Demonstration releases: members' figures for the years before this one, released as a
signed-off return would release them, so the partnership dashboards have figures."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import select

from portal.extensions import db
from portal.monitoring import partnership_view, releases
from portal.monitoring.models import Measure, MeasureValue
from portal.partners.models import Partnership
from portal.tenancy import tenant_scope


def load_demo() -> Iterator[str]:
    """Release each member's demonstration figures for its partnerships' measures."""
    for partnership in db.session.scalars(select(Partnership).order_by(Partnership.slug)):
        definitions = {
            d.id: d
            for d in db.session.scalars(partnership_view.partnership_definitions(partnership))
        }
        made = 0
        for tenant in partnership.members:
            # Figures the demonstration's signed-off returns released already are released
            # once: release_member_figures leaves them as they are.
            with tenant_scope(tenant):
                pairs = sorted(
                    set(
                        db.session.execute(
                            select(Measure.definition_id, MeasureValue.period)
                            .join(MeasureValue, MeasureValue.measure_id == Measure.id)
                            .where(Measure.is_demo.is_(True) | MeasureValue.is_demo.is_(True))
                        )
                    ),
                    key=lambda p: (p[0] or 0, p[1]),
                )
            for definition_id, period in pairs:
                if definition_id in definitions:
                    row = releases.release_member_figures(
                        tenant,
                        definitions[definition_id],
                        period,
                        trigger=releases.SIGN_OFF,
                        detail="demonstration annual return",
                    )
                    made += row is not None
        if made:
            yield f"releases: {partnership.slug}: {made} demonstration releases"
