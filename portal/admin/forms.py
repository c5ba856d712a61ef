"""Forms for a tenant's administrators."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovCheckboxesInput, GovSubmitInput, GovTextInput
from wtforms import EmailField, HiddenField, SelectMultipleField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, InputRequired

from portal.auth.models import TENANT_ROLES, Invitation
from portal.forms import no_longer_than, strip


def role_choices() -> list[tuple[str, str]]:
    return list(TENANT_ROLES.items())


class RolesField(SelectMultipleField):
    def __init__(self, label="Roles", **kwargs):
        super().__init__(
            label,
            widget=GovCheckboxesInput(),
            choices=role_choices(),
            validators=[InputRequired(message="Choose at least one role")],
            **kwargs,
        )


class InviteForm(FlaskForm):
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
    roles = RolesField("What may they do?")
    submit = SubmitField("Send invitation", widget=GovSubmitInput())


class RolesForm(FlaskForm):
    roles = RolesField("What may they do?")
    # "yes" once the administrator has seen the roles before and after the change.
    confirmed = HiddenField()
    submit = SubmitField("Save roles", widget=GovSubmitInput())
