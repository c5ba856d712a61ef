"""Forms for the joint report: the lead's text, and publishing."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextArea
from wtforms import SubmitField, TextAreaField
from wtforms.validators import DataRequired, Optional

from portal.forms import VersionedForm, no_longer_than, strip
from portal.reports.models import JointReport, JointReportVersion


class ReportTextForm(VersionedForm):
    foreword = TextAreaField(
        "Foreword",
        widget=GovTextArea(),
        filters=[strip],
        description="From the partnership's chair or leads. Leave a blank line between paragraphs.",
        validators=[
            DataRequired(message="Enter the foreword"),
            no_longer_than(JointReport.foreword, "Foreword"),
        ],
    )
    summary = TextAreaField(
        "Partnership summary",
        widget=GovTextArea(),
        filters=[strip],
        description="What the partnership achieved together this year, in plain words.",
        validators=[
            DataRequired(message="Enter the partnership summary"),
            no_longer_than(JointReport.summary, "Partnership summary"),
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
            no_longer_than(JointReportVersion.correction_note, "The note"),
        ],
    )
    submit = SubmitField("Publish", widget=GovSubmitInput())
