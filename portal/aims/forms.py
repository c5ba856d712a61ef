"""Forms for the joint aims framework."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextArea, GovTextInput
from wtforms import StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Optional, Regexp

from portal.aims.models import (
    AimMeasure,
    JointAim,
    PartnershipRole,
    PeriodStatement,
    PlanPeriod,
    RoleListItem,
)
from portal.forms import VersionedForm, no_longer_than, strip

YEAR = r"^\d{4}$"


def _year(label: str, example: int) -> StringField:
    noun = label.lower()
    return StringField(
        label,
        widget=GovTextInput(),
        filters=[strip],
        description=f"For example, {example}",
        validators=[
            DataRequired(message=f"Enter the {noun}"),
            Regexp(YEAR, message=f"Enter the {noun} as 4 digits, for example {example}"),
        ],
    )


def _title() -> StringField:
    return StringField(
        "Title",
        widget=GovTextInput(),
        filters=[strip],
        description='For example, "Our Aims and Commitments for 2012-16"',
        validators=[
            DataRequired(message="Enter the title"),
            no_longer_than(PlanPeriod.title, "Title"),
        ],
    )


class PeriodForm(VersionedForm):
    title = _title()
    start_year = _year("Start year", 2012)
    end_year = _year("End year", 2016)
    introduction = TextAreaField(
        "Introduction (optional)",
        widget=GovTextArea(),
        filters=[strip],
        description="Leave a blank line between paragraphs",
        validators=[
            Optional(),
            no_longer_than(PlanPeriod.introduction, "Introduction"),
        ],
    )
    alternative_formats = TextAreaField(
        "Alternative formats note (optional)",
        widget=GovTextArea(),
        filters=[strip],
        description="How people can ask for this document in large print or another format",
        validators=[
            Optional(),
            no_longer_than(PlanPeriod.alternative_formats, "Alternative formats note"),
        ],
    )
    submit = SubmitField("Save plan period", widget=GovSubmitInput())


class CopyPeriodForm(FlaskForm):
    title = _title()
    start_year = _year("Start year", 2016)
    end_year = _year("End year", 2020)
    submit = SubmitField("Copy into a new plan period", widget=GovSubmitInput())


class RoleForm(VersionedForm):
    name = StringField(
        "Role",
        widget=GovTextInput(),
        filters=[strip],
        description='For example, "As a Community Leader we will:"',
        validators=[
            DataRequired(message="Enter the role"),
            no_longer_than(PartnershipRole.name, "Role"),
        ],
    )
    lead_in = TextAreaField(
        "What the partners will work together to do (optional)",
        widget=GovTextArea(),
        filters=[strip],
        description='For example, "Work together to make sure our customers experience good '
        'customer service by:"',
        validators=[
            Optional(),
            no_longer_than(PartnershipRole.lead_in, "The lead-in"),
        ],
    )
    submit = SubmitField("Save role", widget=GovSubmitInput())


def _text_form(
    name: str, column, label: str, noun: str, hint: str, button: str
) -> type[VersionedForm]:
    """A form with one required text field, for the framework's ordered lists."""
    text = TextAreaField(
        label,
        widget=GovTextArea(),
        filters=[strip],
        description=hint,
        validators=[
            DataRequired(message=f"Enter the {noun}"),
            no_longer_than(column, label),
        ],
    )
    return type(
        name,
        (VersionedForm,),
        {"text": text, "submit": SubmitField(button, widget=GovSubmitInput()), "noun": noun},
    )


ListItemForm = _text_form(
    "ListItemForm",
    RoleListItem.text,
    "List entry",
    "list entry",
    'One entry of the "by:" list, for example "Giving information and advice in suitable ways;"',
    "Save list entry",
)
AimForm = _text_form(
    "AimForm",
    JointAim.text,
    "Joint aim",
    "joint aim",
    'For example, "We will improve the way we give information."',
    "Save joint aim",
)
MeasureForm = _text_form(
    "MeasureForm",
    AimMeasure.text,
    "Measure",
    "measure",
    'How we will measure our results, for example "We will check we are using clear and '
    'concise language."',
    "Save measure",
)
StatementForm = _text_form(
    "StatementForm",
    PeriodStatement.text,
    "Statement",
    "statement",
    'For example, "We will produce joint annual reports setting out what we have done '
    'against these aims and commitments."',
    "Save statement",
)
