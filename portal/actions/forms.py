"""Forms for an organisation's objectives, actions and progress updates."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovFileInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import DataRequired, InputRequired, Optional

from portal.actions import services
from portal.actions.models import (
    ALL_CHARACTERISTICS,
    CHARACTERISTICS,
    PSED_AIMS,
    STATUSES,
    Action,
    Objective,
    ProgressUpdate,
)
from portal.forms import GovDateField, VersionedForm, no_longer_than, strip


def _text(label: str, column, hint: str = "") -> StringField:
    return StringField(
        label,
        widget=GovTextInput(),
        filters=[strip],
        description=hint,
        validators=[Optional(), no_longer_than(column, label)],
    )


class ObjectiveForm(VersionedForm):
    title = TextAreaField(
        "Objective",
        widget=GovTextArea(),
        filters=[strip],
        validators=[
            DataRequired(message="Enter the objective"),
            no_longer_than(Objective.title, "Objective"),
        ],
    )
    area = SelectField(
        "Role or focus area",
        widget=GovSelect(),
        description='For example "As a Community Leader" or an EFLG performance area',
        validate_choice=False,
    )
    point = SelectField("Focus point (optional)", widget=GovSelect(), validate_choice=False)
    submit = SubmitField("Save objective", widget=GovSubmitInput())

    def validate_area(self, field) -> None:
        if (field.data or "") not in {value for value, _ in field.choices}:
            raise ValidationError("Choose a role or focus area from the list")

    def validate_point(self, field) -> None:
        if (field.data or "") not in {value for value, _ in field.choices}:
            raise ValidationError("Choose a focus point from the list")


class ActionForm(VersionedForm):
    objective_id = SelectField(
        "Objective", widget=GovSelect(), validate_choice=False, validators=[InputRequired()]
    )
    task = TextAreaField(
        "Action",
        widget=GovTextArea(),
        filters=[strip],
        description="What will be done",
        validators=[
            DataRequired(message="Enter the action"),
            no_longer_than(Action.task, "Action"),
        ],
    )
    arising_from = _text(
        "Arising from (optional)", Action.arising_from, "For example “Service Plan activity”"
    )
    lead_user_id = SelectField(
        "Lead officer on this portal (optional)",
        widget=GovSelect(),
        validate_choice=False,
        description="Their “my actions” page will list this action",
    )
    lead_officer = _text(
        "Lead or responsible officer, as written (optional)",
        Action.lead_officer,
        "For example a job title or team, such as “Policy and Information team”",
    )
    directorate = _text("Directorate (optional)", Action.directorate)
    section = _text("Section (optional)", Action.section)
    target_text = _text(
        "Target date or deliver by (optional)",
        Action.target_text,
        "A date, like 31 March 2026, or a period, like 2025/26, Ongoing or TBC",
    )
    status = SelectField(
        "Status",
        widget=GovSelect(),
        choices=[("", "No status recorded"), *STATUSES.items()],
        validate_choice=False,
    )
    corporate_priority = _text("Corporate plan priority (optional)", Action.corporate_priority)
    eflg_criteria = _text(
        "EFLG criteria (optional)", Action.eflg_criteria, "Equality Framework for Local Government"
    )
    psed_aims = SelectMultipleField(
        "Aims of the general equality duty (optional)",
        widget=GovCheckboxesInput(),
        choices=list(PSED_AIMS.items()),
        validate_choice=False,
    )
    characteristics = SelectMultipleField(
        "Protected characteristics (optional)",
        widget=GovCheckboxesInput(),
        choices=[(ALL_CHARACTERISTICS, "All protected characteristics"), *CHARACTERISTICS.items()],
        validate_choice=False,
    )
    measures = TextAreaField(
        "How will we know it is done? (optional)",
        widget=GovTextArea(),
        filters=[strip],
        validators=[
            Optional(),
            no_longer_than(Action.measures, "This"),
        ],
    )
    joint_aim_ids = SelectMultipleField(
        "Joint aims this action serves (optional)",
        widget=GovCheckboxesInput(),
        validate_choice=False,
    )
    submit = SubmitField("Save action", widget=GovSubmitInput())

    def validate_target_text(self, field) -> None:
        try:
            services.parse_target(field.data)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None

    def validate_status(self, field) -> None:
        if field.data and field.data not in STATUSES:
            raise ValidationError("Choose a status from the list")

    def data_for_service(self) -> dict:
        data = {name: getattr(self, name).data for name in services.ACTION_FIELDS}
        if self.joint_aim_ids.choices:
            data["joint_aim_ids"] = self.joint_aim_ids.data
        return data


class ProgressForm(FlaskForm):
    date = GovDateField(
        "Date of the update",
        description="For example, 27 3 2026",
        validators=[InputRequired(message="Enter the date of the update")],
    )
    narrative = TextAreaField(
        "What progress has been made?",
        widget=GovTextArea(),
        filters=[strip],
        validators=[
            DataRequired(message="Describe the progress made"),
            no_longer_than(ProgressUpdate.narrative, "The update"),
        ],
    )
    status = RadioField(
        "Status now",
        widget=GovRadioInput(),
        choices=list(STATUSES.items()),
        validators=[InputRequired(message="Choose the status of the action now")],
    )
    evidence_link = StringField(
        "Link to evidence (optional)",
        widget=GovTextInput(),
        filters=[strip],
        description="A web address starting with https://",
        validators=[Optional(), no_longer_than(ProgressUpdate.evidence_link, "Link")],
    )
    evidence = FileField(
        "Evidence file (optional)",
        widget=GovFileInput(),
        description=f"A {services.EVIDENCE_TYPE_NAMES} file, smaller than 10 MB",
    )
    submit = SubmitField("Save update", widget=GovSubmitInput())

    def validate_evidence(self, field) -> None:
        upload = field.data
        if not upload or not getattr(upload, "filename", ""):
            return
        # Files of 10 to 12 MB get past MAX_CONTENT_LENGTH; say plainly why they are refused.
        upload.stream.seek(0, 2)
        size = upload.stream.tell()
        upload.stream.seek(0)
        if size > services.MAX_EVIDENCE_BYTES:
            raise ValidationError("The file must be smaller than 10 MB")


class CorrectProgressForm(ProgressForm):
    """The author's correction of an update: the earlier version stays as history."""

    evidence = FileField(
        "New evidence file (optional)",
        widget=GovFileInput(),
        description="Leave empty to keep the evidence file the update has now. "
        f"A {services.EVIDENCE_TYPE_NAMES} file, smaller than 10 MB",
    )
    reason = TextAreaField(
        "Why are you correcting it?",
        widget=GovTextArea(),
        filters=[strip],
        description="Shown in the update's history, beside the earlier version",
        validators=[
            DataRequired(message="Say why the update is being corrected"),
            no_longer_than(ProgressUpdate.change_reason, "The reason"),
        ],
    )
    submit = SubmitField("Save the correction", widget=GovSubmitInput())


class WithdrawProgressForm(FlaskForm):
    reason = TextAreaField(
        "Why are you withdrawing it?",
        widget=GovTextArea(),
        filters=[strip],
        description="Shown in the update's history",
        validators=[
            DataRequired(message="Say why the update is being withdrawn"),
            no_longer_than(ProgressUpdate.change_reason, "The reason"),
        ],
    )
    submit = SubmitField("Withdraw the update", widget=GovSubmitInput())
