"""Published joint assessments of a partnership, for anybody: no sign-in.

They live under ``/public/p/<partnership>/eqia/`` and show only what was kept when the
lead published each assessment, so no member organisation's rows are read here.
"""

from __future__ import annotations

from flask import Blueprint, abort, g, render_template
from sqlalchemy import select

from portal import tenancy
from portal.eqia import services
from portal.eqia.models import JointAssessment
from portal.extensions import db
from portal.partners.models import Partnership

bp = Blueprint("public_joint_eqia", __name__, url_prefix="/public/p/<partnership_slug>/eqia")


@bp.url_value_preprocessor
def _pull_partnership(endpoint, values) -> None:
    slug = (values or {}).pop("partnership_slug", None)
    partnership = db.session.scalar(select(Partnership).where(Partnership.slug == slug))
    if partnership is None:
        abort(404)
    g.public_partnership = partnership
    # Its joint assessments are partnership-owned: visible here, never written.
    tenancy.show_partnership(partnership)


@bp.url_defaults
def _add_slug(endpoint, values) -> None:
    if "public_partnership" in g and "partnership_slug" not in values:
        values["partnership_slug"] = g.public_partnership.slug


@bp.route("/")
def register():
    rows = db.session.scalars(services.published_joint_assessments(g.public_partnership)).all()
    return render_template(
        "eqia/public_joint_register.html", rows=rows, partnership=g.public_partnership
    )


@bp.route("/<int:joint_id>")
def assessment(joint_id: int):
    row = db.session.scalar(
        services.published_joint_assessments(g.public_partnership).where(
            JointAssessment.id == joint_id
        )
    )
    if row is None:
        abort(404)
    return render_template(
        "eqia/public_joint.html",
        joint=row,
        content=row.published_content,
        partnership=g.public_partnership,
    )
