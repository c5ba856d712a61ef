"""The joint aims framework: kept by the partnership's leads, read by its members."""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for

from portal.access import (
    READ_ROLES,
    get_partnership_owned_or_404,
    partnership_blueprint,
    requires,
    tenant_blueprint,
)
from portal.aims import services
from portal.aims.forms import (
    AimForm,
    CopyPeriodForm,
    ListItemForm,
    MeasureForm,
    PeriodForm,
    RoleForm,
    StatementForm,
)
from portal.aims.models import (
    STATEMENT_SECTIONS,
    AimMeasure,
    JointAim,
    PartnershipRole,
    PeriodStatement,
    PlanPeriod,
    RoleListItem,
)
from portal.editing import Invalid, show_invalid, submit_edit
from portal.extensions import db
from portal.forms import ConfirmForm
from portal.once import one_time
from portal.ordering import MoveForm
from portal.readability import readability

partnership_bp = partnership_blueprint("aims", __name__, "/aims")
tenant_bp = tenant_blueprint("tenant_aims", __name__, "/aims")

# The parts of a framework that are edited, deleted and moved alike: URL segment, model,
# URL argument, form, the fields the form edits, and the noun people use for it.
PARTS = {
    "role": ("roles", PartnershipRole, "partnership_role_id", RoleForm, ("name", "lead_in")),
    "list_item": ("list-items", RoleListItem, "role_list_item_id", ListItemForm, ("text",)),
    "aim": ("joint-aims", JointAim, "joint_aim_id", AimForm, ("text",)),
    "measure": ("measures", AimMeasure, "aim_measure_id", MeasureForm, ("text",)),
    "statement": ("statements", PeriodStatement, "period_statement_id", StatementForm, ("text",)),
}
NOUNS = {
    "role": "role",
    "list_item": "list entry",
    "aim": "joint aim",
    "measure": "measure",
    "statement": "statement",
}
PART_ARGS = {kind: part[2] for kind, part in PARTS.items()}


def period_of(obj) -> PlanPeriod:
    """The plan period a part of the framework belongs to."""
    if isinstance(obj, PlanPeriod):
        return obj
    if isinstance(obj, RoleListItem | JointAim):
        return obj.role.period
    if isinstance(obj, AimMeasure):
        return obj.aim.role.period
    return obj.period


def _anchor_for(obj) -> str:
    """Where a part sits on its period's page, so the lead lands back at the same place."""
    if isinstance(obj, JointAim):
        return f"#aim-{obj.id}"
    if isinstance(obj, AimMeasure):
        return f"#aim-{obj.aim_id}"
    if isinstance(obj, PartnershipRole):
        return f"#role-{obj.id}"
    if isinstance(obj, RoleListItem):
        return f"#role-{obj.role_id}"
    if isinstance(obj, PeriodStatement):
        return f"#{obj.section}"
    return ""


def _place_of(obj, anchor: str = "") -> str:
    """The address of ``obj`` on its plan period's page."""
    period = period_of(obj)
    return url_for(".period", plan_period_id=period.id) + (anchor or _anchor_for(obj))


def _back_to(obj, anchor: str = ""):
    return redirect(_place_of(obj, anchor))


def _years(form) -> tuple[int, int]:
    return int(form.start_year.data), int(form.end_year.data)


# --- plan periods ---------------------------------------------------------------------------


@partnership_bp.route("/")
def index():
    rows = db.session.scalars(services.periods()).all()
    return render_template("aims/index.html", periods=rows)


@partnership_bp.route("/new", methods=["GET", "POST"])
@one_time
def new_period():
    form = PeriodForm()
    if form.validate_on_submit():
        start, end = _years(form)
        try:
            period = services.create_period(
                g.partnership,
                title=form.title.data,
                start_year=start,
                end_year=end,
                introduction=form.introduction.data or "",
                alternative_formats=form.alternative_formats.data or "",
            )
        except Invalid as exc:
            show_invalid(form, exc)
        else:
            flash(f"Plan period {period.label} has been added as a draft", "success")
            return redirect(url_for(".period", plan_period_id=period.id))
    return render_template("aims/period_form.html", form=form, period=None, conflict=None)


@partnership_bp.route("/<int:plan_period_id>")
def period(plan_period_id: int):
    row = get_partnership_owned_or_404(
        PlanPeriod, plan_period_id, options=services.whole_framework()
    )
    return render_template(
        "aims/period.html",
        period=row,
        sections=STATEMENT_SECTIONS,
        part_args=PART_ARGS,
    )


@partnership_bp.route("/<int:plan_period_id>/edit", methods=["GET", "POST"])
def edit_period(plan_period_id: int):
    row = get_partnership_owned_or_404(PlanPeriod, plan_period_id)
    form = PeriodForm(obj=row if request.method == "GET" else None)
    if request.method == "GET":
        form.version.data = str(row.version)
        form.start_year.data, form.end_year.data = str(row.start_year), str(row.end_year)

    def save(version: int):
        start, end = _years(form)
        services.update_period(
            row,
            version=version,
            title=form.title.data,
            start_year=start,
            end_year=end,
            introduction=form.introduction.data or "",
            alternative_formats=form.alternative_formats.data or "",
        )

    edit = submit_edit(
        form,
        row,
        save,
        message=lambda: f"Plan period {row.label} has been saved",
        then=lambda: _place_of(row),
    )
    if edit.saved:
        return edit.done
    return render_template(
        "aims/period_form.html",
        form=form,
        period=row,
        conflict=edit.conflict,
        check=readability(form.introduction.data),
    )


@partnership_bp.route("/<int:plan_period_id>/publish", methods=["POST"])
def publish_period(plan_period_id: int):
    row = get_partnership_owned_or_404(PlanPeriod, plan_period_id)
    if ConfirmForm().validate_on_submit():
        services.publish_period(row)
        flash(f"Plan period {row.label} is now shown to member organisations", "success")
    return _back_to(row)


@partnership_bp.route("/<int:plan_period_id>/copy", methods=["GET", "POST"])
@one_time
def copy_period(plan_period_id: int):
    row = get_partnership_owned_or_404(PlanPeriod, plan_period_id)
    form = CopyPeriodForm()
    if request.method == "GET":
        length = row.end_year - row.start_year
        start, end = row.end_year, row.end_year + length
        form.start_year.data, form.end_year.data = str(start), str(end)
        form.title.data = row.title.replace(
            f"{row.start_year}-{row.end_year % 100:02d}", f"{start}-{end % 100:02d}"
        ).replace(row.label, f"{start}–{end % 100:02d}")
    if form.validate_on_submit():
        start, end = _years(form)
        try:
            copy = services.copy_period(row, title=form.title.data, start_year=start, end_year=end)
        except Invalid as exc:
            show_invalid(form, exc)
        else:
            flash(
                f"{row.label} has been copied into a draft for {copy.label}. "
                "Change what you need, then show it to member organisations.",
                "success",
            )
            return redirect(url_for(".period", plan_period_id=copy.id))
    return render_template("aims/copy_form.html", form=form, period=row)


@partnership_bp.route("/<int:plan_period_id>/delete", methods=["GET", "POST"])
def delete_period(plan_period_id: int):
    row = get_partnership_owned_or_404(PlanPeriod, plan_period_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        label = row.label
        services.delete_period(row)
        flash(f"Plan period {label} has been deleted", "success")
        return redirect(url_for(".index"))
    return render_template(
        "aims/delete.html",
        form=form,
        heading=f"Are you sure you want to delete plan period {row.label}?",
        text=row.title,
        warning="Its roles, joint aims, measures and statements are deleted too, and "
        "commitments linked to its joint aims lose those links.",
        back=url_for(".period", plan_period_id=row.id),
    )


# --- adding parts --------------------------------------------------------------------------


def _part_form(form, heading: str, back_obj, *, obj=None, conflict=None, fields=("text",), noun=""):
    check_field = "lead_in" if "lead_in" in fields else "text"
    return render_template(
        "aims/part_form.html",
        form=form,
        heading=heading,
        obj=obj,
        fields=fields,
        conflict=conflict,
        noun=noun,
        period=period_of(back_obj),
        check=readability(form[check_field].data),
    )


@partnership_bp.route("/<int:plan_period_id>/roles/new", methods=["GET", "POST"])
@one_time
def new_role(plan_period_id: int):
    row = get_partnership_owned_or_404(PlanPeriod, plan_period_id)
    form = RoleForm()
    if form.validate_on_submit():
        role = services.add_role(row, name=form.name.data, lead_in=form.lead_in.data or "")
        flash("The role has been added", "success")
        return _back_to(role, f"#role-{role.id}")
    return _part_form(form, "Add a role", row, fields=PARTS["role"][4])


@partnership_bp.route("/<int:plan_period_id>/statements/new", methods=["GET", "POST"])
@one_time
def new_statement(plan_period_id: int):
    row = get_partnership_owned_or_404(PlanPeriod, plan_period_id)
    section = request.args.get("section", "")
    if section not in STATEMENT_SECTIONS:
        # The links on the period page always name the list; without one, start there.
        return _back_to(row)
    form = StatementForm()
    if form.validate_on_submit():
        services.add_statement(row, section, form.text.data)
        flash(f"The statement has been added to {STATEMENT_SECTIONS[section]}", "success")
        return _back_to(row, f"#{section}")
    return _part_form(form, f"Add a statement to {STATEMENT_SECTIONS[section]}", row)


@partnership_bp.route("/roles/<int:partnership_role_id>/list-items/new", methods=["GET", "POST"])
@one_time
def new_list_item(partnership_role_id: int):
    role = get_partnership_owned_or_404(PartnershipRole, partnership_role_id)
    form = ListItemForm()
    if form.validate_on_submit():
        services.add_list_item(role, form.text.data)
        flash("The list entry has been added", "success")
        return _back_to(role, f"#role-{role.id}")
    return _part_form(form, f"Add a list entry to “{role.name}”", role)


@partnership_bp.route("/roles/<int:partnership_role_id>/joint-aims/new", methods=["GET", "POST"])
@one_time
def new_aim(partnership_role_id: int):
    role = get_partnership_owned_or_404(PartnershipRole, partnership_role_id)
    form = AimForm()
    if form.validate_on_submit():
        aim = services.add_aim(role, form.text.data)
        flash("The joint aim has been added. Now add how you will measure it.", "success")
        return _back_to(aim, f"#aim-{aim.id}")
    return _part_form(form, f"Add a joint aim to “{role.name}”", role)


@partnership_bp.route("/joint-aims/<int:joint_aim_id>/measures/new", methods=["GET", "POST"])
@one_time
def new_measure(joint_aim_id: int):
    aim = get_partnership_owned_or_404(JointAim, joint_aim_id)
    form = MeasureForm()
    if form.validate_on_submit():
        services.add_measure(aim, form.text.data)
        flash("The measure has been added", "success")
        return _back_to(aim, f"#aim-{aim.id}")
    return _part_form(form, "Add a measure", aim)


# --- changing, deleting and moving parts -------------------------------------------------


def _edit_part(kind: str, **kwargs):
    _segment, model, arg, form_class, fields = PARTS[kind]
    obj = get_partnership_owned_or_404(model, kwargs[arg])
    form = form_class(obj=obj if request.method == "GET" else None)
    if request.method == "GET":
        form.version.data = str(obj.version)
    edit = submit_edit(
        form,
        obj,
        lambda version: services.update(
            obj, version=version, **{f: form[f].data or "" for f in fields}
        ),
        message=f"The {NOUNS[kind]} has been saved",
        then=lambda: _place_of(obj),
    )
    if edit.saved:
        return edit.done
    return _part_form(
        form,
        f"Change {NOUNS[kind]}",
        obj,
        obj=obj,
        conflict=edit.conflict,
        fields=fields,
        noun=NOUNS[kind],
    )


def _delete_part(kind: str, **kwargs):
    _segment, model, arg, _form, _fields = PARTS[kind]
    obj = get_partnership_owned_or_404(model, kwargs[arg])
    form = ConfirmForm()
    period = period_of(obj)
    if form.validate_on_submit():
        services.delete_part(obj)
        flash(f"The {NOUNS[kind]} has been deleted", "success")
        return redirect(url_for(".period", plan_period_id=period.id))
    warning = {
        "role": "Its list, joint aims and their measures are deleted too, and commitments "
        "linked to those joint aims lose those links.",
        "aim": "Its measures are deleted too, and commitments linked to it lose that link.",
    }.get(kind)
    return render_template(
        "aims/delete.html",
        form=form,
        heading=f"Are you sure you want to delete this {NOUNS[kind]}?",
        text=getattr(obj, "text", None) or obj.name,
        warning=warning,
        back=url_for(".period", plan_period_id=period.id),
    )


def _move_part(kind: str, **kwargs):
    _segment, model, arg, _form, _fields = PARTS[kind]
    obj = get_partnership_owned_or_404(model, kwargs[arg])
    form = MoveForm()
    if form.validate_on_submit() and form.direction.data in {"up", "down"}:
        services.move(obj, form.direction.data)
    return _back_to(obj)


def _register_parts() -> None:
    from functools import partial, update_wrapper

    for kind, (segment, _model, arg, _form, _fields) in PARTS.items():
        base = f"/{segment}/<int:{arg}>"
        for action, view, methods in (
            ("edit", _edit_part, ["GET", "POST"]),
            ("delete", _delete_part, ["GET", "POST"]),
            ("move", _move_part, ["POST"]),
        ):
            func = update_wrapper(partial(view, kind), view)
            partnership_bp.add_url_rule(
                f"{base}/{action}", endpoint=f"{action}_{kind}", view_func=func, methods=methods
            )


_register_parts()


# --- member organisations read the framework ----------------------------------------------


@tenant_bp.route("/")
@requires(*READ_ROLES)
def tenant_index():
    return render_template(
        "aims/tenant_index.html",
        frameworks=services.published_frameworks(),
        sections=STATEMENT_SECTIONS,
    )


@tenant_bp.route("/<int:joint_aim_id>")
@requires(*READ_ROLES)
def tenant_aim(joint_aim_id: int):
    aim = services.tenant_aim(joint_aim_id)
    if aim is None:
        abort(404)
    commitments = db.session.scalars(services.commitments_serving(aim)).all()
    return render_template("aims/tenant_aim.html", aim=aim, commitments=commitments)
