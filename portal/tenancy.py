"""Tenant isolation, in one place.

Every tenant-owned model mixes in :class:`TenantOwned`. While a tenant is set (from the
URL, checked against the user's grants), every ORM select, update and delete on those
models carries ``tenant_id = <current tenant>``, and a flush sets and checks ``tenant_id``
on every row it writes. Querying tenant-owned data with no tenant set raises
:class:`TenantNotSet` rather than returning everybody's rows.

On PostgreSQL the same tenant is written into the transaction with
``set_config('app.tenant_id', …, true)``; row-level security policies, forced on every
tenant-owned table, read it back. Being transaction-local, it never outlives the
transaction, so a pooled connection cannot carry a tenant into the next request.

This module and the migrations are the only places with SQL text. Cross-tenant work
(aggregates for a partnership) goes through :func:`across_tenants`, which visits each
tenant in turn under that tenant's own scope and leaves an audit record.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, event, text
from sqlalchemy.orm import (
    Mapped,
    ORMExecuteState,
    Session,
    declared_attr,
    mapped_column,
    with_loader_criteria,
)

from portal.extensions import db

if TYPE_CHECKING:
    from portal.partners.models import Tenant

_current_tenant_id: ContextVar[int | None] = ContextVar("current_tenant_id", default=None)

SETTING = "app.tenant_id"


class TenantNotSet(RuntimeError):
    """Tenant-owned data was touched with no tenant in scope."""


class CrossTenantWrite(RuntimeError):
    """A row of one tenant was written while another tenant was in scope."""


class TenantOwned:
    """Mixin for every model whose rows belong to exactly one tenant."""

    @declared_attr
    def tenant_id(cls) -> Mapped[int]:  # noqa: N805 - declared_attr receives the class
        return mapped_column(ForeignKey("tenant.id", ondelete="RESTRICT"), index=True)


def current_tenant_id() -> int | None:
    """The id of the tenant in scope, or None."""
    return _current_tenant_id.get()


def _apply_to_database(session: Session) -> None:
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        tenant_id = _current_tenant_id.get()
        session.execute(
            text("SELECT set_config(:name, :value, true)"),
            {"name": SETTING, "value": "" if tenant_id is None else str(tenant_id)},
        )


def set_tenant(tenant: Tenant | int | None) -> None:
    """Put a tenant in scope for the rest of this request or command."""
    tenant_id = tenant if isinstance(tenant, int) or tenant is None else tenant.id
    _current_tenant_id.set(tenant_id)
    _apply_to_database(db.session)


def init_app(app) -> None:
    """Start every request with no tenant in scope, and restore the scope after it."""

    @app.url_value_preprocessor
    def _enter_request(endpoint, values) -> None:
        from flask import g

        g._tenant_scope_token = _current_tenant_id.set(None)

    @app.teardown_request
    def _leave_request(exc) -> None:
        from flask import g

        token = g.pop("_tenant_scope_token", None)
        if token is not None:
            _current_tenant_id.reset(token)


@contextlib.contextmanager
def tenant_scope(tenant: Tenant | int | None) -> Iterator[None]:
    """Run a block with ``tenant`` in scope, restoring the previous scope afterwards."""
    previous = _current_tenant_id.get()
    set_tenant(tenant)
    try:
        yield
    finally:
        _current_tenant_id.set(previous)
        if db.session.is_active:
            _apply_to_database(db.session)


def across_tenants(tenants: Iterable[Tenant], *, purpose: str) -> Iterator[Tenant]:
    """The one audited way to read several tenants' data: each under its own scope.

    Yields each tenant with its scope set, so every query in the loop body sees that
    tenant's rows only (ORM criterion and row-level security alike).
    """
    from portal import audit

    tenants = list(tenants)
    slugs = [t.slug for t in tenants]
    # One record in each organisation's own trail, so its administrators see every read
    # of its figures from outside. Each is written under that organisation's scope (an
    # event carries the tenant in scope), and committed at once: a page that only reads
    # would otherwise lose it, and one commit per trail holds one chain's lock at a time.
    for tenant in sorted(tenants, key=lambda t: t.id):
        with tenant_scope(tenant):
            audit.record("cross_tenant.read", detail={"purpose": purpose, "tenants": slugs})
            db.session.commit()
    for tenant in tenants:
        with tenant_scope(tenant):
            yield tenant


def _tenant_owned_mappers(state: ORMExecuteState) -> bool:
    return any(issubclass(mapper.class_, TenantOwned) for mapper in state.all_mappers)


@event.listens_for(Session, "do_orm_execute")
def _scope_statement(state: ORMExecuteState) -> None:
    if not (state.is_select or state.is_update or state.is_delete):
        return
    tenant_id = _current_tenant_id.get()
    if tenant_id is None:
        if _tenant_owned_mappers(state):
            raise TenantNotSet("tenant-owned data was queried with no tenant in scope")
        return
    state.statement = state.statement.options(
        with_loader_criteria(
            TenantOwned,
            lambda cls: cls.tenant_id == tenant_id,
            include_aliases=True,
        )
    )


@event.listens_for(Session, "before_flush")
def _guard_flush(session: Session, flush_context, instances) -> None:
    tenant_id = _current_tenant_id.get()
    for obj in session.new:
        if isinstance(obj, TenantOwned):
            if tenant_id is None:
                raise TenantNotSet(f"{type(obj).__name__} was added with no tenant in scope")
            if obj.tenant_id is None:
                obj.tenant_id = tenant_id
            elif obj.tenant_id != tenant_id:
                raise CrossTenantWrite(f"{type(obj).__name__} belongs to another tenant")
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, TenantOwned) and obj.tenant_id != tenant_id:
            raise CrossTenantWrite(f"{type(obj).__name__} belongs to another tenant")


@event.listens_for(Session, "after_begin")
def _begin_with_tenant(session: Session, transaction, connection) -> None:
    if connection.dialect.name == "postgresql":
        tenant_id = _current_tenant_id.get()
        connection.execute(
            text("SELECT set_config(:name, :value, true)"),
            {"name": SETTING, "value": "" if tenant_id is None else str(tenant_id)},
        )


# --- schema helpers, for migrations only -------------------------------------------------

_TENANT_EXPRESSION = f"NULLIF(current_setting('{SETTING}', true), '')::integer"


def enable_row_level_security(op, table: str) -> None:
    """Force row-level security on a tenant-owned table (PostgreSQL; no-op elsewhere)."""
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY tenant_isolation ON {table} "
        f"USING (tenant_id = {_TENANT_EXPRESSION}) "
        f"WITH CHECK (tenant_id = {_TENANT_EXPRESSION})"
    )


def disable_row_level_security(op, table: str) -> None:
    """Undo :func:`enable_row_level_security`."""
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"DROP POLICY IF EXISTS tenant_isolation ON {table}")
    op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")


APPEND_ONLY_TABLES = ("audit_event",)


def grant_app_role(op) -> None:
    """Give the application's database role what it needs, and no more.

    Every migration ends with this call. The role named by ``DATABASE_APP_ROLE`` (in the
    Alembic config) may read and write every table but may only read and insert into the
    append-only ones. It owns none of them, so forced row-level security binds it.
    """
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    role = op.get_context().config.attributes.get("app_role")
    if not role:
        return
    exists = bind.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).first()
    if not exists:
        return
    quoted = bind.dialect.identifier_preparer.quote(role)
    op.execute(f"GRANT USAGE ON SCHEMA public TO {quoted}")
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {quoted}")
    op.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quoted}")
    op.execute(f"REVOKE INSERT, UPDATE, DELETE ON alembic_version FROM {quoted}")
    for table in APPEND_ONLY_TABLES:
        op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON {table} FROM {quoted}")
