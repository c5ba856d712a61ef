"""Where the report's returns come from: members' signed-off annual returns.

The report reads each member's frozen snapshot (:class:`portal.returns.models.ReturnSnapshot`,
whose docstring documents its JSON), never the member's live data. :func:`normalise` turns
a snapshot into the shape :mod:`portal.reports.content` lays out: every count stays as it
was released, with the rule it was released under.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from portal.partners.models import Partnership
from portal.reports.content import QUARTERS, Submission

PAY_GAP = {
    "mean_hourly": "mean_hourly_gap",
    "median_hourly": "median_hourly_gap",
    "mean_bonus": "mean_bonus_gap",
    "median_bonus": "median_bonus_gap",
    "bonus_men": "bonus_men",
    "bonus_women": "bonus_women",
}
QUARTILES = {
    "lower": "Lower",
    "lower_middle": "Lower middle",
    "upper_middle": "Upper middle",
    "upper": "Upper",
}


def submissions(partnership: Partnership, year: str) -> list[Submission]:
    """The partnership's members' signed-off returns for ``year``, in member order."""
    from portal.returns import services as returns

    reporting_year = returns.find_year(partnership, year)
    if reporting_year is None:
        return []
    snapshots = returns.signed_off_returns(reporting_year)
    images = returns.snapshot_images(snapshots)
    return [
        Submission(
            s.tenant.slug,
            s.tenant.name,
            normalise(s.content),
            s.sha256,
            {i.position: (i.content_type, i.data) for i in images.get(s.id, [])},
        )
        for s in snapshots
    ]


def _label(key: str) -> str:
    return key.replace("_", " ").replace("-", " ").capitalize()


def _percentages(table: Mapping | None) -> dict[str, float | None]:
    """Each category's share of the released total, from released counts only."""
    if not table:
        return {}
    status, total = table["total"]
    out = {}
    for key, _status, value in table["cells"]:
        if value is None or total in (None, 0) or status == "withheld":
            out[key] = None
        else:
            out[key] = round(100 * value / total, 1)
    return out


def normalise(content: Mapping[str, Any]) -> dict:
    """A ``ReturnSnapshot.content`` in the report's shape."""
    aims = [
        {
            "reference": f"Aim {index}",
            "title": aim.get("text", ""),
            "narrative": aim.get("narrative", ""),
            "actions": {
                "by_status": dict(aim.get("actions", {}).get("by_status", {})),
                "overdue": aim.get("actions", {}).get("overdue", 0),
                "completed_in_year": aim.get("actions", {}).get("completed_in_year", 0),
            },
            "highlights": [h.get("text", "") for h in aim.get("highlights", []) if h.get("text")],
        }
        for index, aim in enumerate(content.get("aims", []), start=1)
    ]
    commitments = [
        {"title": c.get("text", ""), "progress": c.get("narrative", "")}
        for c in content.get("commitments", [])
    ]
    measures = []
    for m in content.get("measures", []):
        measures.append(
            {
                "measure": m.get("name", ""),
                "period": m.get("period", ""),
                "unit": m.get("unit", "count"),
                "tables": m.get("released") or None,
                "rule": m.get("rule"),
                "value": m.get("value"),
                "reason": m.get("missing_reason") or "",
            }
        )
    workforce = content.get("workforce") or {}
    profile = []
    for item in workforce.get("profile", []):
        shares = _percentages(item.get("released"))
        community = item.get("community") or {}
        for category in dict.fromkeys([*shares, *community]):
            if category == "":
                continue
            profile.append(
                {
                    "characteristic": item.get("label", ""),
                    "category": category,
                    "workforce": shares.get(category),
                    "community": community.get(category),
                }
            )
    gap = workforce.get("gender_pay_gap")
    pay_gap = None
    if gap:
        pay_gap = {ours: gap.get(theirs) for ours, theirs in PAY_GAP.items()}
        pay_gap["snapshot_date"] = gap.get("snapshot_date", "")
        pay_gap["quartiles"] = [
            {"quartile": label, **(gap.get("quartiles", {}).get(key) or {})}
            for key, label in QUARTILES.items()
        ]
    assessments = content.get("assessments") or {}
    incidents = content.get("hate_incidents") or {}
    cells, rule = [], None
    quarter_totals = []
    for index, (quarter, tables) in enumerate((incidents.get("released") or {}).items()):
        if index >= len(QUARTERS) or not tables:
            continue
        rule = rule or (incidents.get("rules") or {}).get(quarter)
        for name, table in tables.items():
            motivation = name.split(":", 1)[-1]
            for key, status, value in table["cells"]:
                if key == motivation:
                    cells.append([[_label(motivation), QUARTERS[index]], status, value])
        first = next(iter(tables.values()))
        quarter_totals.append([QUARTERS[index], *first["total"]])
    incident_table = None
    if cells:
        incident_table = {"cells": cells, "unrecorded": ["zero", 0], "total": ["withheld", None]}
    return {
        "aims": aims,
        "commitments": commitments,
        "measures": measures,
        "workforce": {
            "date": (gap or {}).get("snapshot_date", ""),
            "profile": profile,
            "pay_gap": pay_gap,
        },
        "eqia": {
            "completed_cell": assessments.get("completed"),
            "published_cell": assessments.get("published"),
            "rule": assessments.get("rule"),
            "published": [
                {"title": p.get("title", ""), "url": p.get("url", "")}
                for p in assessments.get("published_links", [])
            ],
        },
        "incidents": {
            "period": (content.get("year") or {}).get("label", ""),
            "table": incident_table,
            "rule": rule,
            "quarter_totals": quarter_totals,
        },
        "case_studies": [
            {"title": c.get("title", ""), "text": c.get("text", ""), "image": c.get("image")}
            for c in content.get("case_studies", [])
        ],
        "priorities": [p for p in (content.get("priorities") or "").split("\n\n") if p.strip()]
        if isinstance(content.get("priorities"), str)
        else list(content.get("priorities") or []),
        "sign_off": dict(content.get("sign_off") or {}),
    }
