"""A bar chart of released figures, drawn on the server as SVG.

It draws only what disclosure control released: a rounded count is a bar; a hidden or
withheld one is no bar, only its words, so the chart never shows more than the table
beside it. The geometry is worked out here; templates/monitoring/_chart.html draws it.
"""

from __future__ import annotations

from dataclasses import dataclass

from portal.disclosure import ReleasedCell

WIDTH = 320
ROW = 44
BAR = 16
LABEL_SPACE = 110  # room after the longest bar for its figure


@dataclass(frozen=True)
class Bar:
    label: str
    figure: str
    y: int
    length: int
    shown: bool


@dataclass(frozen=True)
class Chart:
    bars: list[Bar]
    width: int
    height: int
    bar_height: int


def bar_chart(rows: list[tuple[str, ReleasedCell]]) -> Chart | None:
    """A horizontal bar per (label, released figure); None when nothing has a number."""
    numbers = [cell.value for _, cell in rows if not cell.suppressed and cell.value is not None]
    if not numbers:
        return None
    longest = max(numbers) or 1
    room = WIDTH - LABEL_SPACE
    bars = []
    for index, (label, cell) in enumerate(rows):
        shown = not cell.suppressed and cell.value is not None
        length = round(cell.value * room / longest) if shown else 0
        figure = cell.label + (" (rounded)" if cell.rounded else "")
        bars.append(Bar(label, figure, index * ROW, length, shown))
    return Chart(bars, WIDTH, len(rows) * ROW, BAR)
