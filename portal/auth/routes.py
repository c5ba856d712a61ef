"""Sign in, sign out, forgotten passwords and invitations."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user

from portal.auth import lockout, services
from portal.auth.forms import ForgotPasswordForm, LoginForm, SetPasswordForm
from portal.editing import Invalid
from portal.extensions import db, limiter
from portal.forms import ConfirmForm

bp = Blueprint("auth", __name__)


def _login_failed(response) -> bool:
    return bool(g.get("login_failed"))


def _address_limit() -> str:
    return current_app.config["LOGIN_ADDRESS_LIMIT"]


def safe_next(target: str | None) -> str | None:
    """Only follow ``next`` to a path on this site."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def landing_url(user) -> str:
    """Where a user goes after signing in: their one place, or a choice."""
    places = user.places()
    if len(places) == 1 and not user.is_portal_admin:
        kind, place = places[0]
        if kind == "tenant":
            return url_for("home.tenant_home", tenant_slug=place.slug)
        return url_for("partners.partnership_home", partnership_slug=place.slug)
    if not places and user.is_portal_admin:
        return url_for("portal_admin.index")
    return url_for("site.choose")


DISABLED_MESSAGE = "This account has been disabled. Ask your organisation's administrator."
LOCKED_MESSAGE = (
    "There have been too many failed attempts to sign in to this account. "
    "It is locked for 15 minutes. Its owner can unlock it sooner with the link we email "
    "them, or by resetting the password."
)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_address_limit, methods=["POST"], deduct_when=_login_failed)
def login():
    if current_user.is_authenticated:
        return redirect(landing_url(current_user))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        email = form.email.data
        address = request.remote_addr or ""
        if lockout.is_locked(email, address):
            # Refused before any password is hashed, whether or not the account exists.
            services.refuse_locked(email)
            error = LOCKED_MESSAGE
        else:
            result = services.authenticate(email, form.password.data)
            if result.reason == "ok":
                next_url = safe_next(request.args.get("next"))
                session.clear()
                services.start_session(result.user)
                lockout.clear_failures(email, address)
                db.session.commit()
                login_user(result.user)
                session.permanent = True
                return redirect(next_url or landing_url(result.user))
            error = {"locked": LOCKED_MESSAGE, "disabled": DISABLED_MESSAGE}.get(
                result.reason, "The email address or password is not right"
            )
            if result.reason == "bad" and lockout.record_failure(email, address):
                error = LOCKED_MESSAGE
        g.login_failed = True
        db.session.commit()
        form.email.errors = [error]
    elif request.method == "GET" and request.args.get("email"):
        form.email.data = request.args["email"][:254]
    return render_template("auth/login.html", form=form, error=error)


@bp.route("/logout", methods=["GET", "POST"])
def logout():
    form = ConfirmForm()
    if request.method == "POST" and form.validate_on_submit():
        token = current_user.get_id() if current_user.is_authenticated else None
        services.end_session(token)
        db.session.commit()
        logout_user()
        session.clear()
        flash("You have signed out", "success")
        return redirect(url_for("auth.login"))
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return render_template("auth/logout.html", form=form)


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        services.request_password_reset(form.email.data)
        return render_template("auth/reset_sent.html", email=form.email.data)
    return render_template("auth/forgot_password.html", form=form)


def _set_password_page(purpose: str, token: str, template: str):
    row = services.find_token(token, purpose)
    if row is None:
        return render_template("auth/token_invalid.html", purpose=purpose), 404
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            user = services.set_password_with_token(row, form.password.data)
        except Invalid as exc:
            form.password.errors.append(str(exc))
        else:
            if current_user.is_authenticated:
                logout_user()
            session.clear()
            flash("Your password has been saved. Sign in with your new password.", "success")
            return redirect(url_for("auth.login", email=user.email))
    return render_template(template, form=form, user=row.user)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    return _set_password_page("reset", token, "auth/reset_password.html")


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    """Accept an invitation: a new address chooses a password; an account signs in first.

    Nothing changes for the invited person until they accept here.
    """
    from portal.admin import services as people

    invitation = people.find_invitation(token)
    if invitation is None:
        # A link from `flask users create`, which only lets a new person choose a password.
        return _set_password_page("invite", token, "auth/accept_invitation.html")
    account = people.account_for(invitation)
    if account is None or not account.password_hash:
        form = SetPasswordForm()
        if form.validate_on_submit():
            try:
                user = people.accept_with_password(invitation, account, form.password.data)
            except Invalid as exc:
                db.session.rollback()
                form.password.errors.append(str(exc))
            else:
                if current_user.is_authenticated:
                    logout_user()
                session.clear()
                flash("Your password has been saved. Sign in with your new password.", "success")
                return redirect(url_for("auth.login", email=user.email))
        return render_template(
            "auth/accept_invitation.html", form=form, invitation=invitation, choose_password=True
        )
    if not current_user.is_authenticated:
        return render_template(
            "auth/accept_invitation.html",
            invitation=invitation,
            sign_in_url=url_for("auth.login", next=request.path, email=invitation.email),
        )
    if current_user.id != account.id:
        return render_template("auth/accept_invitation.html", invitation=invitation, other=True)
    form = ConfirmForm()
    error = None
    if form.validate_on_submit():
        try:
            people.accept(invitation, current_user.record)
        except Invalid as exc:
            db.session.rollback()
            error = str(exc)
        else:
            flash(f"You can now use the portal for {invitation.place.name}", "success")
            return redirect(landing_url(current_user))
    return render_template(
        "auth/accept_invitation.html", invitation=invitation, confirm=form, error=error
    )


@bp.route("/unlock/<token>", methods=["GET", "POST"])
def unlock_account(token: str):
    row = services.find_token(token, "unlock")
    if row is None:
        return render_template("auth/token_invalid.html", purpose="unlock"), 404
    form = ConfirmForm()
    if form.validate_on_submit():
        user = lockout.unlock(row)
        flash("Your account is unlocked. You can sign in now.", "success")
        return redirect(url_for("auth.login", email=user.email))
    return render_template("auth/unlock.html", form=form, user=row.user)


@bp.route("/account")
@login_required
def account():
    return render_template("auth/account.html", places=current_user.places())
