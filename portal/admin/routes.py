"""A tenant administrator's pages: people, roles and disabling (the audit trail is in
audit_routes.py)."""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from portal.access import requires, tenant_blueprint
from portal.admin.forms import InviteForm, RolesForm
from portal.auth import services as accounts
from portal.auth.models import TENANT_ROLE_HINTS, TENANT_ROLES, TenantGrant, User
from portal.extensions import db
from portal.forms import ConfirmForm
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
@requires("admin")
def people():
    page = paginate(accounts.people_of(g.tenant))
    return render_template("admin/people.html", page=page, roles=TENANT_ROLES)


@tenant_bp.route("/people/invite", methods=["GET", "POST"])
@requires("admin")
def invite():
    form = InviteForm()
    if form.validate_on_submit():
        try:
            accounts.invite(
                form.email.data,
                form.name.data,
                tenant=g.tenant,
                roles=form.roles.data,
                invited_by=current_user,
            )
        except accounts.AccountError as exc:
            form.email.errors.append(str(exc))
        else:
            flash(f"Invitation sent to {form.email.data}", "success")
            return redirect(url_for(".people"))
    return render_template("admin/invite.html", form=form, hints=TENANT_ROLE_HINTS)


@tenant_bp.route("/people/<int:user_id>", methods=["GET", "POST"])
@requires("admin")
def person(user_id: int):
    user = get_person_or_404(user_id)
    form = RolesForm()
    if request.method == "GET":
        form.roles.data = sorted(user.roles_in(g.tenant))
    if form.validate_on_submit():
        try:
            accounts.set_roles(user, g.tenant, form.roles.data, changed_by=current_user)
        except accounts.AccountError as exc:
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
        elsewhere=accounts.works_elsewhere(user, g.tenant),
    )


@tenant_bp.route("/people/<int:user_id>/disable", methods=["POST"])
@requires("admin")
def disable(user_id: int):
    user = get_person_or_404(user_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        if accounts.works_elsewhere(user, g.tenant):
            flash(
                f"{user.name} also works with other organisations on the portal, so their account "
                f"cannot be disabled here. Remove them from {g.tenant.name} instead.",
                "error",
            )
            return redirect(url_for(".person", user_id=user.id))
        try:
            accounts.disable(user, by=current_user, tenant=g.tenant)
        except accounts.AccountError as exc:
            flash(str(exc), "error")
            return redirect(url_for(".person", user_id=user.id))
        flash(f"{user.name}'s account has been disabled and signed out", "success")
    return redirect(url_for(".people"))


@tenant_bp.route("/people/<int:user_id>/enable", methods=["POST"])
@requires("admin")
def enable(user_id: int):
    user = get_person_or_404(user_id)
    if ConfirmForm().validate_on_submit():
        if accounts.works_elsewhere(user, g.tenant):
            flash(
                f"{user.name} also works with other organisations on the portal, so their account "
                "cannot be enabled here. Ask a portal administrator.",
                "error",
            )
            return redirect(url_for(".person", user_id=user.id))
        accounts.enable(user, tenant=g.tenant)
        flash(f"{user.name}'s account has been enabled", "success")
    return redirect(url_for(".people"))


@tenant_bp.route("/people/<int:user_id>/remove", methods=["POST"])
@requires("admin")
def remove(user_id: int):
    user = get_person_or_404(user_id)
    if ConfirmForm().validate_on_submit():
        try:
            accounts.remove_from_tenant(user, g.tenant, by=current_user)
        except accounts.AccountError as exc:
            flash(str(exc), "error")
            return redirect(url_for(".person", user_id=user.id))
        flash(f"{user.name} no longer has any role in {g.tenant.name}", "success")
    return redirect(url_for(".people"))
