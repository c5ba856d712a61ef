"""The second wall: PostgreSQL row-level security, tested against the real server.

These tests go around the ORM on purpose (plain SQL as the app's own role) to show that
the database refuses what the ORM criterion would have filtered.
"""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError, ProgrammingError
from sqlalchemy.pool import NullPool

from portal import clock
from portal.commitments.models import Commitment
from portal.extensions import db
from portal.tenancy import TenantOwned, tenant_scope
from tests.conftest import APP_ROLE, POSTGRES_URL
from tests.helpers import tenant

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not POSTGRES_URL, reason="needs TEST_DATABASE_URL (PostgreSQL)"),
]


@pytest.fixture
def seeded(app):
    """Two commitments for Sevenoaks and one for Thanet, written through the app."""
    with app.app_context():
        ids = {}
        for slug, count in (("sevenoaks", 2), ("thanet", 1)):
            t = tenant(slug)
            ids[slug] = t.id
            with tenant_scope(t):
                now = clock.utcnow()
                for n in range(count):
                    db.session.add(
                        Commitment(position=n, text=f"{slug} {n}", created_at=now, updated_at=now)
                    )
                db.session.commit()
        db.session.remove()
    return ids


@pytest.fixture
def app_role_engine(app):
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"], poolclass=NullPool)
    yield engine
    engine.dispose()


def count_as(engine, tenant_id) -> int:
    with engine.begin() as conn:
        if tenant_id is not None:
            conn.execute(
                text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(tenant_id)}
            )
        return conn.execute(text("SELECT count(*) FROM commitment")).scalar()


def test_app_role_sees_only_the_current_tenants_rows_without_the_orm(seeded, app_role_engine):
    assert count_as(app_role_engine, seeded["sevenoaks"]) == 2
    assert count_as(app_role_engine, seeded["thanet"]) == 1


def test_app_role_sees_nothing_with_no_tenant_set(seeded, app_role_engine):
    assert count_as(app_role_engine, None) == 0


def test_cross_tenant_insert_is_refused_by_the_database(seeded, app_role_engine):
    with pytest.raises(ProgrammingError, match="row-level security"):
        with app_role_engine.begin() as conn:
            conn.execute(
                text("SELECT set_config('app.tenant_id', :t, true)"),
                {"t": str(seeded["sevenoaks"])},
            )
            conn.execute(
                text(
                    "INSERT INTO commitment (tenant_id, position, text, source, is_demo, "
                    "created_at, updated_at, version) "
                    "VALUES (:t, 1, 'x', '', false, now(), now(), 1)"
                ),
                {"t": seeded["thanet"]},
            )


def test_cross_tenant_update_and_delete_touch_nothing(seeded, app_role_engine):
    with app_role_engine.begin() as conn:
        conn.execute(
            text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(seeded["thanet"])}
        )
        updated = conn.execute(
            text("UPDATE commitment SET text = 'changed' WHERE tenant_id = :t"),
            {"t": seeded["sevenoaks"]},
        ).rowcount
        deleted = conn.execute(
            text("DELETE FROM commitment WHERE tenant_id = :t"), {"t": seeded["sevenoaks"]}
        ).rowcount
    assert (updated, deleted) == (0, 0)
    assert count_as(app_role_engine, seeded["sevenoaks"]) == 2


def test_pooled_connection_does_not_carry_a_tenant_into_the_next_request(
    databases, tmp_path, login_as
):
    from portal import create_app
    from tests.conftest import AuthActions, base_config

    config = {**base_config(tmp_path), **databases.fresh()}
    # One pooled connection, so the next request is sure to reuse it.
    config["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_size": 1, "max_overflow": 0}
    app = create_app(config)
    try:
        client = app.test_client()
        AuthActions(client).login("officer@sevenoaks.demo")
        assert client.get("/t/sevenoaks/plan/commitments").status_code == 200
        with app.app_context():
            conn = db.session.connection()
            backend = conn.execute(text("SELECT pg_backend_pid()")).scalar()
            setting = conn.execute(text("SELECT current_setting('app.tenant_id', true)")).scalar()
            rows = conn.execute(text("SELECT count(*) FROM commitment")).scalar()
            db.session.remove()
        with app.app_context():
            again = db.session.connection().execute(text("SELECT pg_backend_pid()")).scalar()
            db.session.remove()
        assert backend == again, "the test must reuse the pooled connection"
        assert setting in ("", None)
        assert rows == 0
    finally:
        with app.app_context():
            db.engine.dispose()
        databases.drop(config)


def test_app_role_owns_no_table_and_cannot_bypass_rls(app, app_role_engine):
    with app_role_engine.connect() as conn:
        owned = conn.execute(
            text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = :r"),
            {"r": APP_ROLE},
        ).scalar()
        flags = conn.execute(
            text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
        ).one()
    assert owned == 0
    assert tuple(flags) == (False, False)


def test_every_tenant_owned_table_forces_row_level_security(app, app_role_engine):
    tables = sorted(
        mapper.local_table.name
        for mapper in db.Model.registry.mappers
        if issubclass(mapper.class_, TenantOwned)
    )
    assert "commitment" in tables
    with app_role_engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class "
                "WHERE relname = ANY(:names)"
            ),
            {"names": tables},
        ).all()
    assert sorted(rows) == [(name, True, True) for name in tables]


def test_app_role_cannot_change_or_remove_the_audit_trail(app, app_role_engine, login_as):
    login_as("officer", "sevenoaks")
    for statement in ("UPDATE audit_event SET action = 'x'", "DELETE FROM audit_event"):
        with pytest.raises(DBAPIError, match="permission denied"):
            with app_role_engine.begin() as conn:
                conn.execute(text(statement))


def test_not_even_the_owner_can_rewrite_the_audit_trail(app, login_as):
    login_as("officer", "sevenoaks")
    owner = create_engine(app.config["MIGRATION_DATABASE_URI"], poolclass=NullPool)
    try:
        with pytest.raises(DBAPIError, match="append-only"):
            with owner.begin() as conn:
                conn.execute(text("UPDATE audit_event SET action = 'x'"))
    finally:
        owner.dispose()


# --- the app refuses a role that row-level security does not bind ----------------------


@pytest.fixture
def fresh_database(databases, tmp_path):
    """A fresh migrated database: (its config, the owner's url, an owner engine)."""
    from tests.conftest import base_config

    config = {**base_config(tmp_path), **databases.fresh()}
    yield config
    databases.drop(config)


def _as_role(config: dict, role: str | None) -> dict:
    from sqlalchemy.engine import make_url

    owner = make_url(config["MIGRATION_DATABASE_URI"])
    url = owner if role is None else owner.set(username=role, password=None)
    return {**config, "SQLALCHEMY_DATABASE_URI": url.render_as_string(hide_password=False)}


@pytest.fixture
def scratch_role(databases):
    """A login role of its own name, dropped afterwards (roles are shared by the server)."""
    import uuid

    name = f"portal_check_{uuid.uuid4().hex[:8]}"
    yield name
    with databases.admin.connect() as conn:
        conn.execute(text(f'DROP ROLE IF EXISTS "{name}"'))


def test_app_refuses_to_start_as_a_superuser(fresh_database):
    from portal import create_app

    with pytest.raises(RuntimeError, match="is a superuser.*MIGRATION_DATABASE_URL"):
        create_app(_as_role(fresh_database, None))


def test_app_refuses_to_start_as_a_role_with_bypassrls(databases, fresh_database, scratch_role):
    from portal import create_app

    with databases.admin.connect() as conn:
        conn.execute(text(f'CREATE ROLE "{scratch_role}" LOGIN NOSUPERUSER BYPASSRLS'))
    with pytest.raises(RuntimeError, match="has BYPASSRLS"):
        create_app(_as_role(fresh_database, scratch_role))


def test_app_refuses_to_start_as_the_owner_of_a_tenant_table(
    databases, fresh_database, scratch_role
):
    from portal import create_app

    with databases.admin.connect() as conn:
        conn.execute(text(f'CREATE ROLE "{scratch_role}" LOGIN NOSUPERUSER NOBYPASSRLS'))
    owner = create_engine(fresh_database["MIGRATION_DATABASE_URI"], poolclass=NullPool)
    try:
        with owner.begin() as conn:
            conn.execute(text(f'ALTER TABLE hate_incident OWNER TO "{scratch_role}"'))
        with pytest.raises(RuntimeError, match="owns hate_incident"):
            create_app(_as_role(fresh_database, scratch_role))
        # Back to the schema owner, so that the role can be dropped.
        with owner.begin() as conn:
            conn.execute(text("ALTER TABLE hate_incident OWNER TO CURRENT_USER"))
    finally:
        owner.dispose()


def test_app_starts_as_its_own_role_and_migrations_run_as_the_owner(fresh_database):
    from flask_migrate import upgrade

    from portal import create_app

    app = create_app(fresh_database)
    with app.app_context():
        upgrade(revision="heads")
        db.engine.dispose()


def test_a_database_that_answers_late_is_checked_on_first_use(databases, tmp_path):
    import uuid

    from portal import create_app
    from tests.conftest import base_config

    name = f"{databases.prefix}_late_{uuid.uuid4().hex[:6]}"
    url = databases.admin_url.set(database=name).render_as_string(hide_password=False)
    app = create_app({**base_config(tmp_path), "SQLALCHEMY_DATABASE_URI": url})
    with databases.admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        with app.app_context():
            with pytest.raises(RuntimeError, match="is a superuser"):
                db.session.execute(text("SELECT 1"))
            db.session.remove()
            db.engine.dispose()
    finally:
        with databases.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_the_command_line_says_why_it_refuses(fresh_database):
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    env = {
        **os.environ,
        "DATABASE_URL": _as_role(fresh_database, None)["SQLALCHEMY_DATABASE_URI"],
        "FLASK_APP": "wsgi.py",
        "PORTAL_DEVELOPMENT": "1",
        "PORTAL_INSTANCE_PATH": fresh_database["INSTANCE_PATH"],
    }
    env.pop("MIGRATION_DATABASE_URL", None)
    result = subprocess.run(  # noqa: S603 - our own flask, fixed arguments
        [str(Path(sys.executable).parent / "flask"), "tenants", "sync"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    from sqlalchemy.engine import make_url

    user = make_url(fresh_database["MIGRATION_DATABASE_URI"]).username
    assert result.returncode != 0
    assert f"Refusing to start: the database role '{user}' is a superuser" in (
        result.stdout + result.stderr
    )


# --- the audit trail: an event carries the tenant in scope, or none ------------------------


def _insert_event(conn, tenant_id, scope):
    if scope is not None:
        conn.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(scope)})
    conn.execute(
        text(
            "INSERT INTO audit_event (at, tenant_id, action, detail, seq, prev_hash, hash) "
            "VALUES (now(), :t, 'tenant.updated', '{}', 1000000, '', '')"
        ),
        {"t": tenant_id},
    )


@pytest.mark.parametrize(
    ("victim", "scope"),
    [("thanet", None), ("thanet", "sevenoaks"), (None, "sevenoaks")],
    ids=["forged-with-no-tenant-in-scope", "another-tenant-in-scope", "no-tenant-in-a-tenant"],
)
def test_an_audit_event_for_another_trail_is_refused(seeded, app_role_engine, victim, scope):
    with pytest.raises(ProgrammingError, match="row-level security"):
        with app_role_engine.begin() as conn:
            _insert_event(conn, seeded.get(victim), seeded.get(scope))


@pytest.mark.parametrize(("own", "scope"), [("sevenoaks", "sevenoaks"), (None, None)])
def test_an_audit_event_for_the_trail_in_scope_is_accepted(seeded, app_role_engine, own, scope):
    with app_role_engine.connect() as conn:
        with conn.begin() as transaction:
            _insert_event(conn, seeded.get(own), seeded.get(scope))
            transaction.rollback()


def test_the_app_role_reads_only_the_trail_in_scope(seeded, app_role_engine, login_as):
    login_as("officer", "sevenoaks")  # a sign-in: an event with no tenant
    with app_role_engine.begin() as conn:
        portal = conn.execute(text("SELECT DISTINCT tenant_id FROM audit_event")).scalars().all()
    with app_role_engine.begin() as conn:
        conn.execute(
            text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(seeded["sevenoaks"])}
        )
        scoped = conn.execute(text("SELECT DISTINCT tenant_id FROM audit_event")).scalars().all()
    assert portal == [None]
    assert scoped == [seeded["sevenoaks"]]


# --- partnership-owned rows ---------------------------------------------------------------


def _partnership_ids(app) -> dict[str, int]:
    from sqlalchemy import select

    from portal.partners.models import Partnership

    with app.app_context():
        rows = db.session.execute(select(Partnership.slug, Partnership.id)).all()
        db.session.remove()
    return dict(rows)


def _as_partnerships(conn, visible, writable=None) -> None:
    """What the app writes into each transaction: the partnerships visible and writable."""
    conn.execute(
        text(
            "SELECT set_config('app.partnership_ids', :v, true), "
            "set_config('app.partnership_id', :w, true)"
        ),
        {
            "v": "" if visible is None else "{" + ",".join(map(str, visible)) + "}",
            "w": "" if writable is None else str(writable),
        },
    )


def _periods_seen(engine, visible, writable=None) -> set[int]:
    with engine.begin() as conn:
        _as_partnerships(conn, visible, writable)
        return set(conn.execute(text("SELECT DISTINCT partnership_id FROM plan_period")).scalars())


def test_every_partnership_owned_table_forces_row_level_security(app, app_role_engine):
    from portal.tenancy import PartnershipOwned

    tables = sorted(
        mapper.local_table.name
        for mapper in db.Model.registry.mappers
        if issubclass(mapper.class_, PartnershipOwned)
    )
    assert {"plan_period", "joint_aim", "measure_definition", "joint_assessment"} <= set(tables)
    with app_role_engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, "
                "(SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid) "
                "FROM pg_class c WHERE c.relname = ANY(:names)"
            ),
            {"names": tables},
        ).all()
    assert sorted(rows) == [(name, True, True, 4) for name in tables]


def test_row_level_security_alone_hides_another_partnerships_rows(app, app_role_engine):
    """Plain SQL as the app's role, no ORM criterion at all: only the partnerships in
    ``app.partnership_ids`` are seen."""
    ids = _partnership_ids(app)
    west, kent = ids["west-kent"], ids["kent-network"]
    assert _periods_seen(app_role_engine, [west]) == {west}
    assert _periods_seen(app_role_engine, [kent]) == {kent}
    # A member of both (a tenant's page of Tonbridge & Malling) reads both.
    assert _periods_seen(app_role_engine, [west, kent]) == {west, kent}
    assert _periods_seen(app_role_engine, []) == set()
    assert _periods_seen(app_role_engine, None) == set()


def test_the_app_role_sees_built_in_definitions_in_every_scope(app, app_role_engine):
    ids = _partnership_ids(app)
    for visible in (None, [], [ids["west-kent"]]):
        with app_role_engine.begin() as conn:
            _as_partnerships(conn, visible)
            built_in = conn.execute(
                text("SELECT count(*) FROM measure_definition WHERE partnership_id IS NULL")
            ).scalar()
        assert built_in > 0


def test_another_partnerships_rows_cannot_be_written(app, app_role_engine):
    ids = _partnership_ids(app)
    west, kent = ids["west-kent"], ids["kent-network"]
    # Visible is not writable: a tenant's page reads its partnerships' rows, changes none.
    with app_role_engine.begin() as conn:
        _as_partnerships(conn, [west], None)
        changed = conn.execute(text("UPDATE plan_period SET title = 'changed'")).rowcount
        removed = conn.execute(text("DELETE FROM period_statement")).rowcount
    assert (changed, removed) == (0, 0)
    # Writable is one partnership: the other's rows are out of reach.
    with app_role_engine.begin() as conn:
        _as_partnerships(conn, [kent], kent)
        changed = conn.execute(
            text("UPDATE plan_period SET title = 'changed' WHERE partnership_id = :p"), {"p": west}
        ).rowcount
    assert changed == 0
    with pytest.raises(ProgrammingError, match="row-level security"):
        with app_role_engine.begin() as conn:
            _as_partnerships(conn, [kent], kent)
            conn.execute(
                text(
                    "INSERT INTO joint_assessment (partnership_id, title, subject, brief, "
                    "lead_officer, is_demo, created_at) "
                    "VALUES (:p, 'x', 'x', '', 'x', false, now())"
                ),
                {"p": west},
            )
    # Nor may a partnership's page change a built-in definition everybody shares.
    with app_role_engine.begin() as conn:
        _as_partnerships(conn, [kent], kent)
        changed = conn.execute(
            text("UPDATE measure_definition SET name = 'changed' WHERE partnership_id IS NULL")
        ).rowcount
    assert changed == 0


def test_the_scope_reaches_the_database_through_the_app(app, login_as, client):
    """A lead's page sets its partnership in the transaction: what the policies read."""
    from portal.tenancy import partnership_scope, tenant_scope
    from tests.helpers import partnership

    with app.app_context():
        west = partnership("west-kent")
        with partnership_scope(west):
            settings = db.session.execute(
                text(
                    "SELECT current_setting('app.partnership_ids', true), "
                    "current_setting('app.partnership_id', true)"
                )
            ).one()
            assert tuple(settings) == (f"{{{west.id}}}", str(west.id))
        with tenant_scope(tenant("tonbridge-malling")):
            visible = db.session.execute(
                text("SELECT current_setting('app.partnership_ids', true)")
            ).scalar()
            ids = sorted(p.id for p in tenant("tonbridge-malling").partnerships)
            assert visible == "{" + ",".join(map(str, ids)) + "}" and len(ids) == 2
        db.session.remove()


def test_reporting_years_and_reports_are_kept_apart_by_the_database(app, app_role_engine):
    """Plain SQL as the app's role: a partnership's reporting years and published reports
    are seen only in its scope, and a member's page (visible, not writable) changes none."""
    ids = _partnership_ids(app)
    west, kent = ids["west-kent"], ids["kent-network"]
    for table in ("reporting_year", "joint_report", "joint_report_version", "joint_report_file"):
        query = text(f"SELECT DISTINCT partnership_id FROM {table}")  # noqa: S608 - fixed names
        with app_role_engine.begin() as conn:
            _as_partnerships(conn, [west], west)
            assert set(conn.execute(query).scalars()) == {west}, table
        with app_role_engine.begin() as conn:
            _as_partnerships(conn, [west, kent])
            assert set(conn.execute(query).scalars()) == {west, kent}, table
        with app_role_engine.begin() as conn:
            _as_partnerships(conn, None)
            assert set(conn.execute(query).scalars()) == set(), table
    with app_role_engine.begin() as conn:
        _as_partnerships(conn, [west, kent], None)
        changed = conn.execute(text("UPDATE reporting_year SET deadline = deadline + 1")).rowcount
    assert changed == 0
    with app_role_engine.begin() as conn:
        _as_partnerships(conn, [kent], kent)
        changed = conn.execute(
            text("UPDATE joint_report SET foreword = 'changed' WHERE partnership_id = :p"),
            {"p": west},
        ).rowcount
    assert changed == 0
