"""Forms for the joint report: the lead's text, and publishing."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextArea
from wtforms import SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from portal.forms import VersionedForm, strip
from portal.reports.services import NOTE_LIMIT, TEXT_LIMIT


class ReportTextForm(VersionedForm):
    foreword = TextAreaField(
        "Foreword",
        widget=GovTextArea(),
        filters=[strip],
        description="From the partnership's chair or leads. Leave a blank line between paragraphs.",
        validators=[
            DataRequired(message="Enter the foreword"),
            Length(max=TEXT_LIMIT, message=f"Foreword must be {TEXT_LIMIT:,} characters or fewer"),
        ],
    )
    summary = TextAreaField(
        "Partnership summary",
        widget=GovTextArea(),
        filters=[strip],
        description="What the partnership achieved together this year, in plain words.",
        validators=[
            DataRequired(message="Enter the partnership summary"),
            Length(
                max=TEXT_LIMIT,
                message=f"Partnership summary must be {TEXT_LIMIT:,} characters or fewer",
            ),
        ],
    )
    submit = SubmitField("Save", widget=GovSubmitInput())


class PublishForm(FlaskForm):
    note = TextAreaField(
        "What this correction changes",
        widget=GovTextArea(),
        filters=[strip],
        description="Shown with the new version, so readers know what is different.",
        validators=[
            Optional(),
            Length(max=NOTE_LIMIT, message=f"The note must be {NOTE_LIMIT:,} characters or fewer"),
        ],
    )
    submit = SubmitField("Publish", widget=GovSubmitInput())
