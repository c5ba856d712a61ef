"""Disclosure control: the partnership's rule, and the promise that no small count can be
worked out from what is released."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from portal.disclosure import (
    DEFAULT_RULE,
    ReleasedCell,
    Rule,
    RuleError,
    possible_values,
    release_count,
    release_table,
    released_rate,
)

counts = st.integers(min_value=0, max_value=400)
small_or_any = st.one_of(st.integers(min_value=0, max_value=9), counts)
tables = st.dictionaries(st.sampled_from("ABCDEFGH"), small_or_any, min_size=1, max_size=8).map(
    lambda d: dict(sorted(d.items()))
)


@st.composite
def rules(draw):
    threshold = draw(st.integers(min_value=3, max_value=12))
    rounding = draw(st.integers(min_value=1, max_value=10))
    try:
        return Rule(threshold, rounding)
    except RuleError:
        assume(False)


def shown_numbers(table):
    return [c.value for c in [*table.all_cells(), table.total] if c.value is not None]


# --- one count -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("count", "label", "status"),
    [
        (0, "0", "zero"),
        (1, "fewer than 8", "suppressed"),
        (7, "fewer than 8", "suppressed"),
        (8, "10", "rounded"),
        (12, "10", "rounded"),
        (13, "15", "rounded"),
        (15, "15", "rounded"),
        (1234, "1,235", "rounded"),
    ],
)
def test_a_count_is_released_under_the_default_rule(count, label, status):
    cell = release_count(count)
    assert (cell.label, cell.status) == (label, status)


def test_each_released_cell_says_how_it_was_released():
    assert release_count(9).note == "rounded"
    assert release_count(3).note == "fewer than 8"
    assert release_count(3).suppressed and not release_count(3).rounded
    assert release_count(0).note == ""


@given(counts)
def test_no_count_from_1_to_7_is_ever_shown(count):
    cell = release_count(count)
    assert cell.value is None or cell.value == 0 or cell.value >= 8
    assert not (1 <= count <= 7) or cell.label == "fewer than 8"


@given(counts)
def test_non_zero_released_counts_are_multiples_of_5(count):
    cell = release_count(count)
    if cell.value:
        assert cell.value % 5 == 0
        assert abs(cell.value - count) <= 2


@given(counts)
def test_zero_stays_zero_and_only_zero_is_zero(count):
    assert (release_count(count).value == 0) == (count == 0)


def test_bad_counts_are_refused():
    with pytest.raises(ValueError):
        release_count(-1)
    with pytest.raises(TypeError):
        release_count(2.5)


# --- the rule --------------------------------------------------------------------------


def test_a_partnership_may_set_its_own_rule():
    rule = Rule(threshold=10, rounding=10)
    assert release_count(9, rule).label == "fewer than 10"
    assert release_count(14, rule).label == "10"
    assert release_count(15, rule).label == "20"


@pytest.mark.parametrize(
    ("threshold", "rounding", "words"),
    [(2, 5, "3 or more"), (8, 0, "nearest 1 or more"), (11, 5, "would be shown as 10")],
)
def test_a_rule_that_cannot_keep_its_promises_is_refused(threshold, rounding, words):
    with pytest.raises(RuleError, match=words):
        Rule(threshold, rounding)


@given(rules(), counts)
def test_under_any_allowed_rule_small_counts_are_never_shown(rule, count):
    cell = release_count(count, rule)
    if cell.value is not None and cell.value:
        assert cell.value >= rule.threshold
        assert cell.value % rule.rounding == 0
    if 1 <= count < rule.threshold:
        assert cell.suppressed


# --- tables ----------------------------------------------------------------------------


def test_a_table_is_released_cell_by_cell_with_a_total_rounded_from_the_exact_total():
    table = release_table({"Female": 23, "Male": 21, "Not stated": 0})
    assert [c.label for c in table.cells.values()] == ["25", "20", "0"]
    # Rounded from 44, not summed from 25 + 20.
    assert table.total.label == "45"
    assert table.percentage("Female") == pytest.approx(25 * 100 / 45)


def test_people_not_recorded_against_a_category_are_a_cell_of_their_own():
    table = release_table({"Disabled": 12, "Not disabled": 60}, total=80)
    assert table.unrecorded.label == "10"
    assert table.total.label == "80"


def test_parts_above_the_total_are_refused():
    with pytest.raises(ValueError, match="more than the total"):
        release_table({"a": 5, "b": 10}, total=12)


def test_rates_come_from_released_counts_and_not_from_hidden_ones():
    assert released_rate(release_count(3), release_count(40)) is None
    assert released_rate(release_count(12), release_count(40)) == 25.0
    assert released_rate(release_count(12), release_count(0)) is None


def test_rounding_the_total_alone_would_give_a_small_count_away():
    # 7 + 12 + 12 + 12 = 43. Released naively: "fewer than 8", 10, 10, 10 and total 45.
    # The rounded cells are at most 12 each and the total at least 43, so the hidden
    # cell would be at least 7, and it is at most 7. The total must be withheld.
    table = release_table({"a": 7, "b": 12, "c": 12, "d": 12})
    assert [c.label for c in table.cells.values()] == ["fewer than 8", "10", "10", "10"]
    assert table.total.status == "withheld"
    assert table.total.label == "not shown"
    assert table.percentage("b") is None
    assert len(possible_values(table, "a")) == 7


def test_a_total_is_shown_when_it_gives_nothing_away():
    table = release_table({"a": 3, "b": 40, "c": 60, "d": 22, "e": 31})
    assert table.total.label == "155"
    assert len(possible_values(table, "a")) > 1


def test_withholding_depends_only_on_what_is_shown():
    # Two tables whose cells are released alike are treated alike, whatever their exact
    # figures, so a withheld total says nothing about the exact ones.
    first = release_table({"a": 1, "b": 8, "c": 8, "d": 8})
    second = release_table({"a": 6, "b": 11, "c": 9, "d": 12})
    assert first.cells == second.cells
    assert first.total.status == second.total.status == "withheld"


@given(tables)
def test_tables_keep_the_rule_in_every_cell(cells):
    table = release_table(cells)
    for value in shown_numbers(table):
        assert value == 0 or (value >= 8 and value % 5 == 0)
    for key, count in cells.items():
        assert table.cells[key] == release_count(count)


@given(tables, st.integers(min_value=0, max_value=30))
def test_totals_are_rounded_from_the_exact_total(cells, not_recorded):
    total = sum(cells.values()) + not_recorded
    table = release_table(cells, total)
    assert table.total.status == "withheld" or table.total == release_count(total)
    assert table.unrecorded == release_count(not_recorded)


@given(tables, st.integers(min_value=0, max_value=30))
def test_no_suppressed_cell_can_be_worked_out_by_subtraction(cells, not_recorded):
    table = release_table(cells, sum(cells.values()) + not_recorded)
    for key, count in cells.items():
        if table.cells[key].suppressed:
            values = possible_values(table, key)
            assert count in values
            assert len(values) > 1, f"{key} could only be {count}"


@given(rules(), tables)
@settings(suppress_health_check=[HealthCheck.filter_too_much])
def test_no_suppressed_cell_can_be_worked_out_under_any_allowed_rule(rule, cells):
    table = release_table(cells, rule=rule)
    for key, count in cells.items():
        if table.cells[key].suppressed:
            values = possible_values(table, key)
            assert count in values and len(values) > 1


# The strongest form, by brute force and without trusting possible_values: list every
# exact table that the portal would release exactly as it released this one. Each
# suppressed cell must take more than one value among them.

# Counts at the edges of their rounding bands are where subtraction bites hardest.
edges = st.sampled_from([0, 1, 2, 6, 7, 8, 12, 13, 17, 18, 22])
small_tables = st.lists(
    st.one_of(edges, st.integers(min_value=0, max_value=30)), min_size=1, max_size=3
)


def _same_release(cells: list[int], not_recorded: int):
    key = {str(i): c for i, c in enumerate(cells)}
    released = release_table(key, sum(cells) + not_recorded)
    ranges = [
        [v for v in range(0, 40) if release_count(v) == cell] for cell in released.all_cells()
    ]
    for combo in itertools.product(*ranges):
        *parts, rest = combo
        candidate = {str(i): c for i, c in enumerate(parts)}
        if release_table(candidate, sum(parts) + rest) == released:
            yield parts, rest


@given(small_tables, st.sampled_from([0, 0, 0, 3, 8, 12, 13]))
@settings(max_examples=200, deadline=None)
def test_every_table_released_alike_leaves_each_suppressed_cell_uncertain(cells, not_recorded):
    released = release_table({str(i): c for i, c in enumerate(cells)}, sum(cells) + not_recorded)
    alike = list(_same_release(cells, not_recorded))
    assert (cells, not_recorded) in alike
    for index, count in enumerate(cells):
        if released.cells[str(index)].suppressed:
            seen = {parts[index] for parts, _ in alike}
            assert len(seen) > 1, f"cell {index} ({count}) can be worked out"
            # The interval that possible_values reports is exactly what can be learnt.
            assert seen == set(possible_values(released, str(index)))


def test_the_default_rule_is_the_partnerships_default():
    assert (DEFAULT_RULE.threshold, DEFAULT_RULE.rounding) == (8, 5)
    assert "fewer than 8" in DEFAULT_RULE.describe()
    assert ReleasedCell("suppressed", None, 8).label == "fewer than 8"
