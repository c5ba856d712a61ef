"""Figures must be plausible: a count of 9×10^40 or an incident in 1900 is a typing slip,
answered in plain words wherever the figure comes in, and nothing is saved."""

from __future__ import annotations

import io
import re
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from portal import clock
from portal.extensions import db as database
from portal.incidents.models import EARLIEST_INCIDENT_DATE, HateIncident
from portal.monitoring import measures
from portal.monitoring.models import FIGURE_BOUNDS, Measure
from portal.tenancy import tenant_scope
from tests.helpers import by_number, csrf_token, tenant
from tests.test_incidents import ward


def _measure(**fields) -> int:
    with tenant_scope(tenant("sevenoaks")):
        shape = {
            "name": "Complaints received",
            "unit": "count",
            "period_type": "year",
            "breakdown": "",
            "first_year": 2019,
            "last_year": 2021,
        } | fields
        return measures.add_measure(**shape).number


def _stored(measure_number: int) -> dict:
    with tenant_scope(tenant("sevenoaks")):
        return measures.stored_values(by_number(Measure, measure_number))


def _grid(client, measure_number: int, value: str):
    url = f"/t/sevenoaks/monitoring/measures/{measure_number}/figures"
    return client.post(url, data={"csrf_token": csrf_token(client, url), "v-2019-0": value})


def _import(client, measure_number: int, value: str):
    url = f"/t/sevenoaks/monitoring/measures/{measure_number}/import"
    text = f"period,category,value\n2019,,{value}\n"
    return client.post(
        url,
        data={
            "csrf_token": csrf_token(client, url),
            "file": (io.BytesIO(text.encode()), "figures.csv"),
        },
        content_type="multipart/form-data",
    )


def test_the_bounds_are_declared_once_for_every_unit():
    assert FIGURE_BOUNDS["count"].low == 0 and FIGURE_BOUNDS["count"].high == 10_000_000
    assert FIGURE_BOUNDS["percentage"].low == 0 and FIGURE_BOUNDS["percentage"].high == 100
    from portal.monitoring.models import UNITS

    assert set(FIGURE_BOUNDS) == set(UNITS)


@pytest.mark.parametrize("send", [_grid, _import], ids=["figures form", "csv import"])
@pytest.mark.parametrize(
    ("unit", "value", "message"),
    [
        ("count", "9e40", "a count cannot be more than 10,000,000"),
        ("count", "90000000000000000000000000000000000000000", "cannot be more than 10,000,000"),
        ("count", "10000001", "a count cannot be more than 10,000,000"),
        ("percentage", "100.5", "a percentage cannot be over 100"),
        ("rate", "1e30", "a rate cannot be more than"),
        ("money", "9e40", "an amount of money cannot be more than"),
    ],
)
def test_implausible_figures_are_refused_in_words(
    app, client, login_as, send, unit, value, message
):
    with app.app_context():
        measure_number = _measure(unit=unit)
    login_as("officer", "sevenoaks")
    response = send(client, measure_number, value)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in page
    with app.app_context():
        assert _stored(measure_number) == {}


@pytest.mark.parametrize("send", [_grid, _import], ids=["figures form", "csv import"])
def test_figures_at_the_edge_of_the_bounds_are_kept(app, client, login_as, send):
    with app.app_context():
        count_id = _measure()
        share_id = _measure(name="Satisfaction", unit="percentage")
    login_as("officer", "sevenoaks")
    assert send(client, count_id, "10000000").status_code == 302
    assert send(client, share_id, "100").status_code == 302
    with app.app_context():
        assert _stored(count_id) == {"2019": {"": 10_000_000}}
        assert _stored(share_id) == {"2019": {"": 100}}


def test_a_pay_gap_may_be_below_zero_but_not_beyond_minus_100(app, client, login_as):
    with app.app_context():
        gap_id = _measure(name="Pay gap", unit="percentage", allows_negative=True)
    login_as("officer", "sevenoaks")
    assert "a percentage cannot be below -100" in _grid(client, gap_id, "-101").get_data(
        as_text=True
    )
    assert _grid(client, gap_id, "-4.5").status_code == 302


BASE = "/t/sevenoaks/incidents"


def _incident(token: str, day: list[str], ward_id: int) -> dict:
    return {
        "csrf_token": token,
        "occurred_on": day,
        "motivations": ["race"],
        "incident_type": "verbal",
        "ward_id": str(ward_id),
        "how_reported": "phone",
        "person_details": "A resident",
        "description": "Shouted at in the street.",
        "support_offered": "",
        "police_referral": "no",
        "police_reference": "",
        "actions": "",
        "status": "open",
        "outcome": "",
    }


def _incident_count(app) -> int:
    with app.app_context(), tenant_scope(tenant("sevenoaks")):
        return len(database.session.scalars(select(HateIncident.id)).all())


def test_an_incident_in_1900_is_refused(app, client, login_as):
    assert EARLIEST_INCIDENT_DATE == date(2000, 1, 1)
    town = ward(app, "sevenoaks")
    before = _incident_count(app)
    login_as("caseworker", "sevenoaks")
    token = csrf_token(client, f"{BASE}/new")
    for day in (["1", "1", "1900"], ["31", "12", "1999"]):
        response = client.post(f"{BASE}/new", data=_incident(token, day, town))
        page = response.get_data(as_text=True)
        assert response.status_code == 200
        assert "The date of the incident must be 1 January 2000 or later" in page
    assert _incident_count(app) == before
    response = client.post(f"{BASE}/new", data=_incident(token, ["1", "1", "2000"], town))
    assert response.status_code == 302
    today = clock.utcnow().date()
    day = [str(today.day), str(today.month), str(today.year)]
    assert client.post(f"{BASE}/new", data=_incident(token, day, town)).status_code == 302
    assert _incident_count(app) == before + 2


def test_an_incident_cannot_be_moved_back_to_1900(app, client, login_as):
    town = ward(app, "sevenoaks")
    login_as("caseworker", "sevenoaks")
    token = csrf_token(client, f"{BASE}/new")
    response = client.post(f"{BASE}/new", data=_incident(token, ["3", "5", "2024"], town))
    url = response.headers["Location"] + "/edit"
    page = client.get(url).get_data(as_text=True)
    version = re.search(r'name="version"[^>]*value="(\d+)"', page).group(1)
    data = _incident(csrf_token(client, url), ["1", "1", "1900"], town) | {"version": version}
    response = client.post(url, data=data)
    assert response.status_code == 200
    assert "The date of the incident must be 1 January 2000 or later" in response.get_data(
        as_text=True
    )
    incident_number = int(url.rsplit("/", 2)[1])
    with app.app_context(), tenant_scope(tenant("sevenoaks")):
        assert by_number(HateIncident, incident_number).occurred_on == date(2024, 5, 3)


# --- figures are exact numbers, never binary floats ---------------------------------------


def test_figures_are_stored_as_exact_numbers():
    from sqlalchemy import Numeric

    from portal.monitoring.models import MeasureValue

    column = MeasureValue.__table__.c.value
    assert isinstance(column.type, Numeric) and column.type.asdecimal
    assert column.type.scale == 4


@pytest.mark.parametrize("send", [_grid, _import], ids=["figures form", "csv import"])
def test_figures_come_back_exactly_as_typed(app, client, login_as, send):
    with app.app_context():
        count_id = _measure()
        money_id = _measure(name="Grants paid", unit="money")
        rate_id = _measure(name="Rate per 1,000", unit="rate")
    login_as("officer", "sevenoaks")
    assert send(client, count_id, "9999999").status_code == 302
    assert send(client, money_id, "£9999999999.99").status_code == 302
    assert send(client, rate_id, "0.1").status_code == 302
    with app.app_context():
        count = _stored(count_id)["2019"][""]
        money = _stored(money_id)["2019"][""]
        rate = _stored(rate_id)["2019"][""]
    # A whole number and decimals: 0.1 as a float would be 0.1000000000000000055…
    assert type(count) is int and count == 9_999_999
    assert isinstance(money, Decimal) and money == Decimal("9999999999.99")
    assert isinstance(rate, Decimal) and rate == Decimal("0.1")
    page = client.get(f"/t/sevenoaks/monitoring/measures/{money_id}").get_data(as_text=True)
    assert "£9,999,999,999.99" in page


def test_more_decimal_places_than_are_kept_are_refused_in_words(app, client, login_as):
    with app.app_context():
        share_id = _measure(name="Satisfaction", unit="percentage")
    login_as("officer", "sevenoaks")
    page = _grid(client, share_id, "12.34567").get_data(as_text=True)
    assert "use no more than 4 decimal places" in page
    with app.app_context():
        assert _stored(share_id) == {}
