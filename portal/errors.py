"""GOV.UK-style error pages. They never show a stack trace or another tenant's name."""

from __future__ import annotations

from flask import Flask, g, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from portal.extensions import db

TITLES = {
    400: "Sorry, there is a problem with the request",
    403: "You do not have permission to see this page",
    404: "Page not found",
    405: "Sorry, that cannot be done here",
    409: "Somebody else changed this at the same time",
    413: "The file is too big",
    429: "Too many attempts",
    500: "Sorry, there is a problem with the service",
    503: "Sorry, the service is unavailable",
}


def _render(code: int, template: str = "errors/error.html", **context):
    return render_template(
        template, code=code, title=TITLES.get(code, TITLES[500]), **context
    ), code


def init_app(app: Flask) -> None:
    @app.errorhandler(StaleDataError)
    def edit_race(exc):
        # Two saves of one record reached the database together; where a service did not
        # turn that into a side-by-side comparison, say so plainly: nothing was saved.
        db.session.rollback()
        return _render(409, "errors/conflict.html")

    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        return _render(400, "errors/csrf.html")

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        code = exc.code or 500
        if code == 429 and request.endpoint == "auth.login":
            from portal.auth.forms import LoginForm

            form = LoginForm()
            message = (
                "There have been too many attempts to sign in from your network. "
                "Wait 15 minutes, then try again."
            )
            form.email.errors = [message]
            return render_template("auth/login.html", form=form, error=message), 429
        return _render(code)

    @app.errorhandler(Exception)
    def server_error(exc: Exception):
        if isinstance(exc, HTTPException):
            return http_error(exc)
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        db.session.rollback()
        g.pop("tenant", None)  # the error page must not name the tenant of a failed request
        return _render(500)
