"""The hate-incident register. Case records are for the organisation's caseworkers only,
and every view of one is in the audit trail. Statistics are for everybody there: exact for
caseworkers, under the disclosure rule for everybody else, and every view is audited."""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from portal import exports
from portal.access import READ_ROLES, requires, tenant_blueprint
from portal.editing import Invalid, show_invalid, submit_edit
from portal.extensions import db
from portal.forms import ConfirmForm
from portal.incidents import services
from portal.incidents.forms import IncidentForm, RetentionForm, WardNameForm
from portal.incidents.models import MOTIVATIONS, STATUSES, HateIncident, Ward
from portal.once import one_time
from portal.pagination import paginate
from portal.references import get_numbered_or_404

tenant_bp = tenant_blueprint("incidents", __name__, "/incidents")


def _filter_options(filters: services.RegisterFilters) -> dict:
    def items(pairs, chosen: str, blank: str) -> list[dict]:
        return [{"value": "", "text": blank}] + [
            {"value": value, "text": text, "selected": value == chosen} for value, text in pairs
        ]

    ward_pairs = [(str(w.number), w.name) for w in db.session.scalars(services.wards())]
    return {
        "motivations": items(MOTIVATIONS.items(), filters.motivation, "Any motivation"),
        "statuses": items(STATUSES.items(), filters.status, "Open or closed"),
        "wards": items(ward_pairs, filters.ward, "Any ward"),
    }


@tenant_bp.route("/")
@requires("caseworker")
def register():
    filters = services.RegisterFilters.from_args(request.args)
    page = paginate(services.incidents(filters))
    html = render_template(
        "incidents/register.html",
        page=page,
        filters=filters,
        options=_filter_options(filters),
    )
    # Recorded once the page is made, before it is sent: the commit would otherwise
    # expire the cases it shows, and the page would read each again.
    services.record_list_view(len(page.items), page.page)
    return html


EXPORT_HEADERS = [
    "Case",
    "Date of the incident",
    "Type",
    "Motivation",
    "Ward",
    "How it was reported",
    "Referred to the police",
    "Police reference",
    "Status",
    "Closed on",
    "Anonymised",
    "Demonstration data",
]


@tenant_bp.route("/export")
@requires("work_cases")
def export_register():
    filters = services.RegisterFilters.from_args(request.args)
    rows = list(db.session.scalars(services.incidents(filters)))
    return exports.response(
        request.args.get("format", "csv"),
        f"{g.tenant.slug}-hate-incidents",
        EXPORT_HEADERS,
        [
            [
                row.reference,
                row.occurred_on,
                row.type_label,
                row.motivation_labels,
                row.ward,
                row.how_reported_label,
                row.police_referral,
                row.police_reference,
                row.status_label,
                row.closed_on,
                row.is_anonymised,
                row.is_demo,
            ]
            for row in rows
        ],
        what="Hate incidents",
        detail={"filters": filters.args()},
    )


@tenant_bp.route("/new", methods=["GET", "POST"])
@requires("caseworker")
@one_time
def new_incident():
    form = IncidentForm()
    form.ward_id.choices = [("", "Choose a ward"), *services.ward_choices()]
    if form.validate_on_submit():
        try:
            row = services.add_incident(form.data_for_service())
        except Invalid as exc:
            show_invalid(form, exc)
        else:
            flash("The incident has been recorded", "success")
            return redirect(url_for(".incident", incident_number=row.number))
    return render_template("incidents/incident_form.html", form=form, row=None)


@tenant_bp.route("/<int:incident_number>")
@requires("caseworker")
def incident(incident_number: int):
    row = get_numbered_or_404(HateIncident, incident_number)
    html = render_template("incidents/incident.html", row=row)
    services.record_view(row, "case")  # once the page is made, as for the register
    return html


@tenant_bp.route("/<int:incident_number>/edit", methods=["GET", "POST"])
@requires("caseworker")
def edit_incident(incident_number: int):
    row = get_numbered_or_404(HateIncident, incident_number)
    if row.is_anonymised:
        flash("This record has been anonymised and can no longer be changed", "error")
        return redirect(url_for(".incident", incident_number=row.number))
    form = IncidentForm()
    form.ward_id.choices = [("", "Choose a ward"), *services.ward_choices(row.ward_row)]
    if request.method == "GET":
        form.fill_from(row)
    edit = submit_edit(
        form,
        row,
        lambda version: services.update_incident(row, form.data_for_service(), version=version),
        message="The case has been saved",
        then=lambda: url_for(".incident", incident_number=row.number),
    )
    if edit.saved:
        return edit.done
    html = render_template(
        "incidents/incident_form.html", form=form, row=row, conflict=edit.conflict
    )
    services.record_view(row, "edit")  # once the page is made, as for the register
    return html


@tenant_bp.route("/statistics")
@requires(*READ_ROLES)
def statistics():
    try:
        year = int(request.args.get("year", ""))
    except ValueError:
        year = None
    exact = current_user.has_role(g.tenant, "caseworker")
    stats = services.statistics(year, exact=exact, rule=services.disclosure_rule(g.tenant))
    services.record_statistics_view(stats)
    return render_template("incidents/statistics.html", stats=stats)


# --- the list of wards -------------------------------------------------------------------


@tenant_bp.route("/wards", methods=["GET", "POST"])
@requires("keep_wards")
@one_time
def wards():
    form = WardNameForm()
    if form.validate_on_submit():
        try:
            row = services.add_ward(form.name.data)
        except Invalid as exc:
            db.session.rollback()
            show_invalid(form, exc)
        else:
            flash(f"“{row.name}” has been added to the list of wards", "success")
            return redirect(url_for(".wards"))
    return render_template(
        "incidents/wards.html",
        form=form,
        wards=list(db.session.scalars(services.wards())),
        confirm=ConfirmForm(),
    )


@tenant_bp.route("/wards/<int:ward_number>", methods=["GET", "POST"])
@requires("keep_wards")
def edit_ward(ward_number: int):
    row = get_numbered_or_404(Ward, ward_number)
    form = WardNameForm()
    if request.method == "GET":
        form.name.data = row.name
    elif form.validate_on_submit():
        try:
            services.rename_ward(row, form.name.data)
        except Invalid as exc:
            db.session.rollback()
            show_invalid(form, exc)
        else:
            flash("The ward has been renamed", "success")
            return redirect(url_for(".wards"))
    return render_template("incidents/ward_form.html", form=form, row=row)


@tenant_bp.route("/wards/<int:ward_number>/retire", methods=["POST"])
@requires("keep_wards")
def retire_ward(ward_number: int):
    row = get_numbered_or_404(Ward, ward_number)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    retire = not row.is_retired
    services.set_ward_retired(row, retire)
    flash(
        f"“{row.name}” "
        + ("is retired: new cases cannot use it" if retire else "can be used again"),
        "success",
    )
    return redirect(url_for(".wards"))


@tenant_bp.route("/retention", methods=["GET", "POST"])
@requires("admin")
def retention():
    form = RetentionForm()
    if request.method == "GET":
        form.retention_years.data = services.retention_years()
    elif form.validate_on_submit():
        try:
            services.set_retention(form.retention_years.data)
        except Invalid as exc:
            show_invalid(form, exc)
        else:
            flash(f"Case records will be kept for {form.retention_years.data} years", "success")
            return redirect(url_for(".retention"))
    return render_template("incidents/retention.html", form=form)
