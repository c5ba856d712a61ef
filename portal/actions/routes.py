"""An organisation's objectives, actions and progress: read by everybody there, changed
by its officers. Lists filter through the query string and export to CSV or XLSX."""

from __future__ import annotations

import unicodedata
from urllib.parse import quote

from flask import (
    Response,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from portal import exports, tenancy
from portal.access import READ_ROLES, requires, tenant_blueprint
from portal.actions import services
from portal.actions.forms import (
    ActionForm,
    CorrectProgressForm,
    ObjectiveForm,
    ProgressForm,
    WithdrawProgressForm,
)
from portal.actions.models import (
    ALL_CHARACTERISTICS,
    CHARACTERISTICS,
    PSED_AIMS,
    STATUSES,
    Action,
    Objective,
    ProgressUpdate,
)
from portal.editing import Invalid, show_invalid, submit_edit
from portal.extensions import db
from portal.forms import ConfirmForm, parse_id
from portal.once import one_time
from portal.pagination import paginate
from portal.readability import readability
from portal.references import get_numbered_or_404

tenant_bp = tenant_blueprint("actions", __name__, "/plan")


def _can_edit() -> bool:
    return current_user.has_role(g.tenant, "officer")


# --- objectives --------------------------------------------------------------------------


@tenant_bp.route("/objectives")
@requires(*READ_ROLES)
def objectives():
    areas = list(db.session.scalars(services.focus_areas()))
    rows = list(db.session.scalars(services.objectives()))
    grouped = [(area, [o for o in rows if o.focus_area_id == area.id]) for area in areas]
    loose = [o for o in rows if o.focus_area_id is None]
    return render_template(
        "actions/objectives.html",
        grouped=grouped,
        loose=loose,
        any_demo=any(o.is_demo for o in rows),
        can_edit=_can_edit(),
    )


def _objective_form(row: Objective | None = None) -> ObjectiveForm:
    form = ObjectiveForm()
    form.area.choices = services.area_choices()
    form.point.choices = services.point_choices()
    if request.method == "GET":
        if row is not None:
            form.title.data = row.title
            form.area.data = str(row.focus_area_id or "")
            form.point.data = str(row.focus_point_id or "")
            form.version.data = str(row.version)
        elif parse_id(request.args.get("area")) is not None:
            form.area.data = request.args["area"]
    return form


@tenant_bp.route("/objectives/new", methods=["GET", "POST"])
@requires("officer")
@one_time
def new_objective():
    form = _objective_form()
    if form.validate_on_submit():
        try:
            row = services.add_objective(form.title.data, form.area.data, form.point.data)
        except Invalid as exc:
            show_invalid(form, exc)
        else:
            flash("The objective has been added", "success")
            return redirect(url_for(".objectives", _anchor=f"objective-{row.number}"))
    return render_template("actions/objective_form.html", form=form, row=None)


@tenant_bp.route("/objectives/<int:objective_number>", methods=["GET", "POST"])
@requires("officer")
def edit_objective(objective_number: int):
    row = get_numbered_or_404(Objective, objective_number)
    form = _objective_form(row)
    edit = submit_edit(
        form,
        row,
        lambda version: services.update_objective(
            row,
            title=form.title.data,
            area=form.area.data,
            point=form.point.data,
            version=version,
        ),
        message="The objective has been saved",
        then=lambda: url_for(".objectives", _anchor=f"objective-{row.number}"),
    )
    if edit.saved:
        return edit.done
    return render_template(
        "actions/objective_form.html", form=form, row=row, conflict=edit.conflict
    )


@tenant_bp.route("/objectives/<int:objective_number>/delete", methods=["GET", "POST"])
@requires("officer")
def delete_objective(objective_number: int):
    # The page says how many actions it still has.
    row = get_numbered_or_404(
        Objective, objective_number, options=[selectinload(Objective.actions)]
    )
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            services.delete_objective(row)
        except Invalid as exc:
            flash(exc.message, "error")
            return redirect(url_for(".objectives", _anchor=f"objective-{row.number}"))
        flash("The objective has been deleted", "success")
        return redirect(url_for(".objectives"))
    return render_template("actions/objective_delete.html", row=row, form=form)


@tenant_bp.route("/objectives/<int:objective_number>/publication", methods=["GET", "POST"])
@requires("officer")
def objective_publication(objective_number: int):
    """Publish an objective on the public equality page, or withdraw it."""
    row = get_numbered_or_404(Objective, objective_number)
    form = ConfirmForm()
    if form.validate_on_submit():
        published = services.set_objective_published(row, not row.is_published)
        flash(
            "The objective is on the public equality page"
            if published
            else "The objective has been withdrawn from the public equality page",
            "success",
        )
        return redirect(url_for(".objectives", _anchor=f"objective-{row.number}"))
    return render_template("actions/objective_publication.html", row=row, form=form)


# --- action lists and exports ------------------------------------------------------------

EXPORT_HEADERS = [
    "Role or focus area",
    "Focus point",
    "Objective",
    "Action",
    "Arising from",
    "Lead officer",
    "Lead officer on the portal",
    "Directorate",
    "Section",
    "Target date (as written)",
    "Target date",
    "Status",
    "Overdue",
    "Corporate plan priority",
    "EFLG criteria",
    "PSED aims",
    "Protected characteristics",
    "How will we know it is done",
    "Joint aims",
    "Demonstration data",
]


def _aim_labels() -> dict[int, str]:
    return {aim.id: aim.text for aim, _ in services.joint_aims_for_tenant()}


def _export_rows(rows: list[Action]) -> list[list]:
    aims = _aim_labels()
    links = services.joint_aim_links(rows) if aims else {}
    out = []
    for a in rows:
        linked = [aims.get(i, str(i)) for i in links.get(a.id, [])]
        out.append(
            [
                a.objective.area.label if a.objective.area else "",
                a.objective.point.label if a.objective.point else "",
                a.objective.title,
                a.task,
                a.arising_from,
                a.lead_officer,
                a.lead_user.name if a.lead_user else "",
                a.directorate,
                a.section,
                a.target_text,
                a.target_date,
                a.status_label,
                a.overdue,
                a.corporate_priority,
                a.eflg_criteria,
                a.psed_labels,
                a.characteristic_labels,
                a.measures,
                linked,
                a.is_demo,
            ]
        )
    return out


def _items(pairs, current: str) -> list[dict]:
    return [{"value": v, "text": t, "selected": v == current} for v, t in pairs]


def _filter_options(filters: services.ActionFilters) -> dict:
    """Items for the filter form's selects, with the current choices selected."""
    people = [(str(p.id), p.name) for p in services.tenant_people()]
    areas = [(str(a.id), a.label) for a in db.session.scalars(services.focus_areas())]
    aims = [(str(aim.id), f"{p.name}: {aim.text}") for aim, p in services.joint_aims_for_tenant()]
    return {
        "statuses": _items(
            [("", "Any status"), *STATUSES.items(), ("none", "No status recorded")],
            filters.status,
        ),
        "people": _items([("", "Anybody"), *people], filters.owner),
        "areas": _items([("", "Any role or focus area"), *areas], filters.area),
        "characteristics": _items(
            [("", "Any characteristic"), *CHARACTERISTICS.items()], filters.characteristic
        ),
        "aims": _items([("", "Any joint aim"), *aims], filters.aim),
    }


def _list_page(template_title: str, query, filters, *, endpoint: str, export_endpoint: str):
    page = paginate(query)
    return render_template(
        "actions/list.html",
        title=template_title,
        page=page,
        filters=filters,
        options=_filter_options(filters),
        endpoint=endpoint,
        export_endpoint=export_endpoint,
        can_edit=_can_edit(),
    )


@tenant_bp.route("/actions")
@requires(*READ_ROLES)
def actions():
    filters = services.ActionFilters.from_args(request.args)
    return _list_page(
        "Actions",
        services.actions(filters),
        filters,
        endpoint=".actions",
        export_endpoint=".export_actions",
    )


@tenant_bp.route("/actions/export")
@requires(*READ_ROLES)
def export_actions():
    filters = services.ActionFilters.from_args(request.args)
    rows = list(db.session.scalars(services.actions(filters)))
    return exports.response(
        request.args.get("format", "csv"),
        f"{g.tenant.slug}-actions",
        EXPORT_HEADERS,
        _export_rows(rows),
        what="Actions",
        detail={"filters": filters.args()},
    )


@tenant_bp.route("/my-actions")
@requires(*READ_ROLES)
def my_actions():
    filters = services.ActionFilters.from_args(request.args)
    filters.owner = ""
    return _list_page(
        "My actions",
        services.actions(filters, lead_user_id=current_user.id),
        filters,
        endpoint=".my_actions",
        export_endpoint=".export_my_actions",
    )


@tenant_bp.route("/my-actions/export")
@requires(*READ_ROLES)
def export_my_actions():
    filters = services.ActionFilters.from_args(request.args)
    filters.owner = ""
    rows = list(db.session.scalars(services.actions(filters, lead_user_id=current_user.id)))
    return exports.response(
        request.args.get("format", "csv"),
        f"{g.tenant.slug}-my-actions",
        EXPORT_HEADERS,
        _export_rows(rows),
        what="My actions",
        detail={"filters": filters.args()},
    )


# --- one action --------------------------------------------------------------------------


def _action_form(row: Action | None = None) -> ActionForm:
    form = ActionForm()
    form.objective_id.choices = [("", "Choose an objective")] + [
        (str(o.id), o.title[:120]) for o in db.session.scalars(services.objectives())
    ]
    form.lead_user_id.choices = [("", "Nobody on the portal")] + [
        (str(p.id), p.name) for p in services.tenant_people()
    ]
    form.joint_aim_ids.choices = [
        (str(aim.id), f"{p.name}: {aim.text}") for aim, p in services.joint_aims_for_tenant()
    ]
    if request.method == "GET":
        if row is not None:
            for name in services.ACTION_FIELDS:
                value = getattr(row, name)
                if name in {"objective_id", "lead_user_id"}:
                    value = str(value or "")
                elif name == "status":
                    value = value or ""
                getattr(form, name).data = value
            form.joint_aim_ids.data = [str(i) for i in services.joint_aim_ids(row)]
            form.version.data = str(row.version)
        else:
            # The address names the objective by its running number; the form by its id.
            objective = parse_id(request.args.get("objective"))
            row = objective and db.session.scalar(
                select(Objective).where(Objective.number == objective)
            )
            form.objective_id.data = str(row.id) if row else ""
            form.status.data = "not-started"
    return form


@tenant_bp.route("/actions/new", methods=["GET", "POST"])
@requires("officer")
@one_time
def new_action():
    form = _action_form()
    if form.validate_on_submit():
        try:
            row = services.add_action(form.data_for_service())
        except Invalid as exc:
            show_invalid(form, exc)
        else:
            flash("The action has been added", "success")
            return redirect(url_for(".action", action_number=row.number))
    return render_template("actions/action_form.html", form=form, row=None)


@tenant_bp.route("/actions/<int:action_number>")
@requires(*READ_ROLES)
def action(action_number: int):
    row = get_numbered_or_404(
        Action,
        action_number,
        # Its lead on the portal is shown too (lead_label): read with it, not by the template.
        options=[
            joinedload(Action.objective).joinedload(Objective.area),
            joinedload(Action.lead_user),
        ],
    )
    aims = _aim_labels()
    return render_template(
        "actions/action.html",
        action=row,
        updates=list(db.session.scalars(services.progress_updates(row))),
        withdrawn=[
            u
            for u in db.session.scalars(services.progress_updates(row, everything=True))
            if u.withdrawn_at is not None
        ],
        may_change=services.may_change_progress,
        aims=[aims[i] for i in services.joint_aim_ids(row) if i in aims] if aims else [],
        can_edit=_can_edit(),
    )


def _conflict_rows(current: Action, submitted: dict) -> list[tuple[str, str, str]]:
    labels = {
        "objective_id": "Objective",
        "task": "Action",
        "arising_from": "Arising from",
        "lead_officer": "Lead officer",
        "lead_user_id": "Lead officer on the portal",
        "directorate": "Directorate",
        "section": "Section",
        "target_text": "Target date",
        "status": "Status",
        "corporate_priority": "Corporate plan priority",
        "eflg_criteria": "EFLG criteria",
        "psed_aims": "PSED aims",
        "characteristics": "Protected characteristics",
        "measures": "How will we know it is done",
    }

    def show(name, value):
        if name == "status":
            return STATUSES.get(value or "", "No status recorded")
        if name == "psed_aims":
            return "; ".join(PSED_AIMS[v] for v in value)
        if name == "characteristics":
            names = {ALL_CHARACTERISTICS: "All", **CHARACTERISTICS}
            return "; ".join(names[v] for v in value)
        if name == "objective_id":
            objective = db.session.get(Objective, value) if value else None
            return objective.title if objective else ""
        if name == "lead_user_id":
            from portal.auth.models import User

            person = db.session.get(User, value) if value else None
            return person.name if person else ""
        return value or ""

    rows = []
    for name, label in labels.items():
        saved, yours = getattr(current, name), submitted.get(name)
        if saved != yours:
            rows.append((label, show(name, saved), show(name, yours)))
    return rows


@tenant_bp.route("/actions/<int:action_number>/edit", methods=["GET", "POST"])
@requires("officer")
def edit_action(action_number: int):
    row = get_numbered_or_404(Action, action_number)
    form = _action_form(row)
    edit = submit_edit(
        form,
        row,
        lambda version: services.update_action(row, form.data_for_service(), version=version),
        message="The action has been saved",
        then=lambda: url_for(".action", action_number=row.number),
    )
    if edit.saved:
        return edit.done
    conflict = edit.conflict
    return render_template(
        "actions/action_form.html",
        form=form,
        row=row,
        conflict=conflict,
        conflict_rows=conflict and _conflict_rows(conflict.current, conflict.submitted),
        check=readability(form.measures.data),
    )


@tenant_bp.route("/actions/<int:action_number>/delete", methods=["GET", "POST"])
@requires("officer")
def delete_action(action_number: int):
    # The page says how many progress updates go with it.
    row = get_numbered_or_404(Action, action_number, options=[selectinload(Action.updates)])
    form = ConfirmForm()
    if form.validate_on_submit():
        services.delete_action(row)
        flash("The action has been deleted", "success")
        return redirect(url_for(".objectives"))
    return render_template("actions/action_delete.html", action=row, form=form)


@tenant_bp.route("/actions/<int:action_number>/progress", methods=["GET", "POST"])
@requires("officer")
@one_time
def add_progress(action_number: int):
    row = get_numbered_or_404(Action, action_number)
    form = ProgressForm()
    if request.method == "GET":
        form.status.data = row.status
    if form.validate_on_submit():
        upload = form.evidence.data
        has_file = bool(upload and getattr(upload, "filename", ""))
        try:
            services.add_progress(
                row,
                on=form.date.data,
                narrative=form.narrative.data,
                status=form.status.data,
                link=form.evidence_link.data or "",
                filename=upload.filename if has_file else "",
                content=upload.read() if has_file else None,
            )
        except Invalid as exc:
            show_invalid(form, exc)
        else:
            flash("The progress update has been saved", "success")
            return redirect(url_for(".action", action_number=row.number, _anchor="progress"))
    return render_template(
        "actions/progress_form.html", form=form, action=row, check=readability(form.narrative.data)
    )


@tenant_bp.route("/actions/<int:action_number>/progress/export")
@requires(*READ_ROLES)
def export_progress(action_number: int):
    row = get_numbered_or_404(Action, action_number)
    updates = list(db.session.scalars(services.progress_updates(row)))
    return exports.response(
        request.args.get("format", "csv"),
        f"{g.tenant.slug}-action-{row.id}-progress",
        ["Action", "Date", "Status", "Progress", "Evidence link", "Evidence file", "Added by"],
        [
            [
                row.task,
                u.date,
                u.status_label,
                u.narrative,
                u.evidence_link,
                u.evidence_name,
                u.created_by.name if u.created_by else "",
            ]
            for u in updates
        ],
        what="Progress updates",
        detail={"action_id": row.id},
    )


@tenant_bp.route("/evidence/<int:update_number>")
@requires(*READ_ROLES)
def evidence(update_number: int):
    update = get_numbered_or_404(ProgressUpdate, update_number)
    if not update.has_evidence_file:
        abort(404)
    services.record_evidence_download(update)
    tenant_id, size, update_id = update.tenant_id, update.evidence_size, update.id

    # The file is sent piece by piece as it is read from the database, so a download holds
    # one piece in memory, whatever the file's size. The request (and so the session and
    # the tenant wall) stays open until the last piece is sent.
    @stream_with_context
    def body():
        with tenancy.tenant_scope(tenant_id):
            yield from services.evidence_chunks(update_id)

    response = Response(body(), mimetype=update.evidence_type or "application/octet-stream")
    response.content_length = size
    response.headers.set("Content-Disposition", "attachment", **_download_name(update))
    # An organisation's documents must not be kept by shared caches on the way.
    response.headers["Cache-Control"] = "no-store, private"
    return response


def _download_name(update: ProgressUpdate) -> dict[str, str]:
    """Content-Disposition's file name, with a UTF-8 form for names beyond ASCII."""
    name = update.evidence_name or "evidence"
    try:
        name.encode("ascii")
    except UnicodeEncodeError:
        simple = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
        return {"filename": simple or "evidence", "filename*": f"UTF-8''{quote(name, safe='')}"}
    return {"filename": name}


def _not_the_author(update: ProgressUpdate):
    """Where somebody who may not change an update is sent: its history, told why."""
    if update.is_current:
        flash("Only the person who wrote an update can correct or withdraw it")
    else:
        flash("This update has been corrected or withdrawn already; here is its history")
    return redirect(url_for(".progress_history", update_number=update.number))


@tenant_bp.route("/progress/<int:update_number>/correct", methods=["GET", "POST"])
@requires("officer")
def correct_progress(update_number: int):
    update = get_numbered_or_404(ProgressUpdate, update_number)
    if not services.may_change_progress(update):
        return _not_the_author(update)
    row = update.action
    form = CorrectProgressForm()
    if request.method == "GET":
        form.date.data = update.date
        form.narrative.data = update.narrative
        form.status.data = update.status
        form.evidence_link.data = update.evidence_link
    if form.validate_on_submit():
        upload = form.evidence.data
        has_file = bool(upload and getattr(upload, "filename", ""))
        try:
            services.correct_progress(
                update,
                on=form.date.data,
                narrative=form.narrative.data,
                status=form.status.data,
                link=form.evidence_link.data or "",
                filename=upload.filename if has_file else "",
                content=upload.read() if has_file else None,
                reason=form.reason.data,
            )
        except Invalid as exc:
            show_invalid(form, exc)
        else:
            flash("The correction has been saved; the earlier version is kept", "success")
            return redirect(url_for(".action", action_number=row.number, _anchor="progress"))
    return render_template(
        "actions/progress_form.html",
        form=form,
        action=row,
        update=update,
        check=readability(form.narrative.data),
    )


@tenant_bp.route("/progress/<int:update_number>/withdraw", methods=["GET", "POST"])
@requires("officer")
def withdraw_progress(update_number: int):
    update = get_numbered_or_404(ProgressUpdate, update_number)
    if not services.may_change_progress(update):
        return _not_the_author(update)
    row = update.action
    form = WithdrawProgressForm()
    if form.validate_on_submit():
        try:
            services.withdraw_progress(update, form.reason.data)
        except Invalid as exc:
            show_invalid(form, exc)
        else:
            flash("The update has been withdrawn; its history is kept", "success")
            return redirect(url_for(".action", action_number=row.number, _anchor="progress"))
    return render_template("actions/progress_withdraw.html", form=form, action=row, update=update)


@tenant_bp.route("/progress/<int:update_number>/history")
@requires(*READ_ROLES)
def progress_history(update_number: int):
    update = get_numbered_or_404(ProgressUpdate, update_number)
    versions = services.progress_history(services.latest_version(update))
    return render_template("actions/progress_history.html", action=update.action, versions=versions)
