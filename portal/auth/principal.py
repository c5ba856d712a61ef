"""The signed-in person for one request, read with their session in one plain query.

Every signed-in page needs, before it can answer (even with a 404), whether the session
lives, who the person is, which organisations they hold which roles in, and each of those
organisations' data version and partnerships. Read as rows rather than ORM objects, that
costs a fraction of loading the objects and their relationships on every request.

:class:`Principal` is Flask-Login's user and :class:`Place` is the organisation in the
URL (``g.tenant``). Each holds what the query read; anything else, and anything that
needs the ORM objects themselves (a relationship to set, a change to make), goes to the
person's or the organisation's ORM row, loaded the first time a page asks for it. So
``Model(tenant=g.tenant)`` works as with the row itself (a relationship to the person is
given ``current_user.record``), and a page that only reads what the query read loads none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

from flask_login import UserMixin
from sqlalchemy import bindparam, select

from portal.auth.models import HoldsGrants, TenantGrant, User, UserSession
from portal.extensions import db
from portal.partners.models import Partnership, Tenant, partnership_member

_S, _U, _G, _T, _P = (m.__table__ for m in (UserSession, User, TenantGrant, Tenant, Partnership))
_M = partnership_member
_USER_FIELDS = ("id", "email", "name", "is_portal_admin", "disabled_at")
_TENANT_FIELDS = tuple(c.key for c in _T.c)

# The session, its person, their grants, their organisations and those organisations'
# partnerships: one row per grant and partnership. Built once per process.
_BY_TOKEN = (
    select(
        _S.c.id.label("session_id"),
        _S.c.created_at,
        _S.c.last_seen_at,
        _S.c.ended_at,
        *(_U.c[name].label(f"user_{name}") for name in _USER_FIELDS),
        _G.c.role,
        _G.c.suspended_at,
        *(_T.c[name].label(f"tenant_{name}") for name in _TENANT_FIELDS),
        _P.c.id.label("partnership_id"),
        _P.c.slug.label("partnership_slug"),
        _P.c.name.label("partnership_name"),
        _P.c.disclosure_threshold,
        _P.c.disclosure_rounding,
    )
    .select_from(
        _S.join(_U, _U.c.id == _S.c.user_id)
        .outerjoin(_G, _G.c.user_id == _U.c.id)
        .outerjoin(_T, _T.c.id == _G.c.tenant_id)
        .outerjoin(_M, _M.c.tenant_id == _T.c.id)
        .outerjoin(_P, _P.c.id == _M.c.partnership_id)
    )
    .where(_S.c.token_hash == bindparam("token_hash"))
)


class _Forwarding:
    """Reads what it does not hold from its ORM row, loaded once, when first asked."""

    @cached_property
    def record(self) -> Any:  # pragma: no cover - each class says what its row is
        raise NotImplementedError

    def __getattr__(self, name: str) -> Any:
        # Only called for what the instance and its class do not have. Dunder names are not
        # forwarded (copy, pickle and the like ask for those and expect none); others are,
        # SQLAlchemy's _sa_instance_state included, so the ORM sees the row itself.
        if name.startswith("__") or name == "record":
            raise AttributeError(name)
        return getattr(self.record, name)


@dataclass(frozen=True)
class PartnershipName:
    """A partnership as a page names and links to it, with the rule its figures leave
    members under."""

    id: int
    slug: str
    name: str
    disclosure_threshold: int
    disclosure_rounding: int

    disclosure_rule = Partnership.disclosure_rule


class Place(_Forwarding):
    """An organisation the signed-in person holds a grant in, as read with the session:
    its columns, and its partnerships as a page names them (``partnerships``, by name)."""

    def __init__(self, fields: dict[str, Any], partnerships: list[PartnershipName]):
        self.__dict__.update(fields)
        self.partnerships = sorted(partnerships, key=lambda p: p.name)
        self.partnership_ids = frozenset(p.id for p in partnerships)

    kind_label = Tenant.kind_label

    @cached_property
    def record(self) -> Tenant:
        return db.session.get(Tenant, self.id)

    # The same organisation whether held as a place or as its ORM row.
    def __eq__(self, other: object) -> bool:
        if isinstance(other, Place | Tenant):
            return other.id == self.id
        return NotImplemented

    def __hash__(self) -> int:
        return hash((Tenant, self.id))

    def __repr__(self) -> str:
        return f"<Place {self.slug}>"


@dataclass(frozen=True)
class _Grant:
    tenant: Place
    role: str
    suspended_at: datetime | None

    @property
    def tenant_id(self) -> int:
        return self.tenant.id


class Principal(_Forwarding, HoldsGrants, UserMixin):
    """The signed-in person: Flask-Login's user for requests after the one that signed in."""

    def __init__(self, token: str, fields: dict[str, Any], grants: list[_Grant]):
        self.session_token = token
        self.__dict__.update(fields)
        self._grants = grants

    @cached_property
    def record(self) -> User:
        user = db.session.get(User, self.id)
        user.session_token = self.session_token
        return user

    def get_id(self) -> str | None:
        return self.session_token

    @property
    def is_active(self) -> bool:
        return self.disabled_at is None

    def held_grants(self) -> list[_Grant]:
        return self._grants

    def __repr__(self) -> str:
        return f"<Principal {self.email}>"


@dataclass(frozen=True)
class SessionRow:
    """The session as read, with the person it belongs to."""

    id: int
    created_at: datetime
    last_seen_at: datetime
    ended_at: datetime | None
    principal: Principal


def read_session(token: str, token_hash: str) -> SessionRow | None:
    rows = db.session.execute(_BY_TOKEN, {"token_hash": token_hash}).all()
    if not rows:
        return None
    first = rows[0]._mapping
    places: dict[int, tuple[dict[str, Any], dict[int, PartnershipName]]] = {}
    held: list[tuple[int, str, datetime | None]] = []
    for row in rows:
        r = row._mapping
        tenant_id = r["tenant_id"]
        if tenant_id is None:
            continue
        fields, partnerships = places.setdefault(
            tenant_id, ({name: r[f"tenant_{name}"] for name in _TENANT_FIELDS}, {})
        )
        if r["partnership_id"] is not None:
            partnerships[r["partnership_id"]] = PartnershipName(
                r["partnership_id"],
                r["partnership_slug"],
                r["partnership_name"],
                r["disclosure_threshold"],
                r["disclosure_rounding"],
            )
        grant = (tenant_id, r["role"], r["suspended_at"])
        if grant not in held:
            held.append(grant)
    made = {tid: Place(fields, list(named.values())) for tid, (fields, named) in places.items()}
    grants = [_Grant(made[tid], role, suspended) for tid, role, suspended in held]
    user = {name: first[f"user_{name}"] for name in _USER_FIELDS}
    return SessionRow(
        first["session_id"],
        first["created_at"],
        first["last_seen_at"],
        first["ended_at"],
        Principal(token, user, grants),
    )
