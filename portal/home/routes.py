"""Pages every visitor or user needs: start, choose, home pages, health and policies."""

from __future__ import annotations

from datetime import date

from flask import (
    Blueprint,
    abort,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
)
from flask.globals import request_ctx
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from portal import charts
from portal.access import roles_for, tenant_blueprint
from portal.auth.models import TENANT_ROLES
from portal.auth.routes import landing_url
from portal.dashboards import tenant as tenant_dashboard
from portal.extensions import csrf, db, limiter
from portal.monitoring.targets import DIRECTIONS
from portal.partners.services import all_tenants

bp = Blueprint("site", __name__)

# When the accessibility statement was written, and when it was last checked against the
# portal as it is. Review it, and move the second date, whenever the portal changes.
STATEMENT_PREPARED = date(2026, 11, 30)
STATEMENT_REVIEWED = date(2026, 11, 30)
tenant_bp = tenant_blueprint("home", __name__)


@bp.route("/")
def index():
    if current_user.is_authenticated:
        return redirect(landing_url(current_user))
    return render_template("home/index.html")


@bp.route("/choose")
@login_required
def choose():
    return render_template("home/choose.html", places=current_user.places())


@bp.route("/healthz")
@csrf.exempt
@limiter.exempt
def healthz():
    try:
        db.session.execute(select(1))
    except SQLAlchemyError:
        return jsonify(status="unavailable"), 503
    return jsonify(status="ok")


@bp.route("/accessibility")
def accessibility():
    return render_template(
        "home/accessibility.html",
        organisations=db.session.scalars(all_tenants()).all(),
        statement_prepared=STATEMENT_PREPARED,
        statement_reviewed=STATEMENT_REVIEWED,
    )


@bp.route("/privacy")
def privacy():
    return render_template("home/privacy.html")


@bp.route("/cookies")
def cookies():
    return render_template("home/cookies.html")


def _viewer() -> tenant_dashboard.Viewer:
    return tenant_dashboard.Viewer(
        user_id=current_user.id,
        tenant=g.place,
        exact_incidents=current_user.has_role(g.place, "caseworker"),
        edits_plan=current_user.has_role(g.place, "officer"),
        signs_off=current_user.has_role(g.place, *roles_for("sign_off")),
        roles=tuple(sorted(current_user.roles_in(g.place))),
    )


def _draw_home(board: tenant_dashboard.Dashboard, roles: list[str]) -> str:
    body = render_template(
        "home/_dashboard.html",
        partnerships=g.place.partnerships,
        board=board,
        tasks=board.tasks,
        directions=DIRECTIONS,
    )
    return render_template(
        "home/tenant_home.html",
        roles=[TENANT_ROLES[r] for r in roles],
        body=Markup(body),  # noqa: S704 - drawn by an autoescaping template
    )


def _frame() -> tuple:
    """What the page around the dashboard shows that the organisation's data version and
    the viewer's roles do not decide: the person's name, their portal-wide links, and
    where the portal is and is called."""
    return (
        current_user.name,
        int(current_user.is_portal_admin),
        request.script_root,
        request.path,
        current_app.config["PORTAL_NAME"],
    )


def _no_message_for_this_view() -> bool:
    """No message waits in the session to be shown, nor was one shown on the page drawn
    for this request: such a page is for this view only."""
    return "_flashes" not in session and not request_ctx.flashes


@tenant_bp.route("/")
def tenant_home():
    """The organisation's dashboard (a chief executive's too: their tasks come first)."""
    viewer = _viewer()
    roles = sorted(viewer.roles, key=list(TENANT_ROLES).index)
    kept = tenant_dashboard.page(
        viewer,
        lambda board: _draw_home(board, roles),
        _frame(),
        keep=_no_message_for_this_view,
    )
    page = kept.stencil.fill()
    tenant_dashboard.record_view(kept, viewer)
    return page


@tenant_bp.route("/dashboard/<chart_id>.csv")
def dashboard_csv(chart_id: str):
    """Exactly the figures one chart of the dashboard plots, as its table shows them."""
    chart = tenant_dashboard.chart(chart_id, _viewer())
    if chart is None or chart.empty:
        abort(404)
    return charts.csv_response(chart, f"{g.tenant.slug}-{chart.id}")
