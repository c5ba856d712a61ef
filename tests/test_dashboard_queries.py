"""The dashboards read the database a fixed number of times, whatever they show.

Counted, not timed: a page that runs a query per member or per measure passes a timed
test on a small database and falls over at national scale. Each test counts the
statements a page runs, adds more of what it shows (members, measures), and checks that
the count has not moved while the page shows more.
"""

from __future__ import annotations

import re
from contextlib import contextmanager

import pytest
from sqlalchemy import event, select

from tests.conftest import PASSWORD, base_config


@contextmanager
def _counting(engine):
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        # PostgreSQL's row-level security settings are not reads of the data.
        if "set_config(" not in statement:
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _queries(app, client, path: str) -> tuple[int, str]:
    from portal.extensions import db

    assert client.get(path).status_code == 200  # warm: the session is loaded once
    with app.app_context():
        engine = db.engine
    with _counting(engine) as statements:
        response = client.get(path)
    assert response.status_code == 200
    return len(statements), response.get_data(as_text=True)


@pytest.fixture
def scale_app(databases, tmp_path):
    """A fresh database with ``scale.fill(members, 2)`` synthetic data and a lead and an
    officer of the first member who can sign in."""
    from portal import create_app
    from portal.auth.models import PartnershipGrant, TenantGrant, User
    from portal.auth.services import hash_password
    from portal.dashboards import scale
    from portal.extensions import db
    from portal.partners.models import Partnership, Tenant

    made = []

    def make(members: int):
        config = {**base_config(tmp_path / str(len(made))), **databases.fresh()}
        application = create_app(config)
        made.append((application, config))
        with application.app_context():
            list(scale.fill(members, 2))
            partnership = db.session.scalar(
                select(Partnership).where(Partnership.slug == scale.PARTNERSHIP_SLUG)
            )
            first = db.session.scalar(select(Tenant).where(Tenant.slug == "scale-0001"))
            lead = User(email="lead@scale.test", name="Lead", password_hash=hash_password(PASSWORD))
            lead.partnership_grants.append(PartnershipGrant(partnership=partnership, role="lead"))
            officer = User(
                email="officer@scale.test", name="Officer", password_hash=hash_password(PASSWORD)
            )
            officer.tenant_grants.append(TenantGrant(tenant=first, role="officer"))
            db.session.add_all([lead, officer])
            db.session.commit()
        return application

    yield make
    for application, config in made:
        with application.app_context():
            db.engine.dispose()
        databases.drop(config)


def _charts(page: str) -> int:
    return len(re.findall(r'id="chart-[a-z0-9-]+-spec"', page))


def _signed_in(application, email: str):
    from tests.conftest import AuthActions

    client = application.test_client()
    assert AuthActions(client).login(email).status_code == 302
    return client


def test_the_partnership_dashboard_runs_no_query_per_member(scale_app):
    counts = {}
    for members in (2, 5):
        application = scale_app(members)
        client = _signed_in(application, "lead@scale.test")
        counts[members], page = _queries(application, client, "/p/scale-network/")
        # Every member is on the page: more members, same statements.
        assert len(re.findall(r"Synthetic council 000\d", page)) >= members
        assert f"Synthetic council {members:04d}" in page
    assert counts[2] == counts[5], counts
    # What the page needs: the session and grants, the members, the joint measures,
    # their releases, the plan and its aims, two audited aggregates, the year's returns
    # status (the year, extensions, sign-offs and one grouped aggregate) and one audit
    # record.
    assert counts[5] <= 28, counts


def test_the_organisations_home_runs_no_query_per_measure(app, client, login_as):
    """Sevenoaks' home, before and after it takes up more measures with figures that its
    community profile can be set beside: more charts, the same statements."""
    from portal.extensions import db
    from portal.monitoring.models import Measure, MeasureValue
    from portal.partners.models import Tenant
    from portal.tenancy import tenant_scope

    login_as("officer", "sevenoaks")
    before, page = _queries(app, client, "/t/sevenoaks/")
    charts_before = _charts(page)

    with app.app_context():
        sevenoaks = db.session.scalar(select(Tenant).where(Tenant.slug == "sevenoaks"))
        with tenant_scope(sevenoaks):
            template = next(
                m
                for m in db.session.scalars(select(Measure))
                if m.is_count and m.characteristic is not None
            )
            values = list(
                db.session.scalars(
                    select(MeasureValue).where(MeasureValue.measure_id == template.id)
                )
            )
            assert values, "the demonstration measure has figures"
            for n in range(3):
                copy = Measure(
                    name=f"{template.name} (copy {n + 1})",
                    unit=template.unit,
                    period_type=template.period_type,
                    breakdown=template.breakdown,
                    first_year=template.first_year,
                    last_year=template.last_year,
                    created_at=template.created_at,
                    updated_at=template.updated_at,
                )
                db.session.add(copy)
                db.session.flush()
                for v in values:
                    db.session.add(
                        MeasureValue(
                            measure_id=copy.id,
                            period=v.period,
                            category=v.category,
                            value=v.value,
                            updated_at=v.updated_at,
                        )
                    )
            db.session.commit()

    after, page = _queries(app, client, "/t/sevenoaks/")
    charts_after = _charts(page)
    assert charts_after == charts_before + 3
    assert after == before, (before, after)


def test_the_organisations_home_at_scale_runs_a_fixed_number_of_queries(scale_app):
    """A synthetic member with dozens of measures: its home reads each kind of thing once."""
    application = scale_app(2)
    client = _signed_in(application, "officer@scale.test")
    count, page = _queries(application, client, "/t/scale-0001/")
    assert "against the community" in page
    assert count <= 25, count
