"""Forms for the hate-incident register."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovSelect,
    GovSubmitInput,
    GovTextInput,
)
from wtforms import IntegerField, SelectField, SelectMultipleField, SubmitField
from wtforms.validators import InputRequired, NumberRange, StopValidation

from portal.eqia.forms import ChoiceField, GovDateField, VersionedForm, text_area, text_field
from portal.incidents.models import (
    EARLIEST_INCIDENT_DATE,
    HOW_REPORTED,
    INCIDENT_TYPES,
    MOTIVATIONS,
    STATUSES,
    HateIncident,
    Ward,
)


class MotivationsField(SelectMultipleField):
    widget = GovCheckboxesInput()

    def pre_validate(self, form):
        if not self.data or set(self.data) - set(MOTIVATIONS):
            raise StopValidation("Choose at least one motivation")


class WardField(SelectField):
    """The ward, from the organisation's list; choices are set by the page."""

    widget = GovSelect()

    def pre_validate(self, form):
        if not self.data or self.data not in {value for value, _ in self.choices}:
            raise StopValidation("Choose the ward where it happened")


class IncidentForm(VersionedForm):
    occurred_on = GovDateField(
        "Date of the incident",
        description=f"From {EARLIEST_INCIDENT_DATE.day} {EARLIEST_INCIDENT_DATE:%B %Y} to today, "
        "for example 27 3 2024",
        validators=[InputRequired(message="Enter the date of the incident")],
    )
    motivations = MotivationsField(
        "Motivation",
        description="The protected characteristics the incident was motivated by. "
        "Choose all that apply.",
        choices=list(MOTIVATIONS.items()),
    )
    incident_type = ChoiceField(
        "Type of incident", list(INCIDENT_TYPES.items()), "Choose the type of incident"
    )
    ward_id = WardField(
        "Ward",
        description="Where it happened. A ward missing from the list can be added on the "
        "list of wards.",
        choices=[],
    )
    how_reported = ChoiceField(
        "How it was reported", list(HOW_REPORTED.items()), "Choose how it was reported"
    )
    person_details = text_area(
        "Person affected and how to contact them (optional)",
        HateIncident.person_details,
        description="Removed when the record is anonymised at the end of its retention period",
    )
    description = text_area(
        "What happened", HateIncident.description, required="Enter what happened"
    )
    support_offered = text_area("Support offered (optional)", HateIncident.support_offered)
    police_referral = ChoiceField(
        "Referred to the police?",
        [("yes", "Yes"), ("no", "No")],
        "Say whether it was referred to the police",
    )
    police_reference = text_field("Police reference (optional)", HateIncident.police_reference)
    actions = text_area("Actions taken (optional)", HateIncident.actions)
    status = ChoiceField(
        "Status", list(STATUSES.items()), "Choose whether the case is open or closed"
    )
    outcome = text_area("Outcome (needed to close the case)", HateIncident.outcome)
    submit = SubmitField("Save case", widget=GovSubmitInput())

    def data_for_service(self) -> dict:
        return {
            "occurred_on": self.occurred_on.data,
            "motivations": list(self.motivations.data or []),
            "incident_type": self.incident_type.data,
            "ward_id": self.ward_id.data,
            "how_reported": self.how_reported.data,
            "person_details": self.person_details.data,
            "description": self.description.data,
            "support_offered": self.support_offered.data,
            "police_referral": self.police_referral.data == "yes",
            "police_reference": self.police_reference.data,
            "actions": self.actions.data,
            "status": self.status.data,
            "outcome": self.outcome.data,
        }

    def fill_from(self, row) -> None:
        for name in (
            "occurred_on",
            "motivations",
            "incident_type",
            "how_reported",
            "person_details",
            "description",
            "support_offered",
            "police_reference",
            "actions",
            "status",
            "outcome",
        ):
            self[name].data = getattr(row, name)
        self.ward_id.data = str(row.ward_id)
        self.police_referral.data = "yes" if row.police_referral else "no"
        self.version.data = str(row.version)


class WardNameForm(FlaskForm):
    name = text_field("Name of the ward", Ward.name, required="Enter the name of the ward")
    submit = SubmitField("Save ward", widget=GovSubmitInput())


class WholeNumberField(IntegerField):
    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError("Enter the number of years as a whole number, like 6") from None


class RetentionForm(FlaskForm):
    retention_years = WholeNumberField(
        "Years to keep case records",
        widget=GovTextInput(),
        description="Counted from the day a case is closed. After that, the record is "
        "anonymised: the date, motivation, type, ward and status are kept for statistics.",
        validators=[
            InputRequired(message="Enter a number of years"),
            NumberRange(min=1, max=100, message="Enter a number of years from 1 to 100"),
        ],
    )
    submit = SubmitField("Save", widget=GovSubmitInput())
