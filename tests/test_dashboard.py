"""The organisation's dashboard (its home page) and the targets of measures."""

from __future__ import annotations

import csv
import html
import io
import re
from decimal import Decimal

import pytest

from portal.extensions import db as database
from portal.monitoring import figures, measures, targets
from portal.tenancy import tenant_scope
from tests.helpers import tenant

# --- red, amber, green and the direction of travel --------------------------------------


@pytest.mark.parametrize(
    ("value", "direction", "expected"),
    [
        (80, "higher", "green"),
        (75, "higher", "green"),
        (70, "higher", "amber"),
        (60, "higher", "amber"),
        (59.9, "higher", "red"),
        (5, "lower", "green"),
        (10, "lower", "green"),
        (12, "lower", "amber"),
        (15, "lower", "amber"),
        (15.5, "lower", "red"),
    ],
)
def test_rag_follows_the_direction_and_the_amber_threshold(value, direction, expected):
    target, amber = (75, 60) if direction == "higher" else (10, 15)
    assert targets.rag(value, target, direction, amber) == expected


def test_without_a_threshold_every_miss_is_amber_and_without_a_target_nothing():
    assert targets.rag(1, 75, "higher", None) == "amber"
    assert targets.rag(1, None, "higher", None) is None
    assert targets.rag(None, 75, "higher", 60) is None


def test_direction_of_travel_has_an_arrow_and_words():
    assert targets.travel(60, 65, "higher") == targets.Travel("↑", "Up: better", "better")
    assert targets.travel(60, 65, "lower") == targets.Travel("↑", "Up: worse", "worse")
    assert targets.travel(65, 60, "lower") == targets.Travel("↓", "Down: better", "better")
    assert targets.travel(60, 60, "higher") == targets.Travel("→", "No change", "same")
    assert targets.travel(60, 50, "") == targets.Travel("↓", "Down", "")
    assert targets.travel(None, 50, "higher") is None


def _bounds():
    from portal.monitoring.models import FIGURE_BOUNDS

    return FIGURE_BOUNDS["percentage"]


@pytest.mark.parametrize(
    ("target", "direction", "amber", "field", "words"),
    [
        ("lots", "higher", "", "target_value", "Enter the target as a number"),
        ("75", "", "", "target_direction", "Choose whether higher or lower is better"),
        ("75", "higher", "80", "amber_threshold", "must be the target or below it"),
        ("10", "lower", "5", "amber_threshold", "must be the target or above it"),
        ("150", "higher", "", "target_value", "The target must be between 0 and 100"),
        ("", "higher", "60", "target_value", "Enter a target for the amber threshold"),
    ],
)
def test_a_target_that_cannot_work_is_refused_in_words(target, direction, amber, field, words):
    with pytest.raises(targets.TargetError) as caught:
        targets.check_target("percentage", _bounds(), target, direction, amber)
    assert caught.value.field == field and words in caught.value.message


def test_a_target_is_read_as_typed():
    checked = targets.check_target("percentage", _bounds(), "75%", "higher", "62.5")
    assert checked == {
        "target_value": Decimal("75"),
        "target_direction": "higher",
        "amber_threshold": Decimal("62.5"),
    }
    assert targets.plain(Decimal("75.0000")) == "75"


def _measure_with_target(db, slug: str, totals: dict[str, float]):
    with tenant_scope(tenant(slug)):
        row = measures.add_measure(
            name="Residents satisfied with services",
            unit="percentage",
            period_type="year",
            first_year=2022,
            last_year=2025,
            target_value="75",
            target_direction="higher",
            amber_threshold="60",
        )
        cells = [figures.Cell(p, "", str(v), p) for p, v in totals.items()]
        figures.save_values(row, cells, via="test")
        return row.number


def test_statuses_compare_the_latest_two_totals(db):
    number = _measure_with_target(db, "sevenoaks", {"2023": 58, "2024": 66})
    with tenant_scope(tenant("sevenoaks")):
        from sqlalchemy import select

        from portal.monitoring.models import Measure

        row = database.session.scalar(select(Measure).where(Measure.number == number))
        (status,) = targets.statuses([row])
    assert (status.latest, status.previous) == (66, 58)
    assert status.rag == "amber" and status.rag_label == "Amber: close to target"
    assert status.travel_text == "Up: better, from 58% in 2023 to 2024"


def test_a_measure_form_keeps_the_target(app, client, login_as):
    login_as("officer", "sevenoaks")
    with app.app_context():
        number = _measure_with_target(None, "sevenoaks", {"2024": 80})
    page = client.get(f"/t/sevenoaks/monitoring/measures/{number}").get_data(as_text=True)
    assert "75%, higher is better, red beyond 60%" in page
    form = client.get(f"/t/sevenoaks/monitoring/measures/{number}/edit").get_data(as_text=True)
    assert 'name="target_value" type="text" value="75"' in form or 'value="75"' in form


# --- the dashboard -----------------------------------------------------------------------


def _chart_rows(page: str, chart_id: str) -> list[list[str]]:
    table = re.search(rf'<table[^>]*data-chart-table="{chart_id}">(.*?)</table>', page, re.S).group(
        1
    )
    rows = []
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.S):
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        rows.append([html.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in cells])
    return rows


def _csv(client, url: str) -> list[list[str]]:
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))


def test_caseworkers_see_exact_incident_counts_and_others_only_released(
    app, client, auth, login_as
):
    login_as("caseworker", "sevenoaks")
    exact = _chart_rows(client.get("/t/sevenoaks/").get_data(as_text=True), "incident-trend")
    auth.logout()
    login_as("viewer", "sevenoaks")
    page = client.get("/t/sevenoaks/").get_data(as_text=True)
    released = _chart_rows(page, "incident-trend")
    assert exact[0] == ["Month", "Hate incidents"]
    assert released[0] == ["Month", "Hate incidents (as released)"]
    small = 0
    for (month, count), (same_month, shown) in zip(exact[1:], released[1:], strict=True):
        assert month == same_month and count.isdigit()
        if 1 <= int(count) <= 7:
            small += 1
            assert shown == "fewer than 8"
    assert small, "the demonstration data has months with a few incidents"
    assert "Figures follow the disclosure rule" in page


def test_every_chart_csv_equals_its_table(app, client, login_as):
    login_as("officer", "sevenoaks")
    page = client.get("/t/sevenoaks/").get_data(as_text=True)
    ids = re.findall(r'data-chart-table="([a-z0-9-]+)"', page)
    assert {"actions-by-objective", "progress-updates", "eqia-pipeline", "incident-trend"} <= set(
        ids
    )
    assert any(i.startswith("community-m") for i in ids)
    for chart_id in ids:
        assert _csv(client, f"/t/sevenoaks/dashboard/{chart_id}.csv") == _chart_rows(page, chart_id)
    assert client.get("/t/sevenoaks/dashboard/no-such-chart.csv").status_code == 404
    assert client.get("/t/sevenoaks/dashboard/community-m999999.csv").status_code == 404


def test_the_dashboard_says_each_chart_in_words_and_works_without_javascript(client, login_as):
    login_as("officer", "sevenoaks")
    page = client.get("/t/sevenoaks/").get_data(as_text=True)
    charts = re.findall(r'<section class="portal-chart".*?</section>', page, re.S)
    assert len(charts) >= 6
    for section in charts:
        assert re.search(r'<p class="govuk-body portal-chart__summary"[^>]*>[^<]+\.</p>', section)
        if "data-chart=" in section:
            assert "which is switched off or has not loaded" in section
            assert re.search(r'role="img" aria-label="[^"]+"', section)
            assert re.search(r"<details[^>]*open", section)
    assert "My actions due or overdue" in page
    assert "Impact assessments: the pipeline" in page


def test_an_officers_overdue_actions_are_listed(app, client, login_as):
    from portal.actions.models import Action
    from portal.auth.models import User

    with app.app_context(), tenant_scope(tenant("sevenoaks")):
        officer = database.session.scalar(
            database.select(User).where(User.email == "officer@sevenoaks.demo")
        )
        action = database.session.scalars(database.select(Action)).first()
        action.lead_user_id = officer.id
        action.status = "at-risk"
        from datetime import date

        action.target_date = date(2020, 1, 31)
        database.session.commit()
        reference, task = action.reference, action.task
    login_as("officer", "sevenoaks")
    page = client.get("/t/sevenoaks/").get_data(as_text=True)
    mine = page[page.index('id="my-actions"') : page.index("All my actions")]
    assert reference in mine and "Overdue" in mine and "31 January 2020" in mine
    assert html.escape(task[:40]) in mine or task[:40] in html.unescape(mine)


def test_a_measure_with_a_target_shows_rag_and_travel_on_the_dashboard(app, client, login_as):
    with app.app_context():
        _measure_with_target(None, "sevenoaks", {"2023": 70, "2024": 80})
    login_as("viewer", "sevenoaks")
    page = client.get("/t/sevenoaks/").get_data(as_text=True)
    measures = page[page.index("Measures with targets") : page.index("against the community")]
    assert "Residents satisfied with services" in measures
    assert "Green: target met" in measures
    assert "↑" in measures and "Up: better, from 70% in 2023 to 2024" in measures


def test_a_chart_number_with_a_superscript_digit_is_not_found(client, login_as):
    # "²".isdigit() is true but int("²") raises: only ASCII decimal digits name a measure.
    login_as("officer", "sevenoaks")
    assert client.get("/t/sevenoaks/dashboard/community-m%C2%B2.csv").status_code == 404


def test_each_chart_on_the_dashboard_has_a_heading_of_its_own(client, login_as):
    login_as("officer", "sevenoaks")
    page = client.get("/t/sevenoaks/").get_data(as_text=True)
    headings = [
        text.strip()
        for _, text in re.findall(r'<(h[2-5]) class="govuk-heading-[lms]"[^>]*>([^<]+)</\1>', page)
    ]
    community = [h for h in headings if "against the community" in h]
    assert len(community) >= 2
    assert any(" by ethnic group, against the community" in h for h in community)
    assert any(" by disability, against the community" in h for h in community)
    assert len(set(headings)) == len(headings), headings


def test_the_pipeline_counts_reviews_due_as_the_list_below_it_does(app, client, login_as):
    login_as("officer", "sevenoaks")
    page = client.get("/t/sevenoaks/").get_data(as_text=True)
    section = page.split('id="impact-assessments"')[1].split('id="hate-incidents"')[0]
    listed = section.split("Impact assessments due for review")[1].split("</ul>")[0]
    due = listed.count("<li>")
    assert due >= 1
    summary = re.search(r"Of \d+ impact assessments?, [^<]+\.", section).group(0)
    assert f"{due} is due for review" in summary if due == 1 else f"{due} are due" in summary
    assert "1 are" not in summary
