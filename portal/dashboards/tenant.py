"""The organisation's dashboard: the home page of everybody who works in it.

:func:`build` gathers everything the page shows, for the tenant in scope and the
person looking; the template only formats it. Each chart also has a builder in
:data:`CHART_BUILDERS` (by chart id), so its CSV download builds exactly the same chart.

What it holds, in order:

- ``tasks``: what the person must do first (a chief executive's sign-offs, this year's
  returns), as :class:`Task` rows; features that add such tasks extend :func:`tasks_for`;
- my actions that are due (within :data:`DUE_SOON_DAYS`) or overdue;
- action plan status by objective and by joint aim;
- progress updates each month;
- measures with targets: latest total, red/amber/green, direction of travel;
- the workforce and customers against the community profile (share against share);
- impact assessments: the pipeline, and those due for review;
- the hate-incident trend: exact for caseworkers, under the disclosure rule for others.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from portal import cache, charts, clock
from portal.actions import services as action_services
from portal.actions.models import (
    CLOSED_STATUSES,
    STATUSES,
    Action,
    ActionJointAim,
    ProgressUpdate,
)
from portal.charts import Chart, Series
from portal.eqia import services as eqia_services
from portal.eqia.models import ImpactAssessment
from portal.extensions import db
from portal.incidents import services as incident_services
from portal.monitoring import measures as monitoring_measures
from portal.monitoring import periods, targets
from portal.monitoring import profiles as monitoring_profiles
from portal.monitoring.models import Measure
from portal.templating import Stencil

DUE_SOON_DAYS = 30
PROGRESS_MONTHS = 12
LABEL_LENGTH = 70
NO_STATUS = "No status recorded"


@dataclass(frozen=True)
class Task:
    """Something the person should do first: words, where to do it, and when by."""

    text: str
    href: str
    due: date | None = None


@dataclass
class Viewer:
    """Who is looking: what the dashboard may show them."""

    user_id: int
    tenant: object
    exact_incidents: bool  # a caseworker of the tenant
    edits_plan: bool = False  # an officer: reviews of impact assessments are theirs to do
    signs_off: bool = False  # the chief executive: returns wait for their sign-off
    roles: tuple[str, ...] = ()  # all of them: the page offers what each role may do


@dataclass(frozen=True)
class ActionRow:
    """One of the person's actions due or overdue, as the page lists it."""

    number: int
    reference: str
    task: str
    target_date: date
    status_label: str


@dataclass(frozen=True)
class MeasureRow:
    """A measure with a target, as the page shows it: latest figure, RAG and travel."""

    number: int
    title: str
    target_direction: str | None
    latest_text: str
    period_label: str
    target_text: str
    rag_tag: str
    rag_label: str
    travel: targets.Travel | None
    travel_text: str

    @classmethod
    def of(cls, status: targets.MeasureStatus) -> MeasureRow:
        m = status.measure
        return cls(
            m.number,
            m.title,
            m.target_direction,
            status.latest_text,
            status.period_label,
            status.target_text,
            status.rag_tag,
            status.rag_label,
            status.travel,
            status.travel_text,
        )


@dataclass(frozen=True)
class ReviewRow:
    """An impact assessment due (or overdue) for review."""

    number: int
    title: str
    review_on: date
    is_review_overdue: bool


@dataclass(frozen=True)
class ReturnRow:
    """The organisation's return for a partnership's newest reporting year."""

    partnership_slug: str
    partnership_name: str
    year: str
    status: str
    tag: str
    deadline: date
    last_activity: datetime | None


@dataclass(frozen=True)
class ReportRow:
    """A published joint report of one of the organisation's partnerships."""

    title: str
    number: int
    published_at: datetime
    path: str


@dataclass
class Dashboard:
    """What the page shows: plain data, no database rows. It is drawn once for each
    version of the organisation's data, and the drawn :class:`Page` is kept."""

    tasks: list[Task]
    my_actions: list[ActionRow]
    action_charts: list[Chart]
    progress_chart: Chart
    measures: list[MeasureRow]
    community_charts: list[Chart]
    profile_area: str
    eqia_chart: Chart
    reviews_due: list[ReviewRow] | None  # None: not this person's to do
    incident_chart: Chart
    incident_year: int
    incident_rule: str = ""
    returns: list[ReturnRow] = field(default_factory=list)  # for those who write or sign
    reports: list[ReportRow] = field(default_factory=list)
    today: date = field(default_factory=lambda: clock.utcnow().date())

    @property
    def overdue_count(self) -> int:
        return sum(1 for a in self.my_actions if a.target_date < self.today)

    @property
    def charts(self) -> list[Chart]:
        return [
            *self.action_charts,
            self.progress_chart,
            *self.community_charts,
            self.eqia_chart,
            self.incident_chart,
        ]


def tasks_for(viewer: Viewer) -> list[Task]:
    """What this person must do first: a chief executive's returns waiting for their
    sign-off; an officer's returns still to complete and send, with their deadlines."""
    from flask import url_for

    from portal.returns import services as returns
    from portal.returns.models import AWAITING_SIGN_OFF, DRAFT

    if not (viewer.signs_off or viewer.edits_plan):
        return []
    tasks: list[Task] = []
    for year in returns.years_for_tenant(viewer.tenant):
        ret = returns.return_for(year)
        status = ret.status if ret is not None else None
        name = year.partnership.name
        href = url_for("returns.task_list", partnership=year.partnership.slug, year=year.label)
        due = returns.deadline_for(year, viewer.tenant)
        if viewer.signs_off and status == AWAITING_SIGN_OFF:
            tasks.append(Task(f"Sign off or send back the {year.label} return to {name}", href))
        elif (
            viewer.edits_plan and status in (None, DRAFT) and due >= _today() - timedelta(days=365)
        ):
            verb = "Start" if ret is None else "Complete and send"
            tasks.append(Task(f"{verb} the {year.label} annual return to {name}", href, due))
    return tasks


def _today() -> date:
    return clock.utcnow().date()


def _short(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= LABEL_LENGTH else text[: LABEL_LENGTH - 1].rstrip() + "…"


def _unique(labels: list[str]) -> list[str]:
    """Labels plotly can tell apart (it would put two equal labels in one bar)."""
    seen: Counter = Counter()
    out = []
    for label in labels:
        seen[label] += 1
        out.append(label if seen[label] == 1 else f"{label} ({seen[label]})")
    return out


# --- actions -----------------------------------------------------------------------------


def my_actions(viewer: Viewer) -> list[Action]:
    """The person's open actions that are overdue or due within DUE_SOON_DAYS."""
    soon = _today() + timedelta(days=DUE_SOON_DAYS)
    query = (
        select(Action)
        .where(
            Action.lead_user_id == viewer.user_id,
            Action.target_date.is_not(None),
            Action.target_date <= soon,
            or_(Action.status.is_(None), Action.status.not_in(CLOSED_STATUSES)),
        )
        .order_by(Action.target_date, Action.id)
    )
    return list(db.session.scalars(query))


def _status_series(groups: list[Counter]) -> list[Series]:
    """A series per status that occurs at all, in the plan's order of statuses."""
    names = [*STATUSES.values(), NO_STATUS]
    keys = [*STATUSES, None]
    series = []
    for key, name in zip(keys, names, strict=True):
        values = [g.get(key, 0) for g in groups]
        if any(values):
            series.append(Series(name, values))
    return series


def _status_summary(labels: list[str], groups: list[Counter], what: str) -> str:
    total = sum(sum(g.values()) for g in groups)
    if not total:
        return f"There are no actions {what} yet."
    complete = sum(g.get("complete", 0) for g in groups)
    at_risk = [(labels[i], g.get("at-risk", 0)) for i, g in enumerate(groups)]
    worst = max(at_risk, key=lambda p: p[1])
    sentence = f"{complete} of {total} actions {what} are complete"
    if worst[1]:
        sentence += f"; “{worst[0].rstrip('.')}” has the most at risk, {worst[1]}"
    return sentence + "."


def actions_by_objective(viewer: Viewer) -> Chart:
    # The objectives and their headings; their actions are counted below, not loaded.
    objectives = list(db.session.scalars(action_services.objectives(with_actions=False)))
    counts: dict[int, Counter] = {o.id: Counter() for o in objectives}
    query = select(Action.objective_id, Action.status, func.count(Action.id)).group_by(
        Action.objective_id, Action.status
    )
    for objective_id, status, n in db.session.execute(query):
        counts.setdefault(objective_id, Counter())[status] += n
    shown = [o for o in objectives if counts[o.id]]
    labels = _unique([f"{o.reference} {_short(o.title)}" for o in shown])
    groups = [counts[o.id] for o in shown]
    series = _status_series(groups)
    return charts.bar_chart(
        "actions-by-objective",
        title="Actions by objective and status",
        categories=labels,
        series=series or [Series("Actions", [])],
        category_label="Objective",
        value_label="Number of actions",
        summary=_status_summary(labels, groups, "in the action plan"),
        stacked=True,
    )


def actions_by_aim(viewer: Viewer) -> Chart:
    aims = action_services.joint_aims_for_tenant()
    counts: dict[int, Counter] = {aim.id: Counter() for aim, _ in aims}
    query = (
        select(ActionJointAim.joint_aim_id, Action.status, func.count(Action.id))
        .join(Action, Action.id == ActionJointAim.action_id)
        .group_by(ActionJointAim.joint_aim_id, Action.status)
    )
    for aim_id, status, n in db.session.execute(query):
        if aim_id in counts:
            counts[aim_id][status] += n
    shown = [(aim, p) for aim, p in aims if counts[aim.id]]
    labels = _unique([_short(aim.text) for aim, _ in shown])
    groups = [counts[aim.id] for aim, _ in shown]
    series = _status_series(groups)
    return charts.bar_chart(
        "actions-by-aim",
        title="Actions by joint aim and status",
        categories=labels,
        series=series or [Series("Actions", [])],
        category_label="Joint aim",
        value_label="Number of actions",
        summary=_status_summary(labels, groups, "linked to joint aims"),
        stacked=True,
    )


def _months(end: date, count: int) -> list[tuple[int, int]]:
    year, month = end.year, end.month
    out = []
    for _ in range(count):
        out.append((year, month))
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return out[::-1]


def progress_over_time(viewer: Viewer) -> Chart:
    months = _months(_today(), PROGRESS_MONTHS)
    first = date(*months[0], 1)
    dates = db.session.scalars(select(ProgressUpdate.date).where(ProgressUpdate.date >= first))
    counts = Counter((d.year, d.month) for d in dates)
    labels = [date(y, m, 1).strftime("%b %Y") for y, m in months]
    series = Series("Progress updates", [counts.get(k, 0) for k in months])
    return charts.line_chart(
        "progress-updates",
        title=f"Progress updates in the last {PROGRESS_MONTHS} months",
        x=labels,
        series=[series],
        x_label="Month",
        value_label="Progress updates recorded",
        summary=charts.describe_trend(labels, series, what="progress updates"),
    )


# --- measures ----------------------------------------------------------------------------


def _measures() -> list[Measure]:
    """The tenant's measures with their definitions (a joint measure's title is its
    definition's name), in one query each rather than one per definition."""
    query = monitoring_measures.measures().options(selectinload(Measure.definition))
    return list(db.session.scalars(query))


def measures_with_targets(
    viewer: Viewer, measures: list[Measure] | None = None
) -> list[targets.MeasureStatus]:
    rows = [
        m for m in (_measures() if measures is None else measures) if m.target_value is not None
    ]
    return targets.statuses(rows)


def _comparable_measures(measures: list[Measure] | None = None) -> list[Measure]:
    return [
        m
        for m in (_measures() if measures is None else measures)
        if m.is_count and m.characteristic is not None
    ]


def community_chart(
    measure: Measure,
    profile,
    tenant_name: str,
    *,
    tables: dict[str, dict[str, int]] | None = None,
    stored: dict[str, dict[str, float]] | None = None,
) -> Chart | None:
    """The measure's latest figures by category as shares, against the community's.

    ``tables`` (the profile's, :func:`~portal.monitoring.profiles.profile_tables`) and
    ``stored`` (the measure's figures) may be given when already read: the dashboard reads
    them once for every measure, not once a measure."""
    if tables is None:
        tables = monitoring_profiles.profile_tables(profile)
    community = tables.get(measure.breakdown)
    if stored is None:
        stored = monitoring_measures.stored_values(measure)
    latest = next((p for p in reversed(measure.periods) if stored.get(p)), None)
    if not community or latest is None:
        return None
    rows = monitoring_profiles.compare(measure, latest, community, stored=stored)
    rows = [r for r in rows if r.share is not None or r.community_share is not None]
    if not any(r.share is not None for r in rows):
        return None
    categories = [r.category for r in rows]
    ours = Series(
        f"{measure.title}, {periods.label(latest)} (%)", [r.share for r in rows], places=1
    )
    area = profile.area or "the area"
    theirs = Series(f"Community, {area} (%)", [r.community_share for r in rows], places=1)
    notes = [monitoring_profiles.recorded(measure, latest, stored=stored).describe()]
    if profile.source:
        notes.append(f"Community figures: {profile.source}")
    return charts.bar_chart(
        f"community-m{measure.number}",
        title=(
            f"{measure.title} by {measure.characteristic.label.lower()}, against the "
            f"community, {periods.label(latest)}"
        ),
        categories=categories,
        series=[ours, theirs],
        category_label=measure.characteristic.label,
        value_label="Share (%)",
        summary=charts.describe_shares(
            tenant_name, f"the community's in {area}", categories, ours, theirs
        ),
        notes=notes,
    )


def community_charts(
    viewer: Viewer, measures: list[Measure] | None = None
) -> tuple[list[Chart], str]:
    """A chart for each count measure broken down by a characteristic the profile holds,
    from one read of the profile and one of the measures' figures."""
    profile = monitoring_profiles.profile()
    if profile is None:
        return [], ""
    tables = monitoring_profiles.profile_tables(profile)
    measures = [m for m in _comparable_measures(measures) if tables.get(m.breakdown)]
    stored = monitoring_measures.stored_values_of(measures)
    built = [
        community_chart(m, profile, viewer.tenant.name, tables=tables, stored=stored[m.id])
        for m in measures
    ]
    return [c for c in built if c is not None], profile.area


# --- impact assessments ------------------------------------------------------------------

PIPELINE = (
    ("Screening, not yet published", lambda a: not a.is_published and a.kind == "screening"),
    ("Full assessment, not yet published", lambda a: not a.is_published and a.kind == "full"),
    ("Published, review not due", lambda a: a.is_published and not _review_due(a)),
    ("Published, review due or overdue", lambda a: a.is_published and _review_due(a)),
)


def _counted(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _are(count: int) -> str:
    return f"{count} is" if count == 1 else f"{count} are"


def _review_due(a: ImpactAssessment) -> bool:
    soon = _today() + timedelta(days=eqia_services.REVIEW_WARNING_DAYS)
    return a.review_on is not None and a.review_on <= soon


def eqia_pipeline(viewer: Viewer) -> Chart:
    # Only what the stages are told by: the assessments themselves (and their impacts)
    # are not needed to count them.
    rows = list(
        db.session.execute(
            select(ImpactAssessment.kind, ImpactAssessment.is_published, ImpactAssessment.review_on)
        )
    )
    labels = [label for label, _ in PIPELINE]
    values = [sum(1 for a in rows if test(a)) for _, test in PIPELINE]
    series = Series("Impact assessments", values)
    total = sum(values)
    if total:
        # Due counts every assessment with a review in the next 30 days or overdue, as the
        # list of reviews due does, published or not.
        due = sum(1 for a in rows if _review_due(a))
        summary = (
            f"Of {_counted(total, 'impact assessment')}, {_are(values[0] + values[1])} not "
            f"yet published and {_are(due)} due for review or overdue."
        )
    else:
        summary = "There are no impact assessments yet."
    return charts.bar_chart(
        "eqia-pipeline",
        title="Impact assessments: the pipeline",
        categories=labels,
        series=[series],
        category_label="Stage",
        value_label="Impact assessments",
        summary=summary,
    )


# --- hate incidents ----------------------------------------------------------------------


def _released_number(text: str) -> int | None:
    cleaned = text.replace(",", "")
    return int(cleaned) if cleaned.isdigit() else None


def incident_statistics(viewer: Viewer):
    rule = incident_services.disclosure_rule(viewer.tenant)
    return incident_services.statistics(None, exact=viewer.exact_incidents, rule=rule)


def incident_trend(viewer: Viewer, stats=None) -> Chart:
    """Incidents each month of the latest year, exact or as released."""
    stats = stats or incident_statistics(viewer)
    months = stats.by_month
    today = _today()
    if stats.year == today.year:
        months = months[: today.month]
    labels = [f"{name[:3]} {stats.year}" for name, _ in months]
    texts = [figure.text for _, figure in months]
    series = Series(
        "Hate incidents" + ("" if stats.exact else " (as released)"),
        [_released_number(t) for t in texts],
        texts=texts,
    )
    notes = []
    if not stats.exact and stats.rule is not None:
        notes.append(
            "Figures follow the disclosure rule: " + stats.rule.describe() + " "
            "A month shown in words has no point on the chart."
        )
    return charts.line_chart(
        "incident-trend",
        title=f"Hate incidents each month, {stats.year}",
        x=labels,
        series=[series],
        x_label="Month",
        value_label="Hate incidents",
        summary=charts.describe_trend(labels, series, what="hate incidents"),
        notes=notes,
    )


# --- the whole page ----------------------------------------------------------------------


def _action_rows(viewer: Viewer) -> list[ActionRow]:
    return [
        ActionRow(a.number, a.reference, a.task, a.target_date, a.status_label)
        for a in my_actions(viewer)
    ]


def _reviews_due(viewer: Viewer) -> list[ReviewRow] | None:
    if not viewer.edits_plan:
        return None
    return [
        ReviewRow(a.number, a.title, a.review_on, a.is_review_overdue)
        for a in db.session.scalars(eqia_services.due_for_review())
    ]


def build(viewer: Viewer) -> Dashboard:
    """Everything the organisation's home page shows to this person, read afresh."""
    stats = incident_statistics(viewer)
    chart = incident_trend(viewer, stats)
    measures = _measures()
    community, area = community_charts(viewer, measures)
    board = Dashboard(
        tasks=tasks_for(viewer),
        my_actions=_action_rows(viewer),
        action_charts=[actions_by_objective(viewer), actions_by_aim(viewer)],
        progress_chart=progress_over_time(viewer),
        measures=[MeasureRow.of(s) for s in measures_with_targets(viewer, measures)],
        community_charts=community,
        profile_area=area,
        eqia_chart=eqia_pipeline(viewer),
        reviews_due=_reviews_due(viewer),
        incident_chart=chart,
        incident_year=stats.year,
        incident_rule=chart.notes[0] if chart.notes else "",
        returns=_return_rows(viewer),
        reports=_report_rows(viewer),
    )
    for c in board.charts:
        c.spec_json()  # worked out once, and kept with the rest
    return board


def _return_rows(viewer: Viewer) -> list[ReturnRow]:
    from portal.returns import services as returns

    # The return's state is for those who write it or sign it off.
    if not (viewer.signs_off or viewer.edits_plan):
        return []
    return [
        ReturnRow(
            r.year.partnership.slug,
            r.year.partnership.name,
            r.year.label,
            r.status,
            r.tag,
            r.deadline,
            r.last_activity,
        )
        for r in returns.own_returns(viewer.tenant)
    ]


def _report_rows(viewer: Viewer) -> list[ReportRow]:
    from portal.reports import services as reports

    return [
        ReportRow(p.title, p.number, p.published_at, p.path)
        for p in reports.published_reports_for_tenant(viewer.tenant)
    ]


def cache_key(viewer: Viewer, frame: tuple) -> str:
    """Everything that decides what this person's dashboard holds: the organisation and its
    data version, the day (what is due or overdue), the person (their actions) and what
    their roles let them see (exact or released incident figures, reviews, sign-offs);
    then ``frame``, what the page around the dashboard shows that none of those decide."""
    return cache.key(
        "tenant-dashboard",
        viewer.tenant.id,
        viewer.tenant.data_version,
        _today().isoformat(),
        viewer.user_id,
        int(viewer.exact_incidents),
        int(viewer.edits_plan),
        int(viewer.signs_off),
        ",".join(sorted(viewer.roles)),
        # Digested: the frame's fields are of any length and may hold the key's separator.
        hashlib.sha256(repr(frame).encode()).hexdigest(),
    )


@dataclass(frozen=True)
class Page:
    """What a view of the home needs: the page as drawn, cut at the request's CSRF token
    and CSP nonce, and the year of the incident figures it shows, for the audit trail."""

    stencil: Stencil
    incident_year: int


def page(
    viewer: Viewer, draw: Callable[[Dashboard], str], frame: tuple, keep: Callable[[], bool]
) -> Page:
    """The organisation's home page for this person, drawn whole by ``draw`` from the
    :class:`Dashboard`: kept under the organisation's data version (portal/cache.py) and
    ``frame`` (what the page shows around the dashboard that the version does not decide),
    so it is worked out and drawn again after any change to its data, and a kept view
    reads and draws nothing. ``keep`` says whether this view's page may be kept: it is
    asked before the kept page is read, and again once a page is drawn (a page showing a
    message meant for this view only is drawn afresh, and not kept). Every view is
    recorded with :func:`record_view`, kept or not."""
    # The version was read with the session, before anything below: data read after it
    # is at least as new as the version it is kept under.
    key = cache_key(viewer, frame)
    kept = cache.get(key) if keep() else None
    if kept is None:
        board = build(viewer)
        kept = Page(Stencil.cut(draw(board)), board.incident_year)
        if keep():
            cache.put(key, kept)
    return kept


def record_view(page: Page, viewer: Viewer) -> None:
    """The view of the incident figures, in the audit trail (with no delay for views this
    commits: call it once the page is drawn, so the rows it reads are not read again)."""
    incident_services.record_statistics_view(
        incident_services.StatisticsView(page.incident_year, viewer.exact_incidents)
    )


def _community_builder(chart_id: str) -> Callable[[Viewer], Chart | None] | None:
    number = chart_id.removeprefix("community-m")
    # isdigit() accepts "²", which int() refuses: only ASCII decimal digits name a measure.
    if not (number.isascii() and number.isdecimal()) or len(number) > 9:
        return None

    def build(viewer: Viewer) -> Chart | None:
        measure = db.session.scalar(select(Measure).where(Measure.number == int(number)))
        profile = monitoring_profiles.profile()
        if measure is None or profile is None or measure.characteristic is None:
            return None
        if not measure.is_count:
            return None
        return community_chart(measure, profile, viewer.tenant.name)

    return build


def _incident_csv(viewer: Viewer) -> Chart:
    stats = incident_statistics(viewer)
    incident_services.record_statistics_view(stats)
    return incident_trend(viewer, stats)


CHART_BUILDERS: dict[str, Callable[[Viewer], Chart | None]] = {
    "actions-by-objective": actions_by_objective,
    "actions-by-aim": actions_by_aim,
    "progress-updates": progress_over_time,
    "eqia-pipeline": eqia_pipeline,
    "incident-trend": _incident_csv,
}


def chart(chart_id: str, viewer: Viewer) -> Chart | None:
    """One chart of the dashboard by its id (for its CSV), or None if there is none."""
    builder = CHART_BUILDERS.get(chart_id)
    if builder is None and chart_id.startswith("community-m"):
        builder = _community_builder(chart_id)
    return builder(viewer) if builder else None
