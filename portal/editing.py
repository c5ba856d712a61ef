"""Two people editing the same record: the second save is refused, nothing is lost.

Every editable record carries a version (SQLAlchemy's ``version_id_col``). A form holds
the version it was opened at; a service compares it before writing and commits through
:func:`commit_edit`, which also catches the race where both saves reach the database.
"""

from __future__ import annotations

from sqlalchemy.orm.exc import StaleDataError

from portal.extensions import db


class EditConflict(Exception):
    """Somebody else saved the record since this person opened it.

    ``current`` is the record as saved; ``submitted`` what this person tried to save, so
    the page can show both versions.
    """

    def __init__(self, current, submitted: dict):
        super().__init__("the record was changed by somebody else")
        self.current = current
        self.submitted = submitted


def commit_edit(row, submitted: dict, *, reload=None):
    """Commit an edit of ``row``; if another save got there first, roll back and raise
    :class:`EditConflict` with the saved version (``reload()`` finds it, by default the
    row again by its id)."""
    try:
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        current = reload() if reload else db.session.get(type(row), row.id, populate_existing=True)
        raise EditConflict(current, submitted) from None
    return row
