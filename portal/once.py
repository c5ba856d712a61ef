"""One-time tokens on create forms: a form sent twice makes one record.

Every create form carries a random token (added to the page by :func:`one_time`, beside
the CSRF token). The first time a token is sent it is reserved for its sender; when the
view saves and redirects to the new record, the address is kept with the token. The same
token sent again, by pressing Back and saving again or by a second identical POST, does
not run the view: it lands on the record the first one made. A form sent back with
mistakes frees its token, so the corrected form can be saved. Two copies arriving at the
same moment cannot both reserve the token (it is unique), so the second is told that the
first is being saved.
"""

from __future__ import annotations

import functools
import re
import secrets
from datetime import datetime, timedelta

from flask import flash, redirect, request
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy import ForeignKey, String, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from portal import clock
from portal.extensions import db

FIELD = "submission_token"
KEEP_FOR = timedelta(days=7)
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
_CSRF_INPUT = re.compile(r'(<input[^>]*\bname="csrf_token"[^>]*>)')


class FormSubmission(db.Model):
    """A create form's one-time token, its sender, and the record it made.

    Belongs to the person, not to an organisation: the token is random and is only ever
    looked up together with its sender, so it says nothing about anybody else's records.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    endpoint: Mapped[str] = mapped_column(String(120))
    # Where the first submission landed; empty while it is being saved.
    location: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(index=True)


def new_token() -> str:
    return secrets.token_urlsafe(24)


def hidden_field(token: str) -> Markup:
    return Markup('<input type="hidden" name="{}" value="{}">').format(FIELD, escape(token))


def _with_token(response, token: str):
    """The page with the token beside every CSRF token of its forms."""
    if response.mimetype != "text/html" or response.direct_passthrough:
        return response
    page = response.get_data(as_text=True)
    field = str(hidden_field(token))
    response.set_data(_CSRF_INPUT.sub(lambda m: m.group(1) + field, page))
    return response


def _reserve(token: str) -> FormSubmission | None:
    """Reserve ``token`` for the current user; the earlier row if it was sent before."""
    earlier = db.session.scalar(select(FormSubmission).where(FormSubmission.token == token))
    if earlier is not None:
        return earlier
    now = clock.utcnow()
    db.session.execute(delete(FormSubmission).where(FormSubmission.created_at < now - KEEP_FOR))
    db.session.add(
        FormSubmission(
            token=token, user_id=current_user.id, endpoint=request.endpoint or "", created_at=now
        )
    )
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return db.session.scalar(select(FormSubmission).where(FormSubmission.token == token))
    return None


def one_time(view):
    """Make a create view's form one-time (see the module's description)."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        submitted = request.form.get(FIELD, "") if request.method == "POST" else ""
        if not _TOKEN.match(submitted):
            # A form without a token (sent from elsewhere) is saved as it is.
            return _with_token(_response(view(*args, **kwargs)), new_token())
        earlier = _reserve(submitted)
        if earlier is not None:
            if earlier.user_id != current_user.id:
                return _with_token(_response(view(*args, **kwargs)), new_token())
            if earlier.location:
                flash("This was saved when you first sent it, so it has not been saved again")
                return redirect(earlier.location)
            flash(
                "This form is already being saved. Check that it was saved before sending it again"
            )
            return redirect(request.url)
        try:
            response = _response(view(*args, **kwargs))
        except Exception:
            db.session.rollback()
            _release(submitted)
            raise
        row = db.session.scalar(select(FormSubmission).where(FormSubmission.token == submitted))
        if response.status_code in (301, 302, 303) and row is not None:
            row.location = response.location[:500]
            db.session.commit()
            return response
        _release(submitted)
        return _with_token(response, submitted)

    wrapper.one_time = True
    return wrapper


def _release(token: str) -> None:
    db.session.execute(delete(FormSubmission).where(FormSubmission.token == token))
    db.session.commit()


def _response(result):
    from flask import make_response

    return make_response(result)
