"""Per-tenant references: what users see, and what tenant addresses carry, instead of ids.

Database ids come from sequences shared by every tenant, so an id in an address tells
how busy the other tenants are (an organisation's seventh incident might be id 31). Each
record that an address names mixes in :class:`TenantNumbered` and gets a ``number`` that
runs 1, 2, 3 … within its tenant and model, given when the row is first written. Users
see it as a ``reference`` with a short prefix per kind of record:

    HI-0007   hate incident          A-0012    action
    OBJ-0003  objective              U-0040    progress update
    C-0002    commitment             M-0005    measure
    EQIA-0004 impact assessment      W-0009    ward

Routes under ``/t/<tenant_slug>/`` and ``/public/<org_slug>/`` take the number and load
the record with :func:`get_numbered_or_404`, which looks it up under the tenant scope:
another tenant's number is this tenant's own record of that number, or not found.
"""

from __future__ import annotations

import zlib

from flask import abort
from sqlalchemy import Index, Integer, cast, event, false, func, inspect, select, update
from sqlalchemy.orm import Mapped, Mapper, Session, declared_attr, mapped_column

from portal.extensions import db
from portal.tenancy import TenantOwned, current_tenant_id


class TenantNumbered(TenantOwned):
    """A tenant-owned record with a running number within its tenant, and a reference.

    Subclasses set ``reference_prefix``. The number is unique per tenant (unique index
    ``uq_<table>_number``) and given at flush by :func:`_number_new_rows`.
    """

    reference_prefix: str = ""

    @declared_attr
    def number(cls) -> Mapped[int]:  # noqa: N805 - declared_attr receives the class
        return mapped_column(Integer)

    @property
    def reference(self) -> str:
        """The reference users see, e.g. ``HI-0007``."""
        if self.number is None:
            return ""
        return f"{self.reference_prefix}-{self.number:04d}"


@event.listens_for(TenantNumbered, "after_mapper_constructed", propagate=True)
def _add_unique_number(mapper: Mapper, cls) -> None:
    # A unique index rather than a table constraint: SQLite can add and drop it without
    # rebuilding the table.
    table = mapper.local_table
    name = f"uq_{table.name}_number"
    if not any(i.name == name for i in table.indexes):
        Index(name, table.c.tenant_id, table.c.number, unique=True)


# First key of the PostgreSQL advisory locks that serialise numbering; the second is the
# table's and tenant's own.
NUMBER_LOCK = 0x4E554D42  # "NUMB"


def _lock_key(table: str, tenant_id: int) -> int:
    """A signed 32-bit key for one table of one tenant."""
    value = zlib.crc32(f"{table}:{tenant_id}".encode())
    return value - 2**32 if value >= 2**31 else value


@event.listens_for(Session, "before_flush")
def _number_new_rows(session: Session, flush_context, instances) -> None:
    """Give each new numbered row the next number of its tenant and model.

    The highest number is read only once this transaction holds a lock that a second
    numbering transaction must wait for, so two transactions cannot hand out the same
    number: on PostgreSQL an advisory lock per table and tenant, held until the
    transaction ends; on SQLite the database's write lock, taken by an update that
    changes nothing (the driver would otherwise read before it begins the transaction).
    """
    pending = [o for o in session.new if isinstance(o, TenantNumbered) and o.number is None]
    if not pending:
        return
    dialect = session.get_bind().dialect.name
    following: dict[tuple[type, int], int] = {}
    # In the order they were added, which is the order their rows (and ids) are written.
    for obj in sorted(pending, key=lambda o: inspect(o).insert_order):
        model = type(obj)
        tenant_id = obj.tenant_id or current_tenant_id()
        if tenant_id is None:
            continue  # the tenancy flush guard refuses it
        key = (model, tenant_id)
        if key not in following:
            table = model.__table__.name
            if dialect == "postgresql":
                lock = (cast(NUMBER_LOCK, Integer), cast(_lock_key(table, tenant_id), Integer))
                session.execute(select(func.pg_advisory_xact_lock(*lock)))
            elif dialect == "sqlite":
                session.execute(
                    update(model)
                    .where(false())
                    .values(number=model.number)
                    .execution_options(synchronize_session=False)
                )
            with session.no_autoflush:
                highest = session.scalar(
                    select(func.max(model.number)).where(model.tenant_id == tenant_id)
                )
            following[key] = (highest or 0) + 1
        obj.number = following[key]
        following[key] += 1


def get_numbered_or_404(model, number: int, *, options=()):
    """Load the current tenant's record of ``model`` with this running number, or 404;
    ``options`` load what the page shows with it.

    The tenancy criterion limits the lookup to the tenant in scope, so another tenant's
    number names this tenant's own record of that number, if there is one.
    """
    obj = db.session.scalar(select(model).where(model.number == number).options(*options))
    if obj is None:
        abort(404)
    return obj
