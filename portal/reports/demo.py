"""Demonstration returns, shaped as a signed-off return's frozen snapshot.

The figures are invented (and marked as demonstration data wherever they are shown); the
counts are released under the rule given, exactly as sign-off releases a return's counts.
They serve the demonstration data, ``make bench`` and the tests.
"""

from __future__ import annotations

import hashlib
import json
import random

from portal.disclosure import (
    DEFAULT_RULE,
    Rule,
    cell_to_data,
    release_count,
    release_table,
    release_tables,
    table_to_data,
)
from portal.reports.content import QUARTERS, Submission

AIMS = (
    ("A1", "Know our communities and use that knowledge to shape services"),
    ("A2", "Make our services accessible to everybody who needs them"),
    ("A3", "Be fair employers with a workforce that reflects our communities"),
)
STATUSES = ("Not started", "In progress", "Completed", "Overdue")
MOTIVATIONS = ("Race", "Religion or belief", "Sexual orientation", "Disability", "Transgender")
AGE_BANDS = ("16 to 24", "25 to 44", "45 to 64", "65 and over")
SEXES = ("Female", "Male")


def sample_snapshot(name: str, seed: int, year: str, rule: Rule = DEFAULT_RULE) -> dict:
    """A full return for ``name`` with figures from ``seed``."""
    rng = random.Random(seed)  # noqa: S311 - invented figures, not secrets
    first = int(year[:4])
    by_age = {band: rng.randint(0, 160) for band in AGE_BANDS}
    total = sum(by_age.values()) + rng.randint(0, 12)
    by_sex_raw = [rng.randint(0, total // 2) for _ in SEXES]
    by_sex = dict(zip(SEXES, by_sex_raw, strict=True))
    released = release_tables([({}, total), (by_age, total), (by_sex, total)], rule)
    satisfaction = {"": released[0], "Age": released[1], "Sex": released[2]}
    incidents = {
        (m, q): rng.choice((0, 0, 1, 3, 6, 9, 14, 22)) for m in MOTIVATIONS for q in QUARTERS
    }
    incident_table = table_to_data(release_table(incidents, rule=rule))
    incident_table["cells"] = [
        [list(key), status, value] for key, status, value in incident_table["cells"]
    ]
    profile = []
    for characteristic, categories in (
        ("Sex", SEXES),
        ("Ethnicity", ("White British", "Other White", "Asian", "Black", "Mixed", "Other")),
        ("Disability", ("Disabled", "Not disabled")),
    ):
        shares = [rng.random() + 0.1 for _ in categories]
        community = [rng.random() + 0.1 for _ in categories]
        for category, share, comm in zip(categories, shares, community, strict=True):
            profile.append(
                {
                    "characteristic": characteristic,
                    "category": category,
                    "workforce": round(100 * share / sum(shares), 1),
                    "community": round(100 * comm / sum(community), 1),
                }
            )
    snapshot = {
        "demonstration": True,
        "aims": [
            {
                "reference": reference,
                "title": title,
                "narrative": f"Demonstration narrative: {name} worked with partners on this aim "
                "through the year.\n\nProgress was reviewed each quarter by the monitoring group.",
                "actions": {
                    "by_status": {s: rng.randint(0, 9) for s in STATUSES},
                    "overdue": rng.randint(0, 3),
                    "completed_in_year": rng.randint(0, 8),
                },
                "highlights": [f"Demonstration highlight for {reference} from {name}."],
            }
            for reference, title in AIMS
        ],
        "commitments": [
            {"title": f"Demonstration commitment {n}", "progress": "On track (demonstration)."}
            for n in range(1, 4)
        ],
        "measures": [
            {
                "measure": "Residents satisfied with services",
                "period": year,
                "unit": "count",
                "tables": {k: table_to_data(t) for k, t in satisfaction.items()},
            }
        ],
        "workforce": {
            "date": f"31 March {first + 1}",
            "profile": profile,
            "pay_gap": {
                "snapshot_date": f"31 March {first + 1}",
                "mean_hourly": round(rng.uniform(-5, 15), 1),
                "median_hourly": round(rng.uniform(-5, 15), 1),
                "mean_bonus": round(rng.uniform(0, 30), 1),
                "median_bonus": round(rng.uniform(0, 30), 1),
                "bonus_men": round(rng.uniform(0, 20), 1),
                "bonus_women": round(rng.uniform(0, 20), 1),
                "quartiles": [
                    {
                        "quartile": q,
                        "men": (m := round(rng.uniform(30, 70), 1)),
                        "women": round(100 - m, 1),
                    }
                    for q in ("Lower", "Lower middle", "Upper middle", "Upper")
                ],
            },
        },
        "eqia": {
            "completed_cell": cell_to_data(release_count(rng.randint(1, 30), rule)),
            "published_cell": cell_to_data(release_count(rng.randint(0, 12), rule)),
            "published": [
                {"title": "Demonstration assessment: library opening hours", "url": "/public/"}
            ],
        },
        "incidents": {"period": year, "table": incident_table},
        "case_studies": [
            {
                "title": "Demonstration case study",
                "text": f"An invented story of {name}'s work with a community group.",
            }
        ],
        "priorities": [f"Demonstration priority for {first + 1}-{(first + 2) % 100:02d}."],
        "sign_off": {
            "name": f"Chief executive of {name}",
            "role": "Chief Executive",
            "date": f"{first + 1}-05-20",
        },
    }
    return snapshot


def sample_submissions(count: int, year: str = "2024-25", rule: Rule = DEFAULT_RULE):
    """``count`` members, each with a full signed-off return."""
    out = []
    for n in range(1, count + 1):
        name = f"Demonstration member {n:02d}"
        snapshot = sample_snapshot(name, n, year, rule)
        digest = hashlib.sha256(json.dumps(snapshot, sort_keys=True).encode()).hexdigest()
        out.append(Submission(f"member-{n:02d}", name, snapshot, digest))
    return out


# --- the demonstration data -----------------------------------------------------------------

DEMO_YEAR = 2024
FOREWORD = (
    "Demonstration foreword: this report is made from demonstration returns and invented "
    "figures, to show how a joint annual report reads. It is not from any source document."
)
SUMMARY = (
    "Demonstration summary: the members worked together on the joint aims through the "
    "year, and each member's signed-off return is summarised below."
)


def load_demo():
    """Each demonstration partnership's 2024-25: every member's return signed off, and the
    joint report published as version 1 (built by the job queue)."""
    from datetime import date

    from sqlalchemy import select

    from portal.auth.models import User
    from portal.extensions import db
    from portal.partners.models import Partnership
    from portal.reports import services
    from portal.returns import demo as returns_demo
    from portal.returns import services as returns
    from portal.returns import signoff
    from portal.returns.models import SECTIONS
    from portal.tenancy import partnership_scope, tenant_scope

    label = f"{DEMO_YEAR}-{(DEMO_YEAR + 1) % 100:02d}"

    def one(partnership: Partnership) -> str:
        """The year's returns signed off and the report published, inside the
        partnership's scope (reporting years and reports are partnership-owned)."""
        slug = partnership.slug
        if returns.find_year(partnership, label):
            return f"reports: {slug} already has {label}"
        year = returns.open_year(
            partnership,
            start_year=DEMO_YEAR,
            deadline=date(DEMO_YEAR + 1, 5, 31),
            publication_target=date(DEMO_YEAR + 1, 7, 31),
            is_demo=True,
            notify=False,
        )
        for member in partnership.members:
            with tenant_scope(member):
                ret = returns_demo.fill_return(year, member, list(SECTIONS))
                signoff.send_for_sign_off(ret, notify=False)
                ceo = db.session.scalar(select(User).where(User.email == f"ceo@{member.slug}.demo"))
                signoff.freeze(
                    ret,
                    user=ceo,
                    name=ceo.name if ceo else "Chief Executive",
                    role="Chief Executive",
                )
        report = services.report_for(partnership, label)
        report.foreword, report.summary, report.is_demo = FOREWORD, SUMMARY, True
        db.session.commit()
        lead = db.session.scalar(select(User).where(User.email == f"lead@{slug}.demo"))
        if lead is None:
            return f"reports: {slug} {label} returns signed off; no lead to publish the report"
        services.start_publication(partnership, report, lead)
        return f"reports: {slug} {label} signed off and the joint report published"

    for slug in ("west-kent", "kent-network"):
        partnership = db.session.scalar(select(Partnership).where(Partnership.slug == slug))
        if partnership is None:
            continue
        with partnership_scope(partnership):
            message = one(partnership)
        yield message
