"""Joint measures: a partnership asks its members to report a measure, each member enters
its own figures, and the lead sees them only as released under disclosure control."""

from __future__ import annotations

import csv
import io
import json
import re
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from portal.aims.models import AimMeasure
from portal.extensions import db as database
from portal.monitoring import figures, joint, measures
from portal.monitoring.models import Measure, MeasureDefinition
from portal.partners.models import Partnership
from portal.tenancy import partnership_scope, tenant_scope
from tests.helpers import (
    as_partnership,
    audit_events,
    by_number,
    csrf_token,
    partnership,
    scoped,
    tenant,
)
from tests.test_monitoring import table_rows

NEW = "/p/west-kent/monitoring/joint-measures/new"


def _partnership(slug: str) -> Partnership:
    return database.session.scalar(select(Partnership).where(Partnership.slug == slug))


def _aim_measure(slug: str) -> SimpleNamespace:
    """The first aim measure of the partnership ``slug``, read as that partnership."""
    with as_partnership(slug):
        row = database.session.scalar(select(AimMeasure).order_by(AimMeasure.id))
        return SimpleNamespace(id=row.id, text=row.text)


def _form(client, url: str, **fields) -> dict:
    page = client.get(url).get_data(as_text=True)
    version = re.search(r'name="version" type="hidden" value="(\d+)"', page)
    return {
        "csrf_token": csrf_token(client, url),
        "version": version.group(1) if version else "",
        "name": "Attendance at partnership events",
        "unit": "count",
        "period_type": "year",
        "breakdown": "sex",
        "first_year": "2012",
        "last_year": "2015",
    } | fields


def _joint(client, **fields) -> int:
    """Add a joint measure as the signed-in lead; returns its id."""
    response = client.post(NEW, data=_form(client, NEW, **fields))
    assert response.status_code == 302, response.get_data(as_text=True)
    with scoped(client.application):
        return database.session.scalar(
            select(MeasureDefinition.id)
            .where(MeasureDefinition.name == fields.get("name", "Attendance at partnership events"))
            .order_by(MeasureDefinition.id.desc())
        )


def _report(slug: str, definition_id: int, by_period: dict[str, dict[str, int]]) -> int:
    """The member ``slug`` starts reporting the joint measure and saves ``by_period``; the
    number of the member's measure."""
    with tenant_scope(tenant(slug)):
        definition = database.session.get(MeasureDefinition, definition_id)
        row = joint.start_reporting(definition)
        cells = [
            figures.Cell(period, category, str(value), category or "Total")
            for period, values in by_period.items()
            for category, value in values.items()
        ]
        figures.save_values(row, cells, via="test")
        return row.number


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True)).replace("&#39;", "'")


# --- the lead defines joint measures ---------------------------------------------------


def test_a_lead_adds_a_joint_measure_for_an_aim(app, client, login_as):
    login_as("lead", partnership="west-kent")
    with scoped(app):
        link = _aim_measure("west-kent")
        link_id, link_text = link.id, link.text
    page = client.get(NEW).get_data(as_text=True)
    assert "How will we measure our results?" in page
    definition_id = _joint(client, aim_measure=str(link_id))
    page = _text(client.get("/p/west-kent/monitoring/measures"))
    assert "Joint measures of West Kent" in page
    assert "Attendance at partnership events" in page
    with scoped(app):
        row = database.session.get(MeasureDefinition, definition_id)
        assert (row.partnership_id, row.aim_measure_id, row.breakdown) == (
            _partnership("west-kent").id,
            link_id,
            "sex",
        )
        assert row.plan_label == "April 2012 to March 2016"
        assert audit_events(app, action="joint_measure.created")[-1].detail["name"] == (
            "Attendance at partnership events"
        )
    page = _text(client.get(f"/p/west-kent/monitoring/measures/{definition_id}"))
    assert link_text[:40] in page
    assert "No member has entered figures for this measure yet" in page


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": " "}, "Enter the measure's name"),
        ({"unit": ""}, "Choose what the measure counts"),
        ({"last_year": "2010"}, "The last year must be the same as the first or after it"),
        ({"first_year": "soon"}, "First year of the plan must be a year, like 2017"),
        ({"breakdown": "shoe size"}, "Not a valid choice"),
    ],
)
def test_a_wrong_joint_measure_is_not_added(app, client, login_as, fields, message):
    joint = select(MeasureDefinition.id).where(MeasureDefinition.partnership_id.is_not(None))
    with scoped(app):
        before = set(database.session.scalars(joint))  # the demonstration's joint measures
    login_as("lead", partnership="west-kent")
    response = client.post(NEW, data=_form(client, NEW, **fields))
    assert response.status_code == 200
    assert message in _text(response)
    with scoped(app):
        assert set(database.session.scalars(joint)) == before


def test_a_joint_measure_links_only_to_its_own_partnerships_aims(app, client, login_as):
    with scoped(app):
        other = _aim_measure("kent-network")
        other_id = other.id if other else 999_999
    login_as("lead", partnership="west-kent")
    response = client.post(NEW, data=_form(client, NEW, aim_measure=str(other_id)))
    assert "Choose one of the partnership's aims' measures" in _text(response)
    response = client.post(NEW, data=_form(client, NEW, aim_measure="nonsense"))
    assert "Choose one of the partnership's aims' measures" in _text(response)


# --- members report it -----------------------------------------------------------------


def test_members_see_the_joint_measure_and_enter_their_own_figures(app, client, auth, login_as):
    login_as("lead", partnership="west-kent")
    definition_id = _joint(client)
    auth.logout()
    login_as("officer", "sevenoaks")
    page = _text(client.get("/t/sevenoaks/monitoring/measures"))
    assert "Joint measures of West Kent Equality Partnership" in page
    assert "Start reporting" in page and "Attendance at partnership events" in page
    url = f"/t/sevenoaks/monitoring/measures/joint/{definition_id}/start"
    response = client.post(url, data={"csrf_token": csrf_token(client, "/t/sevenoaks/")})
    assert response.status_code == 302
    measure_url = response.headers["Location"]
    page = _text(client.get(measure_url))
    assert "Attendance at partnership events by sex" in page
    assert "April 2012 to March 2016" in page
    measure_number = int(re.search(r"/measures/(\d+)", measure_url).group(1))
    figures = f"/t/sevenoaks/monitoring/measures/{measure_number}/figures"
    response = client.post(
        figures,
        data={"csrf_token": csrf_token(client, figures), "v-2014-0": "23", "v-2014-1": "3"},
    )
    assert response.status_code == 302
    # Starting again leads to the same measure, not a second one.
    response = client.post(url, data={"csrf_token": csrf_token(client, "/t/sevenoaks/")})
    assert response.headers["Location"].endswith(f"/measures/{measure_number}")
    with scoped(app):
        with tenant_scope(tenant("sevenoaks")):
            rows = database.session.scalars(
                select(Measure).where(Measure.definition_id == definition_id)
            ).all()
            assert [r.number for r in rows] == [measure_number]
            assert rows[0].tenant_id == tenant("sevenoaks").id
            assert measures.stored_values(rows[0]) == {"2014": {"": 23, "Female": 3}}
        with tenant_scope(tenant("tonbridge-malling")):
            assert not database.session.scalars(
                select(Measure).where(Measure.definition_id == definition_id)
            ).all()


def test_only_members_see_a_partnerships_joint_measures(app, client, login_as):
    with scoped(app):
        row = joint.add_joint_measure(
            _partnership("west-kent"),
            name="West Kent only",
            unit="count",
            period_type="year",
            breakdown="",
            description="",
            first_year=2012,
            last_year=2015,
        )
        definition_id = row.id
    login_as("officer", "thanet")
    assert "West Kent only" not in _text(client.get("/t/thanet/monitoring/measures"))
    url = f"/t/thanet/monitoring/measures/joint/{definition_id}/start"
    response = client.post(url, data={"csrf_token": csrf_token(client, "/t/thanet/")})
    assert response.status_code == 404


def test_viewers_see_joint_measures_but_do_not_start_them(app, client, login_as):
    with scoped(app):
        definition_id = joint.add_joint_measure(
            _partnership("west-kent"),
            name="Volunteers",
            unit="count",
            period_type="year",
            breakdown="",
            description="",
            first_year=2012,
            last_year=2015,
        ).id
    login_as("viewer", "sevenoaks")
    page = _text(client.get("/t/sevenoaks/monitoring/measures"))
    assert "Volunteers" in page and "Not reported yet" in page and "Start reporting" not in page
    url = f"/t/sevenoaks/monitoring/measures/joint/{definition_id}/start"
    assert (
        client.post(url, data={"csrf_token": csrf_token(client, "/t/sevenoaks/")}).status_code
        == 403
    )


def test_the_lead_sees_members_figures_only_as_released(app, client, login_as):
    login_as("lead", partnership="west-kent")
    definition_id = _joint(client)
    with scoped(app):
        _report("sevenoaks", definition_id, {"2014": {"": 23, "Female": 3}})
        _report("tunbridge-wells", definition_id, {"2014": {"": 132, "Female": 61, "Male": 71}})
    page = client.get(f"/p/west-kent/monitoring/measures/{definition_id}?period=2014")
    rows = table_rows(page.get_data(as_text=True))
    # Female, Male, not recorded against a sex, total.
    assert rows[_name(app, "sevenoaks")] == [
        "fewer than 8",
        "not entered",
        "20 (rounded)",
        "25 (rounded)",
    ]
    assert rows[_name(app, "tunbridge-wells")] == [
        "60 (rounded)",
        "70 (rounded)",
        "0",
        "130 (rounded)",
    ]
    shown = [cell for row in rows.values() for cell in row]
    for exact in ("23", "3", "132", "61", "71"):
        assert not any(re.search(rf"(?<![\d,]){exact}(?![\d,])", c) for c in shown), exact
    assert rows[_name(app, "tonbridge-malling")] == ["No figures for this period"]
    reads = audit_events(app, action="cross_tenant.read")
    assert reads[-1].detail["tenants"] == [t.slug for t in _members(app, "west-kent")]


def _members(app, slug: str):
    with scoped(app):
        return list(_partnership(slug).members)


# --- changing and deleting joint measures ----------------------------------------------


def test_the_lead_renames_a_joint_measure_and_members_see_the_new_name(app, client, login_as):
    login_as("lead", partnership="west-kent")
    definition_id = _joint(client)
    with scoped(app):
        measure_number = _report("sevenoaks", definition_id, {"2014": {"": 10}})
    url = f"/p/west-kent/monitoring/joint-measures/{definition_id}/edit"
    response = client.post(url, data=_form(client, url, name="Attendance at joint events"))
    assert response.status_code == 302
    with app.app_context(), tenant_scope(tenant("sevenoaks")):
        assert by_number(Measure, measure_number).title == "Attendance at joint events"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"breakdown": "age"},
            "Members already report this measure (Sevenoaks District Council), so what it "
            "counts, how often and its breakdown cannot change",
        ),
        ({"unit": "percentage"}, "Members already report this measure"),
        (
            {"first_year": "2015"},
            "Members have figures saved for 2014 to 2015, which would be outside the plan",
        ),
    ],
)
def test_a_joint_change_that_would_invalidate_members_figures_is_refused(
    app, client, login_as, fields, message
):
    login_as("lead", partnership="west-kent")
    definition_id = _joint(client)
    with scoped(app):
        _report("sevenoaks", definition_id, {"2014": {"": 10, "Male": 4}})
    url = f"/p/west-kent/monitoring/joint-measures/{definition_id}/edit"
    response = client.post(url, data=_form(client, url, name="Changed", **fields))
    page = _text(response)
    assert response.status_code == 200
    assert message.replace("Sevenoaks District Council", _name(app, "sevenoaks")) in page
    with scoped(app):
        row = database.session.get(MeasureDefinition, definition_id)
        assert (row.name, row.breakdown, row.unit, row.first_year) == (
            "Attendance at partnership events",
            "sex",
            "count",
            2012,
        )


def _name(app, slug: str) -> str:
    with scoped(app):
        return tenant(slug).name


def test_a_second_save_of_a_joint_measure_shows_both_versions(app, client, login_as):
    login_as("lead", partnership="west-kent")
    definition_id = _joint(client)
    url = f"/p/west-kent/monitoring/joint-measures/{definition_id}/edit"
    stale = _form(client, url)
    assert client.post(url, data=stale | {"name": "Saved first"}).status_code == 302
    response = client.post(url, data=stale | {"name": "Saved second"})
    page = _text(response)
    assert "Somebody else changed this measure" in page
    assert "Saved first" in page and "Saved second" in page
    with scoped(app):
        assert database.session.get(MeasureDefinition, definition_id).name == "Saved first"


def test_deleting_a_joint_measure_leaves_members_their_figures(app, client, login_as):
    login_as("lead", partnership="west-kent")
    definition_id = _joint(client)
    with scoped(app):
        measure_number = _report("sevenoaks", definition_id, {"2014": {"": 10}})
    url = f"/p/west-kent/monitoring/joint-measures/{definition_id}/delete"
    page = _text(client.get(url))
    assert "Are you sure you want to delete the joint measure" in page
    assert _name(app, "sevenoaks") in page and "they keep them" in page
    assert client.post(url, data={"csrf_token": csrf_token(client, url)}).status_code == 302
    with scoped(app):
        assert database.session.get(MeasureDefinition, definition_id) is None
        with tenant_scope(tenant("sevenoaks")):
            row = by_number(Measure, measure_number)
            assert row.definition_id is None
            assert measures.stored_values(row) == {"2014": {"": 10}}
    assert audit_events(app, action="joint_measure.deleted")[-1].detail["name"] == (
        "Attendance at partnership events"
    )


def test_tenant_users_cannot_manage_joint_measures(app, client, login_as):
    with scoped(app):
        definition_id = joint.add_joint_measure(
            _partnership("west-kent"),
            name="Volunteers",
            unit="count",
            period_type="year",
            breakdown="",
            description="",
            first_year=2012,
            last_year=2015,
        ).id
    login_as("officer", "sevenoaks")
    assert client.get(NEW).status_code == 404
    assert (
        client.get(f"/p/west-kent/monitoring/joint-measures/{definition_id}/edit").status_code
        == 404
    )


def test_a_lead_cannot_change_a_built_in_measure(app, client, login_as):
    with scoped(app):
        built_in = database.session.scalar(
            select(MeasureDefinition.id).where(MeasureDefinition.key == "complaints")
        )
    login_as("lead", partnership="west-kent")
    assert client.get(f"/p/west-kent/monitoring/joint-measures/{built_in}/edit").status_code == 404
    assert (
        client.get(f"/p/west-kent/monitoring/joint-measures/{built_in}/delete").status_code == 404
    )


# --- percentages -----------------------------------------------------------------------


def test_a_percentage_of_a_count_is_worked_out_from_released_counts(app, client, login_as):
    login_as("lead", partnership="west-kent")
    responses = _joint(client, name="STAR survey responses", breakdown="")
    satisfied = _joint(client, name="Satisfied respondents", breakdown="", base=str(responses))
    with scoped(app):
        for slug, (asked, happy) in {
            "sevenoaks": (103, 61),
            "tunbridge-wells": (40, 5),
        }.items():
            _report(slug, responses, {"2014": {"": asked}})
            _report(slug, satisfied, {"2014": {"": happy}})
    page = _text(client.get(f"/p/west-kent/monitoring/measures/{satisfied}?period=2014"))
    assert "Percentage (from the rounded counts)" in page
    assert "60 <span" in page and "105 <span" in page
    assert "57.1%" in page  # 60 of 105, the released counts
    assert "59.2%" not in page  # 61 of 103, the exact ones, never shown
    assert ">not shown<" in page  # Tunbridge Wells: 5 satisfied is fewer than 8
    assert "12.5%" not in page


def test_a_base_must_be_a_count_measured_the_same_way(app, client, login_as):
    login_as("lead", partnership="west-kent")
    quarterly = _joint(client, name="Quarterly count", breakdown="", period_type="quarter")
    response = client.post(
        NEW, data=_form(client, NEW, name="Yearly part", breakdown="", base=str(quarterly))
    )
    assert "the base must be measured as often and broken down the same way" in _text(response)
    response = client.post(
        NEW, data=_form(client, NEW, name="A share", unit="percentage", base=str(quarterly))
    )
    assert "Only a count can be part of another count" in _text(response)


def test_a_percentage_only_measure_is_not_shown_outside_the_organisation(app, client, login_as):
    # A percentage on its own can no longer be added (it is added as two counts); one
    # added before then still explains why its figures stay with each organisation.
    login_as("lead", partnership="west-kent")
    with scoped(app):
        row = MeasureDefinition(
            partnership_id=_partnership("west-kent").id,
            name="Satisfaction with events",
            unit="percentage",
            period_type="year",
            breakdown="sex",
            source="Joint measure of West Kent Equality Partnership",
            first_year=2012,
            last_year=2015,
        )
        database.session.add(row)
        database.session.commit()
        definition_id = row.id
    with scoped(app):
        _report("sevenoaks", definition_id, {"2014": {"": 87.5, "Female": 91.2}})
    page = _text(client.get(f"/p/west-kent/monitoring/measures/{definition_id}"))
    assert "Why no figures are shown" in page
    assert "The partnership’s rule can only protect counts" in page
    assert "Reported by: " + _name(app, "sevenoaks") in page
    assert "87.5" not in page and "91.2" not in page


# --- the chart -------------------------------------------------------------------------


def test_the_chart_beside_the_table_draws_only_released_figures(app, client, login_as):
    login_as("lead", partnership="west-kent")
    definition_id = _joint(client, name="Volunteers", breakdown="")
    with scoped(app):
        _report("sevenoaks", definition_id, {"2014": {"": 123}})
        _report("tunbridge-wells", definition_id, {"2014": {"": 4}})
    url = f"/p/west-kent/monitoring/measures/{definition_id}"
    page = _text(client.get(f"{url}?period=2014"))
    section = re.search(r'<section class="portal-chart".*?</section>', page, re.S).group(0)
    spec = json.loads(re.search(r'application/json"[^>]*>(.*?)</script>', section, re.S).group(1))
    bars = spec["data"][0]
    # Tunbridge Wells' 4 is hidden: no bar, only its words, as in the table.
    assert bars["x"] == [125, 0] and bars["text"] == ["125 (rounded)", "fewer than 8"]
    assert "123" not in section and ">4<" not in section
    assert "released the highest total, 125 (rounded); 1 total is hidden" in section
    csv_url = re.search(r'href="([^"]*members-totals\.csv[^"]*)"', section).group(1)
    download = client.get(csv_url.replace("&amp;", "&"))
    assert download.status_code == 200
    rows = list(csv.reader(io.StringIO(download.data.decode("utf-8-sig"))))
    name = _name(app, "sevenoaks"), _name(app, "tunbridge-wells")
    assert rows == [
        ["Member organisation", "Total, as released"],
        [name[0], "125 (rounded)"],
        [name[1], "fewer than 8"],
    ]


def test_the_members_chart_says_when_every_total_is_hidden():
    from portal.disclosure import release_count
    from portal.monitoring.chart import members_chart

    chart = members_chart("Volunteers", "2014", [("A", release_count(3))])
    assert chart.summary == "Every member's total for 2014 is hidden by disclosure control."
    empty = members_chart("Volunteers", "2014", [])
    assert empty.empty and empty.summary == "No member has figures for 2014."
    assert empty.csv().decode("utf-8-sig") == '"Member organisation","Total, as released"\r\n'


def test_a_percentage_joint_measure_is_shared_as_two_counts(app, client, login_as):
    login_as("lead", partnership="west-kent")
    form = client.get(NEW).get_data(as_text=True)
    assert "For a percentage: out of how many?" in form
    response = client.post(
        NEW, data=_form(client, NEW, name="Satisfied tenants", unit="percentage", breakdown="")
    )
    assert "Enter what the percentage is out of" in _text(response)
    with app.app_context():
        assert not database.session.scalar(
            select(MeasureDefinition.id).where(MeasureDefinition.name == "Satisfied tenants")
        )
    response = client.post(
        NEW,
        data=_form(
            client,
            NEW,
            name="Satisfied tenants",
            unit="percentage",
            breakdown="",
            whole_name="Tenants who answered",
        ),
    )
    assert response.status_code == 302
    assert "out of how many (Tenants who answered)" in _text(client.get(response.location))
    with app.app_context(), partnership_scope(partnership("west-kent")):
        part = database.session.scalar(
            select(MeasureDefinition).where(MeasureDefinition.name == "Satisfied tenants")
        )
        assert part.unit == "count" and part.base.name == "Tenants who answered"
        assert part.base.unit == "count"
        part_id, whole_id = part.id, part.base_id
        for slug, (asked, happy) in {"sevenoaks": (103, 61), "tunbridge-wells": (52, 30)}.items():
            _report(slug, whole_id, {"2014": {"": asked}})
            _report(slug, part_id, {"2014": {"": happy}})
    page = _text(client.get(f"/p/west-kent/monitoring/measures/{part_id}?period=2014"))
    assert "Percentage (from the rounded counts)" in page
    assert "57.1%" in page  # 60 of 105, the released counts
    assert "these figures stay with each organisation" not in page


def test_an_existing_count_cannot_become_a_percentage_on_its_own(app, client, login_as):
    login_as("lead", partnership="west-kent")
    definition_id = _joint(client, name="Counted", breakdown="")
    url = f"/p/west-kent/monitoring/joint-measures/{definition_id}/edit"
    response = client.post(url, data=_form(client, url, name="Counted", unit="percentage"))
    assert "A percentage is shared as two counts" in _text(response)
