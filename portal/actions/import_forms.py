"""Forms for importing actions from a spreadsheet: the upload and the choice of columns."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from govuk_frontend_wtf.wtforms_widgets import GovFileInput, GovSelect, GovSubmitInput, GovTextInput
from wtforms import HiddenField, SelectField, StringField, SubmitField

from portal.actions import import_vocabulary as vocabulary
from portal.actions import importing
from portal.forms import strip


class UploadForm(FlaskForm):
    spreadsheet = FileField(
        "Spreadsheet file",
        widget=GovFileInput(),
        description="A CSV or XLSX file, smaller than 10 MB, with the column headings in row 1",
    )
    submit = SubmitField("Upload and continue", widget=GovSubmitInput())


class SheetForm(FlaskForm):
    """Which sheet of a workbook to import; ``form`` tells it apart from the columns form
    posted to the same address."""

    form = HiddenField(default="sheet")
    sheet = SelectField(
        "Sheet to import",
        widget=GovSelect(),
        validate_choice=False,
        description="The sheet that looks most like an action plan is chosen for you",
    )
    submit = SubmitField("Use this sheet", widget=GovSubmitInput())


def sheet_form(sheets: list[importing.Sheet], chosen: str) -> SheetForm:
    form = SheetForm(prefix="")
    form.sheet.choices = [(s.name, f"{s.name} ({s.size})") for s in sheets]
    if form.sheet.data is None or not form.is_submitted():
        form.sheet.data = chosen
    return form


class ColumnsForm(FlaskForm):
    """One select per column of the file (``column_0``, ``column_1`` …), built by
    :func:`columns_form`, then the objective for rows that name none."""

    default_objective = SelectField(
        "Objective for rows that do not name one",
        widget=GovSelect(),
        validate_choice=False,
        description="A row with no objective goes under the objective of the row above it; "
        "rows before any objective go under this one",
    )
    new_objective = StringField(
        "Name of the new objective",
        widget=GovTextInput(),
        filters=[strip],
        description="Only used if you chose a new objective above",
    )
    submit = SubmitField("Continue to the preview", widget=GovSubmitInput())

    def column_fields(self):
        """The column selects, in the order of the file."""
        return [f for f in self if f.name.startswith("column_")]

    def mapping(self) -> list[str]:
        return [f.data or "" for f in self.column_fields()]


def columns_form(table: importing.Table, mapping: list[str]) -> ColumnsForm:
    """The form for choosing what each column of ``table`` holds, pre-set to ``mapping``."""

    class Form(ColumnsForm):
        pass

    for index, heading in enumerate(table.headings):
        examples = []
        for _, row in table.rows:
            value = table.cell(row, index)
            if value and value not in examples:
                examples.append(value if len(value) <= 50 else value[:49] + "…")
            if len(examples) == 2:
                break
        hint = "Recognised heading. " if importing.recognised(heading) else ""
        hint += (
            "For example: " + "; ".join(f"“{e}”" for e in examples)
            if examples
            else "This column is empty."
        )
        field = SelectField(
            importing.column_label(index, heading),
            widget=GovSelect(),
            choices=list(importing.FIELDS.items()),
            default=mapping[index] if index < len(mapping) else "ignore",
            validate_choice=False,
            description=hint,
        )
        setattr(Form, f"column_{index}", field)
    return Form()


class StatusWordsForm(FlaskForm):
    """One select per status word of the file (``word_0``, ``word_1`` …), built by
    :func:`status_words_form`."""

    submit = SubmitField("Save what the words mean", widget=GovSubmitInput())

    def word_fields(self):
        return [f for f in self if f.name.startswith("word_")]

    def choices(self) -> list[str]:
        return [f.data or "" for f in self.word_fields()]


def status_words_form(words: list[vocabulary.StatusWord], **kwargs) -> StatusWordsForm:
    """The form asking what each status word means, pre-set to the meaning chosen before
    or else to the likely one."""

    class Form(StatusWordsForm):
        pass

    for index, word in enumerate(words):
        if word.chosen is not None:
            hint = f"Chosen before: read as {word.meaning}."
        elif word.suggestion:
            hint = "Suggested: check it."
        else:
            hint = "Not a word the portal knows: choose a status."
        rows = f"{word.rows} row{'' if word.rows == 1 else 's'}"
        field = SelectField(
            f"“{word.text}”",
            widget=GovSelect(),
            choices=[("", "Choose a status"), *vocabulary.STATUS_CHOICES.items()],
            default=word.chosen if word.chosen is not None else word.suggestion,
            validate_choice=False,
            description=f"Used in {rows}. {hint}",
        )
        setattr(Form, f"word_{index}", field)
    return Form(**kwargs)
