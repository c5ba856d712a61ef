"""Declared partnerships and organisations: ``flask tenants sync``."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from portal.partners.models import Partnership, Tenant

DECLARED = Path(__file__).resolve().parent.parent / "tenants"


@pytest.fixture
def declarations(tmp_path):
    target = tmp_path / "tenants"
    shutil.copytree(DECLARED, target)
    return target


def sync(app, path):
    return app.test_cli_runner().invoke(args=["tenants", "sync", "--path", str(path)])


def test_sync_is_idempotent(app, declarations):
    result = sync(app, declarations)
    assert result.exit_code == 0, result.output
    assert "nothing to change" in result.output
    assert "0 created, 0 updated, 9 unchanged" in result.output


def test_sync_reports_what_it_changed(app, declarations):
    path = declarations / "organisations" / "thanet.toml"
    path.write_text(path.read_text().replace("Thanet District Council", "Thanet Council"))
    (declarations / "organisations" / "dover.toml").write_text(
        'slug = "dover"\nname = "Dover District Council"\nkind = "district-council"\n'
        'partnerships = ["kent-network"]\n'
    )
    result = sync(app, declarations)
    assert result.exit_code == 0, result.output
    assert "created tenant dover" in result.output
    assert "updated tenant thanet" in result.output
    with app.app_context():
        from portal.extensions import db

        dover = db.session.scalar(select(Tenant).where(Tenant.slug == "dover"))
        assert [p.slug for p in dover.partnerships] == ["kent-network"]
        assert (
            db.session.scalar(select(Tenant.name).where(Tenant.slug == "thanet"))
            == "Thanet Council"
        )


@pytest.mark.parametrize(
    ("file", "content", "message"),
    [
        (
            "organisations/dover.toml",
            'slug = "dover"\nname = "Dover"\nkind = "district-council"\n'
            'partnerships = ["east-kent"]\n',
            "dover.toml: field 'partnerships' names unknown partnership 'east-kent'",
        ),
        (
            "organisations/dover.toml",
            'slug = "thanet"\nname = "Dover"\nkind = "district-council"\n',
            "field 'slug' 'thanet' is already declared",
        ),
        (
            "organisations/dover.toml",
            'slug = "dover"\nkind = "district-council"\n',
            "dover.toml: field 'name' is missing",
        ),
        (
            "organisations/dover.toml",
            'slug = "dover"\nname = "Dover"\nkind = "parish"\n',
            "dover.toml: field 'kind' must be one of",
        ),
        ("organisations/dover.toml", 'slug = "dover\n', "dover.toml: not valid TOML"),
        (
            "partnerships/east.toml",
            'slug = "East Kent"\nname = "East Kent"\n',
            "east.toml: field 'slug' must be lower-case letters",
        ),
    ],
)
def test_a_mistake_names_the_file_and_field_and_changes_nothing(
    app, declarations, file, content, message
):
    # A good change alongside the mistake must not be applied either.
    thanet = declarations / "organisations" / "thanet.toml"
    thanet.write_text(thanet.read_text().replace("Thanet District Council", "Renamed"))
    (declarations / file).write_text(content)
    result = sync(app, declarations)
    assert result.exit_code == 1
    assert message in result.output
    assert "Nothing was changed." in result.output
    with app.app_context():
        from portal.extensions import db

        assert db.session.scalar(select(Tenant.name).where(Tenant.slug == "thanet")) == (
            "Thanet District Council"
        )
        assert db.session.scalar(select(Tenant).where(Tenant.slug == "dover")) is None


def test_demo_organisations_and_partnerships(app):
    with app.app_context():
        from portal.extensions import db

        west_kent = db.session.scalar(select(Partnership).where(Partnership.slug == "west-kent"))
        kent = db.session.scalar(select(Partnership).where(Partnership.slug == "kent-network"))
        gentoo = db.session.scalar(select(Tenant).where(Tenant.slug == "gentoo"))
        assert [t.slug for t in west_kent.members] == [
            "sevenoaks",
            "tonbridge-malling",
            "tunbridge-wells",
            "west-kent-housing",
        ]
        assert sorted(t.slug for t in kent.members) == ["maidstone", "thanet", "tonbridge-malling"]
        assert gentoo.partnerships == []


def test_demo_load_twice_changes_nothing(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    assert "people: 0 created" in result.output
    assert "already has commitments" in result.output


def test_demo_load_if_empty_leaves_a_real_installation_alone(app):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "users",
            "create",
            "real@council.gov.uk",
            "--name",
            "Real Person",
            "--password",
            "a long real password",
        ]
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["demo", "load", "--if-empty"])
    assert "demonstration data not loaded" in result.output
