"""Forms for an organisation's plan."""

from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Optional

from portal.commitments.models import Commitment
from portal.forms import VersionedForm, no_longer_than, strip


class CommitmentForm(VersionedForm):
    text = TextAreaField(
        "Commitment",
        widget=GovTextArea(),
        filters=[strip],
        description='Write it as your policy does, for example "We will make sure our events '
        'and activities are open to all."',
        validators=[
            DataRequired(message="Enter the commitment"),
            no_longer_than(Commitment.text, "Commitment"),
        ],
    )
    source = StringField(
        "Where it comes from (optional)",
        widget=GovTextInput(),
        filters=[strip],
        description="For example the policy's title and section",
        validators=[Optional(), no_longer_than(Commitment.source, "Source")],
    )
    # Choices are the joint aims of the organisation's partnerships, set by the route; the
    # service checks every chosen aim again, so a forged value is refused in plain words.
    joint_aims = SelectMultipleField(
        "Joint aims this commitment serves (optional)",
        widget=GovCheckboxesInput(),
        coerce=int,
        choices=[],
        validate_choice=False,
        description="Tick each aim of your partnership that this commitment helps to meet",
        validators=[Optional()],
    )
    submit = SubmitField("Save commitment", widget=GovSubmitInput())
