"""The rules for an organisation's impact assessments and joint assessments; all audited."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from portal import audit, clock
from portal.editing import Invalid, check_version, commit_edit
from portal.eqia.models import (
    CHARACTERISTICS,
    IMPACTS,
    KINDS,
    CharacteristicImpact,
    ImpactAssessment,
    JointAssessment,
    JointContribution,
)
from portal.extensions import db
from portal.models import limit
from portal.partners.models import Partnership
from portal.tenancy import across_tenants

REVIEW_WARNING_DAYS = 30

ASSESSMENT_FIELDS = (
    "title",
    "subject",
    "kind",
    "lead_officer",
    "assessed_on",
    "decision",
    "review_on",
    "is_published",
    "published_on",
)


# --- queries -------------------------------------------------------------------------------


def assessments():
    """The current tenant's assessments, newest first, as a select()."""
    return select(ImpactAssessment).order_by(
        ImpactAssessment.assessed_on.desc(), ImpactAssessment.id.desc()
    )


def published_assessments():
    """The current tenant's published assessments, newest first, as a select()."""
    return assessments().where(ImpactAssessment.is_published.is_(True))


def due_for_review(today: date | None = None):
    """Assessments whose review date has passed or falls within the next 30 days."""
    today = today or clock.utcnow().date()
    return (
        select(ImpactAssessment)
        .where(ImpactAssessment.review_on.is_not(None))
        .where(ImpactAssessment.review_on <= today + timedelta(days=REVIEW_WARNING_DAYS))
        .order_by(ImpactAssessment.review_on, ImpactAssessment.id)
    )


def joint_assessments():
    """The joint assessments in scope, newest first: a partnership's own on its pages,
    those of every partnership the tenant belongs to on a tenant's pages."""
    return select(JointAssessment).order_by(
        JointAssessment.created_at.desc(), JointAssessment.id.desc()
    )


def contribution_for(joint: JointAssessment) -> JointContribution | None:
    """The current tenant's contribution to ``joint``, if it has started one."""
    return db.session.scalar(
        select(JointContribution).where(JointContribution.joint_id == joint.id)
    )


def submitted_contributions(joint: JointAssessment, partnership: Partnership) -> list[tuple]:
    """(member, contribution or None) for each member; drafts are never read across the wall."""
    result = []
    for member in across_tenants(partnership.members, purpose=f"joint assessment {joint.id}"):
        row = db.session.scalar(
            select(JointContribution)
            .where(JointContribution.joint_id == joint.id)
            .where(JointContribution.submitted_at.is_not(None))
        )
        if row is not None:
            # Detached with what was read, so that nothing reloads it outside its scope.
            db.session.expunge(row)
        result.append((member, row))
    # The read is in each member's trail already: across_tenants commits those events
    # before the first read. No commit here, which would expire what the page shows.
    return result


# --- rules -----------------------------------------------------------------------------------


def _check(data: dict, today: date) -> None:
    if data["kind"] not in KINDS:
        raise Invalid("kind", "Choose screening or full assessment")
    if data["assessed_on"] > today:
        raise Invalid("assessed_on", "The date of the assessment must be today or earlier")
    review_on = data.get("review_on")
    if review_on is not None and review_on <= data["assessed_on"]:
        raise Invalid("review_on", "The review date must be after the date of the assessment")
    if data.get("is_published"):
        published_on = data.get("published_on")
        if published_on is None:
            raise Invalid("published_on", "Enter the date it was published")
        if published_on < data["assessed_on"]:
            raise Invalid("published_on", "The publication date cannot be before the assessment")
        if published_on > today:
            raise Invalid("published_on", "The publication date must be today or earlier")
    for key, label in CHARACTERISTICS.items():
        impact = data["impacts"].get(key, {})
        if impact.get("impact") not in IMPACTS:
            raise Invalid(f"impact_{key}", f"Choose the likely impact on {label.lower()}")
        if impact["impact"] == "negative" and not impact.get("mitigation"):
            raise Invalid(
                f"mitigation_{key}",
                f"Say how you will reduce or remove the negative impact on {label.lower()}",
            )


def _clean(data: dict) -> dict:
    clean = {k: data.get(k) for k in ASSESSMENT_FIELDS}
    for key in ("title", "subject", "lead_officer", "decision"):
        clean[key] = (clean[key] or "").strip()
    clean["is_published"] = bool(clean["is_published"])
    if not clean["is_published"]:
        clean["published_on"] = None
    clean["impacts"] = {
        key: {
            "impact": (data.get("impacts", {}).get(key) or {}).get("impact"),
            "evidence": ((data.get("impacts", {}).get(key) or {}).get("evidence") or "").strip(),
            "mitigation": (
                (data.get("impacts", {}).get(key) or {}).get("mitigation") or ""
            ).strip(),
        }
        for key in CHARACTERISTICS
    }
    return clean


def add_assessment(data: dict, *, is_demo: bool = False) -> ImpactAssessment:
    """Add an assessment to the current tenant's register."""
    clean = _clean(data)
    _check(clean, clock.utcnow().date())
    now = clock.utcnow()
    row = ImpactAssessment(
        **{k: clean[k] for k in ASSESSMENT_FIELDS}, is_demo=is_demo, created_at=now, updated_at=now
    )
    for key, impact in clean["impacts"].items():
        row.impacts.append(CharacteristicImpact(characteristic=key, **impact))
    db.session.add(row)
    db.session.flush()
    audit.record("eqia.created", row, detail={"title": row.title[:200]})
    db.session.commit()
    return row


def update_assessment(row: ImpactAssessment, data: dict, *, version: int) -> ImpactAssessment:
    """Save an edit made to ``version``; refuse it if somebody saved in between."""
    clean = _clean(data)
    check_version(row, version, clean)
    _check(clean, clock.utcnow().date())
    changed = [k for k in ASSESSMENT_FIELDS if getattr(row, k) != clean[k]]
    for key in CHARACTERISTICS:
        current = row.impact_for(key)
        wanted = clean["impacts"][key]
        if current is None:
            row.impacts.append(CharacteristicImpact(characteristic=key, **wanted))
            changed.append(key)
            continue
        if any(getattr(current, f) != v for f, v in wanted.items()):
            for f, v in wanted.items():
                setattr(current, f, v)
            changed.append(key)
    if not changed:
        return row
    for key in ASSESSMENT_FIELDS:
        setattr(row, key, clean[key])
    row.updated_at = clock.utcnow()
    audit.record("eqia.updated", row, detail={"fields": changed})
    return commit_edit(row, clean)


def start_joint_assessment(partnership: Partnership, data: dict) -> JointAssessment:
    """A partnership lead starts a joint assessment for the members to contribute to."""
    title = (data.get("title") or "").strip()
    subject = (data.get("subject") or "").strip()
    lead_officer = (data.get("lead_officer") or "").strip()
    if not title:
        raise Invalid("title", "Enter a title")
    if not subject:
        raise Invalid("subject", "Enter the service, policy or function assessed")
    if not lead_officer:
        raise Invalid("lead_officer", "Enter the lead officer")
    due_on = data.get("due_on")
    if due_on is not None and due_on < clock.utcnow().date():
        raise Invalid("due_on", "The date contributions are due must be in the future")
    row = JointAssessment(
        title=title,
        subject=subject,
        brief=(data.get("brief") or "").strip(),
        lead_officer=lead_officer,
        due_on=due_on,
        is_demo=bool(data.get("is_demo")),
        created_at=clock.utcnow(),
    )
    db.session.add(row)
    db.session.flush()
    audit.record(
        "eqia.joint_started", row, detail={"partnership": partnership.slug, "title": title[:200]}
    )
    db.session.commit()
    return row


def save_contribution(
    joint: JointAssessment,
    data: dict,
    *,
    version: int | None = None,
    submit: bool = False,
    is_demo: bool = False,
) -> JointContribution:
    """Save (and optionally submit) the current tenant's contribution to ``joint``."""
    impacts = {key: (data.get("impacts") or {}).get(key) for key in CHARACTERISTICS}
    for key, label in CHARACTERISTICS.items():
        if impacts[key] not in IMPACTS:
            raise Invalid(f"impact_{key}", f"Choose the likely impact on {label.lower()}")
    submitted = {
        "impacts": impacts,
        "evidence": (data.get("evidence") or "").strip(),
        "mitigation": (data.get("mitigation") or "").strip(),
        "contributor": (data.get("contributor") or "").strip(),
    }
    if not submitted["evidence"]:
        raise Invalid("evidence", "Enter what your organisation knows about the impact")
    if not submitted["contributor"]:
        raise Invalid("contributor", "Enter who prepared this contribution")
    row = contribution_for(joint)
    now = clock.utcnow()
    if row is None:
        row = JointContribution(joint_id=joint.id, created_at=now, updated_at=now, is_demo=is_demo)
        db.session.add(row)
        action = "eqia.contribution_created"
    else:
        if row.is_submitted:
            raise Invalid("evidence", "This contribution has already been submitted")
        check_version(row, version, submitted)
        action = "eqia.contribution_updated"
    for key, value in submitted.items():
        setattr(row, key, value)
    row.updated_at = now
    if submit:
        row.submitted_at = now
    db.session.flush()
    audit.record(action, row, detail={"joint_id": joint.id})
    if submit:
        audit.record("eqia.contribution_submitted", row, detail={"joint_id": joint.id})
    return commit_edit(row, submitted, reload=lambda: contribution_for(joint))


# --- concluding, publishing and exporting a joint assessment ------------------------------


def _contribution_content(member, row: JointContribution) -> dict:
    return {
        "organisation": member.name,
        "submitted_on": f"{row.submitted_at:%-d %B %Y}" if row.submitted_at else "",
        "impacts": [list(pair) for pair in row.ordered_impacts()],
        "evidence": row.evidence,
        "mitigation": row.mitigation,
        "contributor": row.contributor,
        "is_demo": row.is_demo,
    }


def joint_content(joint: JointAssessment, partnership: Partnership) -> dict:
    """What a joint assessment says: its details, the lead's conclusion and every
    submitted contribution (drafts never leave their organisation)."""
    contributions = [
        _contribution_content(member, row)
        for member, row in submitted_contributions(joint, partnership)
        if row is not None
    ]
    return {
        "title": joint.title,
        "subject": joint.subject,
        "lead_officer": joint.lead_officer,
        "partnership": partnership.name,
        "conclusion": joint.conclusion,
        "concluded_on": f"{joint.concluded_at:%-d %B %Y}" if joint.concluded_at else "",
        "contributions": contributions,
        "is_demo": joint.is_demo,
    }


def conclude_joint(joint: JointAssessment, partnership: Partnership, conclusion: str) -> None:
    """The lead's conclusion, drawn from the members' submitted contributions."""
    if joint.is_published:
        raise Invalid(
            "conclusion", "This assessment has been published, so its conclusion is fixed"
        )
    conclusion = (conclusion or "").strip()
    if not conclusion:
        raise Invalid("conclusion", "Enter the conclusion of the assessment")
    most = limit(JointAssessment.conclusion)
    if len(conclusion) > most:
        raise Invalid("conclusion", f"The conclusion must be {most:,} characters or fewer")
    if not any(row for _, row in submitted_contributions(joint, partnership)):
        raise Invalid(
            "conclusion",
            "No member has submitted a contribution yet, so there is nothing to conclude from",
        )
    first = joint.concluded_at is None
    joint.conclusion = conclusion
    joint.concluded_at = clock.utcnow()
    audit.record(
        "eqia.joint_concluded",
        joint,
        detail={"partnership": partnership.slug, "first": first, "conclusion": conclusion[:500]},
    )
    db.session.commit()


def publish_joint(joint: JointAssessment, partnership: Partnership) -> None:
    """Publish a concluded joint assessment: what it says now is kept as published."""
    if joint.is_published:
        return
    if not joint.is_concluded:
        raise Invalid("conclusion", "Conclude the assessment before publishing it")
    joint.published_content = joint_content(joint, partnership)
    joint.published_at = clock.utcnow()
    audit.record(
        "eqia.joint_published",
        joint,
        detail={
            "partnership": partnership.slug,
            "contributions": len(joint.published_content["contributions"]),
        },
    )
    db.session.commit()


def published_joint_assessments(partnership: Partnership):
    return (
        select(JointAssessment)
        .where(
            JointAssessment.partnership_id == partnership.id,
            JointAssessment.published_at.is_not(None),
        )
        .order_by(JointAssessment.published_at.desc(), JointAssessment.id.desc())
    )


JOINT_EXPORT_HEADERS = [
    "Assessment",
    "Organisation",
    "Submitted on",
    "Characteristic",
    "Likely impact",
    "What the organisation knows",
    "How negative impacts could be reduced",
    "Prepared by",
]


def joint_export_rows(content: dict) -> list[list]:
    """One row per contribution and characteristic, then the lead's conclusion."""
    rows = []
    for c in content["contributions"]:
        for characteristic, impact in c["impacts"]:
            rows.append(
                [
                    content["title"],
                    c["organisation"],
                    c["submitted_on"],
                    characteristic,
                    impact,
                    c["evidence"],
                    c["mitigation"],
                    c["contributor"],
                ]
            )
    rows.append(
        [
            content["title"],
            content["partnership"],
            content["concluded_on"],
            "Conclusion",
            "",
            content["conclusion"],
            "",
            content["lead_officer"],
        ]
    )
    return rows
