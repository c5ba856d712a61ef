"""Objectives and actions from the source documents, word for word, for the demonstration.

Maidstone's "Equalities Objectives (& Action Plan)" 2017–21 is held below as it is laid
out in the seed: each objective under its role, with its actions (one per bullet), the
responsible officer, "How will we know that this done?" and "To be delivered by:". Where
a page break cut a cell short in the source, the words are kept as the source has them.

Thanet's five EFLG performance areas are held below; its focus points 1.1 to 5.10 and its
action plan table are in ``seed_data/`` as tab-separated text copied from the seed.

The West Kent councils' actions are examples written against the partnership's joint aims,
marked as demonstration data.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from sqlalchemy import func, select

from portal import clock
from portal.actions.models import (
    ALL_CHARACTERISTICS,
    PSED_AIMS,
    ROLES,
    Action,
    FocusArea,
    FocusPoint,
    Objective,
)
from portal.actions.services import parse_target
from portal.extensions import db
from portal.partners.models import Tenant
from portal.tenancy import tenant_scope

SEED_DATA = Path(__file__).parent / "seed_data"

MAIDSTONE_ROLES = [
    (
        "community-leader",
        "Role 1",
        "As a Community Leader",
        "We will engage with residents in an open and meaningful way.",
    ),
    (
        "service-provider",
        "Role 2",
        "As a Service Provider",
        "We will ensure our services are inclusive, accessible and support residents and "
        "customers.",
    ),
    (
        "employer",
        "Role 3",
        "As an employer",
        "To have a workforce that feels valued and respected.",
    ),
]

# (role, objective, [actions], responsible officer, [how will we know], delivered by)
MAIDSTONE = [
    (
        "community-leader",
        "Increase understanding of Maidstone's residents through analysis of demographic "
        "information.",
        [
            "Provide ward level analysis of demographic information from annual Resident's "
            "Survey to Ward Councillors."
        ],
        "Policy and Information team – Data Intelligence Officer",
        ["Report to be produced for every ward member following annual Resident's Survey"],
        "November 2017",
    ),
    (
        "community-leader",
        "Provide a consistent approach to providing information to residents in alternative "
        "formats across the authority",
        [
            "An audit review to be undertaken on information provided in alternative front "
            "facing services"
        ],
        "Policy and Information team - Equalities and Corporate Policy Officer",
        ["A clear process and procedure used consistently across the authority and monitored."],
        "October 2017",
    ),
    (
        "community-leader",
        "Embed the principles of good consultation and engagement (as set out in the "
        "Communications and Engagement Strategy).",
        ["New Consultation toolkit and guidelines to be developed"],
        "Policy and Information team - Data Intelligence Officer & Equalities and Corporate "
        "Policy Officer",
        [
            "Improvement in standard and consistency of consultation.",
            "Wider engagement with hard to reach groups demonstrated by responses received.",
        ],
        "December 2017",
    ),
    (
        "community-leader",
        "Demonstrate effective engagement with the community and voluntary sector, providing "
        "evidence of involvement in the Council's decision-making process.",
        [
            "Creating a single point of contact for the organisation for all community groups "
            "and forums to ensure forward planning and coordination."
        ],
        "Policy and Information team - Equalities and Corporate Policy Officer & Data "
        "Intelligence Officer",
        [
            "Increased number of consultation responses from seldom heard groups per public",
            "Ensure consistent engagement with changes in Council policy",
            "Consistent message being directed across the authority",
        ],
        "September 2017",
    ),
    (
        "service-provider",
        "Review Equalities data collected to ensure personal information is handled correctly, "
        "in line with General Data Protection Regulations (GDPR).",
        ["To complete an annual equality data audit with Service Managers."],
        "Policy and Information team - Equalities and Corporate Policy Officer & Data "
        "Intelligence Officer Unit Managers",
        [
            "Provide an Equalities data audit record, reported to Committee in the Annual "
            "Equalities Update Report.",
            "Improved use of Equalities data as an evidence base, where held appropriately.",
        ],
        "",
    ),
    (
        "service-provider",
        "Raise standard of Equalities Impact Assessments (EqIAs)",
        [
            "Review of EqIAs paperwork",
            "Undertake training with Managers and Key officers that complete EqIAs",
            "Monitor Committees work programmes to identify where EqIAs should be included.",
            "Provide challenge and support to officers where gaps are identified.",
        ],
        "Policy and Information team - Equalities and Corporate Policy Officer",
        [
            "Engagement with Policy and Information Team at earliest opportunity.",
            "Well thought out and",
            "All reports to have clearly considered equalities implications.",
            "All EqIAs to be published on the website.",
        ],
        "",
    ),
    (
        "service-provider",
        "Provide a consistent approach to contract management across the services.",
        [
            "Review Commissioning and Programment and Procurement Strategy",
            "Evaluate commission and procurement processes and procedures",
            "Review existing contracts",
        ],
        "Procurement",
        [
            "Ensuring all contracts managed are compliant with the Council's values, in line "
            "with the Public Sector Equality Duty."
        ],
        "Review by March 2018",
    ),
    (
        "employer",
        "Integrate Equalities into Service Planning process.",
        [
            "Equalities to form part of Service Planning Requirements",
            "EqIA requirements submitted to Policy and Information team and timetabled for the "
            "year ahead.",
            "Presentation to staff forum/unit managers on annual basis in line with service "
            "planning timetable",
            "NETconsent to deliver Equality Policy to All Staff. Mandatory to read and accept.",
        ],
        "Policy and Information team All staff",
        [
            "Increase in the number and quality of EqIA's completed.",
            "Increased understanding of equalities impact on decision making.",
            "NETconsent reporting and testing functionality used to ensure all staff have read "
            "and understood the policy.",
        ],
        "September 2018",
    ),
    (
        "employer",
        "To deliver annual Equalities training to all elected members as part of ongoing "
        "professional development",
        ["Equalities Training to be included in the Member Development Programme"],
        "Democratic Services & Policy and Information",
        [
            "Members demonstrating an understanding of the implications and importance of "
            "providing a sound evidence base as part of Equalities Impact Assessments in "
            "determining changes to or reviews of Policy decisions."
        ],
        "May 2018",
    ),
    (
        "employer",
        "To ensure newly elected members are offered appropriate support to be effective in "
        "their role",
        [
            "At new member induction session (and on a rolling annual basis) provide a form to "
            "request reports, minutes and communications in alternative formats such as large "
            "print."
        ],
        "Democratic Services",
        [
            "Completed forms returned to Democratic Services.",
            "Take-up of support.",
            "Improved understanding of elected members and their needs and requirements within "
            "Democratic Services team.",
        ],
        "May 2018",
    ),
    (
        "employer",
        "To develop and support member engagement with hard to reach groups in the community.",
        ["Signpost members to appropriate bodies, forums and groups within the community"],
        "Democratic Services & Policy and Information",
        ["Improved engagement and understanding of seldom heard groups in Maidstone."],
        "May 2018",
    ),
]

THANET_AREAS = [
    ("1", "Knowing Our Community and Understanding its Needs"),
    ("2", "Leadership, Partnership and Organisational Commitment"),
    ("3", "Community Engagement and Satisfaction"),
    ("4", "Responsive Services and Customer Care"),
    ("5", "A Skilled and Committed Workforce"),
]

THANET_OBJECTIVE = "Equality Objectives Action Plan"
THANET_COLUMNS = [
    "Objective/Task",
    "Arising from",
    "Lead Officer",
    "Directorate",
    "Section",
    "Target Completion Date",
    "Status",
    "CP Priority",
    "EFLG Criteria",
    "PSED Aim",
    "PC",
]
# Targets written as a span or with a note still name a last day, used to find overdue work.
THANET_TARGET_DATES = {
    "Before July 2013": date(2013, 6, 30),
    "2 – 30 April 2013": date(2013, 4, 30),
    "11 July 2013 for final approval": date(2013, 7, 11),
}
THANET_STATUSES = {"": None, "On target": "on-target"}


def thanet_points() -> list[tuple[str, str, str]]:
    """Thanet's focus points 1.1 to 5.10: (number, title, description)."""
    with (SEED_DATA / "thanet-focus-points.tsv").open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        next(reader)
        return [tuple(row) for row in reader]


def thanet_rows() -> list[dict[str, str]]:
    """The rows of Thanet's action plan table, keyed by its column headings."""
    with (SEED_DATA / "thanet-action-plan.tsv").open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        if reader.fieldnames != THANET_COLUMNS:
            raise ValueError(f"unexpected columns in the Thanet action plan: {reader.fieldnames}")
        return list(reader)


# (role, objective, [(action, lead officer, target, status, characteristics, aims)])
WEST_KENT_DEMO = {
    "sevenoaks": [
        (
            "community-leader",
            "Make our events and activities open to all and raise awareness",
            [
                (
                    "Carry out access checks at every council-run community event",
                    "Communities Manager",
                    "31 March 2027",
                    "on-target",
                    ["disability", "age"],
                    ["advance"],
                ),
                (
                    "Publish quarterly figures on reported hate incidents",
                    "Community Safety Officer",
                    "2026/27",
                    "not-started",
                    [ALL_CHARACTERISTICS],
                    ["eliminate", "foster"],
                ),
            ],
        ),
        (
            "service-provider",
            "Improve the way we give information",
            [
                (
                    "Rewrite the ten most-used web forms in plain English",
                    "Digital Services Lead",
                    "30 June 2026",
                    "at-risk",
                    [ALL_CHARACTERISTICS],
                    ["advance"],
                ),
                (
                    "Offer all council tax letters in large print and easy read on request",
                    "Revenues Manager",
                    "Ongoing",
                    "on-target",
                    ["disability"],
                    ["advance"],
                ),
            ],
        ),
    ],
    "tonbridge-malling": [
        (
            "service-provider",
            "Identify and deal with physical barriers to our services",
            [
                (
                    "Complete an access audit of the Gibson Building reception",
                    "Facilities Manager",
                    "31 October 2026",
                    "on-target",
                    ["disability"],
                    ["advance"],
                ),
                (
                    "Publish the measures taken to remove barriers found by the audit",
                    "Policy Officer",
                    "2026/27",
                    "not-started",
                    ["disability", "age"],
                    ["advance"],
                ),
            ],
        ),
        (
            "employer",
            "Establish the extent and nature of any issues about equal pay",
            [
                (
                    "Complete an equal pay audit of every grade by sex, age and disability",
                    "HR Manager",
                    "31 January 2026",
                    "at-risk",
                    ["age", "sex", "disability"],
                    ["advance", "eliminate"],
                ),
            ],
        ),
    ],
    "tunbridge-wells": [
        (
            "community-leader",
            "Record, monitor and respond to hate incidents",
            [
                (
                    "Agree a shared hate incident reporting form with the West Kent partners",
                    "Community Safety Manager",
                    "TBC",
                    "not-started",
                    [ALL_CHARACTERISTICS],
                    ["eliminate", "foster"],
                ),
            ],
        ),
        (
            "service-provider",
            "Adapt our services and direct people more easily between services",
            [
                (
                    "Train Gateway staff to refer customers between services in one visit",
                    "Customer Services Manager",
                    "30 September 2026",
                    "on-target",
                    [ALL_CHARACTERISTICS],
                    ["advance"],
                ),
                (
                    "Test the new website with residents who use screen readers",
                    "Web Manager",
                    "31 March 2026",
                    "complete",
                    ["disability"],
                    ["advance"],
                ),
            ],
        ),
    ],
}


# The words of the West Kent joint aim each demonstration objective serves.
AIM_WORDS = {
    "Make our events and activities open to all and raise awareness": "events and activities",
    "Record, monitor and respond to hate incidents": "'hate' incidents",
    "Improve the way we give information": "improve the way we give information",
    "Identify and deal with physical barriers to our services": "physical barriers",
    "Adapt our services and direct people more easily between services": "adapt our services",
    "Establish the extent and nature of any issues about equal pay": "equal pay",
}


def _tenant(slug: str) -> Tenant | None:
    return db.session.scalar(select(Tenant).where(Tenant.slug == slug))


def _has_plan() -> bool:
    return bool(db.session.scalar(select(func.count(Objective.id))))


def _role_area(
    position: int,
    role: str,
    number: str = "",
    title: str = "",
    text: str = "",
    is_demo: bool = False,
) -> FocusArea:
    area = FocusArea(
        position=position,
        number=number,
        title=title or ROLES[role],
        role=role,
        description=text,
        is_demo=is_demo,
    )
    db.session.add(area)
    db.session.flush()
    return area


def _load_maidstone() -> str:
    now = clock.utcnow()
    areas = {}
    for position, (role, number, title, statement) in enumerate(MAIDSTONE_ROLES, start=1):
        areas[role] = _role_area(position, role, number, title, statement)
    count = 0
    for position, (role, title, tasks, officer, measures, deliver_by) in enumerate(
        MAIDSTONE, start=1
    ):
        objective = Objective(
            position=position,
            title=title,
            focus_area_id=areas[role].id,
            created_at=now,
            updated_at=now,
        )
        db.session.add(objective)
        db.session.flush()
        for number, task in enumerate(tasks, start=1):
            db.session.add(
                Action(
                    objective_id=objective.id,
                    position=number,
                    task=task,
                    lead_officer=officer,
                    measures="\n".join(measures),
                    target_text=deliver_by,
                    target_date=parse_target(deliver_by) if deliver_by else None,
                    created_at=now,
                    updated_at=now,
                )
            )
            count += 1
    db.session.commit()
    return f"{len(MAIDSTONE)} objectives, {count} actions added"


def _load_thanet() -> str:
    now = clock.utcnow()
    areas = {}
    for position, (number, title) in enumerate(THANET_AREAS, start=1):
        area = FocusArea(position=position, number=number, title=title)
        db.session.add(area)
        areas[number] = area
    db.session.flush()
    points = thanet_points()
    for number, title, description in points:
        area = areas[number.split(".")[0]]
        area.points.append(
            FocusPoint(
                position=int(number.split(".")[1]),
                number=number,
                title=title,
                description=description,
            )
        )
    objective = Objective(position=1, title=THANET_OBJECTIVE, created_at=now, updated_at=now)
    db.session.add(objective)
    db.session.flush()
    rows = thanet_rows()
    for position, row in enumerate(rows, start=1):
        target = row["Target Completion Date"]
        action = Action(
            objective_id=objective.id,
            position=position,
            task=row["Objective/Task"],
            arising_from=row["Arising from"],
            lead_officer=row["Lead Officer"],
            directorate=row["Directorate"],
            section=row["Section"],
            target_text=target,
            target_date=THANET_TARGET_DATES.get(target) or parse_target(target),
            status=THANET_STATUSES[row["Status"]],
            corporate_priority=row["CP Priority"],
            eflg_criteria=row["EFLG Criteria"],
            created_at=now,
            updated_at=now,
        )
        action.psed_aims = list(PSED_AIMS) if row["PSED Aim"] == "All" else []
        action.characteristics = [ALL_CHARACTERISTICS] if row["PC"] == "All" else []
        db.session.add(action)
    db.session.commit()
    return f"{len(THANET_AREAS)} focus areas, {len(points)} focus points, {len(rows)} actions added"


def _aim_for(words: str):
    """The tenant's published joint aim whose text contains ``words``, if any."""
    from portal.actions.services import joint_aims_for_tenant

    for aim, _partnership in joint_aims_for_tenant():
        if words.lower() in aim.text.lower():
            return aim
    return None


def _load_west_kent(slug: str) -> str:
    from portal.actions.models import ActionJointAim

    now = clock.utcnow()
    areas: dict[str, FocusArea] = {}
    count = 0
    for position, (role, title, actions) in enumerate(WEST_KENT_DEMO[slug], start=1):
        if role not in areas:
            areas[role] = _role_area(len(areas) + 1, role, is_demo=True)
        objective = Objective(
            position=position,
            title=title,
            focus_area_id=areas[role].id,
            is_demo=True,
            created_at=now,
            updated_at=now,
        )
        db.session.add(objective)
        db.session.flush()
        for number, (task, officer, target, status, characteristics, aims) in enumerate(
            actions, start=1
        ):
            action = Action(
                objective_id=objective.id,
                position=number,
                task=task,
                lead_officer=officer,
                target_text=target,
                target_date=parse_target(target),
                status=status,
                is_demo=True,
                created_at=now,
                updated_at=now,
            )
            action.characteristics = characteristics
            action.psed_aims = aims
            db.session.add(action)
            db.session.flush()
            aim = _aim_for(AIM_WORDS.get(title, title))
            if aim is not None:
                db.session.add(ActionJointAim(action_id=action.id, joint_aim_id=aim.id))
            count += 1
    db.session.commit()
    return f"{count} demonstration actions added"


LOADERS = {
    "maidstone": _load_maidstone,
    "thanet": _load_thanet,
    **{slug: (lambda s=slug: _load_west_kent(s)) for slug in WEST_KENT_DEMO},
}


# Who follows each action up in the portal: the demonstration person whose job the
# action's lead officer is. The lead-officer text stays as the plan wrote it; the link
# puts the action in that person's "My actions". An action whose lead officer no
# demonstration person stands for (a named manager of another service, "TBC") is left
# without one. Each rule is a word or name the lead-officer text contains.
DEMO_LEADS = {
    "maidstone": [("Equalities and Corporate Policy Officer", "officer")],
    "thanet": [("Claire Grant", "officer")],
    "sevenoaks": [("Communities Manager", "officer"), ("Community Safety", "caseworker")],
    "tonbridge-malling": [("Policy Officer", "officer")],
    "tunbridge-wells": [
        ("Customer Services Manager", "officer"),
        ("Community Safety", "caseworker"),
    ],
}


def _link_demo_people(slug: str) -> int:
    """Link the tenant's actions to the demonstration people who lead them (see
    DEMO_LEADS), where no person is linked yet. Returns how many were linked."""
    from portal.auth.models import User

    linked = 0
    for words, local in DEMO_LEADS.get(slug, []):
        person = db.session.scalar(select(User).where(User.email == f"{local}@{slug}.demo"))
        if person is None:
            continue
        for action in db.session.scalars(
            select(Action).where(Action.lead_user_id.is_(None), Action.lead_officer.contains(words))
        ):
            action.lead_user_id = person.id
            linked += 1
    db.session.commit()
    return linked


def load_demo() -> Iterator[str]:
    """Add the seed plans' objectives and actions to tenants that have none yet, and link
    actions to the demonstration people who lead them."""
    for slug, loader in LOADERS.items():
        tenant = _tenant(slug)
        if tenant is None:
            continue
        with tenant_scope(tenant):
            if _has_plan():
                yield f"actions: {slug} already has objectives"
            else:
                yield f"actions: {slug}: {loader()}"
            linked = _link_demo_people(slug)
            if linked:
                yield f"actions: {slug}: {linked} linked to demonstration people"
