"""Each organisation's contact for documents in other formats: declared in tenants/,
brought in by `flask tenants sync`, and shown on that organisation's pages."""

from __future__ import annotations

import re
import shutil
import tomllib
from pathlib import Path

import pytest
from sqlalchemy import select

from portal.partners.models import Tenant

DECLARED = Path(__file__).resolve().parent.parent / "tenants"
SEEDS = Path(__file__).resolve().parent.parent.parent / "shared" / "seeds"
PHONE = re.compile(r"\b0\d{3} ?\d{3} ?\d{3,4}\b")
EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(\.[\w-]+)+\b")


def _declared() -> dict[str, str]:
    return {
        data["slug"]: data.get("alternative_formats", "")
        for data in (
            tomllib.loads(p.read_text(encoding="utf-8"))
            for p in sorted((DECLARED / "organisations").glob("*.toml"))
        )
    }


def _seed_text() -> str:
    if not SEEDS.is_dir():
        pytest.skip("the source documents are not beside the project")
    return " ".join(p.read_text(encoding="utf-8") for p in SEEDS.glob("*.txt"))


def test_every_organisation_gives_a_contact_for_other_formats():
    for slug, contact in _declared().items():
        assert PHONE.search(contact) or EMAIL.search(contact), slug
        assert "to be added" not in contact, slug


def test_a_contact_the_source_documents_do_not_give_is_marked_as_demonstration():
    seeds = _seed_text()
    for slug, contact in _declared().items():
        numbers = PHONE.findall(contact) + [m.group(0) for m in EMAIL.finditer(contact)]
        invented = [n for n in numbers if n not in seeds]
        if invented:
            assert "demonstration" in contact.lower(), slug
            # Numbers kept for drama, so an invented one can never ring a real person.
            for number in PHONE.findall(contact):
                assert number.replace(" ", "").startswith("01632960"), slug


def test_the_west_kent_councils_keep_the_source_documents_words():
    declared = _declared()
    for slug in ("sevenoaks", "tonbridge-malling", "tunbridge-wells"):
        assert declared[slug].startswith(
            "If you require this document in large print or in any other format, please contact"
        )


@pytest.mark.parametrize("slug", ["sevenoaks", "thanet", "gentoo"])
def test_the_footer_shows_the_organisations_own_contact(client, login_as, slug):
    contact = _declared()[slug]
    login_as("viewer", slug)
    page = client.get(f"/t/{slug}/").get_data(as_text=True)
    footer = page[page.index("<footer") :]
    assert contact.replace("&", "&amp;") in footer
    assert "to be added" not in footer
    for other, theirs in _declared().items():
        if other != slug:
            assert theirs.replace("&", "&amp;") not in footer


def test_public_pages_show_the_organisations_contact(client):
    contact = _declared()["tunbridge-wells"]
    page = client.get("/public/tunbridge-wells/eqia/").get_data(as_text=True)
    assert page.count(contact) == 1
    assert contact in page[page.index("<footer") :]


@pytest.fixture
def declarations(tmp_path):
    target = tmp_path / "tenants"
    shutil.copytree(DECLARED, target)
    return target


def _sync(app, path):
    return app.test_cli_runner().invoke(args=["tenants", "sync", "--path", str(path)])


def test_sync_brings_in_a_changed_contact(app, client, login_as, declarations):
    path = declarations / "organisations" / "thanet.toml"
    text = path.read_text(encoding="utf-8")
    old = _declared()["thanet"]
    new = "For other formats, phone 01632 960999 (demonstration contact)."
    path.write_text(text.replace(old, new), encoding="utf-8")
    result = _sync(app, declarations)
    assert result.exit_code == 0, result.output
    assert "updated tenant thanet" in result.output
    with app.app_context():
        from portal.extensions import db

        row = db.session.scalar(select(Tenant).where(Tenant.slug == "thanet"))
        assert row.alternative_formats == new
    login_as("viewer", "thanet")
    assert new in client.get("/t/thanet/").get_data(as_text=True)


def test_sync_refuses_a_contact_with_no_way_to_get_in_touch(app, declarations):
    path = declarations / "organisations" / "thanet.toml"
    text = path.read_text(encoding="utf-8")
    old = _declared()["thanet"]
    path.write_text(text.replace(old, "Contact Thanet (phone number to be added)."), "utf-8")
    result = _sync(app, declarations)
    assert result.exit_code == 1
    assert "thanet.toml: field 'alternative_formats' must give a phone number or an email" in (
        result.output
    )
    with app.app_context():
        from portal.extensions import db

        row = db.session.scalar(select(Tenant).where(Tenant.slug == "thanet"))
        assert row.alternative_formats == old


def test_a_new_organisations_contact_must_say_how_to_get_in_touch(app, client, login_as):
    from tests.helpers import csrf_token

    login_as("portal-admin")
    token = csrf_token(client, "/admin/organisations/new")
    data = {"name": "Dover District Council", "slug": "dover", "kind": "district-council"}
    response = client.post(
        "/admin/organisations/new",
        data=data | {"csrf_token": token, "alternative_formats": "Ask the council"},
    )
    assert response.status_code == 200
    assert "Give a phone number or an email address in the contact" in response.get_data(
        as_text=True
    )
    contact = "For other formats, email access@dover.example"
    response = client.post(
        "/admin/organisations/new",
        data=data | {"csrf_token": token, "alternative_formats": contact},
    )
    assert response.status_code == 302
    with app.app_context():
        from portal.extensions import db

        dover = db.session.scalar(select(Tenant).where(Tenant.slug == "dover"))
        assert dover.alternative_formats == contact


def test_the_public_page_gives_the_contact_once_and_other_pages_in_the_footer(client):
    from html import unescape

    contact = _declared()["sevenoaks"]
    public = unescape(client.get("/public/sevenoaks/").get_data(as_text=True))
    assert public.count(contact) == 1
    assert "Other formats" in public
    eqia = unescape(client.get("/public/sevenoaks/eqia/").get_data(as_text=True))
    assert eqia.count(contact) == 1  # the footer of every other page of the organisation
