"""Disclosure control: the one place that turns exact counts into figures fit to release.

Counts are about people. A count that leaves its tenant (partnership pages, exports for
the partnership, joint reports, dashboards) is released under its partnership's rule,
by default:

* 0 stays 0;
* 1 to 7 shows as "fewer than 8", never as a number;
* every other count is rounded to the nearest 5;
* a table's total is rounded the same way from the exact total, never summed from the
  rounded cells;
* rates and percentages are worked out from the released counts;
* every released cell says whether it was rounded or suppressed.

Rounding the total on its own does not always protect a small count. In the table
7, 12, 12, 12 (total 43) the cells show as "fewer than 8", 10, 10, 10 and the total as 45:
the three rounded cells are at most 12 each, so the hidden cell is at least 45 - 2 - 36 = 7,
and it is at most 7, so it is 7. Before releasing a total, :func:`release_table` therefore
checks every total the released cells allow; if any of them would pin down a suppressed
cell, the total is withheld. The check looks only at the released cells, never at the
exact figures, so that withholding a total says nothing more about them.

One exact total is often shown in several tables: a measure taken up by age and again
by sex has the same total in both, and the cells of one table bound that total as a
rounded total would. :func:`release_tables` therefore decides for all the tables that
share a total at once: if any of them needs its total withheld, it is withheld in all of
them, and where the cells of some tables would still pin down a hidden cell of another,
every figure of those tables is withheld.

Everything here is pure: no database, no Flask. Nothing else in the portal may compute a
released figure.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

Status = Literal["zero", "rounded", "suppressed", "withheld"]


class RuleError(ValueError):
    """A disclosure rule that could not keep its promises (the message says why)."""


def _round_half_up(count: int, base: int) -> int:
    return (count + base // 2) // base * base


@dataclass(frozen=True)
class Rule:
    """A partnership's rule: counts from 1 to ``threshold - 1`` are suppressed; larger
    counts are rounded to the nearest ``rounding``."""

    threshold: int = 8
    rounding: int = 5

    def __post_init__(self) -> None:
        problem = self.problem()
        if problem:
            raise RuleError(problem)

    def problem(self) -> str | None:
        """Why these settings cannot be used, in plain words; None if they can."""
        if not isinstance(self.threshold, int) or not isinstance(self.rounding, int):
            return "The threshold and the rounding must be whole numbers"
        if self.threshold < 3:
            return "The threshold must be 3 or more, so that a hidden count is never certain"
        if self.rounding < 1:
            return "Counts must be rounded to the nearest 1 or more"
        if _round_half_up(self.threshold, self.rounding) < self.threshold:
            shown = _round_half_up(self.threshold, self.rounding)
            return (
                f"With these settings a count of {self.threshold} would be shown as {shown}, "
                "which is below the threshold. Choose a larger threshold or round to a "
                "smaller number"
            )
        return None

    @property
    def suppressed_label(self) -> str:
        return f"fewer than {self.threshold}"

    def describe(self) -> str:
        """The rule in a sentence, for pages that show released figures."""
        return (
            f"0 stays 0; counts from 1 to {self.threshold - 1} show as "
            f"“{self.suppressed_label}”; other counts are rounded to the nearest "
            f"{self.rounding}; totals are rounded from the exact total."
        )

    def candidates(self, released: ReleasedCell) -> range:
        """Every exact count that this rule releases as ``released``."""
        if released.status == "zero":
            return range(0, 1)
        if released.status == "suppressed":
            return range(1, self.threshold)
        if released.status == "rounded":
            low = max(self.threshold, released.value - self.rounding // 2)
            return range(low, released.value - self.rounding // 2 + self.rounding)
        raise ValueError("a withheld figure has no range of its own")


DEFAULT_RULE = Rule()

# The portal-wide floor: a partnership may make its rule stricter than the default, never
# weaker, or its figures would be nearly exact counts of a few people.
MIN_THRESHOLD, MIN_ROUNDING = DEFAULT_RULE.threshold, DEFAULT_RULE.rounding


def below_floor(threshold: int, rounding: int) -> str | None:
    """Why a partnership may not use these settings, in plain words; None if it may."""
    if threshold < MIN_THRESHOLD or rounding < MIN_ROUNDING:
        return (
            f"The rule can only be made stricter than the portal's: hide counts below "
            f"{MIN_THRESHOLD} or more, and round to the nearest {MIN_ROUNDING} or more"
        )
    return None


@dataclass(frozen=True)
class ReleasedCell:
    """One released figure: a number, or a statement that it is not shown."""

    status: Status
    value: int | None
    threshold: int = 8

    @property
    def rounded(self) -> bool:
        return self.status == "rounded"

    @property
    def suppressed(self) -> bool:
        """Not shown as a number (a small count, or a withheld total)."""
        return self.status in {"suppressed", "withheld"}

    @property
    def label(self) -> str:
        """What a page shows for this figure."""
        if self.status == "suppressed":
            return f"fewer than {self.threshold}"
        if self.status == "withheld":
            return "not shown"
        return f"{self.value:,}"

    @property
    def note(self) -> str:
        """Says how the figure was released, for the cell beside it."""
        return {
            "zero": "",
            "rounded": "rounded",
            "suppressed": f"fewer than {self.threshold}",
            "withheld": "withheld to protect small counts",
        }[self.status]


def release_count(count: int, rule: Rule = DEFAULT_RULE) -> ReleasedCell:
    """Release one exact count under ``rule``."""
    if isinstance(count, bool) or not isinstance(count, int):
        raise TypeError("disclosure control releases whole-number counts only")
    if count < 0:
        raise ValueError("a count cannot be negative")
    if count == 0:
        return ReleasedCell("zero", 0, rule.threshold)
    if count < rule.threshold:
        return ReleasedCell("suppressed", None, rule.threshold)
    return ReleasedCell("rounded", _round_half_up(count, rule.rounding), rule.threshold)


def released_rate(numerator: ReleasedCell, denominator: ReleasedCell, per: int = 100):
    """A percentage (or a rate per ``per``) worked out from released counts only.

    None when either count is not shown as a number, or the denominator is 0.
    """
    if numerator.value is None or denominator.value is None or denominator.value == 0:
        return None
    return numerator.value * per / denominator.value


@dataclass(frozen=True)
class ReleasedTable:
    """A released table: its cells in the order given, the part nobody recorded against
    a category, and its total."""

    cells: dict[Hashable, ReleasedCell]
    unrecorded: ReleasedCell
    total: ReleasedCell
    rule: Rule = field(default=DEFAULT_RULE)

    def percentage(self, key: Hashable) -> float | None:
        """The cell's share of the total, from the released figures."""
        return released_rate(self.cells[key], self.total)

    def all_cells(self) -> list[ReleasedCell]:
        return [*self.cells.values(), self.unrecorded]


def release_table(
    cells: Mapping[Hashable, int], total: int | None = None, rule: Rule = DEFAULT_RULE
) -> ReleasedTable:
    """Release a table of exact counts (one per category) and its exact total.

    ``total`` may exceed the sum of the cells (people whose category was not recorded);
    that remainder is released like any other cell, as ``unrecorded``, and the check
    that no suppressed cell can be worked out treats it as shown. ``total`` defaults to
    the sum of the cells.
    """
    exact = dict(cells)
    parts = sum(exact.values())
    if total is None:
        total = parts
    if total < parts:
        raise ValueError("the categories add up to more than the total")
    released = {key: release_count(count, rule) for key, count in exact.items()}
    unrecorded = release_count(total - parts, rule)
    released_total = release_count(total, rule)
    if _some_total_reveals(list(released.values()) + [unrecorded], rule):
        released_total = ReleasedCell("withheld", None, rule.threshold)
    return ReleasedTable(released, unrecorded, released_total, rule)


def _some_total_reveals(cells: list[ReleasedCell], rule: Rule) -> bool:
    """Whether any total consistent with these released cells would, once released,
    leave a suppressed cell with only one possible value.

    Only released figures are used, so the answer is the same for every exact table
    that releases these cells.
    """
    ranges = [rule.candidates(c) for c in cells]
    hidden = [i for i, c in enumerate(cells) if c.status == "suppressed"]
    if not hidden:
        return False
    low = sum(r.start for r in ranges)
    high = sum(r.stop - 1 for r in ranges)
    # Group the possible exact totals by how they would be released.
    totals: dict[ReleasedCell, tuple[int, int]] = {}
    for t in range(low, high + 1):
        shown = release_count(t, rule)
        first, _ = totals.get(shown, (t, t))
        totals[shown] = (first, t)
    for t_low, t_high in totals.values():
        for i in hidden:
            others_low = low - ranges[i].start
            others_high = high - (ranges[i].stop - 1)
            can_low = max(ranges[i].start, t_low - others_high)
            can_high = min(ranges[i].stop - 1, t_high - others_low)
            if can_low == can_high:
                return True
    return False


def possible_values(table: ReleasedTable, key: Hashable) -> range:
    """Every exact count the suppressed cell ``key`` could hold, given everything the
    table releases: what somebody working back from the published figures could learn.
    """
    rule = table.rule
    cells = table.all_cells()
    index = list(table.cells).index(key)
    ranges = [rule.candidates(c) for c in cells]
    own = ranges[index]
    if table.total.status == "withheld":
        return own
    others_low = sum(r.start for j, r in enumerate(ranges) if j != index)
    others_high = sum(r.stop - 1 for j, r in enumerate(ranges) if j != index)
    total_range = rule.candidates(table.total)
    low = max(own.start, total_range.start - others_high)
    high = min(own.stop - 1, total_range.stop - 1 - others_low)
    return range(low, high + 1)


def withheld(rule: Rule = DEFAULT_RULE) -> ReleasedCell:
    """A figure that is not shown, to protect small counts elsewhere."""
    return ReleasedCell("withheld", None, rule.threshold)


def release_tables(
    tables: Sequence[tuple[Mapping[Hashable, int], int]], rule: Rule = DEFAULT_RULE
) -> list[ReleasedTable]:
    """Release several tables that break down one exact total (the same count by age,
    by sex, with no breakdown …), each given as (cells, total), in the order given.

    Somebody working back from the released figures may set the tables side by side, so
    they are decided together, from the released cells only:

    * where the cells of the tables together would pin down a hidden cell even with no
      total shown (one table can bound the total as closely as a rounded total), every
      cell of every table is withheld;
    * otherwise the total is withheld in every table if any table would need it withheld
      on its own, or if any total the cells allow would, once shown, pin down a hidden
      cell in any of them.
    """
    released = [release_table(cells, total, rule) for cells, total in tables]
    if not released:
        return []
    low, high = _common_range(released, rule)
    # Withholding only some of the tables would say which ones would have given a count
    # away; withholding them all leaves nothing to work back from.
    hide_all = low <= high and _pins(released, low, high, rule)
    withhold = hide_all or any(t.total.status == "withheld" for t in released)
    if not withhold and low <= high:
        withhold = any(_pins(released, a, b, rule) for a, b in _total_bands(low, high, rule))
    out = []
    for table in released:
        if hide_all:
            table = replace(
                table,
                cells={key: withheld(rule) for key in table.cells},
                unrecorded=withheld(rule),
            )
        if withhold:
            table = replace(table, total=withheld(rule))
        out.append(table)
    return out


def withhold_total(table: ReleasedTable) -> ReleasedTable:
    """The same table with its total withheld."""
    return replace(table, total=withheld(table.rule))


def _sum_range(table: ReleasedTable, rule: Rule) -> tuple[int, int]:
    ranges = [rule.candidates(c) for c in table.all_cells()]
    return sum(r.start for r in ranges), sum(r.stop - 1 for r in ranges)


def _common_range(tables: list[ReleasedTable], rule: Rule) -> tuple[int, int]:
    """The totals that every table's released cells allow."""
    ranges = [_sum_range(t, rule) for t in tables]
    return max(r[0] for r in ranges), min(r[1] for r in ranges)


def _total_bands(low: int, high: int, rule: Rule) -> list[tuple[int, int]]:
    """The totals from ``low`` to ``high``, grouped by how each would be released."""
    bands: dict[ReleasedCell, tuple[int, int]] = {}
    for t in range(low, high + 1):
        shown = release_count(t, rule)
        first, _ = bands.get(shown, (t, t))
        bands[shown] = (first, t)
    return list(bands.values())


def _pins(tables: list[ReleasedTable], t_low: int, t_high: int, rule: Rule) -> bool:
    """Whether knowing the total lies from ``t_low`` to ``t_high`` leaves a suppressed
    cell of any of these tables with only one possible value."""
    for table in tables:
        cells = table.all_cells()
        ranges = [rule.candidates(c) for c in cells]
        low = sum(r.start for r in ranges)
        high = sum(r.stop - 1 for r in ranges)
        for i, cell in enumerate(cells):
            if cell.status != "suppressed":
                continue
            others_low = low - ranges[i].start
            others_high = high - (ranges[i].stop - 1)
            can_low = max(ranges[i].start, t_low - others_high)
            can_high = min(ranges[i].stop - 1, t_high - others_low)
            if can_low == can_high:
                return True
    return False
