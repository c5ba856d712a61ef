"""Forms of the reporting cycle. A section's own fields depend on what the member holds
(one narrative per joint aim, say), so section pages render them with the GOV.UK macros
and :mod:`portal.returns.sections` reads and checks them; these forms carry the rest."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxInput,
    GovFileInput,
    GovPasswordInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    BooleanField,
    HiddenField,
    PasswordField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import InputRequired

from portal.forms import GovDateField, VersionedForm, strip


class OpenYearForm(FlaskForm):
    start_year = SelectField("Reporting year", widget=GovSelect(), choices=[])
    deadline = GovDateField(
        "Deadline for returns",
        description="For example, 31 5 2026",
        validators=[InputRequired(message="Enter the deadline for returns")],
    )
    publication_target = GovDateField(
        "Target publication date",
        description="When the joint report should be published, for example 30 9 2026",
        validators=[InputRequired(message="Enter the target publication date")],
    )
    submit = SubmitField("Open the reporting year", widget=GovSubmitInput())


class ExtensionForm(FlaskForm):
    deadline = GovDateField(
        "New deadline",
        description="For example, 30 6 2026",
        validators=[InputRequired(message="Enter the new deadline")],
    )
    reason = TextAreaField("Reason for the extension", widget=GovTextArea(), filters=[strip])
    submit = SubmitField("Extend the deadline", widget=GovSubmitInput())


class ReasonForm(FlaskForm):
    reason = TextAreaField(
        "Reason for reopening",
        widget=GovTextArea(),
        filters=[strip],
        description="The organisation's officers and chief executive are told this reason.",
    )
    submit = SubmitField("Reopen the return", widget=GovSubmitInput())


class SectionForm(VersionedForm):
    """A section page's token and version; its fields are read from the request."""

    submit = SubmitField("Save and continue", widget=GovSubmitInput())


class CaseStudyForm(VersionedForm):
    title = StringField("Title", widget=GovTextInput(), filters=[strip])
    text = TextAreaField("Case study", widget=GovTextArea(), filters=[strip])
    image = FileField(
        "Image (optional)",
        widget=GovFileInput(),
        description="A PNG or JPEG photograph or picture, smaller than 2 MB.",
    )
    image_alt = StringField(
        "Describe the image",
        widget=GovTextInput(),
        filters=[strip],
        description="For people who cannot see it: what it shows, in a sentence.",
    )
    remove_image = BooleanField("Remove the image", widget=GovCheckboxInput())
    submit = SubmitField("Save case study", widget=GovSubmitInput())


class SignOffForm(FlaskForm):
    # The SHA-256 of the return as the page showed it: what is signed is what was read.
    seen = HiddenField()
    confirm = BooleanField("I confirm this statement", widget=GovCheckboxInput())
    name = StringField("Your name", widget=GovTextInput(), filters=[strip])
    role = StringField(
        "Your role", widget=GovTextInput(), filters=[strip], default="Chief Executive"
    )
    password = PasswordField(
        "Your password",
        widget=GovPasswordInput(),
        description="Enter your password again to sign off.",
    )
    submit = SubmitField("Sign off the return", widget=GovSubmitInput())


class SendBackForm(FlaskForm):
    comments = TextAreaField(
        "What needs to change",
        widget=GovTextArea(),
        filters=[strip],
        description="The officers are emailed your comments.",
    )
    submit = SubmitField("Send back to the officers", widget=GovSubmitInput(), name="send_back")
