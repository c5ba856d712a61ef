"""The chart component (portal/charts.py, templates/_chart.html): figure, words and table agree."""

from __future__ import annotations

import csv
import gzip
import io
import json
import re

import pytest
from flask import render_template_string

from portal import charts
from portal.charts import Series


def _rows(body: bytes) -> list[list[str]]:
    text = body.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def _hidden_release_chart():
    values = Series("Employees", [120, None, 0], texts=["120", "fewer than 8", "0"])
    return charts.bar_chart(
        "members-figures",
        title="Disabled employees by member",
        categories=["Sevenoaks", "Tunbridge Wells", "Thanet"],
        series=[values],
        category_label="Member",
        summary=charts.describe_extremes(
            ["Sevenoaks", "Tunbridge Wells", "Thanet"], values, what="disabled employees"
        ),
    )


def test_table_and_csv_hold_exactly_the_plotted_figures():
    chart = _hidden_release_chart()
    assert chart.table.headers == ["Member", "Employees"]
    assert chart.table.rows == [
        ["Sevenoaks", "120"],
        ["Tunbridge Wells", "fewer than 8"],
        ["Thanet", "0"],
    ]
    assert _rows(chart.csv()) == [chart.table.headers, *chart.table.rows]
    trace = chart.figure.data[0]
    # A hidden figure gets no bar; its label says why, as the table does.
    assert list(trace.x) == [120, 0, 0]
    assert list(trace.text) == ["120", "fewer than 8", "0"]


def test_summary_is_worked_out_from_the_data():
    chart = _hidden_release_chart()
    assert chart.summary == (
        "Sevenoaks has the most disabled employees, 120; Thanet the fewest, 0."
    )
    assert "Bar chart: Disabled employees by member." in chart.alt
    assert chart.summary in chart.alt


def test_trend_and_share_sentences():
    months = ["January 2026", "February 2026", "March 2026"]
    assert (
        charts.describe_trend(months, Series("Updates", [2, None, 5]), what="progress updates")
        == "Progress updates rose from 2 in January 2026 to 5 in March 2026."
    )
    assert (
        charts.describe_trend(months, Series("Updates", [6, 1, 3]), what="incidents")
        == "Incidents fell from 6 in January 2026 to 3 in March 2026."
    )
    assert charts.describe_trend(months, Series("x", [None] * 3), what="incidents") == (
        "There are no incidents to show for these periods."
    )
    # A figure shown only in words is not none.
    hidden = Series("Incidents", [0, None, None], texts=["0", "fewer than 8", "fewer than 8"])
    assert charts.describe_trend(months, hidden, what="hate incidents") == (
        "The hate incidents in February 2026 and March 2026 are shown in words (fewer than 8), "
        "not as numbers; there were no hate incidents in the other periods."
    )
    all_hidden = Series("Incidents", [None] * 3, texts=["not shown"] * 3)
    assert charts.describe_trend(months, all_hidden, what="hate incidents") == (
        "The hate incidents in January 2026, February 2026 and March 2026 are shown in words "
        "(not shown), not as numbers."
    )
    some = Series("Incidents", [9, None, 12], texts=["9", "fewer than 8", "12"])
    assert charts.describe_trend(months, some, what="hate incidents") == (
        "Hate incidents rose from 9 in January 2026 to 12 in March 2026. "
        "Some periods are shown in words, not as numbers."
    )
    # Equal ends with a peak between them: the peak is named, not "as in".
    year = ["Jan 2026", "Feb 2026", "Mar 2026", "Apr 2026"]
    peaked = Series("Incidents", [0, 1, 1, 0])
    assert charts.describe_trend(year, peaked, what="hate incidents") == (
        "Hate incidents were highest, 1, in Feb 2026 and 1 other period; there were 0 in "
        "Jan 2026 and 0 in Apr 2026."
    )
    assert charts.describe_trend(year, Series("x", [2, 2, 2, 2]), what="incidents") == (
        "There were 2 incidents in Apr 2026, as in Jan 2026."
    )
    ours = Series("Workforce", [9.0, 3.0], places=1)
    theirs = Series("Community", [17.0, 4.0], places=1)
    assert charts.describe_shares(
        "Sevenoaks", "the district's", ["Disabled", "Asian"], ours, theirs
    ) == (
        "The widest gap is for Disabled: Sevenoaks' share, 9.0 %, is below the district's, 17.0 %."
    )


def test_formula_text_is_neutralised_but_numbers_are_not():
    chart = charts.bar_chart(
        "change",
        title="Change",
        categories=["=HYPERLINK(1)"],
        series=[Series("Change", [-3])],
        category_label="What",
        summary="One change.",
    )
    assert _rows(chart.csv())[1] == ["'=HYPERLINK(1)", "-3"]


def test_line_chart_marks_series_by_more_than_colour():
    chart = charts.line_chart(
        "trend",
        title="Incidents",
        x=["2025-26 Q1", "2025-26 Q2"],
        series=[Series("Race", [3, 4]), Series("Religion", [1, None])],
        x_label="Quarter",
        summary="Rose.",
    )
    first, second = chart.figure.data
    assert first.marker.symbol != second.marker.symbol
    assert first.line.dash != second.line.dash
    assert first.line.color == charts.TWO_SERIES[0] and second.line.color == charts.TWO_SERIES[1]
    assert chart.table.rows == [["2025-26 Q1", "3", "1"], ["2025-26 Q2", "4", ""]]
    assert chart.zoomable


def test_stacked_bars_carry_patterns_and_the_palette():
    chart = charts.bar_chart(
        "status",
        title="Status",
        categories=["A", "B"],
        series=[Series("Done", [1, 2]), Series("Overdue", [0, 1]), Series("Open", [3, 0])],
        category_label="Objective",
        summary="x.",
        stacked=True,
    )
    shapes = [t.marker.pattern.shape for t in chart.figure.data]
    assert len(set(shapes)) == 3
    assert [t.marker.color for t in chart.figure.data] == list(charts.PALETTE[:3])
    assert chart.figure.layout.barmode == "stack"


def test_only_svg_traces_and_sensible_ids():
    import plotly.graph_objects as go

    table = charts.Table("c", ["a"], [])
    with pytest.raises(ValueError):
        charts.Chart("gl", "t", "s.", table, go.Figure(go.Scattergl(x=[1], y=[1])), "line")
    with pytest.raises(ValueError):
        charts.Chart("Bad Id", "t", "s.", table, go.Figure(), "bar")
    with pytest.raises(ValueError):
        charts.Chart("ok", "t", " ", table, go.Figure(), "bar")


def test_spec_json_cannot_close_its_script_element():
    chart = charts.bar_chart(
        "evil",
        title="t",
        categories=["</script><script>alert(1)</script>"],
        series=[Series("n", [1])],
        category_label="c",
        summary="s.",
    )
    text = chart.spec_json()
    assert "</script" not in text.lower() and "<" not in text
    assert json.loads(text)["data"][0]["type"] == "bar"


def _render(app, chart, **kwargs):
    with app.test_request_context("/"):
        return render_template_string(
            '{% from "_chart.html" import chart_head, chart, chart_scripts %}'
            "{{ chart_head() }}{{ chart(c, csv_url='/x.csv') }}{{ chart_scripts() }}",
            c=chart,
        )


def test_rendered_chart_has_heading_summary_table_csv_and_no_script_text(app):
    html = _render(app, _hidden_release_chart())
    assert '<h2 class="govuk-heading-m" id="chart-members-figures-heading">' in html
    assert "Sevenoaks has the most disabled employees, 120" in html
    assert "The chart is drawn with JavaScript, which is switched off or has not loaded." in html
    # The table: a caption, header cells, and it is open until a script draws the chart.
    assert "<caption" in html and "Disabled employees by member</caption>" in html
    assert '<th scope="col"' in html and '<th scope="row"' in html
    assert re.search(r"<details[^>]*open[^>]*data-chart-details", html)
    assert 'role="region"' in html and 'tabindex="0"' in html
    assert 'role="img" aria-label="Bar chart: Disabled employees by member.' in html
    assert 'href="/x.csv"' in html
    version = charts.plotly_version()
    assert f"/charts/plotly-{version}.min.js" in html
    # The styles plotly.js would otherwise add itself, given the page's nonce.
    assert 'id="plotly.js-style-global"' in html
    assert len(re.findall(r'<style nonce="[^"]+" id=', html)) == len(charts.injected_style_ids())


def test_plotly_js_is_served_from_the_pinned_package(client):
    version = charts.plotly_version()
    response = client.get(f"/charts/plotly-{version}.min.js", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "gzip"
    assert "immutable" in response.headers["Cache-Control"]
    body = gzip.decompress(response.data)
    assert body == charts.PLOTLY_JS.read_bytes()
    assert f"plotly.js v{version}".encode() in body[:200]
    plain = client.get(f"/charts/plotly-{version}.min.js")
    assert plain.data == body and "Content-Encoding" not in plain.headers
    again = client.get(
        f"/charts/plotly-{version}.min.js", headers={"If-None-Match": plain.headers["ETag"]}
    )
    assert again.status_code == 304
    assert client.get("/charts/plotly-0.0.1.min.js").status_code == 404


def test_the_figure_sent_is_one_plotly_accepts_as_it_is():
    """Figures are built as the plain dict plotly.js draws, without plotly.py's validating
    objects (too slow for a page of many charts): plotly.py must take each one unchanged."""
    built = [
        _hidden_release_chart(),
        charts.bar_chart(
            "shares",
            title="Shares",
            categories=["A <b>", "B & C", "D" * 90],
            series=[Series("Ours", [9.5, None, 3.25], places=1), Series("Theirs", [17, 4, 0])],
            category_label="Group",
            summary="x.",
            horizontal=False,
            value_label="Share (%)",
        ),
        charts.line_chart(
            "trend",
            title="Trend",
            x=["Jan 2026", "Feb 2026", "Mar 2026"],
            series=[Series("One", [1, None, 30]), Series("Two", [2, 3, 4]), Series("3", [0, 0, 1])],
            x_label="Month",
            summary="x.",
        ),
    ]
    for chart in built:
        sent = json.loads(chart.spec_json())
        assert json.loads(chart.figure.to_json()) == sent, chart.id
        assert "<" not in chart.spec_json() and "&" not in chart.spec_json()


def test_every_csv_cell_is_quoted_so_a_semicolon_cannot_start_a_formula():
    # Spreadsheets in many European locales split CSV on semicolons: an unquoted
    # "Hub;=HYPERLINK(…)" would become a cell holding a live formula (portal/exports.py).
    chart = charts.bar_chart(
        "names",
        title="Names",
        categories=['Hub;=HYPERLINK("http://example.com")'],
        series=[Series("Count", [5])],
        category_label="What",
        summary="One name.",
    )
    body = chart.csv().decode("utf-8")
    assert '"Hub;=HYPERLINK(""http://example.com"")"' in body
    assert all(line.startswith('"') for line in body[1:].splitlines())
    assert _rows(chart.csv())[1] == ['Hub;=HYPERLINK("http://example.com")', "5"]


@pytest.mark.parametrize(
    ("value", "places", "shown"),
    [(-0.04, 1, "0.0"), (-0.0, 1, "0.0"), (-0.004, 2, "0.00"), (-0.4, 0, "0"), (-1.04, 1, "-1.0")],
)
def test_a_figure_that_rounds_to_nothing_has_no_minus_sign(value, places, shown):
    assert charts.format_number(value, places) == shown


def test_a_tie_at_the_top_or_the_bottom_names_every_one():
    series = Series("Overdue actions", [4, 4, 0, 1])
    summary = charts.describe_extremes(
        ["Objective 1", "Objective 2", "Objective 3", "Objective 4"], series, what="overdue actions"
    )
    assert summary == (
        "Objective 1 and Objective 2 have the most overdue actions, 4; Objective 3 the fewest, 0."
    )
