"""The append-only, tamper-evident audit trail.

Every sign-in attempt, grant change, create, update, delete and export lands here with
the time (UTC), the user, the tenant, the action and the object. Rows are never changed:
the ORM refuses, and on PostgreSQL the application's role holds no UPDATE or DELETE and a
trigger refuses even the schema owner.

Each event carries the tenant in scope when it is written, or none (sign-ins, portal
administration); row-level security refuses any other. The events of one tenant form a
hash chain (and the events with no tenant form one more): each holds its position in the
chain, the hash of the event before it and its own hash over both and every field. A
changed, removed or inserted event breaks the chain, and :func:`verify` says where. The
schema owner can still disable the trigger or TRUNCATE the table; recomputing every hash
after a change, or removing the newest events, leaves a consistent chain, so
:func:`verify` also compares each chain with a checkpoint kept outside the database.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import logging
import os
import threading
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from time import sleep
from typing import Any

from flask import current_app, has_request_context, request
from flask_login import current_user
from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    Integer,
    String,
    bindparam,
    cast,
    event,
    func,
    insert,
    or_,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column

from portal import clock, database, tenancy
from portal.extensions import db

log = logging.getLogger(__name__)

ACTION_LABELS = {
    "auth.login": "Signed in",
    "auth.login_failed": "Sign-in failed",
    "auth.login_refused": "Sign-in refused",
    "auth.account_locked": "Account locked after failed sign-ins",
    "auth.logout": "Signed out",
    "auth.session_expired": "Session expired",
    "auth.password_reset_requested": "Password reset requested",
    "auth.password_set": "Password set",
    "user.invited": "Person invited",
    "user.disabled": "Account disabled",
    "user.enabled": "Account enabled",
    "user.removed": "Person removed from the organisation",
    "user.suspended": "Access to the organisation suspended",
    "user.restored": "Access to the organisation restored",
    "user.invitation_accepted": "Invitation accepted",
    "grant.added": "Role granted",
    "grant.removed": "Role removed",
    "partnership.created": "Partnership created",
    "partnership.updated": "Partnership updated",
    "tenant.created": "Organisation created",
    "tenant.updated": "Organisation updated",
    "cross_tenant.read": "Figures read across organisations",
}


# Key of the PostgreSQL advisory locks that serialise writers of one chain (with the
# tenant's id, or 0 for the chain of events with no tenant, as the second key).
CHAIN_LOCK = 0x41554454  # "AUDT"

GENESIS = "0" * 64

# The fields each event's hash covers, in order.
HASHED_FIELDS = (
    "seq",
    "tenant_id",
    "at",
    "user_id",
    "actor_email",
    "action",
    "object_type",
    "object_id",
    "detail",
    "address",
    "prev_hash",
)


class AuditEvent(db.Model):
    """One thing that happened, kept for good."""

    # Row-level security lets the app read only the current tenant's events, and an
    # INSERT … RETURNING must pass that read policy too; so the id is taken from the
    # sequence first and no RETURNING is used.
    __table_args__ = (
        # One event per position in each chain: a fork is refused even where no lock
        # serialises the writers.
        Index("ix_audit_event_chain", "tenant_id", "seq", unique=True),
        {"implicit_returning": False},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    actor_email: Mapped[str | None] = mapped_column(String(254))
    tenant_id: Mapped[int | None] = mapped_column(
        ForeignKey("tenant.id", ondelete="RESTRICT"), index=True
    )
    action: Mapped[str] = mapped_column(String(60), index=True)
    object_type: Mapped[str | None] = mapped_column(String(60))
    object_id: Mapped[str | None] = mapped_column(String(60))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    address: Mapped[str | None] = mapped_column(String(64))
    # Position in the tenant's chain (1, 2, 3 …), the previous event's hash and this one's.
    seq: Mapped[int]
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    @property
    def label(self) -> str:
        return label_of(self.action)


def label_of(action: str) -> str:
    """What an action is called on the trail pages."""
    return ACTION_LABELS.get(action) or action.replace("_", " ").replace(".", ": ").capitalize()


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _append_only(mapper, connection, target) -> None:
    raise PermissionError("the audit trail is append-only")


def event_hash(values: dict[str, Any]) -> str:
    """The SHA-256 of one event's hashed fields (a mapping of column names to values)."""

    def plain(value):
        if isinstance(value, datetime):
            return value.isoformat(timespec="microseconds")
        return value

    payload = [[name, plain(values.get(name))] for name in HASHED_FIELDS]
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _values(row: AuditEvent) -> dict[str, Any]:
    return {name: getattr(row, name) for name in HASHED_FIELDS}


def _chain(tenant_id: int | None):
    if tenant_id is None:
        return AuditEvent.tenant_id.is_(None)
    return AuditEvent.tenant_id == tenant_id


def record(
    action: str,
    obj: Any = None,
    *,
    user: Any = None,
    tenant_id: int | None = None,
    detail: dict[str, Any] | None = None,
    object_type: str | None = None,
    object_id: Any = None,
) -> AuditEvent:
    """Write an event into the current tenant's trail (or the portal's, with no tenant).

    It is written at once, in the transaction of the change it describes, and shares its
    fate. ``tenant_id`` names the trail explicitly: with a tenant in scope it must be
    that tenant; portal-level code (no tenant in scope) recording an event about one
    organisation writes it under that organisation's own scope.
    """
    event_row = _event(action, obj, user, tenant_id, detail, object_type, object_id)
    if event_row.tenant_id == tenancy.current_tenant_id():
        _append(event_row)
    else:
        with tenancy.tenant_scope(event_row.tenant_id):
            _append(event_row)
    return event_row


def record_view(
    action: str, *, detail: dict[str, Any] | None = None, object_type: str | None = None
) -> None:
    """Record that the signed-in user viewed something, in the current tenant's trail.

    The event is made now, with this moment, person and address, and written behind the
    request, within ``AUDIT_VIEWS_DELAY`` seconds, together with the other views this
    process saw meanwhile (see :class:`ViewWriter`): a page that only reads then writes
    nothing while it answers. With no delay it is written and committed at once, with
    whatever else the request has done.
    """
    event_row = _event(action, None, None, None, detail, object_type, None)
    delay = current_app.config["AUDIT_VIEWS_DELAY"]
    if not delay:
        _append(event_row)
        db.session.commit()
        return
    writer = current_app.extensions.get(_VIEW_WRITER)
    if writer is None:
        writer = current_app.extensions.setdefault(
            _VIEW_WRITER, ViewWriter(current_app._get_current_object(), delay)
        )
    writer.add(event_row)


def _event(
    action: str,
    obj: Any,
    user: Any,
    tenant_id: int | None,
    detail: dict[str, Any] | None,
    object_type: str | None,
    object_id: Any,
) -> AuditEvent:
    if user is None and has_request_context() and current_user and current_user.is_authenticated:
        user = current_user
    if obj is not None:
        object_type = object_type or type(obj).__name__
        object_id = object_id if object_id is not None else getattr(obj, "id", None)
    scope = tenancy.current_tenant_id()
    if tenant_id is None:
        tenant_id = scope
    if scope is not None and tenant_id != scope:
        raise tenancy.CrossTenantWrite("an event was recorded for another organisation's trail")
    return AuditEvent(
        at=clock.utcnow(),
        user_id=getattr(user, "id", None),
        actor_email=getattr(user, "email", None),
        tenant_id=tenant_id,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        # Stored as JSON: hash what will be read back, not the Python objects.
        detail=json.loads(json.dumps(detail or {}, default=str)),
        address=request.remote_addr if has_request_context() else None,
    )


_VIEW_WRITER = "portal.audit.views"
# A view event the database keeps refusing (its person deleted meanwhile, say) is tried
# this many times, then written to the log in full rather than holding up the others.
VIEW_ATTEMPTS = 5


class ViewWriter:
    """View events waiting to be written, for one app in one process.

    A view is recorded on every signed-in home page. Written in the request, each view
    would take the trail's lock (a chain has one head) and commit; under load the pages
    queue for that lock. Here one thread per process writes every view seen in the last
    ``delay`` seconds in one transaction per trail, in the order they were seen, each
    with the moment it happened. What is still waiting when the process ends (a restart,
    a deploy) is written by :func:`atexit`; a trail the database will not take is tried
    again on the next round.
    """

    def __init__(self, app, delay: float):
        self.app = app
        self.delay = delay
        self._pid = os.getpid()
        self._lock = threading.Lock()  # guards the waiting list
        self._writing = threading.Lock()  # one write at a time, so a trail keeps its order
        self._waiting: list[tuple[AuditEvent, int]] = []
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, event_row: AuditEvent) -> None:
        with self._lock:
            if self._pid != os.getpid():
                # A forked server process: what the parent had waiting is the parent's.
                self._pid, self._waiting, self._thread = os.getpid(), [], None
                self._wake = threading.Event()
            self._waiting.append((event_row, 0))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="audit-view-writer", daemon=True
                )
                self._thread.start()
                atexit.register(self.flush)
        self._wake.set()

    @property
    def waiting(self) -> int:
        with self._lock:
            return len(self._waiting)

    def _run(self) -> None:
        while True:
            self._wake.wait()
            sleep(self.delay)  # gather what comes meanwhile into the same write
            self._wake.clear()
            if self.flush():
                self._wake.set()  # some were not written: try again next round

    def flush(self) -> int:
        """Write every waiting event now. Returns how many are still waiting after a
        failure (0 once all are written)."""
        with self._writing:
            with self._lock:
                batch, self._waiting = self._waiting, []
            if not batch:
                return 0
            failed = self._write_trails(batch)
            if failed:
                with self._lock:
                    self._waiting[:0] = failed
            return len(failed)

    def _write_trails(self, batch: list[tuple[AuditEvent, int]]) -> list[tuple[AuditEvent, int]]:
        trails: dict[int | None, list[tuple[AuditEvent, int]]] = {}
        for item in batch:
            trails.setdefault(item[0].tenant_id, []).append(item)
        failed: list[tuple[AuditEvent, int]] = []
        with self.app.app_context():
            # One trail, one commit: a transaction holds one chain's lock at a time.
            for tenant_id, items in trails.items():
                try:
                    with tenancy.tenant_scope(tenant_id):
                        for event_row, _ in items:
                            _write(db.session, event_row)
                        db.session.commit()
                except Exception:
                    db.session.rollback()
                    log.warning("%d view events not written yet", len(items), exc_info=True)
                    for event_row, attempts in items:
                        if attempts + 1 < VIEW_ATTEMPTS:
                            failed.append((event_row, attempts + 1))
                        else:
                            log.error("view event not written: %s", _values(event_row))
        return failed


_EVENTS = AuditEvent.__table__


def _head(chain) -> Any:
    newest_first = _EVENTS.c.seq.desc()
    return select(_EVENTS.c.seq, _EVENTS.c.hash).where(chain).order_by(newest_first).limit(1)


# Built once: a statement built afresh works out its cache key on every execution, and an
# event is written on every view of the incident figures (the home page).
_PORTAL_HEAD = _head(_EVENTS.c.tenant_id.is_(None))
_TENANT_HEAD = _head(_EVENTS.c.tenant_id == bindparam("tenant_id"))
_CHAIN_LOCKED = select(
    func.pg_advisory_xact_lock(
        cast(bindparam("chain"), Integer), cast(bindparam("tenant_id"), Integer)
    )
)
_INSERT = insert(_EVENTS)


def _append(event_row: AuditEvent) -> None:
    """Link the event to the head of its chain and write it, in the current transaction.

    The row is written with Core statements on the session's connection, so in the
    session's transaction and under its tenant's row-level security, but without the
    unit of work: the event is never changed or read back through the session, and the
    caller's own pending changes are left to be flushed when the caller chooses. The
    returned object carries the written values, its id included.
    """
    session = db.session
    try:
        _write(session, event_row)
    except Exception:
        # As a failed flush does: the transaction the event belongs to is undone, so no
        # caller that catches the error can commit its change without the event.
        session.rollback()
        raise


def _write(session, event_row: AuditEvent) -> None:
    connection = session.connection()
    tenant_id = event_row.tenant_id
    if connection.dialect.name == "postgresql":
        # Held until the transaction ends, so two requests cannot both extend the same
        # head; the head is read after the lock, in the same transaction.
        connection.execute(_CHAIN_LOCKED, {"chain": CHAIN_LOCK, "tenant_id": tenant_id or 0})
    else:
        # SQLite: the database's write lock first, or two requests read the same head and
        # the second fails on the chain's unique position.
        database.queue_for_write(session, _EVENTS)
    if tenant_id is None:
        head = connection.execute(_PORTAL_HEAD).first()
    else:
        head = connection.execute(_TENANT_HEAD, {"tenant_id": tenant_id}).first()
    event_row.seq = head.seq + 1 if head else 1
    event_row.prev_hash = head.hash if head else GENESIS
    values = _values(event_row)
    event_row.hash = values["hash"] = event_hash(values)
    result = connection.execute(_INSERT, values)
    event_row.id = result.inserted_primary_key[0]


# --- reading the trail -----------------------------------------------------------------


@dataclass
class Filters:
    """What a trail page is narrowed to; None means no filter."""

    person_id: int | None = None
    action: str | None = None
    since: date | None = None
    until: date | None = None


def trail(tenant_id: int | None, filters: Filters | None = None):
    """One trail (a tenant's, or with None the events with no tenant), newest first, as a
    select() for pagination."""
    filters = filters or Filters()
    query = select(AuditEvent).where(_chain(tenant_id))
    if filters.person_id is not None:
        query = query.where(
            or_(
                AuditEvent.user_id == filters.person_id,
                (AuditEvent.object_type == "User")
                & (AuditEvent.object_id == str(filters.person_id)),
            )
        )
    if filters.action:
        query = query.where(AuditEvent.action == filters.action)
    if filters.since:
        query = query.where(AuditEvent.at >= datetime.combine(filters.since, time.min))
    if filters.until:
        query = query.where(
            AuditEvent.at < datetime.combine(filters.until + timedelta(days=1), time.min)
        )
    return query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())


def for_tenant(tenant_id: int):
    """The trail of one tenant, newest first, as a select() for pagination."""
    return trail(tenant_id)


def actions_in(tenant_id: int | None) -> list[tuple[str, str]]:
    """The actions found in one trail, as (action, label) pairs in label order."""
    actions = db.session.scalars(
        select(AuditEvent.action).where(_chain(tenant_id)).distinct()
    ).all()
    return sorted(((a, label_of(a)) for a in actions), key=lambda pair: pair[1])


def people_in(tenant_id: int | None) -> list:
    """Everybody who acted in, or was the subject of, one trail, by name."""
    from portal.auth.models import User

    actors = select(AuditEvent.user_id).where(_chain(tenant_id), AuditEvent.user_id.is_not(None))
    subjects = select(AuditEvent.object_id).where(
        _chain(tenant_id), AuditEvent.object_type == "User"
    )
    ids = set(db.session.scalars(actors.distinct()).all())
    ids |= {int(i) for i in db.session.scalars(subjects.distinct()).all() if i and i.isdecimal()}
    if not ids:
        return []
    return db.session.scalars(
        select(User).where(User.id.in_(ids)).order_by(User.name, User.email)
    ).all()


@dataclass
class Named:
    """An event with the names of its actor and subject, for a trail page."""

    event: AuditEvent
    actor: str
    subject: str
    details: list[tuple[str, str]] = field(default_factory=list)


DETAIL_LABELS = {
    "role": "Role",
    "reason": "Reason",
    "via": "How",
    "purpose": "Purpose",
    "tenants": "Organisations",
    "fields": "Fields",
    "partnership": "Partnership",
}


def named(events: list[AuditEvent]) -> list[Named]:
    """The events with people's and organisations' names, loaded in one query per kind
    of name (never one per row)."""
    from portal.auth.models import Invitation, User
    from portal.partners.models import Partnership, Tenant

    wanted: dict[str, set[int]] = {
        "User": set(),
        "Tenant": set(),
        "Partnership": set(),
        "Invitation": set(),
    }
    for e in events:
        if e.user_id:
            wanted["User"].add(e.user_id)
        if e.object_type in wanted and e.object_id and e.object_id.isdecimal():
            wanted[e.object_type].add(int(e.object_id))
    names: dict[tuple[str, int], str] = {}
    if wanted["User"]:
        for u in db.session.scalars(select(User).where(User.id.in_(wanted["User"]))):
            names["User", u.id] = f"{u.name} ({u.email})"
    for model in (Tenant, Partnership):
        ids = wanted[model.__name__]
        if ids:
            for row in db.session.scalars(select(model).where(model.id.in_(ids))):
                names[model.__name__, row.id] = row.name
    if wanted["Invitation"]:
        invitations = select(Invitation).where(Invitation.id.in_(wanted["Invitation"]))
        for row in db.session.scalars(invitations):
            names["Invitation", row.id] = f"Invitation of {row.name} ({row.email})"
    rows = []
    for e in events:
        actor = names.get(("User", e.user_id)) if e.user_id else None
        subject = ""
        if e.object_type:
            key = (e.object_type, int(e.object_id)) if (e.object_id or "").isdecimal() else None
            subject = names.get(key) or " ".join(
                part for part in (_humanise(e.object_type), e.object_id) if part
            )
        rows.append(
            Named(
                event=e,
                actor=actor or e.actor_email or "The portal",
                subject=subject,
                details=[
                    (DETAIL_LABELS.get(k, k.replace("_", " ").capitalize()), _detail_text(v))
                    for k, v in sorted((e.detail or {}).items())
                ],
            )
        )
    return rows


def _humanise(class_name: str) -> str:
    words = "".join(f" {c.lower()}" if c.isupper() else c for c in class_name).strip()
    return words[:1].upper() + words[1:]


def _detail_text(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in sorted(value.items()))
    return str(value)


# --- verification ----------------------------------------------------------------------


@dataclass
class ChainState:
    """Where one chain stands: how many events it holds and the newest event's hash."""

    key: str
    name: str
    count: int = 0
    head: str = GENESIS
    hashes: dict[int, str] = field(default_factory=dict)


@dataclass
class Break:
    """One place where a chain does not hold."""

    chain: str
    event_id: int | None
    position: int | None
    reason: str

    def __str__(self) -> str:
        where = f"event {self.event_id} (position {self.position})" if self.event_id else "end"
        return f"{self.chain}: {where}: {self.reason}"


PORTAL_CHAIN = "portal"


def _walk(state: ChainState, tenant_id: int | None, wanted: set[int]) -> list[Break]:
    breaks = []
    expected_seq, expected_prev = 1, GENESIS
    query = select(AuditEvent).where(_chain(tenant_id)).order_by(AuditEvent.seq, AuditEvent.id)
    for row in db.session.scalars(query.execution_options(yield_per=500)):
        state.count += 1
        problems = []
        if row.seq != expected_seq:
            if row.seq > expected_seq:
                problems.append(
                    f"positions {expected_seq} to {row.seq - 1} are missing (events removed)"
                    if row.seq - expected_seq > 1
                    else f"position {expected_seq} is missing (an event was removed)"
                )
            else:
                problems.append(f"position {row.seq} appears again (an event was inserted)")
        elif row.prev_hash != expected_prev:
            problems.append("does not follow the event before it (an event was changed)")
        if row.hash != event_hash(_values(row)):
            problems.append("its contents do not match its hash (the event was changed)")
        for reason in problems:
            breaks.append(Break(state.name, row.id, row.seq, reason))
        # Carry on from this event, so that one break is reported once, not at every
        # event after it.
        expected_seq, expected_prev = max(row.seq, expected_seq - 1) + 1, row.hash
        if row.seq in wanted:
            state.hashes[row.seq] = row.hash
        state.head = row.hash
    db.session.expunge_all()
    return breaks


def verify(checkpoint: dict | None = None) -> tuple[list[ChainState], list[Break]]:
    """Check every chain, and each against ``checkpoint`` (from :func:`checkpoint_of`).

    Returns the state of each chain and every break found. Reads each tenant's chain
    under that tenant's scope, and the portal's with none.
    """
    from portal.partners.models import Tenant

    checkpoint = (checkpoint or {}).get("chains", {})
    tenants = [(t.id, t.slug) for t in db.session.scalars(select(Tenant).order_by(Tenant.id))]
    chains = [(None, PORTAL_CHAIN, "the portal's own trail")] + [
        (tid, f"tenant:{tid}", f"{slug}'s trail") for tid, slug in tenants
    ]
    states, breaks = [], []
    for tenant_id, key, name in chains:
        state = ChainState(key=key, name=name)
        saved = checkpoint.get(key)
        wanted = {saved["count"]} if saved and saved.get("count") else set()
        with tenancy.tenant_scope(tenant_id):
            breaks += _walk(state, tenant_id, wanted)
        db.session.rollback()
        if saved:
            breaks += _against_checkpoint(state, saved)
        states.append(state)
    known = {key for _, key, _ in chains}
    for key in sorted(set(checkpoint) - known):
        breaks.append(
            Break(key, None, None, "this trail was in the checkpoint and is no longer here")
        )
    return states, breaks


def _against_checkpoint(state: ChainState, saved: dict) -> list[Break]:
    count, head = saved.get("count", 0), saved.get("head", GENESIS)
    if state.count < count:
        return [
            Break(
                state.name,
                None,
                None,
                f"holds {state.count} events but held {count} at the checkpoint "
                "(events were removed, for example by TRUNCATE)",
            )
        ]
    if count and state.hashes.get(count) != head:
        return [
            Break(
                state.name,
                None,
                count,
                f"the event at position {count} is not the one in the checkpoint "
                "(the trail was rewritten)",
            )
        ]
    return []


def checkpoint_of(states: list[ChainState]) -> dict:
    """A checkpoint to keep outside the database: each chain's length and newest hash."""
    return {
        "at": clock.utcnow().isoformat(timespec="seconds"),
        "chains": {s.key: {"name": s.name, "count": s.count, "head": s.head} for s in states},
    }
