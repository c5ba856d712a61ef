"""The rules of the joint report: the lead's draft, compiling, publishing and delivery.

Publishing runs as a job (:data:`BUILD`): it compiles the content from the signed-off
returns, builds every format and only then writes version N with its files, in one
transaction. A build that fails leaves nothing behind and says why on its progress page.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from portal import audit, clock, mail, tenancy
from portal.editing import check_version, commit_edit
from portal.extensions import db
from portal.jobs import services as jobs
from portal.jobs.services import JobFailed, job_task
from portal.models import limit
from portal.partners.models import Partnership, Tenant
from portal.reports import content as report_content
from portal.reports import formats, sources
from portal.reports.models import FORMATS, JointReport, JointReportFile, JointReportVersion

BUILD = "portal.reports.build"
DELIVERY = "portal.reports.delivery"


def _in_scope(partnership: Partnership) -> None:
    """Refuse to work for a partnership that is not the one in scope: reports are
    partnership-owned, and the scope (its lead's page, its public pages, or
    ``partnership_scope`` in jobs and commands) keeps each partnership's to itself."""
    if tenancy.visible_partnership_ids() != frozenset({partnership.id}):
        raise tenancy.PartnershipNotSet(
            f"the joint report of {partnership.slug} was used outside its scope"
        )


def find_report(partnership: Partnership, year: str) -> JointReport | None:
    """The partnership's report for ``year`` (inside its scope), or None."""
    _in_scope(partnership)
    return db.session.scalar(select(JointReport).where(JointReport.year == year))


def report_for(partnership: Partnership, year: str, user=None) -> JointReport:
    """The partnership's report for ``year``, made (empty) the first time it is asked for."""
    report = find_report(partnership, year)
    if report is None:
        report = JointReport(
            year=year,
            updated_at=clock.utcnow(),
            updated_by_id=getattr(user, "id", None),
        )
        db.session.add(report)
        db.session.commit()
    return report


def save_text(report: JointReport, data: dict, user, *, version: int | None) -> JointReport:
    """Save the foreword and partnership summary; a second editor's save is refused, and
    so is one without the version it was opened at (the page shows both texts)."""
    submitted = {"foreword": data["foreword"].strip(), "summary": data["summary"].strip()}
    check_version(report, version, submitted)
    report.foreword = submitted["foreword"]
    report.summary = submitted["summary"]
    report.updated_at = clock.utcnow()
    report.updated_by_id = user.id
    return commit_edit(report, submitted)


def compile_content(partnership: Partnership, report: JointReport, submissions=None) -> dict:
    """The report's content now, from the signed-off returns and the lead's text."""
    if submissions is None:
        submissions = sources.submissions(partnership, report.year)
    return report_content.build(
        partnership_name=partnership.name,
        partnership_slug=partnership.slug,
        year=report.year,
        foreword=report.foreword,
        summary=report.summary,
        members=[(m.slug, m.name) for m in partnership.members],
        submissions=submissions,
        rule=partnership.disclosure_rule,
        is_demo=report.is_demo,
    )


def publish_problem(report: JointReport, correction_note: str) -> str | None:
    """Why the report cannot be published as asked, in the lead's words; None if it can."""
    if not report.foreword.strip():
        return "Write a foreword before you publish the report."
    if not report.summary.strip():
        return "Write a partnership summary before you publish the report."
    if report.versions and not correction_note.strip():
        return "Say what this correction changes: the note is shown with the new version."
    most = limit(JointReportVersion.correction_note)
    if len(correction_note) > most:
        return f"The note of what changed must be {most} characters or fewer."
    return None


def start_publication(partnership: Partnership, report: JointReport, user, note: str = "") -> int:
    """Queue the build of the next version; returns the job's id."""
    number = len(report.versions) + 1
    return jobs.enqueue(
        BUILD,
        title=f"Publish the {report.year} joint report, version {number}",
        requested_by=user,
        steps_total=formats.BUILD_STEPS,
        result_path=f"/p/{partnership.slug}/reports/{report.year}/report/",
        partnership_id=partnership.id,
        year=report.year,
        note=note.strip(),
        user_id=user.id,
    )


def _version_facts(number: int, published_at, sha256: str, note: str) -> dict:
    return {
        "number": number,
        "published": published_at.strftime("%-d %B %Y"),
        "sha256": sha256,
        "correction_note": note,
    }


def filename(partnership: Partnership, year: str, number: int, key: str) -> str:
    extension = next(ext for k, ext, *_ in FORMATS if k == key)
    suffix = "-large-print" if key == "large-print" else ""
    annex = "-data-annex" if key in ("csv", "xlsx") else ""
    return f"{partnership.slug}-joint-report-{year}-v{number}{suffix}{annex}.{extension}"


def publish(
    partnership: Partnership, year: str, user, note: str = "", progress=None
) -> JointReportVersion:
    """Compile, build every format and write the next version, all or nothing."""
    progress = progress or (lambda step, sentence: None)
    report = find_report(partnership, year)
    if report is None:
        raise JobFailed("There is no draft of this report to publish.")
    problem = publish_problem(report, note)
    if problem:
        raise JobFailed(problem)
    # Read once: reading the returns records the read in the trail and commits, so it
    # comes before anything of the new version is written.
    included = sources.submissions(partnership, year)
    try:
        content = compile_content(partnership, report, included)
    except report_content.ContentError as exc:
        raise JobFailed(str(exc)) from exc
    number = len(report.versions) + 1
    published_at = clock.utcnow()
    sha256 = report_content.content_hash(content)
    latest = report.versions[-1] if report.versions else None
    if latest is not None and latest.sha256 == sha256 and latest.correction_note == note:
        # The same correction sent twice (a double click queues two builds).
        raise JobFailed(
            f"Version {latest.number} already publishes this report with this note, so "
            "no new version was made."
        )
    facts = _version_facts(number, published_at, sha256, note)
    from portal.auth.services import external_url

    links = [
        (
            label,
            external_url(
                "public_reports.download",
                partnership_slug=partnership.slug,
                year=year,
                number=number,
                fmt=key,
            ),
        )
        for key, _, _, label in FORMATS
        if key in ("csv", "xlsx")
    ]
    try:
        built = formats.build_all(
            content,
            images=report_content.images_of(included),
            version=facts,
            annex_links=links,
            progress=progress,
        )
    except formats.BuildError as exc:
        raise JobFailed(str(exc)) from exc
    for earlier in report.versions:
        earlier.superseded = True
    version = JointReportVersion(
        report=report,
        number=number,
        published_at=published_at,
        published_by_id=getattr(user, "id", None),
        content=content,
        sha256=sha256,
        returns=[{"member": s.name, "slug": s.slug, "sha256": s.sha256} for s in included],
        correction_note=note,
    )
    db.session.add(version)
    for key, _ext, media_type, _label in FORMATS:
        data = built[key]
        db.session.add(
            JointReportFile(
                report_version=version,
                format=key,
                filename=filename(partnership, year, number, key),
                media_type=media_type,
                data=data,
                sha256=hashlib.sha256(data).hexdigest(),
            )
        )
    db.session.flush()
    audit.record(
        "report.published" if number == 1 else "report.corrected",
        version,
        user=user,
        detail={"partnership": partnership.slug, "year": year, "version": number, "sha256": sha256},
    )
    return version


@job_task(BUILD)
def build_job(job, *, partnership_id: int, year: str, note: str, user_id: int) -> str:
    """Publish the next version; on success, queue its delivery."""
    from portal.auth.models import User

    partnership = db.session.get(Partnership, partnership_id)
    user = db.session.get(User, user_id)
    if partnership is None:
        raise JobFailed("The partnership no longer exists.")
    with tenancy.partnership_scope(partnership):
        version = publish(
            partnership,
            year,
            user,
            note,
            progress=lambda step, sentence: jobs.progress(job, step, sentence),
        )
        number = version.number
        db.session.commit()
        deliver(partnership, version, user)
    return f"Version {number} is published."


def deliver(partnership: Partnership, version: JointReportVersion, user=None) -> int:
    """Queue the email of the published report to chief executives and leads."""
    return jobs.enqueue(
        DELIVERY,
        title=f"Email the {version.report.year} joint report, version {version.number}",
        requested_by=user,
        partnership_id=partnership.id,
        version_id=version.id,
    )


def recipients(partnership: Partnership) -> list[tuple[str, str]]:
    """(email, why) of each member's chief executive and of the partnership's leads."""
    from portal.auth.models import PartnershipGrant, TenantGrant, User

    found: dict[str, str] = {}
    member_ids = {m.id: m.name for m in partnership.members}
    rows = db.session.execute(
        select(User.email, TenantGrant.tenant_id)
        .join(TenantGrant, TenantGrant.user_id == User.id)
        .where(TenantGrant.tenant_id.in_(member_ids), TenantGrant.role == "ceo")
    ).all()
    for email, tenant_id in rows:
        found.setdefault(email, f"chief executive of {member_ids[tenant_id]}")
    leads = db.session.scalars(
        select(User.email)
        .join(PartnershipGrant, PartnershipGrant.user_id == User.id)
        .where(PartnershipGrant.partnership_id == partnership.id)
    ).all()
    for email in leads:
        found.setdefault(email, f"lead of {partnership.name}")
    return sorted(found.items())


@job_task(DELIVERY)
def delivery_job(job, *, partnership_id: int, version_id: int) -> str:
    partnership = db.session.get(Partnership, partnership_id)
    if partnership is None:
        raise JobFailed("The published report no longer exists.")
    with tenancy.partnership_scope(partnership):
        return _deliver(partnership, version_id)


def _deliver(partnership: Partnership, version_id: int) -> str:
    """Email the published version (inside its partnership's scope)."""
    from portal.auth.services import external_url

    version = db.session.get(JointReportVersion, version_id)
    if version is None:
        raise JobFailed("The published report no longer exists.")
    year = version.report.year
    link = external_url(
        "public_reports.version",
        partnership_slug=partnership.slug,
        year=year,
        number=version.number,
    )
    people = recipients(partnership)
    what = "A correction to" if version.number > 1 else "The"
    for email, why in people:
        mail.send(
            email,
            f"{partnership.name}: joint annual report {year} published",
            f"{what} joint annual report {year} of {partnership.name} is published "
            f"(version {version.number}).\n\nRead it, and download it in every format, at:\n"
            f"{link}\n\nYou are sent this as the {why}.\n",
        )
    audit.record(
        "report.delivered",
        version,
        detail={"version": version.number, "year": year, "to": [e for e, _ in people]},
    )
    db.session.commit()
    return f"Emailed to {len(people)} {'person' if len(people) == 1 else 'people'}."


# --- what the public pages read ------------------------------------------------------------


@dataclass(frozen=True)
class PublishedReport:
    """A published report as a listing shows it: the latest version and its address."""

    partnership: Partnership
    year: str
    title: str
    number: int
    published_at: object
    path: str


def _published(partnership_ids: Sequence[int]) -> list[PublishedReport]:
    partnerships = {
        p.id: p
        for p in db.session.scalars(select(Partnership).where(Partnership.id.in_(partnership_ids)))
    }
    rows = db.session.scalars(
        select(JointReportVersion)
        .where(
            JointReportVersion.partnership_id.in_(partnership_ids),
            JointReportVersion.superseded.is_(False),
        )
        .order_by(JointReportVersion.published_at.desc())
    ).all()
    out = []
    for version in rows:
        partnership = partnerships[version.partnership_id]
        year = version.report.year
        out.append(
            PublishedReport(
                partnership,
                year,
                version.content.get("title", f"Joint annual report {year}"),
                version.number,
                version.published_at,
                f"/public/p/{partnership.slug}/reports/{year}/",
            )
        )
    return out


def published_reports_for_partnership(partnership: Partnership) -> list[PublishedReport]:
    """The partnership's published reports (latest version of each), newest first."""
    return _published([partnership.id])


def published_reports_for_tenant(tenant: Tenant) -> list[PublishedReport]:
    """The published reports of every partnership ``tenant`` is a member of."""
    return _published([p.id for p in tenant.partnerships])


def published_version(partnership: Partnership, year: str, number: int | None = None):
    """Version ``number`` (the latest when None) of the partnership's report, or None."""
    report = find_report(partnership, year)
    if report is None or not report.versions:
        return None
    if number is None:
        return report.versions[-1]
    return next((v for v in report.versions if v.number == number), None)
