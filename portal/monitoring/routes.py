"""Measures and their figures (an organisation's own, exact), its community profile, and
the partnership's view of its members' figures (released under disclosure control)."""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import or_
from sqlalchemy.orm import joinedload, selectinload

from portal import charts
from portal.access import (
    READ_ROLES,
    get_partnership_owned_or_404,
    partnership_blueprint,
    requires,
    tenant_blueprint,
)
from portal.aims.models import AimMeasure
from portal.editing import Invalid, show_invalid, submit_edit
from portal.extensions import db
from portal.forms import ConfirmForm, parse_id
from portal.monitoring import (
    categories,
    figure_import,
    figures,
    joint,
    measures,
    partnership_view,
    periods,
    profiles,
    releases,
    targets,
)
from portal.monitoring.catalogue import ANY
from portal.monitoring.chart import members_chart
from portal.monitoring.forms import (
    OWN,
    CorrectionForm,
    GridForm,
    ImportForm,
    JointMeasureForm,
    MeasureEditForm,
    MeasureForm,
    RuleForm,
)
from portal.monitoring.models import UNITS, Measure, MeasureDefinition
from portal.once import one_time
from portal.references import get_numbered_or_404

# A measure's page names it by its definition's name, if it has one (Measure.title).
WITH_DEFINITION = (joinedload(Measure.definition),)

tenant_bp = tenant_blueprint("monitoring", __name__, "/monitoring")
partnership_bp = partnership_blueprint("partner_monitoring", __name__, "/monitoring")


@tenant_bp.route("/measures", endpoint="measures")
@requires(*READ_ROLES)
def measure_list():
    # Each row says whether it is a joint measure: its definition comes with it.
    query = measures.measures().options(selectinload(Measure.definition))
    rows = db.session.scalars(query).all()
    groups = joint.joint_for_tenant(g.tenant)
    joint_ids = {m.id for group in groups for _, m in group.rows if m is not None}
    return render_template(
        "monitoring/measures.html",
        measures=[m for m in rows if m.id not in joint_ids],
        joint=groups,
        confirm=ConfirmForm(),
    )


@tenant_bp.route("/measures/joint/<int:joint_measure_id>/start", methods=["POST"])
@requires("officer")
def start_joint(joint_measure_id: int):
    definition = get_partnership_owned_or_404(
        MeasureDefinition, joint_measure_id, MeasureDefinition.partnership_id.is_not(None)
    )
    form = ConfirmForm()
    if not form.validate_on_submit():
        return redirect(url_for(".measures"))
    try:
        row = joint.start_reporting(definition)
    except Invalid as exc:
        flash(f"{definition.name} could not be started: {exc}", "error")
        return redirect(url_for(".measures"))
    flash(f"You can now enter {g.tenant.name}'s figures for {definition.name}", "success")
    return redirect(url_for(".measure", measure_number=row.number))


@tenant_bp.route("/measures/new", methods=["GET", "POST"])
@requires("officer")
@one_time
def new_measure():
    form = MeasureForm()
    definitions = db.session.scalars(measures.definitions_for(g.tenant)).all()
    form.definition.choices = [
        (str(d.id), d.name + (" (by a protected characteristic)" if d.breakdown == ANY else ""))
        for d in definitions
    ] + [(OWN, "My own measure (describe it below)")]
    plan = measures.current_plan_years(g.tenant)
    if request.method == "GET" and plan is not None:
        form.first_year.data, form.last_year.data = plan
    if form.validate_on_submit():
        chosen = next((d for d in definitions if str(d.id) == form.definition.data), None)
        try:
            row = measures.add_measure(
                definition=chosen,
                name=form.name.data or "",
                unit=form.unit.data or "",
                period_type=form.period_type.data or "",
                breakdown=form.breakdown.data or "",
                description=form.description.data or "",
                first_year=form.first_year.data,
                last_year=form.last_year.data,
                **form.target_data(),
            )
        except Invalid as exc:
            show_invalid(form, exc)
        else:
            flash(f"{row.name} has been added", "success")
            return redirect(url_for(".measure", measure_number=row.number))
    return render_template("monitoring/measure_form.html", form=form)


@tenant_bp.route("/measures/<int:measure_number>")
@requires(*READ_ROLES)
def measure(measure_number: int):
    row = get_numbered_or_404(Measure, measure_number, options=WITH_DEFINITION)
    return render_template(
        "monitoring/measure.html",
        measure=row,
        demo=measures.has_demo_figures(row),
        directions=targets.DIRECTIONS,
        values=measures.stored_values(row),
        period_label=periods.label,
        row_label=measures.row_label,
    )


def _fill_fixed(form: MeasureEditForm, row: Measure) -> None:
    """Fields a built-in or joint measure fixes are not on its form: use the measure's."""
    if row.definition is None:
        return
    fixed = {"name": row.name, "unit": row.unit, "period_type": row.period_type}
    fixed["description"] = row.description
    if row.definition.breakdown != ANY:
        fixed["breakdown"] = row.breakdown
    for key, value in fixed.items():
        form[key].data, form[key].raw_data = value, [value]


@tenant_bp.route("/measures/<int:measure_number>/edit", methods=["GET", "POST"])
@requires("officer")
def edit_measure(measure_number: int):
    row = get_numbered_or_404(Measure, measure_number)
    form = MeasureEditForm(obj=row if request.method == "GET" else None)
    if request.method == "GET":
        form.version.data = str(row.version)
        form.target_value.data = targets.plain(row.target_value)
        form.amber_threshold.data = targets.plain(row.amber_threshold)
    _fill_fixed(form, row)
    edit = submit_edit(
        form,
        row,
        lambda version: measures.update_measure(
            row,
            name=form.name.data or "",
            unit=form.unit.data or "",
            period_type=form.period_type.data or "",
            breakdown=form.breakdown.data or "",
            description=form.description.data or "",
            first_year=form.first_year.data,
            last_year=form.last_year.data,
            version=version,
            **form.target_data(),
        ),
        message=lambda: f"{row.title} has been saved",
        then=lambda: url_for(".measure", measure_number=row.number),
    )
    if edit.saved:
        return edit.done
    return render_template(
        "monitoring/measure_edit.html",
        form=form,
        measure=row,
        conflict=edit.conflict,
        describe=_describe_shape,
    )


def _describe_shape(key: str, value) -> str:
    """A field's value as the page says it, for the two versions of a conflict."""
    if key == "unit":
        return UNITS.get(value, value or "")
    if key == "period_type":
        return periods.PERIOD_TYPES.get(value, value or "")
    if key == "breakdown":
        c = categories.characteristic(value)
        return c.label if c else "No breakdown"
    return "" if value is None else str(value)


@tenant_bp.route("/measures/<int:measure_number>/delete", methods=["GET", "POST"])
@requires("officer")
def delete_measure(measure_number: int):
    row = get_numbered_or_404(Measure, measure_number, options=WITH_DEFINITION)
    form = ConfirmForm()
    if form.validate_on_submit():
        name = row.title
        figures = measures.delete_measure(row)
        flash(f"{name} has been deleted, with its {figures} figures", "success")
        return redirect(url_for(".measures"))
    return render_template(
        "monitoring/measure_delete.html",
        measure=row,
        form=form,
        figures=sum(len(v) for v in measures.stored_values(row).values()),
    )


def _released_measure_or_404(measure_number: int) -> Measure:
    """One of the tenant's measures that can leave it: one taken up from a definition."""
    row = get_numbered_or_404(Measure, measure_number)
    if row.definition is None or not row.is_count:
        abort(404)
    return row


@tenant_bp.route("/measures/<int:measure_number>/releases", endpoint="releases")
@requires(*READ_ROLES)
def release_history(measure_number: int):
    row = _released_measure_or_404(measure_number)
    history = releases.releases_for(g.tenant, row.definition)
    current = {}
    for release in history:
        current.setdefault(release.period, release)
    return render_template(
        "monitoring/releases.html",
        measure=row,
        history=history,
        current=current,
        release_of=releases.release_of,
        trigger_words=releases.TRIGGER_WORDS,
        period_label=periods.label,
    )


@tenant_bp.route("/measures/<int:measure_number>/releases/correct", methods=["GET", "POST"])
@requires("edit_plan")
def correct_release(measure_number: int):
    row = _released_measure_or_404(measure_number)
    form = CorrectionForm()
    period = (form.period.data if request.method == "POST" else request.args.get("period")) or ""
    if not period:
        # With no period named, the latest one released.
        latest = releases.releases_for(g.tenant, row.definition)
        period = latest[0].period if latest else ""
    try:
        preview = releases.preview_correction(g.tenant, row.definition, period)
    except Invalid:
        abort(404)
    if request.method == "GET":
        form.period.data = period
        form.seen_version.data = str(preview.current.version)
    problem = None
    if form.validate_on_submit():
        try:
            releases.correct_release(
                g.tenant,
                row.definition,
                period,
                reason=form.reason.data or "",
                seen_version=parse_id(form.seen_version.data) or 0,
            )
        except Invalid as exc:
            db.session.rollback()
            problem = str(exc)
            preview = releases.preview_correction(g.tenant, row.definition, period)
            form.seen_version.data = str(preview.current.version)
        else:
            flash(
                f"The corrected figures for {periods.label(period)} have been released", "success"
            )
            return redirect(url_for(".releases", measure_number=row.number))
    return render_template(
        "monitoring/correct_release.html",
        measure=row,
        form=form,
        preview=preview,
        problem=problem,
        period=period,
        period_label=periods.label,
    )


def _grid_periods(measure: Measure) -> tuple[list[str], int | None, list[int], dict]:
    """The periods a grid shows: the years of one plan period (the current one unless
    another is chosen), or the quarters of one chosen year (this year unless another is
    chosen)."""
    this_year = periods.financial_year()
    if measure.period_type != periods.QUARTER:
        windows = measures.plan_windows(measure, g.tenant)
        chosen = next((w for w in windows if str(w[0]) == request.args.get("from")), None)
        if chosen is None:
            chosen = next((w for w in windows if w[0] <= this_year <= w[1]), windows[-1])
        shown = periods.periods(measure.period_type, *chosen)
        return shown, None, [], {"windows": windows if len(windows) > 1 else [], "chosen": chosen}
    years = list(range(measure.first_year, measure.last_year + 1))
    try:
        year = int(request.args.get("year", ""))
    except ValueError:
        year = this_year if this_year in years else years[0]
    if year not in years:
        year = this_year if this_year in years else years[0]
    shown = [p for p in measure.periods if periods.year_of(p) == year]
    return shown, year, years, {"windows": [], "chosen": None}


@tenant_bp.route(
    "/measures/<int:measure_number>/figures", methods=["GET", "POST"], endpoint="figures"
)
@requires("officer")
def figure_grid(measure_number: int):
    row = get_numbered_or_404(Measure, measure_number)
    shown, year, years, plan = _grid_periods(row)
    form = GridForm()
    problems: list[figures.Problem] = []
    entered = dict(request.form) if request.method == "POST" else {}
    if form.validate_on_submit():
        cells = figures.grid_cells(row, shown, request.form)
        try:
            count = figures.save_values(row, cells, replace_periods=shown, via="grid")
        except figures.ValuesRejected as exc:
            problems = exc.problems
        else:
            flash(f"Figures saved: {count} in the periods shown", "success")
            return redirect(url_for(".measure", measure_number=row.number))
    stored = measures.stored_values(row)
    return render_template(
        "monitoring/figures.html",
        measure=row,
        grid=form,
        shown=shown,
        year=year,
        years=years,
        windows=plan["windows"],
        window=plan["chosen"],
        stored=stored,
        entered=entered,
        problems=problems,
        bad_cells={p.ref for p in problems if p.ref},
        grid_id=figures.grid_id,
        period_label=periods.label,
        row_label=measures.row_label,
    )


@tenant_bp.route("/measures/<int:measure_number>/import", methods=["GET", "POST"])
@requires("officer")
def import_figures(measure_number: int):
    row = get_numbered_or_404(Measure, measure_number)
    form = ImportForm()
    problems: list[figures.Problem] = []
    if form.validate_on_submit():
        try:
            upload = form.file.data
            cells, via = figure_import.file_cells(
                row, upload.filename or "", upload.read(figure_import.MAX_IMPORT_BYTES + 1)
            )
            count = figures.save_values(row, cells, via=via)
        except figures.ValuesRejected as exc:
            problems = exc.problems
        else:
            flash(f"Figures imported: the periods in the file now hold {count}", "success")
            return redirect(url_for(".measure", measure_number=row.number))
    return render_template("monitoring/import.html", measure=row, form=form, problems=problems)


@tenant_bp.route("/measures/<int:measure_number>/compare")
@requires(*READ_ROLES)
def compare(measure_number: int):
    row = get_numbered_or_404(Measure, measure_number)
    c = row.characteristic
    if c is None:
        abort(404)
    stored = measures.stored_values(row)
    available = [p for p in row.periods if p in stored]
    period = request.args.get("period")
    if period not in available:
        period = available[-1] if available else None
    profile = profiles.profile()
    community = profiles.profile_tables(profile).get(c.key)
    shares = profiles.compare(row, period, community, stored=stored) if period else []
    unrecorded = profiles.recorded(row, period, stored=stored).describe() if period else ""
    return render_template(
        "monitoring/compare.html",
        measure=row,
        characteristic=c,
        period=period,
        available=available,
        shares=shares,
        unrecorded=unrecorded,
        profile=profile,
        community=community,
        period_label=periods.label,
    )


@tenant_bp.route("/community")
@requires(*READ_ROLES)
def community():
    profile = profiles.profile()
    return render_template(
        "monitoring/community.html",
        profile=profile,
        tables=profiles.profile_tables(profile),
        characteristics=categories.CHARACTERISTICS,
    )


# --- partnership -----------------------------------------------------------------------


# Built-in definitions are visible everywhere; the partnership scope adds this
# partnership's own joint measures, and no other partnership's.
IS_JOINT = MeasureDefinition.partnership_id.is_not(None)


def _definition_or_404(definition_id: int) -> MeasureDefinition:
    """A built-in count measure, or any joint measure of this partnership."""
    return get_partnership_owned_or_404(
        MeasureDefinition, definition_id, or_(MeasureDefinition.unit == "count", IS_JOINT)
    )


def _joint_or_404(definition_id: int) -> MeasureDefinition:
    return get_partnership_owned_or_404(MeasureDefinition, definition_id, IS_JOINT)


@partnership_bp.route("/measures")
def partnership_measures():
    return render_template(
        "monitoring/partnership_measures.html",
        pairs=partnership_view.member_breakdowns(g.partnership),
        joint=db.session.scalars(
            joint.joint_measures().options(
                joinedload(MeasureDefinition.aim_measure).joinedload(AimMeasure.aim)
            )
        ).all(),
        characteristic=categories.characteristic,
    )


def _members_view(definition: MeasureDefinition):
    """The breakdown asked for, the members' released figures, and their chart."""
    breakdown = request.args.get("breakdown", "")
    if breakdown and categories.characteristic(breakdown) is None:
        breakdown = ""
    if definition.breakdown not in (ANY, breakdown):
        breakdown = definition.breakdown
    view = chart = None
    if definition.is_count:
        view = partnership_view.across_members(
            g.partnership, definition, breakdown, request.args.get("period")
        )
        chart = members_chart(
            definition.name,
            periods.label(view.period) if view.period else "any period",
            [(m.tenant.name, m.table.total) for m in view.members if m.reported],
        )
    return breakdown, view, chart


@partnership_bp.route("/measures/<int:definition_id>")
def partnership_measure(definition_id: int):
    definition = _definition_or_404(definition_id)
    breakdown, view, chart = _members_view(definition)
    use = None if definition.is_count else joint.joint_use(g.partnership, definition)
    return render_template(
        "monitoring/partnership_measure.html",
        definition=definition,
        breakdown=breakdown,
        characteristic=categories.characteristic(breakdown),
        view=view,
        use=use,
        chart=chart,
        rule=g.partnership.disclosure_rule,
        period_label=periods.label,
    )


@partnership_bp.route("/measures/<int:definition_id>/members-totals.csv")
def partnership_measure_csv(definition_id: int):
    """Exactly the chart's figures: each member's released total for the period."""
    definition = _definition_or_404(definition_id)
    _, view, chart = _members_view(definition)
    if chart is None:  # not a count: its figures stay with each member
        abort(404)
    return charts.csv_response(chart, f"{definition.name}-{view.period or 'none'}-members")


def _joint_choices(form: JointMeasureForm, definition: MeasureDefinition | None) -> None:
    form.aim_measure.choices = [("", "Not linked to an aim")] + [
        (str(m.id), f"{m.aim.text[:80]}: {m.text[:120]}") for m in joint.aim_measure_choices()
    ]
    form.base.choices = [("", "Not part of another measure")] + [
        (str(d.id), d.name)
        for d in db.session.scalars(joint.joint_measures())
        if d.unit == "count" and (definition is None or d.id != definition.id)
    ]


def _joint_fields(form: JointMeasureForm) -> dict:
    return {
        "name": form.name.data or "",
        "unit": form.unit.data or "",
        "period_type": form.period_type.data or "",
        "breakdown": form.breakdown.data or "",
        "description": form.description.data or "",
        "first_year": form.first_year.data,
        "last_year": form.last_year.data,
        "aim_measure_id": form.chosen_id(form.aim_measure),
        "base_id": form.chosen_id(form.base),
    }


@partnership_bp.route("/joint-measures/new", methods=["GET", "POST"])
@one_time
def new_joint_measure():
    form = JointMeasureForm()
    _joint_choices(form, None)
    if form.validate_on_submit():
        try:
            row = joint.add_joint_measure(
                g.partnership, **_joint_fields(form), whole_name=form.whole_name.data or ""
            )
        except Invalid as exc:
            db.session.rollback()
            show_invalid(form, exc)
        else:
            if row.base is not None and form.unit.data == "percentage":
                flash(
                    f"{row.name} has been added as a percentage worked out from two counts: "
                    f"members report how many ({row.name}) and out of how many "
                    f"({row.base.name}). You will see the percentage from the two released "
                    "counts.",
                    "success",
                )
            else:
                flash(f"{row.name} has been added. Members can now report it.", "success")
            return redirect(url_for(".partnership_measures"))
    return render_template("monitoring/joint_form.html", form=form, definition=None)


@partnership_bp.route("/joint-measures/<int:definition_id>/edit", methods=["GET", "POST"])
def edit_joint_measure(definition_id: int):
    definition = _joint_or_404(definition_id)
    form = JointMeasureForm(obj=definition if request.method == "GET" else None)
    _joint_choices(form, definition)
    if request.method == "GET":
        form.version.data = str(definition.version)
        form.aim_measure.data = str(definition.aim_measure_id or "")
        form.base.data = str(definition.base_id or "")
    edit = submit_edit(
        form,
        definition,
        lambda version: joint.update_joint_measure(
            g.partnership, definition, **_joint_fields(form), version=version
        ),
        message=lambda: f"{definition.name} has been saved",
        then=lambda: url_for(".partnership_measures"),
    )
    if edit.saved:
        return edit.done
    return render_template(
        "monitoring/joint_form.html",
        form=form,
        definition=definition,
        conflict=edit.conflict,
        describe=_describe_shape,
    )


@partnership_bp.route("/joint-measures/<int:definition_id>/delete", methods=["GET", "POST"])
def delete_joint_measure(definition_id: int):
    definition = _joint_or_404(definition_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        name = definition.name
        joint.delete_joint_measure(g.partnership, definition)
        flash(f"{name} has been deleted", "success")
        return redirect(url_for(".partnership_measures"))
    return render_template(
        "monitoring/joint_delete.html",
        definition=definition,
        form=form,
        use=joint.joint_use(g.partnership, definition),
    )


@partnership_bp.route("/disclosure", methods=["GET", "POST"])
def disclosure_rule():
    partnership = g.partnership
    form = RuleForm(
        data=None
        if request.method == "POST"
        else {
            "threshold": partnership.disclosure_threshold,
            "rounding": partnership.disclosure_rounding,
        }
    )
    if form.validate_on_submit():
        try:
            partnership_view.set_disclosure_rule(
                partnership, form.threshold.data, form.rounding.data
            )
        except Invalid as exc:
            form.threshold.errors.append(str(exc))
        else:
            flash("The disclosure rule has been saved", "success")
            return redirect(url_for(".disclosure_rule"))
    return render_template(
        "monitoring/disclosure.html", form=form, rule=partnership.disclosure_rule
    )
