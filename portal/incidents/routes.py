"""The hate-incident register. Case records are for the organisation's caseworkers only,
and every view of one is in the audit trail; statistics are for everybody there."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for

from portal.access import READ_ROLES, get_or_404, requires, tenant_blueprint
from portal.extensions import db
from portal.incidents import services
from portal.incidents.forms import IncidentForm, RetentionForm
from portal.incidents.models import STATUSES, HateIncident
from portal.pagination import paginate

tenant_bp = tenant_blueprint("incidents", __name__, "/incidents")


def _add_error(form, field: str, message: str) -> None:
    form[field].errors = [*form[field].errors, message]
    form._errors = None  # the error summary reads the cached errors


@tenant_bp.route("/")
@requires("caseworker")
def register():
    status = request.args.get("status")
    page = paginate(services.incidents(status))
    services.record_list_view(len(page.items), page.page)
    return render_template(
        "incidents/register.html",
        page=page,
        status=status if status in STATUSES else None,
        statuses=STATUSES,
    )


@tenant_bp.route("/new", methods=["GET", "POST"])
@requires("caseworker")
def new_incident():
    form = IncidentForm()
    if form.validate_on_submit():
        try:
            row = services.add_incident(form.data_for_service())
        except services.InvalidIncident as exc:
            _add_error(form, exc.field, exc.message)
        else:
            flash("The incident has been recorded", "success")
            return redirect(url_for(".incident", incident_id=row.id))
    return render_template("incidents/incident_form.html", form=form, row=None)


@tenant_bp.route("/<int:incident_id>")
@requires("caseworker")
def incident(incident_id: int):
    row = get_or_404(HateIncident, incident_id)
    services.record_view(row, "case")
    return render_template("incidents/incident.html", row=row)


@tenant_bp.route("/<int:incident_id>/edit", methods=["GET", "POST"])
@requires("caseworker")
def edit_incident(incident_id: int):
    row = get_or_404(HateIncident, incident_id)
    if row.is_anonymised:
        flash("This record has been anonymised and can no longer be changed", "error")
        return redirect(url_for(".incident", incident_id=row.id))
    form = IncidentForm()
    conflict = None
    if request.method == "GET":
        form.fill_from(row)
    elif form.validate_on_submit():
        version = form.version_number()
        if version is None:
            abort(400)
        try:
            services.update_incident(row, form.data_for_service(), version=version)
        except services.EditConflict as exc:
            conflict = exc
            form.version.data = str(exc.current.version)
        except services.InvalidIncident as exc:
            db.session.rollback()
            _add_error(form, exc.field, exc.message)
        else:
            flash("The case has been saved", "success")
            return redirect(url_for(".incident", incident_id=row.id))
    services.record_view(row, "edit")
    return render_template("incidents/incident_form.html", form=form, row=row, conflict=conflict)


@tenant_bp.route("/statistics")
@requires(*READ_ROLES)
def statistics():
    try:
        year = int(request.args.get("year", ""))
    except ValueError:
        year = None
    return render_template("incidents/statistics.html", stats=services.statistics(year))


@tenant_bp.route("/retention", methods=["GET", "POST"])
@requires("admin")
def retention():
    form = RetentionForm()
    if request.method == "GET":
        form.retention_years.data = services.retention_years()
    elif form.validate_on_submit():
        try:
            services.set_retention(form.retention_years.data)
        except services.InvalidIncident as exc:
            _add_error(form, exc.field, exc.message)
        else:
            flash(f"Case records will be kept for {form.retention_years.data} years", "success")
            return redirect(url_for(".retention"))
    return render_template("incidents/retention.html", form=form)
