"""Forms for impact assessments and joint assessments."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovRadioInput,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import RadioField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Optional, StopValidation

from portal.eqia.models import (
    CHARACTERISTICS,
    IMPACTS,
    KINDS,
    CharacteristicImpact,
    ImpactAssessment,
    JointAssessment,
    JointContribution,
)
from portal.forms import GovDateField, VersionedForm, no_longer_than, strip


class ChoiceField(RadioField):
    """Radios that say, in plain words, what to choose when nothing (or nonsense) is sent."""

    widget = GovRadioInput()

    def __init__(self, label, choices, message: str, **kwargs):
        super().__init__(label, choices=choices, **kwargs)
        self.message = message

    def pre_validate(self, form):
        if self.data not in {value for value, _ in self.choices}:
            raise StopValidation(self.message)


def _validators(label: str, column, required: str | None) -> list:
    """Required or optional, and no longer than the model's ``column`` may hold."""
    validators = [DataRequired(message=required)] if required else [Optional()]
    validators.append(no_longer_than(column, label.removesuffix(" (optional)")))
    return validators


def text_field(label: str, column, *, required: str | None = None, **kwargs):
    """A one-line text box for the model's ``column``."""
    validators = _validators(label, column, required)
    return StringField(
        label, widget=GovTextInput(), filters=[strip], validators=validators, **kwargs
    )


def text_area(label: str, column, *, required: str | None = None, **kwargs):
    """A text area for the model's ``column``."""
    validators = _validators(label, column, required)
    return TextAreaField(
        label, widget=GovTextArea(), filters=[strip], validators=validators, **kwargs
    )


class AssessmentForm(VersionedForm):
    title = text_field("Title", ImpactAssessment.title, required="Enter a title")
    subject = text_field(
        "Service, policy or function assessed",
        ImpactAssessment.subject,
        required="Enter the service, policy or function assessed",
    )
    kind = ChoiceField(
        "Kind of assessment", list(KINDS.items()), "Choose screening or full assessment"
    )
    lead_officer = text_field(
        "Lead officer", ImpactAssessment.lead_officer, required="Enter the lead officer"
    )
    assessed_on = GovDateField(
        "Date of the assessment",
        description="For example, 27 3 2024",
        validators=[InputRequired(message="Enter the date of the assessment")],
    )
    decision = text_area(
        "Decision",
        ImpactAssessment.decision,
        required="Enter the decision",
        description="What was decided, and why, in the light of the likely impacts",
    )
    review_on = GovDateField(
        "Review date (optional)",
        description="When the assessment should be looked at again",
    )
    is_published = ChoiceField(
        "Is it published on your website?",
        [("yes", "Yes"), ("no", "No")],
        "Say whether the assessment is published",
    )
    published_on = GovDateField("Date published (if published)")
    submit = SubmitField("Save assessment", widget=GovSubmitInput())

    def characteristic_fields(self):
        """(label, impact, evidence, mitigation) fields for each protected characteristic."""
        return [
            (
                label,
                self[f"impact_{key}"],
                self[f"evidence_{key}"],
                self[f"mitigation_{key}"],
            )
            for key, label in CHARACTERISTICS.items()
        ]

    def narrative(self) -> str:
        """Every narrative answer, for the plain-language check."""
        parts = [self.decision.data or ""]
        for key in CHARACTERISTICS:
            parts.append(self[f"evidence_{key}"].data or "")
            parts.append(self[f"mitigation_{key}"].data or "")
        return "\n".join(p for p in parts if p)

    def data_for_service(self) -> dict:
        return {
            "title": self.title.data,
            "subject": self.subject.data,
            "kind": self.kind.data,
            "lead_officer": self.lead_officer.data,
            "assessed_on": self.assessed_on.data,
            "decision": self.decision.data,
            "review_on": self.review_on.data,
            "is_published": self.is_published.data == "yes",
            "published_on": self.published_on.data,
            "impacts": {
                key: {
                    "impact": self[f"impact_{key}"].data,
                    "evidence": self[f"evidence_{key}"].data,
                    "mitigation": self[f"mitigation_{key}"].data,
                }
                for key in CHARACTERISTICS
            },
        }

    def fill_from(self, row) -> None:
        """Fill the form from a saved assessment (for the first view of the edit page)."""
        for name in ("title", "subject", "kind", "lead_officer", "assessed_on", "decision"):
            self[name].data = getattr(row, name)
        self.review_on.data = row.review_on
        self.is_published.data = "yes" if row.is_published else "no"
        self.published_on.data = row.published_on
        for impact in row.impacts:
            self[f"impact_{impact.characteristic}"].data = impact.impact
            self[f"evidence_{impact.characteristic}"].data = impact.evidence
            self[f"mitigation_{impact.characteristic}"].data = impact.mitigation
        self.version.data = str(row.version)


for _key, _label in CHARACTERISTICS.items():
    setattr(
        AssessmentForm,
        f"impact_{_key}",
        ChoiceField(
            f"Likely impact on {_label.lower()}",
            list(IMPACTS.items()),
            f"Choose the likely impact on {_label.lower()}",
        ),
    )
    setattr(
        AssessmentForm,
        f"evidence_{_key}",
        text_area(f"Evidence for {_label.lower()} (optional)", CharacteristicImpact.evidence),
    )
    setattr(
        AssessmentForm,
        f"mitigation_{_key}",
        text_area(
            f"Mitigation for {_label.lower()} (optional)",
            CharacteristicImpact.mitigation,
            description="Needed if the likely impact is negative",
        ),
    )


class JointAssessmentForm(FlaskForm):
    title = text_field("Title", JointAssessment.title, required="Enter a title")
    subject = text_field(
        "Service, policy or function assessed",
        JointAssessment.subject,
        required="Enter the service, policy or function assessed",
    )
    brief = text_area(
        "What members are asked for (optional)",
        JointAssessment.brief,
        description="For example the local evidence each organisation should bring",
    )
    lead_officer = text_field(
        "Lead officer", JointAssessment.lead_officer, required="Enter the lead officer"
    )
    due_on = GovDateField("Contributions due by (optional)")
    submit = SubmitField("Start joint assessment", widget=GovSubmitInput())


class ContributionForm(VersionedForm):
    evidence = text_area(
        "What your organisation knows about the impact",
        JointContribution.evidence,
        required="Enter what your organisation knows about the impact",
        description="Local evidence: data, consultation, complaints, what people have told you",
    )
    mitigation = text_area(
        "How negative impacts could be reduced (optional)", JointContribution.mitigation
    )
    contributor = text_field(
        "Prepared by",
        JointContribution.contributor,
        required="Enter who prepared this contribution",
    )
    save = SubmitField("Save draft", widget=GovSubmitInput())
    submit = SubmitField("Save and submit to the partnership lead", widget=GovSubmitInput())

    def impact_fields(self):
        return [self[f"impact_{key}"] for key in CHARACTERISTICS]

    def data_for_service(self) -> dict:
        return {
            "evidence": self.evidence.data,
            "mitigation": self.mitigation.data,
            "contributor": self.contributor.data,
            "impacts": {key: self[f"impact_{key}"].data for key in CHARACTERISTICS},
        }

    def narrative(self) -> str:
        return "\n".join(p for p in (self.evidence.data, self.mitigation.data) if p)


for _key, _label in CHARACTERISTICS.items():
    setattr(
        ContributionForm,
        f"impact_{_key}",
        ChoiceField(
            f"Likely impact on {_label.lower()}",
            list(IMPACTS.items()),
            f"Choose the likely impact on {_label.lower()}",
        ),
    )


class ConcludeJointForm(FlaskForm):
    """The lead's conclusion of a joint assessment."""

    conclusion = TextAreaField(
        "Conclusion",
        widget=GovTextArea(),
        filters=[strip],
        description="What the partnership concludes from the members' contributions: the "
        "likely impact overall and what the partners will do about it",
        validators=[
            DataRequired(message="Enter the conclusion of the assessment"),
            no_longer_than(JointAssessment.conclusion, "The conclusion"),
        ],
    )
    submit = SubmitField("Save the conclusion", widget=GovSubmitInput())
