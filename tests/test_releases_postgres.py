"""Released figures on PostgreSQL as the app's own role: anyone may read a release (they
are by definition allowed across the wall), only the tenant in scope may add one, and
nobody may change or remove one."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.pool import NullPool

from portal.extensions import db
from portal.monitoring import figures, measures, releases
from portal.monitoring.models import Measure, MeasureDefinition
from tests.conftest import POSTGRES_URL
from tests.helpers import tenant

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not POSTGRES_URL, reason="needs TEST_DATABASE_URL (PostgreSQL)"),
]

INSERT = text(
    "INSERT INTO figure_release (tenant_id, definition_id, period, version, threshold, "
    "rounding, released_at, trigger, trigger_detail, tables) "
    "VALUES (:t, :d, '2018', 2, 3, 1, now(), 'forged', '', '{}')"
)


@pytest.fixture
def released(app):
    """Sevenoaks' figures for one measure and 2018, released through the app."""
    from portal.tenancy import tenant_scope

    with app.app_context():
        definition = db.session.scalar(
            select(MeasureDefinition).where(MeasureDefinition.key == "attendance-events-services")
        )
        member = tenant("sevenoaks")
        with tenant_scope(member):
            for old in db.session.scalars(
                select(Measure).where(Measure.definition_id == definition.id)
            ):
                db.session.delete(old)
            db.session.commit()
            row = measures.add_measure(
                definition=definition, breakdown="sex", first_year=2018, last_year=2018
            )
            figures.save_values(row, [figures.Cell("2018", "", "23", "Total")], via="test")
        releases.release_member_figures(member, definition, "2018")
        ids = {"sevenoaks": member.id, "thanet": tenant("thanet").id, "definition": definition.id}
        db.session.remove()
    return ids


@pytest.fixture
def app_role_engine(app):
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"], poolclass=NullPool)
    yield engine
    engine.dispose()


def _as(conn, tenant_id) -> None:
    value = "" if tenant_id is None else str(tenant_id)
    conn.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": value})


@pytest.mark.parametrize("scope", [None, "thanet", "sevenoaks"])
def test_anyone_reads_released_figures(released, app_role_engine, scope):
    with app_role_engine.begin() as conn:
        _as(conn, released.get(scope))
        rows = conn.execute(text("SELECT tenant_id, version FROM figure_release")).all()
    assert (released["sevenoaks"], 1) in rows


@pytest.mark.parametrize("scope", [None, "thanet"])
def test_only_the_tenant_in_scope_adds_a_release(released, app_role_engine, scope):
    with pytest.raises(ProgrammingError, match="row-level security"):
        with app_role_engine.begin() as conn:
            _as(conn, released.get(scope))
            conn.execute(INSERT, {"t": released["sevenoaks"], "d": released["definition"]})


def test_nobody_changes_or_removes_a_release(released, app_role_engine):
    with app_role_engine.begin() as conn:
        before = conn.execute(text("SELECT count(*) FROM figure_release")).scalar()
    with app_role_engine.begin() as conn:
        _as(conn, released["sevenoaks"])
        updated = conn.execute(text("UPDATE figure_release SET threshold = 3")).rowcount
        deleted = conn.execute(text("DELETE FROM figure_release")).rowcount
    assert (updated, deleted) == (0, 0)
    with app_role_engine.begin() as conn:
        count = conn.execute(text("SELECT count(*) FROM figure_release")).scalar()
    # The demonstration's signed-off returns released figures too; none went.
    assert count == before >= 1
