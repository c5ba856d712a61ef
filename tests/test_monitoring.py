"""Measures and their figures, community profiles, and the partnership's released view."""

from __future__ import annotations

import html
import io
import re

import pytest
from sqlalchemy import select

from portal.extensions import db as database
from portal.monitoring import catalogue, figures, measures, partnership_view, profiles
from portal.monitoring.models import Measure, MeasureDefinition, MeasureValue
from portal.tenancy import tenant_scope
from tests.helpers import audit_events, by_number, csrf_token, scoped, tenant

CENSUS = "portal/monitoring/data/census2021_districts.csv"


def table_rows(page: str) -> dict[str, list[str]]:
    """The body rows of the page's tables as the reader sees them: each row's header
    cell, then the text of its other cells, tags taken out. Where two tables have a row
    of the same name (a chart's table after the page's own), the first one counts."""
    rows = {}
    for body in re.findall(r"<tbody[^>]*>(.*?)</tbody>", page, re.S):
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S):
            cells = [
                html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", cell))).strip()
                for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
            ]
            rows.setdefault(cells[0], cells[1:])
    return rows


def _partnership(slug: str):
    from portal.partners.models import Partnership

    return database.session.scalar(select(Partnership).where(Partnership.slug == slug))


def _definition(key: str) -> MeasureDefinition:
    return database.session.scalar(select(MeasureDefinition).where(MeasureDefinition.key == key))


def _measure(slug: str, **fields) -> int:
    with tenant_scope(tenant(slug)):
        shape = {
            "name": "Complaints received",
            "unit": "count",
            "period_type": "year",
            "breakdown": "sex",
            "first_year": 2019,
            "last_year": 2021,
        } | fields
        return measures.add_measure(**shape).number


def _values(slug: str, measure_number: int) -> dict:
    with tenant_scope(tenant(slug)):
        return measures.stored_values(by_number(Measure, measure_number))


def _grid(client, measure_number: int, fields: dict, slug: str = "sevenoaks"):
    url = f"/t/{slug}/monitoring/measures/{measure_number}/figures"
    return client.post(url, data={"csrf_token": csrf_token(client, url), **fields})


# --- measures --------------------------------------------------------------------------


def test_the_seeds_measures_are_built_in(ctx):
    names = {d.name for d in database.session.scalars(catalogue.built_in_definitions())}
    for expected in [
        "Hate incidents reported",
        "Attendance at events and services",
        "Consultation responses from seldom-heard groups",
        "Customer satisfaction (STAR survey)",
        "Complaints received",
        "Workforce profile (number of employees)",
        "Mean gender pay gap",
        "Median gender pay gap",
        "Employees working flexibly (including home working)",
        "Employees taking flexible retirement",
        "Equality impact assessments completed",
        "Equality impact assessments published",
    ]:
        assert expected in names
    assert "STAR data" in _definition("customer-satisfaction-star").source


def test_an_officer_takes_up_a_built_in_measure_by_a_characteristic(app, client, login_as):
    login_as("officer", "thanet")
    with app.app_context():
        complaints = _definition("complaints").id
    url = "/t/thanet/monitoring/measures/new"
    form = {"csrf_token": csrf_token(client, url), "definition": str(complaints)}
    response = client.post(url, data=form | {"first_year": "2019", "last_year": "2022"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Choose the characteristic to break it down by" in page
    response = client.post(
        url, data=form | {"first_year": "2019", "last_year": "2022", "breakdown": "disability"}
    )
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Complaints received by disability" in page
    assert "April 2019 to March 2023" in page
    assert "Gentoo" in page  # the source it comes from


def test_an_officer_describes_a_measure_of_their_own(client, login_as):
    login_as("officer", "thanet")
    url = "/t/thanet/monitoring/measures/new"
    data = {
        "csrf_token": csrf_token(client, url),
        "definition": "own",
        "first_year": "2021",
        "last_year": "2019",
    }
    page = client.post(url, data=data).get_data(as_text=True)
    assert "Enter the measure&#39;s name" in page or "Enter the measure's name" in page
    data |= {"name": "Library visits", "unit": "count", "period_type": "quarter"}
    page = client.post(url, data=data).get_data(as_text=True)
    assert "The last year must be the same as the first or after it" in page
    data |= {"first_year": "twenty"}
    page = client.post(url, data=data).get_data(as_text=True)
    assert "First year of the plan must be a year, like 2017" in page
    data |= {"first_year": "2019", "last_year": "2020"}
    response = client.post(url, data=data)
    assert response.status_code == 302


def test_viewers_read_measures_but_do_not_change_them(app, client, login_as):
    with app.app_context():
        measure_number = _measure("sevenoaks")
    login_as("viewer", "sevenoaks")
    assert client.get("/t/sevenoaks/monitoring/measures").status_code == 200
    assert client.get(f"/t/sevenoaks/monitoring/measures/{measure_number}").status_code == 200
    assert client.get("/t/sevenoaks/monitoring/measures/new").status_code == 403
    assert (
        client.get(f"/t/sevenoaks/monitoring/measures/{measure_number}/figures").status_code == 403
    )


# --- the grid --------------------------------------------------------------------------


def test_figures_are_entered_in_a_grid_and_shown_exactly(app, client, login_as):
    with app.app_context():
        measure_number = _measure("sevenoaks")
    login_as("officer", "sevenoaks")
    page = client.get(f"/t/sevenoaks/monitoring/measures/{measure_number}/figures").get_data(
        as_text=True
    )
    assert '<label class="govuk-visually-hidden" for="v-2019-1">Female, 2019 to 2020</label>' in (
        page
    )
    response = _grid(client, measure_number, {"v-2019-0": "23", "v-2019-1": "13", "v-2019-2": "3"})
    assert response.status_code == 302
    with app.app_context():
        assert _values("sevenoaks", measure_number) == {"2019": {"": 23, "Female": 13, "Male": 3}}
        events = audit_events(app, action="measure.values_saved")
        assert events[-1].detail["via"] == "grid"
    page = client.get(f"/t/sevenoaks/monitoring/measures/{measure_number}").get_data(as_text=True)
    # Its own people see exact figures, small ones included.
    assert ">23<" in page and ">3<" in page


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"v-2019-0": "-4"}, "Total, 2019 to 2020: a count cannot be negative"),
        ({"v-2019-0": "4.5"}, "Total, 2019 to 2020: a count must be a whole number"),
        ({"v-2019-0": "lots"}, "Total, 2019 to 2020: enter a number, like 12"),
        (
            {"v-2019-0": "10", "v-2019-1": "8", "v-2019-2": "5"},
            "2019 to 2020: the categories add up to 13, which is more than the total of 10",
        ),
        ({"v-2019-1": "8"}, "2019 to 2020: enter the total as well as its parts"),
    ],
)
def test_a_wrong_grid_saves_nothing_and_says_why(app, client, login_as, fields, message):
    with app.app_context():
        measure_number = _measure("sevenoaks")
    login_as("officer", "sevenoaks")
    _grid(client, measure_number, {"v-2020-0": "50"})
    response = _grid(client, measure_number, {"v-2020-0": "60", "v-2021-0": "70", **fields})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in page
    assert "Nothing was saved" in page
    assert 'value="60"' in page  # what was typed is kept for correcting
    with app.app_context():
        assert _values("sevenoaks", measure_number) == {"2020": {"": 50}}


def test_percentages_cannot_pass_100_and_pay_gaps_may_be_below_zero(app, client, login_as):
    with app.app_context():
        star = _measure("sevenoaks", name="Satisfaction", unit="percentage", breakdown="")
        gap = _definition("gender-pay-gap-mean")
        with tenant_scope(tenant("sevenoaks")):
            gap_id = measures.add_measure(definition=gap, first_year=2019, last_year=2020).number
    login_as("officer", "sevenoaks")
    page = _grid(client, star, {"v-2019-0": "101"}).get_data(as_text=True)
    assert "Total, 2019 to 2020: a percentage cannot be over 100" in page
    page = _grid(client, star, {"v-2019-0": "-2"}).get_data(as_text=True)
    assert "this measure cannot be below 0" in page
    assert _grid(client, gap_id, {"v-2019-0": "-2.5"}).status_code == 302
    with app.app_context():
        assert _values("sevenoaks", gap_id) == {"2019": {"": -2.5}}


def test_a_quarterly_grid_shows_one_year_at_a_time(app, client, login_as):
    with app.app_context():
        measure_number = _measure("sevenoaks", period_type="quarter", breakdown="")
    login_as("officer", "sevenoaks")
    url = f"/t/sevenoaks/monitoring/measures/{measure_number}/figures?year=2020"
    page = client.get(url).get_data(as_text=True)
    assert "April to June 2020" in page and "January to March 2021" in page
    assert "April to June 2019" not in page
    response = client.post(url, data={"csrf_token": csrf_token(client, url), "v-2020-Q4-0": "9"})
    assert response.status_code == 302
    with app.app_context():
        assert _values("sevenoaks", measure_number) == {"2020-Q4": {"": 9}}


# --- CSV import ------------------------------------------------------------------------


def _import(client, measure_number: int, text: str, slug: str = "sevenoaks"):
    url = f"/t/{slug}/monitoring/measures/{measure_number}/import"
    return client.post(
        url,
        data={
            "csrf_token": csrf_token(client, url),
            "file": (io.BytesIO(text.encode()), "figures.csv"),
        },
        content_type="multipart/form-data",
    )


def test_figures_are_imported_from_a_csv_file(app, client, login_as):
    with app.app_context():
        measure_number = _measure("sevenoaks")
    login_as("officer", "sevenoaks")
    text = (
        "period,category,value\n2019,,40\n2019,Female,22\n2019-20,Male,17\n2020 to 2021,Total,41\n"
    )
    response = _import(client, measure_number, text)
    assert response.status_code == 302
    with app.app_context():
        assert _values("sevenoaks", measure_number) == {
            "2019": {"": 40, "Female": 22, "Male": 17},
            "2020": {"": 41},
        }
        assert audit_events(app, action="measure.values_saved")[-1].detail["via"] == "csv"


def test_a_wrong_csv_file_saves_nothing_and_lists_every_mistake(app, client, login_as):
    with app.app_context():
        measure_number = _measure("sevenoaks")
    login_as("officer", "sevenoaks")
    text = "period,category,value\n2019,,40\n2019,Women,22\n2030,,5\nnext year,,5\n2019,,41\n"
    page = _import(client, measure_number, text).get_data(as_text=True)
    assert "Line 4: “next year” is not a period" not in page  # line numbers count the header
    assert "Line 5: “next year” is not a period. Write it like 2019" in page
    assert "Line 6: repeats the figure for Total, 2019 to 2020 (line 2)" in page
    page = _import(
        client, measure_number, "period,category,value\n2019,,40\n2019,Women,2\n2030,,5\n"
    )
    page = page.get_data(as_text=True)
    assert "Line 3: “Women” is not a category of sex. Use one of: Female; Male" in page
    assert (
        "Line 4: 2030 to 2031 is outside the plan, which runs from April 2019 to March 2022" in page
    )
    page = _import(client, measure_number, "period,category,value\n2019,,40\n2019,Female,50\n")
    assert "the categories add up to 50, which is more than the total of 40" in page.get_data(
        as_text=True
    )
    page = _import(client, measure_number, "when,what\n2019,4\n").get_data(as_text=True)
    assert "The first line of the file must name the columns" in page
    with app.app_context():
        assert _values("sevenoaks", measure_number) == {}


def test_an_import_keeps_the_rest_of_a_period_and_checks_the_result(app, client, login_as):
    with app.app_context():
        measure_number = _measure("sevenoaks")
    login_as("officer", "sevenoaks")
    _grid(client, measure_number, {"v-2019-0": "30", "v-2019-1": "20"})
    page = _import(client, measure_number, "period,category,value\n2019,Male,15\n")
    assert "add up to 35, which is more than the total of 30" in page.get_data(as_text=True)
    assert (
        _import(client, measure_number, "period,category,value\n2019,Male,10\n").status_code == 302
    )
    with app.app_context():
        assert _values("sevenoaks", measure_number) == {"2019": {"": 30, "Female": 20, "Male": 10}}


# --- community profile -----------------------------------------------------------------


def test_the_community_profile_shows_census_figures_and_their_source(client, login_as):
    login_as("viewer", "sevenoaks")
    page = client.get("/t/sevenoaks/monitoring/community").get_data(as_text=True)
    assert "Census 2021, Office for National Statistics" in page
    assert "Sevenoaks" in page
    assert "62,307" in page  # females, TS009
    assert "Disabled under the Equality Act" in page


def test_no_census_figures_are_invented_for_a_housing_association(client, login_as):
    login_as("viewer", "west-kent-housing")
    page = client.get("/t/west-kent-housing/monitoring/community").get_data(as_text=True)
    assert "No community profile loaded" in page


def test_load_profile_command_records_the_source(app):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["monitoring", "load-profile", "west-kent-housing", CENSUS, "--source", "ONS"]
    )
    assert result.exit_code != 0
    assert "several areas" in result.output
    result = runner.invoke(
        args=[
            "monitoring",
            "load-profile",
            "west-kent-housing",
            CENSUS,
            "--source",
            "Census 2021, Tunbridge Wells (where most of its homes are)",
            "--area",
            "E07000116",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "figures loaded for Tunbridge Wells" in result.output
    with app.app_context():
        with tenant_scope(tenant("west-kent-housing")):
            row = profiles.profile()
            assert row.source.startswith("Census 2021, Tunbridge Wells")
            assert profiles.profile_tables(row)["sex"][""] > 0
    result = runner.invoke(args=["monitoring", "load-profile", "nowhere", CENSUS, "--source", "x"])
    assert "There is no organisation 'nowhere'" in result.output


def test_a_bad_profile_file_changes_nothing(app, tmp_path):
    bad = tmp_path / "profile.csv"
    bad.write_text("characteristic,category,value\nsex,Female,10\nsex,Women,4\n")
    result = app.test_cli_runner().invoke(
        args=["monitoring", "load-profile", "sevenoaks", str(bad), "--source", "survey"]
    )
    assert result.exit_code != 0
    assert "“Women” is not a category of Sex" in result.output
    with app.app_context(), tenant_scope(tenant("sevenoaks")):
        assert profiles.profile().source.startswith("Census 2021")


def test_figures_are_compared_with_the_community(app, client, login_as):
    with app.app_context():
        measure_number = _measure("sevenoaks")
    login_as("officer", "sevenoaks")
    _grid(client, measure_number, {"v-2019-0": "200", "v-2019-1": "120", "v-2019-2": "70"})
    page = client.get(f"/t/sevenoaks/monitoring/measures/{measure_number}/compare").get_data(
        as_text=True
    )
    # 120 of the 190 recorded as female or male: the 10 in neither are left out, as the
    # census leaves out nobody (a share of the 200 would be 60.0%, a gap of missing data).
    assert "63.2%" in page and "60.0%" not in page
    assert "51.7%" in page  # 62,307 of 120,519 residents are female
    assert "10 of the total of 200 (5 %) are in no category and are left out." in page


# --- the partnership's view ------------------------------------------------------------


def _fresh_measure(
    slug: str, key: str, breakdown: str, totals: dict[str, int], replace: bool = True
) -> int:
    """Give a member one measure of definition ``key`` with 2019's ``totals`` (a year the
    demonstration releases nothing for, between its two plan periods), replacing
    any it has (the demonstration data gives members some) unless ``replace`` is False."""
    definition = _definition(key)
    with tenant_scope(tenant(slug)):
        for old in database.session.scalars(
            select(Measure).where(Measure.definition_id == definition.id)
        ):
            if replace:
                database.session.delete(old)
        database.session.commit()
        row = measures.add_measure(
            definition=definition, breakdown=breakdown, first_year=2019, last_year=2019
        )
        cells = [figures.Cell("2019", c, str(v), c) for c, v in totals.items()]
        figures.save_values(row, cells, via="test")
    return definition.id


def test_a_lead_sees_members_figures_only_as_released(app, client, login_as):
    with app.app_context():
        for slug, figures in {
            "sevenoaks": {"": 23, "Female": 3},
            "tunbridge-wells": {"": 132, "Female": 61, "Male": 71},
        }.items():
            definition_id = _fresh_measure(slug, "attendance-events-services", "sex", figures)
    login_as("lead", partnership="west-kent")
    page = client.get("/p/west-kent/monitoring/measures").get_data(as_text=True)
    assert "Attendance at events and services by sex" in page
    url = f"/p/west-kent/monitoring/measures/{definition_id}?breakdown=sex&period=2019"
    page = client.get(url).get_data(as_text=True)
    rows = table_rows(page)
    with app.app_context():
        sevenoaks, wells = tenant("sevenoaks").name, tenant("tunbridge-wells").name
    # Female, Male, not recorded against a sex, total.
    assert rows[sevenoaks] == ["fewer than 8", "not entered", "20 (rounded)", "25 (rounded)"]
    assert rows[wells] == ["60 (rounded)", "70 (rounded)", "0", "130 (rounded)"]
    shown = [cell for row in rows.values() for cell in row]
    for exact in ("23", "3", "132", "61", "71"):
        assert not any(re.search(rf"(?<![\d,]){exact}(?![\d,])", c) for c in shown), exact
    assert ["No figures for this period"] in rows.values()  # members that do not report
    with app.app_context():
        reads = audit_events(app, action="cross_tenant.read")
        assert "sevenoaks" in reads[-1].detail["tenants"]


def test_a_total_that_would_reveal_a_small_count_is_withheld(app, client, login_as):
    # 7 + 12 + 12, and 12 not recorded against an age band (43 in all): a rounded total
    # would pin the hidden 7 down.
    figures = {"": 43, "Aged 0 to 14": 7, "Aged 15 to 64": 12, "Aged 65 and over": 12}
    with app.app_context():
        definition_id = _fresh_measure("sevenoaks", "attendance-events-services", "age", figures)
    login_as("lead", partnership="west-kent")
    url = f"/p/west-kent/monitoring/measures/{definition_id}?breakdown=age&period=2019"
    page = client.get(url).get_data(as_text=True)
    assert "not shown" in page and "withheld to protect small counts" in page
    assert "45 <span" not in page


def test_one_total_is_withheld_in_every_table_that_shows_it(app, client, login_as):
    # The same attendance by age (7, 12, 12, and 12 not recorded) and by sex (20, 23):
    # 43 in both. The age table must withhold its total; were the sex table to show 45,
    # the age table's rounded cells (at most 12 each) would pin the hidden 7 down.
    key = "attendance-events-services"
    age = {"": 43, "Aged 0 to 14": 7, "Aged 15 to 64": 12, "Aged 65 and over": 12}
    with app.app_context():
        definition_id = _fresh_measure("sevenoaks", key, "age", age)
        _fresh_measure("sevenoaks", key, "sex", {"": 43, "Female": 20, "Male": 23}, replace=False)
        sevenoaks = tenant("sevenoaks").name
    login_as("lead", partnership="west-kent")
    url = f"/p/west-kent/monitoring/measures/{definition_id}?period=2019&breakdown="
    by_age = table_rows(client.get(url + "age").get_data(as_text=True))[sevenoaks]
    by_sex = table_rows(client.get(url + "sex").get_data(as_text=True))[sevenoaks]
    assert by_age == [
        "fewer than 8",
        "10 (rounded)",
        "10 (rounded)",
        "10 (rounded)",
        "not shown (withheld to protect small counts)",
    ]
    assert by_sex == [
        "20 (rounded)",
        "25 (rounded)",
        "0",
        "not shown (withheld to protect small counts)",
    ]
    with app.app_context():
        # The same holds for anything the service feeds, not only this page.
        from portal.partners.models import Partnership

        west_kent = database.session.scalar(
            select(Partnership).where(Partnership.slug == "west-kent")
        )
        view = partnership_view.across_members(west_kent, _definition(key), "sex", "2019")
        row = next(m for m in view.members if m.tenant.slug == "sevenoaks")
        assert row.table.total.status == "withheld"


def test_a_partnership_lead_sees_no_other_partnerships_joint_measure(app, client, login_as):
    with scoped(app, "kent-network"):
        from portal.partners.models import Partnership

        other = database.session.scalar(
            select(Partnership).where(Partnership.slug == "kent-network")
        )
        row = MeasureDefinition(
            name="Kent only", unit="count", period_type="year", partnership_id=other.id
        )
        database.session.add(row)
        database.session.commit()
        other_id = row.id
    login_as("lead", partnership="west-kent")
    assert client.get(f"/p/west-kent/monitoring/measures/{other_id}").status_code == 404
    assert client.get("/p/kent-network/monitoring/measures").status_code == 404


def test_the_lead_sets_the_partnerships_disclosure_rule(app, client, login_as):
    login_as("lead", partnership="west-kent")
    url = "/p/west-kent/monitoring/disclosure"
    page = client.get(url).get_data(as_text=True)
    assert "fewer than 8" in page and 'value="5"' in page
    response = client.post(
        url, data={"csrf_token": csrf_token(client, url), "threshold": "11", "rounding": "5"}
    )
    assert "would be shown as 10, which is below the threshold" in response.get_data(as_text=True)
    response = client.post(
        url, data={"csrf_token": csrf_token(client, url), "threshold": "ten", "rounding": "5"}
    )
    assert "Enter the threshold as a whole number, like 8" in response.get_data(as_text=True)
    # Near-exact counts are refused: a lead may only make the rule stricter.
    response = client.post(
        url, data={"csrf_token": csrf_token(client, url), "threshold": "3", "rounding": "1"}
    )
    page = response.get_data(as_text=True).replace("&#39;", "'")
    assert response.status_code == 200
    assert "the rule can only be made stricter than the portal's" in page
    response = client.post(
        url, data={"csrf_token": csrf_token(client, url), "threshold": "10", "rounding": "10"}
    )
    assert response.status_code == 302
    assert "fewer than 10" in client.get(url).get_data(as_text=True)
    with app.app_context():
        events = audit_events(app, action="partnership.disclosure_rule_changed")
        assert {e.tenant_id for e in events} == {None} | {
            t.id for t in _partnership("west-kent").members
        }
        for event in events:
            assert event.detail == {"partnership": "west-kent", "from": [8, 5], "to": [10, 10]}


@pytest.mark.parametrize(("threshold", "rounding"), [(3, 1), (7, 5), (8, 4), (3, 10)])
def test_the_rule_cannot_go_below_the_portals_floor(app, threshold, rounding):
    from portal.disclosure import RuleError
    from portal.partners.models import Partnership

    with app.app_context():
        west_kent = database.session.scalar(
            select(Partnership).where(Partnership.slug == "west-kent")
        )
        with pytest.raises(RuleError, match="can only be made stricter"):
            partnership_view.set_disclosure_rule(west_kent, threshold, rounding)
        database.session.rollback()
        database.session.refresh(west_kent)
        assert (west_kent.disclosure_threshold, west_kent.disclosure_rounding) == (8, 5)
        assert not audit_events(app, action="partnership.disclosure_rule_changed")


def test_tenant_users_cannot_reach_partnership_figures(client, login_as):
    login_as("officer", "sevenoaks")
    assert client.get("/p/west-kent/monitoring/measures").status_code == 404
    assert client.get("/p/west-kent/monitoring/disclosure").status_code == 404


# --- demonstration data ----------------------------------------------------------------


def test_demonstration_figures_are_marked_and_follow_the_rules(app, client, login_as):
    with app.app_context(), tenant_scope(tenant("gentoo")):
        rows = database.session.scalars(measures.measures()).all()
        assert {m.definition.key for m in rows} == {
            "customer-satisfaction-star",
            "complaints",
        }
        values = database.session.scalars(select(MeasureValue)).all()
        assert values and all(v.is_demo for v in values)
        for m in rows:
            stored = measures.stored_values(m)
            cells = [
                figures.Cell(p, c, m.raw(v), "demo")
                for p, row in stored.items()
                for c, v in row.items()
            ]
            assert len(stored) == len(m.periods)
            assert not figures.check_values(m, cells).problems
        first = rows[0].number
    login_as("viewer", "gentoo")
    page = client.get(f"/t/gentoo/monitoring/measures/{first}").get_data(as_text=True)
    assert "Demonstration data" in page


# --- changing and deleting a measure ---------------------------------------------------


def _edit(client, measure_number: int, fields: dict, slug: str = "sevenoaks"):
    url = f"/t/{slug}/monitoring/measures/{measure_number}/edit"
    page = client.get(url).get_data(as_text=True)
    version = re.search(r'name="version" type="hidden" value="(\d+)"', page)
    version = version or re.search(r'id="version" name="version" type="hidden" value="(\d+)"', page)
    data = {
        "csrf_token": csrf_token(client, url),
        "version": version.group(1) if version else "1",
        "name": "Complaints received",
        "unit": "count",
        "period_type": "year",
        "breakdown": "sex",
        "first_year": "2019",
        "last_year": "2021",
    } | fields
    return client.post(url, data=data)


def test_an_officer_changes_a_measure_before_it_has_figures(app, client, login_as):
    with app.app_context():
        measure_number = _measure("sevenoaks")
    login_as("officer", "sevenoaks")
    response = _edit(
        client,
        measure_number,
        {"name": "Complaints", "unit": "percentage", "breakdown": "age", "last_year": "2022"},
    )
    assert response.status_code == 302
    with app.app_context(), tenant_scope(tenant("sevenoaks")):
        row = by_number(Measure, measure_number)
        assert (row.name, row.unit, row.breakdown, row.last_year) == (
            "Complaints",
            "percentage",
            "age",
            2022,
        )
    event = audit_events(app, action="measure.updated")[-1]
    assert set(event.detail["fields"]) == {"name", "unit", "breakdown", "last_year"}
    assert event.detail["from"]["breakdown"] == "sex"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"breakdown": "age"}, "It has figures saved by sex, so the breakdown cannot change"),
        ({"unit": "percentage"}, "It has figures saved, so what it counts cannot change"),
        ({"period_type": "quarter"}, "so how often it is measured cannot change"),
        (
            {"first_year": "2020"},
            "It has figures saved for 2019 to 2020, which would be outside the plan",
        ),
        ({"last_year": "2018"}, "The last year must be the same as the first or after it"),
        ({"name": "  "}, "Enter the measure"),
    ],
)
def test_a_change_that_would_invalidate_figures_is_refused(app, client, login_as, fields, message):
    with app.app_context():
        measure_number = _measure("sevenoaks")
    login_as("officer", "sevenoaks")
    assert _grid(client, measure_number, {"v-2019-0": "12", "v-2019-1": "5"}).status_code == 302
    response = _edit(client, measure_number, {"name": "Renamed"} | fields)
    page = response.get_data(as_text=True).replace("&#39;", "'")
    assert response.status_code == 200
    assert message in page
    with app.app_context(), tenant_scope(tenant("sevenoaks")):
        row = by_number(Measure, measure_number)
        assert (row.name, row.breakdown, row.first_year) == ("Complaints received", "sex", 2019)
    assert _values_after(app, measure_number) == {"2019": {"": 12, "Female": 5}}


def _values_after(app, measure_number: int) -> dict:
    with app.app_context():
        return _values("sevenoaks", measure_number)


def test_the_plan_may_grow_while_it_has_figures(app, client, login_as):
    with app.app_context():
        measure_number = _measure("sevenoaks")
    login_as("officer", "sevenoaks")
    _grid(client, measure_number, {"v-2019-0": "12"})
    assert (
        _edit(client, measure_number, {"first_year": "2017", "last_year": "2024"}).status_code
        == 302
    )
    with app.app_context(), tenant_scope(tenant("sevenoaks")):
        assert by_number(Measure, measure_number).plan_label == ("April 2017 to March 2025")


def test_a_second_save_of_the_same_version_shows_both_versions(app, client, login_as):
    with app.app_context():
        measure_number = _measure("sevenoaks")
    login_as("officer", "sevenoaks")
    url = f"/t/sevenoaks/monitoring/measures/{measure_number}/edit"
    token = csrf_token(client, url)
    base = {
        "csrf_token": token,
        "version": "1",
        "unit": "count",
        "period_type": "year",
        "breakdown": "sex",
        "first_year": "2019",
        "last_year": "2021",
    }
    assert client.post(url, data=base | {"name": "First save"}).status_code == 302
    response = client.post(url, data=base | {"name": "Second save"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Somebody else changed this measure" in page
    assert "First save" in page and "Second save" in page
    assert 'value="2"' in page  # saving again now overwrites knowingly
    with app.app_context(), tenant_scope(tenant("sevenoaks")):
        assert by_number(Measure, measure_number).name == "First save"


def test_a_built_in_measure_keeps_its_name_and_unit(app, client, login_as):
    with app.app_context(), tenant_scope(tenant("sevenoaks")):
        measure_number = measures.add_measure(
            definition=_definition("complaints"), breakdown="sex", first_year=2019, last_year=2020
        ).number
    login_as("officer", "sevenoaks")
    page = client.get(f"/t/sevenoaks/monitoring/measures/{measure_number}/edit").get_data(
        as_text=True
    )
    assert 'name="name"' not in page and 'name="breakdown"' in page
    # The form has no name to change; a forged one is ignored, and the service refuses it.
    assert (
        _edit(client, measure_number, {"name": "Ours now", "breakdown": "age"}).status_code == 302
    )
    with app.app_context(), tenant_scope(tenant("sevenoaks")):
        row = by_number(Measure, measure_number)
        assert (row.name, row.breakdown) == ("Complaints received", "age")
        with pytest.raises(measures.MeasureError, match="only its plan years and breakdown"):
            measures.update_measure(
                row,
                name="Ours now",
                unit="count",
                period_type="quarter",
                breakdown="age",
                description="",
                first_year=2019,
                last_year=2020,
                version=row.version,
            )


def test_deleting_a_measure_asks_first_and_takes_its_figures(app, client, login_as):
    with app.app_context():
        measure_number = _measure("sevenoaks")
    with app.app_context(), tenant_scope(tenant("sevenoaks")):
        row_id = by_number(Measure, measure_number).id
    login_as("officer", "sevenoaks")
    _grid(client, measure_number, {"v-2019-0": "12", "v-2019-1": "5", "v-2020-0": "4"})
    url = f"/t/sevenoaks/monitoring/measures/{measure_number}/delete"
    page = client.get(url).get_data(as_text=True)
    assert "Are you sure you want to delete Complaints received by sex?" in page
    assert "Its 3 saved figures will be deleted with it" in page
    response = client.post(url, data={"csrf_token": csrf_token(client, url)})
    assert response.status_code == 302
    with app.app_context(), tenant_scope(tenant("sevenoaks")):
        assert by_number(Measure, measure_number) is None
        assert not database.session.scalars(
            select(MeasureValue).where(MeasureValue.measure_id == row_id)
        ).all()
    event = audit_events(app, action="measure.deleted")[-1]
    assert event.detail == {"name": "Complaints received", "breakdown": "sex", "figures": 3}


def test_viewers_cannot_change_or_delete_measures(app, client, login_as):
    with app.app_context():
        measure_number = _measure("sevenoaks")
    login_as("viewer", "sevenoaks")
    base = f"/t/sevenoaks/monitoring/measures/{measure_number}"
    assert client.get(base + "/edit").status_code == 403
    assert client.get(base + "/delete").status_code == 403
    assert "Change the measure" not in client.get(base).get_data(as_text=True)


def test_the_monitoring_migration_keeps_its_own_copy_of_the_built_in_measures():
    # An old migration must do the same thing whatever the catalogue says later.
    import ast
    from pathlib import Path

    tree = ast.parse(Path("migrations/versions/0005_monitoring.py").read_text())
    imported = {
        node.module if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert imported <= {"alembic", "sqlalchemy", "portal.tenancy"}, imported


def test_a_csv_file_that_cannot_be_read_saves_nothing_and_says_why(app, client, login_as, tmp_path):
    # A value over the csv module's field limit (128 KiB) once escaped as a server error.
    with app.app_context():
        measure_number = _measure("sevenoaks")
    login_as("officer", "sevenoaks")
    huge = "x" * 140_000
    response = _import(
        client, measure_number, f'period,category,value\n2019,,40\n2019,"{huge}",4\n'
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Nothing was saved" in page
    assert "The file could not be read as a CSV file" in page
    with app.app_context():
        assert _values("sevenoaks", measure_number) == {}
    profile = tmp_path / "profile.csv"
    profile.write_text(f'characteristic,category,value\nsex,Female,10\nsex,"{huge}",4\n')
    result = app.test_cli_runner().invoke(
        args=["monitoring", "load-profile", "sevenoaks", str(profile), "--source", "survey"]
    )
    assert result.exit_code == 1
    assert "The file could not be read as a CSV file" in result.output
    assert "Traceback" not in result.output
    with app.app_context(), tenant_scope(tenant("sevenoaks")):
        assert profiles.profile().source.startswith("Census 2021")
