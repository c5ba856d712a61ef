"""Tenant isolation, in one place.

Every tenant-owned model mixes in :class:`TenantOwned`. While a tenant is set (from the
URL, checked against the user's grants), every select, update and delete that reaches
their tables, through a model or a Core table, a join, a subquery, ``exists()`` or a CTE,
carries ``tenant_id = <current tenant>``, and a flush sets and checks ``tenant_id`` on
every row it writes. Querying tenant-owned data with no tenant set raises
:class:`TenantNotSet` rather than returning everybody's rows. Changing the scope leaves no
other tenant's object in the session, so ``Session.get`` cannot answer from it.

On PostgreSQL the same tenant is written into the transaction with
``set_config('app.tenant_id', …, true)``; row-level security policies, forced on every
tenant-owned table, read it back. Being transaction-local, it never outlives the
transaction, so a pooled connection cannot carry a tenant into the next request.

This module and the migrations are the only places with SQL text. Cross-tenant work
(aggregates for a partnership) goes through :func:`across_tenants`, which visits each
tenant in turn under that tenant's own scope and leaves an audit record. The app refuses
to start as a database role that row-level security does not bind
(:func:`database_role_problems`).

Rows that belong to a partnership rather than to one tenant (:class:`PartnershipOwned`)
are walled the same three ways; see that class for the scope and for what a new model
must do.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

from sqlalchemy import ForeignKey, Table, and_, event, inspect, or_, select, text
from sqlalchemy.orm import (
    Mapped,
    Mapper,
    ORMExecuteState,
    Session,
    declared_attr,
    mapped_column,
    with_loader_criteria,
)
from sqlalchemy.orm.base import NO_VALUE
from sqlalchemy.sql import visitors
from sqlalchemy.sql.selectable import Alias, Join

from portal.extensions import db

if TYPE_CHECKING:
    from portal.partners.models import Tenant

_current_tenant_id: ContextVar[int | None] = ContextVar("current_tenant_id", default=None)

SETTING = "app.tenant_id"
PARTNERSHIPS_SETTING = "app.partnership_ids"
PARTNERSHIP_SETTING = "app.partnership_id"


class TenantNotSet(RuntimeError):
    """Tenant-owned data was touched with no tenant in scope."""


class CrossTenantWrite(RuntimeError):
    """A row of one tenant was written while another tenant was in scope."""


class CrossTenantRead(RuntimeError):
    """A row of one tenant was loaded while another tenant (or none) was in scope."""


class TenantOwned:
    """Mixin for every model whose rows belong to exactly one tenant."""

    @declared_attr
    def tenant_id(cls) -> Mapped[int]:  # noqa: N805 - declared_attr receives the class
        return mapped_column(ForeignKey("tenant.id", ondelete="RESTRICT"), index=True)


def current_tenant_id() -> int | None:
    """The id of the tenant in scope, or None."""
    return _current_tenant_id.get()


def _settings() -> dict[str, str]:
    """What the database is told about the scope: the tenant, the partnerships visible
    and the partnership writable ("" for none)."""
    tenant_id = _current_tenant_id.get()
    scope = _partnership_scope.get()
    visible = writable = ""
    if scope is not None:
        visible = "{" + ",".join(str(i) for i in sorted(scope.visible)) + "}"
        writable = "" if scope.writable is None else str(scope.writable)
    return {
        "tenant": "" if tenant_id is None else str(tenant_id),
        "visible": visible,
        "writable": writable,
    }


_SET_SCOPE = text(
    "SELECT set_config(:tenant_name, :tenant, true), "
    "set_config(:visible_name, :visible, true), "
    "set_config(:writable_name, :writable, true)"
)


def _scope_parameters() -> dict[str, str]:
    return {
        "tenant_name": SETTING,
        "visible_name": PARTNERSHIPS_SETTING,
        "writable_name": PARTNERSHIP_SETTING,
        **_settings(),
    }


def _apply_to_database(session: Session) -> None:
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        session.execute(_SET_SCOPE, _scope_parameters())


def _change_scope(tenant_id: int | None, *, flush: bool = True) -> None:
    """Make ``tenant_id`` the tenant in scope, leaving no other tenant's object behind.

    ``Session.get`` answers from the identity map without any SQL, so an object loaded
    under one tenant would otherwise still be handed out under the next (or under none).
    Changes made under the old scope are flushed under it first (unless the scope is left
    because of an error: then they are dropped), then every tenant-owned object that does
    not belong to the new scope leaves the session, pending ones included, so that the
    flush guard cannot stamp them with the new tenant.
    """
    session = db.session
    if tenant_id != _current_tenant_id.get() and session.is_active:
        if flush and (session.new or session.dirty or session.deleted):
            session.flush()
        for obj in [*session.identity_map.values(), *session.new]:
            if isinstance(obj, TenantOwned):
                owner = inspect(obj).dict.get("tenant_id")
                # Expunging a parent takes its children along: check before each.
                if (owner is None or owner != tenant_id) and obj in session:
                    session.expunge(obj)
    _current_tenant_id.set(tenant_id)


def set_tenant(tenant: Tenant | int | None) -> None:
    """Put a tenant in scope for the rest of this request or command.

    Unless a partnership was put in scope explicitly (a partnership's page), the
    partnerships visible follow the tenant: those it is a member of (read only).
    """
    tenant_id = tenant if isinstance(tenant, int) or tenant is None else tenant.id
    _change_scope(tenant_id)
    scope = _partnership_scope.get()
    if scope is None or scope.derived:
        _change_partnership_scope(_derived_scope(tenant_id, _loaded_partnership_ids(tenant)))
    _apply_to_database(db.session)


def init_app(app) -> None:
    """Start every request with no tenant in scope, and restore the scope after it."""

    @app.url_value_preprocessor
    def _enter_request(endpoint, values) -> None:
        from flask import g

        g._tenant_scope_token = _current_tenant_id.set(None)
        g._partnership_scope_token = _partnership_scope.set(None)

    @app.teardown_request
    def _leave_request(exc) -> None:
        from flask import g

        token = g.pop("_tenant_scope_token", None)
        if token is not None:
            _current_tenant_id.reset(token)
        token = g.pop("_partnership_scope_token", None)
        if token is not None:
            _partnership_scope.reset(token)


@contextlib.contextmanager
def tenant_scope(tenant: Tenant | int | None) -> Iterator[None]:
    """Run a block with ``tenant`` in scope, restoring the previous scope afterwards."""
    previous = _current_tenant_id.get()
    previous_partnerships = _partnership_scope.get()
    set_tenant(tenant)
    failed = False
    try:
        yield
    except Exception:
        failed = True
        raise
    finally:
        _change_scope(previous, flush=not failed)
        _change_partnership_scope(previous_partnerships, flush=not failed)
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


AGGREGATE_SETTING = "app.cross_tenant_aggregate"
AGGREGATE_OPTION = "cross_tenant_aggregate"


def aggregate_across_tenants(statement, tenant_ids: Iterable[int], *, purpose: str, about=None):
    """The one audited escape hatch: a single GROUP BY over several tenants' rows.

    For pages outside the tenants (a partnership's dashboard) that need counts of
    *records*, not of people, such as how many of each member's actions stand at each
    status. It runs one statement for every tenant at once (no query per member), limited
    to ``tenant_ids`` here rather than by the tenant in scope, and returns its rows. Only
    a grouped aggregate is accepted, so no record's content can leave this way. One
    event is recorded, with no organisation (it is the partnership's read), naming the
    purpose and the tenants. On PostgreSQL the policy ``cross_tenant_aggregate`` lets
    SELECT through while :data:`AGGREGATE_SETTING` is set, which happens only here and
    only for this one statement.
    """
    from portal import audit

    ids = sorted(set(tenant_ids))
    if not getattr(statement, "_group_by_clauses", None):
        raise ValueError("only a grouped aggregate may read across tenants")
    if not ids:
        return []
    owned = _tables_touched(statement) & tenant_owned_tables()
    for name in sorted(owned):
        column = db.metadata.tables[name].c.tenant_id
        # tenant_id is never NULL in a stored row: NULL is only the empty side of an
        # outer join (a return with no case studies yet), which holds nobody's data.
        statement = statement.where(or_(column.in_(ids), column.is_(None)))
    session = db.session
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        session.execute(text("SELECT set_config(:name, 'on', true)"), {"name": AGGREGATE_SETTING})
    try:
        rows = session.execute(statement.execution_options(**{AGGREGATE_OPTION: True})).all()
    finally:
        if postgres:
            session.execute(text("SELECT set_config(:name, '', true)"), {"name": AGGREGATE_SETTING})
    audit.record(
        "cross_tenant.aggregate",
        about,
        tenant_id=None,
        detail={"purpose": purpose, "tenants": len(ids), "tables": sorted(owned)},
    )
    return rows


def enable_aggregate_reads(op, table: str) -> None:
    """Let :func:`aggregate_across_tenants` read ``table`` on PostgreSQL (migrations only)."""
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        f"CREATE POLICY cross_tenant_aggregate ON {table} FOR SELECT "
        f"USING (current_setting('{AGGREGATE_SETTING}', true) = 'on')"
    )


def disable_aggregate_reads(op, table: str) -> None:
    """Undo :func:`enable_aggregate_reads`."""
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"DROP POLICY IF EXISTS cross_tenant_aggregate ON {table}")


# Which tables and classes are owned, worked out once and again only after a class is
# mapped (the registry's mapper set is rebuilt on every read of it: too dear per query).
_owned_cache: dict[str, Any] = {}


@event.listens_for(Mapper, "after_mapper_constructed")
def _forget_owned(mapper, class_) -> None:
    _owned_cache.clear()


def tenant_owned_tables() -> frozenset[str]:
    """The names of every table whose rows belong to one tenant."""
    names = _owned_cache.get("tenant")
    if names is None:
        names = _owned_cache["tenant"] = frozenset(
            table.name
            for mapper in db.Model.registry.mappers
            if issubclass(mapper.class_, TenantOwned)
            for table in mapper.tables
        )
    return names


def _mappers_of(target) -> Iterator:
    """The mappers an ORM join target or loader option path stands for, if any."""
    info = inspect(target, raiseerr=False)
    if info is None:
        return
    prop = getattr(info, "property", None)
    if prop is not None and hasattr(prop, "mapper"):
        yield prop.mapper
        if getattr(prop, "secondary", None) is not None:
            yield prop.secondary
    mapper = getattr(info, "mapper", None)
    if mapper is not None:
        yield mapper


# Which tables a statement reaches depends on its shape alone, which SQLAlchemy's cache key
# describes (tables, columns, joins, loader options; never the bound values): each shape is
# walked once per process. Statements SQLAlchemy cannot cache are walked every time.
_TOUCHED: dict[tuple, frozenset[str]] = {}
TOUCHED_KEPT = 5_000


def _tables_touched(statement) -> frozenset[str]:
    """Every table ``statement`` reaches: FROMs, joins, subqueries, EXISTS, CTEs, eager loads."""
    cache_key = statement._generate_cache_key()
    if cache_key is None:
        return _walk_tables(statement)
    names = _TOUCHED.get(cache_key.key)
    if names is None:
        if len(_TOUCHED) >= TOUCHED_KEPT:
            _TOUCHED.clear()
        names = _TOUCHED[cache_key.key] = _walk_tables(statement)
    return names


def _walk_tables(statement) -> frozenset[str]:
    names: set[str] = set()

    def note(item) -> None:
        if isinstance(item, Table):
            names.add(item.name)
        elif hasattr(item, "tables"):  # a mapper
            names.update(t.name for t in item.tables)

    for node in visitors.iterate(statement):
        note(node)
        for join in getattr(node, "_setup_joins", ()):
            for part in join[:3]:
                if part is None:
                    continue
                note(part)
                for mapper in _mappers_of(part):
                    note(mapper)
        for option in getattr(node, "_with_options", ()):
            for element in (option, *getattr(option, "context", ())):
                path = getattr(element, "path", None)
                for entry in getattr(path, "path", ()) or ():
                    note(getattr(entry, "mapper", None))
                    for mapper in _mappers_of(entry):
                        note(mapper)
    return frozenset(names)


def _tenant_criterion(selectable, tenant_id: int):
    """``tenant_id = …`` for a tenant-owned table (or an alias of one), else None."""
    table = selectable.element if isinstance(selectable, Alias) else selectable
    if isinstance(table, Table) and table.name in tenant_owned_tables():
        return selectable.c.tenant_id == tenant_id
    return None


def _identity(selectable) -> int:
    """The same number for a table and its ORM-annotated copies."""
    deannotate = getattr(selectable, "_deannotate", None)
    return id(deannotate() if deannotate is not None else selectable)


def _leftmost(selectable):
    while isinstance(selectable, Join):
        selectable = selectable.left
    return selectable


def _filter_every_table(statement, tenant_id: int | None, criterion_for=None):
    """A copy of ``statement`` in which every tenant-owned table is limited to ``tenant_id``
    (or, given ``criterion_for(selectable)``, every table it answers a condition for).

    The ORM criterion reaches mapped entities, including those in ORM subqueries; a Core
    ``Table`` (in a FROM, a join, a subquery or an ``exists()``) it never sees. Each
    SELECT gets the condition for the tables in its own FROM list, each join the condition
    for its right-hand side in its ON clause (so an outer join keeps its meaning), each
    UPDATE and DELETE the condition for its target. A repeated condition costs nothing.
    """
    if criterion_for is None:

        def criterion_for(selectable):
            return _tenant_criterion(selectable, tenant_id)

    def visit_select(select) -> None:
        extra = []
        # Tables on the right of a join get the condition in its ON clause instead, so an
        # outer join keeps the rows it adds.
        seen = {_identity(target) for target, *_ in select._setup_joins}
        for from_ in select._from_obj:
            while isinstance(from_, Join):
                seen.add(_identity(_leftmost(from_.right)))
                from_ = from_.left
        # The statement's own parts, not get_final_froms(), which compiles an ORM
        # statement. Tables only named in the WHERE clause are FROMs too (``exists()``).
        froms = [*select._from_obj, *select.columns_clause_froms]
        for criterion in (*select._where_criteria, *select._having_criteria):
            froms.extend(criterion._from_objects)
        for from_ in froms:
            from_ = _leftmost(from_)
            key = _identity(from_)
            if key in seen:
                continue
            seen.add(key)
            criterion = criterion_for(from_)
            if criterion is not None:
                extra.append(criterion)
        joins = []
        for target, onclause, from_, flags in select._setup_joins:
            # A mapped entity (its table carries the mapper) has the ORM criterion already.
            orm = bool(getattr(target, "_annotations", {}).get("parententity"))
            criterion = None if orm else criterion_for(target)
            if criterion is not None:
                if onclause is not None:
                    onclause = and_(onclause, criterion)
                elif flags.get("isouter") or flags.get("full"):
                    raise TenantNotSet("an outer join to a tenant-owned table needs its ON clause")
                else:
                    extra.append(criterion)
            joins.append((target, onclause, from_, flags))
        select._setup_joins = tuple(joins)
        if extra:
            select._where_criteria += tuple(extra)

    def visit_join(join) -> None:
        criterion = criterion_for(join.right)
        if criterion is not None:
            join.onclause = and_(join.onclause, criterion)

    def visit_dml(dml) -> None:
        criterion = criterion_for(dml.table)
        if criterion is not None:
            dml._where_criteria += (criterion,)

    # Loader options are not clause elements and cannot be copied; they set aside and
    # put back unchanged.
    options = getattr(statement, "_with_options", ())
    if options:
        statement = statement._generate()
        statement._with_options = ()
    filtered = visitors.cloned_traverse(
        statement,
        {},
        {"select": visit_select, "join": visit_join, "update": visit_dml, "delete": visit_dml},
    )
    if options:
        filtered._with_options = options
    return filtered


@event.listens_for(Session, "do_orm_execute")
def _scope_statement(state: ORMExecuteState) -> None:
    if state.is_select and state.execution_options.get(AGGREGATE_OPTION):
        return  # aggregate_across_tenants limits it to the tenants it names
    if not (state.is_select or state.is_update or state.is_delete or state.is_insert):
        return
    owned = any(issubclass(mapper.class_, TenantOwned) for mapper in state.all_mappers)
    owned = owned or bool(_tables_touched(state.statement) & tenant_owned_tables())
    if not owned:
        return
    tenant_id = _current_tenant_id.get()
    if tenant_id is None:
        raise TenantNotSet("tenant-owned data was queried with no tenant in scope")
    if state.is_insert:
        # The flush guard and row-level security check the rows an INSERT writes.
        return
    state.statement = _filter_every_table(state.statement, tenant_id).options(
        with_loader_criteria(
            TenantOwned,
            lambda cls: cls.tenant_id == tenant_id,
            include_aliases=True,
        )
    )


def _check_loaded(target, *args) -> None:
    owner = inspect(target).dict.get("tenant_id")
    tenant_id = _current_tenant_id.get()
    if tenant_id is None:
        raise TenantNotSet(f"{type(target).__name__} was loaded with no tenant in scope")
    if owner is not None and owner != tenant_id:
        raise CrossTenantRead(f"{type(target).__name__} belongs to another tenant")


event.listen(TenantOwned, "load", _check_loaded, propagate=True)
event.listen(TenantOwned, "refresh", _check_loaded, propagate=True)


@event.listens_for(Session, "detached_to_persistent")
def _guard_reattach(session: Session, instance) -> None:
    if isinstance(instance, TenantOwned):
        _check_loaded(instance)


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
        connection.execute(_SET_SCOPE, _scope_parameters())


# --- partnership-owned rows --------------------------------------------------------------


class PartnershipNotSet(RuntimeError):
    """Partnership-owned data was touched with no partnership in scope."""


class CrossPartnershipWrite(RuntimeError):
    """A partnership's row was written where that partnership may not be written."""


class CrossPartnershipRead(RuntimeError):
    """A partnership's row was loaded where that partnership is not visible."""


class PartnershipScope(NamedTuple):
    """The partnerships visible now, and the one (if any) that may be written.

    ``derived`` scopes follow the tenant in scope (its partnerships, read only) and are
    replaced whenever the tenant changes; an explicit scope (a partnership's page,
    :func:`partnership_scope`) stays put while tenants are visited under it.
    """

    visible: frozenset[int]
    writable: int | None
    derived: bool = False


_partnership_scope: ContextVar[PartnershipScope | None] = ContextVar(
    "partnership_scope", default=None
)


class PartnershipOwned:
    """Mixin for every model whose rows belong to one partnership rather than one tenant.

    The scope is *the set of partnership ids visible now*, plus at most one partnership
    that may be written:

    - on a partnership's page (``/p/<partnership>/``, set by ``portal.access``) its own
      partnership is visible and writable, and nothing else, even while its members are
      visited with :func:`across_tenants`;
    - on a tenant's page (``/t/<tenant>/``, and public pages of a tenant) the partnerships
      the tenant is a member of are visible, read only: an organisation reads its
      partnerships' joint aims, joint measures and joint assessments and writes none;
    - anywhere else (commands, demonstration data, tests) :func:`partnership_scope`
      puts one partnership in scope, or ``partnership_scope(None)`` none at all.

    Three walls, as for :class:`TenantOwned`:

    1. every select, update and delete that reaches a partnership-owned table (model or
       Core table, joins, subqueries, eager and lazy loads) carries
       ``partnership_id IN (<visible>)``; with nothing in scope it raises
       :class:`PartnershipNotSet`. A row loaded outside the scope raises
       :class:`CrossPartnershipRead`, and changing the scope leaves no invisible row in
       the session, so ``Session.get`` cannot hand one out;
    2. a flush sets ``partnership_id`` on a new row to the writable partnership, and
       refuses (:class:`CrossPartnershipWrite`) any insert, change or deletion of a row of
       a partnership that is not the writable one;
    3. on PostgreSQL the scope is written into each transaction with
       ``set_config(…, true)`` (``app.partnership_ids``, ``app.partnership_id``) and
       forced row-level security policies read it back: SELECT sees the visible
       partnerships' rows, INSERT, UPDATE and DELETE reach the writable one's only.

    A model whose ``partnership_id`` may be NULL for rows everybody shares (built-in
    measure definitions) sets ``partnership_shared_rows = True``: its NULL rows are
    visible in every scope, even none, and are written only where no partnership is
    writable (never from a partnership's page).

    A new partnership-owned model must:

    - mix in ``PartnershipOwned`` (before ``db.Model``), which declares
      ``partnership_id`` (a foreign key to ``partnership.id``, ON DELETE CASCADE,
      indexed); it may not declare its own ``partnership_id``;
    - in the migration that creates its table, call
      ``enable_partnership_row_level_security(op, "<table>")`` after creating it (and
      ``disable_partnership_row_level_security`` in the downgrade), then
      ``grant_app_role(op)`` as every migration does;
    - load one row by id from a route with ``portal.access.get_partnership_owned_or_404``
      and never filter on ``partnership_id`` by hand for scoping;
    - in commands and jobs, read and write inside ``partnership_scope(partnership)``.
    """

    partnership_shared_rows: ClassVar[bool] = False

    @declared_attr
    def partnership_id(cls) -> Mapped[int]:  # noqa: N805 - declared_attr receives the class
        return mapped_column(
            ForeignKey("partnership.id", ondelete="CASCADE"),
            index=True,
            nullable=cls.partnership_shared_rows,
        )


def current_partnership_scope() -> PartnershipScope | None:
    """The partnerships visible and writable now, or None."""
    return _partnership_scope.get()


def visible_partnership_ids() -> frozenset[int] | None:
    """The ids of the partnerships whose rows may be read now, or None with no scope."""
    scope = _partnership_scope.get()
    return None if scope is None else scope.visible


def _loaded_partnership_ids(tenant) -> frozenset[int] | None:
    """The ids of ``tenant``'s partnerships if they were loaded with it (a signed-in
    request loads them with the session), else None."""
    if tenant is None or isinstance(tenant, int):
        return None
    known = getattr(tenant, "partnership_ids", None)  # read with the session (principal.py)
    if known is not None:
        return known
    loaded = inspect(tenant).attrs.partnerships.loaded_value
    if loaded is NO_VALUE:
        return None
    return frozenset(p.id for p in loaded)


def _derived_scope(
    tenant_id: int | None, known: frozenset[int] | None = None
) -> PartnershipScope | None:
    """The read-only scope of a tenant: the partnerships it is a member of."""
    if tenant_id is None:
        return None
    if known is not None:
        return PartnershipScope(known, None, derived=True)
    from portal.partners.models import partnership_member

    ids = db.session.scalars(
        select(partnership_member.c.partnership_id).where(
            partnership_member.c.tenant_id == tenant_id
        )
    )
    return PartnershipScope(frozenset(ids), None, derived=True)


def _shows(obj, scope: PartnershipScope | None) -> bool:
    owner = inspect(obj).dict.get("partnership_id")
    if owner is None:
        return type(obj).partnership_shared_rows
    return scope is not None and owner in scope.visible


def _change_partnership_scope(scope: PartnershipScope | None, *, flush: bool = True) -> None:
    """Make ``scope`` the partnership scope, leaving no row it cannot see in the session."""
    session = db.session
    if scope != _partnership_scope.get() and session.is_active:
        if flush and (session.new or session.dirty or session.deleted):
            session.flush()
        for obj in [*session.identity_map.values(), *session.new]:
            if isinstance(obj, PartnershipOwned) and obj in session:
                pending = obj in session.new
                if pending or not _shows(obj, scope):
                    session.expunge(obj)
    _partnership_scope.set(scope)


def set_partnership(partnership) -> None:
    """Put one partnership in scope, visible and writable (a partnership's page)."""
    partnership_id = partnership if isinstance(partnership, int) else partnership.id
    _change_partnership_scope(PartnershipScope(frozenset({partnership_id}), partnership_id))
    _apply_to_database(db.session)


def show_partnership(partnership) -> None:
    """Put one partnership in scope, visible and read only (its public pages)."""
    partnership_id = partnership if isinstance(partnership, int) else partnership.id
    _change_partnership_scope(PartnershipScope(frozenset({partnership_id}), None))
    _apply_to_database(db.session)


@contextlib.contextmanager
def partnership_scope(partnership) -> Iterator[None]:
    """Run a block with one partnership visible and writable (or, given None, none: only
    rows everybody shares), restoring the previous scope afterwards."""
    previous = _partnership_scope.get()
    if partnership is None:
        scope = PartnershipScope(frozenset(), None)
    else:
        partnership_id = partnership if isinstance(partnership, int) else partnership.id
        scope = PartnershipScope(frozenset({partnership_id}), partnership_id)
    _change_partnership_scope(scope)
    _apply_to_database(db.session)
    failed = False
    try:
        yield
    except Exception:
        failed = True
        raise
    finally:
        _change_partnership_scope(previous, flush=not failed)
        if db.session.is_active:
            _apply_to_database(db.session)


def _partnership_owned() -> tuple[tuple[type, ...], frozenset[str]]:
    found = _owned_cache.get("partnership")
    if found is None:
        mappers = db.Model.registry.mappers
        classes = tuple(m.class_ for m in mappers if issubclass(m.class_, PartnershipOwned))
        names = frozenset(t.name for m in mappers if m.class_ in classes for t in m.tables)
        found = _owned_cache["partnership"] = (classes, names)
    return found


def partnership_owned_tables() -> frozenset[str]:
    """The names of every table whose rows belong to one partnership."""
    return _partnership_owned()[1]


def _shared_tables() -> frozenset[str]:
    classes, _ = _partnership_owned()
    return frozenset(cls.__table__.name for cls in classes if cls.partnership_shared_rows)


def _partnership_condition(column, shared: bool, visible: frozenset[int] | None):
    if visible is None:
        # No scope: only the rows everybody shares (the caller checked there are some).
        return column.is_(None)
    condition = column.in_(sorted(visible))
    return or_(column.is_(None), condition) if shared else condition


def _partnership_criterion(selectable, visible):
    table = selectable.element if isinstance(selectable, Alias) else selectable
    if isinstance(table, Table) and table.name in partnership_owned_tables():
        shared = table.name in _shared_tables()
        if visible is None and not shared:
            raise PartnershipNotSet(f"{table.name} was queried with no partnership in scope")
        return _partnership_condition(selectable.c.partnership_id, shared, visible)
    return None


@event.listens_for(Session, "do_orm_execute")
def _scope_partnership_statement(state: ORMExecuteState) -> None:
    if not (state.is_select or state.is_update or state.is_delete or state.is_insert):
        return
    classes, tables = _partnership_owned()
    touched = {m.class_ for m in state.all_mappers if issubclass(m.class_, PartnershipOwned)}
    names = _tables_touched(state.statement) & tables
    if not touched and not names:
        return
    scope = _partnership_scope.get()
    visible = None if scope is None else scope.visible
    if visible is None:
        shared = _shared_tables()
        unshared = {c.__table__.name for c in touched if not c.partnership_shared_rows}
        unshared |= names - shared
        if unshared:
            raise PartnershipNotSet(
                f"partnership-owned data ({', '.join(sorted(unshared))}) was queried "
                "with no partnership in scope"
            )
    if state.is_insert:
        # The flush guard and row-level security check the rows an INSERT writes.
        return
    state.statement = _filter_every_table(
        state.statement, None, lambda selectable: _partnership_criterion(selectable, visible)
    ).options(
        *(
            with_loader_criteria(
                cls,
                _partnership_condition(cls.partnership_id, cls.partnership_shared_rows, visible),
                include_aliases=True,
            )
            for cls in classes
            if visible is not None or cls.partnership_shared_rows
        )
    )


def _check_partnership_loaded(target, *args) -> None:
    scope = _partnership_scope.get()
    if _shows(target, scope):
        return
    if scope is None:
        raise PartnershipNotSet(f"{type(target).__name__} was loaded with no partnership in scope")
    raise CrossPartnershipRead(f"{type(target).__name__} belongs to another partnership")


event.listen(PartnershipOwned, "load", _check_partnership_loaded, propagate=True)
event.listen(PartnershipOwned, "refresh", _check_partnership_loaded, propagate=True)


@event.listens_for(Session, "detached_to_persistent")
def _guard_partnership_reattach(session: Session, instance) -> None:
    if isinstance(instance, PartnershipOwned):
        _check_partnership_loaded(instance)


@event.listens_for(Session, "before_flush")
def _guard_partnership_flush(session: Session, flush_context, instances) -> None:
    scope = _partnership_scope.get()
    writable = None if scope is None else scope.writable
    for obj in session.new:
        if not isinstance(obj, PartnershipOwned):
            continue
        if obj.partnership_id is None:
            if writable is not None:
                obj.partnership_id = writable
            elif not obj.partnership_shared_rows:
                raise PartnershipNotSet(
                    f"{type(obj).__name__} was added with no partnership to write to"
                )
        elif obj.partnership_id != writable:
            raise CrossPartnershipWrite(f"{type(obj).__name__} belongs to another partnership")
    for obj in list(session.dirty) + list(session.deleted):
        if not isinstance(obj, PartnershipOwned):
            continue
        if obj in session.dirty and not session.is_modified(obj, include_collections=False):
            continue
        owner = inspect(obj).committed_state.get("partnership_id", obj.partnership_id)
        shared = obj.partnership_shared_rows and owner is None and obj.partnership_id is None
        if shared and writable is None:
            continue
        if owner is None or owner != writable or obj.partnership_id != writable:
            raise CrossPartnershipWrite(f"{type(obj).__name__} belongs to another partnership")


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


_VISIBLE_EXPRESSION = f"NULLIF(current_setting('{PARTNERSHIPS_SETTING}', true), '')::integer[]"
_WRITABLE_EXPRESSION = f"NULLIF(current_setting('{PARTNERSHIP_SETTING}', true), '')::integer"
_PARTNERSHIP_POLICIES = ("read", "insert", "update", "delete")


def enable_partnership_row_level_security(op, table: str, *, shared_rows: bool = False) -> None:
    """Force row-level security on a partnership-owned table (PostgreSQL; no-op elsewhere).

    SELECT sees the rows of the partnerships in ``app.partnership_ids``; INSERT, UPDATE and
    DELETE reach only the rows of the one in ``app.partnership_id``. With ``shared_rows``
    (the model's ``partnership_shared_rows``), rows with no partnership are read by all and
    written only where no partnership is writable.
    """
    if op.get_bind().dialect.name != "postgresql":
        return
    read = f"partnership_id = ANY ({_VISIBLE_EXPRESSION})"
    write = f"partnership_id = {_WRITABLE_EXPRESSION}"
    if shared_rows:
        read = f"(partnership_id IS NULL OR {read})"
        write = f"({write} OR (partnership_id IS NULL AND {_WRITABLE_EXPRESSION} IS NULL))"
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY partnership_read ON {table} FOR SELECT USING ({read})")
    op.execute(f"CREATE POLICY partnership_insert ON {table} FOR INSERT WITH CHECK ({write})")
    op.execute(
        f"CREATE POLICY partnership_update ON {table} FOR UPDATE "
        f"USING ({write}) WITH CHECK ({write})"
    )
    op.execute(f"CREATE POLICY partnership_delete ON {table} FOR DELETE USING ({write})")


def disable_partnership_row_level_security(op, table: str) -> None:
    """Undo :func:`enable_partnership_row_level_security`."""
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in _PARTNERSHIP_POLICIES:
        op.execute(f"DROP POLICY IF EXISTS partnership_{name} ON {table}")
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


def database_role_problems(connection) -> list[str]:
    """Why the role ``connection`` signs in as would silence row-level security.

    A superuser and a role with BYPASSRLS pass every policy; a table's owner (or a member
    of the owner's role) may switch its policies off. Empty on other databases.
    """
    if connection.dialect.name != "postgresql":
        return []
    role, superuser, bypass = connection.execute(
        text("SELECT rolname, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
    ).one()
    problems = []
    if superuser:
        problems.append(f"the database role {role!r} is a superuser")
    if bypass:
        problems.append(f"the database role {role!r} has BYPASSRLS")
    owned = connection.execute(
        text(
            "SELECT c.relname FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') "
            "AND c.relname = ANY(:names) AND pg_has_role(current_user, c.relowner, 'MEMBER') "
            "ORDER BY c.relname"
        ),
        {"names": sorted(tenant_owned_tables() | partnership_owned_tables())},
    ).scalars()
    owned = list(owned)
    if owned and not superuser:
        problems.append(f"the database role {role!r} owns {', '.join(owned)}")
    return problems
