"""Small helpers for tests that drive pages through the test client."""

from __future__ import annotations

import contextlib
import re
import struct
import zlib

_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(client, url: str) -> str:
    """The CSRF token from a form on ``url``."""
    html = client.get(url).get_data(as_text=True)
    match = _TOKEN.search(html)
    if not match:
        match = re.search(r'value="([^"]+)"[^>]*name="csrf_token"', html)
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def user(email: str):
    from sqlalchemy import select

    from portal.auth.models import User
    from portal.extensions import db

    return db.session.scalar(select(User).where(User.email == email))


def tenant(slug: str):
    from sqlalchemy import select

    from portal.extensions import db
    from portal.partners.models import Tenant

    return db.session.scalar(select(Tenant).where(Tenant.slug == slug))


def links_in_mail(message) -> list[str]:
    body = message.get_content()
    return re.findall(r"https?://\S+", body)


def audit_events(app, **filters) -> list:
    """Every audit event, read as the schema owner (the app's role may only read its
    current tenant's events on PostgreSQL)."""
    from sqlalchemy import create_engine, select
    from sqlalchemy.orm import Session
    from sqlalchemy.pool import NullPool

    from portal.audit import AuditEvent

    url = app.config.get("MIGRATION_DATABASE_URI") or app.config["SQLALCHEMY_DATABASE_URI"]
    engine = create_engine(url, poolclass=NullPool)
    try:
        with Session(engine) as session:
            query = select(AuditEvent).filter_by(**filters).order_by(AuditEvent.id)
            rows = session.scalars(query).all()
            session.expunge_all()
            return rows
    finally:
        engine.dispose()


def by_number(model, number: int):
    """The record of ``model`` with this running number, in the tenant in scope."""
    from sqlalchemy import select

    from portal.extensions import db

    return db.session.scalar(select(model).where(model.number == number))


def partnership(slug: str):
    from sqlalchemy import select

    from portal.extensions import db
    from portal.partners.models import Partnership

    return db.session.scalar(select(Partnership).where(Partnership.slug == slug))


@contextlib.contextmanager
def as_partnership(slug: str):
    """Read and write as the partnership ``slug``, as its own pages do."""
    from portal.tenancy import partnership_scope

    with partnership_scope(partnership(slug)):
        yield


@contextlib.contextmanager
def scoped(app, slug: str = "west-kent"):
    """An application context with the partnership ``slug`` in scope."""
    with app.app_context(), as_partnership(slug):
        yield


def png(width: int = 4, height: int | None = None) -> bytes:
    """A real, small PNG picture (square unless ``height`` is given): a plain green
    rectangle, as a case study's image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    height = width if height is None else height
    rows = b"".join(b"\x00" + b"\x00\x70\x3c" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


# --- an annual return: what its sections are and what an officer answers ----------------

# The sections of a return by their keys (in addresses and answers), with the titles its
# task list shows, in the task list's order.
RETURN_SECTIONS = {
    "aims": "Progress on each joint aim",
    "commitments": "Progress on our commitments",
    "measures": "Joint measures for the year",
    "workforce": "Workforce",
    "assessments": "Impact assessments",
    "incidents": "Hate incidents",
    "case_studies": "Case studies",
    "priorities": "Priorities for next year",
}

# An employer of 250 or more's gender pay gap: each figure's name in the answers, the
# label the form asks it under, and the answer.
PAY_GAP_ANSWERS = (
    ("mean_hourly_gap", "Mean hourly pay gap (%)", "6.4"),
    ("median_hourly_gap", "Median hourly pay gap (%)", "4.9"),
    ("mean_bonus_gap", "Mean bonus gap (%)", "0"),
    ("median_bonus_gap", "Median bonus gap (%)", "0"),
    ("bonus_men", "Men paid a bonus (%)", "0"),
    ("bonus_women", "Women paid a bonus (%)", "0"),
)
# Its pay quartiles: the band's name in the answers, the group the form asks it in, and
# the men and women in it (%), adding up to 100.
QUARTILE_ANSWERS = (
    ("lower", "Lower quartile", "38", "62"),
    ("lower_middle", "Lower middle quartile", "42", "58"),
    ("upper_middle", "Upper middle quartile", "47", "53"),
    ("upper", "Upper quartile", "55", "45"),
)


def workforce_answers(employees: str = "420") -> dict:
    """The workforce section answered as the section's rules read it: an employer of
    250 or more, not a public authority, with every gender pay gap figure."""
    gpg = {name: value for name, _label, value in PAY_GAP_ANSWERS}
    for band, _label, men, women in QUARTILE_ANSWERS:
        gpg[f"{band}_men"], gpg[f"{band}_women"] = men, women
    return {"employees": employees, "public_authority": "no", "gpg": gpg}
