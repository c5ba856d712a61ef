"""Sources are cited as a reader cites them: no internal file paths, and each measure is
attributed to the organisation that keeps it, not to another partner's policy."""

from __future__ import annotations

from sqlalchemy import select

from portal.extensions import db as database
from portal.monitoring.models import Measure
from portal.tenancy import tenant_scope
from tests.helpers import tenant

# The documents each demonstration organisation's own measures can cite.
OWN_DOCUMENTS = {
    "sevenoaks": "West Kent Equality Partnership",
    "tonbridge-malling": "West Kent Equality Partnership",
    "tunbridge-wells": "West Kent Equality Partnership",
    "west-kent-housing": "West Kent Housing Association",
    "maidstone": "Maidstone Borough Council",
    "thanet": "Thanet District Council",
    "gentoo": "Gentoo",
}


def test_the_community_page_cites_the_census_not_a_file(client, login_as):
    login_as("viewer", "sevenoaks")
    page = client.get("/t/sevenoaks/monitoring/community").get_data(as_text=True)
    assert "Census 2021, Office for National Statistics" in page
    assert "Open Government Licence" in page
    for internal in ("portal/", "census2021_districts", ".csv", "SOURCES.md", "(file "):
        assert internal not in page


def test_a_loaded_profile_shows_its_source_not_its_file_name(app, client, login_as, tmp_path):
    upload = tmp_path / "survey_2024_final_v3.csv"
    upload.write_text("characteristic,category,value\nsex,Female,10\nsex,Male,12\n")
    result = app.test_cli_runner().invoke(
        args=[
            "monitoring",
            "load-profile",
            "west-kent-housing",
            str(upload),
            "--source",
            "Tenant census 2024, West Kent Housing Association",
        ]
    )
    assert result.exit_code == 0, result.output
    login_as("viewer", "west-kent-housing")
    page = client.get("/t/west-kent-housing/monitoring/community").get_data(as_text=True)
    assert "Tenant census 2024, West Kent Housing Association" in page
    assert "survey_2024_final_v3" not in page


def _demo_sources(slug: str) -> dict[str, str]:
    """The sources of the measures the demonstration data gave ``slug``."""
    with tenant_scope(tenant(slug)):
        rows = database.session.scalars(select(Measure))
        return {f"{m.name} ({m.breakdown or 'no breakdown'})": m.source for m in rows}


def test_the_sevenoaks_workforce_measure_cites_west_kent_not_west_kent_housing(ctx):
    sources = _demo_sources("sevenoaks")
    workforce = [s for name, s in sources.items() if name.startswith("Workforce profile")]
    assert workforce
    for source in workforce:
        assert "West Kent Housing" not in source
        assert source.startswith("West Kent Equality Partnership")


def test_each_demonstration_measure_cites_its_own_organisations_document(ctx):
    for slug, document in OWN_DOCUMENTS.items():
        sources = _demo_sources(slug)
        assert sources, slug
        for name, source in sources.items():
            others = set(OWN_DOCUMENTS.values()) - {document}
            cites_own = source.startswith(document)
            marked = source.startswith("Demonstration measure")
            assert cites_own or marked, f"{slug}: {name}: {source}"
            if cites_own:
                assert not any(other in source for other in others), f"{slug}: {name}"
