"""The schema changes only through migrations: they must agree with the models, and
upgrade → downgrade → upgrade must work (on PostgreSQL too when it is configured)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect
from sqlalchemy.pool import NullPool

from portal.extensions import db


def _owner_engine(app):
    url = app.config.get("MIGRATION_DATABASE_URI") or app.config["SQLALCHEMY_DATABASE_URI"]
    return create_engine(url, poolclass=NullPool)


def test_models_and_migrations_agree(app):
    engine = _owner_engine(app)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, db.metadata)
    finally:
        engine.dispose()
    assert diff == [], f"models and migrations differ: {diff}"


def test_upgrade_downgrade_upgrade(app):
    engine = _owner_engine(app)
    try:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
            # Downgrading drops the audit trail too: start from an empty schema.
            downgrade(revision="base")
            assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
            upgrade()
            tables = set(inspect(engine).get_table_names())
            assert {"tenant", "user", "audit_event", "commitment"} <= tables
            downgrade(revision="0002")
            tables = set(inspect(engine).get_table_names())
            assert "commitment" in tables and "action" not in tables
            downgrade(revision="0001")
            assert "commitment" not in set(inspect(engine).get_table_names())
            upgrade()
            tables = set(inspect(engine).get_table_names())
            assert {"commitment", "action", "joint_aim", "hate_incident"} <= tables
    finally:
        engine.dispose()
