"""Demonstration impact assessments and joint assessments (made up, and marked so)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from sqlalchemy import func, select

from portal import clock
from portal.eqia import services
from portal.eqia.models import CHARACTERISTICS, ImpactAssessment, JointAssessment
from portal.extensions import db
from portal.partners.models import Partnership, Tenant
from portal.tenancy import partnership_scope, tenant_scope

POSITIVE = {"race", "religion", "disability"}
NEUTRAL = {"impact": "neutral", "evidence": "", "mitigation": ""}


def _impacts(**special: dict) -> dict:
    return {key: special.get(key, NEUTRAL) for key in CHARACTERISTICS}


def _examples(today) -> list[dict]:
    return [
        {
            "title": "Changes to the garden waste collection service",
            "subject": "Garden waste collection",
            "kind": "full",
            "lead_officer": "Waste services manager (demonstration)",
            "assessed_on": today - timedelta(days=400),
            "decision": "Go ahead with the change. Offer assisted collections to people who "
            "cannot move their bin to the kerb.",
            "review_on": today + timedelta(days=330),
            "is_published": True,
            "published_on": today - timedelta(days=390),
            "impacts": _impacts(
                age={
                    "impact": "negative",
                    "evidence": "Older residents told us moving a full bin is hard.",
                    "mitigation": "Assisted collections on request.",
                },
                disability={
                    "impact": "negative",
                    "evidence": "Complaints data shows more missed collections for disabled "
                    "residents.",
                    "mitigation": "Assisted collections on request, and easy-read leaflets.",
                },
            ),
        },
        {
            "title": "New customer service opening hours",
            "subject": "Customer service centre",
            "kind": "screening",
            "lead_officer": "Head of customer services (demonstration)",
            "assessed_on": today - timedelta(days=200),
            "decision": "No full assessment needed. Phone and online services stay open "
            "longer than the front desk.",
            "review_on": today + timedelta(days=150),
            "is_published": True,
            "published_on": today - timedelta(days=190),
            "impacts": _impacts(
                pregnancy={
                    "impact": "positive",
                    "evidence": "Later hours on two evenings help working parents.",
                    "mitigation": "",
                },
                race={
                    "impact": "unknown",
                    "evidence": "We do not yet know the language needs of visitors.",
                    "mitigation": "",
                },
            ),
        },
        {
            "title": "Community grants scheme",
            "subject": "Community grants policy",
            "kind": "full",
            "lead_officer": "Communities officer (demonstration)",
            "assessed_on": today - timedelta(days=1080),
            "decision": "Keep the scheme. Add outreach to groups that have not applied before.",
            "review_on": today + timedelta(days=14),
            "is_published": False,
            "published_on": None,
            "impacts": _impacts(
                religion={
                    "impact": "positive",
                    "evidence": "Faith groups run many of the funded projects.",
                    "mitigation": "",
                },
                sexual_orientation={
                    "impact": "unknown",
                    "evidence": "Few applications from LGBT groups.",
                    "mitigation": "",
                },
            ),
        },
    ]


def load_demo() -> Iterator[str]:
    """Add example assessments to every tenant that has no demonstration ones yet."""
    today = clock.utcnow().date()
    for tenant in db.session.scalars(select(Tenant).order_by(Tenant.slug)).all():
        with tenant_scope(tenant):
            has_demo = db.session.scalar(
                select(func.count(ImpactAssessment.id)).where(ImpactAssessment.is_demo.is_(True))
            )
            if has_demo:
                yield f"impact assessments: {tenant.slug} already has examples"
                continue
            for example in _examples(today):
                services.add_assessment(example, is_demo=True)
            yield f"impact assessments: {tenant.slug}: 3 examples added"
    yield from _load_joint(today)


def _load_joint(today) -> Iterator[str]:
    for partnership in db.session.scalars(select(Partnership).order_by(Partnership.slug)).all():
        with partnership_scope(partnership):
            message = _joint_example(partnership, today)
        yield message


def _joint_example(partnership, today) -> str:
    exists = db.session.scalar(
        select(func.count(JointAssessment.id)).where(JointAssessment.is_demo.is_(True))
    )
    if exists or not partnership.members:
        return f"joint assessments: {partnership.slug} already has an example"
    joint = services.start_joint_assessment(
        partnership,
        {
            "title": "Joint approach to reporting hate incidents",
            "subject": "Shared third-party hate incident reporting centres",
            "brief": "Tell us what you know about who reports hate incidents in your area, "
            "and who does not.",
            "lead_officer": "Partnership lead (demonstration)",
            "due_on": today + timedelta(days=60),
            "is_demo": True,
        },
    )
    first = partnership.members[0]
    with tenant_scope(first):
        services.save_contribution(
            joint,
            {
                "impacts": {
                    key: ("positive" if key in {"race", "religion", "disability"} else "neutral")
                    for key in CHARACTERISTICS
                },
                "evidence": "Most reports come through the council's online form. Few come "
                "from disabled people, though national surveys suggest they are often "
                "targeted.",
                "mitigation": "Add reporting centres at day centres.",
                "contributor": "Equality officer (demonstration)",
            },
            submit=True,
            is_demo=True,
        )
    return f"joint assessments: {partnership.slug}: 1 example added"
