"""An organisation's commitments: read by everybody there, changed by its officers."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for

from portal import exports
from portal.access import READ_ROLES, requires, tenant_blueprint
from portal.aims import services as aims
from portal.commitments import services
from portal.commitments.forms import CommitmentForm
from portal.commitments.models import Commitment
from portal.editing import Invalid, show_invalid, submit_edit
from portal.extensions import db
from portal.forms import ConfirmForm
from portal.once import one_time
from portal.ordering import MoveForm
from portal.readability import readability
from portal.references import get_numbered_or_404

tenant_bp = tenant_blueprint("commitments", __name__, "/plan")


@tenant_bp.route("/commitments")
@requires(*READ_ROLES)
def commitments():
    rows = db.session.scalars(services.commitments()).all()
    return render_template(
        "commitments/commitments.html",
        commitments=rows,
        move=MoveForm(),
        confirm=ConfirmForm(),
        joint_aims=aims.aims_for_commitments(),
    )


@tenant_bp.route("/commitments/export")
@requires(*READ_ROLES)
def export_commitments():
    rows = db.session.scalars(services.commitments()).all()
    linked = aims.aims_for_commitments()
    return exports.response(
        request.args.get("format", "csv"),
        f"{g.tenant.slug}-commitments",
        ["Number", "Commitment", "Source", "Joint aims it serves", "Demonstration data"],
        [
            [
                c.position,
                c.text,
                c.source,
                "; ".join(a.text for a in linked.get(c.id, [])),
                c.is_demo,
            ]
            for c in rows
        ],
        what="Commitments",
    )


def _joint_aim_choices(form: CommitmentForm) -> None:
    rows = db.session.scalars(aims.linkable_aims()).all()
    several = len({a.partnership_id for a in rows}) > 1
    form.joint_aims.choices = [
        (a.id, f"{a.text} ({a.role.period.label}{', ' + a.role.name if several else ''})")
        for a in rows
    ]


@tenant_bp.route("/commitments/new", methods=["GET", "POST"])
@requires("officer")
@one_time
def new_commitment():
    form = CommitmentForm()
    _joint_aim_choices(form)
    if form.validate_on_submit():
        try:
            row = services.add_commitment(
                form.text.data, form.source.data or "", form.joint_aims.data or []
            )
        except Invalid as exc:
            show_invalid(form, exc)
        else:
            flash(f"Commitment {row.position} has been added", "success")
            return redirect(url_for(".commitments"))
    return render_template(
        "commitments/commitment_form.html", form=form, row=None, check=readability(form.text.data)
    )


@tenant_bp.route("/commitments/<int:commitment_number>", methods=["GET", "POST"])
@requires("officer")
def edit_commitment(commitment_number: int):
    row = get_numbered_or_404(Commitment, commitment_number)
    form = CommitmentForm(obj=row if request.method == "GET" else None)
    _joint_aim_choices(form)
    if request.method == "GET":
        form.version.data = str(row.version)
        form.joint_aims.data = aims.linked_aim_ids(row.id)
    edit = submit_edit(
        form,
        row,
        lambda version: services.update_commitment(
            row,
            text=form.text.data,
            source=form.source.data or "",
            version=version,
            joint_aim_ids=form.joint_aims.data or [],
        ),
        message=lambda: f"Commitment {row.position} has been saved",
        then=lambda: url_for(".commitments"),
    )
    if edit.saved:
        return edit.done
    return render_template(
        "commitments/commitment_form.html",
        form=form,
        row=row,
        conflict=edit.conflict,
        check=readability(form.text.data),
    )


@tenant_bp.route("/commitments/<int:commitment_number>/move", methods=["POST"])
@requires("officer")
def move_commitment(commitment_number: int):
    row = get_numbered_or_404(Commitment, commitment_number)
    form = MoveForm()
    if form.validate_on_submit() and form.direction.data in {"up", "down"}:
        services.move_commitment(row, form.direction.data)
    return redirect(url_for(".commitments"))


@tenant_bp.route("/commitments/<int:commitment_number>/delete", methods=["GET", "POST"])
@requires("officer")
def delete_commitment(commitment_number: int):
    row = get_numbered_or_404(Commitment, commitment_number)
    form = ConfirmForm()
    if form.validate_on_submit():
        services.delete_commitment(row)
        flash("The commitment has been deleted", "success")
        return redirect(url_for(".commitments"))
    return render_template("commitments/commitment_delete.html", row=row, form=form)
