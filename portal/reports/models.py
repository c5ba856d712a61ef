"""The joint annual report: the lead's draft, its published versions and their built files.

All three belong to a partnership, not to any one tenant: they are
:class:`portal.tenancy.PartnershipOwned`, read and written only inside their partnership's
scope, and hold only what has already crossed the tenant walls (signed-off returns and stored
releases). A :class:`JointReportVersion` is immutable once written: a correction is the
next version, and the earlier one is only marked superseded. Built files live in the
database (:class:`JointReportFile`), never on an app server's disk.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, LargeBinary, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models import VersionedMixin
from portal.tenancy import PartnershipOwned

# Each format the report is built in: (key, file extension, media type, what people call it).
FORMATS: tuple[tuple[str, str, str, str], ...] = (
    ("html", "html", "text/html; charset=utf-8", "Web page (HTML)"),
    ("pdf", "pdf", "application/pdf", "Accessible PDF (tagged, PDF/UA-1)"),
    ("large-print", "pdf", "application/pdf", "Large print PDF (16 point, Clear Print)"),
    (
        "docx",
        "docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "Word document (DOCX)",
    ),
    ("odt", "odt", "application/vnd.oasis.opendocument.text", "OpenDocument text (ODT)"),
    ("csv", "csv", "text/csv; charset=utf-8", "Data annex (CSV)"),
    (
        "xlsx",
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "Data annex (Excel, XLSX)",
    ),
)
FORMAT_KEYS = tuple(key for key, *_ in FORMATS)


class JointReport(VersionedMixin, PartnershipOwned, db.Model):
    """A partnership's joint annual report for one reporting year, as the lead drafts it."""

    __table_args__ = (UniqueConstraint("partnership_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The reporting year as written in addresses: "2024-25".
    year: Mapped[str] = mapped_column(String(7))
    foreword: Mapped[str] = mapped_column(Text, default="", info={"limit": 20000})
    summary: Mapped[str] = mapped_column(Text, default="", info={"limit": 20000})
    is_demo: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime]
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    versions: Mapped[list[JointReportVersion]] = relationship(
        back_populates="report", order_by="JointReportVersion.number"
    )

    @property
    def latest(self) -> JointReportVersion | None:
        return self.versions[-1] if self.versions else None

    def __repr__(self) -> str:
        return f"<JointReport {self.partnership_id}/{self.year}>"


class JointReportVersion(PartnershipOwned, db.Model):
    """Version N of a published report: its content as published and the SHA-256 of that
    content. Never changed, except that a later version marks it superseded."""

    __table_args__ = (UniqueConstraint("report_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("joint_report.id", ondelete="CASCADE"))
    number: Mapped[int]
    published_at: Mapped[datetime]
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    # The report's content as built (portal.reports.content), and its SHA-256.
    content: Mapped[dict] = mapped_column(JSON)
    sha256: Mapped[str] = mapped_column(String(64))
    # Each return included: [{"tenant": slug, "name": ..., "sha256": ..., "signed_off": ...}].
    returns: Mapped[list] = mapped_column(JSON)
    correction_note: Mapped[str] = mapped_column(Text, default="", info={"limit": 2000})
    superseded: Mapped[bool] = mapped_column(default=False)

    report: Mapped[JointReport] = relationship(back_populates="versions")
    files: Mapped[list[JointReportFile]] = relationship(
        back_populates="report_version", order_by="JointReportFile.id"
    )

    def file(self, key: str) -> JointReportFile | None:
        return next((f for f in self.files if f.format == key), None)

    def __repr__(self) -> str:
        return f"<JointReportVersion {self.report_id} v{self.number}>"


class JointReportFile(PartnershipOwned, db.Model):
    """One built format of one published version, kept in the database."""

    __table_args__ = (UniqueConstraint("version_id", "format"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("joint_report_version.id", ondelete="CASCADE")
    )
    format: Mapped[str] = mapped_column(String(20))
    filename: Mapped[str] = mapped_column(String(200))
    media_type: Mapped[str] = mapped_column(String(120))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))

    report_version: Mapped[JointReportVersion] = relationship(back_populates="files")


@event.listens_for(JointReportVersion, "before_update")
def _version_is_immutable(mapper, connection, target) -> None:
    """Only the superseded flag may change once a version is published."""
    state = db.inspect(target)
    changed = {
        attr.key for attr in state.attrs if attr.key != "superseded" and attr.history.has_changes()
    }
    changed -= {"report", "files"}
    if changed:
        raise PermissionError("a published version is never changed: publish a correction")


@event.listens_for(JointReportFile, "before_update")
@event.listens_for(JointReportFile, "before_delete")
@event.listens_for(JointReportVersion, "before_delete")
def _published_is_kept(mapper, connection, target) -> None:
    raise PermissionError("a published version and its files are kept as published")
