"""Commitments from the source documents, word for word, for the demonstration."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import func, select

from portal import clock
from portal.commitments.models import Commitment
from portal.extensions import db
from portal.partners.models import Tenant
from portal.tenancy import tenant_scope

WEST_KENT_HOUSING_SOURCE = "West Kent Equality and Diversity Policy, 3. Commitments (“We will:”)"
WEST_KENT_HOUSING = [
    "Take into account our customers diverse needs, views, preferences and aspirations when "
    "designing and delivering services, including information.",
    "Use equality impact assessments when designing and reviewing services to ensure that they "
    "are non-discriminatory and fair to all.",
    "Integrate the concept of diversity into our business planning, policies and procedures, and "
    "performance monitoring.",
    "Ensure work places are accessible.",
    "Monitor uptake and user satisfaction of our services by age, disability, race, religion and "
    "faith, sex, and sexual orientation, where customers are comfortable about disclosing this "
    "information.",
    "Profile our customers, employees and board and how far these reflect the communities we work "
    "in and our strategic priorities (Annex B) – using the 'protected characteristic' categories "
    "from the Equality Act 2010.",
    "Provide appropriate learning interventions and guidance to support our board, staff and "
    "partners implement our commitments on equality and diversity.",
    "Adopt a fair and open system for selecting board members, employees and partners.",
    "Work with our customers, staff, board and partners to prevent and tackle harassment and other "
    "forms of anti-social behaviour in the community and the workplace.",
    "Require our partners to demonstrate they have appropriate policies in place to ensure their "
    "service to our customers meets our expectations.",
    "Promote our commitment to equality and diversity.",
]

GENTOO_SOURCE = (
    "Gentoo, Diversity and Inclusion in Service Provision, "
    "6.0 Our Policy Statement (6.1 “… we will:”)"
)
GENTOO = [
    "treat everyone fairly and with respect",
    "ensure our services are relevant, responsive and sensitive to the needs of our existing and "
    "future customers",
    "ensure that all sections of the community in which we work have equal opportunity to access "
    "our services",
    "welcome and value difference, and not tolerate bullying, harassment or intimidation of any "
    "individual or group",
    "challenge the behaviour of those who do not uphold our values and go against our principles, "
    "and reconsider our continued relationship with any such person or organisation",
]

SEEDED = {
    "west-kent-housing": (WEST_KENT_HOUSING, WEST_KENT_HOUSING_SOURCE),
    "gentoo": (GENTOO, GENTOO_SOURCE),
}


def load_demo() -> Iterator[str]:
    """Add the seed documents' commitments to tenants that have none yet."""
    for slug, (texts, source) in SEEDED.items():
        tenant = db.session.scalar(select(Tenant).where(Tenant.slug == slug))
        if tenant is None:
            continue
        with tenant_scope(tenant):
            if db.session.scalar(select(func.count(Commitment.id))):
                yield f"commitments: {slug} already has commitments"
                continue
            now = clock.utcnow()
            for position, text in enumerate(texts, start=1):
                db.session.add(
                    Commitment(
                        position=position, text=text, source=source, created_at=now, updated_at=now
                    )
                )
            db.session.commit()
            yield f"commitments: {slug}: {len(texts)} added"
