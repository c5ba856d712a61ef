"""Database engine settings that apply on every connection."""

from __future__ import annotations

import fcntl
import functools
import os

from flask import Flask
from sqlalchemy import Table, Update, event, false, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from portal import tenancy


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    module = type(dbapi_connection).__module__
    if module.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # With WAL, NORMAL syncs at checkpoints rather than on every commit: the database
        # stays intact after a crash, and a write no longer holds the lock other requests
        # wait for through a disk flush (a signed-in page writes to the audit trail).
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()


_LOCK_FD = "portal_sqlite_write_lock"


def queue_for_write(session: Session, table: Table) -> None:
    """On SQLite, take the database's write lock before a transaction that reads and then
    writes ``table`` (the audit trail's chain), so that no other writer can change what it
    read. Elsewhere (PostgreSQL, an in-memory database) nothing to do.

    First it waits in line: SQLite's own wait is a sleep that grows to 100 ms between
    tries; under load a writer could sleep through many turns while others took the lock,
    and pages written to on every view (the audit trail) queued for seconds. A file lock is
    handed over in order as soon as it is freed. It is taken only before the transaction's
    first write: a transaction that already holds SQLite's lock never waits for one that is
    waiting for it, and it is released when the transaction ends.

    Then it takes SQLite's own lock at once, with an update of no row: SQLite reads outside
    a transaction until its first write. That statement reads and changes nothing, so it
    goes to the connection directly, past the ORM's tenant scoping.
    """
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return
    raw = connection.connection.dbapi_connection
    path = connection.engine.url.database
    if not (raw.in_transaction or not path or path == ":memory:" or _LOCK_FD in session.info):
        descriptor = os.open(f"{path}.write-lock", os.O_CREAT | os.O_RDWR, 0o600)
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        session.info[_LOCK_FD] = descriptor
    connection.execute(_no_op_update(table))


@functools.cache
def _no_op_update(table: Table) -> Update:
    """An update of no row of ``table``, built once: a statement built afresh works out its
    cache key on every execution, and the audit trail takes this lock on every view."""
    key = next(iter(table.primary_key.columns))
    return update(table).where(false()).values({key: key})


@event.listens_for(Session, "after_transaction_end")
def _leave_queue(session: Session, transaction) -> None:
    if transaction.parent is not None:
        return
    descriptor = session.info.pop(_LOCK_FD, None)
    if descriptor is not None:
        os.close(descriptor)  # releases the lock


def init_app(app: Flask) -> None:
    tenancy.init_app(app)
