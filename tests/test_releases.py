"""Released once: a member's figures for one measure and period leave it once, into a
stored release that every partnership page reads; rule changes apply only to later
releases; a correction is an explicit, audited new release."""

from __future__ import annotations

import pytest
from sqlalchemy import event, select

from portal.extensions import db as database
from portal.monitoring import figures, measures, releases
from portal.monitoring.models import FigureRelease, Measure, MeasureDefinition
from portal.partners.models import Partnership
from portal.tenancy import CrossTenantWrite, TenantNotSet, tenant_scope
from tests.helpers import audit_events, csrf_token, scoped, tenant
from tests.test_monitoring import table_rows
from tests.test_monitoring_joint import _joint, _report

MEMBERS = ("sevenoaks", "tonbridge-malling", "tunbridge-wells")


def _partnership(slug: str) -> Partnership:
    return database.session.scalar(select(Partnership).where(Partnership.slug == slug))


def _definition(key: str) -> MeasureDefinition:
    return database.session.scalar(select(MeasureDefinition).where(MeasureDefinition.key == key))


def _names(app) -> dict[str, str]:
    with app.app_context():
        return {slug: tenant(slug).name for slug in (*MEMBERS, "west-kent-housing")}


def _set_rule(client, slug: str, threshold: int, rounding: int) -> None:
    url = f"/p/{slug}/monitoring/disclosure"
    response = client.post(
        url,
        data={
            "csrf_token": csrf_token(client, url),
            "threshold": str(threshold),
            "rounding": str(rounding),
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)


def _rows(client, url: str) -> dict[str, list[str]]:
    response = client.get(url)
    assert response.status_code == 200
    return table_rows(response.get_data(as_text=True))


# --- the attack ----------------------------------------------------------------------------


def test_changing_the_rule_no_longer_changes_what_a_lead_sees(app, client, login_as):
    # Sevenoaks 9, Tonbridge & Malling 7, Tunbridge Wells 12 (28 in all). Released afresh
    # at every view, 8/5 then 9/5 then 10/5 gave Sevenoaks 9, Tunbridge Wells 12, the total
    # 28 and so the hidden 7. Released once, every view shows the first release.
    login_as("lead", partnership="west-kent")
    definition_id = _joint(client, name="Hate incidents reported", breakdown="")
    with app.app_context():
        for slug, count in zip(MEMBERS, (9, 7, 12), strict=True):
            _report(slug, definition_id, {"2014": {"": count}})
    names = _names(app)
    url = f"/p/west-kent/monitoring/measures/{definition_id}?period=2014"
    first = _rows(client, url)
    assert first[names["sevenoaks"]] == ["10 (rounded)"]
    assert first[names["tonbridge-malling"]] == ["fewer than 8"]
    assert first[names["tunbridge-wells"]] == ["10 (rounded)"]
    assert first["All members that reported"] == ["not shown (withheld to protect small counts)"]
    for threshold, rounding in ((9, 5), (10, 5), (15, 10), (20, 10)):
        _set_rule(client, "west-kent", threshold, rounding)
        assert _rows(client, url) == first, (threshold, rounding)
    with app.app_context():
        rows = database.session.scalars(
            select(FigureRelease).where(FigureRelease.definition_id == definition_id)
        ).all()
        assert len(rows) == 3
        assert {(r.threshold, r.rounding, r.version) for r in rows} == {(8, 5, 1)}


def test_a_threshold_sweep_learns_nothing_new(app, client, login_as):
    login_as("lead", partnership="west-kent")
    definition_id = _joint(client, name="Complaints", breakdown="sex")
    with app.app_context():
        _report("sevenoaks", definition_id, {"2014": {"": 43, "Female": 7, "Male": 24}})
    url = f"/p/west-kent/monitoring/measures/{definition_id}?period=2014"
    first = _rows(client, url)
    for threshold in range(8, 30):
        fits = [r for r in (5, 10, 20) if (threshold + r // 2) // r * r >= threshold]
        if fits:
            _set_rule(client, "west-kent", threshold, fits[0])
        assert _rows(client, url) == first


def test_a_member_of_two_partnerships_is_released_once_under_the_stricter_rule(
    app, client, auth, login_as
):
    # Tonbridge & Malling is in West Kent (8/5) and the Kent network (10/10): both leads
    # see the one release, made under 10/10, whoever looks first.
    key = "attendance-events-services"
    with app.app_context():
        definition = _definition(key)
        with tenant_scope(tenant("tonbridge-malling")):
            for old in database.session.scalars(
                select(Measure).where(Measure.definition_id == definition.id)
            ):
                database.session.delete(old)
            database.session.commit()
            row = measures.add_measure(
                definition=definition, breakdown="sex", first_year=2018, last_year=2018
            )
            cells = [
                figures.Cell("2018", c, str(v), c or "Total")
                for c, v in {"": 31, "Female": 9, "Male": 22}.items()
            ]
            figures.save_values(row, cells, via="test")
        definition_id = definition.id
    login_as("lead", partnership="kent-network")
    _set_rule(client, "kent-network", 10, 10)
    auth.logout()
    login_as("lead", partnership="west-kent")
    name = _names(app)["tonbridge-malling"]
    url = f"/p/{{}}/monitoring/measures/{definition_id}?breakdown=sex&period=2018"
    west = _rows(client, url.format("west-kent"))[name]
    # Female 9 would show as 10 under West Kent's own rule; under 10/10 it is hidden.
    assert west == ["fewer than 10", "20 (rounded)", "0", "30 (rounded)"]
    auth.logout()
    login_as("lead", partnership="kent-network")
    assert _rows(client, url.format("kent-network"))[name] == west
    with app.app_context():
        rows = database.session.scalars(
            select(FigureRelease).where(
                FigureRelease.tenant_id == tenant("tonbridge-malling").id,
                FigureRelease.definition_id == definition_id,
                FigureRelease.period == "2018",
            )
        ).all()
        assert [(r.threshold, r.rounding, r.trigger, r.trigger_detail) for r in rows] == [
            (10, 10, releases.FIRST_VIEW, "west-kent")
        ]


def test_the_strictest_rule_is_taken_at_the_moment_of_release(app):
    from portal.disclosure import Rule, strictest

    assert strictest([Rule(8, 5), Rule(10, 10)]) == Rule(10, 10)
    assert strictest([Rule(9, 5), Rule(8, 10)]) == Rule(9, 10)
    # 13 would round to 10 at base 10: the threshold goes up to 15, hiding more.
    assert strictest([Rule(13, 5), Rule(8, 10)]) == Rule(15, 10)
    assert strictest([]) == Rule(8, 5)


# --- live figures change; corrections ------------------------------------------------------


def _released_setup(app, client, auth, login_as):
    login_as("lead", partnership="west-kent")
    definition_id = _joint(client, name="Complaints", breakdown="sex")
    with app.app_context():
        measure_number = _report(
            "tonbridge-malling", definition_id, {"2014": {"": 40, "Female": 18, "Male": 22}}
        )
    url = f"/p/west-kent/monitoring/measures/{definition_id}?period=2014"
    name = _names(app)["tonbridge-malling"]
    assert _rows(client, url)[name] == ["20 (rounded)", "20 (rounded)", "0", "40 (rounded)"]
    auth.logout()
    return definition_id, measure_number, url, name


def test_a_live_change_after_release_changes_nothing_the_lead_sees(app, client, auth, login_as):
    definition_id, measure_number, url, name = _released_setup(app, client, auth, login_as)
    with app.app_context():
        _report("tonbridge-malling", definition_id, {"2014": {"": 52, "Female": 30, "Male": 22}})
    login_as("lead", partnership="west-kent")
    assert _rows(client, url)[name] == ["20 (rounded)", "20 (rounded)", "0", "40 (rounded)"]
    with app.app_context():
        assert not audit_events(app, action="figures.correction_released")


def test_an_officer_corrects_the_release_seeing_old_and_new(app, client, auth, login_as):
    definition_id, measure_number, url, name = _released_setup(app, client, auth, login_as)
    with app.app_context():
        _report("tonbridge-malling", definition_id, {"2014": {"": 52, "Female": 30, "Male": 22}})
    login_as("officer", "tonbridge-malling")
    releases = f"/t/tonbridge-malling/monitoring/measures/{measure_number}/releases"
    page = client.get(releases).get_data(as_text=True)
    assert "when a partnership lead first looked" in page
    correct = f"/t/tonbridge-malling/monitoring/measures/{measure_number}/releases/correct"
    page = client.get(correct + "?period=2014").get_data(as_text=True)
    rows = table_rows(page)
    assert rows["Female"] == ["20 (rounded)", "30 (rounded)"]
    assert rows["Total"] == ["40 (rounded)", "50 (rounded)"]
    token = csrf_token(client, correct + "?period=2014")
    # A correction needs a reason, and nothing is released without one.
    response = client.post(
        correct, data={"csrf_token": token, "period": "2014", "seen_version": "1", "reason": " "}
    )
    assert "Say why the released figures are being corrected" in response.get_data(as_text=True)
    reason = "Twelve complaints were logged against the wrong quarter"
    response = client.post(
        correct, data={"csrf_token": token, "period": "2014", "seen_version": "1", "reason": reason}
    )
    assert response.status_code == 302
    with app.app_context():
        (event,) = audit_events(app, action="figures.correction_released")
        assert event.tenant_id == tenant("tonbridge-malling").id
        assert event.detail["reason"] == reason
        assert event.detail["before"]["sex"]["total"] == ["rounded", 40]
        assert event.detail["after"]["sex"]["total"] == ["rounded", 50]
        versions = database.session.scalars(
            select(FigureRelease.version).where(FigureRelease.definition_id == definition_id)
        ).all()
        assert sorted(versions) == [1, 2]
    # The old release was seen; a second submission of the same form changes nothing.
    response = client.post(
        correct, data={"csrf_token": token, "period": "2014", "seen_version": "1", "reason": reason}
    )
    assert "changed while you were looking" in response.get_data(as_text=True)
    auth.logout()
    login_as("lead", partnership="west-kent")
    assert _rows(client, url)[name] == ["30 (rounded)", "20 (rounded)", "0", "50 (rounded)"]


def _dashboard_members(app, args: dict) -> tuple[list, dict]:
    from portal.dashboards.services import partnership_dashboard
    from portal.tenancy import partnership_scope

    with app.test_request_context():
        partnership = _partnership("west-kent")
        with partnership_scope(partnership):
            board = partnership_dashboard(partnership, args)
        tables = {t.key: t for t in board.all_tables}
        members = tables["members"]
        return members.headers, {row[0]: row[1:] for row in members.rows}, tables


def test_the_dashboard_shows_a_correction_made_after_it_was_read(app, client, auth, login_as):
    """The dashboard keeps what it has read of each release (a release never changes),
    so a correction, a new release, must still replace the one it has read."""
    definition_id, measure_number, url, name = _released_setup(app, client, auth, login_as)
    args = {"period": "2014", "member": "tonbridge-malling", "characteristic": "sex"}
    headers, before, tables = _dashboard_members(app, args)
    column = headers.index("Complaints") - 1
    assert before[name][column] == 40
    assert ["Complaints", name, "Female", 20] == tables["benchmark-sex"].rows[0][:4]
    with app.app_context():
        _report("tonbridge-malling", definition_id, {"2014": {"": 52, "Female": 30, "Male": 22}})
        member = tenant("tonbridge-malling")
        with tenant_scope(member):
            releases.correct_release(
                member,
                database.session.get(MeasureDefinition, definition_id),
                "2014",
                reason="Twelve complaints were logged against the wrong quarter",
                seen_version=1,
            )
    headers, after, tables = _dashboard_members(app, args)
    assert after[name][column] == 50
    assert ["Complaints", name, "Female", 30] == tables["benchmark-sex"].rows[0][:4]


def test_a_correction_with_nothing_to_change_is_refused(app, client, auth, login_as):
    definition_id, measure_number, url, name = _released_setup(app, client, auth, login_as)
    login_as("officer", "tonbridge-malling")
    correct = f"/t/tonbridge-malling/monitoring/measures/{measure_number}/releases/correct"
    page = client.get(correct + "?period=2014").get_data(as_text=True)
    assert "nothing to correct" in page
    response = client.post(
        correct,
        data={
            "csrf_token": csrf_token(client, correct + "?period=2014"),
            "period": "2014",
            "seen_version": "1",
            "reason": "Checking",
        },
    )
    assert "nothing to correct" in response.get_data(as_text=True)
    with app.app_context():
        assert not audit_events(app, action="figures.correction_released")


def test_only_an_officer_corrects_and_only_released_periods(app, client, auth, login_as):
    definition_id, measure_number, url, name = _released_setup(app, client, auth, login_as)
    correct = f"/t/tonbridge-malling/monitoring/measures/{measure_number}/releases/correct"
    login_as("viewer", "tonbridge-malling")
    assert (
        client.get(
            f"/t/tonbridge-malling/monitoring/measures/{measure_number}/releases"
        ).status_code
        == 200
    )
    assert client.get(correct + "?period=2014").status_code == 403
    auth.logout()
    login_as("officer", "tonbridge-malling")
    assert client.get(correct + "?period=2015").status_code == 404
    assert client.get(correct + "?period=nonsense").status_code == 404
    # Another organisation's officer gets 404 for this measure, as everywhere.
    auth.logout()
    login_as("officer", "sevenoaks")
    assert (
        client.get(correct.replace("tonbridge-malling", "sevenoaks") + "?period=2014").status_code
        == 404
    )


def test_a_correction_that_would_difference_out_a_hidden_count_is_withheld(app):
    # First release: 8, 1 and 8 not recorded (17), shown as 10, "fewer than 8", 10 and
    # the total withheld. The corrected table (8, 0 and 9 not recorded) hides nothing, so
    # on its own it would show its total as 15; beside the first release (the same 17
    # people) that total would leave the hidden cell at most 17 - 8 - 8 = 1: it is 1.
    from portal.disclosure import DEFAULT_RULE, release_correction, release_tables

    old = release_tables([({"a": 8, "b": 1}, 17)])
    assert old[0].total.status == "withheld"
    alone = release_tables([({"a": 8, "b": 0}, 17)])
    assert alone[0].total.label == "15"
    new = release_correction([old], [({"a": 8, "b": 0}, 17)], DEFAULT_RULE)
    assert new[0].total.status == "withheld"
    assert [c.label for c in new[0].all_cells()] == ["10", "0", "10"]


# --- the service -----------------------------------------------------------------------------


def test_release_is_idempotent_and_sign_off_can_trigger_it(app):
    with app.app_context():
        definition = _definition("attendance-events-services")
        member = tenant("sevenoaks")
        with tenant_scope(member):
            for old in database.session.scalars(
                select(Measure).where(Measure.definition_id == definition.id)
            ):
                database.session.delete(old)
            database.session.commit()
            row = measures.add_measure(
                definition=definition, breakdown="sex", first_year=2018, last_year=2018
            )
            figures.save_values(row, [figures.Cell("2018", "", "23", "Total")], via="test")
        first = releases.release_member_figures(
            member, definition, "2018", trigger=releases.SIGN_OFF, detail="2018-19 return"
        )
        again = releases.release_member_figures(member, definition, "2018")
        assert again.id == first.id and again.trigger == releases.SIGN_OFF
        assert releases.release_member_figures(member, definition, "2019") is None
        # (The demonstration's signed-off returns released other years before: 2018 is
        # a year it releases nothing for.)
        events = [
            e
            for e in audit_events(app, action="figures.released")
            if e.detail["definition"] == definition.id and e.detail.get("period") == "2018"
        ]
        assert [e.tenant_id for e in events] == [member.id]
        assert events[0].detail["trigger"] == releases.SIGN_OFF


def test_releases_are_append_only_and_written_only_under_their_tenant(app):
    from portal import clock

    with app.app_context():
        definition = _definition("attendance-events-services")
        sevenoaks, thanet = tenant("sevenoaks"), tenant("thanet")
        fields = {
            "definition_id": definition.id,
            "period": "2018",
            "threshold": 8,
            "rounding": 5,
            "released_at": clock.utcnow(),
            "trigger": "test",
            "tables": {},
        }
        database.session.add(FigureRelease(tenant_id=sevenoaks.id, **fields))
        with pytest.raises(TenantNotSet):
            database.session.flush()
        database.session.rollback()
        with tenant_scope(thanet):
            database.session.add(FigureRelease(tenant_id=sevenoaks.id, **fields))
            with pytest.raises(CrossTenantWrite):
                database.session.flush()
            database.session.rollback()
        with tenant_scope(sevenoaks):
            row = FigureRelease(**fields)
            database.session.add(row)
            database.session.commit()
            row.threshold = 3
            with pytest.raises(PermissionError):
                database.session.commit()
            database.session.rollback()
            database.session.delete(row)
            with pytest.raises(PermissionError):
                database.session.commit()
            database.session.rollback()


def test_a_partnership_reads_every_members_release_in_one_query(app, client, login_as):
    login_as("lead", partnership="west-kent")
    definition_id = _joint(client, name="Hate incidents reported", breakdown="")
    with app.app_context():
        for slug, count in zip(MEMBERS, (9, 7, 12), strict=True):
            _report(slug, definition_id, {"2014": {"": count}})
    client.get(f"/p/west-kent/monitoring/measures/{definition_id}?period=2014")
    with scoped(app):
        partnership = _partnership("west-kent")
        members = list(partnership.members)
        definition = database.session.get(MeasureDefinition, definition_id)
        statements = []

        def count(conn, cursor, statement, *args):
            if "figure_release" in statement:
                statements.append(statement)

        engine = database.engine
        event.listen(engine, "before_cursor_execute", count)
        try:
            found = releases.stored_releases(partnership, definition, "2014")
        finally:
            event.remove(engine, "before_cursor_execute", count)
        assert len(statements) == 1
        assert {tenant_id for tenant_id in found} == {tenant(s).id for s in MEMBERS}
        assert {m.id for m in members} >= set(found)
        (read,) = [
            e
            for e in audit_events(app, action="released_figures.read")
            if e.detail["definition"] == definition_id
        ][-1:]
        assert read.detail["partnership"] == "west-kent" and read.detail["releases"] == 3


def test_a_rule_change_is_recorded_in_every_members_trail(app, client, login_as):
    login_as("lead", partnership="kent-network")
    _set_rule(client, "kent-network", 13, 5)
    with app.app_context():
        events = audit_events(app, action="partnership.disclosure_rule_changed")
        members = {t.id for t in _partnership("kent-network").members}
        assert members == {tenant(s).id for s in ("maidstone", "thanet", "tonbridge-malling")}
        assert members <= {e.tenant_id for e in events}
        assert all(e.detail["to"] == [13, 5] for e in events)
