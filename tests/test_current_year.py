"""The current year: each partnership's current plan period, measures that follow it, and
demonstration figures up to the last full year."""

from __future__ import annotations

import io
from pathlib import Path

from sqlalchemy import select

from portal.aims import services as aims
from portal.aims.models import PlanPeriod
from portal.extensions import db as database
from portal.monitoring import joint, measures, periods
from portal.monitoring.models import Measure, MeasureDefinition
from portal.partners.models import Partnership
from portal.tenancy import partnership_scope, tenant_scope
from tests.helpers import audit_events, by_number, csrf_token, tenant


def _partnership(slug: str) -> Partnership:
    return database.session.scalar(select(Partnership).where(Partnership.slug == slug))


def _hate_incidents(slug: str, key: str = "hate-incidents-reported") -> Measure:
    definition = database.session.scalar(
        select(MeasureDefinition).where(MeasureDefinition.key == key)
    )
    return database.session.scalar(select(Measure).where(Measure.definition_id == definition.id))


def test_the_financial_year_turns_in_april():
    from datetime import date

    assert periods.financial_year(date(2026, 11, 30)) == 2026
    assert periods.financial_year(date(2026, 3, 31)) == 2025
    assert periods.last_full_year(date(2026, 11, 30)) == 2025


def test_each_demonstration_partnership_has_a_current_period_marked_as_demonstration(ctx):
    for slug in ("west-kent", "kent-network"):
        with partnership_scope(_partnership(slug)):
            period = aims.current_period(_partnership(slug).id, 2026)
            assert period is not None and period.label == "2024–28"
            assert period.is_demo and not period.is_draft
            assert "(demonstration)" in period.title
            assert period.paragraphs[0].startswith("Demonstration data")
    with partnership_scope(_partnership("west-kent")):
        west_kent = aims.current_period(_partnership("west-kent").id, 2026)
        aims_texts = [a.text for r in west_kent.roles for a in r.aims]
        assert "We will record, monitor and respond to 'hate' incidents." in aims_texts
        # The seed framework stays as history, not demonstration, and not current.
        history = database.session.scalar(
            select(PlanPeriod).where(
                PlanPeriod.partnership_id == _partnership("west-kent").id,
                PlanPeriod.start_year == 2012,
            )
        )
        assert history.title == "Our Aims and Commitments for 2012-16" and not history.is_demo
        assert aims.current_period(_partnership("west-kent").id, 2014).id == history.id


def test_the_seed_document_text_is_still_word_for_word_in_the_history():
    seed = Path(__file__).resolve().parents[2] / "shared/seeds"
    if not seed.exists():
        seed = Path("/work/shared/seeds")
    text = (seed / "west-kent-equality-partnership-aims-2012-16.txt").read_text()
    from portal.aims.demo import WEST_KENT

    for paragraph in WEST_KENT["introduction"]:
        assert " ".join(paragraph.split()) in " ".join(text.split())


def test_measures_follow_the_current_plan_period_with_figures_to_the_last_full_year(ctx):
    for slug in ("sevenoaks", "tonbridge-malling", "west-kent-housing", "maidstone", "thanet"):
        with tenant_scope(tenant(slug)):
            rows = database.session.scalars(select(Measure)).all()
            assert rows and all(m.last_year == 2027 for m in rows), slug
            hate = _hate_incidents(slug)
            if hate is None:
                continue
            years = {periods.year_of(p) for p in measures.stored_values(hate)}
            assert {2024, 2025} <= years, slug
            assert 2026 not in years, slug  # the year has not ended
    with tenant_scope(tenant("sevenoaks")):
        row = _hate_incidents("sevenoaks")
        assert row.first_year == 2012  # the earlier years stay
        assert {"2012-Q1", "2015-Q4"} <= set(measures.stored_values(row))
    # An organisation in no partnership has no current period: its plan is unchanged.
    with tenant_scope(tenant("gentoo")):
        assert all(m.last_year == 2020 for m in database.session.scalars(select(Measure)))


def test_this_years_figures_can_be_imported(app, client, login_as):
    login_as("officer", "sevenoaks")
    with app.app_context(), tenant_scope(tenant("sevenoaks")):
        definition = database.session.scalar(
            select(MeasureDefinition).where(MeasureDefinition.key == "workforce-profile")
        )
        number = database.session.scalar(
            select(Measure.number).where(
                Measure.definition_id == definition.id, Measure.breakdown == "ethnic_group"
            )
        )
    url = f"/t/sevenoaks/monitoring/measures/{number}/import"
    data = b"period,category,value\n2025,,480\n2025,White,380\n"
    response = client.post(
        url,
        data={"csrf_token": csrf_token(client, url), "file": (io.BytesIO(data), "f.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context(), tenant_scope(tenant("sevenoaks")):
        stored = measures.stored_values(by_number(Measure, number))
        assert stored["2025"][""] == 480 and stored["2025"]["White"] == 380


def test_the_figures_form_offers_the_current_periods_years(app, client, login_as):
    login_as("officer", "sevenoaks")
    with app.app_context(), tenant_scope(tenant("sevenoaks")):
        number = _hate_incidents("sevenoaks", "eqias-completed").number
    url = f"/t/sevenoaks/monitoring/measures/{number}/figures"
    page = client.get(url).get_data(as_text=True)
    for year in (2024, 2025, 2026, 2027):
        assert f"{year} to {year + 1}</th>" in page
    assert "2012 to 2013</th>" not in page
    assert "April 2012 to March 2016</option>" in page
    history = client.get(url + "?from=2012").get_data(as_text=True)
    assert "2012 to 2013</th>" in history and "2025 to 2026</th>" not in history
    # Saving this period's grid leaves the earlier years' figures alone.
    response = client.post(
        url, data={"csrf_token": csrf_token(client, url), "v-2026-0": "12", "v-2025-0": "40"}
    )
    assert response.status_code == 302
    with app.app_context(), tenant_scope(tenant("sevenoaks")):
        stored = measures.stored_values(by_number(Measure, number))
        assert stored["2026"][""] == 12 and "2012" in stored and "2024" not in stored


def test_a_new_measure_starts_with_the_current_plan_years(client, login_as):
    login_as("officer", "sevenoaks")
    page = client.get("/t/sevenoaks/monitoring/measures/new").get_data(as_text=True)
    assert 'value="2024"' in page and 'value="2027"' in page


def test_joint_measures_of_the_current_period_are_reported_by_members(ctx):
    with partnership_scope(_partnership("west-kent")):
        shared = database.session.scalars(joint.joint_measures()).all()
        assert len(shared) == 2 and all((d.first_year, d.last_year) == (2024, 2027) for d in shared)
        part = next(d for d in shared if d.base_id)
        assert part.aim_measure.aim.period.label == "2024–28"
        for slug in ("sevenoaks", "tunbridge-wells", "tonbridge-malling", "west-kent-housing"):
            with tenant_scope(tenant(slug)):
                row = database.session.scalar(
                    select(Measure).where(Measure.definition_id == part.id)
                )
                stored = measures.stored_values(row)
                assert set(stored) == {"2024", "2025"} and row.is_demo
    with partnership_scope(_partnership("kent-network")):
        assert database.session.scalars(joint.joint_measures()).all()


def test_publishing_a_new_period_carries_members_measures_into_it(app, ctx):
    west_kent = _partnership("west-kent")
    with partnership_scope(west_kent):
        current = aims.current_period(west_kent.id, 2026)
        later = aims.copy_period(current, title="Later", start_year=2026, end_year=2031)
        aims.publish_period(later)
    with tenant_scope(tenant("tunbridge-wells")):
        assert all(m.last_year == 2030 for m in database.session.scalars(select(Measure)))
    assert audit_events(app, action="measure.plan_followed")
