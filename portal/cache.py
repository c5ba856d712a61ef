"""Computed page data kept between requests, and each organisation's data version.

A dashboard is worked out from dozens of reads; what it shows changes only when the
organisation's data (or its partnerships') changes. So each tenant carries a
``data_version``: a counter that every flush touching its rows moves on, in the same
transaction as the change. A key that includes the version can never find data older than
the version it names, whichever app server wrote it, so the cache needs no invalidation
messages and stays correct with several servers:

- with ``REDIS_URL`` set, entries live in Redis, shared by every app server;
- without it, each process keeps its own (bounded) entries in memory.

Data goes in, and HTML only where it holds nothing of one request: a chart as drawn, or
a whole page cut where it showed its request's CSRF token and CSP nonce
(``portal.templating.Stencil``), which each request that shows it fills with its own.
What is kept is never changed afterwards (frozen dataclasses, tuples, strings).
In Redis, entries are pickled, and unpickling can run code, so each entry is signed with
a key drawn from the app's ``SECRET_KEY``, over its cache key and its bytes: an entry
somebody else wrote into Redis, or one moved from another key, is never unpickled and
counts as a miss (a planted body would otherwise be shown as the page's own markup).
In memory, nobody but the process itself writes, so the objects are kept as they are.
A caller keys entries by everything that decides what the viewer may see (the tenant,
its version, the day, the person and their roles): one viewer's entry can never be
another's.

What moves the version (:func:`_note_changes`, :func:`_bump`):

- a tenant-owned row added, changed or removed (ORM flush, or an ORM bulk update or
  delete with the tenant in scope);
- a partnership-owned row, or the partnership itself: every member tenant's version;
- the tenant's own row (its name, its partnerships).

The audit trail is not data a page shows, and is not counted: recording a view must not
make the next view recompute.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import importlib.metadata
import pickle
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from sqlalchemy import event, inspect, or_, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from portal import tenancy

# How long an entry lives at most, and how many one process keeps without Redis.
TIMEOUT_SECONDS = 3600
MEMORY_ENTRIES = 2048
# Part of every key: a release that changes what is stored never reads an older one's.
FORMAT = "5"
# The signature at the head of every entry: an HMAC-SHA256 of its key and its bytes.
SIGNATURE_BYTES = hashlib.sha256().digest_size

_ALL = object()  # every tenant: a shared row with no partnership changed


class MemoryCache:
    """This process's entries, as the objects themselves, least recently used dropped
    first. Only this process writes here: nothing is pickled or signed."""

    def __init__(self, size: int = MEMORY_ENTRIES) -> None:
        self.size = size
        self._entries: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> Any | None:
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
            return value

    def set(self, key: str, value: Any, timeout: int) -> None:
        # Old versions are never asked for again; they age out of the least-recent end.
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


class RedisCache:
    """Entries shared by every app server, in Redis: pickled and signed (see above)."""

    def __init__(self, url: str) -> None:
        import redis

        self.client = redis.Redis.from_url(url)

    def get(self, key: str) -> Any | None:
        try:
            found = self.client.get(key)
        except Exception:  # noqa: BLE001 - a cache that cannot answer is a miss, not a 500
            current_app.logger.warning("The cache did not answer; computing the page instead")
            return None
        if found is None:
            return None
        signature, data = found[:SIGNATURE_BYTES], found[SIGNATURE_BYTES:]
        if not hmac.compare_digest(signature, _signature(key, data)):
            current_app.logger.warning(
                "A cache entry's signature does not match; ignoring it and computing the page"
            )
            return None
        return pickle.loads(data)  # noqa: S301 - signed by this portal: only what it wrote

    def set(self, key: str, value: Any, timeout: int) -> None:
        data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            self.client.set(key, _signature(key, data) + data, ex=timeout)
        except Exception:  # noqa: BLE001 - see get()
            current_app.logger.warning("The cache did not answer; the page is not kept")

    def clear(self) -> None:
        for key in self.client.scan_iter("portal:*"):
            self.client.delete(key)


def init_app(app: Flask) -> None:
    url = app.config.get("CACHE_REDIS_URL")
    app.extensions["portal_cache"] = RedisCache(url) if url else MemoryCache()
    # Portals (or test databases) sharing one Redis never read each other's entries: a
    # tenant's id and version mean nothing outside its own database.
    # Nor does one release of the portal read what another drew (during a rolling deploy
    # sharing Redis, or after a restart): kept pages are HTML from its templates and code,
    # and from the packages it runs on (GOV.UK's macros, plotly.js's versioned address).
    database = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).render_as_string(hide_password=True)
    namespace = hashlib.sha256(database.encode())
    from portal.config import PROJECT_ROOT

    namespace.update(release_mark(PROJECT_ROOT))
    namespace.update(packages_mark())
    app.extensions["portal_cache_namespace"] = namespace.hexdigest()[:16]


@functools.cache
def packages_mark() -> bytes:
    """A digest of the name and version of every package installed beside the portal: an
    upgrade of any of them makes another (read once per process)."""
    installed = sorted(
        f"{d.metadata['Name']}=={d.version}".lower() for d in importlib.metadata.distributions()
    )
    return hashlib.sha256("\n".join(installed).encode()).digest()


@functools.cache
def release_mark(root: Path) -> bytes:
    """A digest of the portal's templates and code under ``root``, as installed: any change
    to them makes another (read once per process)."""
    digest = hashlib.sha256()
    for folder, pattern in ((root / "templates", "*.html"), (root / "portal", "*.py")):
        for path in sorted(folder.rglob(pattern)):
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
    return digest.digest()


def backend() -> MemoryCache | RedisCache:
    return current_app.extensions["portal_cache"]


def key(*parts: Any) -> str:
    """A cache key from its parts (ids, versions, dates, flags), with the database's and
    the format's marks."""
    namespace = current_app.extensions["portal_cache_namespace"]
    return ":".join(["portal", namespace, FORMAT, *(str(p) for p in parts)])


def _signature(cache_key: str, data: bytes) -> bytes:
    secret = current_app.config["SECRET_KEY"]
    secret = secret.encode() if isinstance(secret, str) else secret
    # A key of the cache's own, so a signature here is worth nothing anywhere else.
    signing_key = hmac.new(secret, b"portal.cache entries", hashlib.sha256).digest()
    message = cache_key.encode() + b"\0" + data
    return hmac.new(signing_key, message, hashlib.sha256).digest()


def get(cache_key: str) -> Any | None:
    """The value kept under ``cache_key``, or None (also for an entry in Redis that this
    portal did not write there: it is never unpickled)."""
    return backend().get(cache_key)


def put(cache_key: str, value: Any, timeout: int = TIMEOUT_SECONDS) -> None:
    """Keep ``value`` under ``cache_key``. It must not be changed afterwards: a process
    keeps the object itself."""
    backend().set(cache_key, value, timeout)


# --- the data version --------------------------------------------------------------------

_PENDING = "portal_cache_changed"


def _changed(session: Session) -> dict:
    return session.info.setdefault(_PENDING, {"tenants": set(), "partnerships": set()})


@event.listens_for(Session, "before_flush")
def _note_changes(session: Session, flush_context, instances) -> None:
    """Which tenants' and partnerships' data this flush changes."""
    from portal.partners.models import Partnership, Tenant

    changed = _changed(session)
    for obj in [*session.new, *session.dirty, *session.deleted]:
        if obj in session.dirty and not session.is_modified(obj):
            continue
        if isinstance(obj, tenancy.TenantOwned):
            tenant_id = obj.tenant_id or tenancy.current_tenant_id()
            if tenant_id is not None:
                changed["tenants"].add(tenant_id)
        elif isinstance(obj, tenancy.PartnershipOwned):
            history = inspect(obj).attrs.partnership_id.history
            for partnership_id in {*history.sum(), obj.partnership_id}:
                if partnership_id is None:
                    changed["partnerships"].add(_ALL)  # a row every partnership shares
                elif isinstance(partnership_id, int):
                    changed["partnerships"].add(partnership_id)
        elif isinstance(obj, Tenant) and obj.id is not None:
            changed["tenants"].add(obj.id)
        elif isinstance(obj, Partnership) and obj.id is not None:
            changed["partnerships"].add(obj.id)


@event.listens_for(Session, "after_flush")
def _bump_after_flush(session: Session, flush_context) -> None:
    changed = session.info.pop(_PENDING, None)
    if changed and (changed["tenants"] or changed["partnerships"]):
        _bump(session, changed["tenants"], changed["partnerships"])


@event.listens_for(Session, "do_orm_execute")
def _note_bulk_writes(state) -> None:
    """An ORM bulk update or delete (``delete(MeasureValue).where(...)``) changes the rows of
    the tenant or partnership in scope, as a flush would."""
    if not (state.is_update or state.is_delete):
        return
    mapper = state.bind_mapper
    cls = mapper.class_ if mapper is not None else None
    if cls is None:
        return
    if issubclass(cls, tenancy.TenantOwned) and tenancy.current_tenant_id() is not None:
        _bump(state.session, {tenancy.current_tenant_id()}, set())
    elif issubclass(cls, tenancy.PartnershipOwned):
        _bump(state.session, set(), {_ALL})


def _bump(session: Session, tenants: set, partnerships: set) -> None:
    from portal.partners.models import Tenant, partnership_member

    table = Tenant.__table__
    statement = update(table).values(data_version=table.c.data_version + 1)
    if _ALL not in partnerships:
        conditions = []
        if tenants:
            conditions.append(table.c.id.in_(sorted(tenants)))
        if partnerships:
            members = select(partnership_member.c.tenant_id).where(
                partnership_member.c.partnership_id.in_(sorted(partnerships))
            )
            conditions.append(table.c.id.in_(members))
        statement = statement.where(or_(*conditions))
    # Core, not ORM: the tenant's row moves on without loading it or tripping the hooks.
    session.connection().execute(statement)
