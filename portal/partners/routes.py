"""Portal administration (partnerships and organisations) and the partnership home page."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from portal.access import partnership_blueprint, requires_portal_admin
from portal.admin import services as people
from portal.dashboards.services import partnership_dashboard
from portal.editing import Invalid
from portal.extensions import db
from portal.once import one_time
from portal.partners import services
from portal.partners.forms import InviteAdminForm, PartnershipForm, TenantForm
from portal.partners.models import Partnership, Tenant

bp = Blueprint("portal_admin", __name__, url_prefix="/admin")
partnership_bp = partnership_blueprint("partners", __name__)


@partnership_bp.route("/")
def partnership_home():
    """The lead's home: the partnership dashboard, for the filters in the address."""
    dashboard = partnership_dashboard(g.partnership, request.args)
    return render_template(
        "dashboards/partnership.html",
        dashboard=dashboard,
        member_rows=[[m.name, m.kind_label] for m in g.partnership.members],
    )


@bp.route("/")
@requires_portal_admin
def index():
    return render_template(
        "partners/admin_index.html",
        partnerships=db.session.scalars(services.all_partnerships()).all(),
        tenants=db.session.scalars(services.all_tenants()).all(),
    )


@bp.route("/partnerships/new", methods=["GET", "POST"])
@requires_portal_admin
@one_time
def new_partnership():
    form = PartnershipForm()
    if form.validate_on_submit():
        try:
            partnership = services.create_partnership(
                form.slug.data, form.name.data, form.description.data or ""
            )
        except Invalid as exc:
            form.slug.errors.append(exc.message)
        else:
            flash(f"{partnership.name} has been created", "success")
            return redirect(url_for(".index"))
    return render_template("partners/partnership_form.html", form=form)


@bp.route("/organisations/new", methods=["GET", "POST"])
@requires_portal_admin
@one_time
def new_tenant():
    form = TenantForm()
    partnerships = db.session.scalars(services.all_partnerships()).all()
    form.partnerships.choices = [(p.id, p.name) for p in partnerships]
    if form.validate_on_submit():
        chosen = [p for p in partnerships if p.id in (form.partnerships.data or [])]
        try:
            tenant = services.create_tenant(
                form.slug.data,
                form.name.data,
                form.kind.data,
                partnerships=chosen,
                alternative_formats=form.alternative_formats.data or "",
            )
        except Invalid as exc:
            form.slug.errors.append(exc.message)
        else:
            flash(
                f"{tenant.name} has been created. Now invite its first organisation administrator.",
                "success",
            )
            return redirect(url_for(".invite_tenant_admin", tenant_id=tenant.id))
    return render_template("partners/tenant_form.html", form=form)


@bp.route("/organisations/<int:tenant_id>/invite", methods=["GET", "POST"])
@requires_portal_admin
@one_time
def invite_tenant_admin(tenant_id: int):
    tenant = db.session.get(Tenant, tenant_id) or abort(404)
    form = InviteAdminForm()
    if form.validate_on_submit():
        try:
            # The inviter is never added: the portal administrator holds no tenant role.
            people.invite(
                form.email.data,
                form.name.data,
                tenant=tenant,
                roles=["admin"],
                invited_by=current_user.record,
            )
        except Invalid as exc:
            form.email.errors.append(str(exc))
        else:
            flash(f"Invitation sent to {form.email.data}", "success")
            return redirect(url_for(".index"))
    return render_template("partners/invite_admin.html", form=form, place=tenant, kind="tenant")


@bp.route("/partnerships/<int:partnership_id>/invite", methods=["GET", "POST"])
@requires_portal_admin
@one_time
def invite_partnership_lead(partnership_id: int):
    partnership = db.session.get(Partnership, partnership_id) or abort(404)
    form = InviteAdminForm()
    if form.validate_on_submit():
        try:
            people.invite(
                form.email.data,
                form.name.data,
                partnership=partnership,
                invited_by=current_user.record,
            )
        except Invalid as exc:
            form.email.errors.append(str(exc))
        else:
            flash(f"Invitation sent to {form.email.data}", "success")
            return redirect(url_for(".index"))
    return render_template(
        "partners/invite_admin.html", form=form, place=partnership, kind="partnership"
    )
