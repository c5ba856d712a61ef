"""The partnership dashboard and the public equality pages.

Everything outside a member comes from its stored releases; filters live in the address;
the download holds exactly the tables; public pages show only what is published and
answer 304 to a visitor whose copy is current.
"""

from __future__ import annotations

import html
import io
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from portal.tenancy import partnership_scope, tenant_scope
from tests.helpers import audit_events, by_number, tenant

LEAD = "west-kent"


def _dashboard(app, args=None):
    from portal.dashboards.services import partnership_dashboard
    from portal.partners.models import Partnership

    with app.test_request_context():
        partnership = app.extensions["sqlalchemy"].session.scalar(
            select(Partnership).where(Partnership.slug == LEAD)
        )
        # The lead's page puts its partnership in scope: its plan is partnership-owned.
        with partnership_scope(partnership):
            board = partnership_dashboard(partnership, args or {})
        return [(t.key, t.heading, t.headers, t.rows) for t in board.all_tables]


def _text(response) -> str:
    text = re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))
    return re.sub(r"\s+", " ", html.unescape(text))


def test_the_leads_home_is_the_dashboard_of_released_figures(client, login_as):
    login_as("lead", partnership=LEAD)
    page = _text(client.get(f"/p/{LEAD}/"))
    # The demonstration's current plan period (the 2012-16 seed framework is history).
    assert "Members' actions against the joint aims, 2024–28" in page
    assert "Members' released totals over time" in page
    # One characteristic at a time, the first unless another is chosen.
    assert "Difference between each member's shares and its community's by age" in page
    assert "Difference between each member's shares and its community's by sex" not in page
    page = _text(client.get(f"/p/{LEAD}/?characteristic=sex"))
    assert "Difference between each member's shares and its community's by sex" in page
    # The demonstration figures were released; members' counts appear as released.
    assert "Attendance at events and services" in page


def test_the_leads_home_shows_each_members_return_status(app, client, login_as):
    """The returns status of the newest reporting year (or the year of the chosen period),
    in the lead's list's words, with deadline and last activity: never a draft's content."""
    login_as("lead", partnership=LEAD)
    page = _text(client.get(f"/p/{LEAD}/"))
    assert "Returns status, 2025-26" in page
    tables = {key: (heading, headers, rows) for key, heading, headers, rows in _dashboard(app)}
    heading, headers, rows = tables["returns-status"]
    assert headers == ["Member", "Status", "Deadline", "Last activity"]
    statuses = {row[0]: row[1] for row in rows}
    assert statuses == {
        "Sevenoaks District Council": "Signed off",
        "Tonbridge & Malling Borough Council": "In progress",
        "Tunbridge Wells Borough Council": "Awaiting sign-off",
        "West Kent Housing Association": "Not started",
    }
    assert all(re.fullmatch(r"\d{1,2} [A-Z][a-z]+ \d{4}", row[2]) for row in rows)
    assert "1 signed off, 1 awaiting sign-off, 1 in progress, 1 not started" in page
    # One member, and an earlier year with no returns, by the address.
    one = {k: r for k, _h, _hd, r in _dashboard(app, {"member": "sevenoaks"})}
    assert [row[0] for row in one["returns-status"]] == ["Sevenoaks District Council"]
    assert "returns-status" not in {k for k, *_ in _dashboard(app, {"period": "2014"})}
    # The download holds it as a sheet of its own.
    book = load_workbook(io.BytesIO(client.get(f"/p/{LEAD}/dashboard.xlsx").data))
    sheet = book.worksheets[0]
    assert sheet.title == "Returns status, 2025-26"
    assert [c.value for c in sheet[1]] == headers


def test_a_figure_changed_after_release_changes_no_dashboard(app, client, login_as):
    from portal.extensions import db
    from portal.monitoring.models import MeasureValue

    before = _dashboard(app)
    before_all = _dashboard(app, {"characteristic": "sex", "member": "sevenoaks"})
    public_before = client.get(f"/public/p/{LEAD}/")
    with app.app_context(), tenant_scope(tenant("sevenoaks")):
        values = db.session.scalars(select(MeasureValue)).all()
        assert values
        for value in values:
            value.value = value.value * 3 + 11
        db.session.commit()
    assert _dashboard(app) == before
    assert _dashboard(app, {"characteristic": "sex", "member": "sevenoaks"}) == before_all
    public_after = client.get(f"/public/p/{LEAD}/")
    assert public_after.headers["ETag"] == public_before.headers["ETag"]
    assert _text(public_after) == _text(public_before)


def test_filters_round_trip_through_the_address(client, login_as):
    login_as("lead", partnership=LEAD)
    url = f"/p/{LEAD}/?characteristic=sex&member=tunbridge-wells&period=2013"
    page = client.get(url).get_data(as_text=True)
    link = re.search(r'href="([^"]+)">Link to this view', page).group(1).replace("&amp;", "&")
    assert parse_qs(urlsplit(link).query) == {
        "period": ["2013"],
        "member": ["tunbridge-wells"],
        "characteristic": ["sex"],
    }
    again = client.get(link).get_data(as_text=True)
    for name, value in [
        ("period", "2013"),
        ("member", "tunbridge-wells"),
        ("characteristic", "sex"),
    ]:
        assert re.search(rf'<option value="{value}" selected>', again), name
    shown = _text(client.get(link))
    assert "2013 to 2014" in shown and "Tunbridge Wells Borough Council" in shown
    table = shown.split("Joint measures by member")[1].split("More")[0]
    assert "Sevenoaks" not in table


def test_a_filter_naming_nothing_is_dropped_with_a_message(client, login_as):
    login_as("lead", partnership="kent-network")
    response = client.get("/p/kent-network/?member=sevenoaks&period=1999&characteristic=x")
    assert response.status_code == 200
    page = _text(response)
    assert "'sevenoaks' is not a member of this partnership." in page
    assert "No figures have been released for the period '1999'." in page
    assert "Sevenoaks" not in page.split("Joint measures by member")[1]


def test_another_partnerships_lead_finds_no_dashboard(client, login_as):
    login_as("lead", partnership="kent-network")
    assert client.get(f"/p/{LEAD}/").status_code == 404
    assert client.get(f"/p/{LEAD}/dashboard.xlsx").status_code == 404


def test_the_download_holds_a_sheet_per_table_equal_to_it(app, client, login_as):
    login_as("lead", partnership=LEAD)
    args = {"characteristic": "sex", "period": "2014"}
    response = client.get(f"/p/{LEAD}/dashboard.xlsx", query_string=args)
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].endswith('.xlsx"')
    book = load_workbook(io.BytesIO(response.data))
    tables = _dashboard(app, args)
    assert len(book.worksheets) == len(tables) >= 4
    # A sheet is named by its table's heading, cut to Excel's 31 characters; two headings
    # that start alike are told apart by a number.
    assert len({sheet.title for sheet in book.worksheets}) == len(book.worksheets)
    for sheet, (_key, heading, headers, rows) in zip(book.worksheets, tables, strict=True):
        name = re.sub(r" \(\d+\)$", "", sheet.title)
        assert sheet.title == heading[:31].strip() or heading.startswith(name)
        got = [["" if v is None else v for v in row] for row in sheet.iter_rows(values_only=True)]
        assert got == [headers, *rows]


def test_one_audit_event_per_view_and_one_aggregate_per_count(app, client, login_as):
    login_as("lead", partnership=LEAD)
    before = {e.id for e in audit_events(app)}
    client.get(f"/p/{LEAD}/?characteristic=sex")
    new = [e for e in audit_events(app) if e.id not in before]
    actions = sorted(e.action for e in new)
    # One read of released figures, one aggregate each for action counts and profiles
    # (and the returns' states), whatever the number of members: nothing per member.
    assert actions == [
        "cross_tenant.aggregate",
        "cross_tenant.aggregate",
        "cross_tenant.aggregate",
        "released_figures.read",
    ]
    assert all(e.tenant_id is None for e in new)


def test_action_counts_cross_the_wall_only_as_a_grouped_aggregate(ctx):
    from portal.actions.models import Action
    from portal.tenancy import aggregate_across_tenants

    with pytest.raises(ValueError, match="grouped aggregate"):
        aggregate_across_tenants(select(Action.task), [tenant("sevenoaks").id], purpose="test")


def test_the_public_page_shows_only_what_is_published(app, client):
    from portal.actions.models import Objective
    from portal.eqia.models import ImpactAssessment
    from portal.extensions import db

    with app.app_context(), tenant_scope(tenant("sevenoaks")):
        objectives = db.session.scalars(select(Objective).order_by(Objective.id)).all()
        hidden = db.session.scalars(
            select(ImpactAssessment).where(ImpactAssessment.is_published.is_(False))
        ).all()
        first, second = objectives[0].title, objectives[1].title
        hidden_titles = [a.title for a in hidden]
    page = _text(client.get("/public/sevenoaks/"))
    assert first not in page and second not in page
    assert "has not published its equality objectives" in page
    for title in hidden_titles:
        assert title not in page
    assert "phone 01632 960101" in page  # the alternative-formats contact
    # The partnership's published joint report, which Sevenoaks appears in.
    assert "West Kent" in page and "version 1" in page

    with app.app_context(), tenant_scope(tenant("sevenoaks")):
        row = by_number(Objective, 1)
        row.is_published = True
        db.session.commit()
        title = row.title
    page = _text(client.get("/public/sevenoaks/"))
    assert title in page
    assert second not in page


def test_public_pages_revalidate_with_an_etag(app, client):
    from portal.actions.models import Objective
    from portal.extensions import db

    for url in ("/public/sevenoaks/", f"/public/p/{LEAD}/"):
        first = client.get(url)
        assert first.status_code == 200
        assert first.headers["Cache-Control"] == "public, max-age=300"
        etag = first.headers["ETag"]
        again = client.get(url, headers={"If-None-Match": etag})
        assert again.status_code == 304
        assert again.data == b""
        assert again.headers["ETag"] == etag
    with app.app_context(), tenant_scope(tenant("sevenoaks")):
        by_number(Objective, 1).is_published = True
        db.session.commit()
    changed = client.get("/public/sevenoaks/", headers={"If-None-Match": etag})
    assert changed.status_code == 200


def test_public_pages_of_nobody_are_not_found(client):
    assert client.get("/public/p/no-such-partnership/").status_code == 404
    assert client.get("/public/no-such-organisation/").status_code == 404


@pytest.mark.parametrize("slug", ["p", "public", "admin"])
def test_tenants_sync_refuses_a_reserved_short_name(app, tmp_path, slug):
    (tmp_path / "partnerships").mkdir()
    (tmp_path / "organisations").mkdir()
    (tmp_path / "organisations" / "x.toml").write_text(
        f'slug = "{slug}"\nname = "X Council"\nkind = "district-council"\npartnerships = []\n'
        'alternative_formats = "Phone 01632 960999."\n',
        encoding="utf-8",
    )
    result = app.test_cli_runner().invoke(args=["tenants", "sync", "--path", str(tmp_path)])
    assert result.exit_code != 0
    assert f"'{slug}' is reserved for the portal's own addresses" in result.output
    with app.app_context():
        from portal.extensions import db
        from portal.partners.models import Tenant

        assert db.session.scalar(select(Tenant).where(Tenant.slug == slug)) is None


def test_each_chart_csv_is_its_table_and_its_filters_apply(app, client, login_as):
    from portal.dashboards.charts import chart_for
    from portal.dashboards.services import partnership_dashboard
    from portal.partners.models import Partnership

    login_as("lead", partnership=LEAD)
    args = {"characteristic": "sex", "member": "sevenoaks"}
    with app.test_request_context():
        from portal.extensions import db

        partnership = db.session.scalar(select(Partnership).where(Partnership.slug == LEAD))
        with partnership_scope(partnership):
            tables = partnership_dashboard(partnership, args).all_tables
            charts = [c for c in (chart_for(t) for t in tables) if c is not None]
            expected = {c.id: c.csv() for c in charts}
    assert {"aims", "over-time-1", "gaps-sex"} <= set(expected)
    for chart_id, body in expected.items():
        response = client.get(f"/p/{LEAD}/dashboard/{chart_id}.csv", query_string=args)
        assert response.status_code == 200, chart_id
        assert response.data == body
    assert client.get(f"/p/{LEAD}/dashboard/members.csv").status_code == 404  # a table only
    assert client.get(f"/p/{LEAD}/dashboard/nothing.csv").status_code == 404
    public = client.get(f"/public/p/{LEAD}/over-time-1.csv")
    assert public.status_code == 200 and public.data.startswith('\ufeff"Year",'.encode())


def test_an_officer_publishes_an_objective_and_withdraws_it(app, client, login_as):
    from portal.actions.models import Objective
    from tests.helpers import csrf_token

    with app.app_context(), tenant_scope(tenant("sevenoaks")):
        title = by_number(Objective, 2).title
    assert title not in _text(client.get("/public/sevenoaks/"))
    login_as("officer", "sevenoaks")
    url = "/t/sevenoaks/plan/objectives/2/publication"
    assert "Publish this objective" in _text(client.get(url))
    response = client.post(url, data={"csrf_token": csrf_token(client, url)})
    assert response.status_code == 302
    assert title in _text(client.get("/public/sevenoaks/"))
    assert "On the public equality page" in _text(client.get("/t/sevenoaks/plan/objectives"))
    client.post(url, data={"csrf_token": csrf_token(client, url)})
    assert title not in _text(client.get("/public/sevenoaks/"))
    actions = [e.action for e in audit_events(app) if e.action.startswith("objective.")]
    assert actions[-2:] == ["objective.published", "objective.withdrawn"]


def test_members_shares_are_of_those_recorded_in_a_category(app):
    from collections import defaultdict

    [table] = [t for t in _dashboard(app, {"characteristic": "sex"}) if t[0] == "benchmark-sex"]
    _, _, headers, rows = table
    assert headers[4:6] == ["Share (%)", "Community share (%)"]
    shares, community = defaultdict(list), defaultdict(list)
    for measure, member, _category, _figure, share, census, _gap in rows:
        shares[measure, member].append(share)
        community[measure, member].append(census)
    worked_out = [s for s in shares.values() if "not known" not in s]
    assert worked_out
    # Of those recorded as female or male: together, all of them (to rounding).
    for group in [*worked_out, *(c for c in community.values() if "not known" not in c)]:
        assert abs(sum(group) - 100) <= 0.2, group


def test_a_share_is_not_worked_out_beside_a_figure_not_shown():
    from portal.dashboards.services import _recorded
    from portal.disclosure import ReleasedCell

    shown = ReleasedCell("rounded", 120, 8)
    hidden = ReleasedCell("suppressed", None, 8)
    assert (
        _recorded({"Female": shown, "Male": ReleasedCell("rounded", 80, 8)}, ["Female", "Male"])
        == 200
    )
    assert _recorded({"Female": shown, "Male": hidden}, ["Female", "Male"]) is None
    # The census's "Not answered" is not one of the categories compared: left out.
    census = {"": 110, "Christian": 60, "No religion": 40, "Not answered": 10}
    assert _recorded(census, ["Christian", "No religion"]) == 100


def test_latest_names_the_latest_period_whatever_is_chosen(client, login_as):
    login_as("lead", partnership=LEAD)
    page = client.get(f"/p/{LEAD}/").get_data(as_text=True)
    latest = re.search(r'<option value="">Latest \(([^)]+)\)</option>', page).group(1)
    options = re.findall(r'<option value="(\d{4}[^"]*)"', page)
    assert len(options) > 1
    page = client.get(f"/p/{LEAD}/?period={options[-1]}").get_data(as_text=True)
    assert f'<option value="">Latest ({latest})</option>' in page


def test_a_characteristic_with_no_released_figures_says_so(client, login_as):
    login_as("lead", partnership=LEAD)
    page = _text(client.get(f"/p/{LEAD}/?characteristic=religion"))
    assert (
        "No figures released here are broken down by religion or belief; members are set "
        "beside their communities by age instead." in page
    )
    assert "Difference between each member's shares and its community's by age" in page


def test_years_with_nothing_released_keep_their_place_over_time(app):
    [(_, _, headers, rows)] = [t for t in _dashboard(app) if t[0] == "over-time-1"][:1]
    years = [int(row[0][:4]) for row in rows]
    assert years == list(range(years[0], years[-1] + 1))  # no year left out
    empty = [row for row in rows if all(cell == "not released" for cell in row[1:])]
    assert empty  # the demonstration releases nothing for some years between its plans
