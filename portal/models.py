"""Columns many records share, declared once.

- :class:`TimestampMixin`: when the record was made and last changed.
- :class:`VersionedMixin`: the version an edit is checked against (SQLAlchemy's
  ``version_id_col``; see :mod:`portal.editing`).
- :class:`OrderedMixin`: the place in a list people order by hand (see
  :mod:`portal.ordering`).

The columns keep the names and types the tables have always had: no migration follows.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Mapped, declared_attr, mapped_column


class TimestampMixin:
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class VersionedMixin:
    version: Mapped[int] = mapped_column(default=1)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict:  # noqa: N805 - declared_attr receives the class
        return {"version_id_col": cls.__table__.c.version}


class OrderedMixin:
    position: Mapped[int]


def limit(column) -> int:
    """The most characters ``column`` (a model's attribute) may hold: the one place a
    field's length limit is declared, read by forms and importers alike.

    It is the ``n`` of a ``String(n)`` column, or, for a ``Text`` column whose limit is the
    portal's rule rather than the database's, ``info={"limit": n}`` on the column (so the
    schema stays as it is).
    """
    col = column.property.columns[0]
    length = col.info.get("limit") or getattr(col.type, "length", None)
    if length is None:
        raise TypeError(f"{column} has no length limit")
    return length
