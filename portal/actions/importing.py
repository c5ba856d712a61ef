"""Importing an action plan from a spreadsheet: upload, map columns, preview, import.

The steps are plain functions (``store_upload``, ``choose_sheet``, ``save_choices``,
``preview``, ``save_status_words``, ``import_upload``) that need only a tenant in scope, so
they can run outside a request. They live in modules named for what they hold, and are
gathered here for the pages and the job queue:

- ``import_files``: reading a CSV file or an XLSX workbook, sheet by sheet, as text;
- ``import_vocabulary``: the headings and words of other organisations' sheets and what
  they mean on the portal (status words, lead officers' accounts, roles and focus areas);
- ``import_checks``: every row checked with the action form's rules, before anything is
  written, and what is new or already in the plan;
- ``import_store``: keeping an upload between its steps, and storing its actions in one
  transaction with one audit event.
"""

from __future__ import annotations

from portal.actions.import_checks import (
    NEW_OBJECTIVE,
    PREVIEW_ROWS,
    ImportRow,
    Preview,
    check_row,
    preview,
    save_status_words,
)
from portal.actions.import_files import (
    EXTENSIONS,
    MAX_BYTES,
    MAX_COLUMNS,
    MAX_RATIO,
    MAX_ROWS,
    MAX_SHEET_ROWS,
    MAX_UNPACKED_BYTES,
    ImportProblem,
    Sheet,
    Table,
    check_zip,
    likeliest,
    read_sheets,
    read_table,
    sheets_of,
    table_of,
    workbook_sheets,
)
from portal.actions.import_store import (
    KEEP_SECONDS,
    ImportResult,
    choose_sheet,
    clear_old_uploads,
    column_label,
    discard,
    find_upload,
    import_upload,
    objective_choices,
    save_choices,
    store_upload,
)
from portal.actions.import_vocabulary import FIELDS, HEADINGS, guess_mapping, recognised

__all__ = [
    "EXTENSIONS",
    "FIELDS",
    "HEADINGS",
    "KEEP_SECONDS",
    "MAX_BYTES",
    "MAX_COLUMNS",
    "MAX_RATIO",
    "MAX_ROWS",
    "MAX_SHEET_ROWS",
    "MAX_UNPACKED_BYTES",
    "NEW_OBJECTIVE",
    "PREVIEW_ROWS",
    "ImportProblem",
    "ImportResult",
    "ImportRow",
    "Preview",
    "Sheet",
    "Table",
    "check_row",
    "check_zip",
    "choose_sheet",
    "clear_old_uploads",
    "column_label",
    "discard",
    "find_upload",
    "guess_mapping",
    "import_upload",
    "likeliest",
    "objective_choices",
    "preview",
    "read_sheets",
    "read_table",
    "recognised",
    "save_choices",
    "save_status_words",
    "sheets_of",
    "store_upload",
    "table_of",
    "workbook_sheets",
]
