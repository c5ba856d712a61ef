"""Time to build each format of the joint report for a 12-member partnership with full
returns. Goals on the development machine: HTML 2 s or less, PDF 15 s or less."""

from __future__ import annotations

import time

GOALS = {"html": 2.0, "pdf": 15.0, "pdf from content (charts, html, layout)": 15.0}
MEMBERS = 12


def measure(app) -> list[tuple[str, float]]:
    """(what, seconds) for the charts and each format, built once as a publication does."""
    from portal.disclosure import DEFAULT_RULE
    from portal.reports import content, formats
    from portal.reports.demo import sample_submissions

    timings: list[tuple[str, float]] = []

    def timed(label, fn):
        start = time.perf_counter()
        result = fn()
        timings.append((label, time.perf_counter() - start))
        return result

    with app.test_request_context():
        subs = sample_submissions(MEMBERS)
        report = timed(
            "content",
            lambda: content.build(
                partnership_name="Benchmark partnership",
                partnership_slug="bench",
                year="2024-25",
                foreword="Foreword.",
                summary="Summary.",
                members=[(s.slug, s.name) for s in subs],
                submissions=subs,
                rule=DEFAULT_RULE,
                is_demo=True,
            ),
        )
        facts = {"number": 1, "published": "1 June 2025", "sha256": "0" * 64}
        drawn = timed(
            "charts (kaleido, SVG and PNG)", lambda: formats.draw_charts(report, ("svg", "png"))
        )
        svgs, pngs = drawn["svg"], drawn["png"]
        page = timed("html", lambda: formats.html(report, svgs, version=facts))
        timed("pdf", lambda: formats.pdf(page))
        timed(
            "large-print",
            lambda: formats.pdf(formats.html(report, svgs, version=facts, large=True)),
        )
        timed("docx", lambda: formats.docx(report, pngs, version=facts))
        timed("odt", lambda: formats.odt(report, svgs, version=facts))
        timed("csv", lambda: formats.annex_csv(report))
        # What a reader of the PDF waits for from the content: its charts drawn (SVG only),
        # the page written and laid out.
        timed(
            "pdf from content (charts, html, layout)",
            lambda: formats.pdf(
                formats.html(report, formats.draw_charts(report)["svg"], version=facts)
            ),
        )
        timed("xlsx", lambda: formats.annex_xlsx(report))
    return timings


def report(app) -> None:
    timings = measure(app)
    width = max(len(label) for label, _ in timings)
    print()
    print(f"Joint report, {MEMBERS} members with full returns")
    print(f"{'format'.ljust(width)}  seconds  goal")
    for label, seconds in timings:
        goal = GOALS.get(label)
        verdict = "" if goal is None else f"≤ {goal:g} s {'met' if seconds <= goal else 'MISSED'}"
        print(f"{label.ljust(width)}  {seconds:7.2f}  {verdict}")
