"""A return as it will appear: the content a chief executive reviews and signs off.

:func:`build` gives the structure documented on
:class:`portal.returns.models.ReturnSnapshot`. With ``release=True`` (at sign-off) every
count is released once into stored releases (trigger "sign-off") and read back from them;
without it (the preview) the release in force is used where there is one and otherwise
the release that sign-off would make is worked out and shown, not stored. Either way the
chief executive sees the figures exactly as they will leave the organisation.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import select

from portal.auth.services import DEVELOPMENT_BASE_URL
from portal.disclosure import Rule, cell_from_data, next_release, table_to_data
from portal.extensions import db
from portal.monitoring import releases
from portal.monitoring.measures import TOTAL
from portal.monitoring.models import MeasureDefinition
from portal.partners.models import Tenant
from portal.returns import sections, sources
from portal.returns.models import AnnualReturn, ReportingYear

SCHEMA = 1
INCIDENTS_KEY = "hate-incidents-reported"
EQIA_KEYS = ("eqias-completed", "eqias-published")


def _definition(key: str) -> MeasureDefinition | None:
    return db.session.scalar(select(MeasureDefinition).where(MeasureDefinition.key == key))


class _Releaser:
    """Releases (or, for a preview, works out) a member's counts once."""

    def __init__(self, tenant, year: ReportingYear, *, store: bool, user=None):
        self.tenant, self.year, self.store, self.user = tenant, year, store, user
        self.detail = f"annual return {year.label}"

    def _rules(self):
        return [p.disclosure_rule for p in self.tenant.partnerships]

    def measure(self, definition: MeasureDefinition, period: str):
        """A measure's released tables for the period (breakdown -> table data), the
        release's id (None when only worked out) and its rule."""
        if self.store:
            row = releases.release_member_figures(
                self.tenant,
                definition,
                period,
                trigger=releases.SIGN_OFF,
                detail=self.detail,
                user=self.user,
            )
        else:
            row = releases.current_release(self.tenant, definition, period)
        if row is not None:
            return dict(row.tables), row.id, _rule(row.threshold, row.rounding)
        release = next_release([], releases.exact_tables(definition, period), self._rules())
        if release is None:
            return None, None, None
        return _data(release), None, _rule(release.rule.threshold, release.rule.rounding)

    def counts(self, definition: MeasureDefinition | None, period: str, tables: dict):
        """Register counts' released tables (breakdown -> table data) and their rule."""
        row = None
        if definition is not None and self.store:
            row = releases.release_counts(
                self.tenant,
                definition,
                period,
                tables,
                trigger=releases.SIGN_OFF,
                detail=self.detail,
                user=self.user,
            )
        elif definition is not None:
            row = releases.current_release(self.tenant, definition, period)
        if row is not None:
            return dict(row.tables), _rule(row.threshold, row.rounding)
        release = next_release([], tables, self._rules())
        if release is None:
            return None, None
        return _data(release), _rule(release.rule.threshold, release.rule.rounding)


def _rule(threshold: int, rounding: int) -> dict:
    return {"threshold": threshold, "rounding": rounding}


def _data(release) -> dict:
    return {k: table_to_data(t) for k, t in release.tables.items()}


def _public_url(endpoint: str, **values) -> str:
    """An absolute public link from the configured base address. Built from the URL map
    alone: no request is pushed, so the page's tenant scope is left as it is."""
    base = urlsplit(current_app.config.get("PORTAL_BASE_URL") or DEVELOPMENT_BASE_URL)
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme
    )
    return adapter.build(endpoint, values, force_external=True)


def _answers(ret: AnnualReturn | None, key: str) -> dict:
    section = ret.section(key) if ret else None
    return dict(section.answers) if section else {}


def build(ret: AnnualReturn, *, release: bool = False, user=None, sign_off: dict | None = None):
    """The return's content, in the snapshot's structure. Runs under the member's scope."""
    year = ret.reporting_year
    tenant = db.session.get(Tenant, ret.tenant_id)
    releaser = _Releaser(tenant, year, store=release, user=user)
    period = sources.year_period(year)

    aims_answers = _answers(ret, "aims")
    aims = []
    for p in sources.aims_progress(year):
        picked = set(aims_answers.get("highlights", {}).get(str(p.aim.id), []))
        aims.append(
            {
                "id": p.aim.id,
                "role": p.role_name,
                "text": p.aim.text,
                "narrative": aims_answers.get("narratives", {}).get(str(p.aim.id), ""),
                "actions": {
                    "total": len(p.actions),
                    "by_status": p.by_status,
                    "overdue": p.overdue,
                    "completed_in_year": p.completed_in_year,
                },
                "highlights": [
                    {
                        "reference": u.reference,
                        "action": u.action.reference,
                        "date": u.date.isoformat(),
                        "text": u.narrative,
                    }
                    for u in p.updates
                    if u.id in picked
                ],
            }
        )

    commitment_answers = _answers(ret, "commitments").get("narratives", {})
    commitments = [
        {
            "id": c.id,
            "reference": c.reference,
            "text": c.text,
            "narrative": commitment_answers.get(str(c.id), ""),
        }
        for c in sources.commitments()
    ]

    reasons = _answers(ret, "measures").get("reasons", {})
    measures = []
    for m in sources.joint_measures(year):
        shape = m.measure or m.definition
        entry = {
            "definition_id": m.definition.id,
            "name": m.definition.name,
            "unit": shape.unit,
            "period": year.label,
            "breakdown": shape.breakdown,
            "released": None,
            "rule": None,
            "value": None,
            "release_id": None,
            "missing_reason": None if m.has_figure else reasons.get(str(m.definition.id), ""),
        }
        if m.has_figure and shape.unit == "count" and m.measure.period_type != "quarter":
            entry["released"], entry["release_id"], entry["rule"] = releaser.measure(
                m.definition, period
            )
        elif m.has_figure and shape.unit == "count":
            # A quarterly count: the year is the four quarters' sum, released as one table.
            total = int(m.values[TOTAL])
            cells = {k: int(v) for k, v in m.values.items() if k}
            entry["released"], entry["rule"] = releaser.counts(
                None, period, {shape.breakdown: (cells, total)}
            )
        elif m.has_figure:
            entry["value"] = m.values[TOTAL]
        measures.append(entry)

    drawn_workforce = sources.workforce(year)
    workforce_answers = _answers(ret, "workforce")
    employees = sections.employees_of(workforce_answers, drawn_workforce)
    released_profile, profile_rule = {}, None
    if drawn_workforce.definition is not None and drawn_workforce.rows:
        released_profile, _, profile_rule = releaser.measure(drawn_workforce.definition, period)
        released_profile = released_profile or {}
    pay_gap = None
    if employees is not None and employees >= sources.GENDER_PAY_GAP_EMPLOYEES:
        pay_gap = sections.pay_gap(workforce_answers)
        if pay_gap is not None:
            public = workforce_answers.get("public_authority") == "yes"
            pay_gap["public_authority"] = public
            pay_gap["snapshot_date"] = sources.pay_gap_snapshot_date(year, public).isoformat()
    workforce = {
        "employees": employees,
        "profile": [
            {
                "characteristic": row.characteristic,
                "label": row.label,
                "released": released_profile.get(row.characteristic),
                "community": row.community,
                "community_source": row.community_source,
            }
            for row in drawn_workforce.rows
        ],
        "rule": profile_rule,
        "gender_pay_gap": pay_gap,
        "narrative": workforce_answers.get("narrative", ""),
    }

    drawn_assessments = sources.assessments(year)
    completed, rule = releaser.counts(
        _definition(EQIA_KEYS[0]), period, {"": ({}, len(drawn_assessments.completed))}
    )
    published, _ = releaser.counts(
        _definition(EQIA_KEYS[1]), period, {"": ({}, len(drawn_assessments.published))}
    )
    assessments = {
        "completed": (completed or {}).get("", {}).get("total"),
        "published": (published or {}).get("", {}).get("total"),
        "rule": rule,
        "published_links": [
            {
                "title": a.title,
                "url": _public_url(
                    "public_eqia.public_assessment",
                    org_slug=tenant.slug,
                    assessment_number=a.number,
                ),
            }
            for a in drawn_assessments.published
        ],
        "narrative": _answers(ret, "assessments").get("narrative", ""),
    }

    incidents_definition = _definition(INCIDENTS_KEY)
    released_incidents, incident_rules = {}, {}
    for quarter, (counts, total) in sources.incident_tables(year).items():
        released_incidents[quarter], incident_rules[quarter] = releaser.counts(
            incidents_definition, quarter, sources.motivation_tables(counts, total)
        )
    hate_incidents = {
        "released": released_incidents,
        "rules": incident_rules,
        "quarters": [sources.quarter_label(q) for q in released_incidents],
        "narrative": _answers(ret, "incidents").get("narrative", ""),
    }

    case_studies = [
        {
            "title": c.title,
            "text": c.text,
            "image": {"position": position, "type": c.image_type, "alt": c.image_alt}
            if c.image
            else None,
        }
        for position, c in enumerate(ret.case_studies, start=1)
    ]

    return {
        "schema": SCHEMA,
        "member": {"slug": tenant.slug, "name": tenant.name, "kind": tenant.kind},
        "partnership": {"slug": year.partnership.slug, "name": year.partnership.name},
        "year": {
            "label": year.label,
            "start": year.first_day.isoformat(),
            "end": year.last_day.isoformat(),
            "deadline": year.deadline.isoformat(),
        },
        "aims": aims,
        "commitments": commitments,
        "measures": measures,
        "workforce": workforce,
        "assessments": assessments,
        "hate_incidents": hate_incidents,
        "case_studies": case_studies,
        "priorities": _answers(ret, "priorities").get("text", ""),
        "sign_off": sign_off,
    }


# --- reading it back, for the pages that show a return ---------------------------------


def released_cell(cell, rule: dict | None) -> dict:
    """A stored released cell ([status, value]) as a page shows it: text and note."""
    if not cell:
        return {"text": "not available", "note": ""}
    threshold = (rule or {}).get("threshold", 8)
    released = cell_from_data(cell, Rule(threshold, (rule or {}).get("rounding", 5)))
    return {"text": released.label, "note": released.note}


def released_rows(table: dict | None, rule: dict | None) -> list[tuple[str, dict]]:
    """A stored released table's rows (category, cell), then its total."""
    if not table:
        return []
    rows = [
        (key or "Not recorded", released_cell([status, value], rule))
        for key, status, value in table["cells"]
    ]
    if table["unrecorded"][0] != "zero":
        rows.append(("Not recorded", released_cell(table["unrecorded"], rule)))
    rows.append(("Total", released_cell(table["total"], rule)))
    return rows


def long_date(iso: str | None) -> str:
    """ "2026-03-31" as a page shows it: "31 March 2026"."""
    if not iso:
        return ""
    from datetime import date

    return f"{date.fromisoformat(iso):%-d %B %Y}"
