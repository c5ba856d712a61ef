"""Declared partnerships and tenants, and the portal administrator's changes to them."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from portal import audit
from portal.editing import Invalid
from portal.extensions import db
from portal.models import limit
from portal.partners.models import TENANT_KINDS, Partnership, Tenant

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
# A way to get in touch: a UK phone number (10 or 11 digits) or an email address.
PHONE = re.compile(r"(?<!\d)(?:\+44\s?|0)\d(?:[\s-]?\d){8,9}(?!\d)")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Short names the portal's own addresses use beside an organisation's or partnership's:
# ``/public/p/<partnership>/`` sits next to ``/public/<organisation>/``, and the others
# are path segments the portal uses or keeps for itself at the top of an address.
RESERVED_SLUGS = frozenset(
    {"p", "t", "public", "admin", "api", "static", "assets", "login", "logout", "jobs", "new"}
)


def gives_contact(text: str) -> bool:
    """Whether an alternative-formats contact says how to get in touch."""
    return bool(PHONE.search(text) or EMAIL.search(text))


class DeclarationError(Invalid):
    """A declaration file is wrong. The message names the file and the field (for a form,
    ``field`` is None: the message says it all)."""


@dataclass
class SyncReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"created {name}" for name in self.created]
        out += [f"updated {name}" for name in self.updated]
        if not out:
            out.append("nothing to change")
        out.append(
            f"{len(self.created)} created, {len(self.updated)} updated, "
            f"{len(self.unchanged)} unchanged"
        )
        return out


def _load(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise DeclarationError(None, f"{path}: not valid TOML ({exc})") from exc


def _text(data: dict, key: str, path: Path, *, required: bool = True, default: str = "") -> str:
    value = data.get(key, None)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise DeclarationError(None, f"{path}: field '{key}' is missing")
        return default
    if not isinstance(value, str):
        raise DeclarationError(None, f"{path}: field '{key}' must be text")
    return value.strip()


def validate_slug(slug: str) -> None:
    if not SLUG.match(slug) or len(slug) > limit(Tenant.slug):
        raise DeclarationError(
            None, "must be lower-case letters, numbers and single hyphens, like 'tunbridge-wells'"
        )
    if slug in RESERVED_SLUGS:
        raise DeclarationError(
            None, f"'{slug}' is reserved for the portal's own addresses; choose another short name"
        )


def read_declarations(directory: Path) -> tuple[list[dict], list[dict]]:
    """Read and check every declaration file. Raises on the first mistake found."""
    partnerships: dict[str, dict] = {}
    tenants: dict[str, dict] = {}
    for path in sorted((directory / "partnerships").glob("*.toml")):
        data = _load(path)
        slug = _text(data, "slug", path)
        try:
            validate_slug(slug)
        except DeclarationError as exc:
            raise DeclarationError(None, f"{path}: field 'slug' {exc}") from None
        if slug in partnerships:
            raise DeclarationError(
                None,
                f"{path}: field 'slug' '{slug}' is already declared in "
                f"{partnerships[slug]['path']}",
            )
        partnerships[slug] = {
            "path": path,
            "slug": slug,
            "name": _text(data, "name", path),
            "description": _text(data, "description", path, required=False),
        }
    for path in sorted((directory / "organisations").glob("*.toml")):
        data = _load(path)
        slug = _text(data, "slug", path)
        try:
            validate_slug(slug)
        except DeclarationError as exc:
            raise DeclarationError(None, f"{path}: field 'slug' {exc}") from None
        if slug in tenants:
            raise DeclarationError(
                None,
                f"{path}: field 'slug' '{slug}' is already declared in {tenants[slug]['path']}",
            )
        kind = _text(data, "kind", path)
        if kind not in TENANT_KINDS:
            raise DeclarationError(
                None, f"{path}: field 'kind' must be one of {', '.join(sorted(TENANT_KINDS))}"
            )
        colour = _text(data, "colour", path, required=False, default="#1d70b8")
        if not COLOUR.match(colour):
            raise DeclarationError(None, f"{path}: field 'colour' must look like #1d70b8")
        member_of = data.get("partnerships", [])
        if not isinstance(member_of, list) or not all(isinstance(p, str) for p in member_of):
            raise DeclarationError(None, f"{path}: field 'partnerships' must be a list of slugs")
        for p in member_of:
            if p not in partnerships:
                raise DeclarationError(
                    None, f"{path}: field 'partnerships' names unknown partnership '{p}'"
                )
        contact = _text(data, "alternative_formats", path, required=False)
        if contact and not gives_contact(contact):
            raise DeclarationError(
                None,
                f"{path}: field 'alternative_formats' must give a phone number or an email "
                "address for people who need a document in another format",
            )
        tenants[slug] = {
            "path": path,
            "slug": slug,
            "name": _text(data, "name", path),
            "kind": kind,
            "colour": colour.lower(),
            "alternative_formats": contact,
            "partnerships": sorted(set(member_of)),
        }
    return list(partnerships.values()), list(tenants.values())


def sync(directory: Path) -> SyncReport:
    """Bring the database in line with the declaration files, idempotently.

    Everything is checked before anything is written: a mistake changes nothing.
    """
    declared_partnerships, declared_tenants = read_declarations(directory)
    report = SyncReport()
    by_slug: dict[str, Partnership] = {}
    for item in declared_partnerships:
        row = db.session.scalar(select(Partnership).where(Partnership.slug == item["slug"]))
        label = f"partnership {item['slug']}"
        if row is None:
            row = Partnership(slug=item["slug"], name=item["name"], description=item["description"])
            db.session.add(row)
            db.session.flush()
            audit.record("partnership.created", row, detail={"via": "tenants sync"})
            report.created.append(label)
        elif (row.name, row.description) != (item["name"], item["description"]):
            row.name, row.description = item["name"], item["description"]
            audit.record("partnership.updated", row, detail={"via": "tenants sync"})
            report.updated.append(label)
        else:
            report.unchanged.append(label)
        by_slug[row.slug] = row
    for item in declared_tenants:
        row = db.session.scalar(select(Tenant).where(Tenant.slug == item["slug"]))
        label = f"tenant {item['slug']}"
        fields = {k: item[k] for k in ("name", "kind", "colour", "alternative_formats")}
        member_of = [by_slug[p] for p in item["partnerships"]]
        if row is None:
            row = Tenant(slug=item["slug"], **fields)
            row.partnerships = member_of
            db.session.add(row)
            db.session.flush()
            audit.record("tenant.created", row, tenant_id=row.id, detail={"via": "tenants sync"})
            report.created.append(label)
            continue
        changed = [k for k, v in fields.items() if getattr(row, k) != v]
        for k in changed:
            setattr(row, k, fields[k])
        if sorted(p.slug for p in row.partnerships) != item["partnerships"]:
            row.partnerships = member_of
            changed.append("partnerships")
        if changed:
            audit.record(
                "tenant.updated",
                row,
                tenant_id=row.id,
                detail={"via": "tenants sync", "fields": changed},
            )
            report.updated.append(label)
        else:
            report.unchanged.append(label)
    db.session.commit()
    return report


def create_partnership(slug: str, name: str, description: str = "") -> Partnership:
    validate_slug(slug)
    if db.session.scalar(select(Partnership).where(Partnership.slug == slug)):
        raise DeclarationError(None, "A partnership with that short name already exists")
    row = Partnership(slug=slug, name=name.strip(), description=description.strip())
    db.session.add(row)
    db.session.flush()
    audit.record("partnership.created", row)
    db.session.commit()
    return row


def create_tenant(
    slug: str,
    name: str,
    kind: str,
    *,
    partnerships: list[Partnership] = (),
    colour: str = "#1d70b8",
    alternative_formats: str = "",
) -> Tenant:
    validate_slug(slug)
    if kind not in TENANT_KINDS:
        raise DeclarationError(None, "Choose what kind of organisation it is")
    if db.session.scalar(select(Tenant).where(Tenant.slug == slug)):
        raise DeclarationError(None, "An organisation with that short name already exists")
    row = Tenant(
        slug=slug,
        name=name.strip(),
        kind=kind,
        colour=colour,
        alternative_formats=alternative_formats.strip(),
    )
    row.partnerships = list(partnerships)
    db.session.add(row)
    db.session.flush()
    audit.record("tenant.created", row, tenant_id=row.id)
    db.session.commit()
    return row


def all_partnerships():
    return select(Partnership).order_by(Partnership.name)


def all_tenants():
    return select(Tenant).order_by(Tenant.name)
