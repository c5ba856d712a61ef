"""Importing an action plan from a spreadsheet: upload, choose columns, preview, import.

Only the organisation's officers may import. The upload's random token in the address is
looked up among the current organisation's uploads by the person signed in, so any other
token is a 404. The file is read once, at upload; the later steps use the rows kept then.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from portal.access import requires, tenant_blueprint
from portal.actions import importing
from portal.actions.import_forms import (
    UploadForm,
    columns_form,
    sheet_form,
    status_words_form,
)
from portal.actions.models import STATUSES, PendingImport
from portal.editing import Invalid
from portal.forms import ConfirmForm
from portal.jobs import services as jobs
from portal.jobs.tasks import ACTION_IMPORT

tenant_bp = tenant_blueprint("actions_import", __name__, "/plan/import")

TOO_BIG = "The file must be smaller than 10 MB"
# Above this many new rows an import runs as a job rather than inside the request.
LARGE_IMPORT_ROWS = 300


def _upload_or_404(upload_token: str) -> PendingImport:
    upload = importing.find_upload(upload_token)
    if upload is None:
        abort(404)
    return upload


@tenant_bp.errorhandler(RequestEntityTooLarge)
def _too_big(exc):
    form = UploadForm(formdata=None)
    form.spreadsheet.errors = [TOO_BIG]
    return _upload_page(form), 413


def _upload_page(form: UploadForm):
    return render_template(
        "actions/import_upload.html",
        form=form,
        fields=[(label, importing.HEADINGS[name]) for name, label in importing.FIELDS.items()],
    )


@tenant_bp.route("", methods=["GET", "POST"])
@requires("officer")
def upload():
    form = UploadForm()
    if form.validate_on_submit():
        upload = form.spreadsheet.data
        if not upload or not getattr(upload, "filename", ""):
            form.spreadsheet.errors = ["Select a CSV or XLSX file"]
        else:
            content = upload.stream.read(importing.MAX_BYTES + 1)
            try:
                stored = importing.store_upload(upload.filename, content)
            except importing.ImportProblem as exc:
                form.spreadsheet.errors = [str(exc)]
            else:
                return redirect(url_for(".columns", upload_token=stored.token))
    return _upload_page(form)


@tenant_bp.route("/<upload_token>/columns", methods=["GET", "POST"])
@requires("officer")
def columns(upload_token: str):
    upload = _upload_or_404(upload_token)
    sheets = importing.sheets_of(upload)
    choose = sheet_form(sheets, upload.sheet) if sheets else None
    if choose is not None and request.form.get("form") == "sheet":
        if choose.validate_on_submit():
            try:
                importing.choose_sheet(upload, choose.sheet.data or "")
            except Invalid as exc:
                choose.sheet.errors = list(exc.errors.values())
            else:
                return redirect(url_for(".columns", upload_token=upload.token))
        table = importing.table_of(upload)
        form = columns_form(table, upload.mapping or importing.guess_mapping(table.headings))
        form.default_objective.choices = importing.objective_choices()
        form.default_objective.data = upload.default_objective or importing.NEW_OBJECTIVE
        form.new_objective.data = upload.new_objective or "Imported actions"
        return _columns_page(form, upload, table, choose)
    table = importing.table_of(upload)
    form = columns_form(table, upload.mapping or importing.guess_mapping(table.headings))
    form.default_objective.choices = importing.objective_choices()
    if request.method == "GET":
        form.default_objective.data = upload.default_objective or importing.NEW_OBJECTIVE
        form.new_objective.data = upload.new_objective or "Imported actions"
    if form.validate_on_submit():
        try:
            importing.save_choices(
                upload, form.mapping(), form.default_objective.data, form.new_objective.data
            )
        except Invalid as exc:
            for name, message in exc.errors.items():
                field = form._fields.get(name) or form.column_fields()[0]
                field.errors = [*field.errors, message]
        else:
            return redirect(url_for(".preview", upload_token=upload.token))
    return _columns_page(form, upload, table, choose)


def _columns_page(form, upload: PendingImport, table: importing.Table, choose):
    return render_template(
        "actions/import_columns.html",
        form=form,
        upload=upload,
        rows=len(table.rows),
        sheet_form=choose,
    )


@tenant_bp.route("/<upload_token>/preview", methods=["GET", "POST"])
@requires("officer")
def preview(upload_token: str):
    upload = _upload_or_404(upload_token)
    if upload.mapping is None or not upload.default_objective:
        return redirect(url_for(".columns", upload_token=upload.token))
    result = importing.preview(upload)
    form = ConfirmForm()
    if form.validate_on_submit() and not result.errors and result.new:
        if len(result.new) > LARGE_IMPORT_ROWS:
            # A large plan is imported by the job queue, and its page shows the progress.
            job_id = jobs.enqueue(
                ACTION_IMPORT,
                title=f"Importing {upload.filename}",
                tenant_id=upload.tenant_id,
                requested_by=current_user.record,
                steps_total=2,
                result_path=url_for("actions.objectives"),
                upload_token=upload.token,
            )
            return redirect(url_for("tenant_jobs.tenant_show", job_id=job_id))
        try:
            counts = importing.import_upload(upload)
        except Invalid as exc:
            flash(next(iter(exc.errors.values())), "error")
            return redirect(url_for(".preview", upload_token=upload.token))
        message = f"{counts.added} action{'' if counts.added == 1 else 's'} imported"
        if counts.already:
            message += f"; {counts.already} already in the plan, left as they were"
        flash(message, "success")
        return redirect(url_for("actions.objectives"))
    return _preview_page(upload, result, form, status_words_form(result.status_words))


def _preview_page(upload: PendingImport, result: importing.Preview, form, words_form):
    return render_template(
        "actions/import_preview.html",
        upload=upload,
        result=result,
        shown=result.rows[: importing.PREVIEW_ROWS],
        form=form,
        words_form=words_form,
        statuses=STATUSES,
        error=bool(result.errors),
    )


@tenant_bp.route("/<upload_token>/statuses", methods=["POST"])
@requires("officer")
def statuses(upload_token: str):
    """Keep what each of the file's status words means, for the organisation."""
    upload = _upload_or_404(upload_token)
    if upload.mapping is None or not upload.default_objective:
        return redirect(url_for(".columns", upload_token=upload.token))
    result = importing.preview(upload)
    if not result.status_words:
        # Nothing to ask about (the columns were changed, or every word is known).
        return redirect(url_for(".preview", upload_token=upload.token))
    words_form = status_words_form(result.status_words)
    if words_form.validate_on_submit():
        try:
            importing.save_status_words(upload, words_form.choices())
        except Invalid as exc:
            for name, message in exc.errors.items():
                field = words_form._fields.get(name) or words_form.word_fields()[0]
                field.errors = [*field.errors, message]
        else:
            flash("What the status words mean has been saved for later imports too", "success")
            return redirect(url_for(".preview", upload_token=upload.token))
    return _preview_page(upload, result, ConfirmForm(formdata=None), words_form)
