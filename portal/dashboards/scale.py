"""Synthetic national-scale data, for measuring the dashboards: ``flask demo scale``.

Fills a database of its own with one partnership of many members ("Synthetic national
network"), each with objectives, actions linked to the joint aims, measures with a
figure for every category of every year, community profiles and the releases of the
joint measures. Everything is named and flagged as synthetic scale-test data. Rows are
written with bulk INSERTs, a member at a time under that member's own scope, so the
tenancy walls and row-level security hold while it loads.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, timedelta

from sqlalchemy import func, insert, select

from portal import audit, clock
from portal.actions.models import STATUSES, Action, ActionJointAim, Objective
from portal.aims.models import JointAim, PartnershipRole, PlanPeriod
from portal.disclosure import DEFAULT_RULE, release_table, table_to_data
from portal.extensions import db
from portal.monitoring import categories
from portal.monitoring.models import (
    CommunityProfile,
    FigureRelease,
    Measure,
    MeasureDefinition,
    MeasureValue,
    PopulationFigure,
)
from portal.partners.models import Partnership, Tenant, partnership_member
from portal.tenancy import partnership_scope, tenant_scope

SLUG_PREFIX = "scale-"
PARTNERSHIP_SLUG = "scale-network"
MARK = "(synthetic scale-test data)"
ACTIONS_PER_MEMBER = 500
OBJECTIVES_PER_MEMBER = 10
JOINT_MEASURES = 10
# Each member's figures per year: the joint measures plus its own measures, each broken
# down by a characteristic, until a year holds about this many figures.
FIGURES_PER_YEAR = 500


class ScaleRefused(RuntimeError):
    """The database is not one to fill with synthetic data."""


def check_database(*, allow_existing: bool) -> None:
    """Refuse a database that holds organisations other than synthetic ones, or already
    holds synthetic ones, unless ``allow_existing``."""
    slugs = list(db.session.scalars(select(Tenant.slug)))
    others = [s for s in slugs if not s.startswith(SLUG_PREFIX)]
    if others and not allow_existing:
        raise ScaleRefused(
            f"this database holds {len(others)} real or demonstration organisations "
            f"(for example '{others[0]}'): point DATABASE_URL at an empty database of its "
            "own, or pass --into-this-database to add synthetic data beside them"
        )
    if len(slugs) > len(others):
        raise ScaleRefused("this database already holds synthetic scale-test data")


def _characteristics() -> list[categories.Characteristic]:
    return list(categories.CHARACTERISTICS.values())


def fill(tenants: int, years: int, *, seed: int = 2026) -> Iterator[str]:
    """Add the synthetic partnership and ``tenants`` members with ``years`` of data."""
    rng = random.Random(seed)  # noqa: S311 - synthetic figures
    now = clock.utcnow()
    first_year = now.year - years
    last_year = now.year - 1
    chars = _characteristics()

    partnership = Partnership(
        slug=PARTNERSHIP_SLUG,
        name=f"Synthetic national network {MARK}",
        description=f"Invented members and figures for measuring the portal at scale {MARK}.",
    )
    db.session.add(partnership)
    db.session.flush()
    # The joint aims and joint measures belong to the partnership: they are written
    # inside its scope, and what the members need of them is kept as plain values so
    # nothing of the partnership's is left in the session once the scope closes.
    with partnership_scope(partnership):
        plan = PlanPeriod(
            partnership_id=partnership.id,
            start_year=first_year,
            end_year=last_year,
            title=f"Synthetic joint aims {MARK}",
            is_demo=True,
            created_at=now,
            updated_at=now,
        )
        db.session.add(plan)
        db.session.flush()
        aims = []
        for r in range(3):
            role = PartnershipRole(
                partnership_id=partnership.id, period_id=plan.id, position=r, name=f"Role {r + 1}"
            )
            db.session.add(role)
            db.session.flush()
            for a in range(3):
                aim = JointAim(
                    partnership_id=partnership.id,
                    role_id=role.id,
                    position=a,
                    text=f"Synthetic joint aim {r * 3 + a + 1} {MARK}",
                )
                db.session.add(aim)
                aims.append(aim)
        definitions = []
        for n in range(JOINT_MEASURES):
            c = chars[n % len(chars)]
            definition = MeasureDefinition(
                partnership_id=partnership.id,
                name=f"Synthetic joint count {n + 1} by {c.label.lower()} {MARK}",
                unit="count",
                period_type="year",
                breakdown=c.key,
                first_year=first_year,
                last_year=last_year,
            )
            db.session.add(definition)
            definitions.append(definition)
        db.session.flush()
        aim_ids = [a.id for a in aims]

        shapes = [(d.id, d.name, d.breakdown) for d in definitions]
        db.session.commit()

    members = [
        Tenant(
            slug=f"{SLUG_PREFIX}{i:04d}",
            name=f"Synthetic council {i:04d} {MARK}",
            kind="district-council",
            alternative_formats="Synthetic: phone 01632 960000.",
        )
        for i in range(1, tenants + 1)
    ]
    db.session.add_all(members)
    db.session.flush()
    db.session.execute(
        insert(partnership_member),
        [{"partnership_id": partnership.id, "tenant_id": t.id} for t in members],
    )
    audit.record(
        "scale.loaded",
        partnership,
        detail={"tenants": tenants, "years": years, "note": "synthetic scale-test data"},
    )
    db.session.commit()
    yield f"partnership {PARTNERSHIP_SLUG}: {tenants} synthetic members"

    # The measures every member keeps: the joint ones, then its own, until a year holds
    # about FIGURES_PER_YEAR figures.
    cells = sum(1 + len(categories.characteristic(b).categories) for _, _, b in shapes)
    n = 0
    while cells < FIGURES_PER_YEAR:
        c = chars[n % len(chars)]
        shapes.append((None, f"Synthetic own count {n + 1} by {c.label.lower()} {MARK}", c.key))
        cells += 1 + len(c.categories)
        n += 1
    year_keys = [str(y) for y in range(first_year, last_year + 1)]
    statuses = [*STATUSES, None]
    totals = {"figures": 0, "actions": 0, "releases": 0}
    for index, member in enumerate(members, start=1):
        with tenant_scope(member):
            _fill_member(member, now, rng, shapes, year_keys, aim_ids, statuses, totals)
            db.session.commit()
        if index % 50 == 0 or index == len(members):
            yield (
                f"members: {index} of {len(members)} ({totals['figures']:,} figures, "
                f"{totals['actions']:,} actions, {totals['releases']:,} releases)"
            )


def _fill_member(member, now, rng, shapes, year_keys, aim_ids, statuses, totals) -> None:
    objective_ids = db.session.scalars(
        insert(Objective).returning(Objective.id),
        [
            {
                "tenant_id": member.id,
                "number": o + 1,
                "position": o,
                "title": f"Synthetic objective {o + 1} {MARK}",
                "is_demo": True,
                "is_published": o < 3,
                "created_at": now,
                "updated_at": now,
                "version": 1,
            }
            for o in range(OBJECTIVES_PER_MEMBER)
        ],
    ).all()
    start = date(int(year_keys[0]), 4, 1)
    action_ids = db.session.scalars(
        insert(Action).returning(Action.id),
        [
            {
                "tenant_id": member.id,
                "number": a + 1,
                "objective_id": objective_ids[a % len(objective_ids)],
                "position": a,
                "task": f"Synthetic action {a + 1} {MARK}",
                "target_date": start + timedelta(days=rng.randrange(365 * len(year_keys))),
                "status": rng.choice(statuses),
                "is_demo": True,
                "created_at": now,
                "updated_at": now,
                "version": 1,
            }
            for a in range(ACTIONS_PER_MEMBER)
        ],
    ).all()
    db.session.execute(
        insert(ActionJointAim),
        [
            {"tenant_id": member.id, "action_id": i, "joint_aim_id": aim_ids[k % len(aim_ids)]}
            for k, i in enumerate(action_ids)
        ],
    )
    totals["actions"] += len(action_ids)

    profile_id = db.session.scalar(
        insert(CommunityProfile).returning(CommunityProfile.id),
        [
            {
                "tenant_id": member.id,
                "source": f"Synthetic community profile {MARK}",
                "loaded_at": now,
            }
        ],
    )
    profile = []
    community: dict[str, list[float]] = {}
    for c in _characteristics():
        weights = [rng.uniform(0.5, 3) for _ in c.categories]
        community[c.key] = weights
        people = rng.randrange(50_000, 200_000)
        for category, w in zip(c.categories, weights, strict=True):
            profile.append(
                {
                    "tenant_id": member.id,
                    "profile_id": profile_id,
                    "characteristic": c.key,
                    "category": category,
                    "value": int(people * w / sum(weights)),
                    "source": "synthetic",
                }
            )
    db.session.execute(insert(PopulationFigure), profile)

    measures = db.session.scalars(
        insert(Measure).returning(Measure.id),
        [
            {
                "tenant_id": member.id,
                "number": m + 1,
                "definition_id": definition_id,
                "name": name,
                "unit": "count",
                "period_type": "year",
                "breakdown": breakdown,
                "allows_negative": False,
                "description": "",
                "source": f"Synthetic {MARK}",
                "first_year": int(year_keys[0]),
                "last_year": int(year_keys[-1]),
                "is_demo": True,
                "created_at": now,
                "updated_at": now,
                "version": 1,
            }
            for m, (definition_id, name, breakdown) in enumerate(shapes)
        ],
    ).all()
    values = []
    releases = []
    for measure_id, (definition_id, _name, breakdown) in zip(measures, shapes, strict=True):
        c = categories.characteristic(breakdown)
        weights = community[breakdown]
        for year in year_keys:
            size = rng.randrange(0, 400)
            parts = {
                cat: int(size * w / sum(weights) * rng.uniform(0.6, 1.4))
                for cat, w in zip(c.categories, weights, strict=True)
            }
            total = sum(parts.values())
            values.append(_value(member, measure_id, year, "", total, now))
            values.extend(_value(member, measure_id, year, k, v, now) for k, v in parts.items())
            # The joint measures' figures were released, as a signed-off return releases
            # them, for every year but the latest.
            if definition_id is not None and year != year_keys[-1]:
                table = release_table(parts, total, DEFAULT_RULE)
                releases.append(
                    {
                        "tenant_id": member.id,
                        "definition_id": definition_id,
                        "period": year,
                        "version": 1,
                        "threshold": DEFAULT_RULE.threshold,
                        "rounding": DEFAULT_RULE.rounding,
                        "released_at": now,
                        "trigger": "sign-off",
                        "trigger_detail": f"synthetic annual return {MARK}"[:200],
                        "tables": {breakdown: table_to_data(table)},
                    }
                )
    db.session.execute(insert(MeasureValue), values)
    if releases:
        db.session.execute(insert(FigureRelease), releases)
    totals["figures"] += len(values)
    totals["releases"] += len(releases)


def _value(member, measure_id, period, category, value, now) -> dict:
    return {
        "tenant_id": member.id,
        "measure_id": measure_id,
        "period": period,
        "category": category,
        "value": value,
        "is_demo": True,
        "updated_at": now,
    }


def counts() -> dict[str, int]:
    """How much synthetic data there is (for the bench's report)."""
    return {
        "members": db.session.scalar(
            select(func.count()).select_from(Tenant).where(Tenant.slug.startswith(SLUG_PREFIX))
        )
    }
