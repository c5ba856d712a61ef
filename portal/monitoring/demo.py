"""Demonstration measures and figures, and the real Census 2021 community profiles.

The measures are those the source documents name (West Kent's "How will we measure our
results?", Gentoo's KPIs, Maidstone's objectives); their figures are invented, marked as
demonstration data, and the same on every load. Community profiles are the Census 2021
figures copied into portal/monitoring/data/ with their sources; an organisation whose
area has no such figures (West Kent Housing Association) gets none.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import func, select

from portal.extensions import db
from portal.monitoring import catalogue, figures, joint, measures, periods, profiles
from portal.monitoring.models import Measure, MeasureDefinition
from portal.partners.models import Partnership, Tenant
from portal.tenancy import partnership_scope, tenant_scope

DATA = Path(__file__).parent / "data"
# The demonstration's current plan periods start in April 2024 (portal/aims/demo.py).
CURRENT_FIRST_YEAR = 2024
CENSUS_FILE = DATA / "census2021_districts.csv"
CENSUS_SOURCE = (
    "Census 2021, Office for National Statistics: {area} ({code}). Tables TS002 legal "
    "partnership status, TS009 sex, TS021 ethnic group, TS030 religion, TS038 disability, "
    "TS077 sexual orientation and gender identity (official statistics in development); "
    "population and broad age groups from the first results, rounded to the nearest 100. "
    "Contains public sector information licensed under the Open Government Licence v3.0."
)
CENSUS_AREAS = {
    "sevenoaks": "E07000111",
    "tonbridge-malling": "E07000115",
    "tunbridge-wells": "E07000116",
    "maidstone": "E07000110",
    "thanet": "E07000114",
    "gentoo": "E08000024",
}

# (definition key, breakdown, size of the typical yearly total)
WEST_KENT = [
    ("hate-incidents-reported", "", 40),
    ("attendance-events-services", "age", 2400),
    ("gender-pay-gap-mean", "", 0),
    ("gender-pay-gap-median", "", 0),
    ("flexible-working", "sex", 160),
    ("flexible-retirement", "sex", 14),
    ("workforce-profile", "ethnic_group", 480),
    ("workforce-profile", "disability", 480),
    ("eqias-completed", "", 30),
    ("eqias-published", "", 24),
]
PLANS = {
    # West Kent Equality Partnership aims 2012–16.
    "sevenoaks": (2012, 2015, WEST_KENT),
    "tonbridge-malling": (2012, 2015, WEST_KENT),
    "tunbridge-wells": (2012, 2015, WEST_KENT),
    "west-kent-housing": (
        2012,
        2015,
        [
            ("complaints", "age", 120),
            ("customer-satisfaction-star", "sex", 0),
            ("workforce-profile", "sex", 300),
            ("eqias-completed", "", 12),
        ],
    ),
    # Maidstone's equalities objectives 2017–21.
    "maidstone": (
        2017,
        2020,
        [
            ("consultation-responses-seldom-heard", "ethnic_group", 90),
            ("workforce-profile", "sex", 520),
            ("workforce-profile", "ethnic_group", 520),
            ("eqias-completed", "", 40),
            ("eqias-published", "", 40),
            ("hate-incidents-reported", "", 60),
        ],
    ),
    # Thanet's corporate plan 2012–16.
    "thanet": (
        2012,
        2015,
        [
            ("consultation-responses-seldom-heard", "age", 70),
            ("workforce-profile", "disability", 600),
            ("hate-incidents-reported", "", 70),
        ],
    ),
    # Gentoo's policy of April 2017, due for review in 2021: its two KPIs.
    "gentoo": (
        2017,
        2020,
        [
            ("customer-satisfaction-star", "ethnic_group", 0),
            ("customer-satisfaction-star", "disability", 0),
            ("complaints", "ethnic_group", 300),
            ("complaints", "disability", 300),
            ("complaints", "age", 300),
        ],
    ),
}

WEST_KENT_AIMS = "West Kent Equality Partnership, Aims 2012–16"
WEST_KENT_HOUSING = "West Kent Housing Association, Equality and Diversity Policy"
MAIDSTONE = "Maidstone Borough Council, Equalities Policy and Objectives 2017–21"
THANET = "Thanet District Council, Equality Objectives Action Plan"
# The document each organisation's measures are attributed to, and its own words for a
# built-in measure that another partner's document named first: a measure belongs to the
# organisation that keeps it, so it never cites another partner's policy as its source.
OWN_DOCUMENT = {
    "sevenoaks": "west-kent",
    "tonbridge-malling": "west-kent",
    "tunbridge-wells": "west-kent",
    "west-kent-housing": "west-kent-housing",
    "maidstone": "maidstone",
    "thanet": "thanet",
    "gentoo": "gentoo",
}
DOCUMENT_NAMES = {
    "west-kent": WEST_KENT_AIMS,
    "west-kent-housing": WEST_KENT_HOUSING,
    "maidstone": MAIDSTONE,
    "thanet": THANET,
    "gentoo": catalogue.GENTOO,
}
_WEST_KENT_EQIAS = (
    f"{WEST_KENT_AIMS}, Delivering our commitments: “We will continue with our programme of "
    "equality impact assessments and work together on these where suitable.”"
)
OWN_WORDS = {
    ("west-kent", "workforce-profile"): f"{WEST_KENT_AIMS}, As an employer: “Select, appoint "
    "and promote individuals only on the basis of merit” (the aims name no workforce measure)",
    ("west-kent", "eqias-completed"): _WEST_KENT_EQIAS,
    ("west-kent", "eqias-published"): _WEST_KENT_EQIAS,
    ("west-kent-housing", "customer-satisfaction-star"): f"{WEST_KENT_HOUSING}, "
    "3. Commitments: “Monitor uptake and user satisfaction of our services by age, "
    "disability, race, religion and faith, sex, and sexual orientation”",
    ("west-kent-housing", "eqias-completed"): f"{WEST_KENT_HOUSING}, 3. Commitments: “Use "
    "equality impact assessments when designing and reviewing services”",
    ("maidstone", "workforce-profile"): f"{MAIDSTONE}, Role 3: As an Employer: “To have a "
    "workforce that feels valued and respected.”",
    ("thanet", "workforce-profile"): f"{THANET}: “It is also important for us to know our "
    "staff, what their needs are and whether our workforce is reflective of the local "
    "community.”",
    ("thanet", "hate-incidents-reported"): f"{THANET}, 2.9 Fostering good relations: “deal "
    "with harassment and hate crimes effectively”",
}


def _source(slug: str, definition: MeasureDefinition) -> str:
    """Where an organisation's demonstration measure comes from, in its own documents."""
    document = OWN_DOCUMENT[slug]
    if definition.source.startswith(DOCUMENT_NAMES[document]):
        return definition.source
    if (document, definition.key) in OWN_WORDS:
        return OWN_WORDS[document, definition.key]
    return (
        "Demonstration measure: the documents of this organisation do not name it. "
        f"The portal's built-in measure is named in {definition.source}"
    )


def _weights(categories: tuple[str, ...], community: dict[str, int] | None, rng) -> list[float]:
    if community and all(community.get(c) for c in categories):
        return [community[c] * rng.uniform(0.7, 1.3) for c in categories]
    return [rng.uniform(0.2, 1.0) for _ in categories]


def _figures(
    measure: Measure, size: int, community, rng, within: list[str] | None = None
) -> list[figures.Cell]:
    cells = []
    c = measure.characteristic
    for period in measure.periods if within is None else within:
        where = periods.label(period)
        if measure.unit == "percentage":
            if measure.allows_negative:
                value = round(rng.uniform(-3.0, 14.0), 1)
            else:
                value = round(rng.uniform(68.0, 92.0), 1)
            cells.append(figures.Cell(period, "", str(value), where))
            for category in c.categories if c else ():
                part = round(value + rng.uniform(-9, 6), 1)
                cells.append(figures.Cell(period, category, str(part), where))
            continue
        share = 0.25 if measure.period_type == periods.QUARTER else 1.0
        total = max(0, round(size * share * rng.uniform(0.7, 1.3)))
        cells.append(figures.Cell(period, "", str(total), where))
        if not c:
            continue
        recorded = round(total * rng.uniform(0.85, 1.0))
        weights = _weights(c.categories, community, rng)
        scale = recorded / sum(weights)
        parts = [int(w * scale) for w in weights]
        for category, part in zip(c.categories, parts, strict=True):
            cells.append(figures.Cell(period, category, str(part), where))
    return cells


def load_demo() -> Iterator[str]:
    """Add the built-in measures, each demonstration organisation's measures and figures,
    and the census community profiles, where they are not there yet."""
    added = catalogue.ensure_catalogue()
    if added:
        yield f"measures: {added} built-in measures added"
    definitions = {d.key: d for d in db.session.scalars(select(MeasureDefinition)) if d.key}
    census = CENSUS_FILE.read_text(encoding="utf-8")
    for slug, (first, last, plan) in PLANS.items():
        tenant = db.session.scalar(select(Tenant).where(Tenant.slug == slug))
        if tenant is None:
            continue
        with tenant_scope(tenant):
            if slug in CENSUS_AREAS and profiles.profile() is None:
                code = CENSUS_AREAS[slug]
                row = profiles.load_profile(
                    tenant,
                    census,
                    source=CENSUS_SOURCE.format(area=_area_name(census, code), code=code),
                    file_name=CENSUS_FILE.name,
                    area=code,
                )
                yield f"community profile: {slug}: {len(row.figures)} Census 2021 figures"
            elif slug not in CENSUS_AREAS:
                yield f"community profile: {slug}: no census figures held, none loaded"
            if db.session.scalar(select(func.count(Measure.id))):
                yield f"measures: {slug} already has measures"
                continue
            tables = profiles.profile_tables(profiles.profile())
            rng = random.Random(f"measures-{slug}")  # noqa: S311 - demonstration figures
            added = []
            for key, breakdown, size in plan:
                measure = measures.add_measure(
                    definition=definitions[key],
                    breakdown=breakdown,
                    first_year=first,
                    last_year=last,
                )
                measure.source = _source(slug, definitions[key])
                cells = _figures(measure, size, tables.get(breakdown), rng)
                figures.save_values(measure, cells, via="demonstration", is_demo=True)
                added.append((measure, size, tables.get(breakdown)))
            yield f"measures: {slug}: {len(plan)} measures with demonstration figures"
            yield from _current_figures(tenant, added)
    yield from _joint_measures()


def _current_years(measure: Measure) -> list[str]:
    """The measure's periods in its current plan period up to the last full year."""
    return [
        p
        for p in measure.periods
        if CURRENT_FIRST_YEAR <= periods.year_of(p) <= periods.last_full_year()
    ]


def _current_figures(tenant: Tenant, added) -> Iterator[str]:
    """Carry the organisation's measures into its current plan period, with figures for
    each year of it that has ended. A separate random stream keeps the earlier years'
    figures the same as before."""
    if not measures.follow_current_period(tenant):
        return
    rng = random.Random(f"measures-{tenant.slug}-current")  # noqa: S311 - demonstration
    for measure, size, community in added:
        within = _current_years(measure)
        if within:
            cells = _figures(measure, size, community, rng, within)
            figures.save_values(measure, cells, via="demonstration", is_demo=True)
    yield f"measures: {tenant.slug}: carried into {measures.current_plan_label(tenant)}"


# Joint measures of each partnership's current plan period (demonstration), each with
# the "How will we measure our results?" answer it serves, and the size of a member's
# yearly figure. A measure with a base counts part of the base's people, so the
# partnership sees the percentage worked out from the two released counts.
JOINT = {
    "west-kent": [
        {
            "key": "clear-asked",
            "name": "Customers asked whether our letters and web pages were clear",
            "answers": "We will check we are using clear and concise language.",
            "size": 600,
        },
        {
            "key": "clear-yes",
            "name": "Customers who found our letters and web pages clear",
            "answers": "We will check we are using clear and concise language.",
            "base": "clear-asked",
            "size": 600,
        },
    ],
    "kent-network": [
        {
            "key": "pages-tested",
            "name": "Main web pages tested with people who use them",
            "answers": "We will test our main web pages with people who use them.",
            "size": 40,
        },
    ],
}
JOINT_NOTE = "Demonstration data: a joint measure made up for the demonstration."


def _joint_measures() -> Iterator[str]:
    """Add each partnership's demonstration joint measures for its current plan period,
    and every member's figures for them, unless the partnership has joint measures."""
    for slug, specs in JOINT.items():
        partnership = db.session.scalar(select(Partnership).where(Partnership.slug == slug))
        if partnership is None:
            continue
        with partnership_scope(partnership):
            yield from _joint_measures_of(partnership, slug, specs)


def _joint_measures_of(partnership: Partnership, slug: str, specs: list[dict]) -> Iterator[str]:
    from portal.aims import services as aims
    from portal.aims.models import AimMeasure, JointAim, PartnershipRole

    if db.session.scalar(joint.joint_measures().limit(1)) is not None:
        yield f"joint measures: {slug} already has joint measures"
        return
    period = aims.current_period(partnership.id)
    if period is None:
        return
    made: dict[str, MeasureDefinition] = {}
    for spec in specs:
        answer = db.session.scalar(
            select(AimMeasure.id)
            .join(JointAim, AimMeasure.aim_id == JointAim.id)
            .join(PartnershipRole, JointAim.role_id == PartnershipRole.id)
            .where(PartnershipRole.period_id == period.id, AimMeasure.text == spec["answers"])
        )
        base = made.get(spec.get("base", ""))
        made[spec["key"]] = joint.add_joint_measure(
            partnership,
            name=spec["name"],
            unit="count",
            period_type=periods.YEAR,
            breakdown="",
            description=JOINT_NOTE,
            first_year=period.start_year,
            last_year=period.end_year - 1,
            aim_measure_id=answer,
            base_id=base.id if base else None,
        )
    for tenant in sorted(partnership.members, key=lambda t: t.slug):
        rng = random.Random(f"joint-{slug}-{tenant.slug}")  # noqa: S311 - demonstration
        with tenant_scope(tenant):
            wholes: dict[str, float] = {}
            for spec in specs:
                measure = joint.start_reporting(made[spec["key"]])
                measure.is_demo = True
                measure.source = (
                    f"Demonstration measure: a joint measure of {partnership.name} for "
                    f"{period.label}, made up for the demonstration"
                )
                cells = []
                for period_key in _current_years(measure):
                    if "base" in spec:
                        value = round(wholes[period_key] * rng.uniform(0.7, 0.92))
                    else:
                        value = round(spec["size"] * rng.uniform(0.7, 1.3))
                        wholes[period_key] = value
                    cells.append(
                        figures.Cell(period_key, "", str(value), periods.label(period_key))
                    )
                figures.save_values(measure, cells, via="demonstration", is_demo=True)
    yield f"joint measures: {slug}: {len(specs)} for {period.label}, with members' figures"


def _area_name(census: str, code: str) -> str:
    for line in census.splitlines():
        if line.startswith(code + ","):
            return line.split(",")[1]
    return code
