"""Impact assessments: the register (officers change, everybody there reads), joint
assessments (the partnership lead starts them, members contribute) and the public pages."""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from portal import exports
from portal.access import (
    READ_ROLES,
    get_partnership_owned_or_404,
    partnership_blueprint,
    public_blueprint,
    requires,
    tenant_blueprint,
)
from portal.editing import EditConflict, Invalid, show_invalid, submit_edit
from portal.eqia import services
from portal.eqia.forms import (
    AssessmentForm,
    ConcludeJointForm,
    ContributionForm,
    JointAssessmentForm,
)
from portal.eqia.models import CHARACTERISTICS, ImpactAssessment, JointAssessment
from portal.extensions import db
from portal.forms import ConfirmForm
from portal.once import one_time
from portal.pagination import paginate
from portal.readability import readability
from portal.references import get_numbered_or_404

tenant_bp = tenant_blueprint("eqia", __name__, "/eqia")
partnership_bp = partnership_blueprint("joint_eqia", __name__, "/eqia")
bp = public_blueprint("public_eqia", __name__, "/eqia")


# --- the register ------------------------------------------------------------------------


@tenant_bp.route("/")
@requires(*READ_ROLES)
def register():
    page = paginate(services.assessments())
    return render_template("eqia/register.html", page=page)


@tenant_bp.route("/new", methods=["GET", "POST"])
@requires("officer")
@one_time
def new_assessment():
    form = AssessmentForm()
    if form.validate_on_submit():
        try:
            row = services.add_assessment(form.data_for_service())
        except Invalid as exc:
            show_invalid(form, exc)
        else:
            flash(f"“{row.title}” has been added to the register", "success")
            return redirect(url_for(".assessment", assessment_number=row.number))
    return render_template(
        "eqia/assessment_form.html", form=form, row=None, check=readability(form.narrative())
    )


@tenant_bp.route("/<int:assessment_number>")
@requires(*READ_ROLES)
def assessment(assessment_number: int):
    row = get_numbered_or_404(ImpactAssessment, assessment_number)
    return render_template(
        "eqia/assessment.html",
        row=row,
        can_edit=current_user.has_role(g.tenant, "officer"),
        public=False,
    )


@tenant_bp.route("/<int:assessment_number>/edit", methods=["GET", "POST"])
@requires("officer")
def edit_assessment(assessment_number: int):
    row = get_numbered_or_404(ImpactAssessment, assessment_number)
    form = AssessmentForm()
    if request.method == "GET":
        form.fill_from(row)
    edit = submit_edit(
        form,
        row,
        lambda version: services.update_assessment(row, form.data_for_service(), version=version),
        message=lambda: f"“{row.title}” has been saved",
        then=lambda: url_for(".assessment", assessment_number=row.number),
    )
    if edit.saved:
        return edit.done
    return render_template(
        "eqia/assessment_form.html",
        form=form,
        row=row,
        conflict=edit.conflict,
        check=readability(form.narrative()),
    )


# --- joint assessments: the member's side ------------------------------------------------


@tenant_bp.route("/joint")
@requires(*READ_ROLES)
def joint_list():
    rows = db.session.scalars(services.joint_assessments()).all()
    contributions = {j.id: services.contribution_for(j) for j in rows}
    return render_template("eqia/joint_list.html", rows=rows, contributions=contributions)


@tenant_bp.route("/joint/<int:joint_id>", methods=["GET", "POST"])
@requires(*READ_ROLES)
def contribution(joint_id: int):
    joint = get_partnership_owned_or_404(JointAssessment, joint_id)
    row = services.contribution_for(joint)
    can_edit = current_user.has_role(g.tenant, "officer") and not (row and row.is_submitted)
    if request.method == "POST" and not can_edit:
        abort(403)
    form = ContributionForm()
    conflict = None
    if request.method == "GET" and row is not None:
        form.evidence.data = row.evidence
        form.mitigation.data = row.mitigation
        form.contributor.data = row.contributor
        for key in CHARACTERISTICS:
            form[f"impact_{key}"].data = row.impacts.get(key)
        form.version.data = str(row.version)
    elif form.validate_on_submit():
        try:
            services.save_contribution(
                joint,
                form.data_for_service(),
                version=form.version_number(),
                submit=bool(form.submit.data),
            )
        except EditConflict as exc:
            db.session.rollback()
            conflict = exc
            form.version.data = str(exc.current.version)
        except Invalid as exc:
            db.session.rollback()
            show_invalid(form, exc)
        else:
            if form.submit.data:
                flash("Your contribution has been submitted to the partnership lead", "success")
            else:
                flash("Your draft contribution has been saved", "success")
            return redirect(url_for(".contribution", joint_id=joint.id))
    return render_template(
        "eqia/contribution.html",
        joint=joint,
        row=row,
        form=form if can_edit else None,
        conflict=conflict,
        check=readability(form.narrative()) if can_edit else None,
    )


# --- joint assessments: the partnership lead's side ---------------------------------------


@partnership_bp.route("/joint")
def joint_assessments():
    rows = db.session.scalars(services.joint_assessments()).all()
    return render_template("eqia/partnership_joint_list.html", rows=rows)


@partnership_bp.route("/joint/new", methods=["GET", "POST"])
@one_time
def new_joint_assessment():
    form = JointAssessmentForm()
    if form.validate_on_submit():
        try:
            row = services.start_joint_assessment(g.partnership, form.data)
        except Invalid as exc:
            show_invalid(form, exc)
        else:
            flash(f"“{row.title}” has been started; members can now contribute", "success")
            return redirect(url_for(".joint_assessment", joint_id=row.id))
    return render_template("eqia/partnership_joint_form.html", form=form)


def _joint_of_partnership_or_404(joint_id: int) -> JointAssessment:
    return get_partnership_owned_or_404(JointAssessment, joint_id)


@partnership_bp.route("/joint/<int:joint_id>")
def joint_assessment(joint_id: int):
    joint = _joint_of_partnership_or_404(joint_id)
    contributions = services.submitted_contributions(joint, g.partnership)
    return render_template(
        "eqia/partnership_joint.html",
        joint=joint,
        contributions=contributions,
        publish_form=ConfirmForm(),
    )


@partnership_bp.route("/joint/<int:joint_id>/conclude", methods=["GET", "POST"])
def conclude_joint(joint_id: int):
    joint = _joint_of_partnership_or_404(joint_id)
    if joint.is_published:
        flash("This assessment has been published, so its conclusion is fixed")
        return redirect(url_for(".joint_assessment", joint_id=joint.id))
    form = ConcludeJointForm()
    if request.method == "GET":
        form.conclusion.data = joint.conclusion
    if form.validate_on_submit():
        try:
            services.conclude_joint(joint, g.partnership, form.conclusion.data)
        except Invalid as exc:
            db.session.rollback()
            show_invalid(form, exc)
        else:
            flash("The conclusion has been saved. You can now publish the assessment", "success")
            return redirect(url_for(".joint_assessment", joint_id=joint.id))
    return render_template(
        "eqia/partnership_joint_conclude.html",
        joint=joint,
        form=form,
        check=readability(form.conclusion.data),
    )


@partnership_bp.route("/joint/<int:joint_id>/publish", methods=["POST"])
def publish_joint(joint_id: int):
    joint = _joint_of_partnership_or_404(joint_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            services.publish_joint(joint, g.partnership)
        except Invalid as exc:
            db.session.rollback()
            flash(exc.message, "error")
        else:
            flash("The assessment has been published", "success")
    return redirect(url_for(".joint_assessment", joint_id=joint.id))


@partnership_bp.route("/joint/<int:joint_id>/export")
def export_joint(joint_id: int):
    joint = _joint_of_partnership_or_404(joint_id)
    content = joint.published_content or services.joint_content(joint, g.partnership)
    return exports.response(
        request.args.get("format", "csv"),
        f"{g.partnership.slug}-joint-assessment-{joint.id}",
        services.JOINT_EXPORT_HEADERS,
        services.joint_export_rows(content),
        what="Joint assessment",
        detail={"joint_id": joint.id, "partnership": g.partnership.slug},
    )


# --- public pages ------------------------------------------------------------------------


@bp.route("/")
def public_register():
    rows = db.session.scalars(services.published_assessments()).all()
    return render_template("eqia/public_register.html", rows=rows, org=g.public_tenant)


@bp.route("/<int:assessment_number>")
def public_assessment(assessment_number: int):
    row = db.session.scalar(
        services.published_assessments().where(ImpactAssessment.number == assessment_number)
    )
    if row is None:
        abort(404)
    return render_template(
        "eqia/assessment.html", row=row, can_edit=False, public=True, org=g.public_tenant
    )
