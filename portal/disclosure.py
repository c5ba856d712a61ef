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

Released once. Two releases of the same exact figures under different rules can be set
side by side: 9 shows as 10 under one rule and as "fewer than 10" under another, so it is
8 or 9, and with the totals a hidden count falls out. So a member's figures for one
measure and period are released once (:func:`next_release`), under the strictest rule of
its partnerships (:func:`strictest`), and that release is what is shown from then on. A
correction is a new release under the first release's rule, decided together with every
earlier one (:func:`release_correction`).

Everything here is pure: no database, no Flask. Nothing else in the portal may compute a
released figure.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from portal.editing import Invalid

Status = Literal["zero", "rounded", "suppressed", "withheld"]


class RuleError(Invalid):
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
            raise RuleError(None, problem)

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


# --- released once -----------------------------------------------------------------------


def strictest(rules: Sequence[Rule]) -> Rule:
    """One rule at least as strict as every rule given: what a member shares with several
    partnerships is released once, under this.

    The threshold is the highest of them, so no partnership sees a count its own rule
    would hide. The rounding is the coarsest of them, not a common multiple: only one
    release is ever made, so there is no second, differently rounded view to set beside
    it and the bands need not nest; the coarsest base already gives every partnership
    bands at least as wide as its own rule asks for, while a common multiple (7 and 10
    give 70) would blur every figure for nothing. Where the highest threshold would be
    shown below itself at the coarsest rounding (13 rounded to the nearest 10 is 10), the
    threshold is raised until it is not, which only hides more.
    """
    if not rules:
        return DEFAULT_RULE
    threshold = max(r.threshold for r in rules)
    rounding = max(r.rounding for r in rules)
    while _round_half_up(threshold, rounding) < threshold:
        threshold += 1
    return Rule(threshold, rounding)


@dataclass(frozen=True)
class Release:
    """What one release made public: a member's tables for one measure and period (one per
    breakdown, all breaking down the same total) and the rule they were released under."""

    rule: Rule
    tables: dict[Hashable, ReleasedTable]


def release_correction(
    earlier: Sequence[Sequence[ReleasedTable]],
    tables: Sequence[tuple[Mapping[Hashable, int], int]],
    rule: Rule,
) -> list[ReleasedTable]:
    """Release corrected tables so that, set beside every earlier release of the same
    figures, no hidden cell can be worked out.

    Somebody differencing two releases supposes they describe the same people: one total
    behind all of them, each release's cells and shown totals bounding it. Under that
    supposition every table of every release is one more table sharing the total, and the
    corrected tables are decided as :func:`release_tables` decides tables that share a
    total, from released figures only: where the cells already pin a hidden cell down,
    every new figure is withheld; otherwise the new totals are withheld if any total the
    releases allow would, once shown, pin one down. The earlier releases were checked the
    same way when they were made, so the whole sequence stays safe. The corrected tables
    are released under ``rule``, the rule of the first release, so that a cell that did not
    change shows exactly as before and adds nothing.
    """
    new = release_tables(tables, rule)
    before = [t for release in earlier for t in release if not _any_withheld_cell(t)]
    # Tables withheld whole give nothing to work back from.
    cells_only = [withhold_total(t) for t in new if not _any_withheld_cell(t)]
    if not before or not cells_only:
        return new
    low, high = _pool_range(before + cells_only, rule)
    if low > high:
        # No one total fits them all: they cannot describe the same people.
        return new
    if _pins(before + cells_only, low, high, rule):
        return [
            replace(
                t,
                cells={key: withheld(rule) for key in t.cells},
                unrecorded=withheld(rule),
                total=withheld(rule),
            )
            for t in new
        ]
    if any(t.total.status != "withheld" for t in new) and any(
        _pins(before + cells_only, a, b, rule) for a, b in _total_bands(low, high, rule)
    ):
        return [withhold_total(t) for t in new]
    return new


def _any_withheld_cell(table: ReleasedTable) -> bool:
    return any(c.status == "withheld" for c in table.all_cells())


def _pool_range(tables: list[ReleasedTable], rule: Rule) -> tuple[int, int]:
    """The totals that every table's released cells and shown total allow."""
    low, high = _common_range(tables, rule)
    for table in tables:
        if table.total.status != "withheld":
            shown = rule.candidates(table.total)
            low, high = max(low, shown.start), min(high, shown.stop - 1)
    return low, high


def cell_to_data(cell: ReleasedCell) -> list:
    """A released cell as stored: [status, value]."""
    return [cell.status, cell.value]


def cell_from_data(data: Sequence, rule: Rule) -> ReleasedCell:
    status, value = data
    return ReleasedCell(status, value, rule.threshold)


def table_to_data(table: ReleasedTable) -> dict:
    """A released table as stored (JSON): its cells in order, not recorded, total."""
    return {
        "cells": [[key, *cell_to_data(cell)] for key, cell in table.cells.items()],
        "unrecorded": cell_to_data(table.unrecorded),
        "total": cell_to_data(table.total),
    }


def table_from_data(data: Mapping, rule: Rule) -> ReleasedTable:
    """A stored released table, as it was released."""
    return ReleasedTable(
        {key: ReleasedCell(status, value, rule.threshold) for key, status, value in data["cells"]},
        cell_from_data(data["unrecorded"], rule),
        cell_from_data(data["total"], rule),
        rule,
    )


def next_release(
    chain: Sequence[Release],
    tables: Mapping[Hashable, tuple[Mapping[Hashable, int], int]],
    rules: Sequence[Rule],
    *,
    correcting: bool = False,
) -> Release | None:
    """What is released now, given the releases already made (oldest first), the exact
    tables (by breakdown) and the rules of every partnership the member is in.

    Released once: with a release made, it is what every later view shows, whatever the
    rules are now and whatever the exact figures have become; only an explicit correction
    (``correcting``) makes a new one, under the rule of the first release and checked
    against every earlier one (:func:`release_correction`). The first release is made
    under the strictest of ``rules`` (:func:`strictest`). None when nothing is released.
    """
    if chain and not correcting:
        return chain[-1]
    if not tables:
        return chain[-1] if chain else None
    keys, exact = list(tables), list(tables.values())
    if not chain:
        rule = strictest(rules)
        return Release(rule, dict(zip(keys, release_tables(exact, rule), strict=True)))
    rule = chain[0].rule
    earlier = [list(r.tables.values()) for r in chain]
    new = release_correction(earlier, exact, rule)
    return Release(rule, dict(zip(keys, new, strict=True)))


def check_linked(tables: Sequence[ReleasedTable]) -> list[ReleasedTable]:
    """Released tables that a publication sets side by side (one count broken down several
    ways), checked together from their released cells only, as :func:`release_tables`
    decides them: where the tables together would pin down a hidden cell, every cell is
    withheld; where any total could, every total is. Tables released together already
    pass unchanged; this is the publication's own check, not a second release."""
    if not tables:
        return []
    rule = tables[0].rule
    low, high = _common_range(list(tables), rule)
    hide_all = low <= high and _pins(list(tables), low, high, rule)
    withhold = hide_all or any(t.total.status == "withheld" for t in tables)
    if not withhold and low <= high:
        withhold = any(_pins(list(tables), a, b, rule) for a, b in _total_bands(low, high, rule))
    out = []
    for table in tables:
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
