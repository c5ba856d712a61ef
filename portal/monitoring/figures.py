"""The figures grid: checking values and saving them.

Values are checked in full before anything is written: a grid or a file with one mistake
changes nothing, and every mistake is reported at once, in plain words.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from sqlalchemy import delete

from portal import audit, clock
from portal.extensions import db
from portal.monitoring import periods
from portal.monitoring.measures import TOTAL, row_label, stored_values, tidy
from portal.monitoring.models import (
    DECIMAL_PLACES,
    Figure,
    Measure,
    MeasureValue,
)


@dataclass
class Problem:
    """One mistake: ``ref`` is the id of the grid cell (or None), ``message`` the words."""

    message: str
    ref: str | None = None


class ValuesRejected(Exception):
    """Values were not saved; ``problems`` says every reason."""

    def __init__(self, problems: list[Problem]):
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems


@dataclass
class Cell:
    """One figure as somebody typed it, before checking."""

    period: str
    category: str
    raw: str
    where: str
    ref: str | None = None
    line: int | None = None


@dataclass
class _Checked:
    values: dict[str, dict[str, float]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


def _number(text: str) -> Decimal | None:
    cleaned = (text or "").strip().replace(",", "").replace("£", "").rstrip("%").strip()
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _check_value(measure: Measure, cell: Cell, problems: list[Problem]) -> Figure | None:
    value = _number(cell.raw)
    if value is None:
        problems.append(Problem(f"{cell.where}: enter a number, like 12", cell.ref))
        return None
    bounds = measure.bounds
    if value > bounds.high:
        problems.append(Problem(f"{cell.where}: {bounds.noun} cannot be {bounds.beyond}", cell.ref))
        return None
    if value < bounds.low < 0:
        low = f"{bounds.low:,.0f}"
        problems.append(Problem(f"{cell.where}: {bounds.noun} cannot be below {low}", cell.ref))
        return None
    if measure.unit == "count":
        if value < 0:
            problems.append(Problem(f"{cell.where}: a count cannot be negative", cell.ref))
            return None
        if value != int(value):
            problems.append(Problem(f"{cell.where}: a count must be a whole number", cell.ref))
            return None
        return int(value)
    if value < 0 and not measure.allows_negative:
        problems.append(Problem(f"{cell.where}: this measure cannot be below 0", cell.ref))
        return None
    if value != value.quantize(Decimal(1).scaleb(-DECIMAL_PLACES), rounding=ROUND_HALF_EVEN):
        problems.append(
            Problem(f"{cell.where}: use no more than {DECIMAL_PLACES} decimal places", cell.ref)
        )
        return None
    return tidy(value)


def check_values(
    measure: Measure, cells: Iterable[Cell], base: dict[str, dict[str, float]] | None = None
) -> _Checked:
    """Check typed figures against the measure's rules and merge them into ``base``.

    Blank figures remove a stored one. Each period's result is then checked as a whole:
    a count broken down by a characteristic needs its total, and its parts may not add up
    to more than the total.
    """
    checked = _Checked(values={p: dict(v) for p, v in (base or {}).items()})
    allowed = set(measure.periods)
    rows = set(measure.rows)
    touched: dict[str, str | None] = {}
    for cell in cells:
        if cell.period not in allowed:
            checked.problems.append(
                Problem(
                    f"{cell.where}: {periods.label(cell.period)} is outside the plan, which "
                    f"runs from {measure.plan_label}",
                    cell.ref,
                )
            )
            continue
        if cell.category not in rows:
            checked.problems.append(Problem(_category_problem(measure, cell), cell.ref))
            continue
        figures = checked.values.setdefault(cell.period, {})
        touched.setdefault(cell.period, None)
        if cell.category == TOTAL:
            touched[cell.period] = cell.ref
        if not (cell.raw or "").strip():
            figures.pop(cell.category, None)
            continue
        value = _check_value(measure, cell, checked.problems)
        if value is not None:
            figures[cell.category] = value
    if measure.is_count and measure.characteristic:
        for period, total_ref in touched.items():
            figures = checked.values.get(period, {})
            parts = sum(v for k, v in figures.items() if k != TOTAL)
            label = periods.label(period)
            if TOTAL not in figures:
                if any(k != TOTAL for k in figures):
                    checked.problems.append(
                        Problem(f"{label}: enter the total as well as its parts", total_ref)
                    )
            elif parts > figures[TOTAL]:
                checked.problems.append(
                    Problem(
                        f"{label}: the categories add up to {parts:,.0f}, which is more than "
                        f"the total of {figures[TOTAL]:,.0f}",
                        total_ref,
                    )
                )
    return checked


def _category_problem(measure: Measure, cell: Cell) -> str:
    c = measure.characteristic
    if c is None:
        return f"{cell.where}: this measure has no breakdown, so leave the category empty"
    return (
        f"{cell.where}: “{cell.category}” is not a category of {c.label.lower()}. "
        f"Use one of: {'; '.join(c.categories)}"
    )


def save_values(
    measure: Measure,
    cells: list[Cell],
    *,
    replace_periods: Iterable[str] = (),
    via: str,
    is_demo: bool = False,
) -> int:
    """Check figures and, only if every one is right, save them in one transaction.

    Periods in ``replace_periods`` (a grid's columns) are replaced entirely; otherwise a
    figure is added or changed and the rest of the period is kept. Returns how many
    figures the measure now holds for the periods touched. Raises :class:`ValuesRejected`.
    """
    stored = stored_values(measure)
    base = {p: v for p, v in stored.items() if p not in set(replace_periods)}
    checked = check_values(measure, cells, base)
    if checked.problems:
        raise ValuesRejected(checked.problems)
    touched = sorted({c.period for c in cells} | set(replace_periods))
    db.session.execute(
        delete(MeasureValue).where(
            MeasureValue.measure_id == measure.id, MeasureValue.period.in_(touched)
        )
    )
    now = clock.utcnow()
    count = 0
    for period in touched:
        for category, value in checked.values.get(period, {}).items():
            db.session.add(
                MeasureValue(
                    measure_id=measure.id,
                    period=period,
                    category=category,
                    value=value,
                    is_demo=is_demo,
                    updated_at=now,
                )
            )
            count += 1
    measure.updated_at = now
    audit.record(
        "measure.values_saved", measure, detail={"via": via, "periods": touched, "figures": count}
    )
    db.session.commit()
    return count


def grid_cells(measure: Measure, shown_periods: list[str], form: dict) -> list[Cell]:
    """The cells of a submitted grid; inputs are named ``v-<period>-<row number>``."""
    cells = []
    for period in shown_periods:
        for index, category in enumerate(measure.rows):
            ref = grid_id(period, index)
            cells.append(
                Cell(
                    period=period,
                    category=category,
                    raw=form.get(ref, ""),
                    where=f"{row_label(category)}, {periods.label(period)}",
                    ref=ref,
                )
            )
    return cells


def grid_id(period: str, index: int) -> str:
    return f"v-{period}-{index}"
