"""The report's content: one structure, built once, from which every format is made.

The content is plain JSON (it is stored with each published version and hashed): a title,
the partnership, the year, and a list of sections, each with a heading, a level and blocks.
A block is a paragraph (``p``), a list (``ul``), a table (``table``: caption, column
headings, rows whose first cell is the row's heading), a chart (``chart``: a title, a
text summary, alt text, and the id of the table that holds its data) or a case study's
image (``image``: its id, alt text, caption, type and SHA-256; the bytes stay in the
database and reach the formats through :func:`images_of`). Every figure in the
report is also a row of the data annex (member, measure, period, category, released value,
mark).

Only what has crossed the tenant walls goes in: the frozen snapshots of signed-off returns
and the released tables they carry. Released tables are checked together once more here
(:func:`portal.disclosure.check_linked`): a report sets every table of one member's measure
side by side, so they are decided as one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from portal import disclosure
from portal.disclosure import Rule
from portal.editing import Invalid

QUARTERS = ("Q1", "Q2", "Q3", "Q4")
PERCENT = "percentage"


@dataclass(frozen=True)
class Submission:
    """A member's signed-off return, as the report reads it: the member, the frozen
    snapshot (its JSON, documented in :mod:`portal.reports.sources`) and its case study
    images as signed off, by the case study's place in the list (from 1): (type, bytes)."""

    slug: str
    name: str
    snapshot: Mapping[str, Any]
    sha256: str
    images: Mapping[int, tuple[str, bytes]] = field(default_factory=dict)


def image_id(slug: str, position: int) -> str:
    """The id of a case study image's block, the same in the content and in
    :func:`images_of`."""
    return f"image-{slug}-{position}"


def images_of(submissions: Sequence[Submission]) -> dict[str, tuple[str, bytes]]:
    """Every case study image the report shows, by its block's id: (type, bytes)."""
    return {
        image_id(sub.slug, position): image
        for sub in submissions
        for position, image in sub.images.items()
    }


class ContentError(Invalid):
    """The report cannot be built, for a reason the lead can act on (``field`` None)."""


def content_hash(content: Mapping) -> str:
    """The SHA-256 of the content, over its canonical JSON."""
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _cell_label(status: str, value: int | None, rule: Rule) -> str:
    return disclosure.cell_from_data([status, value], rule).label


def _mark(status: str, rule: Rule) -> str:
    return {
        "zero": "",
        "rounded": f"rounded to the nearest {rule.rounding}",
        "suppressed": f"fewer than {rule.threshold}",
        "withheld": "withheld to protect small counts",
    }[status]


class _Builder:
    def __init__(self, rule: Rule) -> None:
        self.rule = rule
        self.sections: list[dict] = []
        self.annex: list[dict] = []
        self._ids = 0

    def next_id(self, prefix: str) -> str:
        self._ids += 1
        return f"{prefix}-{self._ids}"

    def section(self, heading: str, level: int = 2, blocks: Sequence[dict] = ()) -> dict:
        section = {
            "id": self.next_id("section"),
            "heading": heading,
            "level": level,
            "blocks": list(blocks),
        }
        self.sections.append(section)
        return section

    def count_cell(
        self, member: str, measure: str, period: str, category: str, data, rule=None
    ) -> dict:
        """A released count as a table cell, and its annex row, under the rule it was
        released by (the partnership's when not given)."""
        rule = rule or self.rule
        status, value = data
        self.annex.append(
            {
                "member": member,
                "measure": measure,
                "period": period,
                "category": category,
                "unit": "count",
                "value": value,
                "mark": _mark(status, rule),
            }
        )
        return {"text": _cell_label(status, value, rule), "value": value, "mark": status}

    def percent_cell(self, member: str, measure: str, period: str, category: str, value) -> dict:
        self.annex.append(
            {
                "member": member,
                "measure": measure,
                "period": period,
                "category": category,
                "unit": PERCENT,
                "value": value,
                "mark": "" if value is not None else "not given",
            }
        )
        text = "not given" if value is None else f"{value:.1f}%"
        return {"text": text, "value": value, "mark": "" if value is not None else "missing"}


def _table(builder, caption: str, head: Sequence[str], rows: Sequence[Sequence]) -> dict:
    cells = [[c if isinstance(c, dict) else {"text": str(c)} for c in row] for row in rows]
    return {
        "type": "table",
        "id": builder.next_id("table"),
        "caption": caption,
        "head": list(head),
        "rows": cells,
    }


def _chart(builder, table: dict, title: str, summary: str) -> dict:
    """A bar chart of a table's numeric columns; only numbers released as numbers are drawn."""
    categories = [row[0]["text"] for row in table["rows"]]
    series = []
    for index, name in enumerate(table["head"][1:], start=1):
        series.append({"name": name, "values": [row[index].get("value") for row in table["rows"]]})
    return {
        "type": "chart",
        "id": builder.next_id("chart"),
        "title": title,
        "summary": summary,
        "alt": f"Bar chart: {title}. {summary} The figures are in the table that follows.",
        "categories": categories,
        "series": series,
        "table": table["id"],
    }


def _rule(data: Mapping | None, default: Rule) -> Rule:
    """The rule a table was released under, as stored beside it."""
    if not data:
        return default
    return Rule(int(data["threshold"]), int(data["rounding"]))


def _checked(tables: Mapping[str, Mapping], rule: Rule) -> dict[str, dict]:
    """The member's released tables for one measure, checked side by side."""
    keys = list(tables)
    released = [disclosure.table_from_data(tables[k], rule) for k in keys]
    return {
        key: disclosure.table_to_data(t)
        for key, t in zip(keys, disclosure.check_linked(released), strict=True)
    }


def _aims(builder, submissions: Sequence[Submission]) -> None:
    builder.section("Progress on the joint aims")
    aims: dict[str, dict] = {}
    for sub in submissions:
        for aim in sub.snapshot.get("aims", []):
            entry = aims.setdefault(aim["reference"], {"title": aim["title"], "by": []})
            entry["by"].append((sub, aim))
    for reference, entry in aims.items():
        blocks: list[dict] = []
        statuses = sorted({s for _, aim in entry["by"] for s in aim["actions"]["by_status"]})
        rows = []
        for sub, aim in entry["by"]:
            counts = aim["actions"]
            rows.append(
                [
                    {"text": sub.name},
                    *({"text": str(counts["by_status"].get(s, 0))} for s in statuses),
                    {"text": str(counts["overdue"])},
                    {"text": str(counts["completed_in_year"])},
                ]
            )
        blocks.append(
            _table(
                builder,
                f"Actions linked to aim {reference}, by member and status",
                ["Member", *statuses, "Overdue", "Completed in the year"],
                rows,
            )
        )
        for sub, aim in entry["by"]:
            blocks.append({"type": "h", "level": 4, "text": sub.name})
            blocks.extend({"type": "p", "text": p} for p in _paragraphs(aim["narrative"]))
            if aim.get("highlights"):
                blocks.append({"type": "ul", "items": list(aim["highlights"])})
        builder.section(f"{reference}: {entry['title']}", 3, blocks)


def _paragraphs(text: str) -> list[str]:
    return [p.strip() for p in (text or "").split("\n\n") if p.strip()]


def _measures(builder, submissions: Sequence[Submission]) -> None:
    builder.section("Joint measures")
    by_measure: dict[tuple[str, str], list] = {}
    for sub in submissions:
        for measure in sub.snapshot.get("measures", []):
            by_measure.setdefault((measure["measure"], measure["period"]), []).append(
                (sub, measure)
            )
    for (name, period), entries in by_measure.items():
        blocks: list[dict] = []
        missing = [(s, m) for s, m in entries if not m.get("tables") and m.get("value") is None]
        reported = [
            (s, m) for s, m in entries if not m.get("tables") and m.get("value") is not None
        ]
        breakdowns: dict[str, list] = {}
        for sub, measure in entries:
            if not measure.get("tables"):
                continue
            rule = _rule(measure.get("rule"), builder.rule)
            checked = _checked(measure["tables"], rule)
            for breakdown, data in checked.items():
                breakdowns.setdefault(breakdown, []).append((sub, data, rule))
        for breakdown, rows_in in breakdowns.items():
            categories: list[str] = []
            for _, data, _rule_used in rows_in:
                for key, *_ in data["cells"]:
                    if key not in categories:
                        categories.append(key)
            rows = []
            for sub, data, rule in rows_in:
                cells = {key: [status, value] for key, status, value in data["cells"]}
                row = [{"text": sub.name}]
                for key in categories:
                    if key in cells:
                        row.append(
                            builder.count_cell(sub.name, name, period, key, cells[key], rule)
                        )
                    else:
                        row.append({"text": "not recorded", "value": None, "mark": "missing"})
                if breakdown:
                    row.append(
                        builder.count_cell(
                            sub.name, name, period, "Not recorded", data["unrecorded"], rule
                        )
                    )
                row.append(builder.count_cell(sub.name, name, period, "Total", data["total"], rule))
                rows.append(row)
            head = ["Member", *categories]
            if breakdown:
                head.append("Not recorded")
            head.append("Total")
            by = f" by {breakdown.lower()}" if breakdown else ""
            table = _table(builder, f"{name}{by}, {period}", head, rows)
            if breakdown:
                blocks.append(
                    _chart(
                        builder,
                        {
                            **table,
                            "head": ["Member", *categories],
                            "rows": [r[: 1 + len(categories)] for r in rows],
                        },
                        f"{name}{by}, {period}",
                        _summary(rows, categories),
                    )
                )
            blocks.append(table)
        if reported:
            blocks.append(
                _table(
                    builder,
                    f"{name}, {period}",
                    ["Member", "Figure"],
                    [
                        [
                            {"text": s.name},
                            builder.percent_cell(s.name, name, period, "", m["value"]),
                        ]
                        for s, m in reported
                    ],
                )
            )
        for sub, measure in missing:
            reason = measure.get("reason") or "no reason was given"
            blocks.append({"type": "p", "text": f"{sub.name} gave no figure: {reason}."})
        builder.section(f"{name} ({period})", 3, blocks)


def _summary(rows: Sequence[Sequence[dict]], categories: Sequence[str]) -> str:
    """A sentence on the largest released figure of each member."""
    parts = []
    for row in rows:
        shown = [
            (c.get("value"), categories[i]) for i, c in enumerate(row[1 : 1 + len(categories)])
        ]
        shown = [(v, k) for v, k in shown if v is not None]
        if shown:
            value, key = max(shown)
            parts.append(f"{row[0]['text']}: largest group {key} ({value:,})")
        else:
            parts.append(f"{row[0]['text']}: no figure shown as a number")
    return "; ".join(parts) + "."


def _workforce(builder, submissions: Sequence[Submission]) -> None:
    builder.section("Workforce")
    for sub in submissions:
        workforce = sub.snapshot.get("workforce") or {}
        blocks: list[dict] = []
        profile = workforce.get("profile") or []
        if profile:
            rows = [
                [
                    {"text": f"{p['characteristic']}: {p['category']}"},
                    builder.percent_cell(
                        sub.name,
                        "Workforce profile",
                        workforce.get("date", ""),
                        p["category"],
                        p.get("workforce"),
                    ),
                    builder.percent_cell(
                        sub.name,
                        "Community profile",
                        workforce.get("date", ""),
                        p["category"],
                        p.get("community"),
                    ),
                ]
                for p in profile
            ]
            table = _table(
                builder,
                f"{sub.name}: workforce against the community, per cent",
                ["Group", "Workforce", "Community"],
                rows,
            )
            gaps = sorted(
                (
                    (abs((p.get("workforce") or 0) - (p.get("community") or 0)), p)
                    for p in profile
                    if p.get("workforce") is not None and p.get("community") is not None
                ),
                key=lambda pair: -pair[0],
            )
            summary = "The workforce and community profiles are shown side by side."
            if gaps:
                p = gaps[0][1]
                summary = (
                    f"The widest difference is for {p['category']} ({p['characteristic']}): "
                    f"{p['workforce']:.1f}% of the workforce against {p['community']:.1f}% "
                    "of the community."
                )
            blocks.append(_chart(builder, table, f"{sub.name}: workforce and community", summary))
            blocks.append(table)
        gap = workforce.get("pay_gap")
        if gap:
            period = gap.get("snapshot_date", "")
            figures = [
                ("Mean hourly pay gap", gap.get("mean_hourly")),
                ("Median hourly pay gap", gap.get("median_hourly")),
                ("Mean bonus gap", gap.get("mean_bonus")),
                ("Median bonus gap", gap.get("median_bonus")),
                ("Men paid a bonus", gap.get("bonus_men")),
                ("Women paid a bonus", gap.get("bonus_women")),
            ]
            rows = [
                [
                    {"text": label},
                    builder.percent_cell(sub.name, "Gender pay gap", period, label, v),
                ]
                for label, v in figures
            ]
            blocks.append(
                _table(
                    builder,
                    f"{sub.name}: gender pay gap, snapshot date {period}",
                    ["Figure", "Per cent"],
                    rows,
                )
            )
            quartiles = gap.get("quartiles") or []
            if quartiles:
                rows = [
                    [
                        {"text": q["quartile"]},
                        builder.percent_cell(
                            sub.name, "Pay quartile", period, f"{q['quartile']}: men", q.get("men")
                        ),
                        builder.percent_cell(
                            sub.name,
                            "Pay quartile",
                            period,
                            f"{q['quartile']}: women",
                            q.get("women"),
                        ),
                    ]
                    for q in quartiles
                ]
                blocks.append(
                    _table(
                        builder,
                        f"{sub.name}: men and women in each pay quartile, per cent",
                        ["Quartile", "Men", "Women"],
                        rows,
                    )
                )
        if blocks:
            builder.section(sub.name, 3, blocks)


def _eqia_and_incidents(builder, submissions: Sequence[Submission]) -> None:
    rows = []
    links = []
    for sub in submissions:
        eqia = sub.snapshot.get("eqia") or {}
        rule = _rule(eqia.get("rule"), builder.rule)
        rows.append(
            [
                {"text": sub.name},
                *(
                    builder.count_cell(sub.name, "Impact assessments", "", label, eqia[key], rule)
                    if eqia.get(key)
                    else {"text": "not given", "value": None, "mark": "missing"}
                    for key, label in (
                        ("completed_cell", "Completed"),
                        ("published_cell", "Published"),
                    )
                ),
            ]
        )
        links.extend(f"{sub.name}: {p['title']} ({p['url']})" for p in eqia.get("published", []))
    blocks = [
        _table(
            builder,
            "Equality impact assessments completed and published in the year",
            ["Member", "Completed", "Published"],
            rows,
        )
    ]
    if links:
        blocks.append({"type": "ul", "items": links})
    builder.section("Equality impact assessments", 2, blocks)

    builder.section("Hate incidents")
    for sub in submissions:
        incidents = sub.snapshot.get("incidents") or {}
        table_data = incidents.get("table")
        if not table_data:
            continue
        period = incidents.get("period", "")
        rule = _rule(incidents.get("rule"), builder.rule)
        # Keys are [motivation, quarter] pairs; JSON keeps them as lists.
        keyed = {**table_data, "cells": [[tuple(k), s, v] for k, s, v in table_data["cells"]]}
        checked = disclosure.table_to_data(
            disclosure.check_linked([disclosure.table_from_data(keyed, rule)])[0]
        )
        cells = {tuple(key): [status, value] for key, status, value in checked["cells"]}
        motivations: list[str] = []
        for motivation, _quarter in cells:
            if motivation not in motivations:
                motivations.append(motivation)
        rows = []
        for motivation in motivations:
            row = [{"text": motivation}]
            for quarter in QUARTERS:
                data = cells.get((motivation, quarter), ["zero", 0])
                row.append(
                    builder.count_cell(
                        sub.name, "Hate incidents", f"{period} {quarter}", motivation, data, rule
                    )
                )
            rows.append(row)
        table = _table(
            builder,
            f"{sub.name}: hate incidents by motivation and quarter, {period}",
            ["Motivation", *QUARTERS],
            rows,
        )
        totals = {q: [status, value] for q, status, value in incidents.get("quarter_totals", [])}
        if totals:
            row = [{"text": "All incidents"}]
            for quarter in QUARTERS:
                data = totals.get(quarter, ["zero", 0])
                row.append(
                    builder.count_cell(
                        sub.name,
                        "Hate incidents",
                        f"{period} {quarter}",
                        "All incidents",
                        data,
                        rule,
                    )
                )
            table["rows"].append(row)
        builder.section(
            sub.name,
            3,
            [
                {
                    "type": "p",
                    "text": "An incident may have more than one motivation, so the "
                    "motivations do not add up to all incidents.",
                },
                table,
            ],
        )


def _stories(builder, submissions: Sequence[Submission]) -> None:
    blocks: list[dict] = []
    for sub in submissions:
        for position, story in enumerate(sub.snapshot.get("case_studies", []), start=1):
            blocks.append({"type": "h", "level": 3, "text": f"{sub.name}: {story['title']}"})
            image = story.get("image") or {}
            stored = sub.images.get(image.get("position", position)) if image else None
            if stored is not None:
                media_type, data = stored
                blocks.append(
                    {
                        "type": "image",
                        "id": image_id(sub.slug, image.get("position", position)),
                        "alt": image.get("alt", ""),
                        "caption": story["title"],
                        "media_type": media_type,
                        # The content's hash covers the image through this.
                        "sha256": hashlib.sha256(data).hexdigest(),
                    }
                )
            blocks.extend({"type": "p", "text": p} for p in _paragraphs(story["text"]))
    if blocks:
        builder.section("Case studies", 2, blocks)
    blocks = []
    for sub in submissions:
        priorities = sub.snapshot.get("priorities") or []
        if priorities:
            blocks.append({"type": "h", "level": 3, "text": sub.name})
            blocks.append({"type": "ul", "items": list(priorities)})
    if blocks:
        builder.section("Priorities for next year", 2, blocks)


def _commitments(builder, submissions: Sequence[Submission]) -> None:
    blocks: list[dict] = []
    for sub in submissions:
        commitments = sub.snapshot.get("commitments") or []
        if not commitments:
            continue
        blocks.append(
            _table(
                builder,
                f"{sub.name}: progress on its own commitments",
                ["Commitment", "Progress"],
                [
                    [{"text": c["title"]}, {"text": c.get("progress") or "No progress recorded"}]
                    for c in commitments
                ],
            )
        )
    if blocks:
        builder.section("Members' own commitments", 2, blocks)


def build(
    *,
    partnership_name: str,
    partnership_slug: str,
    year: str,
    foreword: str,
    summary: str,
    members: Iterable[tuple[str, str]],
    submissions: Sequence[Submission],
    rule: Rule,
    is_demo: bool = False,
) -> dict:
    """The whole report's content from the lead's text and the signed-off returns.

    ``members`` is every member (slug, name); those without a submission are named as not
    having submitted a signed-off return by the deadline.
    """
    if not submissions:
        raise ContentError(
            None, "No member has a signed-off return for this year, so there is nothing to report."
        )
    builder = _Builder(rule)
    submitted = {s.slug for s in submissions}
    missing = [name for slug, name in members if slug not in submitted]
    builder.section("Foreword", 2, [{"type": "p", "text": p} for p in _paragraphs(foreword)])
    about = [{"type": "p", "text": p} for p in _paragraphs(summary)]
    about.append(
        {
            "type": "p",
            "text": "This report is compiled from the signed-off annual returns of: "
            + ", ".join(s.name for s in submissions)
            + ".",
        }
    )
    if missing:
        about.append(
            {
                "type": "p",
                "text": "Not submitted by the deadline: "
                + ", ".join(missing)
                + ". No signed-off return was received from "
                + ("this member" if len(missing) == 1 else "these members")
                + " by the deadline, so the report does not cover "
                + ("it" if len(missing) == 1 else "them")
                + ".",
            }
        )
    about.append(
        {
            "type": "p",
            "text": f"Counts about people are released under the partnership's rule: counts "
            f"from 1 to {rule.threshold - 1} are shown as 'fewer than {rule.threshold}', "
            f"other counts are rounded to the nearest {rule.rounding}, and a total is not "
            "shown where it would let a hidden count be worked out.",
        }
    )
    builder.section("Partnership summary", 2, about)
    _aims(builder, submissions)
    _commitments(builder, submissions)
    _measures(builder, submissions)
    _workforce(builder, submissions)
    _eqia_and_incidents(builder, submissions)
    _stories(builder, submissions)
    signed = [
        [
            {"text": s.name},
            {"text": s.snapshot.get("sign_off", {}).get("name", "")},
            {"text": s.snapshot.get("sign_off", {}).get("role", "")},
            {"text": s.snapshot.get("sign_off", {}).get("date", "")},
            {"text": s.sha256},
        ]
        for s in submissions
    ]
    builder.section(
        "Returns included",
        2,
        [
            _table(
                builder,
                "The signed-off returns this report includes",
                ["Member", "Signed off by", "Role", "Date", "SHA-256 of the return"],
                signed,
            )
        ],
    )
    # Sections without blocks or subsections are dropped (a member-less heading helps nobody).
    sections = []
    for index, section in enumerate(builder.sections):
        following = builder.sections[index + 1] if index + 1 < len(builder.sections) else None
        has_children = following is not None and following["level"] > section["level"]
        if section["blocks"] or has_children:
            sections.append(section)
    return {
        "title": f"{partnership_name}: joint annual report {year}",
        "partnership": {"name": partnership_name, "slug": partnership_slug},
        "year": year,
        "is_demo": is_demo,
        "rule": {"threshold": rule.threshold, "rounding": rule.rounding},
        "members_included": [s.name for s in submissions],
        "not_submitted": missing,
        "sections": sections,
        "annex": builder.annex,
    }


def tables_of(content: Mapping) -> dict[str, dict]:
    """Every table of the content by its id (a chart names its table by id)."""
    return {
        block["id"]: block
        for section in content["sections"]
        for block in section["blocks"]
        if block["type"] == "table"
    }


def charts_of(content: Mapping) -> list[dict]:
    return [
        block
        for section in content["sections"]
        for block in section["blocks"]
        if block["type"] == "chart"
    ]
