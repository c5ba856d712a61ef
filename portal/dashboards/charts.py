"""The dashboards' tables drawn as charts (portal/charts.py), cell for cell.

A chart is built from its :class:`~portal.dashboards.services.DataTable`: the first column
names the bars (or the periods of a line), each other column is a series, and a figure
that is not a number ("fewer than 8", "not released") is not plotted and keeps its words
in the table. So the chart's table, its CSV and the dashboard's spreadsheet hold the same
figures.
"""

from __future__ import annotations

from portal import charts
from portal.dashboards.services import DataTable

# More rows than this make a chart nobody can read: the table alone is shown, and the
# member filter narrows it.
MAX_ROWS = 40


def _text(cell) -> str:
    if isinstance(cell, bool) or cell is None:
        return "" if cell is None else str(cell)
    if isinstance(cell, int):
        return str(cell)
    if isinstance(cell, float):
        return f"{cell:.1f}"
    return str(cell)


def _series(table: DataTable) -> list[charts.Series]:
    out = []
    for column, name in enumerate(table.headers[1:], start=1):
        cells = [row[column] for row in table.rows]
        values = [
            c if isinstance(c, int | float) and not isinstance(c, bool) else None for c in cells
        ]
        places = 1 if any(isinstance(c, float) for c in cells) else 0
        out.append(charts.Series(name, values, texts=[_text(c) for c in cells], places=places))
    return out


def chart_for(table: DataTable) -> charts.Chart | None:
    """The chart of ``table``, or None when it is shown as a table only."""
    if table.kind == "table" or not table.rows or len(table.rows) > MAX_ROWS:
        return None
    series = _series(table)
    if table.kind == "line":
        return charts.line_chart(
            table.key,
            title=table.heading,
            x=[str(row[0]) for row in table.rows],
            series=series,
            x_label=table.headers[0],
            summary=table.summary,
            value_label=table.unit,
        )
    return charts.bar_chart(
        table.key,
        title=table.heading,
        categories=[str(row[0]) for row in table.rows],
        series=series,
        category_label=table.headers[0],
        summary=table.summary,
        value_label=table.unit,
        stacked=table.kind == "stacked",
        horizontal=True,
    )
