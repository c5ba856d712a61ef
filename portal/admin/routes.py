"""An organisation administrator's pages: people, invitations, roles and access (the
audit trail is in audit_routes.py)."""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from portal.access import requires, tenant_blueprint
from portal.admin import services
from portal.admin.forms import InviteForm, RolesForm
from portal.auth.models import TENANT_ROLE_HINTS, TENANT_ROLES, TenantGrant, User
from portal.editing import Invalid
from portal.extensions import db
from portal.forms import ConfirmForm
from portal.once import one_time
from portal.pagination import paginate

tenant_bp = tenant_blueprint("tenant_admin", __name__, "/admin")


def get_person_or_404(user_id: int) -> User:
    """A person holding a role in the URL's tenant; anybody else is not found."""
    user = db.session.scalar(
        select(User)
        .join(TenantGrant, TenantGrant.user_id == User.id)
        .where(User.id == user_id, TenantGrant.tenant_id == g.tenant.id)
    )
    if user is None:
        abort(404)
    return user


@tenant_bp.route("/people")
@requires("manage_people")
def people():
    page = paginate(services.people_of(g.tenant))
    return render_template(
        "admin/people.html",
        page=page,
        roles=TENANT_ROLES,
        invitations=db.session.scalars(services.pending_invitations(g.tenant)).all(),
        case_access=services.case_access(g.tenant),
    )


@tenant_bp.route("/people/invite", methods=["GET", "POST"])
@requires("manage_people")
@one_time
def invite():
    form = InviteForm()
    if form.validate_on_submit():
        try:
            services.invite(
                form.email.data,
                form.name.data,
                tenant=g.tenant,
                roles=form.roles.data,
                invited_by=current_user.record,
            )
        except Invalid as exc:
            form.email.errors.append(str(exc))
        else:
            flash(f"Invitation sent to {form.email.data}", "success")
            return redirect(url_for(".people"))
    return render_template("admin/invite.html", form=form, hints=TENANT_ROLE_HINTS)


@tenant_bp.route("/people/<int:user_id>", methods=["GET", "POST"])
@requires("manage_people")
def person(user_id: int):
    user = get_person_or_404(user_id)
    form = RolesForm()
    before = user.held_roles_in(g.tenant)
    if request.method == "GET":
        form.roles.data = sorted(before)
    if form.validate_on_submit():
        try:
            after = services.check_roles_change(
                user, g.tenant, form.roles.data, changed_by=current_user.record
            )
            if after == before:
                flash(f"{user.name}'s roles are unchanged", "success")
                return redirect(url_for(".people"))
            if form.confirmed.data != "yes":
                # Nothing changes until the administrator has seen before and after.
                return render_template(
                    "admin/confirm_roles.html",
                    person=user,
                    form=form,
                    before=before,
                    after=after,
                    case_role=services.CASE_ROLE,
                )
            services.set_roles(user, g.tenant, form.roles.data, changed_by=current_user.record)
        except Invalid as exc:
            form.roles.errors.append(str(exc))
        else:
            flash(f"Roles for {user.name} have been saved", "success")
            return redirect(url_for(".people"))
    return render_template(
        "admin/person.html",
        person=user,
        form=form,
        confirm=ConfirmForm(),
        hints=TENANT_ROLE_HINTS,
        held=before,
        suspended=user.is_suspended_in(g.tenant),
        case_grant=user.grant_in(g.tenant, services.CASE_ROLE),
        elsewhere=services.works_elsewhere(user, g.tenant),
    )


@tenant_bp.route("/people/<int:user_id>/disable", methods=["POST"])
@requires("manage_people")
def disable(user_id: int):
    """Suspend the person's access to this organisation (not their account)."""
    user = get_person_or_404(user_id)
    if ConfirmForm().validate_on_submit():
        try:
            services.suspend(user, g.tenant, by=current_user.record)
        except Invalid as exc:
            flash(str(exc), "error")
            return redirect(url_for(".person", user_id=user.id))
        flash(
            f"{user.name} no longer has access to {g.tenant.name}. "
            "Their roles are kept, so that you can restore their access later.",
            "success",
        )
    return redirect(url_for(".people"))


@tenant_bp.route("/people/<int:user_id>/enable", methods=["POST"])
@requires("manage_people")
def enable(user_id: int):
    """Restore the person's access to this organisation, with the roles they held."""
    user = get_person_or_404(user_id)
    if ConfirmForm().validate_on_submit():
        try:
            services.restore(user, g.tenant, by=current_user.record)
        except Invalid as exc:
            flash(str(exc), "error")
            return redirect(url_for(".person", user_id=user.id))
        flash(f"{user.name}'s access to {g.tenant.name} has been restored", "success")
    return redirect(url_for(".people"))


@tenant_bp.route("/people/<int:user_id>/remove", methods=["POST"])
@requires("manage_people")
def remove(user_id: int):
    user = get_person_or_404(user_id)
    if ConfirmForm().validate_on_submit():
        try:
            services.remove_from_tenant(user, g.tenant, by=current_user.record)
        except Invalid as exc:
            flash(str(exc), "error")
            return redirect(url_for(".person", user_id=user.id))
        flash(f"{user.name} no longer has any role in {g.tenant.name}", "success")
    return redirect(url_for(".people"))
