"""Where the report's returns come from: members' signed-off annual returns.

A return's frozen snapshot is what the report reads, never the member's live data. The
snapshot is JSON with, among others: ``aims`` (reference, title, narrative, actions with
``by_status``, ``overdue`` and ``completed_in_year``, highlights), ``commitments`` (title,
progress), ``measures`` (measure, period, released ``tables`` by breakdown as stored by
:func:`portal.disclosure.table_to_data`, or a ``reason`` for a missing figure),
``workforce`` (profile rows with workforce and community percentages; ``pay_gap`` with the
six figures of the 2017 regulations, quartiles and snapshot date), ``eqia`` (completed,
published links), ``incidents`` (a released table keyed by [motivation, quarter]),
``case_studies``, ``priorities`` and ``sign_off`` (name, role, date).
"""

from __future__ import annotations

from portal.partners.models import Partnership
from portal.reports.content import Submission


def submissions(partnership: Partnership, year: str) -> list[Submission]:
    """The partnership's members' signed-off returns for ``year``, in member order."""
    try:
        from portal.returns import services as returns
    except ImportError:
        return []
    reporting_year = returns.reporting_year(partnership, year)
    if reporting_year is None:
        return []
    found = []
    for annual_return in returns.signed_off_returns(reporting_year):
        tenant = annual_return.tenant
        found.append(
            Submission(tenant.slug, tenant.name, annual_return.snapshot, annual_return.sha256)
        )
    return sorted(found, key=lambda s: s.name)
