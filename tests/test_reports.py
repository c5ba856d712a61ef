"""The joint report: its content, every format, publishing, corrections and the public pages.

The formats are built once per module from twelve demonstration returns (drawing the charts
starts chromium once); publishing is tested through the lead's pages and the job queue.
"""

from __future__ import annotations

import csv
import io
import zipfile

import pikepdf
import pytest
from docx import Document
from odf import table as odf_table
from odf import text as odf_text
from odf.opendocument import load as load_odt
from openpyxl import load_workbook
from sqlalchemy import func, select

from portal import mail
from portal.disclosure import DEFAULT_RULE
from portal.extensions import db
from portal.jobs.models import Job
from portal.partners.models import Partnership
from portal.reports import content as report_content
from portal.reports import formats, services, sources
from portal.reports.demo import sample_submissions
from portal.reports.models import FORMAT_KEYS, JointReport, JointReportVersion
from portal.tenancy import partnership_scope, tenant_scope
from tests.conftest import PASSWORD
from tests.helpers import audit_events, csrf_token, tenant

YEAR = "2024-25"
# The publishing tests use a year the demonstration data has not published.
OPEN = "2023-24"


def _content(count: int = 12) -> dict:
    subs = sample_submissions(count, YEAR)
    return report_content.build(
        partnership_name="Test partnership",
        partnership_slug="test",
        year=YEAR,
        foreword="A foreword.",
        summary="A summary.",
        members=[(s.slug, s.name) for s in subs] + [("late", "Late Council")],
        submissions=subs,
        rule=DEFAULT_RULE,
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    from portal import create_app

    app = create_app({"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://", "TESTING": True})
    with app.test_request_context():
        content = _content(3)
        facts = {"number": 1, "published": "1 June 2025", "sha256": "a" * 64, "correction_note": ""}
        return content, formats.build_all(content, version=facts)


# --- content --------------------------------------------------------------------------------


def test_members_without_a_signed_off_return_are_named():
    content = _content(2)
    assert content["not_submitted"] == ["Late Council"]
    text = " ".join(
        b.get("text", "") for s in content["sections"] for b in s["blocks"] if b["type"] == "p"
    )
    assert "Not submitted by the deadline: Late Council." in text


def test_a_report_without_any_return_cannot_be_built():
    with pytest.raises(report_content.ContentError, match="No member has a signed-off return"):
        report_content.build(
            partnership_name="P",
            partnership_slug="p",
            year=YEAR,
            foreword="",
            summary="",
            members=[("a", "A")],
            submissions=[],
            rule=DEFAULT_RULE,
        )


def test_every_chart_has_a_summary_and_its_data_table():
    content = _content(2)
    tables = report_content.tables_of(content)
    charts = report_content.charts_of(content)
    assert charts
    for chart in charts:
        assert chart["summary"] and chart["alt"]
        assert chart["table"] in tables


def test_the_annex_holds_no_small_or_unrounded_count():
    content = _content(12)
    counts = [row for row in content["annex"] if row["unit"] == "count"]
    assert counts
    for row in counts:
        value = row["value"]
        assert value is None or value == 0 or (value >= 8 and value % 5 == 0), row
        if value is None:
            assert row["mark"] in ("fewer than 8", "withheld to protect small counts")


def test_linked_tables_that_would_give_a_count_away_are_withheld():
    # Each table alone is safe; side by side, "fewer than 8" in one table and the rounded
    # cells of the other pin it down, so the report withholds them all.
    from portal.disclosure import ReleasedCell, ReleasedTable, check_linked

    def cell(status, value=None):
        return ReleasedCell(status, value)

    by_age = ReleasedTable(
        {"a": cell("suppressed"), "b": cell("zero", 0)}, cell("zero", 0), cell("withheld")
    )
    overall = ReleasedTable({}, cell("suppressed"), cell("withheld"))
    checked = check_linked([by_age, overall])
    assert all(
        c.status in ("withheld", "suppressed", "zero") for t in checked for c in t.all_cells()
    )
    assert [t.total.status for t in checked] == ["withheld", "withheld"]


# --- formats --------------------------------------------------------------------------------


def test_pdf_is_tagged_with_title_language_bookmarks_and_figure_alt_text(built):
    _, files = built
    pdf = pikepdf.open(io.BytesIO(files["pdf"]))
    root = pdf.Root
    assert root.MarkInfo.Marked is True
    assert str(root.Lang) == "en-GB"
    assert str(pdf.docinfo.Title) == "Test partnership: joint annual report 2024-25"
    assert root.ViewerPreferences.DisplayDocTitle is True
    assert "/StructTreeRoot" in root
    assert "/Outlines" in root
    figures, headers = [], 0

    def walk(node):
        nonlocal headers
        if isinstance(node, pikepdf.Dictionary):
            if node.get("/S") == "/Figure":
                figures.append(node.get("/Alt"))
            if node.get("/S") == "/TH":
                headers += 1
            if "/K" in node:
                walk(node.K)
        elif isinstance(node, pikepdf.Array):
            for item in node:
                walk(item)

    walk(root.StructTreeRoot)
    assert figures and all(alt is not None and str(alt).startswith("Bar chart:") for alt in figures)
    assert headers > 20
    with pikepdf.open(io.BytesIO(files["large-print"])) as large:
        assert large.Root.MarkInfo.Marked is True


def test_large_print_is_at_least_16_point():
    css = (formats.TEMPLATES / "document.css").read_text()
    large = [line for line in css.splitlines() if line.startswith("body.large-print")]
    sizes = [float(s.split("font-size:")[1].split("pt")[0]) for s in large if "font-size:" in s]
    assert sizes and min(sizes) >= 16


def test_docx_has_heading_styles_repeated_header_rows_and_alt_text(built):
    _, files = built
    document = Document(io.BytesIO(files["docx"]))
    styles = {p.style.name for p in document.paragraphs}
    assert {"Title", "Heading 1", "Heading 2"} <= styles
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    assert "Foreword" in headings and "Joint measures" in headings
    assert document.tables
    for table in document.tables:
        header = table.rows[0]._tr
        assert header.xpath("./w:trPr/w:tblHeader"), "header row is not repeated"
    described = document.element.body.xpath(".//wp:docPr/@descr")
    assert described and all(d.startswith("Bar chart:") for d in described)


def test_odt_has_outline_headings_header_rows_and_chart_descriptions(built):
    _, files = built
    document = load_odt(io.BytesIO(files["odt"]))
    headings = [str(h) for h in document.getElementsByType(odf_text.H)]
    assert "Foreword" in headings and "Joint measures" in headings
    tables = document.getElementsByType(odf_table.Table)
    assert tables
    for grid in tables:
        assert grid.getElementsByType(odf_table.TableHeaderRows)
    with zipfile.ZipFile(io.BytesIO(files["odt"])) as archive:
        assert any(n.endswith(".svg") for n in archive.namelist())
        body = archive.read("content.xml").decode()
    assert "<svg:desc>Bar chart:" in body


def test_annex_csv_and_xlsx_hold_every_figure(built):
    content, files = built
    rows = list(csv.reader(io.StringIO(files["csv"].decode("utf-8-sig"))))
    assert rows[0] == list(formats.ANNEX_HEADINGS)
    assert len(rows) - 1 == len(content["annex"])
    sheet = load_workbook(io.BytesIO(files["xlsx"])).active
    assert sheet.max_row - 1 == len(content["annex"])
    for _member, _m, _p, _c, unit, value, mark in rows[1:]:
        if unit == "count" and value:
            assert int(value) == 0 or (int(value) >= 8 and int(value) % 5 == 0)
        if unit == "count" and not value:
            assert mark


def test_html_has_contents_captions_and_header_cells(built):
    _, files = built
    page = files["html"].decode()
    assert '<html lang="en-GB">' in page
    assert 'aria-labelledby="contents-heading"' in page
    assert page.count("<caption") == page.count("<table")
    assert '<th scope="row"' in page and '<th scope="col"' in page
    assert page.count('<img class="report-chart"') == page.count("<figure")


# --- publishing -------------------------------------------------------------------------------


@pytest.fixture
def fake_returns(app, monkeypatch):
    """West Kent's reporting year 2023-24, with three members' signed-off returns whatever
    the database holds."""
    from datetime import date

    from portal.returns import services as returns

    with app.app_context():
        partnership = _west_kent()
        with partnership_scope(partnership):
            returns.open_year(
                partnership,
                start_year=2023,
                deadline=date(2024, 5, 31),
                publication_target=date(2024, 7, 31),
                notify=False,
            )
    subs = sample_submissions(3, YEAR)
    monkeypatch.setattr(sources, "submissions", lambda partnership, year: list(subs))
    return subs


def _west_kent() -> Partnership:
    return db.session.scalar(select(Partnership).where(Partnership.slug == "west-kent"))


def _versions_of(year: str) -> int:
    """West Kent's versions of the report for ``year`` (reports are partnership-owned)."""
    with partnership_scope(_west_kent()):
        return db.session.scalar(
            select(func.count(JointReportVersion.id))
            .join(JointReport)
            .where(JointReport.year == year)
        )


def _write_text(client, partnership="west-kent"):
    url = f"/p/{partnership}/reports/{OPEN}/report/"
    page = client.get(url)
    assert page.status_code == 200
    version = page.get_data(as_text=True).split('name="version" type="hidden" value="')[1]
    version = version.split('"')[0]
    return client.post(
        url,
        data={
            "csrf_token": csrf_token(client, url),
            "version": version,
            "foreword": "Our foreword.",
            "summary": "Our summary.",
        },
    )


def _publish(client, note="", partnership="west-kent"):
    url = f"/p/{partnership}/reports/{OPEN}/report/"
    return client.post(f"{url}publish", data={"csrf_token": csrf_token(client, url), "note": note})


def test_publish_a_version_then_a_correction(app, client, login_as, fake_returns):
    login_as("lead", partnership="west-kent")
    assert _write_text(client).status_code == 302
    preview = client.get(f"/p/west-kent/reports/{OPEN}/report/preview")
    assert preview.status_code == 200
    assert "Demonstration member 01" in preview.get_data(as_text=True)

    response = _publish(client)
    assert response.status_code == 302 and "/jobs/" in response.location
    with app.app_context(), partnership_scope(_west_kent()):
        version = db.session.scalar(
            select(JointReportVersion).join(JointReport).where(JointReport.year == OPEN)
        )
        assert version.number == 1 and not version.superseded
        assert {f.format for f in version.files} == set(FORMAT_KEYS)
        assert [r["member"] for r in version.returns] == [s.name for s in fake_returns]
        assert version.sha256 == report_content.content_hash(version.content)
        sha1 = version.sha256

    public = client.get(f"/public/p/west-kent/reports/{OPEN}/")
    text = public.get_data(as_text=True)
    assert public.status_code == 200 and sha1 in text
    for key in FORMAT_KEYS:
        download = client.get(f"/public/p/west-kent/reports/{OPEN}/v1/{key}")
        assert download.status_code == 200, key
        assert "attachment" in download.headers["Content-Disposition"]

    # Chief executives and leads are emailed the link, and the delivery is in the trail.
    with app.app_context():
        sent = {m["To"] for m in mail.read_outbox()}
    assert "ceo@sevenoaks.demo" in sent and "lead@west-kent.demo" in sent
    assert audit_events(app, action="report.delivered")

    # A correction needs a note, and then becomes version 2; version 1 stays, superseded.
    _publish(client)
    with app.app_context():
        assert _versions_of(OPEN) == 1
    _publish(client, note="Corrected the workforce table.")
    with app.app_context(), partnership_scope(_west_kent()):
        versions = db.session.scalars(
            select(JointReportVersion)
            .join(JointReport)
            .where(JointReport.year == OPEN)
            .order_by(JointReportVersion.number)
        ).all()
        assert [(v.number, v.superseded) for v in versions] == [(1, True), (2, False)]
        assert versions[0].sha256 == sha1
    latest = client.get(f"/public/p/west-kent/reports/{OPEN}/").get_data(as_text=True)
    assert "Corrected the workforce table." in latest
    old = client.get(f"/public/p/west-kent/reports/{OPEN}/v1/")
    assert old.status_code == 200 and "superseded" in old.get_data(as_text=True)
    with app.app_context(), partnership_scope(_west_kent()):
        listed = services.published_reports_for_partnership(_west_kent())
        assert (OPEN, 2) in [(r.year, r.number) for r in listed]
        assert (OPEN, 1) not in [(r.year, r.number) for r in listed]


def test_a_published_version_is_never_changed(app, client, login_as, fake_returns):
    login_as("lead", partnership="west-kent")
    _write_text(client)
    _publish(client)
    with app.app_context(), partnership_scope(_west_kent()):
        version = db.session.scalar(
            select(JointReportVersion).join(JointReport).where(JointReport.year == OPEN)
        )
        version.correction_note = "tampered"
        with pytest.raises(PermissionError):
            db.session.commit()


def test_a_failing_build_says_why_and_publishes_nothing(
    app, client, login_as, fake_returns, monkeypatch
):
    def broken(document_html):
        raise formats.BuildError("The PDF could not be laid out.")

    monkeypatch.setattr(formats, "pdf", broken)
    login_as("lead", partnership="west-kent")
    _write_text(client)
    _publish(client)
    with app.app_context():
        assert _versions_of(OPEN) == 0
        job = db.session.scalar(select(Job).order_by(Job.id.desc()))
        assert job.state == "failed" and job.failure == "The PDF could not be laid out."
    assert client.get(f"/public/p/west-kent/reports/{OPEN}/").status_code == 404


def test_publishing_needs_a_foreword(app, client, login_as, fake_returns):
    login_as("lead", partnership="west-kent")
    client.get(f"/p/west-kent/reports/{OPEN}/report/")
    response = _publish(client)
    assert response.status_code == 302 and response.location.endswith("/report/")
    with app.app_context():
        assert _versions_of(OPEN) == 0


def test_the_report_reads_signed_off_returns_only(app, login_as):
    """West Kent 2025-26: Sevenoaks signed off; Tonbridge & Malling's draft never shows."""
    from portal.returns import services as returns

    with app.app_context(), partnership_scope(_west_kent()):
        partnership = _west_kent()
        report = services.report_for(partnership, "2025-26")
        report.foreword, report.summary = "F", "S"
        content = services.compile_content(partnership, report)
        year = returns.find_year(partnership, "2025-26")
        without = [t.name for t in returns.members_without_return(year)]
    assert content["members_included"] == ["Sevenoaks District Council"]
    assert sorted(content["not_submitted"]) == sorted(without)
    assert any("Tonbridge" in name for name in content["not_submitted"])
    with app.app_context():
        from portal.returns.models import ReturnSection, ReturnSnapshot

        signed = str(db.session.scalars(select(ReturnSnapshot.content)).all())
        with tenant_scope(tenant("tonbridge-malling")):
            drafts = db.session.scalars(select(ReturnSection.answers)).all()
    assert drafts, "the demonstration has a draft return to keep out"
    texts = [v for answers in drafts for v in (answers or {}).values() if isinstance(v, str)]
    as_text = str(content["sections"])
    for value in texts:
        if len(value) > 30 and value not in signed:
            assert value not in as_text
    headings = [s["heading"] for s in content["sections"]]
    assert not any("Tonbridge" in h for h in headings)


def test_demonstration_reports_are_published(app, client):
    with app.app_context():
        for slug in ("west-kent", "kent-network"):
            partnership = db.session.scalar(select(Partnership).where(Partnership.slug == slug))
            with partnership_scope(partnership):
                listed = services.published_reports_for_partnership(partnership)
            assert [(r.year, r.number) for r in listed] == [(YEAR, 1)], slug
        # A member's pages see the reports of each of its partnerships.
        with tenant_scope(tenant("tonbridge-malling")):
            listed = services.published_reports_for_tenant(tenant("tonbridge-malling"))
            assert {r.partnership.slug for r in listed} == {"west-kent", "kent-network"}
    page = client.get(f"/public/p/west-kent/reports/{YEAR}/")
    assert page.status_code == 200
    assert "Demonstration data" in page.get_data(as_text=True)


def test_unknown_years_and_versions_are_not_found(client, login_as):
    assert client.get("/public/p/west-kent/reports/2024-26/").status_code == 404
    assert client.get(f"/public/p/west-kent/reports/{YEAR}/v9/").status_code == 404
    assert client.get(f"/public/p/west-kent/reports/{YEAR}/v1/exe").status_code == 404
    assert client.get(f"/public/p/west-kent/reports/{OPEN}/").status_code == 404
    assert client.get(f"/public/p/nowhere/reports/{YEAR}/").status_code == 404
    login_as("lead", partnership="west-kent")
    assert client.get("/p/west-kent/reports/2024/report/").status_code == 404
    assert client.get("/p/west-kent/reports/2019-20/report/").status_code == 404


@pytest.mark.parametrize("version", ["abc", "", "²", "9" * 5000])
def test_a_missing_or_garbled_version_is_a_conflict_not_an_error(
    app, client, login_as, fake_returns, version
):
    login_as("lead", partnership="west-kent")
    url = f"/p/west-kent/reports/{OPEN}/report/"
    client.get(url)
    response = client.post(
        url,
        data={
            "csrf_token": csrf_token(client, url),
            "version": version,
            "foreword": "Our foreword.",
            "summary": "Our summary.",
        },
    )
    assert response.status_code == 200
    assert "Our foreword." in response.get_data(as_text=True)
    with app.app_context(), partnership_scope(_west_kent()):
        report = services.find_report(_west_kent(), OPEN)
        assert report is None or report.foreword != "Our foreword."


def test_a_missing_browser_is_said_in_plain_words_rather_than_waited_for(app, monkeypatch):
    content = _content(2)
    assert report_content.charts_of(content)
    monkeypatch.setitem(app.config, "CHROMIUM", "/nonexistent/chromium")
    with app.app_context(), pytest.raises(formats.BuildError, match="no chromium browser"):
        formats.draw_charts(content)


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_annex_text_that_could_run_as_a_formula_is_written_as_text(start):
    # The annex carries names typed by members and leads; it follows portal/exports.py.
    text = f'{start}HYPERLINK("http://example.com")'
    content = {
        "title": "Joint annual report",
        "annex": [
            {
                "member": "Sevenoaks",
                "measure": text,
                "period": "2025-26",
                "category": "",
                "unit": "count",
                "value": 15,
                "mark": "rounded",
            }
        ],
    }
    rows = list(csv.reader(io.StringIO(formats.annex_csv(content).decode("utf-8-sig"))))
    assert rows[1][1] == "'" + text and rows[1][5] == "15"
    sheet = load_workbook(io.BytesIO(formats.annex_xlsx(content))).active
    assert sheet["B2"].value == "'" + text and sheet["F2"].value == 15


def test_a_correction_sent_twice_makes_one_version(app, client, login_as, fake_returns):
    # A double click on "Publish" queues two builds of the same correction: the second
    # finds nothing changed since the first and publishes nothing.
    login_as("lead", partnership="west-kent")
    _write_text(client)
    _publish(client)
    _publish(client, note="Corrected the workforce table.")
    _publish(client, note="Corrected the workforce table.")
    with app.app_context():
        assert _versions_of(OPEN) == 2
        job = db.session.scalar(select(Job).order_by(Job.id.desc()))
        assert job.state == "failed"
        assert job.failure.startswith("Version 2 already publishes")


def test_case_study_images_from_the_database_reach_every_format(app):
    """An officer's case study image, signed off with its return, is in the HTML, the
    PDF (a tagged figure with its alt text), large print, DOCX and ODT."""
    from portal.returns import case_studies, signoff
    from portal.returns import services as returns
    from tests.helpers import png, user

    alt = "Volunteers painting the new community hub in bright colours"
    with app.test_request_context(), partnership_scope(_west_kent()):
        partnership = _west_kent()
        year = returns.find_year(partnership, "2025-26")
        officer, ceo = user("officer@tunbridge-wells.demo"), user("ceo@tunbridge-wells.demo")
        with tenant_scope(tenant("tunbridge-wells")):
            ret = returns.return_for(year)
            signoff.send_back(ret, comments="Add the hub's story, please.", user=ceo)
            case_studies.save_case_study(
                ret,
                None,
                title="Opening the community hub",
                text="Residents and staff opened the hub together.",
                image=png(24),
                image_alt=alt,
                user=officer,
            )
            signoff.send_for_sign_off(ret, user=officer, notify=False)
            signoff.sign_off(
                ret,
                user=ceo,
                password=PASSWORD,
                confirmed=True,
                name="Pat Jones",
                role="Chief Executive",
            )
        db.session.expire_all()
        report = services.report_for(partnership, "2025-26")
        report.foreword, report.summary = "F", "S"
        submissions = sources.submissions(partnership, "2025-26")
        content = services.compile_content(partnership, report, submissions)
        images = report_content.images_of(submissions)
        facts = {"number": 1, "published": "1 June 2026", "sha256": "b" * 64}
        page = formats.html(content, {}, images=images, version=facts)
        built = {
            "pdf": formats.pdf(page),
            "large-print": formats.pdf(
                formats.html(content, {}, images=images, version=facts, large=True)
            ),
            "docx": formats.docx(content, {}, images=images, version=facts),
            "odt": formats.odt(content, {}, images=images, version=facts),
        }
    (key,) = images
    assert images[key] == ("image/png", png(24))
    blocks = [b for s in content["sections"] for b in s["blocks"] if b["type"] == "image"]
    assert [(b["id"], b["alt"]) for b in blocks] == [(key, alt)]
    assert f'alt="{alt}"' in page and "data:image/png;base64," in page

    def figure_alts(data: bytes) -> list[str]:
        found = []

        def walk(node):
            if isinstance(node, pikepdf.Dictionary):
                if node.get("/S") == "/Figure":
                    found.append(str(node.get("/Alt")))
                if "/K" in node:
                    walk(node.K)
            elif isinstance(node, pikepdf.Array):
                for item in node:
                    walk(item)

        with pikepdf.open(io.BytesIO(data)) as pdf:
            walk(pdf.Root.StructTreeRoot)
        return found

    assert alt in figure_alts(built["pdf"])
    assert alt in figure_alts(built["large-print"])
    document = Document(io.BytesIO(built["docx"]))
    assert alt in document.element.body.xpath(".//wp:docPr/@descr")
    assert any(part.content_type == "image/png" for part in document.part.package.parts)
    opened = load_odt(io.BytesIO(built["odt"]))
    assert opened.getElementsByType(odf_text.H)
    with zipfile.ZipFile(io.BytesIO(built["odt"])) as archive:
        assert archive.read(f"Pictures/{key}.png") == png(24)
        assert f"<svg:desc>{alt}</svg:desc>" in archive.read("content.xml").decode()


def test_charts_are_drawn_from_code_that_already_runs_an_event_loop(app):
    # A worker or harness built on asyncio calls the build from inside its loop, where
    # asyncio.run cannot nest.
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    async def inside_a_loop():
        with app.app_context():
            return formats.draw_charts(_content(2))

    # A thread of its own, so the test starts its loop whatever this one already runs.
    with ThreadPoolExecutor(max_workers=1) as pool:
        drawn = pool.submit(lambda: asyncio.run(inside_a_loop())).result()
    assert drawn["svg"] and all(svg.lstrip().startswith(b"<svg") for svg in drawn["svg"].values())
