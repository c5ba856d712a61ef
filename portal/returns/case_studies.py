"""Case studies in a return: a title, the text and an optional image, kept in the
database and checked by its first bytes."""

from __future__ import annotations

from portal import audit, clock
from portal.editing import check_version, commit_edit
from portal.extensions import db
from portal.returns import sections, services
from portal.returns.models import IMAGE_MAX_BYTES, IMAGE_TYPES, AnnualReturn, CaseStudy

# --- case studies -------------------------------------------------------------------------

IMAGE_SIGNATURES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}


def image_type(data: bytes) -> str | None:
    """The image's type from its first bytes (PNG or JPEG), whatever its name says."""
    return next((t for sig, t in IMAGE_SIGNATURES.items() if data.startswith(sig)), None)


def save_case_study(
    ret: AnnualReturn,
    row: CaseStudy | None,
    *,
    title: str,
    text: str,
    image: bytes | None,
    image_alt: str,
    remove_image: bool = False,
    version: int | None = None,
    user=None,
) -> CaseStudy:
    """Add or change a case study. An image must be PNG or JPEG, at most 2 MB, with alt
    text that says what it shows."""
    if not ret.is_editable:
        raise services.ReturnsError.of(
            {"title": "This return has been sent for sign-off and cannot be changed"}
        )
    title, text, image_alt = (title or "").strip(), (text or "").strip(), (image_alt or "").strip()
    errors = {}
    if not title:
        errors["title"] = "Enter a title for the case study"
    elif len(title) > 200:
        errors["title"] = "The title must be 200 characters or fewer"
    if not text:
        errors["text"] = "Enter the case study"
    elif len(text) > sections.NARRATIVE_MAX:
        errors["text"] = f"The case study must be {sections.NARRATIVE_MAX:,} characters or fewer"
    kind = None
    if image:
        kind = image_type(image)
        if len(image) > IMAGE_MAX_BYTES:
            errors["image"] = "The image must be smaller than 2 MB"
        elif kind not in IMAGE_TYPES:
            errors["image"] = "The image must be a PNG or JPEG"
    has_image = bool(image) or (row is not None and row.image is not None and not remove_image)
    if has_image and not image_alt:
        errors["image_alt"] = "Describe the image for people who cannot see it"
    elif len(image_alt) > 500:
        errors["image_alt"] = "The description of the image must be 500 characters or fewer"
    if errors:
        raise services.ReturnsError.of(errors)
    now = clock.utcnow()
    if row is None:
        row = CaseStudy(
            return_id=ret.id,
            position=len(ret.case_studies) + 1,
            title=title,
            text=text,
            updated_at=now,
        )
        ret.case_studies.append(row)
        action = "return.case_study_added"
    else:
        check_version(row, version, {"title": title, "text": text, "image_alt": image_alt})
        row.title, row.text = title, text
        action = "return.case_study_changed"
    if image:
        row.image, row.image_type = image, kind
    elif remove_image:
        row.image, row.image_type = None, ""
    row.image_alt = image_alt if row.image is not None else ""
    row.updated_at = now
    ret.updated_at = now
    db.session.flush()
    audit.record(action, row, user=user, detail={"year": ret.reporting_year.label, "title": title})
    commit_edit(row, {"title": title, "text": text, "image_alt": image_alt})
    return row


def delete_case_study(ret: AnnualReturn, row: CaseStudy, *, user=None) -> None:
    if not ret.is_editable:
        raise services.ReturnsError.of(
            {"title": "This return has been sent for sign-off and cannot be changed"}
        )
    audit.record(
        "return.case_study_removed",
        row,
        user=user,
        detail={"year": ret.reporting_year.label, "title": row.title},
    )
    ret.case_studies.remove(row)
    ret.updated_at = clock.utcnow()
    db.session.commit()
