"""Flask-Login wiring: the cookie holds a session token, the server decides if it lives."""

from __future__ import annotations

from flask import Flask, flash, redirect, request, session, url_for

from portal.auth import services
from portal.extensions import login_manager


def init_app(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Sign in to continue"
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(token: str):
        user = services.load_session(token)
        if user is None:
            session.pop("_user_id", None)
        return user

    @login_manager.unauthorized_handler
    def unauthorized():
        if request.blueprint and request.method == "GET":
            flash("Sign in to continue", "info")
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        flash("Sign in to continue", "info")
        return redirect(url_for("auth.login"))
