"""The built-in measures: those the source documents name, with the words that name them.

A breakdown of ``"*"`` means "by a protected characteristic": the organisation chooses
which one when it takes the measure up (one measure per characteristic it reports).
"""

from __future__ import annotations

from sqlalchemy import select

from portal.extensions import db
from portal.monitoring.models import MeasureDefinition

ANY = "*"

WEST_KENT = "West Kent Equality Partnership, Aims 2012–16, “How will we measure our results?”"
MAIDSTONE = "Maidstone Borough Council, Equalities Policy and Objectives 2017–21"
GENTOO = "Gentoo, Diversity and Inclusion in Service Provision, 9.3 key performance indicators"
WEST_KENT_HOUSING = "West Kent Housing Association, Equality and Diversity Policy, 3. Commitments"

BUILT_IN = [
    {
        "key": "hate-incidents-reported",
        "name": "Hate incidents reported",
        "unit": "count",
        "period_type": "quarter",
        "breakdown": "",
        "source": f"{WEST_KENT}: “We will make data on reported cases available”",
    },
    {
        "key": "attendance-events-services",
        "name": "Attendance at events and services",
        "unit": "count",
        "period_type": "year",
        "breakdown": ANY,
        "source": f"{WEST_KENT}: “We will review access to and attendance at events and "
        "services, including Kent County Council's Integrated Youth Service.”",
    },
    {
        "key": "consultation-responses-seldom-heard",
        "name": "Consultation responses from seldom-heard groups",
        "unit": "count",
        "period_type": "year",
        "breakdown": ANY,
        "source": f"{MAIDSTONE}: “Increased number of consultation responses from seldom "
        "heard groups”",
    },
    {
        "key": "customer-satisfaction-star",
        "name": "Customer satisfaction (STAR survey)",
        "unit": "percentage",
        "period_type": "year",
        "breakdown": ANY,
        "source": f"{GENTOO}: “STAR data in respect of customer satisfaction with our service "
        "provision, disaggregated by core protected characteristics”",
    },
    {
        "key": "complaints",
        "name": "Complaints received",
        "unit": "count",
        "period_type": "quarter",
        "breakdown": ANY,
        "source": f"{GENTOO}: “Complaints data, disaggregated by core protected characteristics”",
    },
    {
        "key": "workforce-profile",
        "name": "Workforce profile (number of employees)",
        "unit": "count",
        "period_type": "year",
        "breakdown": ANY,
        "source": f"{WEST_KENT_HOUSING}: “Profile our customers, employees and board and how "
        "far these reflect the communities we work in”",
    },
    {
        "key": "gender-pay-gap-mean",
        "name": "Mean gender pay gap",
        "unit": "percentage",
        "period_type": "year",
        "breakdown": "",
        "allows_negative": True,
        "description": "Men's mean hourly pay less women's, as a percentage of men's. "
        "Below zero when women are paid more.",
        "source": f"{WEST_KENT}: “We will establish the extent and nature of any issues about "
        "equal pay.”",
    },
    {
        "key": "gender-pay-gap-median",
        "name": "Median gender pay gap",
        "unit": "percentage",
        "period_type": "year",
        "breakdown": "",
        "allows_negative": True,
        "description": "Men's median hourly pay less women's, as a percentage of men's. "
        "Below zero when women are paid more.",
        "source": f"{WEST_KENT}: “We will establish the extent and nature of any issues about "
        "equal pay.”",
    },
    {
        "key": "flexible-working",
        "name": "Employees working flexibly (including home working)",
        "unit": "count",
        "period_type": "year",
        "breakdown": ANY,
        "source": f"{WEST_KENT}: “We will publish details of patterns of home working and "
        "flexible retirement”",
    },
    {
        "key": "flexible-retirement",
        "name": "Employees taking flexible retirement",
        "unit": "count",
        "period_type": "year",
        "breakdown": ANY,
        "source": f"{WEST_KENT}: “We will publish details of patterns of home working and "
        "flexible retirement”",
    },
    {
        "key": "eqias-completed",
        "name": "Equality impact assessments completed",
        "unit": "count",
        "period_type": "year",
        "breakdown": "",
        "source": f"{MAIDSTONE}: “Increase in the number and quality of EqIA's completed.”",
    },
    {
        "key": "eqias-published",
        "name": "Equality impact assessments published",
        "unit": "count",
        "period_type": "year",
        "breakdown": "",
        "source": f"{MAIDSTONE}: “All EqIAs to be published on the website.”",
    },
]


def built_in_definitions():
    return select(MeasureDefinition).where(MeasureDefinition.partnership_id.is_(None))


def ensure_catalogue() -> int:
    """Add any built-in measure definition that is missing; returns how many were added."""
    have = set(db.session.scalars(select(MeasureDefinition.key)))
    added = 0
    for item in BUILT_IN:
        if item["key"] not in have:
            db.session.add(MeasureDefinition(**item))
            added += 1
    if added:
        db.session.commit()
    return added
