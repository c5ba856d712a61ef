"""Forms for measures, their figures, and the partnership's disclosure rule."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from govuk_frontend_wtf.wtforms_widgets import (
    GovFileInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from portal.disclosure import MIN_ROUNDING, MIN_THRESHOLD
from portal.forms import VersionedForm, no_longer_than, strip
from portal.monitoring import categories, periods, targets
from portal.monitoring.models import UNITS, FigureRelease, Measure, MeasureDefinition

OWN = "own"


class WholeNumberField(IntegerField):
    """A whole number; anything else gets ``number_message`` instead of WTForms' words."""

    def __init__(self, *args, number_message: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.number_message = number_message

    def process_formdata(self, valuelist):
        self.data = None
        if valuelist and valuelist[0].strip():
            try:
                self.data = int(valuelist[0].strip())
            except ValueError:
                raise ValueError(self.number_message) from None


class _TargetFields:
    """A target for the measure's total, which way is better, and where red begins."""

    target_value = StringField(
        "Target (optional)",
        widget=GovTextInput(),
        filters=[strip],
        description="For the measure's total, for example 75 for 75%",
        validators=[Optional(), Length(max=30, message="Enter the target as a number, like 75")],
    )
    target_direction = RadioField(
        "Which way is better?",
        widget=GovRadioInput(),
        choices=list(targets.DIRECTIONS.items()),
        validators=[Optional()],
    )
    amber_threshold = StringField(
        "Amber threshold (optional)",
        widget=GovTextInput(),
        filters=[strip],
        description="A figure that misses the target is amber as far as this, and red beyond it. "
        "Leave it empty to show every miss as amber",
        validators=[Optional(), Length(max=30, message="Enter the threshold as a number, like 60")],
    )

    def target_data(self) -> dict:
        return {
            "target_value": self.target_value.data or None,
            "target_direction": self.target_direction.data or "",
            "amber_threshold": self.amber_threshold.data or None,
        }


class MeasureForm(_TargetFields, FlaskForm):
    definition = RadioField(
        "Which measure?",
        widget=GovRadioInput(),
        validators=[InputRequired(message="Choose a measure, or describe your own")],
    )
    name = StringField(
        "Name of your own measure",
        widget=GovTextInput(),
        filters=[strip],
        validators=[Optional(), no_longer_than(Measure.name, "Name")],
    )
    unit = RadioField(
        "What it counts (for your own measure)",
        widget=GovRadioInput(),
        choices=list(UNITS.items()),
        validators=[Optional()],
    )
    period_type = RadioField(
        "How often it is measured (for your own measure)",
        widget=GovRadioInput(),
        choices=list(periods.PERIOD_TYPES.items()),
        validators=[Optional()],
    )
    breakdown = SelectField(
        "Broken down by",
        widget=GovSelect(),
        description="Measures built in “by protected characteristic” need one. Add the measure "
        "again for each characteristic you report.",
        choices=[("", "No breakdown"), *categories.CHOICES],
        validators=[Optional()],
    )
    description = TextAreaField(
        "What it means (optional)",
        widget=GovTextArea(),
        filters=[strip],
        validators=[Optional(), no_longer_than(Measure.description, "What it means")],
    )
    first_year = WholeNumberField(
        "First year of the plan",
        number_message="First year of the plan must be a year, like 2017",
        widget=GovTextInput(),
        description="The year its first April falls in, for example 2017 for April 2017 "
        "to March 2018",
        validators=[
            InputRequired(message="Enter the first year of the plan"),
            NumberRange(2000, 2100, message="Enter a year between 2000 and 2100"),
        ],
    )
    last_year = WholeNumberField(
        "Last year of the plan",
        number_message="Last year of the plan must be a year, like 2020",
        widget=GovTextInput(),
        description="For example 2020 for a plan that ends in March 2021",
        validators=[
            InputRequired(message="Enter the last year of the plan"),
            NumberRange(2000, 2100, message="Enter a year between 2000 and 2100"),
        ],
    )
    submit = SubmitField("Add measure", widget=GovSubmitInput())


class GridForm(FlaskForm):
    """The figures grid: its inputs are read by name, this form carries the CSRF token."""

    submit = SubmitField("Save figures", widget=GovSubmitInput())


class ImportForm(FlaskForm):
    file = FileField(
        "CSV or Excel file",
        widget=GovFileInput(),
        description="A CSV file or an Excel workbook (.xlsx) with the columns period, "
        "category, value. Leave the category empty for the total.",
        validators=[FileRequired(message="Choose a CSV or Excel file to import")],
    )
    submit = SubmitField("Import figures", widget=GovSubmitInput())


class RuleForm(FlaskForm):
    threshold = WholeNumberField(
        "Show counts below this as “fewer than …”",
        number_message="Enter the threshold as a whole number, like 8",
        widget=GovTextInput(),
        validators=[
            InputRequired(message="Enter the threshold as a whole number, like 8"),
            NumberRange(
                MIN_THRESHOLD,
                100,
                message=f"The threshold must be between {MIN_THRESHOLD} and 100: the rule can "
                "only be made stricter than the portal's",
            ),
        ],
    )
    rounding = WholeNumberField(
        "Round other counts to the nearest",
        number_message="Enter the rounding as a whole number, like 5",
        widget=GovTextInput(),
        validators=[
            InputRequired(message="Enter the rounding as a whole number, like 5"),
            NumberRange(
                MIN_ROUNDING,
                100,
                message=f"The rounding must be between {MIN_ROUNDING} and 100: the rule can "
                "only be made stricter than the portal's",
            ),
        ],
    )
    submit = SubmitField("Save the rule", widget=GovSubmitInput())


class _ShapeFields(VersionedForm):
    name = StringField(
        "Name",
        widget=GovTextInput(),
        filters=[strip],
        validators=[
            DataRequired(message="Enter the measure's name"),
            no_longer_than(Measure.name, "Name"),
        ],
    )
    unit = RadioField(
        "What it counts",
        widget=GovRadioInput(),
        choices=list(UNITS.items()),
        validators=[InputRequired(message="Choose what the measure counts")],
    )
    period_type = RadioField(
        "How often it is measured",
        widget=GovRadioInput(),
        choices=list(periods.PERIOD_TYPES.items()),
        validators=[InputRequired(message="Choose how often it is measured")],
    )
    breakdown = SelectField(
        "Broken down by",
        widget=GovSelect(),
        choices=[("", "No breakdown"), *categories.CHOICES],
        validators=[Optional()],
    )
    description = TextAreaField(
        "What it means (optional)",
        widget=GovTextArea(),
        filters=[strip],
        validators=[Optional(), no_longer_than(Measure.description, "What it means")],
    )
    first_year = MeasureForm.first_year
    last_year = MeasureForm.last_year


class MeasureEditForm(_TargetFields, _ShapeFields):
    """Change a measure. Fields a built-in or joint measure fixes are not shown and are
    taken from the measure by the route."""

    submit = SubmitField("Save changes", widget=GovSubmitInput())


NO_LINK = ""


class JointMeasureForm(_ShapeFields):
    """A measure a partnership asks its members to report."""

    # Choices are set by the route from the partnership's own records; the service checks
    # the chosen one again.
    aim_measure = SelectField(
        "Which aim's measure it answers (optional)",
        widget=GovSelect(),
        description="One of the partnership's answers to “How will we measure our results?”",
        choices=[],
        validate_choice=False,
        validators=[Optional()],
    )
    whole_name = StringField(
        "For a percentage: out of how many?",
        widget=GovTextInput(),
        filters=[strip],
        description="Name the whole the percentage is of, for example “Customers who "
        "answered the survey”. A percentage is shared as two counts, so that small groups "
        "stay hidden: members report how many (this measure) and out of how many (this "
        "whole), and the partnership sees the percentage worked out from the two rounded "
        "counts. Leave empty for other units.",
        validators=[
            Optional(),
            no_longer_than(MeasureDefinition.name, "The name"),
        ],
    )
    base = SelectField(
        "Part of another joint measure (optional)",
        widget=GovSelect(),
        description="For a count that is part of another count, such as satisfied "
        "customers out of all who answered. The partnership then sees the percentage "
        "worked out from the two rounded counts.",
        choices=[],
        validate_choice=False,
        validators=[Optional()],
    )
    submit = SubmitField("Save joint measure", widget=GovSubmitInput())

    def chosen_id(self, field) -> int | None:
        """The id chosen in a select, None for no choice, or -1 for a value that is not an
        id (the service then refuses it in plain words)."""
        try:
            return int(field.data) if field.data else None
        except (TypeError, ValueError):
            return -1


class CorrectionForm(FlaskForm):
    """An officer's request to release corrected figures in place of the release in force."""

    period = HiddenField()
    seen_version = HiddenField()
    reason = TextAreaField(
        "Why are the released figures being corrected?",
        description="The partnership sees the corrected figures; your organisation's audit "
        "trail keeps this reason with the figures before and after.",
        filters=[strip],
        widget=GovTextArea(),
        validators=[
            DataRequired(message="Say why the released figures are being corrected"),
            no_longer_than(FigureRelease.trigger_detail, "The reason"),
        ],
    )
    submit = SubmitField("Release the corrected figures", widget=GovSubmitInput())
