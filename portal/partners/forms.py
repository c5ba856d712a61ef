"""Portal administrator forms: partnerships, organisations and their first people."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovRadioInput,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    EmailField,
    RadioField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    Optional,
    Regexp,
    ValidationError,
)

from portal.forms import strip
from portal.partners.models import TENANT_KINDS
from portal.partners.services import gives_contact

SLUG_RULE = Regexp(
    r"^[a-z0-9]+(?:-[a-z0-9]+)*$",
    message="Short name must be lower-case letters, numbers and single hyphens, "
    "like tunbridge-wells",
)


class PartnershipForm(FlaskForm):
    name = StringField(
        "Name",
        widget=GovTextInput(),
        filters=[strip],
        validators=[DataRequired(message="Enter the partnership's name"), Length(max=200)],
    )
    slug = StringField(
        "Short name for web addresses",
        widget=GovTextInput(),
        description="For example west-kent. It appears in addresses like /p/west-kent/",
        validators=[InputRequired(message="Enter a short name"), Length(max=60), SLUG_RULE],
    )
    description = TextAreaField(
        "Description (optional)", widget=GovTextArea(), validators=[Optional()]
    )
    submit = SubmitField("Create partnership", widget=GovSubmitInput())


class TenantForm(FlaskForm):
    name = StringField(
        "Name",
        widget=GovTextInput(),
        filters=[strip],
        validators=[DataRequired(message="Enter the organisation's name"), Length(max=200)],
    )
    slug = StringField(
        "Short name for web addresses",
        widget=GovTextInput(),
        description="For example tunbridge-wells. It appears in addresses like /t/tunbridge-wells/",
        validators=[InputRequired(message="Enter a short name"), Length(max=60), SLUG_RULE],
    )
    kind = RadioField(
        "Kind of organisation",
        widget=GovRadioInput(),
        choices=list(TENANT_KINDS.items()),
        validators=[InputRequired(message="Choose what kind of organisation it is")],
    )
    partnerships = SelectMultipleField(
        "Partnerships it belongs to",
        widget=GovCheckboxesInput(),
        coerce=int,
        validators=[Optional()],
    )
    alternative_formats = TextAreaField(
        "Contact for documents in other formats (optional)",
        description="A phone number or email address people can use to ask for a document "
        "in large print or another format. It is shown at the foot of the organisation's pages.",
        widget=GovTextArea(),
        validators=[Optional(), Length(max=1000)],
    )
    submit = SubmitField("Create organisation", widget=GovSubmitInput())

    def validate_alternative_formats(self, field) -> None:
        if (field.data or "").strip() and not gives_contact(field.data):
            raise ValidationError("Give a phone number or an email address in the contact")


class InviteAdminForm(FlaskForm):
    name = StringField(
        "Full name",
        widget=GovTextInput(),
        filters=[strip],
        validators=[DataRequired(message="Enter the person's full name"), Length(max=200)],
    )
    email = EmailField(
        "Email address",
        widget=GovTextInput(),
        validators=[
            InputRequired(message="Enter the person's email address"),
            Email(message="Enter an email address in the right format, like name@example.org"),
            Length(max=254),
        ],
    )
    submit = SubmitField("Send invitation", widget=GovSubmitInput())
