"""Pages of the reporting cycle: the lead's reporting years, each member's return, and
its sign-off by the chief executive."""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from portal import clock
from portal.access import partnership_blueprint, requires, tenant_blueprint
from portal.editing import EditConflict, Invalid, show_invalid
from portal.extensions import db
from portal.forms import ConfirmForm
from portal.once import one_time
from portal.readability import readability
from portal.references import get_numbered_or_404
from portal.returns import case_studies, sections, services, signoff, sources
from portal.returns import content as content_views
from portal.returns.forms import (
    CaseStudyForm,
    ExtensionForm,
    OpenYearForm,
    ReasonForm,
    SectionForm,
    SendBackForm,
    SignOffForm,
)
from portal.returns.models import (
    AWAITING_SIGN_OFF,
    IMAGE_MAX_BYTES,
    SECTIONS,
    SIGNED_OFF,
    CaseStudy,
    ReturnSignOff,
    year_label,
)

partnership_bp = partnership_blueprint("reports", __name__, "/reports")
tenant_bp = tenant_blueprint("returns", __name__, "/returns")
tenant_bp.add_app_template_global(content_views.released_rows, "released_rows")
tenant_bp.add_app_template_global(content_views.released_cell, "released_cell")
tenant_bp.add_app_template_global(content_views.long_date, "long_date")


# --- the lead's pages -----------------------------------------------------------------


def _lead_year(label: str):
    year = services.find_year(g.partnership, label)
    if year is None:
        abort(404)
    return year


@partnership_bp.route("/")
def index():
    return render_template(
        "returns/years.html", years=services.years_for(g.partnership), today=clock.utcnow().date()
    )


@partnership_bp.route("/open", methods=["GET", "POST"])
def open_year():
    form = OpenYearForm()
    this_year = clock.utcnow().year
    taken = {y.start_year for y in services.years_for(g.partnership)}
    form.start_year.choices = [
        (str(y), year_label(y)) for y in range(this_year - 2, this_year + 2) if y not in taken
    ]
    if request.method == "GET" and form.start_year.choices:
        form.start_year.data = form.start_year.choices[
            -2 if len(form.start_year.choices) > 1 else 0
        ][0]
    period = None
    if form.validate_on_submit():
        try:
            year = services.open_year(
                g.partnership,
                start_year=int(form.start_year.data) if form.start_year.data else None,
                deadline=form.deadline.data,
                publication_target=form.publication_target.data,
                user=current_user.record,
            )
        except Invalid as exc:
            show_invalid(form, exc)
        else:
            flash(f"Reporting year {year.label} opened. Each member has been emailed the deadline.")
            return redirect(url_for("reports.year", year=year.label))
    if form.start_year.errors:
        form.start_year.errors = ["Choose a reporting year from the list"]
    # Only an offered year is looked up: int() refuses strings of more than 4,300 digits.
    if str(form.start_year.data) in dict(form.start_year.choices):
        period = services.current_period(g.partnership, int(form.start_year.data))
    return render_template("returns/open_year.html", form=form, period=period)


@partnership_bp.route("/<year>/")
def year(year: str):
    row = _lead_year(year)
    return render_template(
        "returns/year.html",
        year=row,
        statuses=services.member_statuses(row),
        form=ConfirmForm(),
        aims=_covered_aims(row),
        measures=_covered_measures(row),
    )


def _covered_aims(row):
    return sources.joint_aims(row)


def _covered_measures(row):
    from sqlalchemy import select

    from portal.monitoring.models import MeasureDefinition

    if not row.measure_ids:
        return []
    return db.session.scalars(
        select(MeasureDefinition).where(MeasureDefinition.id.in_(row.measure_ids))
    ).all()


def _member(row, slug: str | None):
    member = services.member_of(row, slug or "")
    return member


@partnership_bp.route("/<year>/remind", methods=["POST"])
def remind(year: str):
    row = _lead_year(year)
    form = ConfirmForm()
    member = _member(row, request.form.get("member"))
    if not form.validate_on_submit() or member is None:
        flash("Choose a member to remind.")
        return redirect(url_for("reports.year", year=row.label))
    try:
        services.remind_by_hand(row, member, user=current_user.record)
    except Invalid as exc:
        flash(str(exc))
    else:
        flash(f"A reminder has been sent to {member.name}.")
    return redirect(url_for("reports.year", year=row.label))


@partnership_bp.route("/<year>/extend", methods=["GET", "POST"])
def extend(year: str):
    row = _lead_year(year)
    member = _member(row, request.values.get("member"))
    if member is None:
        return redirect(url_for("reports.year", year=row.label))
    form = ExtensionForm()
    if form.validate_on_submit():
        try:
            services.extend_deadline(
                row,
                member,
                deadline=form.deadline.data,
                reason=form.reason.data,
                user=current_user.record,
            )
        except Invalid as exc:
            show_invalid(form, exc)
        else:
            flash(f"{member.name}'s deadline has been extended.")
            return redirect(url_for("reports.year", year=row.label))
    return render_template(
        "returns/extend.html",
        year=row,
        member=member,
        form=form,
        current=services.deadline_for(row, member),
    )


@partnership_bp.route("/<year>/reopen", methods=["GET", "POST"])
def reopen(year: str):
    row = _lead_year(year)
    member = _member(row, request.values.get("member"))
    if member is None or services.current_snapshot(row, member) is None:
        return redirect(url_for("reports.year", year=row.label))
    form = ReasonForm()
    if form.validate_on_submit():
        try:
            signoff.reopen(row, member, reason=form.reason.data, user=current_user.record)
        except Invalid as exc:
            show_invalid(form, exc)
        else:
            flash(f"{member.name}'s return has been reopened. It needs signing off again.")
            return redirect(url_for("reports.year", year=row.label))
    return render_template("returns/reopen.html", year=row, member=member, form=form)


@partnership_bp.route("/<year>/returns/<member>")
def member_return(year: str, member: str):
    """A member's signed-off return as it was frozen; a draft is never shown here."""
    row = _lead_year(year)
    tenant = services.member_of(row, member)
    if tenant is None:
        abort(404)
    snapshot = services.current_snapshot(row, tenant)
    return render_template(
        "returns/member_return.html",
        year=row,
        member=tenant,
        snapshot=snapshot,
        content=snapshot.content if snapshot else None,
    )


# --- a member's return ---------------------------------------------------------------------


def _tenant_year(partnership: str, year: str):
    row = services.tenant_year(g.tenant, partnership, year)
    if row is None:
        abort(404)
    return row


def _editable_return(row):
    """The return for editing: started on first use; None once it has left the officers."""
    ret = services.start_return(row)
    return ret if ret.is_editable else None


@tenant_bp.route("/")
@requires("read")
def tenant_index():
    years = services.years_for_tenant(g.tenant)
    found = {y.id: services.return_for(y) for y in years}
    rows = [
        (y, services.tasks(found[y.id]), found[y.id], services.deadline_for(y, g.tenant))
        for y in years
    ]
    return render_template("returns/tenant_index.html", rows=rows)


@tenant_bp.route("/<partnership>/<year>/")
@requires("read")
def task_list(partnership: str, year: str):
    row = _tenant_year(partnership, year)
    ret = services.return_for(row)
    sign_off = None
    if ret is not None and ret.status == SIGNED_OFF:
        from sqlalchemy import select

        sign_off = db.session.scalar(
            select(ReturnSignOff)
            .where(ReturnSignOff.return_id == ret.id)
            .order_by(ReturnSignOff.id.desc())
        )
    return render_template(
        "returns/task_list.html",
        year=row,
        ret=ret,
        tasks=services.tasks(ret),
        deadline=services.deadline_for(row, g.tenant),
        sign_off=sign_off,
        form=ConfirmForm(),
    )


@tenant_bp.route("/<partnership>/<year>/sections/<section>", methods=["GET", "POST"])
@requires("edit_plan")
def section(partnership: str, year: str, section: str):
    row = _tenant_year(partnership, year)
    if section not in SECTIONS:
        abort(404)
    ret = _editable_return(row)
    if ret is None:
        flash("This return has been sent for sign-off and cannot be changed.")
        return redirect(url_for("returns.task_list", partnership=partnership, year=year))
    # Exact hate-incident counts are for caseworkers (as on the statistics page); everyone
    # else drafting the return sees them as released, the way the return will show them.
    exact_incidents = current_user.has_role(g.tenant, "caseworker")
    if section == "incidents" and not exact_incidents:
        drawn = signoff.build_content(ret)["hate_incidents"]
    else:
        drawn = services.drawn(section, row, ret)
    saved = ret.section(section)
    form = SectionForm()
    answers = dict(saved.answers) if saved else {}
    problems: dict = {}
    conflict = None
    if request.method == "GET":
        form.version.data = str(saved.version) if saved else "0"
        if saved and not saved.completed:
            problems = sections.problems(section, answers, row, drawn)
    elif form.validate_on_submit():
        answers = sections.read_answers(section, request.form, row, drawn)
        try:
            version = 0 if form.version.data == "0" else form.version_number()
            saved, problems = services.save_section(
                ret, section, answers, version=version, user=current_user.record
            )
        except EditConflict as exc:
            db.session.rollback()
            conflict = exc
            current = ret.section(section)
            form.version.data = str(current.version) if current else "0"
        except Invalid as exc:
            flash(str(exc))
            return redirect(url_for("returns.task_list", partnership=partnership, year=year))
        else:
            if not problems:
                flash(f"{SECTIONS[section]}: completed.")
                return redirect(url_for("returns.task_list", partnership=partnership, year=year))
            form.version.data = str(saved.version)
    return render_template(
        "returns/section.html",
        year=row,
        ret=ret,
        key=section,
        title=SECTIONS[section],
        drawn=drawn,
        answers=answers,
        problems=problems,
        conflict=conflict,
        saved_answers=(ret.section(section).answers if conflict and ret.section(section) else None),
        form=form,
        readability=readability,
        sources=sources,
        sections=sections,
        tenant=g.tenant,
        exact_incidents=exact_incidents,
    )


def _case_study_return(row: CaseStudy):
    ret = row.annual_return
    if not ret.is_editable:
        return None
    return ret


@tenant_bp.route("/<partnership>/<year>/case-studies/new", methods=["GET", "POST"])
@requires("edit_plan")
@one_time
def new_case_study(partnership: str, year: str):
    row = _tenant_year(partnership, year)
    ret = _editable_return(row)
    if ret is None:
        flash("This return has been sent for sign-off and cannot be changed.")
        return redirect(url_for("returns.task_list", partnership=partnership, year=year))
    form = CaseStudyForm()
    if form.validate_on_submit():
        upload = form.image.data
        data = upload.read(IMAGE_MAX_BYTES + 1) if upload else None
        try:
            case_studies.save_case_study(
                ret,
                None,
                title=form.title.data,
                text=form.text.data,
                image=data or None,
                image_alt=form.image_alt.data,
                user=current_user.record,
            )
        except Invalid as exc:
            show_invalid(form, exc)
        else:
            flash("Case study added.")
            return redirect(
                url_for(
                    "returns.section", partnership=partnership, year=year, section="case_studies"
                )
            )
    return render_template(
        "returns/case_study.html", form=form, year=row, study=None, readability=readability
    )


@tenant_bp.route("/case-studies/<int:case_study_number>", methods=["GET", "POST"])
@requires("edit_plan")
def case_study(case_study_number: int):
    study = get_numbered_or_404(CaseStudy, case_study_number)
    year_row = study.annual_return.reporting_year
    back = url_for(
        "returns.section",
        partnership=year_row.partnership.slug,
        year=year_row.label,
        section="case_studies",
    )
    ret = _case_study_return(study)
    if ret is None:
        flash("This return has been sent for sign-off and cannot be changed.")
        return redirect(back)
    form = CaseStudyForm(obj=study if request.method == "GET" else None)
    conflict = None
    if request.method == "GET":
        form.version.data = str(study.version)
        form.image.data = None
    elif form.validate_on_submit():
        upload = form.image.data
        data = upload.read(IMAGE_MAX_BYTES + 1) if upload else None
        try:
            case_studies.save_case_study(
                ret,
                study,
                title=form.title.data,
                text=form.text.data,
                image=data or None,
                image_alt=form.image_alt.data,
                remove_image=form.remove_image.data,
                version=form.version_number(),
                user=current_user.record,
            )
        except Invalid as exc:
            show_invalid(form, exc)
        except EditConflict as exc:
            db.session.rollback()
            conflict = exc
            study = get_numbered_or_404(CaseStudy, case_study_number)
            form.version.data = str(study.version)
        else:
            flash("Case study saved.")
            return redirect(back)
    return render_template(
        "returns/case_study.html",
        form=form,
        year=year_row,
        study=study,
        conflict=conflict,
        delete_form=ConfirmForm(),
        readability=readability,
    )


@tenant_bp.route("/case-studies/<int:case_study_number>/delete", methods=["POST"])
@requires("edit_plan")
def delete_case_study(case_study_number: int):
    study = get_numbered_or_404(CaseStudy, case_study_number)
    year_row = study.annual_return.reporting_year
    back = url_for(
        "returns.section",
        partnership=year_row.partnership.slug,
        year=year_row.label,
        section="case_studies",
    )
    ret = _case_study_return(study)
    if ret is not None and ConfirmForm().validate_on_submit():
        case_studies.delete_case_study(ret, study, user=current_user.record)
        flash("Case study removed.")
    return redirect(back)


@tenant_bp.route("/case-studies/<int:case_study_number>/image")
@requires("read")
def case_study_image(case_study_number: int):
    study = get_numbered_or_404(CaseStudy, case_study_number)
    if study.image is None:
        abort(404)
    response = Response(study.image, mimetype=study.image_type)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@tenant_bp.route("/<partnership>/<year>/preview")
@requires("read")
def preview(partnership: str, year: str):
    row = _tenant_year(partnership, year)
    ret = services.return_for(row)
    if ret is None:
        flash("This return has not been started yet.")
        return redirect(url_for("returns.task_list", partnership=partnership, year=year))
    content = signoff.build_content(ret)
    return render_template(
        "returns/preview.html", year=row, ret=ret, content=content, image_url=_image_url(ret)
    )


def _image_url(ret):
    """Where a page finds the image of the return's case study at ``position``."""
    studies = list(ret.case_studies)

    def url(position: int) -> str:
        return url_for("returns.case_study_image", case_study_number=studies[position - 1].number)

    return url


@tenant_bp.route("/<partnership>/<year>/send", methods=["POST"])
@requires("edit_plan")
def send(partnership: str, year: str):
    row = _tenant_year(partnership, year)
    ret = services.return_for(row)
    if ret is not None and ConfirmForm().validate_on_submit():
        try:
            signoff.send_for_sign_off(ret, user=current_user.record)
        except Invalid as exc:
            flash(str(exc))
        else:
            flash("The return has been sent to your chief executive for sign-off.")
    return redirect(url_for("returns.task_list", partnership=partnership, year=year))


@tenant_bp.route("/<partnership>/<year>/sign-off", methods=["GET", "POST"])
@requires("sign_off")
def sign_off(partnership: str, year: str):
    row = _tenant_year(partnership, year)
    ret = services.return_for(row)
    if ret is None or ret.status != AWAITING_SIGN_OFF:
        flash("This return is not waiting for sign-off.")
        return redirect(url_for("returns.task_list", partnership=partnership, year=year))
    form = SignOffForm()
    if request.method == "GET" and not form.name.data:
        form.name.data = current_user.name
    if form.validate_on_submit():
        try:
            snapshot = signoff.sign_off(
                ret,
                user=current_user.record,
                password=form.password.data or "",
                confirmed=bool(form.confirm.data),
                name=form.name.data,
                role=form.role.data,
                seen=form.seen.data or "",
                address=request.remote_addr or "",
            )
        except signoff.PasswordLocked as exc:
            # Locking queues the owner's unlock email, which ends this request's records.
            flash(exc.message)
            return redirect(url_for("returns.task_list", partnership=partnership, year=year))
        except Invalid as exc:
            show_invalid(form, exc)
        except IntegrityError:
            # Another sign-off of the same return was written first: the unique constraint
            # on its snapshot refused this one, so nothing of it is kept.
            db.session.rollback()
            flash("This return has already been signed off.")
            return redirect(url_for("returns.task_list", partnership=partnership, year=year))
        else:
            flash(f"Signed off. Its SHA-256 fingerprint is {snapshot.sha256}.")
            return redirect(url_for("returns.task_list", partnership=partnership, year=year))
    form.password.data = ""
    content = signoff.build_content(ret)
    form.seen.data = signoff.shown_hash(ret, content)
    return render_template(
        "returns/sign_off.html",
        year=row,
        ret=ret,
        content=content,
        image_url=_image_url(ret),
        form=form,
        back_form=SendBackForm(),
        statement=signoff.SIGN_OFF_STATEMENT,
    )


@tenant_bp.route("/<partnership>/<year>/send-back", methods=["POST"])
@requires("sign_off")
def send_back(partnership: str, year: str):
    row = _tenant_year(partnership, year)
    ret = services.return_for(row)
    if ret is None or ret.status != AWAITING_SIGN_OFF:
        flash("This return is not waiting for sign-off.")
        return redirect(url_for("returns.task_list", partnership=partnership, year=year))
    back_form = SendBackForm()
    if back_form.validate_on_submit():
        try:
            signoff.send_back(ret, comments=back_form.comments.data, user=current_user.record)
        except Invalid as exc:
            show_invalid(back_form, exc)
        else:
            flash("The return has been sent back to the officers with your comments.")
            return redirect(url_for("returns.task_list", partnership=partnership, year=year))
    form = SignOffForm()
    form.name.data = current_user.name
    content = signoff.build_content(ret)
    form.seen.data = signoff.shown_hash(ret, content)
    return render_template(
        "returns/sign_off.html",
        year=row,
        ret=ret,
        content=content,
        image_url=_image_url(ret),
        form=form,
        back_form=back_form,
        statement=signoff.SIGN_OFF_STATEMENT,
    )
