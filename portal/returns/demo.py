"""Demonstration reporting years and returns (not from any source document).

West Kent 2025-26 is open: Sevenoaks has signed off, Tunbridge Wells waits for its chief
executive, Tonbridge & Malling is in draft and West Kent Housing has not started. The
Kent network's 2025-26 is open with no returns yet. The deadline is set four weeks
after loading, so the demonstration always shows a year in progress.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from sqlalchemy import select

from portal import clock
from portal.auth.models import User
from portal.extensions import db
from portal.partners.models import Partnership, Tenant
from portal.returns import services, signoff
from portal.returns.models import SECTIONS
from portal.tenancy import partnership_scope, tenant_scope

DEMO = "Demonstration: "
START_YEAR = 2025


def _answers(key: str, year, ret, member: Tenant) -> dict:
    """Valid answers for a section, written as a demonstration."""
    drawn = services.drawn(key, year, ret)
    if key == "aims":
        return {
            "narratives": {
                str(p.aim.id): f"{DEMO}{member.name} worked with its partners towards this "
                "aim through the actions listed. We checked progress every quarter."
                for p in drawn
            },
            "highlights": {str(p.aim.id): [u.id for u in p.updates[:1]] for p in drawn},
        }
    if key == "commitments":
        return {
            "narratives": {
                str(c.id): f"{DEMO}we kept to this commitment and reported on it to our board."
                for c in drawn
            }
        }
    if key == "measures":
        return {
            "reasons": {
                str(m.definition.id): f"{DEMO}the figures for the year are still being checked."
                for m in drawn
                if not m.has_figure
            }
        }
    if key == "workforce":
        gpg = {
            "mean_hourly_gap": "6.4",
            "median_hourly_gap": "4.9",
            "mean_bonus_gap": "0",
            "median_bonus_gap": "0",
            "bonus_men": "0",
            "bonus_women": "0",
        }
        for band, (men, women) in {
            "lower": ("38", "62"),
            "lower_middle": ("42", "58"),
            "upper_middle": ("47", "53"),
            "upper": ("55", "45"),
        }.items():
            gpg[f"{band}_men"], gpg[f"{band}_women"] = men, women
        return {
            "employees": "" if drawn.employees is not None else "420",
            "public_authority": "yes" if member.kind.endswith("council") else "no",
            "narrative": f"{DEMO}our workforce is close to the community we serve.",
            "gpg": gpg,
        }
    if key in ("assessments", "incidents"):
        return {"narrative": "", "checked": True}
    if key == "case_studies":
        return {"none": True}
    return {
        "text": f"{DEMO}next year we will improve how we collect equality data and "
        "publish it on time."
    }


def fill_return(year, member: Tenant, keys) -> object:
    ret = services.start_return(year, is_demo=True)
    for key in keys:
        section = ret.section(key)
        services.save_section(
            ret,
            key,
            _answers(key, year, ret, member),
            version=section.version if section else 0,
        )
    return ret


def _ceo(member: Tenant) -> User | None:
    return db.session.scalar(select(User).where(User.email == f"ceo@{member.slug}.demo"))


def load_demo() -> Iterator[str]:
    today = clock.utcnow().date()
    for slug in ("west-kent", "kent-network"):
        partnership = db.session.scalar(select(Partnership).where(Partnership.slug == slug))
        if partnership is None:
            continue
        # Reporting years are partnership-owned: each is opened inside its partnership's
        # scope (the messages are gathered there and told once the scope is left).
        with partnership_scope(partnership):
            messages = _load_partnership(partnership, today)
        yield from messages


def _load_partnership(partnership: Partnership, today) -> list[str]:
    """Open the partnership's demonstration year and fill West Kent's returns."""
    slug = partnership.slug
    if services.find_year(partnership, f"{START_YEAR}-{(START_YEAR + 1) % 100:02d}"):
        return [f"returns: {slug} already has {START_YEAR}-26"]
    year = services.open_year(
        partnership,
        start_year=START_YEAR,
        deadline=today + timedelta(days=28),
        publication_target=today + timedelta(days=120),
        is_demo=True,
        notify=False,
    )
    messages = [f"returns: {slug}: {year.label} opened"]
    if slug != "west-kent":
        return messages
    members = {t.slug: t for t in partnership.members}
    everything = list(SECTIONS)
    if "sevenoaks" in members:
        member = members["sevenoaks"]
        with tenant_scope(member):
            ret = fill_return(year, member, everything)
            signoff.send_for_sign_off(ret, notify=False)
            ceo = _ceo(member)
            signoff.freeze(
                ret,
                user=ceo,
                name=ceo.name if ceo else "Chief Executive",
                role="Chief Executive",
            )
        messages.append("returns: sevenoaks signed off")
    if "tunbridge-wells" in members:
        member = members["tunbridge-wells"]
        with tenant_scope(member):
            ret = fill_return(year, member, everything)
            signoff.send_for_sign_off(ret, notify=False)
        messages.append("returns: tunbridge-wells awaiting sign-off")
    if "tonbridge-malling" in members:
        member = members["tonbridge-malling"]
        with tenant_scope(member):
            fill_return(year, member, ["aims", "commitments", "priorities"])
        messages.append("returns: tonbridge-malling in draft")
    return messages
