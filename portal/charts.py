"""Charts: a plotly figure built in Python, always with its words and its table.

Every chart the portal draws is a :class:`Chart`. One object holds what is plotted and
what is said about it, so the picture, the table, the CSV download and the sentences can
never disagree:

- ``title``: the chart's heading;
- ``summary``: one sentence worked out from the data by the caller (the helpers
  :func:`describe_extremes`, :func:`describe_trend` and :func:`describe_shares` write the
  common ones);
- ``table``: the data table (a caption, header cells, a row per category), built from the
  same series as the figure;
- ``csv()``: exactly the table, as a file (every shown cell, the same text);
- ``alt``: the text alternative of the drawn chart;
- ``spec``: the plotly figure as the dict plotly.js draws (SVG traces only, see below);
  ``figure`` is the same as a validated ``plotly.graph_objects.Figure``, built only when
  asked for. The page is sent ``spec`` as it is: building each chart through plotly.py's
  validating objects cost tens of milliseconds a chart, and a dashboard can hold dozens.

Building one::

    chart = charts.bar_chart(
        "actions-by-status",                       # id: unique on its page, in file names
        title="Actions by status",
        categories=["Objective 1", "Objective 2"],
        series=[charts.Series("Done", [3, 1]), charts.Series("Overdue", [0, 2])],
        category_label="Objective",
        summary="Objective 2 has the most overdue actions, 2.",
        stacked=True, horizontal=True,
    )
    line_chart(id, title=, x=[...labels...], series=[...], x_label=, summary=)

A :class:`Series` holds numbers, or ``None`` for a figure that is not plotted (withheld,
"fewer than 8"), and optionally the text each cell shows in the table (``texts``); without
texts the numbers are shown as they are. A bar never stands for a hidden figure: the
table and the bar's label say why it is missing.

Showing one in a template (``templates/_chart.html``)::

    {% from "_chart.html" import chart_head, chart, chart_scripts %}
    {% block head %}{{ super() }}{{ chart_head() }}{% endblock %}
    ... {{ chart(c, csv_url=url_for("home.dashboard_csv", chart_id=c.id)) }} ...
    {% block bodyEnd %}{{ super() }}{{ chart_scripts() }}{% endblock %}

The CSV download is a route of the page's own blueprint that builds the same chart and
returns :func:`csv_response` (recorded in the audit trail as an export), so it is scoped
and permission-checked like the page (examples: ``home.dashboard_csv`` with the builders
in portal/dashboards/tenant.py, ``partner_monitoring.partnership_measure_csv``).
``heading_level`` (default 2) sets the heading's level. The macro file also has
``scroll_table(label)`` (a ``{% call %}`` block: any wide table in its own focusable,
sideways-scrolling region) and ``chart_table(c)`` (a chart's table on its own).

Released figures: give a :class:`Series` the released value (``None`` when hidden) and
``texts`` with what the table says ("fewer than 8", "125 (rounded)"); the bar, the table
and the CSV then all show only what was released.

Under the content security policy: plotly.js is the copy inside the pinned ``plotly``
package, served by :data:`bp` at a versioned address (``/charts/plotly-<version>.min.js``,
cached for a year, gzipped when the browser accepts it). Its SVG traces (bar, scatter)
need no ``eval``: the bundle's ``Function``/``eval`` calls are in WebGL traces, map tiles
and a polyfill fallback that are never reached, so :func:`_check_traces` refuses any other
trace type. plotly.js adds its stylesheet rules at run time, and its map library injects a
``<style>`` when the bundle loads; ``chart_head()`` puts empty ``<style>`` elements with
the page's nonce and those ids in the head, so plotly fills its own through the CSS object
model (which CSP allows) and the map library finds its id taken and adds nothing. The
policy keeps nonces only: no ``unsafe-inline``, no ``unsafe-eval``.

Colours are the Government Analysis Function's accessible categorical palette; colour is
never the only signal (bar patterns, line markers and dashes, a legend and a label on
every bar). plotly's own hover toolbar is off; each chart has a toolbar of real buttons
(save as PNG; zoom for charts over time) that work from the keyboard (static/charts.js;
the PNG is drawn from plotly's SVG on a canvas, since plotly's own PNG export loads a
``blob:`` image the policy refuses). Without JavaScript
the chart's place says so and the table is open.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache, cached_property
from pathlib import Path

import plotly
import plotly.graph_objects as go
from flask import Blueprint, Response, request

from portal import audit
from portal.exports import neutralise
from portal.extensions import db, limiter

# Government Analysis Function, "Data visualisation: colours", categorical palette, in
# the order it asks for. Two series use the first and the fourth (dark blue, orange).
PALETTE = ("#12436D", "#28A197", "#801650", "#F46A25", "#3D3D3D", "#A285D1")
TWO_SERIES = ("#12436D", "#F46A25")
PATTERNS = ("", "/", ".", "x", "-", "\\", "+", "|")
MARKERS = ("circle", "square", "diamond", "triangle-up", "cross", "star")
DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")
TEXT_COLOUR = "#0b0c0c"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"

# Characters on a line of a legend entry or a category label: a phone's screen holds a
# legend line of about 40 characters beside its symbol, and leaves a horizontal bar
# chart room for its bars beside a label of 20.
LEGEND_WIDTH = 34

# Trace types drawn as SVG: no eval, no WebGL.
SVG_TRACES = frozenset({"bar", "scatter"})

_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
_ID = re.compile(r"^[a-z][a-z0-9-]{0,62}$")

bp = Blueprint("charts", __name__)


# --- the data ----------------------------------------------------------------------------


def format_number(value: float | int | Decimal | None, places: int = 0) -> str:
    """A number as the table shows it and the CSV holds it: no separators, fixed places."""
    if value is None:
        return ""
    if places == 0:
        return str(int(round(value)))
    # Through a decimal, not a binary float: a large or long figure keeps every digit.
    exact = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    text = f"{exact:.{places}f}"
    # A figure that rounds to nothing is 0.0, never "-0.0".
    return text[1:] if text.startswith("-") and not text.strip("-0.") else text


@dataclass(frozen=True)
class Series:
    """One named run of figures, a figure per category (or ``None``: not plotted)."""

    name: str
    values: Sequence[float | int | Decimal | None]
    texts: Sequence[str] | None = None  # what each table cell says; default the number
    places: int = 0

    def cell_texts(self) -> list[str]:
        if self.texts is not None:
            if len(self.texts) != len(self.values):
                raise ValueError(f"series {self.name!r}: {len(self.texts)} texts for values")
            return [str(t) for t in self.texts]
        return [format_number(v, self.places) for v in self.values]

    def numbers(self) -> list[float | None]:
        return [None if v is None else float(v) for v in self.values]


@dataclass(frozen=True)
class Table:
    """A chart's data table: caption, header cells, a row per category (first cell a header)."""

    caption: str
    headers: list[str]
    rows: list[list[str]]

    def csv(self) -> bytes:
        """The table as CSV (UTF-8 with a byte-order mark), cell for cell.

        A number is written as it is shown; any other text that could run as a formula in
        a spreadsheet gets a leading quote, and every cell is quoted, so that a spreadsheet
        splitting on semicolons cannot cut a live formula out of one (portal/exports.py).
        """
        buffer = io.StringIO()
        writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
        for row in [self.headers, *self.rows]:
            writer.writerow([c if _NUMBER.match(c) else neutralise(c) for c in row])
        return ("\ufeff" + buffer.getvalue()).encode("utf-8")


@dataclass
class Chart:
    """A drawn figure with its heading, summary, table and text alternative."""

    id: str
    title: str
    summary: str
    table: Table
    # The figure as plotly.js takes it ({"data": [...], "layout": {...}}); a
    # plotly.graph_objects.Figure given here is turned into that dict.
    spec: dict | go.Figure
    kind: str  # "bar" or "line": what the text alternative calls it
    alt: str = ""
    zoomable: bool = False
    notes: list[str] = field(default_factory=list)  # shown under the chart, e.g. rounding
    # Its HTML as drawn by the chart macro, by (CSV address, heading level): a kept
    # dashboard (portal/cache.py) carries its charts drawn, see :func:`drawn_chart`.
    drawn: dict = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not _ID.match(self.id):
            raise ValueError(f"chart id {self.id!r}: lower-case letters, digits and hyphens")
        if not self.summary.strip():
            raise ValueError(f"chart {self.id!r} needs a summary sentence")
        if isinstance(self.spec, go.Figure):
            self.spec = self.spec.to_plotly_json()
        _check_traces(self.spec)
        if not self.alt:
            self.alt = (
                f"{self.kind.capitalize()} chart: {self.title}. {self.summary} "
                f"Every figure is in the table “{self.table.caption}”."
            )

    @property
    def empty(self) -> bool:
        return not self.table.rows

    @cached_property
    def figure(self) -> go.Figure:
        """The figure as plotly.py's validated object (raises if the spec is not valid)."""
        return go.Figure(self.spec)

    def csv(self) -> bytes:
        return self.table.csv()

    def spec_json(self) -> str:
        """The figure as JSON that is safe inside a ``<script type="application/json">``.

        Worked out once per chart: a kept dashboard's charts carry theirs with them."""
        known = self.__dict__.get("_spec_json")
        if known is not None:
            return known
        text = json.dumps(self.spec, separators=(",", ":"), allow_nan=False)
        self.__dict__["_spec_json"] = text = (
            text.replace("<", "\\u003c")
            .replace(">", "\\u003e")
            .replace("&", "\\u0026")
            .replace("\u2028", "\\u2028")
            .replace("\u2029", "\\u2029")
        )
        return text


def _check_traces(spec: dict) -> None:
    for trace in spec.get("data", ()):
        kind = trace.get("type", "scatter")
        if kind not in SVG_TRACES:
            raise ValueError(f"trace type {kind!r} is not drawn as SVG")


def _table(caption: str, category_label: str, categories, series: Sequence[Series]) -> Table:
    texts = [s.cell_texts() for s in series]
    for s in series:
        if len(s.values) != len(categories):
            raise ValueError(f"series {s.name!r} has {len(s.values)} figures for categories")
    rows = [[str(c), *(t[i] for t in texts)] for i, c in enumerate(categories)]
    return Table(caption, [category_label, *(s.name for s in series)], rows)


# --- figures -----------------------------------------------------------------------------


def _figure(traces: list[dict], layout: dict) -> dict:
    # An empty template, not plotly.py's default: every style is set in _layout, and the
    # page is not sent plotly's whole default theme with each chart. (This is what an
    # empty go.layout.Template() serialises to.)
    return {
        "data": traces,
        "layout": {"template": {"data": {"scatter": [{"type": "scatter"}]}}, **layout},
    }


def _layout(height: int, *, legend: bool, x_title: str, y_title: str) -> dict:
    axis = {
        "automargin": True,
        "fixedrange": True,
        "gridcolor": "#d7d7d7",
        "linecolor": TEXT_COLOUR,
        "tickfont": {"size": 14},
        "title": {"font": {"size": 14}},
        "zeroline": True,
        "zerolinecolor": TEXT_COLOUR,
    }
    return {
        "font": {"family": FONT, "size": 14, "color": TEXT_COLOUR},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "height": height,
        "margin": {"l": 8, "r": 24, "t": 8, "b": 8, "pad": 4},
        "showlegend": legend,
        "legend": {
            "orientation": "h",
            "yanchor": "bottom",
            "y": 1.02,
            "xanchor": "left",
            "x": 0,
            "font": {"size": 14},
            "traceorder": "normal",
            "itemclick": False,
            "itemdoubleclick": False,
        },
        "xaxis": {**axis, "title": {**axis["title"], "text": _wrap(x_title, 40)}},
        # A value axis' title runs up the side: on a phone a long one outgrows the plot.
        "yaxis": {**axis, "title": {**axis["title"], "text": _wrap(y_title, 24)}},
        "hoverlabel": {"font": {"family": FONT, "size": 14}},
        "dragmode": False,
        "separators": ".,",
    }


def _wrap(label: str, width: int = 20) -> str:
    """A long category label over several lines (plotly breaks lines at <br>)."""
    words, lines, line = str(label).split(), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    lines.append(line)
    return "<br>".join(_escape_label(x) for x in lines)


def _clip(label: str, length: int = 40) -> str:
    """A category's name short enough to sit beside a bar on a phone (the table has it all)."""
    text = " ".join(str(label).split())
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"


def _unique_labels(labels: list[str]) -> list[str]:
    # plotly draws two equal category labels as one bar: tell clipped twins apart.
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        out.append(label if seen[label] == 1 else f"{label} ({seen[label]})")
    return out


def _counts_axis(axis: dict, series: Sequence[Series], stacked: bool) -> None:
    """Whole-number ticks for counts (no "0.5 actions"), and room for a chart of zeros."""
    numbers = [[n for n in s.numbers() if n is not None] for s in series]
    if not all(float(n).is_integer() for ns in numbers for n in ns):
        return
    if stacked:
        highest = max(
            (
                sum(col)
                for col in zip(*[s.numbers() for s in series], strict=True)
                if all(v is not None for v in col)
            ),
            default=0,
        )
    else:
        highest = max((n for ns in numbers for n in ns), default=0)
    axis["tickformat"] = ",d"
    axis["rangemode"] = "tozero"
    if highest <= 10:
        axis["dtick"] = 1
        axis["range"] = [0, max(highest, 1) * 1.1]


def _escape_label(text: str) -> str:
    # plotly reads a few HTML-like tags in labels; the data's own < and > are text.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def bar_chart(
    id: str,
    *,
    title: str,
    categories: Sequence[str],
    series: Sequence[Series],
    category_label: str,
    summary: str,
    value_label: str = "",
    caption: str | None = None,
    horizontal: bool = True,
    stacked: bool = False,
    colours: Sequence[str] | None = None,
    notes: Sequence[str] = (),
) -> Chart:
    """Bars per category, one colour and pattern per series, each bar labelled."""
    series = list(series)
    table = _table(caption or title, category_label, list(categories), series)
    colours = colours or (TWO_SERIES if len(series) == 2 else PALETTE)
    labels = _unique_labels([_wrap(_clip(c)) for c in categories])
    traces = []
    for index, s in enumerate(series):
        numbers = s.numbers()
        texts = s.cell_texts()
        # A hidden figure gets no bar; its label (on a zero-length bar) says why.
        plotted = [0 if n is None else n for n in numbers]
        # Stacked bars are told apart by pattern and legend; a label inside a patterned
        # bar would be hard to read, so only side-by-side bars carry their figures.
        bar_text = ["" for _ in texts] if stacked else [t or "" for t in texts]
        colour = colours[index % len(colours)]
        common = {
            "name": _wrap(s.name, LEGEND_WIDTH),
            "text": bar_text,
            "textposition": "inside" if stacked else "outside",
            "insidetextanchor": "middle",
            "cliponaxis": False,
            "marker": {
                "color": colour,
                "line": {"color": TEXT_COLOUR, "width": 1},
                "pattern": {
                    "shape": PATTERNS[index % len(PATTERNS)] if len(series) > 1 else "",
                    "fillmode": "overlay",
                    "fgcolor": "#ffffff",
                    "fgopacity": 0.7,
                    "size": 8,
                },
            },
            "customdata": texts,
            "textfont": {"size": 14, "color": "#ffffff" if stacked else TEXT_COLOUR},
        }
        if horizontal:
            traces.append(
                {
                    "type": "bar",
                    "y": labels,
                    "x": plotted,
                    "orientation": "h",
                    "hovertemplate": f"%{{y}}<br>{_escape_label(s.name)}: %{{customdata}}"
                    "<extra></extra>",
                    **common,
                }
            )
        else:
            traces.append(
                {
                    "type": "bar",
                    "x": labels,
                    "y": plotted,
                    "hovertemplate": f"%{{x}}<br>{_escape_label(s.name)}: %{{customdata}}"
                    "<extra></extra>",
                    **common,
                }
            )
    per_row = (22 if stacked else 20 * len(series)) + 12
    # Each row is as tall as its bars, or its wrapped label (17 px a line), whichever is more.
    rows = sum(max(per_row, 17 * (label.count("<br>") + 1) + 10) for label in labels)
    height = max(220, 80 + max(rows, per_row)) if horizontal else 380
    layout = _layout(
        height,
        legend=len(series) > 1,
        x_title=value_label if horizontal else category_label,
        y_title="" if horizontal else value_label,
    )
    if not stacked:
        # Room for the figure printed beyond the longest bar (automargin leaves it out).
        layout["margin"]["r" if horizontal else "t"] = 48
    layout["barmode"] = "stack" if stacked else "group"
    layout["bargap"] = 0.25
    _counts_axis(layout["xaxis" if horizontal else "yaxis"], series, stacked)
    if horizontal:
        layout["yaxis"]["autorange"] = "reversed"  # first category at the top, as in the table
        layout["yaxis"]["title"]["text"] = ""
    return Chart(id, title, summary, table, _figure(traces, layout), "bar", notes=list(notes))


def line_chart(
    id: str,
    *,
    title: str,
    x: Sequence[str],
    series: Sequence[Series],
    x_label: str,
    summary: str,
    value_label: str = "",
    caption: str | None = None,
    notes: Sequence[str] = (),
) -> Chart:
    """Lines over time (x: period labels in order); a marker shape and dash per series."""
    series = list(series)
    table = _table(caption or title, x_label, list(x), series)
    colours = TWO_SERIES if len(series) == 2 else PALETTE
    traces = [
        {
            "type": "scatter",
            "x": list(x),
            "y": s.numbers(),
            "name": _wrap(s.name, LEGEND_WIDTH),
            "mode": "lines+markers",
            "connectgaps": False,
            "line": {
                "color": colours[index % len(colours)],
                "width": 3,
                "dash": DASHES[index % len(DASHES)],
            },
            "marker": {
                "symbol": MARKERS[index % len(MARKERS)],
                "size": 9,
                "line": {"color": TEXT_COLOUR, "width": 1},
            },
            "customdata": s.cell_texts(),
            "hovertemplate": f"%{{x}}<br>{_escape_label(s.name)}: %{{customdata}}<extra></extra>",
        }
        for index, s in enumerate(series)
    ]
    layout = _layout(360, legend=len(series) > 1, x_title=x_label, y_title=value_label)
    layout["xaxis"]["type"] = "category"
    layout["xaxis"]["fixedrange"] = False
    layout["yaxis"]["rangemode"] = "tozero"
    _counts_axis(layout["yaxis"], series, False)
    layout["hovermode"] = "x unified" if len(series) > 1 else "closest"
    figure = _figure(traces, layout)
    return Chart(id, title, summary, table, figure, "line", zoomable=True, notes=list(notes))


# --- sentences ---------------------------------------------------------------------------


def _pick(values: Sequence[float | None]) -> list[tuple[int, float]]:
    return [(i, float(v)) for i, v in enumerate(values) if v is not None]


def describe_extremes(
    categories: Sequence[str], series: Series, *, what: str, unit: str = ""
) -> str:
    """'Objective 2 has the most overdue actions, 4; Objective 1 the fewest, 0.'"""
    known = _pick(series.values)
    texts = series.cell_texts()
    if not known:
        return f"There are no {what} to show yet."
    high = max(v for _, v in known)
    low = min(v for _, v in known)
    if high == low:
        return f"Every one has the same number of {what}, {texts[known[0][0]]}{unit}."
    # Every category at the top (or the bottom) is named: a tie is not one winner.
    most = [i for i, v in known if v == high]
    fewest = [i for i, v in known if v == low]
    has = "has" if len(most) == 1 else "have"
    return (
        f"{listed([categories[i] for i in most])} {has} the most {what}, "
        f"{texts[most[0]]}{unit}; {listed([categories[i] for i in fewest])} the fewest, "
        f"{texts[fewest[0]]}{unit}."
    )


def listed(items: Sequence[str]) -> str:
    """Names in a sentence: one, "A and B", or "A, B and C"."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def describe_trend(x: Sequence[str], series: Series, *, what: str) -> str:
    """'Progress updates rose from 2 in January 2026 to 5 in June 2026.'

    A period whose figure is shown only in words ("fewer than 8") is never read as none:
    the sentence names those periods rather than saying there were no such things."""
    known = _pick(series.values)
    texts = series.cell_texts()
    hidden = [i for i, v in enumerate(series.values) if v is None and texts[i]]
    if hidden and all(v == 0 for _, v in known):
        in_words = listed(sorted({texts[i] for i in hidden}))
        rest = f"; there were no {what} in the other periods" if known else ""
        return (
            f"The {what} in {listed([x[i] for i in hidden])} are shown in words "
            f"({in_words}), not as numbers{rest}."
        )
    if not known:
        return f"There are no {what} to show for these periods."
    if all(v == 0 for _, v in known):
        return f"There were no {what} from {x[known[0][0]]} to {x[known[-1][0]]}."
    too_few = " Some periods are shown in words, not as numbers." if hidden else ""
    if len(known) == 1:
        i = known[0][0]
        return f"There is one figure for {what}: {texts[i]} in {x[i]}.{too_few}"
    (first, a), (last, b) = known[0], known[-1]
    if b == a:
        peak = max(v for _, v in known)
        if peak == a:
            return f"There were {texts[last]} {what} in {x[last]}, as in {x[first]}.{too_few}"
        highest = [i for i, v in known if v == peak]
        where = x[highest[0]]
        if len(highest) > 1:
            others = len(highest) - 1
            where += f" and {others} other period{'s' if others > 1 else ''}"
        return (
            f"{what.capitalize()} were highest, {texts[highest[0]]}, in {where}; there were "
            f"{texts[first]} in {x[first]} and {texts[last]} in {x[last]}.{too_few}"
        )
    verb = "rose" if b > a else "fell"
    return (
        f"{what.capitalize()} {verb} from {texts[first]} in {x[first]} "
        f"to {texts[last]} in {x[last]}.{too_few}"
    )


def possessive(name: str) -> str:
    """ "Sevenoaks'", "Thanet's"."""
    return f"{name}'" if name.endswith("s") else f"{name}'s"


def describe_shares(
    subject: str, comparison: str, categories: Sequence[str], ours: Series, theirs: Series
) -> str:
    """The largest gap between two shares: "Sevenoaks' share of disabled employees, 9 %, …"."""
    gaps = [
        (i, float(a) - float(b))
        for i, (a, b) in enumerate(zip(ours.values, theirs.values, strict=True))
        if a is not None and b is not None
    ]
    if not gaps:
        return f"There are no shares to compare with {comparison} yet."
    i, gap = max(gaps, key=lambda p: abs(p[1]))
    a, b = ours.cell_texts()[i], theirs.cell_texts()[i]
    if gap == 0:
        return f"{possessive(subject)} shares match {comparison} for every characteristic shown."
    side = "below" if gap < 0 else "above"
    return (
        f"The widest gap is for {categories[i]}: {possessive(subject)} share, {a} %, is {side} "
        f"{comparison}, {b} %."
    )


# --- download ----------------------------------------------------------------------------


def csv_response(chart: Chart, filename: str) -> Response:
    """The chart's table as a CSV download, recorded in the audit trail as an export."""
    body = chart.csv()
    audit.record(
        "export",
        object_type="chart",
        detail={
            "chart": chart.id,
            "title": chart.title,
            "format": "csv",
            "rows": len(chart.table.rows),
        },
    )
    db.session.commit()
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", filename).strip("-") or "chart"
    return Response(
        body,
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{safe}.csv"'},
    )


# --- plotly.js ---------------------------------------------------------------------------

PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
# plotly.js creates these <style> elements itself unless an element with the id exists.
_STYLE_ID = re.compile(r'createElement\("style"\);\w+\.id="([0-9a-f]{32,64})"')
PLOTLY_STYLE_ID = "plotly.js-style-global"


@cache
def _plotly_bundle() -> tuple[bytes, bytes, str, tuple[str, ...]]:
    """The pinned bundle, gzipped, its version, and the ids of the styles it injects."""
    raw = PLOTLY_JS.read_bytes()
    head = raw[:200].decode("utf-8", "replace")
    match = re.search(r"plotly\.js v([0-9][0-9A-Za-z.\-]*)", head)
    version = match.group(1) if match else plotly.__version__
    ids = tuple(dict.fromkeys(_STYLE_ID.findall(raw.decode("utf-8", "replace"))))
    return raw, gzip.compress(raw, 9), version, ids


@bp.app_template_global()
def drawn_chart(chart: Chart, csv_url: str | None = None, heading_level: int = 2):
    """The chart macro's HTML for ``chart`` (templates/_chart.html), drawn once and kept
    on the chart. It holds no nonce or token: the same for every request that shows it."""
    from flask import get_template_attribute

    key = (csv_url, heading_level)
    html = chart.drawn.get(key)
    if html is None:
        macro = get_template_attribute("_chart.html", "chart")
        html = chart.drawn[key] = macro(chart, csv_url=csv_url, heading_level=heading_level)
    return html


@bp.app_template_global()
def plotly_version() -> str:
    return _plotly_bundle()[2]


@bp.app_template_global()
def injected_style_ids() -> tuple[str, ...]:
    """Ids of every <style> the bundle would add itself: the page adds them first, empty."""
    return (PLOTLY_STYLE_ID, *_plotly_bundle()[3])


@bp.route("/charts/plotly-<version>.min.js")
@limiter.exempt
def plotly_js(version: str):
    raw, packed, current, _ = _plotly_bundle()
    if version != current:
        return Response("Not found", status=404, mimetype="text/plain")
    etag = f'"plotly-{current}"'
    if request.headers.get("If-None-Match") == etag:
        response = Response(status=304)
    else:
        gzipped = "gzip" in request.headers.get("Accept-Encoding", "")
        response = Response(
            packed if gzipped else raw, content_type="text/javascript; charset=utf-8"
        )
        if gzipped:
            response.headers["Content-Encoding"] = "gzip"
        response.headers["Vary"] = "Accept-Encoding"
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return response
