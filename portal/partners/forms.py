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
    Optional,
    Regexp,
    ValidationError,
)

from portal.auth.models import Invitation
from portal.forms import no_longer_than, strip
from portal.partners.models import TENANT_KINDS, Partnership, Tenant
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
        validators=[
            DataRequired(message="Enter the partnership's name"),
            no_longer_than(Partnership.name, "Name"),
        ],
    )
    slug = StringField(
        "Short name for web addresses",
        widget=GovTextInput(),
        description="For example west-kent. It appears in addresses like /p/west-kent/",
        validators=[
            InputRequired(message="Enter a short name"),
            no_longer_than(Partnership.slug, "Short name"),
            SLUG_RULE,
        ],
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
        validators=[
            DataRequired(message="Enter the organisation's name"),
            no_longer_than(Tenant.name, "Name"),
        ],
    )
    slug = StringField(
        "Short name for web addresses",
        widget=GovTextInput(),
        description="For example tunbridge-wells. It appears in addresses like /t/tunbridge-wells/",
        validators=[
            InputRequired(message="Enter a short name"),
            no_longer_than(Tenant.slug, "Short name"),
            SLUG_RULE,
        ],
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
        validators=[Optional(), no_longer_than(Tenant.alternative_formats, "The contact")],
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
        validators=[
            DataRequired(message="Enter the person's full name"),
            no_longer_than(Invitation.name, "Full name"),
        ],
    )
    email = EmailField(
        "Email address",
        widget=GovTextInput(),
        validators=[
            InputRequired(message="Enter the person's email address"),
            Email(message="Enter an email address in the right format, like name@example.org"),
            no_longer_than(Invitation.email, "Email address"),
        ],
    )
    submit = SubmitField("Send invitation", widget=GovSubmitInput())
