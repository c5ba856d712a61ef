"""The joint report's pages: the lead's draft, preview and publishing under
``/p/<partnership>/reports/<year>/report/``, and the public report under
``/public/p/<partnership>/reports/<year>/``."""

from __future__ import annotations

import re

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from portal import tenancy
from portal.access import partnership_blueprint
from portal.editing import Invalid, submit_edit
from portal.extensions import db
from portal.partners.models import Partnership
from portal.reports import formats, services, sources
from portal.reports.content import images_of
from portal.reports.forms import PublishForm, ReportTextForm
from portal.reports.models import FORMAT_KEYS, FORMATS

partnership_bp = partnership_blueprint("joint_report", __name__, "/reports/<year>/report")
bp = Blueprint("public_reports", __name__, url_prefix="/public/p/<partnership_slug>/reports")

YEAR = re.compile(r"^(\d{4})-(\d{2})$")


def valid_year(year: str) -> bool:
    """A reporting year as written in addresses: "2024-25" (the second year follows)."""
    match = YEAR.match(year or "")
    return bool(match) and (int(match.group(1)) + 1) % 100 == int(match.group(2))


@partnership_bp.url_value_preprocessor
def _check_year(endpoint, values) -> None:
    """A report belongs to one of the partnership's reporting years; any other is not found."""
    if values is None:
        return
    if not valid_year(values.get("year", "")):
        abort(404)
    if "partnership" in g:
        from portal.returns import services as returns

        if returns.find_year(g.partnership, values["year"]) is None:
            abort(404)


@partnership_bp.url_defaults
def _add_year(endpoint, values) -> None:
    if "report_year" in g and "year" not in values:
        values["year"] = g.report_year


@partnership_bp.before_request
def _remember_year() -> None:
    g.report_year = request.view_args.get("year") if request.view_args else None


def _formats(version) -> list[dict]:
    return [
        {
            "key": key,
            "label": label,
            "filename": version.file(key).filename if version.file(key) else "",
            "size": len(version.file(key).data) if version.file(key) else 0,
        }
        for key, _ext, _media, label in FORMATS
    ]


@partnership_bp.route("/", methods=["GET", "POST"])
def draft(year: str):
    """The lead's page for the report: foreword, summary, versions, publish."""
    report = services.report_for(g.partnership, year, current_user.record)
    form = ReportTextForm(obj=report if request.method == "GET" else None)
    if request.method == "GET":
        form.version.data = report.version
    edit = submit_edit(
        form,
        report,
        lambda version: services.save_text(report, form.data, current_user.record, version=version),
        message="The foreword and partnership summary are saved.",
        then=lambda: url_for("joint_report.draft"),
        category="message",
    )
    if edit.saved:
        return edit.done
    publish_form = PublishForm()
    return render_template(
        "reports/draft.html",
        report=report,
        # Newest first, read here: the template reads nothing.
        versions=list(reversed(report.versions)),
        form=form,
        conflict=edit.conflict,
        publish_form=publish_form,
        year=year,
    )


@partnership_bp.route("/preview")
def preview(year: str):
    """The whole report as it would be published now."""
    report = services.report_for(g.partnership, year, current_user.record)
    submissions = sources.submissions(g.partnership, year)
    try:
        content = services.compile_content(g.partnership, report, submissions)
    except Invalid as exc:
        return render_template("reports/cannot_compile.html", reason=str(exc), year=year)
    return render_template(
        "reports/preview.html",
        content=content,
        report=report,
        year=year,
        charts=formats.image_uris(images_of(submissions)),
    )


@partnership_bp.route("/publish", methods=["POST"])
def publish(year: str):
    report = services.report_for(g.partnership, year, current_user.record)
    form = PublishForm()
    if not form.validate_on_submit():
        abort(400)
    problem = services.publish_problem(report, form.note.data or "")
    if problem:
        flash(problem, "error")
        return redirect(url_for("joint_report.draft"))
    job_id = services.start_publication(
        g.partnership, report, current_user.record, form.note.data or ""
    )
    return redirect(url_for("jobs.show", job_id=job_id))


# --- public ------------------------------------------------------------------------------


@bp.url_value_preprocessor
def _pull_partnership(endpoint, values) -> None:
    slug = (values or {}).pop("partnership_slug", None)
    if slug is None:
        return
    partnership = db.session.scalar(select(Partnership).where(Partnership.slug == slug))
    if partnership is None:
        abort(404)
    g.public_partnership = partnership
    # The published versions are the partnership's rows: visible here, never written.
    tenancy.show_partnership(partnership)


@bp.url_defaults
def _add_slug(endpoint, values) -> None:
    if "public_partnership" in g and "partnership_slug" not in values:
        values["partnership_slug"] = g.public_partnership.slug


def _version_or_404(year: str, number: int | None):
    if not valid_year(year):
        abort(404)
    version = services.published_version(g.public_partnership, year, number)
    if version is None:
        abort(404)
    return version


def _show(version):
    partnership = g.public_partnership
    return render_template(
        "reports/public.html",
        partnership=partnership,
        version=version,
        report=version.report,
        content=version.content,
        formats=_formats(version),
        charts=_chart_uris(version),
        annex_links=[
            (
                label,
                url_for(
                    "public_reports.download",
                    year=version.report.year,
                    number=version.number,
                    fmt=key,
                ),
            )
            for key, _ext, _media, label in FORMATS
            if key in ("csv", "xlsx")
        ],
    )


def _chart_uris(version) -> dict[str, str]:
    """The charts and case study images as built for this version, read back from its
    HTML file's images."""
    page = version.file("html")
    if page is None:
        return {}
    found = re.findall(
        r'<figure class="report-figure" id="([^"]+)">\s*'
        r'<img class="report-(?:chart|image)" src="([^"]+)"',
        page.data.decode(),
    )
    return dict(found)


@bp.route("/<year>/")
def latest(year: str):
    """The latest version of the report, with every format and the earlier versions."""
    return _show(_version_or_404(year, None))


@bp.route("/<year>/v<int:number>/")
def version(year: str, number: int):
    return _show(_version_or_404(year, number))


@bp.route("/<year>/v<int:number>/<fmt>")
def download(year: str, number: int, fmt: str):
    if fmt not in FORMAT_KEYS:
        abort(404)
    version = _version_or_404(year, number)
    built = version.file(fmt)
    if built is None:
        abort(404)
    # Every format is a download: the built HTML carries its own styles, which this
    # site's content security policy would not run as a page.
    disposition = "attachment"
    return (
        built.data,
        200,
        {
            "Content-Type": built.media_type,
            "Content-Disposition": f'{disposition}; filename="{built.filename}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "public, max-age=3600",
        },
    )
