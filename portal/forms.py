"""Form pieces shared by every feature."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput
from wtforms import SubmitField


def strip(value):
    """Field filter: surrounding spaces are not content, so "  " counts as empty."""
    return value.strip() if isinstance(value, str) else value


class ConfirmForm(FlaskForm):
    """A form that is only a button (and its CSRF token): confirm, disable, delete."""

    submit = SubmitField("Confirm", widget=GovSubmitInput())
