"""The chart of members' released totals on a partnership's measure page.

It plots only what disclosure control released: a rounded count is a bar; a hidden or
withheld one has no bar, only its words, so the chart never shows more than its table.
"""

from __future__ import annotations

from portal import charts
from portal.disclosure import ReleasedCell


def _text(cell: ReleasedCell) -> str:
    return cell.label + (" (rounded)" if cell.rounded else "")


def members_chart(measure: str, period: str, rows: list[tuple[str, ReleasedCell]]):
    """A bar per member's released total (no bars, and says so, when none reported)."""
    names = [name for name, _ in rows]
    values = [None if cell.suppressed else cell.value for _, cell in rows]
    series = charts.Series("Total, as released", values, texts=[_text(cell) for _, cell in rows])
    shown = [
        (name, v, t)
        for name, v, t in zip(names, values, series.cell_texts(), strict=True)
        if v is not None
    ]
    hidden = len(rows) - len(shown)
    if not rows:
        summary = f"No member has figures for {period}"
    elif shown:
        name, _, text = max(shown, key=lambda s: s[1])
        summary = (
            f"Of the {len(rows)} members with figures for {period}, "
            f"{name} released the highest total, {text}"
        )
    else:
        summary = f"Every member's total for {period} is hidden by disclosure control"
    if hidden and shown:
        summary += (
            f"; {hidden} {'total is' if hidden == 1 else 'totals are'} hidden and have no bar"
        )
    return charts.bar_chart(
        "members-totals",
        title=f"{measure}: each member's total, {period}",
        categories=names,
        series=[series],
        category_label="Member organisation",
        value_label="Total, as released",
        summary=summary + ".",
        caption=f"{measure}, {period}: each member's total as released",
        notes=["A total shown as “fewer than …” or “not shown” has no bar."],
    )
