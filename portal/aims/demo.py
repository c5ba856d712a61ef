"""Joint aims for the demonstration: West Kent's 2012–16 framework, word for word.

The West Kent Equality Partnership's framework comes from its "Our Aims and Commitments
for 2012-16". The Kent Equality Network is itself a demonstration partnership, so its
small framework is made up and marked as demonstration data.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import select

from portal import clock
from portal.aims.models import (
    DELIVERING,
    RIGHTS,
    AimMeasure,
    JointAim,
    PartnershipRole,
    PeriodStatement,
    PlanPeriod,
    RoleListItem,
)
from portal.extensions import db
from portal.partners.models import Partnership
from portal.tenancy import partnership_scope

WEST_KENT = {
    "title": "Our Aims and Commitments for 2012-16",
    "start_year": 2012,
    "end_year": 2016,
    "is_demo": False,
    "source": "West Kent Equality Partnership, Our Aims and Commitments for 2012-16",
    "introduction": [
        "This document sets out the aims and commitments for the three West Kent authorities "
        "– Sevenoaks District Council, Tonbridge & Malling Borough Council and Tunbridge Wells "
        "Borough Council - for 2012-16.",
        "The aims and commitments in this document have been identified by taking a complete "
        "view of the factors that may lead to disadvantage. We want to make sure that people "
        "have the opportunity to reach their potential and that our services meet their needs.",
        "This document supports and strengthens the corporate priorities within each Council by "
        "identifying common aims that we will all work towards. The commitments in this "
        "document apply to Councillors and staff and set standards for others who deliver "
        "services for our Councils.",
    ],
    "roles": [
        {
            "name": "As a Community Leader we will:",
            "lead_in": "Work together to find and reduce the effects of reduced financial "
            "resources by:",
            "items": [
                "Taking informed decisions and being accountable for them;",
                "Asking for the views of local people, groups and representatives and "
                "responding to them;",
                "Delivering results that make a positive difference to people; and",
                "Leading by example when working with partners and contractors.",
            ],
            "aims": [
                (
                    "We will make sure our events and activities are open to all and raise "
                    "awareness.",
                    [
                        "We will assess peoples' experiences of our events and activities, "
                        "including those linked to the 2012 Olympic/ Paralympic Games.",
                        "We will review access to and attendance at events and services, "
                        "including Kent County Council's Integrated Youth Service.",
                    ],
                ),
                (
                    "We will record, monitor and respond to 'hate' incidents.",
                    [
                        "We will make data on reported cases available",
                        "We will deal with cases properly.",
                    ],
                ),
            ],
        },
        {
            "name": "As a Service provider we will:",
            "lead_in": "Work together to make sure our customers experience good customer "
            "service by:",
            "items": [
                "Helping everyone to make use of the services to which they are entitled;",
                "Giving information and advice in suitable ways; and",
                "Gathering feedback and information from all those entitled to use our services "
                "only where suitable and needed to inform the way we provide services.",
            ],
            "aims": [
                (
                    "We will improve the way we give information.",
                    [
                        "We will check we are using clear and concise language.",
                        "We will make sure customers don't need to return to us to understand "
                        "our webpages, letters, emails or forms.",
                    ],
                ),
                (
                    "We will identify and deal with physical barriers to our services.",
                    ["We will publish details of measures we have taken to deal with barriers."],
                ),
                (
                    "We will find ways to adapt our services and direct people more easily "
                    "between services within resource limitations.",
                    ["We will publish details of where we can make improvements."],
                ),
            ],
        },
        {
            "name": "As an employer we will:",
            "lead_in": "Make sure that our employment policies are fit for purpose and work "
            "together to turn these into practices which:",
            "items": [
                "Select, appoint and promote individuals only on the basis of merit;",
                "Encourage all staff to develop and reach their potential;",
                "Provide a safe and accessible workplace;",
                "Provide fair and open pay and reward systems; and",
                "Make sure staff treat each other with dignity and respect.",
            ],
            "aims": [
                (
                    "We will establish the extent and nature of any issues about equal pay.",
                    ["We will publish details of any issues and how we have addressed these."],
                ),
                (
                    "We will make sure we have a consistent way of giving flexible working and "
                    "retirement.",
                    [
                        "We will publish details of patterns of home working and flexible "
                        "retirement and how we have addressed any issues"
                    ],
                ),
            ],
        },
    ],
    DELIVERING: [
        "We will produce joint annual reports setting out what we have done against these aims "
        "and commitments.",
        "We will continue with our programme of equality impact assessments and work together "
        "on these where suitable.",
        "We will develop an action plan setting out how we will deliver our aims and commitments.",
    ],
    RIGHTS: [
        "The Chief Executive of each Council will have overall responsibility for implementing "
        "the aims and commitments in this document.",
        "Senior Managers will make sure their service areas comply with this document.",
        "Each member of staff has responsibility to read, understand and implement this policy "
        "statement and to take responsibility for their own behaviour. Each Councillor has "
        "responsibility to read, understand and make sure their behaviour has regard for this "
        "policy statement.",
        "Implementation of these aims and commitments will be monitored by the Corporate "
        "Equalities Monitoring Groups at each Council.",
    ],
    "alternative_formats": "If you require this document in large print or in any other "
    "format, please contact: (phone numbers for each authority to be added).",
}

KENT_NETWORK = {
    "title": "Shared equality aims 2017-21",
    "start_year": 2017,
    "end_year": 2021,
    "is_demo": True,
    "source": "Demonstration data, not taken from a real document",
    "introduction": [
        "Demonstration data: an example of the aims the members of the Kent Equality Network "
        "might share."
    ],
    "roles": [
        {
            "name": "As a Service Provider we will:",
            "lead_in": "Work together to make our services easy for everyone to use by:",
            "items": ["Asking people who use our services what gets in their way."],
            "aims": [
                (
                    "We will make our information easy to find and understand.",
                    ["We will test our main web pages with people who use them."],
                ),
            ],
        },
        {
            "name": "As an Employer we will:",
            "lead_in": "Work together to build workforces that reflect our communities by:",
            "items": ["Sharing what works in recruiting under-represented groups."],
            "aims": [
                (
                    "We will understand who works for us.",
                    ["We will publish our workforce profile every year."],
                ),
            ],
        },
    ],
    DELIVERING: ["We will report on these aims together every year."],
    RIGHTS: [],
    "alternative_formats": "",
}

SEEDED = {"west-kent": WEST_KENT, "kent-network": KENT_NETWORK}

# Each partnership's current plan period, carried from its framework above. Neither
# partnership has published aims for these years, so the carried framework is marked as
# demonstration data; the framework it comes from stays as it was, as history.
CURRENT = {
    "west-kent": {
        "title": "Our Aims and Commitments for 2024-28 (demonstration)",
        "start_year": 2024,
        "end_year": 2028,
        "source": "Demonstration data: the partnership's 2012-16 aims and commitments, "
        "carried into 2024-28 word for word; not taken from a real document",
        "note": "Demonstration data: the West Kent Equality Partnership's aims and "
        "commitments for 2012-16, carried into the plan period 2024-28 so that this "
        "year's work can be shown. The words below are those of 2012-16.",
    },
    "kent-network": {
        "title": "Shared equality aims 2024-28 (demonstration)",
        "start_year": 2024,
        "end_year": 2028,
        "source": "Demonstration data: the 2017-21 demonstration aims carried into 2024-28; "
        "not taken from a real document",
        "note": "Demonstration data: the Kent Equality Network's shared aims for 2017-21, "
        "carried into the plan period 2024-28.",
    },
}


def current_spec(slug: str) -> dict:
    """The framework of a partnership's current demonstration period."""
    carried, base = CURRENT[slug], SEEDED[slug]
    return base | {
        "title": carried["title"],
        "start_year": carried["start_year"],
        "end_year": carried["end_year"],
        "is_demo": True,
        "source": carried["source"],
        "introduction": [carried["note"], *base["introduction"]],
    }


def _period(spec: dict) -> PlanPeriod:
    """The framework of ``spec``, for the partnership in scope."""
    now = clock.utcnow()
    period = PlanPeriod(
        title=spec["title"],
        start_year=spec["start_year"],
        end_year=spec["end_year"],
        introduction="\n\n".join(spec["introduction"]),
        alternative_formats=spec["alternative_formats"],
        is_draft=False,
        is_demo=spec["is_demo"],
        source=spec["source"],
        created_at=now,
        updated_at=now,
    )
    for r, role_spec in enumerate(spec["roles"], start=1):
        role = PartnershipRole(position=r, name=role_spec["name"], lead_in=role_spec["lead_in"])
        role.items = [
            RoleListItem(position=i, text=text)
            for i, text in enumerate(role_spec["items"], start=1)
        ]
        for a, (aim_text, measures) in enumerate(role_spec["aims"], start=1):
            aim = JointAim(position=a, text=aim_text)
            aim.measures = [
                AimMeasure(position=m, text=text) for m, text in enumerate(measures, start=1)
            ]
            role.aims.append(aim)
        period.roles.append(role)
    for section in (DELIVERING, RIGHTS):
        period.statements.extend(
            PeriodStatement(section=section, position=s, text=text)
            for s, text in enumerate(spec[section], start=1)
        )
    return period


def load_demo() -> Iterator[str]:
    """Add each partnership's demonstration framework, and its current period carried from
    it, unless it has that period already."""
    specs = [*SEEDED.items(), *((slug, current_spec(slug)) for slug in CURRENT)]
    for slug, spec in specs:
        partnership = db.session.scalar(select(Partnership).where(Partnership.slug == slug))
        if partnership is None:
            continue
        with partnership_scope(partnership):
            exists = db.session.scalar(
                select(PlanPeriod.id).where(
                    PlanPeriod.start_year == spec["start_year"],
                    PlanPeriod.end_year == spec["end_year"],
                )
            )
            if exists is None:
                period = _period(spec)
                db.session.add(period)
                db.session.commit()
                aims = sum(len(role.aims) for role in period.roles)
                message = f"joint aims: {slug}: {period.label} added with {aims} aims"
            else:
                message = f"joint aims: {slug} already has {spec['start_year']}-{spec['end_year']}"
        yield message
