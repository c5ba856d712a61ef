"""Form pieces shared by every feature."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovDateInput, GovSubmitInput
from wtforms import DateField, HiddenField, SubmitField
from wtforms.validators import Length

from portal.models import limit

MAX_ID = 2**31 - 1


def parse_id(value) -> int | None:
    """An id sent in a form or address: plain digits within the database's integer range.

    Anything else ("²", "-1", "1e3", a 30-digit number) is None, so callers answer in words
    instead of failing on a number the database cannot hold.
    """
    text = str(value).strip() if value is not None else ""
    if not text.isascii() or not text.isdecimal() or len(text) > len(str(MAX_ID)):
        return None
    number = int(text)
    return number if 0 < number <= MAX_ID else None


def with_prompt(prompt: str, choices: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """A drop-down's choices led by a blank option that says what to choose
    ("Choose a focus point"), never a bare "None". Leaving it chosen sends nothing."""
    return [("", prompt), *choices]


def strip(value):
    """Field filter: surrounding spaces are not content, so "  " counts as empty."""
    return value.strip() if isinstance(value, str) else value


def no_longer_than(column, what: str) -> Length:
    """A form's length rule for a model's column: the limit declared on the model, the
    message in words ("Objective must be 2,000 characters or fewer")."""
    most = limit(column)
    return Length(max=most, message=f"{what} must be {most:,} characters or fewer")


class VersionedForm(FlaskForm):
    """A form that edits a versioned record: it carries the version it was opened at."""

    version = HiddenField()

    def version_number(self) -> int | None:
        """The version the form was opened at, or None if the field was tampered with."""
        return parse_id(self.version.data)


class ConfirmForm(FlaskForm):
    """A form that is only a button (and its CSRF token): confirm, disable, delete."""

    submit = SubmitField("Confirm", widget=GovSubmitInput())


class GovDateField(DateField):
    """A day, month and year date in three boxes, with a plain-English message for a date
    that does not exist. Any number of parts other than three (a crafted request) is
    refused in words, never a crash: the widget always gets three boxes to show."""

    widget = GovDateInput()

    def __init__(self, label=None, validators=None, message=None, **kwargs):
        super().__init__(label, validators, format="%d %m %Y", **kwargs)
        self.invalid_message = message

    def process_formdata(self, valuelist):
        parts = [str(v).strip() for v in valuelist]
        self.raw_data = (parts + ["", "", ""])[:3]
        if not any(parts):
            self.data = None
            return
        self.data = None
        if len(parts) != 3:
            raise ValueError(self._message())
        try:
            self.data = datetime.strptime(" ".join(parts), "%d %m %Y").date()
        except ValueError:
            raise ValueError(self._message()) from None

    def _message(self) -> str:
        return (
            self.invalid_message or f"{self.label.text} must be a real date, for example 27 3 2026"
        )
