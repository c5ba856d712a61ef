"""One way to edit a record: one error type, one version check, one save, one conflict.

Bad input is :class:`Invalid`: a message in the users' words and the form field it is
about (None for the page as a whole). :func:`show_invalid` puts it where the reader
looks: under that field, and in the error summary.

Every editable record carries a version (SQLAlchemy's ``version_id_col``). A form holds
the version it was opened at; a service compares it with :func:`check_version` before
writing and commits through :func:`commit_edit`, which also catches the race where both
saves reach the database. A route runs the whole round with :func:`submit_edit`, which
also says so and moves on once the edit is saved.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date

from flask import flash, redirect
from sqlalchemy.orm.exc import StaleDataError

from portal.extensions import db


class Invalid(ValueError):
    """Input the rules refuse. ``field`` names the form field at fault, or is None when the
    problem is with the request as a whole; ``message`` says what to do, in plain words.

    Several problems at once travel in ``errors`` (field to message), built with
    :meth:`of`; ``field`` and ``message`` are then the first of them.
    """

    def __init__(self, field: str | None, message: str):
        super().__init__(message)
        self.field = field
        self.message = message
        self.errors: dict[str | None, str] = {field: message}

    @classmethod
    def of(cls, errors: Mapping[str | None, str]) -> Invalid:
        """One error for several fields at once (``errors`` maps a field to a message)."""
        field, message = next(iter(errors.items()))
        error = cls(field, message)
        error.errors = dict(errors)
        return error

    def __str__(self) -> str:
        return "; ".join(self.errors.values())


def show_invalid(form, error: Invalid) -> None:
    """Put each message of ``error`` on its form field; one about no field of the form
    goes to the page's error summary (the form's own errors)."""
    for name, message in error.errors.items():
        field = form._fields.get(name) if name else None
        if field is not None:
            field.errors = [*field.errors, message]
        elif message not in form.form_errors:
            form.form_errors.append(message)
    form._errors = None  # the error summary reads the cached errors


class EditConflict(Exception):
    """Somebody else saved the record since this person opened it.

    ``current`` is the record as saved; ``submitted`` what this person tried to save, so
    the page can show both versions.
    """

    def __init__(self, current, submitted: Mapping):
        super().__init__("the record was changed by somebody else")
        self.current = current
        self.submitted = dict(submitted)

    def rows(self, form=None, *, saved: Mapping | None = None, describe=None) -> list:
        """What differs between the two versions, as (label, saved, yours) in words.

        Labels come from ``form``'s fields; a value of a drop-down is shown as its
        choice's words; values the form has no field for are left out. ``saved`` gives
        the saved values when they are not attributes of ``current``;
        ``describe(name, value)`` words any value the form cannot.
        """
        out = []
        for name, yours in self.submitted.items():
            field = form._fields.get(name) if form is not None else None
            if form is not None and field is None:
                continue  # worked out by the service, not typed in: nothing to compare
            mine = saved.get(name) if saved is not None else getattr(self.current, name, None)
            if mine == yours:
                continue
            label = field.label.text if field is not None else name.replace("_", " ").capitalize()
            out.append(
                (label, _words(field, name, mine, describe), _words(field, name, yours, describe))
            )
        return out


def _words(field, name: str, value, describe) -> str:
    if describe is not None:
        worded = describe(name, value)
        if worded is not None:
            return str(worded)
    if value is None or value == "" or value == [] or value == {}:
        return "None"
    choices = getattr(field, "choices", None)
    if choices and not isinstance(choices, dict):
        labels = {str(key): text for key, text, *_ in _pairs(choices)}
        if isinstance(value, list | tuple | set):
            return ", ".join(labels.get(str(v), str(v)) for v in value)
        if str(value) in labels:
            return labels[str(value)]
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, date):
        return f"{value.day} {value:%B %Y}"
    if isinstance(value, Mapping):
        return "; ".join(f"{key}: {_words(None, key, v, describe)}" for key, v in value.items())
    if isinstance(value, list | tuple | set):
        return ", ".join(str(v) for v in value)
    return str(value)


def _pairs(choices):
    for choice in choices:
        yield (choice[0], choice[1]) if isinstance(choice, list | tuple) else (choice, choice)


def check_version(row, version: int | None, submitted: Mapping) -> None:
    """Refuse an edit made to another version of ``row`` than the saved one. A missing or
    garbled version (None) is refused the same way: nobody can tell what it was made to."""
    if version is None or row.version != version:
        raise EditConflict(row, submitted)


def commit_edit(row, submitted: Mapping, *, reload=None):
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


@dataclass
class Edit:
    """How a submitted edit went: ``saved``, or refused with ``conflict`` (both versions)
    or with the form's errors."""

    saved: bool = False
    conflict: EditConflict | None = None
    done: object = None  # once saved: the redirect to where the person goes next


def submitted_values(form, row) -> dict:
    """What the form asked to save, for the fields ``row`` has: shown on the conflict
    page when the form came back without a version it was opened at."""
    skip = {"csrf_token", "version", "submit"}
    return {
        name: field.data
        for name, field in form._fields.items()
        if name not in skip and hasattr(row, name)
    }


def submit_edit(
    form,
    row,
    save: Callable[[int | None], object],
    *,
    message: str | Callable[[], str],
    then: str | Callable[[], str],
    category: str = "success",
) -> Edit:
    """Run one edit of ``row`` (already loaded through the tenancy loaders, so another
    organisation's record is a 404 before this): if the form is valid, ``save(version)``
    with the version the form was opened at. The service checks the version
    (:func:`check_version`: a missing one is refused too) and saves (:func:`commit_edit`).

    Once saved, ``message`` is flashed (as ``category``) and ``Edit.done`` redirects to
    ``then``; either may be a function, called only after the save (so a message names
    the record as saved). Bad input lands on the form (:func:`show_invalid`); a conflict
    rolls back, moves the form on to the saved version and comes back in ``Edit.conflict``.
    """
    if not form.validate_on_submit():
        return Edit()
    version = form.version_number()
    try:
        if version is None:
            raise EditConflict(row, submitted_values(form, row))
        save(version)
    except EditConflict as conflict:
        db.session.rollback()
        form.version.data = str(conflict.current.version) if conflict.current else ""
        return Edit(conflict=conflict)
    except Invalid as error:
        db.session.rollback()
        show_invalid(form, error)
        return Edit()
    flash(message() if callable(message) else message, category)
    return Edit(saved=True, done=redirect(then() if callable(then) else then))
