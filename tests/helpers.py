"""Small helpers for tests that drive pages through the test client."""

from __future__ import annotations

import re

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
