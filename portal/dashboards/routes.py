"""The partnership dashboard's download, and the public equality pages.

The dashboard itself is the lead's home page (``partners.partnership_home``).
"""

from __future__ import annotations

import re

from flask import Blueprint, Response, abort, g, render_template, request
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy import select

from portal import audit, charts, tenancy
from portal.access import partnership_blueprint, public_blueprint
from portal.dashboards import public
from portal.dashboards.charts import chart_for
from portal.dashboards.services import partnership_dashboard
from portal.exports import FORMATS, to_xlsx_sheets
from portal.extensions import db
from portal.partners.models import Partnership

partnership_bp = partnership_blueprint("dashboards", __name__)
public_bp = public_blueprint("public_pages", __name__)
bp = Blueprint("public_partnership", __name__, url_prefix="/public/p")

# Public pages may be kept by browsers and shared caches for five minutes, then
# revalidated with their ETag (a 304 costs one fingerprint, no page).
PUBLIC_CACHE = "public, max-age=300"


@partnership_bp.route("/dashboard.xlsx")
def dashboard_xlsx():
    """The whole dashboard's data, for the filters in the address: a sheet per chart."""
    dashboard = partnership_dashboard(g.partnership, request.args)
    body = to_xlsx_sheets((t.heading, t.headers, t.rows) for t in dashboard.all_tables)
    audit.record(
        "export",
        g.partnership,
        tenant_id=None,
        object_type="partnership dashboard",
        detail={"format": "xlsx", "sheets": len(dashboard.all_tables), **dashboard.filters.args()},
    )
    db.session.commit()
    name = "-".join([g.partnership.slug, "dashboard", *dashboard.filters.args().values()])
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-")
    return Response(
        body,
        content_type=FORMATS["xlsx"][0],
        headers={"Content-Disposition": f'attachment; filename="{safe}.xlsx"'},
    )


def _chart_csv(tables, chart_id: str, filename: str):
    table = next((t for t in tables if t.key == chart_id), None)
    chart = chart_for(table) if table is not None else None
    if chart is None:
        abort(404)
    return charts.csv_response(chart, filename)


@partnership_bp.route("/dashboard/<chart_id>.csv")
def chart_csv(chart_id: str):
    """One chart's figures, for the filters in the address, exactly as plotted."""
    dashboard = partnership_dashboard(g.partnership, request.args)
    name = "-".join([g.partnership.slug, chart_id, *dashboard.filters.args().values()])
    return _chart_csv(dashboard.all_tables, chart_id, name)


def _cached(fingerprint: str, render) -> Response:
    """A public page with an ETag: 304 when the visitor's copy is current, else rendered.

    The fingerprint is of the content, not of the HTML, which carries a fresh CSP nonce
    each time.
    """
    # A signed-in visitor's page carries their own header: a tag of its own, kept privately.
    signed_in = current_user.is_authenticated
    if signed_in:
        fingerprint = f"{fingerprint}-{current_user.get_id()}"
    if request.if_none_match.contains(fingerprint):
        response = Response(status=304)
    else:
        response = Response(render())
    response.set_etag(fingerprint)
    response.headers["Cache-Control"] = "private, no-cache" if signed_in else PUBLIC_CACHE
    return response


@public_bp.route("/")
def tenant_page():
    """An organisation's public equality page."""
    page = public.tenant_page(g.public_tenant)
    return _cached(
        page.fingerprint,
        lambda: render_template("dashboards/public_tenant.html", page=page, org=g.public_tenant),
    )


@bp.route("/<partnership_slug>/")
def partnership_page(partnership_slug: str):
    """A partnership's public page."""
    partnership = db.session.scalar(select(Partnership).where(Partnership.slug == partnership_slug))
    if partnership is None:
        abort(404)
    # Its plan and joint measures are partnership-owned: visible here, never written.
    tenancy.show_partnership(partnership)
    page = public.partnership_page(partnership)
    return _cached(
        page.fingerprint,
        lambda: render_template("dashboards/public_partnership.html", page=page),
    )


@bp.route("/<partnership_slug>/<chart_id>.csv")
def public_chart_csv(partnership_slug: str, chart_id: str):
    """One chart of a partnership's public page, as CSV."""
    partnership = db.session.scalar(select(Partnership).where(Partnership.slug == partnership_slug))
    if partnership is None:
        abort(404)
    # Its plan and joint measures are partnership-owned: visible here, never written.
    tenancy.show_partnership(partnership)
    page = public.partnership_page(partnership)
    response = _chart_csv(page.tables, chart_id, f"{partnership.slug}-{chart_id}")
    response.headers["Cache-Control"] = PUBLIC_CACHE
    return response


@bp.app_template_global("dashboard_rows")
def _dashboard_rows(rows) -> Markup:
    """A table's body rows: the first cell of each a row header, numbers with thousands
    separators. Written here rather than in the template: a national partnership's tables
    run to thousands of cells, and a template loop took most of the page's time."""
    out = []
    for row in rows:
        cells = [f'<th scope="row" class="govuk-table__header">{escape(row[0])}</th>']
        for cell in row[1:]:
            if isinstance(cell, int | float) and not isinstance(cell, bool):
                cells.append(
                    '<td class="govuk-table__cell govuk-table__cell--numeric">'
                    f"{escape(format(cell, ','))}</td>"
                )
            else:
                cells.append(f'<td class="govuk-table__cell">{escape(cell)}</td>')
        out.append('<tr class="govuk-table__row">' + "".join(cells) + "</tr>")
    return Markup("\n".join(out))  # noqa: S704 - every cell is escaped above


@bp.app_template_global("dashboard_chart")
def _dashboard_chart(table):
    return chart_for(table)


@bp.app_template_filter("period_label")
def _period_label(key: str) -> str:
    from portal.monitoring import periods

    return periods.label(key)
