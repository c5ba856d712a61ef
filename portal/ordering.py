"""Lists in the order people choose: one place up, one place down.

A row in such a list has a ``position`` (:class:`portal.models.OrderedMixin`); its page
shows an up and a down button, each a :class:`MoveForm`, and the service moves the row with
:func:`move`.
"""

from __future__ import annotations

from collections.abc import Sequence

from flask_wtf import FlaskForm
from wtforms import HiddenField
from wtforms.validators import AnyOf, InputRequired

DIRECTIONS = ("up", "down")


class MoveForm(FlaskForm):
    """The up or down button beside a row (and its CSRF token)."""

    direction = HiddenField(validators=[InputRequired(), AnyOf(DIRECTIONS)])


def move(rows: Sequence, row, direction: str) -> bool:
    """Move ``row`` one place ``direction`` ("up" or "down") among ``rows`` (in their
    order now), and number them all from 1 again. False, changing nothing, if it cannot
    go that way (the first row up, the last down, or a direction that is neither)."""
    rows = list(rows)
    index = rows.index(row)
    other = index - 1 if direction == "up" else index + 1
    if direction not in DIRECTIONS or not 0 <= other < len(rows):
        return False
    rows[index], rows[other] = rows[other], rows[index]
    renumber(rows)
    return True


def renumber(rows: Sequence) -> None:
    """Number ``rows`` 1, 2, 3… in the order given, touching only those that change."""
    for position, row in enumerate(rows, start=1):
        if row.position != position:
            row.position = position
