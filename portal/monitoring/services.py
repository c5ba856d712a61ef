"""The rules for measures, their values and community profiles; every change is audited.

Values are checked in full before anything is written: a grid or a file with one mistake
changes nothing, and every mistake is reported at once, in plain words.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from flask import has_request_context
from flask_login import current_user
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from portal import audit, clock
from portal.aims.models import AimMeasure, JointAim
from portal.disclosure import (
    Release,
    ReleasedCell,
    ReleasedTable,
    Rule,
    RuleError,
    below_floor,
    next_release,
    released_rate,
    table_from_data,
    table_to_data,
    withheld,
)
from portal.editing import EditConflict, commit_edit
from portal.extensions import db
from portal.monitoring import catalogue, categories, periods, targets
from portal.monitoring.models import (
    DECIMAL_PLACES,
    FIGURE_BOUNDS,
    UNITS,
    CommunityProfile,
    Figure,
    FigureRelease,
    Measure,
    MeasureDefinition,
    MeasureValue,
    PopulationFigure,
)
from portal.partners.models import Partnership, Tenant
from portal.tenancy import across_tenants, current_tenant_id, tenant_scope

MAX_IMPORT_BYTES = 1_000_000
MAX_IMPORT_LINES = 5000
EARLIEST_YEAR, LATEST_YEAR = 2000, 2100
TOTAL = ""


class MeasureError(ValueError):
    """A measure could not be added; ``field`` names the form field at fault."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


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


# --- measures --------------------------------------------------------------------------


def measures():
    """The current tenant's measures, as a select()."""
    return select(Measure).order_by(Measure.name, Measure.breakdown, Measure.id)


def definitions_for(tenant: Tenant):
    """Definitions a tenant may take up: built in, and its partnerships' joint measures
    (the partnership scope of the tenant's pages shows exactly those)."""
    return select(MeasureDefinition).order_by(
        MeasureDefinition.partnership_id.is_not(None), MeasureDefinition.id
    )


def _check_shape(
    name: str, unit: str, period_type: str, breakdown: str, first_year, last_year
) -> str:
    """Check what a measure is and the years of its plan; returns the name, tidied."""
    name = (name or "").strip()
    if not name:
        raise MeasureError("name", "Enter the measure's name")
    if len(name) > 200:
        raise MeasureError("name", "Name must be 200 characters or fewer")
    if unit not in UNITS:
        raise MeasureError("unit", "Choose what the measure counts")
    if period_type not in periods.PERIOD_TYPES:
        raise MeasureError("period_type", "Choose how often it is measured")
    if breakdown and not categories.characteristic(breakdown):
        raise MeasureError("breakdown", "Choose a characteristic from the list")
    if first_year is None or last_year is None:
        raise MeasureError("first_year", "Enter the first and last years of the plan")
    if not all(EARLIEST_YEAR <= y <= LATEST_YEAR for y in (first_year, last_year)):
        raise MeasureError("first_year", "Enter years between 2000 and 2100")
    if last_year < first_year:
        raise MeasureError("last_year", "The last year must be the same as the first or after it")
    if last_year - first_year > 20:
        raise MeasureError("last_year", "A plan can run for at most 21 years")
    return name


def add_measure(
    *,
    definition: MeasureDefinition | None = None,
    name: str = "",
    unit: str = "",
    period_type: str = "",
    breakdown: str = "",
    allows_negative: bool = False,
    description: str = "",
    first_year: int,
    last_year: int,
    is_demo: bool = False,
    target_value=None,
    target_direction: str = "",
    amber_threshold=None,
) -> Measure:
    """Add a measure to the current tenant, from a definition or described in full, with
    its target if it has one (portal/monitoring/targets.py)."""
    if definition is not None:
        name, unit, period_type = definition.name, definition.unit, definition.period_type
        allows_negative, description = definition.allows_negative, definition.description
        if definition.breakdown != catalogue.ANY:
            breakdown = definition.breakdown
        elif not categories.characteristic(breakdown):
            raise MeasureError("breakdown", "Choose the characteristic to break it down by")
    name = _check_shape(name, unit, period_type, breakdown, first_year, last_year)
    target = _check_target(unit, allows_negative, target_value, target_direction, amber_threshold)
    now = clock.utcnow()
    row = Measure(
        **target,
        definition_id=definition.id if definition else None,
        name=name,
        unit=unit,
        period_type=period_type,
        breakdown=breakdown or "",
        allows_negative=allows_negative,
        description=description or "",
        source=definition.source if definition else "",
        first_year=first_year,
        last_year=last_year,
        is_demo=is_demo,
        created_at=now,
        updated_at=now,
    )
    db.session.add(row)
    db.session.flush()
    audit.record("measure.created", row, detail={"name": name, "breakdown": row.breakdown})
    db.session.commit()
    return row


def current_plan_years(tenant: Tenant) -> tuple[int, int] | None:
    """The first and last year (April to March) of the tenant's current plan period:
    its partnerships' published periods that cover this year, taken together. None for
    an organisation in no partnership, or whose partnerships have no current period."""
    from portal.aims import services as aims

    return aims.current_plan_years([p.id for p in tenant.partnerships])


def current_plan_label(tenant: Tenant) -> str:
    years = current_plan_years(tenant)
    return periods.plan_label(*years) if years else "no current plan period"


def follow_current_period(tenant: Tenant) -> int:
    """Carry the current tenant's measures into its current plan period: a measure whose
    plan ends before the period does now runs to the period's last year (its earlier
    years and figures stay as they were). Returns how many measures changed."""
    years = current_plan_years(tenant)
    if years is None:
        return 0
    changed = 0
    for row in db.session.scalars(select(Measure).where(Measure.last_year < years[1])):
        before = row.last_year
        row.last_year = years[1]
        row.updated_at = clock.utcnow()
        audit.record(
            "measure.plan_followed",
            row,
            detail={"last_year": [before, years[1]], "plan": periods.plan_label(*years)},
        )
        changed += 1
    db.session.commit()
    return changed


def plan_windows(measure: Measure, tenant: Tenant) -> list[tuple[int, int]]:
    """The spans of years a figures grid shows one at a time: each of the tenant's
    partnerships' published plan periods within the measure's years, and the rest of
    its years as one span each side. A measure within one span has one window."""
    from portal.aims import services as aims
    from portal.aims.models import PlanPeriod

    spans = set()
    for partnership in tenant.partnerships:
        for period in db.session.scalars(
            aims.periods().where(
                PlanPeriod.partnership_id == partnership.id, PlanPeriod.is_draft.is_(False)
            )
        ):
            first = max(period.start_year, measure.first_year)
            last = min(period.end_year - 1, measure.last_year)
            if first <= last:
                spans.add((first, last))
    windows = sorted(spans)
    # Years no period covers form spans of their own, so every year can be reached.
    covered = {y for first, last in windows for y in range(first, last + 1)}
    loose = [y for y in range(measure.first_year, measure.last_year + 1) if y not in covered]
    run: list[int] = []
    for year in [*loose, None]:
        if run and (year is None or year != run[-1] + 1):
            windows.append((run[0], run[-1]))
            run = []
        if year is not None:
            run.append(year)
    return sorted(windows) or [(measure.first_year, measure.last_year)]


def _plain(value):
    """A value the audit trail's JSON can hold (a Decimal target as its text)."""
    return str(value) if isinstance(value, Decimal) else value


def _check_target(unit: str, allows_negative: bool, target, direction, amber) -> dict:
    bounds = FIGURE_BOUNDS[unit]
    if allows_negative:
        bounds = bounds._replace(low=-bounds.high)
    try:
        return targets.check_target(unit, bounds, target, direction, amber)
    except targets.TargetError as exc:
        raise MeasureError(exc.field, exc.message) from None


def _outside(stored_periods: Iterable[str], allowed: list[str]) -> list[str]:
    return sorted(set(stored_periods) - set(allowed))


def _shape_change_problem(
    before: dict, after: dict, stored_periods: set[str], whose: str = "It has"
) -> MeasureError | None:
    """Why a change would leave figures already saved meaning something else, if it would."""
    if not stored_periods:
        return None
    if after["unit"] != before["unit"]:
        return MeasureError(
            "unit",
            f"{whose} figures saved, so what it counts cannot change: a figure entered as "
            f"“{UNITS[before['unit']].lower()}” would be read as something else. "
            "Add a new measure instead",
        )
    if after["period_type"] != before["period_type"]:
        return MeasureError(
            "period_type",
            f"{whose} figures saved for each {before['period_type']}, so how often it is "
            "measured cannot change. Add a new measure instead",
        )
    if after["breakdown"] != before["breakdown"]:
        return MeasureError(
            "breakdown",
            f"{whose} figures saved by {_breakdown_words(before['breakdown'])}, so the "
            "breakdown cannot change. Add the measure again with the other breakdown",
        )
    allowed = periods.periods(after["period_type"], after["first_year"], after["last_year"])
    outside = _outside(stored_periods, allowed)
    if outside:
        shown = ", ".join(periods.label(p) for p in outside[:4])
        more = f" and {len(outside) - 4} more" if len(outside) > 4 else ""
        return MeasureError(
            "first_year",
            f"{whose} figures saved for {shown}{more}, which would be outside the plan. "
            "Keep those years in the plan, or remove their figures first",
        )
    return None


def _breakdown_words(breakdown: str) -> str:
    c = categories.characteristic(breakdown)
    return c.label.lower() if c else "no breakdown (totals only)"


def update_measure(
    row: Measure,
    *,
    name: str,
    unit: str,
    period_type: str,
    breakdown: str,
    description: str,
    first_year: int | None,
    last_year: int | None,
    version: int,
    target_value=None,
    target_direction: str = "",
    amber_threshold=None,
) -> Measure:
    """Save changes made to ``version`` of a measure; refuse them if somebody saved in
    between (:class:`EditConflict`) or if they would change what saved figures mean.

    A measure taken up from a definition keeps the definition's name, unit and period;
    its breakdown may change only if the definition leaves it open.
    """
    submitted = {
        "name": (name or "").strip(),
        "unit": unit or "",
        "period_type": period_type or "",
        "breakdown": breakdown or "",
        "description": (description or "").strip(),
        "first_year": first_year,
        "last_year": last_year,
        "target_value": target_value,
        "target_direction": target_direction or "",
        "amber_threshold": amber_threshold,
    }
    if row.version != version:
        raise EditConflict(row, submitted)
    definition = row.definition
    if definition is not None:
        fixed = {"name": row.name, "unit": row.unit, "period_type": row.period_type}
        if definition.breakdown != catalogue.ANY:
            fixed["breakdown"] = row.breakdown
        for key, value in fixed.items():
            if submitted[key] != value:
                kind = "a joint measure of a partnership" if definition.is_joint else "built in"
                can = "plan years and breakdown" if "breakdown" not in fixed else "plan years"
                raise MeasureError(
                    key, f"This measure is {kind}, so only its {can} can change here"
                )
        if definition.breakdown == catalogue.ANY and not submitted["breakdown"]:
            raise MeasureError("breakdown", "Choose the characteristic to break it down by")
        submitted["description"] = row.description
    submitted["name"] = _check_shape(
        submitted["name"],
        submitted["unit"],
        submitted["period_type"],
        submitted["breakdown"],
        first_year,
        last_year,
    )
    submitted.update(
        _check_target(
            submitted["unit"], row.allows_negative, target_value, target_direction, amber_threshold
        )
    )
    before = {k: getattr(row, k) for k in submitted}
    problem = _shape_change_problem(before, submitted, set(stored_values(row)))
    if problem:
        raise problem
    changed = [k for k, v in submitted.items() if before[k] != v]
    if not changed:
        return row
    for key in changed:
        setattr(row, key, submitted[key])
    row.updated_at = clock.utcnow()
    audit.record(
        "measure.updated",
        row,
        detail={"fields": changed, "from": {k: _plain(before[k]) for k in changed}},
    )
    return commit_edit(row, submitted)


def delete_measure(row: Measure) -> int:
    """Delete a measure and every figure saved for it; returns how many figures went."""
    figures = db.session.scalar(
        select(func.count(MeasureValue.id)).where(MeasureValue.measure_id == row.id)
    )
    audit.record(
        "measure.deleted",
        row,
        detail={"name": row.name, "breakdown": row.breakdown, "figures": figures},
    )
    db.session.execute(delete(MeasureValue).where(MeasureValue.measure_id == row.id))
    db.session.delete(row)
    db.session.commit()
    return figures


def stored_values(measure: Measure) -> dict[str, dict[str, Figure]]:
    """The measure's figures, by period and then category ("" for the total)."""
    return stored_values_of([measure]).get(measure.id, {})


def stored_values_of(measures: list[Measure]) -> dict[int, dict[str, dict[str, Figure]]]:
    """Several measures' figures in one query, by measure id and then as
    :func:`stored_values` gives them (a measure with none has an empty dict)."""
    out: dict[int, dict[str, dict[str, Figure]]] = {m.id: {} for m in measures}
    if not out:
        return out
    by_id = {m.id: m for m in measures}
    query = select(
        MeasureValue.measure_id, MeasureValue.period, MeasureValue.category, MeasureValue.value
    ).where(MeasureValue.measure_id.in_(list(out)))
    for measure_id, period, category, value in db.session.execute(query):
        # NUMERIC comes back as Decimal('12.0000'): every read gives the exact figure.
        out[measure_id].setdefault(period, {})[category] = exact(by_id[measure_id], value)
    return out


def exact(measure: Measure, value) -> Figure:
    """A stored figure as the exact number it is: a whole number for a count, else a
    decimal (never a binary float, which cannot hold every figure people type)."""
    if measure.unit == "count":
        return int(value)
    return tidy(Decimal(value))


def tidy(value: Decimal) -> Decimal:
    """``value`` without trailing zeros (12.5, not 12.5000), and never written as 1E+3."""
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value.normalize()


def row_label(category: str) -> str:
    return category or "Total"


# --- checking values -------------------------------------------------------------------


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


_UNREADABLE_CSV = (
    "The file could not be read as a CSV file: a value may be far too long, or a quotation "
    "mark may not be closed. Check the file and try again"
)


NOT_A_SPREADSHEET = (
    "That is not a spreadsheet. Choose a CSV file or an Excel workbook (.xlsx) with the "
    "columns period, category and value"
)
# How files that are not spreadsheets begin: PDF, images, Word and other documents.
_OTHER_FILES = (b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"{\\rtf", b"\x1f\x8b", b"Rar!")


def file_cells(measure: Measure, filename: str, data: bytes) -> tuple[list[Cell], str]:
    """Figures from a CSV file or an Excel workbook, told apart by what the file holds.

    Returns the cells and how they came (``"csv"`` or ``"xlsx"``). Raises
    :class:`ValuesRejected` for anything else (a PDF, a Word document, an image), saying
    plainly that it is not a spreadsheet.
    """
    if len(data) > MAX_IMPORT_BYTES:
        raise ValuesRejected([Problem("The file must be smaller than 1 MB")])
    if not data.strip():
        raise ValuesRejected([Problem("The selected file is empty")])
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise ValuesRejected(
            [
                Problem(
                    "Excel 97–2003 workbooks (.xls) cannot be read: save it as .xlsx or CSV "
                    "and import it again"
                )
            ]
        )
    if data.startswith(_OTHER_FILES):
        raise ValuesRejected([Problem(NOT_A_SPREADSHEET)])
    if data.startswith(b"PK\x03\x04"):
        return _cells(measure, _workbook_rows(data)), "xlsx"
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ValuesRejected([Problem(NOT_A_SPREADSHEET)])
    return csv_cells(measure, data), "csv"


def _workbook_rows(data: bytes) -> list[list[str]]:
    """The rows of the workbook's sheet of figures, as text: the first sheet whose first
    row names the columns period and value, or else the first sheet."""
    import zipfile

    from portal.actions import importing

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise ValuesRejected([Problem(NOT_A_SPREADSHEET)]) from None
    if "xl/workbook.xml" not in names:
        raise ValuesRejected([Problem(NOT_A_SPREADSHEET)])
    try:
        sheets = importing.workbook_sheets(data, max_rows=MAX_IMPORT_LINES)
    except importing.ImportProblem as exc:
        raise ValuesRejected([Problem(str(exc))]) from None
    for _, rows in sheets:
        first = next((r for r in rows if any(r)), [])
        if {"period", "value"} <= {c.strip().lower() for c in first}:
            return rows
    return sheets[0][1] if sheets else []


def csv_cells(measure: Measure, data: bytes) -> list[Cell]:
    """Read a CSV file of figures: columns period, category (empty for the total), value.

    Raises :class:`ValuesRejected` for a file that cannot be read or has lines that are
    not figures; values themselves are checked by :func:`save_values`.
    """
    if len(data) > MAX_IMPORT_BYTES:
        raise ValuesRejected([Problem("The file must be smaller than 1 MB")])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValuesRejected([Problem("The file must be a CSV file saved as UTF-8")]) from None
    try:
        lines = list(csv.reader(io.StringIO(text)))
    except csv.Error:
        raise ValuesRejected([Problem(_UNREADABLE_CSV)]) from None
    return _cells(measure, lines)


def _cells(measure: Measure, lines: list[list[str]]) -> list[Cell]:
    """The figures in rows of text whose first row names the columns."""
    header = [h.strip().lower() for h in (lines[0] if lines else [])]
    if not {"period", "value"} <= set(header):
        raise ValuesRejected(
            [Problem("The first line of the file must name the columns: period, category, value")]
        )
    at = {name: header.index(name) for name in ("period", "category", "value") if name in header}
    problems: list[Problem] = []
    cells: list[Cell] = []
    seen: dict[tuple[str, str], int] = {}
    for line, row in enumerate(lines[1:], start=2):
        if line > MAX_IMPORT_LINES:
            problems.append(Problem(f"The file can have at most {MAX_IMPORT_LINES} lines"))
            break
        if not any(part.strip() for part in row):
            continue

        def column(name: str, row=row) -> str:
            index = at.get(name)
            return row[index].strip() if index is not None and index < len(row) else ""

        where = f"Line {line}"
        period = periods.parse(column("period"), measure.period_type)
        if period is None:
            example = "2019 Q1" if measure.period_type == periods.QUARTER else "2019"
            problems.append(
                Problem(f"{where}: “{column('period')}” is not a period. Write it like {example}")
            )
            continue
        category = column("category")
        if category.lower() == "total":
            category = TOTAL
        if not column("value"):
            problems.append(Problem(f"{where}: enter a value"))
            continue
        if (period, category) in seen:
            problems.append(
                Problem(
                    f"{where}: repeats the figure for {row_label(category)}, "
                    f"{periods.label(period)} (line {seen[(period, category)]})"
                )
            )
            continue
        seen[(period, category)] = line
        cells.append(Cell(period, category, column("value"), where, line=line))
    if problems:
        raise ValuesRejected(problems)
    if not cells:
        raise ValuesRejected([Problem("The file has no figures in it")])
    return cells


# --- community profile -----------------------------------------------------------------


def profile():
    """The current tenant's community profile, if one has been loaded."""
    return db.session.scalar(select(CommunityProfile).order_by(CommunityProfile.id.desc()))


class ProfileError(ValueError):
    """A profile file could not be loaded; nothing was changed."""


_ROUNDED = " (rounded to nearest 100)"


def read_profile(data: str, area: str | None = None) -> tuple[list[dict], str]:
    """Read a community profile CSV: characteristic (or topic), category, value and,
    optionally, source, unit and an area (lad_code, lad_name).

    A census file with several areas needs ``area`` (a code or a name). Category totals
    are rows whose category starts "Total"; sub-categories ("A: B") and rows that are not
    counts are skipped. Returns the figures and the area's name.
    """
    try:
        rows = list(csv.DictReader(io.StringIO(data.lstrip("\ufeff"))))
    except csv.Error:
        raise ProfileError("Nothing was loaded. " + _UNREADABLE_CSV) from None
    if not rows:
        raise ProfileError("The file has no figures in it")
    fields = set(rows[0])
    topic_column = "characteristic" if "characteristic" in fields else "topic"
    if not {topic_column, "category", "value"} <= fields:
        raise ProfileError("The file needs the columns characteristic, category and value")
    areas = {(r.get("lad_code") or "", r.get("lad_name") or "") for r in rows}
    if area:
        rows = [r for r in rows if area in {r.get("lad_code"), r.get("lad_name")}]
        if not rows:
            raise ProfileError(f"The file has no figures for {area}")
    elif len(areas) > 1:
        names = ", ".join(sorted(f"{code} ({name})" for code, name in areas))
        raise ProfileError(f"The file holds several areas; choose one of: {names}")
    area_name = rows[0].get("lad_name") or area or ""
    figures = []
    problems = []
    for line, row in enumerate(rows, start=2):
        if (row.get("unit") or "count") != "count":
            continue
        topic = (row[topic_column] or "").strip()
        category = (row["category"] or "").strip()
        if category.endswith(_ROUNDED):
            category = category[: -len(_ROUNDED)]
        if topic == "population":
            key = "population"
            category = ""
        else:
            c = categories.characteristic(topic) or categories.by_census_topic(topic)
            if c is None:
                problems.append(f"line {line}: “{topic}” is not a protected characteristic")
                continue
            key = c.key
            if category.lower().startswith("total"):
                category = ""
            elif category not in c.categories:
                if any(category.startswith(f"{known}: ") for known in c.categories):
                    continue
                problems.append(f"line {line}: “{category}” is not a category of {c.label}")
                continue
        try:
            value = int(row["value"])
        except (TypeError, ValueError):
            problems.append(f"line {line}: “{row['value']}” is not a whole number")
            continue
        if value < 0:
            problems.append(f"line {line}: a count cannot be negative")
            continue
        figures.append(
            {
                "characteristic": key,
                "category": category,
                "value": value,
                "source": (row.get("source") or "").strip(),
            }
        )
    if problems:
        raise ProfileError("Nothing was loaded: " + "; ".join(problems[:10]))
    if not figures:
        raise ProfileError("The file has no counts in it")
    return figures, area_name


def load_profile(
    tenant: Tenant, data: str, *, source: str, file_name: str = "", area: str | None = None
) -> CommunityProfile:
    """Replace the current tenant's community profile with the figures in ``data``."""
    source = (source or "").strip()
    if not source:
        raise ProfileError("Say where the figures come from (--source)")
    figures, area_name = read_profile(data, area)
    old = profile()
    if old is not None:
        db.session.delete(old)
        db.session.flush()
    row = CommunityProfile(
        source=source, file_name=file_name, area=area_name, loaded_at=clock.utcnow()
    )
    row.figures = [PopulationFigure(**f) for f in figures]
    db.session.add(row)
    db.session.flush()
    audit.record(
        "community_profile.loaded",
        row,
        tenant_id=tenant.id,
        detail={"figures": len(figures), "source": source[:200], "area": area_name},
    )
    db.session.commit()
    return row


@dataclass
class ShareRow:
    category: str
    count: float | None
    share: float | None
    community: int | None
    community_share: float | None


def profile_tables(row: CommunityProfile | None) -> dict[str, dict[str, int]]:
    """The profile's figures by characteristic, then category ("" for the table total)."""
    out: dict[str, dict[str, int]] = {}
    for f in row.figures if row else []:
        out.setdefault(f.characteristic, {})[f.category] = f.value
    return out


def _share(part: float | None, whole: float | None) -> float | None:
    if part is None or not whole:
        return None
    return part * 100 / whole


def compare(
    measure: Measure,
    period: str,
    community: dict[str, int] | None,
    *,
    stored: dict[str, dict[str, float]] | None = None,
) -> list[ShareRow]:
    """The measure's categories for a period beside the community's, as shares of each
    one's total (the community's table total, or the sum of its categories).

    ``stored``: the measure's figures (:func:`stored_values`), when already read."""
    figures = (stored_values(measure) if stored is None else stored).get(period, {})
    total = figures.get(TOTAL)
    community = community or {}
    community_total = community.get("") or sum(v for k, v in community.items() if k) or None
    return [
        ShareRow(
            category,
            figures.get(category),
            _share(figures.get(category), total),
            community.get(category),
            _share(community.get(category), community_total),
        )
        for category in measure.rows[1:]
    ]


# --- the partnership's view ------------------------------------------------------------


def set_disclosure_rule(partnership: Partnership, threshold: int, rounding: int) -> Rule:
    """Change a partnership's disclosure rule, if it can keep its promises and is no
    weaker than the portal's default (raises :class:`RuleError` saying why not).

    The new rule applies to releases made from now on, never to figures already released.
    The change is recorded in every member's own trail, as it decides how that member's
    figures will leave it.
    """
    floor = below_floor(threshold, rounding)
    if floor:
        raise RuleError(floor)
    rule = Rule(threshold, rounding)
    before = (partnership.disclosure_threshold, partnership.disclosure_rounding)
    partnership.disclosure_threshold, partnership.disclosure_rounding = threshold, rounding
    detail = {"partnership": partnership.slug, "from": list(before), "to": [threshold, rounding]}
    audit.record("partnership.disclosure_rule_changed", partnership, detail=detail)
    for member in partnership.members:
        # Written under the member's own scope: each event belongs to that member's trail.
        with tenant_scope(member):
            audit.record(
                "partnership.disclosure_rule_changed",
                partnership,
                tenant_id=member.id,
                detail=detail,
            )
            db.session.flush()
    db.session.commit()
    return rule


def partnership_definitions(partnership: Partnership):
    """Count measures a partnership may see across its members, as a select(): the
    built-in ones and, with the partnership in scope, its own joint ones."""
    return (
        select(MeasureDefinition)
        .where(MeasureDefinition.unit == "count")
        .order_by(MeasureDefinition.partnership_id.is_(None), MeasureDefinition.id)
    )


@dataclass
class MemberFigures:
    tenant: Tenant
    reported: bool
    table: object | None = None
    base: ReleasedCell | None = None
    rate: float | None = None
    release: FigureRelease | None = None


@dataclass
class PartnershipView:
    """A count measure across a partnership's members for one period, released."""

    periods: list[str]
    period: str | None
    categories: list[str]
    members: list[MemberFigures]
    combined: object | None
    rule: Rule
    base: MeasureDefinition | None = None


def _member_tables(definition: MeasureDefinition) -> dict[str, dict[str, dict[str, float]]]:
    """The current tenant's figures for ``definition`` under every breakdown it reports
    it by: breakdown, then period, then category."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    query = select(Measure).where(Measure.definition_id == definition.id).order_by(Measure.id)
    for measure in db.session.scalars(query):
        if measure.breakdown not in out:
            out[measure.breakdown] = stored_values(measure)
    return out


def _exact_tables(definition: MeasureDefinition, period: str) -> dict[str, tuple[dict, int]]:
    """The current tenant's tables for ``definition`` in ``period``, one per breakdown it
    reports it by, each as (exact cells, exact total): what a release is made from."""
    exact: dict[str, tuple[dict[str, int], int]] = {}
    for breakdown, values in _member_tables(definition).items():
        figures = values.get(period)
        if not figures or TOTAL not in figures:
            continue
        c = categories.characteristic(breakdown)
        # A category with no figure entered counts as not recorded, not as zero.
        parts = {k: int(figures[k]) for k in (c.categories if c else ()) if k in figures}
        exact[breakdown] = (parts, int(figures[TOTAL]))
    return exact


# --- released once -----------------------------------------------------------------------
#
# A member's figures for one measure and period leave it once, into a stored release
# (FigureRelease); every page outside the member reads that release, never live figures.
# Releases are readable across the wall by design (see portal/monitoring/models.py); they
# are only ever written under the releasing member's own scope.

FIRST_VIEW, SIGN_OFF, CORRECTION = "first view", "sign-off", "correction"
TRIGGER_WORDS = {
    FIRST_VIEW: "when a partnership lead first looked at the figures",
    SIGN_OFF: "when the chief executive signed off the annual return",
    CORRECTION: "as a correction asked for by the organisation",
}


class ReleaseError(ValueError):
    """A release or correction could not be made; the message says why."""


def release_of(row: FigureRelease) -> Release:
    """A stored release as the released tables it holds."""
    rule = Rule(row.threshold, row.rounding)
    return Release(rule, {k: table_from_data(v, rule) for k, v in row.tables.items()})


def _chain(tenant_id: int, definition_id: int, period: str) -> list[FigureRelease]:
    return list(
        db.session.scalars(
            select(FigureRelease)
            .where(
                FigureRelease.tenant_id == tenant_id,
                FigureRelease.definition_id == definition_id,
                FigureRelease.period == period,
            )
            .order_by(FigureRelease.version)
        )
    )


def current_release(
    tenant: Tenant, definition: MeasureDefinition, period: str
) -> FigureRelease | None:
    """The release now in force for a member, measure and period (None if none yet)."""
    chain = _chain(tenant.id, definition.id, period)
    return chain[-1] if chain else None


def stored_releases(
    partnership: Partnership,
    definition: MeasureDefinition,
    period: str,
    tenants: Iterable[Tenant] | None = None,
) -> dict[int, FigureRelease]:
    """The releases in force for a partnership's members (or ``tenants`` of them), by
    tenant id, read in one query whatever the number of members: the one read path for
    pages outside the members. Only released figures are read, so no member's scope is
    needed and nothing exact is touched; the read is recorded once, for the partnership.
    """
    members = list(partnership.members if tenants is None else tenants)
    ids = [t.id for t in members]
    if not ids:
        return {}
    rows = db.session.scalars(
        select(FigureRelease)
        .where(
            FigureRelease.tenant_id.in_(ids),
            FigureRelease.definition_id == definition.id,
            FigureRelease.period == period,
        )
        .order_by(FigureRelease.tenant_id, FigureRelease.version)
    )
    # The latest version of each member's chain is the one in force.
    found = {row.tenant_id: row for row in rows}
    audit.record(
        "released_figures.read",
        partnership,
        tenant_id=None,
        detail={
            "partnership": partnership.slug,
            "definition": definition.id,
            "period": period,
            "members": len(ids),
            "releases": len(found),
        },
    )
    db.session.commit()
    return found


def _store(
    tenant: Tenant,
    definition: MeasureDefinition,
    period: str,
    release: Release,
    *,
    version: int,
    trigger: str,
    detail: str,
    user=None,
) -> FigureRelease:
    if user is None and has_request_context() and current_user.is_authenticated:
        user = current_user
    row = FigureRelease(
        tenant_id=tenant.id,
        definition_id=definition.id,
        period=period,
        version=version,
        threshold=release.rule.threshold,
        rounding=release.rule.rounding,
        released_at=clock.utcnow(),
        trigger=trigger,
        trigger_detail=detail[:200],
        released_by_id=getattr(user, "id", None),
        tables={k: table_to_data(t) for k, t in release.tables.items()},
    )
    db.session.add(row)
    db.session.flush()
    return row


def release_member_figures(
    tenant: Tenant,
    definition: MeasureDefinition,
    period: str,
    *,
    trigger: str = FIRST_VIEW,
    detail: str = "",
    user=None,
) -> FigureRelease | None:
    """Release a member's figures for ``definition`` and ``period``, once.

    Idempotent: with a release made, it is returned unchanged, whatever the rules or the
    exact figures are now. Otherwise every table the member reports the measure by is
    released together, under the strictest rule of the member's partnerships at this
    moment, stored, and recorded in the member's trail. None when the member has no
    figures for the period. Called when a partnership lead first looks at the figures,
    and by the sign-off of an annual return.
    """
    existing = current_release(tenant, definition, period)
    if existing is not None:
        return existing
    with tenant_scope(tenant):
        tables = _exact_tables(definition, period)
        rules = [p.disclosure_rule for p in tenant.partnerships]
        release = next_release([], tables, rules)
        if release is None:
            db.session.commit()
            return None
        try:
            row = _first_release(tenant, definition, period, release, trigger, detail, user)
            db.session.commit()
        except IntegrityError:
            # Released at the same moment by another request: that release stands.
            db.session.rollback()
            return current_release(tenant, definition, period)
    return row


def release_counts(
    tenant: Tenant,
    definition: MeasureDefinition,
    period: str,
    tables: dict[str, tuple[dict, int]],
    *,
    trigger: str = SIGN_OFF,
    detail: str = "",
    user=None,
) -> FigureRelease | None:
    """Release counts that a member keeps outside its measures (its registers: impact
    assessments, hate incidents by motivation), once, as :func:`release_member_figures`
    does for measures: with a release already made for ``definition`` and ``period`` it
    is returned unchanged; otherwise ``tables`` (breakdown -> (exact cells, exact total))
    are released together under the strictest rule of the member's partnerships."""
    existing = current_release(tenant, definition, period)
    if existing is not None or not tables:
        return existing
    with tenant_scope(tenant):
        release = next_release([], tables, [p.disclosure_rule for p in tenant.partnerships])
        row = _first_release(tenant, definition, period, release, trigger, detail, user)
        db.session.flush()
    return row


def _first_release(tenant, definition, period, release, trigger, detail, user) -> FigureRelease:
    """Store version 1 of a release and record it in the member's trail; the caller
    commits (a lead's first look) or flushes (inside a sign-off)."""
    row = _store(
        tenant,
        definition,
        period,
        release,
        version=1,
        trigger=trigger,
        detail=detail,
        user=user,
    )
    audit.record(
        "figures.released",
        row,
        tenant_id=tenant.id,
        user=user,
        detail={
            "definition": definition.id,
            "measure": definition.name,
            "period": period,
            "version": 1,
            "rule": [release.rule.threshold, release.rule.rounding],
            "trigger": trigger,
            "trigger_detail": detail,
        },
    )
    return row


@dataclass
class CorrectionPreview:
    """A correction as it would be released: the release in force beside the new one."""

    current: FigureRelease
    old: Release
    new: Release
    breakdowns: list[str]

    @property
    def changes(self) -> bool:
        return self.old.tables != self.new.tables


def preview_correction(
    tenant: Tenant, definition: MeasureDefinition, period: str
) -> CorrectionPreview:
    """What a correction of the current tenant's released figures would release now
    (raises :class:`ReleaseError` when nothing has been released)."""
    chain = _chain(tenant.id, definition.id, period)
    if not chain:
        raise ReleaseError("Nothing has been released for that period")
    releases = [release_of(r) for r in chain]
    new = next_release(releases, _exact_tables(definition, period), [], correcting=True)
    if new is None:
        new = Release(releases[-1].rule, {})
    breakdowns = sorted(set(releases[-1].tables) | set(new.tables))
    return CorrectionPreview(chain[-1], releases[-1], new, breakdowns)


def correct_release(
    tenant: Tenant,
    definition: MeasureDefinition,
    period: str,
    *,
    reason: str,
    seen_version: int,
    user=None,
) -> FigureRelease:
    """Release the current tenant's corrected figures, as a new release that replaces the
    one in force, checked with every earlier release so that they cannot be set side by
    side to work a hidden count out. ``seen_version`` is the release the officer saw
    beside the correction; if another was made since, nothing is released."""
    reason = (reason or "").strip()
    if not reason:
        raise ReleaseError("Say why the released figures are being corrected")
    if len(reason) > 200:
        raise ReleaseError("The reason must be 200 characters or fewer")
    preview = preview_correction(tenant, definition, period)
    if preview.current.version != seen_version:
        raise ReleaseError(
            "The released figures changed while you were looking at them. Check the "
            "correction again"
        )
    if not preview.changes:
        raise ReleaseError(
            "The corrected figures would be released exactly as they are now, so there is "
            "nothing to correct"
        )
    version = preview.current.version + 1
    try:
        row = _store(
            tenant,
            definition,
            period,
            preview.new,
            version=version,
            trigger=CORRECTION,
            detail=reason,
            user=user,
        )
        audit.record(
            "figures.correction_released",
            row,
            tenant_id=tenant.id,
            user=user,
            detail={
                "definition": definition.id,
                "measure": definition.name,
                "period": period,
                "version": version,
                "reason": reason,
                "before": {k: table_to_data(t) for k, t in preview.old.tables.items()},
                "after": {k: table_to_data(t) for k, t in preview.new.tables.items()},
            },
        )
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise ReleaseError(
            "Another correction was released at the same moment. Check the correction again"
        ) from None
    return row


def releases_for(tenant: Tenant, definition: MeasureDefinition) -> list[FigureRelease]:
    """Every release of a member's figures for ``definition``, newest first."""
    return list(
        db.session.scalars(
            select(FigureRelease)
            .where(
                FigureRelease.tenant_id == tenant.id,
                FigureRelease.definition_id == definition.id,
            )
            .order_by(FigureRelease.period.desc(), FigureRelease.version.desc())
        )
    )


def _member_periods(definition: MeasureDefinition) -> set[str]:
    """The periods for which the current tenant has a total for ``definition`` (names of
    periods only; no figure)."""
    ids = select(Measure.id).where(Measure.definition_id == definition.id)
    return set(
        db.session.scalars(
            select(MeasureValue.period).where(
                MeasureValue.measure_id.in_(ids), MeasureValue.category == TOTAL
            )
        )
    )


def across_members(
    partnership: Partnership, definition: MeasureDefinition, breakdown: str, period: str | None
) -> PartnershipView:
    """Each member's released figures for ``definition`` (by ``breakdown``) in ``period``.

    Only stored releases are shown (:func:`stored_releases`, one query for all members).
    A member with figures for the period and no release yet releases them now
    (:func:`release_member_figures`, the first view); from then on that release is what
    every partnership the member is in sees, whatever its rule becomes. For a count that
    is part of another (its ``base``), the base's release is read the same way, and the
    percentage is worked out from the two released totals. The row across members is
    worked out from the members' released totals only.
    """
    base = definition.base if definition.base is not None and definition.is_count else None
    live: dict[int, set[str]] = {}
    live_base: dict[int, set[str]] = {}
    for tenant in across_tenants(
        partnership.members, purpose=f"measure {definition.id} for {partnership.slug}"
    ):
        live[tenant.id] = _member_periods(definition)
        if base is not None:
            live_base[tenant.id] = _member_periods(base)
    db.session.commit()
    released_periods = set(
        db.session.scalars(
            select(FigureRelease.period).where(
                FigureRelease.definition_id == definition.id,
                FigureRelease.tenant_id.in_([t.id for t in partnership.members]),
            )
        )
    )
    all_periods = sorted(set().union(*live.values(), released_periods))
    if period not in all_periods:
        period = all_periods[-1] if all_periods else None
    c = categories.characteristic(breakdown)
    cats = list(c.categories) if c else []
    if period is None:
        return PartnershipView(all_periods, None, cats, [], None, partnership.disclosure_rule)
    releases = _release_where_needed(partnership, definition, period, live)
    base_releases = (
        _release_where_needed(partnership, base, period, live_base) if base is not None else {}
    )
    members = []
    totals: dict[str, ReleasedCell] = {}
    for tenant in partnership.members:
        row = releases.get(tenant.id)
        stored = release_of(row) if row is not None else None
        table = stored.tables.get(breakdown) if stored is not None else None
        if table is None:
            members.append(MemberFigures(tenant, False))
            continue
        figures = MemberFigures(tenant, True, table, release=row)
        base_row = base_releases.get(tenant.id)
        base_table = release_of(base_row).tables.get(breakdown) if base_row else None
        if base is not None and base_table is not None:
            figures.base = base_table.total
            figures.rate = released_rate(table.total, figures.base)
        members.append(figures)
        totals[tenant.slug] = table.total
    # Across members only when there is no breakdown: a members-by-categories table with
    # totals both ways would let rows and columns be subtracted from each other.
    combined = _combined(totals, partnership.disclosure_rule) if totals and not cats else None
    return PartnershipView(
        all_periods, period, cats, members, combined, partnership.disclosure_rule, base
    )


def _release_where_needed(
    partnership: Partnership,
    definition: MeasureDefinition,
    period: str,
    live: dict[int, set[str]],
) -> dict[int, FigureRelease]:
    """The members' releases for ``period``, releasing now for members with figures and
    none released yet."""
    releases = stored_releases(partnership, definition, period)
    for tenant in partnership.members:
        if tenant.id not in releases and period in live.get(tenant.id, set()):
            row = release_member_figures(
                tenant, definition, period, trigger=FIRST_VIEW, detail=partnership.slug
            )
            if row is not None:
                releases[tenant.id] = row
    return releases


def _combined(totals: dict[str, ReleasedCell], rule: Rule) -> ReleasedTable:
    """The members' released totals, and their sum where every one is shown as a number.

    Worked out from released figures only, never from exact totals: exact figures read
    again at every view would move with every change a member makes and could be set
    beside the stored releases. The sum says nothing the members' released totals do not.
    """
    if all(cell.value is not None for cell in totals.values()):
        value = sum(cell.value for cell in totals.values())
        total = ReleasedCell("rounded" if value else "zero", value, rule.threshold)
    else:
        total = withheld(rule)
    return ReleasedTable(dict(totals), ReleasedCell("zero", 0, rule.threshold), total, rule)


def member_breakdowns(partnership: Partnership) -> list[tuple[MeasureDefinition, str]]:
    """The (definition, breakdown) pairs that at least one member reports."""
    pairs: set[tuple[int, str]] = set()
    for _tenant in across_tenants(partnership.members, purpose="list of shared measures"):
        query = select(Measure.definition_id, Measure.breakdown).where(
            Measure.definition_id.is_not(None)
        )
        pairs |= {(d, b) for d, b in db.session.execute(query)}
    db.session.commit()
    shown = db.session.scalars(partnership_definitions(partnership)).all()
    return [(d, b) for d in shown for b in sorted({b for i, b in pairs if i == d.id})]


def built_in_definitions():
    return select(MeasureDefinition).where(MeasureDefinition.partnership_id.is_(None))


def ensure_catalogue() -> int:
    """Add any built-in measure definition that is missing; returns how many were added."""
    have = set(db.session.scalars(select(MeasureDefinition.key)))
    added = 0
    for item in catalogue.BUILT_IN:
        if item["key"] not in have:
            db.session.add(MeasureDefinition(**item))
            added += 1
    if added:
        db.session.commit()
    return added


# --- joint measures --------------------------------------------------------------------


def joint_measures():
    """The joint measures in scope (a partnership's page: its own), as a select()."""
    return (
        select(MeasureDefinition)
        .where(MeasureDefinition.partnership_id.is_not(None))
        .order_by(MeasureDefinition.name, MeasureDefinition.id)
    )


def aim_measure_choices() -> list[AimMeasure]:
    """The partnership's "How will we measure our results?" answers, to link a joint
    measure to (the partnership in scope's own)."""
    return list(
        db.session.scalars(
            select(AimMeasure)
            .join(JointAim, AimMeasure.aim_id == JointAim.id)
            .order_by(JointAim.id, AimMeasure.position, AimMeasure.id)
        )
    )


def _joint_links(
    partnership: Partnership,
    definition: MeasureDefinition | None,
    unit: str,
    breakdown: str,
    period_type: str,
    aim_measure_id: int | None,
    base_id: int | None,
) -> None:
    if aim_measure_id is not None:
        link = db.session.scalar(select(AimMeasure).where(AimMeasure.id == aim_measure_id))
        if link is None:
            raise MeasureError("aim_measure", "Choose one of the partnership's aims' measures")
    if base_id is not None:
        base = db.session.scalar(select(MeasureDefinition).where(MeasureDefinition.id == base_id))
        if base is None or not base.is_joint:
            raise MeasureError("base", "Choose one of the partnership's joint measures")
        if definition is not None and base.id == definition.id:
            raise MeasureError("base", "A measure cannot be a part of itself")
        if unit != "count" or base.unit != "count":
            raise MeasureError(
                "base",
                "Only a count can be part of another count. Choose “no base”, or make "
                "both measures counts",
            )
        if base.period_type != period_type or base.breakdown != breakdown:
            raise MeasureError(
                "base",
                f"{base.name} is measured {periods.PERIOD_TYPES[base.period_type].lower()} "
                f"by {_breakdown_words(base.breakdown)}; the base must be measured as often "
                "and broken down the same way",
            )


def add_joint_measure(
    partnership: Partnership,
    *,
    name: str,
    unit: str,
    period_type: str,
    breakdown: str,
    description: str,
    first_year: int | None,
    last_year: int | None,
    aim_measure_id: int | None = None,
    base_id: int | None = None,
    whole_name: str = "",
) -> MeasureDefinition:
    """Add a measure the partnership asks its members to report.

    A percentage cannot cross the wall safely on its own (a percentage of a small group
    can show how many people it is about), so a percentage is added as two counts: the
    whole (``whole_name``) and the part (``name``), whose base is the whole. Members report
    the counts; the partnership sees the percentage worked out from the released counts.
    Returns the part.
    """
    name = _check_shape(name, unit, period_type, breakdown, first_year, last_year)
    whole_name = (whole_name or "").strip()
    if unit == "percentage":
        if base_id is not None:
            raise MeasureError(
                "base",
                "Only a count can be part of another count. A percentage is worked out "
                "from its own two counts: choose “no base”",
            )
        if not whole_name:
            raise MeasureError(
                "whole_name",
                "Enter what the percentage is out of. A percentage is shared as two counts "
                "(how many, and out of how many), so that small groups stay hidden",
            )
        if whole_name.lower() == name.lower():
            raise MeasureError("whole_name", "The whole needs a name of its own")
        whole = add_joint_measure(
            partnership,
            name=whole_name,
            unit="count",
            period_type=period_type,
            breakdown=breakdown,
            description=f"The whole that “{name}” is a percentage of.",
            first_year=first_year,
            last_year=last_year,
            aim_measure_id=aim_measure_id,
        )
        return add_joint_measure(
            partnership,
            name=name,
            unit="count",
            period_type=period_type,
            breakdown=breakdown,
            description=description
            or f"Shared as a percentage of “{whole_name}”, worked out from the two counts.",
            first_year=first_year,
            last_year=last_year,
            aim_measure_id=aim_measure_id,
            base_id=whole.id,
        )
    _joint_links(partnership, None, unit, breakdown, period_type, aim_measure_id, base_id)
    row = MeasureDefinition(
        name=name,
        unit=unit,
        period_type=period_type,
        breakdown=breakdown or "",
        allows_negative=False,
        description=(description or "").strip(),
        source=f"Joint measure of {partnership.name}",
        first_year=first_year,
        last_year=last_year,
        aim_measure_id=aim_measure_id,
        base_id=base_id,
    )
    db.session.add(row)
    db.session.flush()
    audit.record(
        "joint_measure.created", row, detail={"name": name, "partnership": partnership.slug}
    )
    db.session.commit()
    return row


@dataclass
class JointUse:
    """How members use a joint measure: who reports it, and the periods with figures."""

    reporting: list[Tenant]
    periods: set[str]
    figures: int


def joint_use(partnership: Partnership, definition: MeasureDefinition) -> JointUse:
    """Which members report ``definition`` and for which periods (no figures leave)."""
    reporting, seen, figures = [], set(), 0
    for tenant in across_tenants(
        partnership.members, purpose=f"use of joint measure {definition.id}"
    ):
        ids = list(
            db.session.scalars(select(Measure.id).where(Measure.definition_id == definition.id))
        )
        if not ids:
            continue
        reporting.append(tenant)
        for period in db.session.scalars(
            select(MeasureValue.period).where(MeasureValue.measure_id.in_(ids))
        ):
            seen.add(period)
            figures += 1
    db.session.commit()
    return JointUse(reporting, seen, figures)


def update_joint_measure(
    partnership: Partnership,
    definition: MeasureDefinition,
    *,
    name: str,
    unit: str,
    period_type: str,
    breakdown: str,
    description: str,
    first_year: int | None,
    last_year: int | None,
    aim_measure_id: int | None,
    base_id: int | None,
    version: int,
) -> MeasureDefinition:
    """Save changes made to ``version`` of a joint measure.

    What it counts, how often and its breakdown are fixed once any member has figures
    for it; the plan years may not leave members' figures outside the plan.
    """
    submitted = {
        "name": (name or "").strip(),
        "unit": unit or "",
        "period_type": period_type or "",
        "breakdown": breakdown or "",
        "description": (description or "").strip(),
        "first_year": first_year,
        "last_year": last_year,
        "aim_measure_id": aim_measure_id,
        "base_id": base_id,
    }
    if definition.version != version:
        raise EditConflict(definition, submitted)
    submitted["name"] = _check_shape(
        submitted["name"], unit, period_type, breakdown, first_year, last_year
    )
    _joint_links(partnership, definition, unit, breakdown, period_type, aim_measure_id, base_id)
    before = {k: getattr(definition, k) for k in submitted}
    if any(before[k] != submitted[k] for k in ("unit", "period_type", "breakdown")) or (
        (first_year, last_year) != (before["first_year"], before["last_year"])
    ):
        use = joint_use(partnership, definition)
        for key in ("unit", "period_type", "breakdown"):
            if use.reporting and before[key] != submitted[key]:
                names = ", ".join(t.name for t in use.reporting)
                raise MeasureError(
                    key,
                    f"Members already report this measure ({names}), so what it counts, how "
                    "often and its breakdown cannot change: their figures would no longer "
                    "mean the same. Add a new joint measure instead",
                )
        problem = _shape_change_problem(before, submitted, use.periods, "Members have")
        if problem:
            raise problem
    if any(
        before[k] != submitted[k] for k in ("unit", "period_type", "breakdown")
    ) and db.session.scalar(
        select(func.count(MeasureDefinition.id)).where(MeasureDefinition.base_id == definition.id)
    ):
        raise MeasureError(
            "unit",
            "Another joint measure counts part of this one, so what it counts, how often "
            "and its breakdown cannot change",
        )
    if unit == "percentage" and definition.unit != "percentage":
        raise MeasureError(
            "unit",
            "A percentage is shared as two counts (how many, and out of how many), so that "
            "small groups stay hidden. Add it as a new joint measure and choose Percentage",
        )
    changed = [k for k, v in submitted.items() if before[k] != v]
    if not changed:
        return definition
    for key in changed:
        setattr(definition, key, submitted[key])
    audit.record("joint_measure.updated", definition, detail={"fields": changed})
    return commit_edit(definition, submitted)


def delete_joint_measure(partnership: Partnership, definition: MeasureDefinition) -> None:
    """Delete a joint measure. Members keep their figures, as measures of their own."""
    audit.record(
        "joint_measure.deleted",
        definition,
        detail={"name": definition.name, "partnership": partnership.slug},
    )
    db.session.delete(definition)
    db.session.commit()


@dataclass
class JointForTenant:
    """One partnership's joint measures, each with the member's own measure for it."""

    partnership: Partnership
    rows: list[tuple[MeasureDefinition, Measure | None]]


def joint_for_tenant(tenant: Tenant) -> list[JointForTenant]:
    """For each of the tenant's partnerships, its joint measures and the tenant's own
    measure for each (None until the tenant starts reporting it)."""
    own = {
        m.definition_id: m
        for m in db.session.scalars(
            select(Measure).where(Measure.definition_id.is_not(None)).order_by(Measure.id.desc())
        )
    }
    joint = db.session.scalars(joint_measures()).all()
    out = []
    for partnership in sorted(tenant.partnerships, key=lambda p: p.name):
        rows = [d for d in joint if d.partnership_id == partnership.id]
        if rows:
            out.append(JointForTenant(partnership, [(d, own.get(d.id)) for d in rows]))
    return out


def start_reporting(definition: MeasureDefinition) -> Measure:
    """The current tenant's measure for a joint measure, added if it has none yet."""
    row = db.session.scalar(
        select(Measure).where(Measure.definition_id == definition.id).order_by(Measure.id)
    )
    if row is not None:
        return row
    plan = current_plan_years(db.session.get(Tenant, current_tenant_id()))
    first = definition.first_year or (plan[0] if plan else periods.financial_year())
    last = definition.last_year or (plan[1] if plan else first)
    return add_measure(definition=definition, first_year=first, last_year=last)
