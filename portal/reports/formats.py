"""Every format of the report, each made from the same content (portal.reports.content).

HTML is the primary format; the tagged PDF (PDF/UA-1) and the large-print PDF are that
HTML laid out by WeasyPrint; DOCX (python-docx) and ODT (odfpy) walk the same sections and
blocks; the data annex (CSV, XLSX) lists every figure. Charts are plotly figures drawn once
per build by kaleido, through the system's chromium, as vector SVG (PNG for DOCX, which
cannot hold SVG).
"""

from __future__ import annotations

import asyncio
import base64
import csv
import functools
import io
import os
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from flask import current_app

from portal.exports import neutralise
from portal.reports.content import charts_of, tables_of

TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "reports"
ANNEX_COLUMNS = ("member", "measure", "period", "category", "unit", "value", "mark")
ANNEX_HEADINGS = ("Member", "Measure", "Period", "Category", "Unit", "Released value", "Mark")
PALETTE = ("#1d70b8", "#f47738", "#505a5f", "#00703c", "#4c2c92", "#d4351c")


class BuildError(RuntimeError):
    """A format could not be made; the message says why in plain words."""


# --- charts -------------------------------------------------------------------------------


@functools.cache
def _template() -> dict:
    import plotly.io as pio

    return pio.templates["simple_white"].to_plotly_json()


def _figure(chart: Mapping) -> dict:
    """The chart as a plotly figure, as the plain data kaleido sends to plotly.js (a
    ``graph_objects.Figure`` would check every property again, for nothing, each build)."""
    series = chart["series"]
    return {
        "data": [
            {
                "type": "bar",
                "name": s["name"],
                "x": list(chart["categories"]),
                "y": list(s["values"]),
                "marker": {"color": PALETTE[index % len(PALETTE)]},
            }
            for index, s in enumerate(series)
        ],
        "layout": {
            "template": _template(),
            "barmode": "group",
            "font": {"family": "Arial", "size": 14, "color": "#0b0c0c"},
            "margin": {"l": 60, "r": 20, "t": 20, "b": 80},
            "legend": {"orientation": "h", "y": -0.25},
            "showlegend": len(series) > 1,
        },
    }


CHART_SECONDS = 60  # one chart takes a fraction of a second once chromium is up
CHART_TABS = 1  # measured: a second tab costs more to open than it saves


def draw_charts(content: Mapping, formats: tuple[str, ...] = ("svg",)) -> dict[str, dict]:
    """Every chart of the content in each of ``formats``: {format: {chart id: bytes}}.

    kaleido's browser starts once for the whole build. A missing or broken browser, or a
    chart that never comes back, is a :class:`BuildError` in plain words, never a wait.
    """
    drawn: dict[str, dict] = {fmt: {} for fmt in formats}
    charts = charts_of(content)
    if not charts:
        return drawn
    browser = current_app.config.get("CHROMIUM", "/usr/bin/chromium")
    if not (os.path.isfile(browser) and os.access(browser, os.X_OK)):
        raise BuildError(
            f"The charts could not be drawn: there is no chromium browser at {browser}. "
            "Install Debian's chromium package, or set PORTAL_CHROMIUM to where it is."
        )
    os.environ["BROWSER_PATH"] = browser
    try:
        _run_apart(_draw_all, charts, formats, drawn)
    except BuildError:
        raise
    except Exception as exc:  # noqa: BLE001 - said in plain words
        raise BuildError(
            "The charts could not be drawn: the chromium browser did not start."
        ) from exc
    return drawn


def _kaleido_class():
    import kaleido

    class Kaleido(kaleido.Kaleido):
        """kaleido's browser, keeping each tab's page between images.

        kaleido reloads a tab after every image, which parses plotly.js again: most of a
        chart's time. Each image is drawn by ``Plotly.toImage`` into an element of its own
        that plotly removes afterwards, so nothing of one chart is left for the next and
        the reload only costs time. (kaleido 1.5, as locked in requirements/run.txt.)
        """

        async def _return_kaleido_tab(self, tab) -> None:
            await self.tabs_ready.put(tab)

    return Kaleido


def _run_apart(coroutine_function, *args) -> None:
    """Run a coroutine to the end from synchronous code. Where this thread already runs an
    event loop (a worker or test harness built on asyncio), it runs on a thread of its own,
    as asyncio.run cannot nest."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(coroutine_function(*args))
        return
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(lambda: asyncio.run(coroutine_function(*args))).result()


async def _draw_all(charts, formats, drawn) -> None:
    _Kaleido = _kaleido_class()  # noqa: N806 - a class

    async def one(browser, chart, figure, fmt) -> None:
        try:
            image = await asyncio.wait_for(
                browser.calc_fig(figure, opts={"format": fmt, "width": 800, "height": 420}),
                CHART_SECONDS,
            )
        except Exception as exc:  # noqa: BLE001
            raise BuildError(f"The chart '{chart['title']}' could not be drawn.") from exc
        drawn[fmt][chart["id"]] = _slim_svg(image) if fmt == "svg" else image

    async with _Kaleido(n=CHART_TABS, mathjax=False, timeout=CHART_SECONDS) as browser:
        jobs = []
        for chart in charts:
            figure = _figure(chart)
            jobs.extend(one(browser, chart, figure, fmt) for fmt in formats)
        await asyncio.gather(*jobs)


def _data_uris(svgs: Mapping[str, bytes], images: Mapping[str, tuple[str, bytes]] = {}) -> dict:  # noqa: B006 - read only
    """Charts and case study images as data addresses, so the HTML holds them itself."""
    uris = {
        key: "data:image/svg+xml;base64," + base64.b64encode(svg).decode()
        for key, svg in svgs.items()
    }
    for key, (media_type, data) in images.items():
        uris[key] = f"data:{media_type};base64," + base64.b64encode(data).decode()
    return uris


def image_uris(images: Mapping[str, tuple[str, bytes]]) -> dict[str, str]:
    """Case study images as data addresses, for a page that shows the content."""
    return _data_uris({}, images)


# --- HTML and PDF -------------------------------------------------------------------------


def html(
    content: Mapping,
    svgs: Mapping[str, bytes],
    *,
    images: Mapping[str, tuple[str, bytes]] | None = None,
    version: Mapping | None = None,
    large: bool = False,
    annex_links=(),
) -> str:
    """The report as one self-contained HTML document (charts and case study images
    inside it)."""
    # Straight from the environment: a build runs as a job, outside any request, and the
    # file holds nothing of the portal's pages (navigation, signed-in person).
    return current_app.jinja_env.get_template("reports/document.html").render(
        content=content,
        charts=_data_uris(svgs, images or {}),
        css=(TEMPLATES / "document.css").read_text(),
        version=version,
        large=large,
        annex_links=annex_links,
    )


def pdf(document_html: str) -> bytes:
    """Tagged PDF (PDF/UA-1) of an HTML document: title, language, bookmarks from the
    headings, a structure tree with table headers and figure alt text."""
    from weasyprint import HTML

    try:
        return HTML(string=document_html, base_url=str(TEMPLATES)).write_pdf(
            pdf_variant="pdf/ua-1", pdf_tags=True, custom_metadata=True
        )
    except Exception as exc:  # noqa: BLE001
        raise BuildError("The PDF could not be laid out.") from exc


# --- DOCX ---------------------------------------------------------------------------------


def _docx_repeat_header(row) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    properties = row._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    properties.append(header)


def _docx_picture(document, data: bytes, alt: str, title: str) -> None:
    from docx.shared import Cm

    document.add_picture(io.BytesIO(data), width=Cm(16))
    drawing = document.paragraphs[-1]._p.xpath(".//wp:docPr")[0]
    drawing.set("descr", alt)
    drawing.set("title", title)


def docx(
    content: Mapping,
    pngs: Mapping[str, bytes],
    *,
    images: Mapping[str, tuple[str, bytes]] | None = None,
    version: Mapping | None = None,
) -> bytes:
    """A Word document with real heading styles, header rows repeated on every page, and
    alt text on every chart and case study image."""
    from docx import Document

    document = Document()
    document.core_properties.title = content["title"]
    document.core_properties.language = "en-GB"
    document.core_properties.author = content["partnership"]["name"]
    document.add_heading(content["title"], level=0)
    _intro_lines(content, version, document.add_paragraph)
    tables = tables_of(content)
    for section in content["sections"]:
        document.add_heading(section["heading"], level=section["level"] - 1)
        for block in section["blocks"]:
            kind = block["type"]
            if kind == "p":
                document.add_paragraph(block["text"])
            elif kind == "h":
                document.add_heading(block["text"], level=block["level"] - 1)
            elif kind == "ul":
                for item in block["items"]:
                    document.add_paragraph(item, style="List Bullet")
            elif kind == "table":
                document.add_paragraph(block["caption"], style="Caption")
                table = document.add_table(rows=1, cols=len(block["head"]))
                table.style = "Table Grid"
                header = table.rows[0]
                _docx_repeat_header(header)
                for cell, text in zip(header.cells, block["head"], strict=True):
                    cell.text = text
                    for run in cell.paragraphs[0].runs:
                        run.bold = True
                for row in block["rows"]:
                    cells = table.add_row().cells
                    for cell, value in zip(cells, row, strict=True):
                        cell.text = value["text"]
            elif kind == "chart":
                png = pngs.get(block["id"])
                if png:
                    _docx_picture(document, png, block["alt"], block["title"])
                document.add_paragraph(
                    f"{block['title']}. {block['summary']} "
                    f"The figures are in the table '{tables[block['table']]['caption']}'."
                )
            elif kind == "image":
                image = (images or {}).get(block["id"])
                if image:
                    _docx_picture(document, image[1], block["alt"], block["caption"])
    document.add_heading("Data annex", level=1)
    document.add_paragraph(
        "Every figure in this report is in the data annex, published beside it as CSV and XLSX."
    )
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _intro_lines(content: Mapping, version: Mapping | None, add) -> None:
    if version:
        add(f"Version {version['number']}, published {version['published']}.")
        add(f"SHA-256 of the content: {version['sha256']}")
        if version.get("correction_note"):
            add(f"Correction: {version['correction_note']}")
    if content.get("is_demo"):
        add("Demonstration data: this report is made from demonstration returns.")


# --- ODT ----------------------------------------------------------------------------------


def odt(
    content: Mapping,
    svgs: Mapping[str, bytes],
    *,
    images: Mapping[str, tuple[str, bytes]] | None = None,
    version: Mapping | None = None,
) -> bytes:
    """An OpenDocument text: outline headings, tables with a repeated header row, and
    charts (as SVG) and case study images with a title and description."""
    from odf import draw, text
    from odf import table as odf_table
    from odf.opendocument import OpenDocumentText
    from odf.style import ParagraphProperties, Style, TextProperties

    document = OpenDocumentText()
    document.meta.addElement(_odf_meta_title(content["title"]))
    bold = Style(name="Table heading", family="paragraph")
    bold.addElement(TextProperties(fontweight="bold"))
    caption = Style(name="Caption", family="paragraph")
    caption.addElement(TextProperties(fontweight="bold"))
    caption.addElement(ParagraphProperties(margintop="0.3cm"))
    document.styles.addElement(bold)
    document.styles.addElement(caption)
    for level in (1, 2, 3, 4):
        style = Style(name=f"Heading {level}", family="paragraph", defaultoutlinelevel=level)
        style.addElement(TextProperties(fontweight="bold", fontsize=f"{20 - 2 * level}pt"))
        document.styles.addElement(style)
    body = document.text
    body.addElement(text.H(outlinelevel=1, stylename="Heading 1", text=content["title"]))
    _intro_lines(content, version, lambda line: body.addElement(text.P(text=line)))
    for section in content["sections"]:
        level = section["level"]
        body.addElement(
            text.H(outlinelevel=level, stylename=f"Heading {level}", text=section["heading"])
        )
        for block in section["blocks"]:
            kind = block["type"]
            if kind == "p":
                body.addElement(text.P(text=block["text"]))
            elif kind == "h":
                body.addElement(
                    text.H(
                        outlinelevel=block["level"],
                        stylename=f"Heading {block['level']}",
                        text=block["text"],
                    )
                )
            elif kind == "ul":
                items = text.List()
                for item in block["items"]:
                    entry = text.ListItem()
                    entry.addElement(text.P(text=item))
                    items.addElement(entry)
                body.addElement(items)
            elif kind == "table":
                body.addElement(text.P(stylename=caption, text=block["caption"]))
                grid = odf_table.Table(name=block["id"])
                grid.addElement(odf_table.TableColumn(numbercolumnsrepeated=len(block["head"])))
                head = odf_table.TableHeaderRows()
                row = odf_table.TableRow()
                for heading in block["head"]:
                    cell = odf_table.TableCell(valuetype="string")
                    cell.addElement(text.P(stylename=bold, text=heading))
                    row.addElement(cell)
                head.addElement(row)
                grid.addElement(head)
                for values in block["rows"]:
                    row = odf_table.TableRow()
                    for value in values:
                        cell = odf_table.TableCell(valuetype="string")
                        cell.addElement(text.P(text=value["text"]))
                        row.addElement(cell)
                    grid.addElement(row)
                body.addElement(grid)
            elif kind == "chart":
                svg = svgs.get(block["id"])
                paragraph = text.P()
                if svg:
                    href = document.addPicture(f"Pictures/{block['id']}.svg", "image/svg+xml", svg)
                    frame = draw.Frame(
                        name=block["id"], anchortype="as-char", width="16cm", height="8.4cm"
                    )
                    frame.addElement(draw.Image(href=href))
                    frame.addElement(_odf_svg("title", block["title"]))
                    frame.addElement(_odf_svg("desc", block["alt"]))
                    paragraph.addElement(frame)
                body.addElement(paragraph)
                body.addElement(text.P(text=f"{block['title']}. {block['summary']}"))
            elif kind == "image":
                image = (images or {}).get(block["id"])
                if image:
                    media_type, data = image
                    width, height = _odf_size(data)
                    extension = "png" if media_type == "image/png" else "jpg"
                    href = document.addPicture(
                        f"Pictures/{block['id']}.{extension}", media_type, data
                    )
                    frame = draw.Frame(
                        name=block["id"], anchortype="as-char", width=width, height=height
                    )
                    frame.addElement(draw.Image(href=href))
                    frame.addElement(_odf_svg("title", block["caption"]))
                    frame.addElement(_odf_svg("desc", block["alt"]))
                    paragraph = text.P()
                    paragraph.addElement(frame)
                    body.addElement(paragraph)
    body.addElement(text.H(outlinelevel=2, stylename="Heading 2", text="Data annex"))
    body.addElement(
        text.P(text="Every figure in this report is in the data annex, as CSV and XLSX.")
    )
    out = io.BytesIO()
    document.write(out)
    return out.getvalue()


def _odf_size(data: bytes, widest_cm: float = 16.0) -> tuple[str, str]:
    """A picture's frame: its own proportions, at most ``widest_cm`` wide."""
    from docx.image.image import Image

    picture = Image.from_blob(data)
    width_cm = min(widest_cm, picture.px_width / 96 * 2.54)
    height_cm = width_cm * picture.px_height / max(picture.px_width, 1)
    return f"{width_cm:.2f}cm", f"{height_cm:.2f}cm"


def _odf_meta_title(title: str):
    from odf import dc

    return dc.Title(text=title)


def _odf_svg(kind: str, value: str):
    from odf import svg

    element = svg.Title() if kind == "title" else svg.Desc()
    element.addText(value)
    return element


# --- the data annex -----------------------------------------------------------------------


def annex_rows(content: Mapping) -> list[list]:
    return [
        [row[key] if row[key] is not None else "" for key in ANNEX_COLUMNS]
        for row in content["annex"]
    ]


def annex_csv(content: Mapping) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(ANNEX_HEADINGS)
    for row in annex_rows(content):
        # A cell a spreadsheet would run as a formula is written as text.
        writer.writerow([neutralise(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode()


def annex_xlsx(content: Mapping) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.worksheet.table import Table, TableStyleInfo

    book = Workbook()
    sheet = book.active
    sheet.title = "Data annex"
    sheet.append(list(ANNEX_HEADINGS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in annex_rows(content):
        sheet.append([neutralise(v) for v in row])
    if sheet.max_row > 1:
        table = Table(displayName="DataAnnex", ref=f"A1:G{sheet.max_row}")
        table.tableStyleInfo = TableStyleInfo(name="TableStyleLight9", showRowStripes=True)
        sheet.add_table(table)
    sheet.freeze_panes = "A2"
    book.properties.title = content["title"]
    book.properties.language = "en-GB"
    for column, width in zip("ABCDEFG", (28, 40, 14, 30, 12, 14, 34), strict=True):
        sheet.column_dimensions[column].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- everything at once -------------------------------------------------------------------


def build_all(
    content: Mapping,
    *,
    images: Mapping[str, tuple[str, bytes]] | None = None,
    version: Mapping | None = None,
    annex_links=(),
    progress: Callable[[int, str], None] = lambda step, sentence: None,
) -> dict[str, bytes]:
    """Every format of the report, by format key (portal.reports.models.FORMATS)."""
    progress(1, "Drawing the charts")
    drawn = draw_charts(content, ("svg", "png"))
    svgs, pngs = drawn["svg"], drawn["png"]
    progress(2, "Writing the web page")
    page = html(content, svgs, images=images, version=version, annex_links=annex_links)
    built = {"html": page.encode()}
    progress(3, "Laying out the PDF")
    built["pdf"] = pdf(page)
    progress(4, "Laying out the large print PDF")
    built["large-print"] = pdf(
        html(content, svgs, images=images, version=version, large=True, annex_links=annex_links)
    )
    progress(5, "Writing the Word and OpenDocument files")
    built["docx"] = docx(content, pngs, images=images, version=version)
    built["odt"] = odt(content, svgs, images=images, version=version)
    progress(6, "Writing the data annex")
    built["csv"] = annex_csv(content)
    built["xlsx"] = annex_xlsx(content)
    return built


BUILD_STEPS = 7


SVG_NS = "http://www.w3.org/2000/svg"
# What plotly's SVG holds for the browser only: the layers that catch the mouse and show
# hover labels, and the many groups it leaves empty. WeasyPrint would walk them all.
_BROWSER_ONLY = {"draglayer", "hoverlayer", "menulayer", "selectionlayer", "zoomlayer"}


def _slim_svg(svg: bytes) -> bytes:
    """The chart's SVG with nothing drawn taken out: what a printed page shows is
    unchanged, and the PDF lays out faster."""
    from xml.etree import ElementTree as ET

    ET.register_namespace("", SVG_NS)
    ET.register_namespace("xlink", "http://www.w3.org/1999/xlink")
    root = ET.fromstring(svg)  # noqa: S314 - drawn here by kaleido, never uploaded

    def prune(parent) -> None:
        for child in list(parent):
            classes = set((child.get("class") or "").split())
            if classes & _BROWSER_ONLY:
                parent.remove(child)
                continue
            prune(child)
            tag = child.tag.rsplit("}", 1)[-1]
            if tag == "g" and len(child) == 0 and not (child.text or "").strip():
                parent.remove(child)
            elif tag == "path" and not child.get("d"):
                parent.remove(child)

    prune(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=False)
