"""Annual returns: the task list, sections, sign-off, reopening, isolation, reminders.

The demonstration data gives West Kent 2025-26 open: Sevenoaks signed off, Tunbridge
Wells awaiting its chief executive, Tonbridge & Malling in draft and West Kent Housing not
started; the Kent network's 2025-26 open with no returns.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from io import BytesIO

import pytest
from sqlalchemy import func, select

from portal import clock
from portal.extensions import db
from portal.monitoring.models import FigureRelease
from portal.partners.models import Partnership
from portal.returns import case_studies, reminders, services, signoff
from portal.returns.models import (
    AWAITING_SIGN_OFF,
    DRAFT,
    SIGNED_OFF,
    AnnualReturn,
    DeadlineExtension,
    ReturnReminder,
    ReturnSnapshot,
)
from portal.tenancy import partnership_scope, tenant_scope
from tests.conftest import PASSWORD
from tests.helpers import (
    RETURN_SECTIONS,
    audit_events,
    csrf_token,
    png,
    tenant,
    user,
    workforce_answers,
)

YEAR = "2025-26"
TASKS = "/t/{slug}/returns/west-kent/2025-26/"


def _partnership(slug: str) -> Partnership:
    return db.session.scalar(select(Partnership).where(Partnership.slug == slug))


def _year(slug: str = "west-kent"):
    return services.find_year(_partnership(slug), YEAR)


@pytest.fixture
def lead(ctx):
    """West Kent's scope, as on its lead's pages: its reporting years are partnership-owned."""
    with partnership_scope(_partnership("west-kent")):
        yield


def _return(member: str):
    with tenant_scope(tenant(member)):
        ret = services.return_for(_year())
        return ret, {s.key: s for s in ret.sections} if ret else {}


# --- the task list -------------------------------------------------------------------------


def test_task_list_statuses_follow_the_sections(ctx):
    with tenant_scope(tenant("tonbridge-malling")):
        ret = services.return_for(_year())
        statuses = {t.key: t.status for t in services.tasks(ret)}
    assert statuses["aims"] == "Completed"
    assert statuses["priorities"] == "Completed"
    assert statuses["workforce"] == "Not started"
    assert statuses["send"] == "Cannot start yet"
    with tenant_scope(tenant("west-kent-housing")):
        assert services.return_for(_year()) is None
        statuses = {t.key: t.status for t in services.tasks(None)}
    assert set(statuses.values()) == {"Not started", "Cannot start yet"}


def test_the_officer_sees_the_govuk_task_list(client, login_as):
    login_as("officer", "tonbridge-malling")
    page = client.get(TASKS.format(slug="tonbridge-malling")).get_data(as_text=True)
    assert "govuk-task-list" in page
    for title in RETURN_SECTIONS.values():
        assert title in page
    assert "Completed" in page and "Not started" in page


def test_an_invalid_section_is_saved_in_progress_with_messages_in_words(ctx):
    with tenant_scope(tenant("tonbridge-malling")):
        ret = services.return_for(_year())
        section = ret.section("priorities")
        saved, problems = services.save_section(
            ret, "priorities", {"text": ""}, version=section.version
        )
        assert not saved.completed
        assert problems == {"text": "Enter your priorities for next year"}
        statuses = {t.key: t.status for t in services.tasks(ret)}
        assert statuses["priorities"] == "In progress"


def test_gender_pay_gap_is_asked_of_employers_of_250_or_more(lead):
    from portal.returns import sections, sources

    year = _year()
    drawn = sources.Workforce(None, None, [])
    assert sections.problems("workforce", {"employees": "lots"}, year, drawn) == {
        "employees": "Enter how many people you employ as a whole number, like 420"
    }
    assert sections.problems("workforce", {"employees": "120", "gpg": {}}, year, drawn) == {}
    problems = sections.problems(
        "workforce",
        {"employees": "400", "gpg": {"mean_hourly_gap": "abc"}, "public_authority": ""},
        year,
        drawn,
    )
    assert problems["mean_hourly_gap"] == "Enter the mean hourly pay gap as a number, like 7.5"
    assert problems["median_bonus_gap"] == "Enter the median bonus gap as a percentage"
    assert problems["public_authority"] == "Say whether you are a public authority"
    assert "lower_men" in problems
    # The profile's total for the year counts the employees; nothing is typed then.
    profiled = sources.Workforce(None, 480, [])
    assert "public_authority" in sections.problems("workforce", {}, year, profiled)


def test_quartiles_must_add_up_and_snapshot_date_follows_the_employer(lead):
    from portal.returns import sections, sources

    year = _year()
    answers = workforce_answers()
    assert set(answers["gpg"]) == set(sections.PAY_GAP_FIELDS) | {
        f"{band}_{who}" for band in sections.QUARTILES for who in ("men", "women")
    }
    drawn = sources.Workforce(None, None, [])
    assert sections.problems("workforce", answers, year, drawn) == {}
    answers["gpg"]["upper_women"] = "60"
    assert sections.problems("workforce", answers, year, drawn) == {
        "upper_men": "The men and women in the upper quartile must add up to 100%"
    }
    assert sources.pay_gap_snapshot_date(year, True).isoformat() == "2025-03-31"
    assert sources.pay_gap_snapshot_date(year, False).isoformat() == "2025-04-05"


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        # A decimal comma is not read as a thousands separator: 7,5 is not 75.
        ("7,5", "Enter the mean hourly pay gap as a number, like 7.5"),
        ("1e2", "Enter the mean hourly pay gap as a number, like 7.5"),
        ("nan", "Enter the mean hourly pay gap as a number, like 7.5"),
        ("1_0", "Enter the mean hourly pay gap as a number, like 7.5"),
        ("\u0667", "Enter the mean hourly pay gap as a number, like 7.5"),
        ("7.125", "Enter the mean hourly pay gap to 2 decimal places or fewer, like 7.5"),
        ("100.01", "The mean hourly pay gap must be between -100% and 100%"),
    ],
)
def test_a_pay_gap_figure_is_read_exactly_as_typed_or_refused(lead, typed, problem):
    from portal.returns import sections, sources

    answers = workforce_answers()
    answers["gpg"]["mean_hourly_gap"] = typed
    problems = sections.problems("workforce", answers, _year(), sources.Workforce(None, None, []))
    assert problems == {"mean_hourly_gap": problem}


def test_pay_gap_figures_reach_the_snapshot_as_typed(lead):
    from portal.returns import sections, sources

    answers = workforce_answers()
    answers["gpg"]["mean_hourly_gap"] = " 12.25 % "
    answers["gpg"]["median_hourly_gap"] = "-0.1"
    answers["gpg"]["lower_men"], answers["gpg"]["lower_women"] = "33.33", "66.67"
    assert sections.problems("workforce", answers, _year(), sources.Workforce(None, None, [])) == {}
    figures = sections.pay_gap(answers)
    assert (figures["mean_hourly_gap"], figures["median_hourly_gap"]) == (12.25, -0.1)
    assert figures["quartiles"]["lower"] == {"men": 33.33, "women": 66.67}
    assert json.dumps(figures["quartiles"]["lower"]) == '{"men": 33.33, "women": 66.67}'
    answers["gpg"]["lower_men"] = "33.333"
    assert sections.problems("workforce", answers, _year(), sources.Workforce(None, None, [])) == {
        "lower_men": "Enter the men and women in the lower quartile to 2 decimal places or "
        "fewer, like 47.5"
    }


def test_a_missing_figure_needs_a_reason(ctx):
    from portal.returns import sections

    with tenant_scope(tenant("tonbridge-malling")):
        year = _year()
        drawn = services.drawn("measures", year, None)
        assert drawn and all(m.has_figure for m in drawn)
        assert sections.problems("measures", {"reasons": {}}, year, drawn) == {}
        missing = [dataclasses.replace(drawn[0], values={})]
        problems = sections.problems("measures", {"reasons": {}}, year, missing)
        field = f"reason-{missing[0].definition.id}"
        assert problems[field].startswith("Enter the figure for 2025-26 on the measure's page")
        reason = {"reasons": {str(missing[0].definition.id): "Survey not run this year"}}
        assert sections.problems("measures", reason, year, missing) == {}


def test_section_page_saves_and_completes(client, login_as, app):
    login_as("officer", "tonbridge-malling")
    url = TASKS.format(slug="tonbridge-malling") + "sections/priorities"
    page = client.get(url).get_data(as_text=True)
    assert 'name="version"' in page
    with app.app_context():
        _, found = _return("tonbridge-malling")
        version = found["priorities"].version
    response = client.post(
        url,
        data={
            "csrf_token": csrf_token(client, url),
            "version": str(version),
            "text": "Publish our data on time. Train every manager.",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        _, found = _return("tonbridge-malling")
        assert found["priorities"].answers["text"].startswith("Publish our data")
        assert found["priorities"].completed


def test_a_pay_gap_typed_with_a_decimal_comma_is_shown_again_not_read_as_75(client, login_as, app):
    login_as("officer", "tonbridge-malling")
    url = TASKS.format(slug="tonbridge-malling") + "sections/workforce"
    page = client.get(url).get_data(as_text=True)
    assert "up to 2 decimal places" in page
    with app.app_context():
        _, found = _return("tonbridge-malling")
        version = found["workforce"].version if "workforce" in found else 0
    answers = workforce_answers()
    answers["gpg"]["mean_hourly_gap"] = "7,5"
    response = client.post(
        url,
        data={
            "csrf_token": csrf_token(client, url),
            "version": str(version),
            "employees": answers["employees"],
            "public_authority": answers["public_authority"],
            **answers["gpg"],
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Enter the mean hourly pay gap as a number, like 7.5" in page
    assert 'value="7,5"' in page
    with app.app_context():
        _, found = _return("tonbridge-malling")
        assert found["workforce"].answers["gpg"]["mean_hourly_gap"] == "7,5"
        assert not found["workforce"].completed


def test_two_officers_saving_one_section_get_the_conflict_page(client, login_as, app):
    login_as("officer", "tonbridge-malling")
    url = TASKS.format(slug="tonbridge-malling") + "sections/priorities"
    with app.app_context():
        _, found = _return("tonbridge-malling")
        stale = found["priorities"].version
        with tenant_scope(tenant("tonbridge-malling")):
            ret = services.return_for(_year())
            services.save_section(ret, "priorities", {"text": "Colleague's words."}, version=stale)
    response = client.post(
        url,
        data={"csrf_token": csrf_token(client, url), "version": str(stale), "text": "Mine."},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Somebody else changed this section" in page
    assert "Colleague&#39;s words." in page or "Colleague's words." in page
    with app.app_context():
        _, found = _return("tonbridge-malling")
        assert found["priorities"].answers["text"] == "Colleague's words."


def test_plain_language_check_is_shown_beside_a_narrative(client, login_as, app):
    login_as("officer", "tonbridge-malling")
    url = TASKS.format(slug="tonbridge-malling") + "sections/priorities"
    long_sentence = " ".join(["word"] * 30) + "."
    with app.app_context(), tenant_scope(tenant("tonbridge-malling")):
        ret = services.return_for(_year())
        section = ret.section("priorities")
        services.save_section(ret, "priorities", {"text": long_sentence}, version=section.version)
    page = client.get(url).get_data(as_text=True)
    assert "Plain-language check" in page and "This sentence has 30 words" in page


# --- case studies ---------------------------------------------------------------------------


def test_case_study_image_is_checked_and_kept_in_the_database(client, login_as, app):
    login_as("officer", "tonbridge-malling")
    url = TASKS.format(slug="tonbridge-malling") + "case-studies/new"
    token = csrf_token(client, url)
    fake = client.post(
        url,
        data={
            "csrf_token": token,
            "title": "Hub",
            "text": "We opened a hub.",
            "image_alt": "People at the hub",
            "image": (BytesIO(b"GIF89a not really"), "hub.png"),
        },
        content_type="multipart/form-data",
    )
    assert "The image must be a PNG or JPEG" in fake.get_data(as_text=True)
    no_alt = client.post(
        url,
        data={
            "csrf_token": token,
            "title": "Hub",
            "text": "We opened a hub.",
            "image": (BytesIO(png()), "hub.png"),
        },
        content_type="multipart/form-data",
    )
    assert "Describe the image for people who cannot see it" in no_alt.get_data(as_text=True)
    ok = client.post(
        url,
        data={
            "csrf_token": token,
            "title": "Hub",
            "text": "We opened a hub.",
            "image_alt": "People at the hub",
            "image": (BytesIO(png()), "hub.png"),
        },
        content_type="multipart/form-data",
    )
    assert ok.status_code == 302
    with app.app_context():
        ret, _ = _return("tonbridge-malling")
        with tenant_scope(tenant("tonbridge-malling")):
            ret = services.return_for(_year())
            study = ret.case_studies[0]
            number = study.number
            assert study.image.startswith(b"\x89PNG") and study.image_type == "image/png"
    image = client.get(f"/t/tonbridge-malling/returns/case-studies/{number}/image")
    assert image.status_code == 200 and image.mimetype == "image/png"


def test_an_oversized_image_is_refused(ctx):
    with tenant_scope(tenant("tonbridge-malling")):
        ret = services.return_for(_year())
        with pytest.raises(services.ReturnsError) as caught:
            case_studies.save_case_study(
                ret,
                None,
                title="Big",
                text="Text",
                image=png() + b"\0" * (3 * 1024 * 1024),
                image_alt="A big picture",
            )
    assert caught.value.errors == {"image": "The image must be smaller than 2 MB"}


# --- sign-off -----------------------------------------------------------------------------


def _ready_to_sign(member: str = "tunbridge-wells"):
    with tenant_scope(tenant(member)):
        ret = services.return_for(_year())
        assert ret.status == AWAITING_SIGN_OFF
        return ret


def test_sign_off_needs_the_password_statement_name_and_role(ctx):
    ceo = user("ceo@tunbridge-wells.demo")
    with tenant_scope(tenant("tunbridge-wells")):
        ret = services.return_for(_year())
        with pytest.raises(services.ReturnsError) as caught:
            signoff.sign_off(
                ret, user=ceo, password="wrong-password", confirmed=False, name="", role=""
            )
        assert caught.value.errors == {
            "confirm": "Confirm the statement to sign off",
            "name": "Enter your name",
            "role": "Enter your role, for example Chief Executive",
            "password": "The password is not right",
        }
        assert ret.status == AWAITING_SIGN_OFF
        year_id = ret.reporting_year_id
    count = db.session.scalar(
        select(func.count(ReturnSnapshot.id)).where(
            ReturnSnapshot.tenant_id == tenant("tunbridge-wells").id,
            ReturnSnapshot.reporting_year_id == year_id,
        )
    )
    assert count == 0


def test_sign_off_freezes_a_snapshot_with_a_stable_hash_and_releases_once(lead):
    ceo = user("ceo@tunbridge-wells.demo")
    member = tenant("tunbridge-wells")
    with tenant_scope(member):
        ret = services.return_for(_year())
        preview = signoff.build_content(ret)
        snapshot = signoff.sign_off(
            ret,
            user=ceo,
            password=PASSWORD,
            confirmed=True,
            name="Pat Jones",
            role="Chief Executive",
        )
        assert ret.status == SIGNED_OFF
    assert snapshot.sha256 == services.content_hash(snapshot.content)
    assert len(snapshot.sha256) == 64
    content = dict(snapshot.content)
    assert content["sign_off"]["name"] == "Pat Jones"

    # Exactly what the chief executive saw, with the sign-off added.
    def shown(c):
        # What a reader sees: everything but the sign-off and the release row's id.
        out = {k: v for k, v in c.items() if k != "sign_off"}
        out["measures"] = [{k: v for k, v in m.items() if k != "release_id"} for m in c["measures"]]
        return out

    assert shown(content) == shown(preview)
    releases = db.session.scalars(
        select(FigureRelease).where(FigureRelease.tenant_id == member.id)
    ).all()
    assert releases and all(r.trigger == "sign-off" for r in releases if r.trigger_detail)
    assert any(r.trigger == "sign-off" for r in releases)
    before = len(releases)
    # Reopened and signed off again: nothing is released a second time.
    lead = user("lead@west-kent.demo")
    signoff.reopen(_year(), member, reason="A figure was wrong", user=lead)
    with tenant_scope(member):
        ret = services.return_for(_year())
        signoff.send_for_sign_off(ret)
        again = signoff.sign_off(
            ret,
            user=ceo,
            password=PASSWORD,
            confirmed=True,
            name="Pat Jones",
            role="Chief Executive",
        )
    assert again.version == 2
    after = db.session.scalar(
        select(func.count(FigureRelease.id)).where(FigureRelease.tenant_id == member.id)
    )
    assert after == before
    # The hash is the content's: computed again from the stored content, it is the same.
    db.session.expire_all()
    stored = db.session.get(ReturnSnapshot, snapshot.id)
    assert services.content_hash(stored.content) == snapshot.sha256


def test_a_snapshot_can_never_be_changed(lead):
    snapshot = services.signed_off_returns(_year())[0]
    snapshot.content = {"changed": True}
    with pytest.raises(PermissionError):
        db.session.flush()
    db.session.rollback()


def test_the_chief_executive_signs_off_through_the_page(client, login_as, app, outbox):
    login_as("ceo", "tunbridge-wells")
    url = TASKS.format(slug="tunbridge-wells") + "sign-off"
    page = client.get(url).get_data(as_text=True)
    assert "exactly as it will appear" in page and "Progress on each joint aim" in page
    response = client.post(
        url,
        data={
            "csrf_token": _hidden(page, "csrf_token"),
            "seen": _hidden(page, "seen"),
            "confirm": "y",
            "name": "Pat Jones",
            "role": "Chief Executive",
            "password": PASSWORD,
        },
    )
    assert response.status_code == 302
    with app.app_context():
        ret, _ = _return("tunbridge-wells")
        assert ret.status == SIGNED_OFF
        events = audit_events(app, action="return.signed_off")
        assert events and events[-1].detail["name"] == "Pat Jones"


def test_only_the_chief_executive_signs_off(client, login_as):
    login_as("officer", "tunbridge-wells")
    url = TASKS.format(slug="tunbridge-wells") + "sign-off"
    assert client.get(url).status_code == 403


def test_send_back_returns_it_to_the_officers_with_comments(ctx, app, outbox):
    ceo = user("ceo@tunbridge-wells.demo")
    with tenant_scope(tenant("tunbridge-wells")):
        ret = services.return_for(_year())
        with pytest.raises(services.ReturnsError) as caught:
            signoff.send_back(ret, comments="  ", user=ceo)
        assert caught.value.errors["comments"].startswith("Enter what needs to change")
        signoff.send_back(ret, comments="Add the bonus figures.", user=ceo)
        assert ret.status == DRAFT and ret.sent_back_comments == "Add the bonus figures."
    sent = [m for m in outbox() if "was sent back" in m["Subject"]]
    assert sent and sent[-1]["To"] == "officer@tunbridge-wells.demo"
    assert "Add the bonus figures." in sent[-1].get_content()


def test_sending_for_sign_off_emails_the_chief_executive(ctx, outbox):
    with tenant_scope(tenant("tonbridge-malling")):
        ret = services.return_for(_year())
        with pytest.raises(services.ReturnsError) as caught:
            signoff.send_for_sign_off(ret)
        assert caught.value.errors["return"].startswith("Complete every section first")
    with tenant_scope(tenant("tunbridge-wells")):
        ret = services.return_for(_year())
        signoff.send_back(ret, comments="Check it.", user=None)
        signoff.send_for_sign_off(ret)
    sent = [m for m in outbox() if "ready for your sign-off" in m["Subject"]]
    assert [m["To"] for m in sent] == ["ceo@tunbridge-wells.demo"]


# --- reopening ------------------------------------------------------------------------------


def test_only_the_lead_reopens_with_a_reason(client, login_as, app):
    url = "/p/west-kent/reports/2025-26/reopen"
    login_as("lead", partnership="west-kent")
    token = csrf_token(client, url + "?member=sevenoaks")
    missing = client.post(url, data={"csrf_token": token, "member": "sevenoaks", "reason": ""})
    assert "Enter the reason for reopening the return" in missing.get_data(as_text=True)
    response = client.post(
        url, data={"csrf_token": token, "member": "sevenoaks", "reason": "Wrong figure"}
    )
    assert response.status_code == 302
    with app.app_context(), partnership_scope(_partnership("west-kent")):
        ret, _ = _return("sevenoaks")
        assert ret.status == DRAFT
        assert [s.tenant.slug for s in services.signed_off_returns(_year())] == []
        assert "sevenoaks" in [t.slug for t in services.members_without_return(_year())]
        events = audit_events(app, action="return.reopened")
        assert {e.tenant_id for e in events} == {None, tenant("sevenoaks").id}
        assert events[0].detail["reason"] == "Wrong figure"


def test_members_cannot_reach_the_reopen_page(client, login_as):
    login_as("ceo", "sevenoaks")
    assert client.get("/p/west-kent/reports/2025-26/reopen?member=sevenoaks").status_code == 404


# --- isolation ------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["another member", "the lead"])
def test_a_draft_is_never_seen_outside_its_member(client, login_as, auth, who):
    if who == "the lead":
        login_as("lead", partnership="west-kent")
    else:
        login_as("officer", "sevenoaks")
    for path in ("", "preview", "sections/aims"):
        response = client.get(TASKS.format(slug="tonbridge-malling") + path)
        assert response.status_code == 404


def test_the_lead_reads_signed_off_returns_only(client, login_as, app):
    login_as("lead", partnership="west-kent")
    signed = client.get("/p/west-kent/reports/2025-26/returns/sevenoaks").get_data(as_text=True)
    assert "Demonstration: " in signed and "SHA-256" in signed
    draft = client.get("/p/west-kent/reports/2025-26/returns/tonbridge-malling")
    body = draft.get_data(as_text=True)
    assert draft.status_code == 200
    assert "has not signed off its return" in body and "Demonstration: " not in body


def test_signed_off_returns_is_the_report_builders_contract(lead, app):
    year = _year()
    found = services.signed_off_returns(year)
    assert [s.tenant.slug for s in found] == ["sevenoaks"]
    content = found[0].content
    for key in (
        "aims",
        "commitments",
        "measures",
        "workforce",
        "assessments",
        "hate_incidents",
        "case_studies",
        "priorities",
        "sign_off",
    ):
        assert key in content
    # Every count in it was released: a status beside each value, no count from 1 to 7,
    # every other count a multiple of 5.
    cells = [content["assessments"]["completed"], content["assessments"]["published"]]
    tables = [t for m in content["measures"] for t in (m["released"] or {}).values()]
    tables += [p["released"] for p in content["workforce"]["profile"] if p["released"]]
    for quarter in content["hate_incidents"]["released"].values():
        tables += list((quarter or {}).values())
    for table in tables:
        cells += [[status, value] for _, status, value in table["cells"]]
        cells += [table["unrecorded"], table["total"]]
    assert cells
    for status, value in cells:
        assert status in {"zero", "rounded", "suppressed", "withheld"}
        assert value is None or value == 0 or (value >= 8 and value % 5 == 0)
    assert [t.slug for t in services.members_without_return(year)] == [
        "tonbridge-malling",
        "tunbridge-wells",
        "west-kent-housing",
    ]
    assert audit_events(app, action="returns.read_signed_off")


# --- the lead's view ------------------------------------------------------------------------


def test_the_lead_sees_every_members_status(lead):
    year = _year()
    today = clock.utcnow().date()
    statuses = {s.tenant.slug: s.status for s in services.member_statuses(year, today)}
    assert statuses == {
        "sevenoaks": "signed off",
        "tunbridge-wells": "awaiting sign-off",
        "tonbridge-malling": "in progress",
        "west-kent-housing": "not started",
    }
    late = {
        s.tenant.slug: s.status
        for s in services.member_statuses(year, year.deadline + timedelta(days=1))
    }
    assert late["sevenoaks"] == "signed off"
    assert {late[m] for m in ("tunbridge-wells", "tonbridge-malling", "west-kent-housing")} == {
        "overdue"
    }


def _statements_of(fn) -> int:
    from sqlalchemy import event

    statements = []

    def count(conn, cursor, statement, parameters, context, executemany):
        # PostgreSQL's per-transaction scope settings are the walls, not reads.
        if "set_config(" not in statement:
            statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        fn()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(statements)


def test_the_lead_list_reads_every_member_in_one_query(app, lead):
    """More members, with started returns, cost the lead's list no more queries, and each
    look is one audit event for the partnership, not one per member."""
    from portal.partners.models import Tenant

    year = _year()
    today = clock.utcnow().date()
    services.member_statuses(year, today)  # warm: the members are loaded once
    before = _statements_of(lambda: services.member_statuses(year, today))
    looks = len(audit_events(app, action="cross_tenant.aggregate"))
    partnership = year.partnership
    for number in range(3):
        member = Tenant(
            slug=f"extra-{number}", name=f"Extra Council {number}", kind="district-council"
        )
        db.session.add(member)
        partnership.members.append(member)
        db.session.commit()
        with tenant_scope(member):
            services.start_return(year)
            if number:
                case_studies.save_case_study(
                    services.return_for(year),
                    None,
                    title="A story",
                    text="What happened.",
                    image=None,
                    image_alt="",
                )
    db.session.expire_all()
    year = _year()
    services.member_statuses(year, today)
    statuses = {}
    after = _statements_of(
        lambda: statuses.update(
            {s.tenant.slug: s.status for s in services.member_statuses(year, today)}
        )
    )
    assert after == before
    assert statuses["extra-0"] == "not started"
    assert statuses["extra-1"] == statuses["extra-2"] == "in progress"
    assert statuses["tunbridge-wells"] == "awaiting sign-off"
    assert len(audit_events(app, action="cross_tenant.aggregate")) == looks + 2
    assert not audit_events(app, action="cross_tenant.read")


def test_the_lead_page_lists_returns_and_has_a_place_for_the_report(client, login_as):
    login_as("lead", partnership="west-kent")
    page = client.get("/p/west-kent/reports/2025-26/").get_data(as_text=True)
    for words in ("Sevenoaks", "Awaiting sign-off", "Not started", "Send a reminder"):
        assert words in page


def test_opening_a_year_emails_officers_and_chief_executives(client, login_as, app, outbox):
    login_as("lead", partnership="west-kent")
    url = "/p/west-kent/reports/open"
    token = csrf_token(client, url)
    start = clock.utcnow().year
    data = {
        "csrf_token": token,
        "start_year": str(start),
        "deadline": ["31", "5", str(start + 1)],
        "publication_target": ["30", "4", str(start + 1)],
    }
    refused = client.post(url, data=data)
    assert "The target publication date must be after the deadline" in refused.get_data(
        as_text=True
    )
    data["publication_target"] = ["30", "9", str(start + 1)]
    assert client.post(url, data=data).status_code == 302
    with app.app_context():
        recipients = {m["To"] for m in outbox() if "due by 31 May" in m["Subject"]}
    assert {"officer@sevenoaks.demo", "ceo@sevenoaks.demo", "ceo@west-kent-housing.demo"} <= (
        recipients
    )
    assert "caseworker@sevenoaks.demo" not in recipients
    with app.app_context(), partnership_scope(_partnership("west-kent")):
        year = services.find_year(_partnership("west-kent"), f"{start}-{(start + 1) % 100:02d}")
        assert year.aim_ids, "the year covers the current period's joint aims"


def test_extending_a_deadline_is_audited(lead, app):
    year = _year()
    member = tenant("west-kent-housing")
    lead = user("lead@west-kent.demo")
    with pytest.raises(services.ReturnsError) as caught:
        services.extend_deadline(year, member, deadline=year.deadline, reason="", user=lead)
    assert caught.value.errors == {
        "deadline": f"The new deadline must be after {year.deadline:%-d %B %Y}",
        "reason": "Enter the reason for the extension",
    }
    later = year.deadline + timedelta(days=14)
    services.extend_deadline(year, member, deadline=later, reason="Board meets late", user=lead)
    assert services.deadline_for(year, member) == later
    assert services.deadline_for(year, tenant("sevenoaks")) == year.deadline
    assert db.session.scalar(select(func.count(DeadlineExtension.id))) == 1
    events = audit_events(app, action="return.deadline_extended")
    assert {e.tenant_id for e in events} == {None, member.id}
    assert events[0].detail["reason"] == "Board meets late"


# --- reminders ------------------------------------------------------------------------------


def _sent(report) -> set:
    return {(p, m, k) for p, m, k in report.sent}


def test_reminders_at_14_and_3_days_once_each_then_escalation(lead, outbox):
    year = _year()
    deadline = year.deadline
    fourteen = reminders.send_reminders(deadline - timedelta(days=14))
    west_kent = {(m, k) for p, m, k in fourteen.sent if p == "west-kent"}
    assert west_kent == {
        ("tunbridge-wells", "14 days"),
        ("tonbridge-malling", "14 days"),
        ("west-kent-housing", "14 days"),
    }
    assert not [
        s
        for s in reminders.send_reminders(deadline - timedelta(days=13)).sent
        if s[0] == "west-kent"
    ]
    three = reminders.send_reminders(deadline - timedelta(days=3))
    assert {(m, k) for p, m, k in three.sent if p == "west-kent"} == {
        (m, "3 days") for m in ("tunbridge-wells", "tonbridge-malling", "west-kent-housing")
    }
    assert not [s for s in reminders.send_reminders(deadline).sent if s[0] == "west-kent"]
    late = reminders.send_reminders(deadline + timedelta(days=1))
    assert {(m, k) for p, m, k in late.sent if p == "west-kent"} == {
        (m, "overdue") for m in ("tunbridge-wells", "tonbridge-malling", "west-kent-housing")
    }
    assert not reminders.send_reminders(deadline + timedelta(days=2)).sent
    escalations = [m for m in outbox() if m["Subject"].startswith("Overdue:")]
    assert {m["To"] for m in escalations} >= {
        "ceo@tonbridge-malling.demo",
        "ceo@west-kent-housing.demo",
    }
    assert not [m for m in escalations if m["To"].startswith("officer@")]
    # Tunbridge Wells waits for its chief executive: its reminders went to them.
    to_tw = {m["To"] for m in outbox() if "tunbridge-wells" in m["To"]}
    assert to_tw == {"ceo@tunbridge-wells.demo"}
    with tenant_scope(tenant("sevenoaks")):
        assert db.session.scalar(select(func.count(ReturnReminder.id))) == 0


def test_reminders_command(app):
    runner = app.test_cli_runner()
    with app.app_context(), partnership_scope(_partnership("west-kent")):
        deadline = _year().deadline
    result = runner.invoke(args=["reports", "remind", "--today", str(deadline - timedelta(days=3))])
    assert result.exit_code == 0, result.output
    assert "west-kent: west-kent-housing: 3 days" in result.output
    again = runner.invoke(args=["reports", "remind", "--today", str(deadline - timedelta(days=3))])
    assert again.output.strip().endswith("0 reminders sent.")


def test_a_reminder_by_hand(client, login_as, outbox, app):
    login_as("lead", partnership="west-kent")
    url = "/p/west-kent/reports/2025-26/"
    response = client.post(
        url + "remind", data={"csrf_token": csrf_token(client, url), "member": "west-kent-housing"}
    )
    assert response.status_code == 302
    with app.app_context():
        sent = [m["To"] for m in outbox() if m["Subject"].startswith("Reminder:")]
    assert sent == ["officer@west-kent-housing.demo"]


def test_returns_are_one_per_member_and_year(ctx):
    with tenant_scope(tenant("tonbridge-malling")):
        first = services.start_return(_year())
        assert services.start_return(_year()).id == first.id
        # The demonstration's 2024-25 report gave every member a return for that year too.
        assert (
            db.session.scalar(
                select(func.count(AnnualReturn.id)).where(
                    AnnualReturn.reporting_year_id == first.reporting_year_id
                )
            )
            == 1
        )


def test_a_year_with_a_superscript_digit_is_not_found(client, login_as):
    # "²".isdigit() is true but int("²") raises: the label must be ASCII decimal digits.
    login_as("officer", "tonbridge-malling")
    assert client.get("/t/tonbridge-malling/returns/west-kent/%C2%B2025-26/").status_code == 404


def test_a_lead_year_with_a_superscript_digit_is_not_found(client, login_as):
    login_as("lead", partnership="west-kent")
    assert client.get("/p/west-kent/reports/%C2%B2025-26/").status_code == 404


def test_an_employee_count_thousands_of_digits_long_is_a_message_not_an_error(lead):
    # int() refuses strings of more than 4,300 digits with ValueError.
    from portal.returns import sections, sources

    drawn = sources.Workforce(None, None, [])
    huge = "9" * 5000
    assert sections.problems("workforce", {"employees": huge}, _year(), drawn) == {
        "employees": "Enter how many people you employ as a whole number, like 420"
    }
    assert sections.employees_of({"employees": huge}, drawn) is None


def test_a_start_year_thousands_of_digits_long_is_a_message_not_an_error(client, login_as):
    login_as("lead", partnership="west-kent")
    url = "/p/west-kent/reports/open"
    response = client.post(
        url,
        data={
            "csrf_token": csrf_token(client, url),
            "start_year": "9" * 5000,
            "deadline": ["31", "5", "2027"],
            "publication_target": ["30", "9", "2027"],
        },
    )
    assert response.status_code == 200
    assert "Choose a reporting year from the list" in response.get_data(as_text=True)


def test_a_second_sign_off_at_the_same_moment_is_told_it_was_already_signed_off(
    client, login_as, app, monkeypatch
):
    # Two chief executives press the button together: both pass the status check, and the
    # second snapshot breaks the unique constraint when it is written.
    from sqlalchemy.exc import IntegrityError

    def raced(ret, **kwargs):
        db.session.add(ReturnSnapshot(tenant_id=ret.tenant_id))
        raise IntegrityError("INSERT INTO return_snapshot", {}, Exception("unique"))

    monkeypatch.setattr(signoff, "freeze", raced)
    login_as("ceo", "tunbridge-wells")
    url = TASKS.format(slug="tunbridge-wells") + "sign-off"
    page = client.get(url).get_data(as_text=True)
    response = client.post(
        url,
        data={
            "csrf_token": _hidden(page, "csrf_token"),
            "seen": _hidden(page, "seen"),
            "confirm": "y",
            "name": "Pat Jones",
            "role": "Chief Executive",
            "password": PASSWORD,
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(TASKS.format(slug="tunbridge-wells"))
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "already been signed off" in page


def test_officers_see_incident_counts_as_released_not_exact(client, login_as, app):
    # Exact hate-incident statistics are for caseworkers: the officer drafting the return
    # sees the counts the way the return will show them, under the disclosure rule.
    with app.app_context(), tenant_scope(tenant("tonbridge-malling")):
        from portal.returns import sources

        exact = sources.incident_tables(_year())
        released = signoff.build_content(services.return_for(_year()))["hate_incidents"]
    assert exact, "the year has quarters to report"
    login_as("officer", "tonbridge-malling")
    page = client.get(TASKS.format(slug="tonbridge-malling") + "sections/incidents")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Hate incidents recorded in 2025-26, by quarter<" not in text
    assert "against the register" not in text
    assert "shown under the disclosure rule" in text
    motivations = [
        name
        for tables in released["released"].values()
        for name in (tables or {})
        if name.startswith("motivation:")
    ]
    if motivations:
        assert "by motivation and quarter" in text
    else:
        assert "No incident figures for the year can be shown" in text


def test_officers_see_recorded_incidents_under_the_disclosure_rule(client, login_as, app):
    from datetime import date

    from portal.incidents.models import HateIncident, Ward

    with app.app_context(), tenant_scope(tenant("tonbridge-malling")):
        now = clock.utcnow()
        ward = Ward(name="Castle", created_at=now)
        db.session.add(ward)
        db.session.flush()
        for _ in range(3):
            db.session.add(
                HateIncident(
                    occurred_on=date(2025, 5, 1),
                    motivations=["race"],
                    incident_type="verbal",
                    ward_id=ward.id,
                    description="Something happened.",
                    created_at=now,
                    updated_at=now,
                )
            )
        db.session.commit()
    login_as("officer", "tonbridge-malling")
    text = client.get(TASKS.format(slug="tonbridge-malling") + "sections/incidents").get_data(
        as_text=True
    )
    assert "shown under the disclosure rule" in text
    assert ">3<" not in text.replace(" ", "").replace("\n", "")
    assert "Hate incidents recorded in 2025-26, by quarter<" not in text


def _hidden(html: str, name: str) -> str:
    import re

    match = re.search(rf'name="{name}"[^>]*value="([^"]*)"', html) or re.search(
        rf'value="([^"]*)"[^>]*name="{name}"', html
    )
    return match.group(1) if match else ""


def test_a_return_that_changed_after_the_page_opened_is_not_signed_off_unread(
    client, login_as, app
):
    # A return draws in live records (commitments, actions, figures): what the chief
    # executive signs must be what they read, not what the records say a moment later.
    from portal.commitments import services as commitments

    login_as("ceo", "tunbridge-wells")
    url = TASKS.format(slug="tunbridge-wells") + "sign-off"
    page = client.get(url).get_data(as_text=True)
    form = {
        "csrf_token": _hidden(page, "csrf_token"),
        "seen": _hidden(page, "seen"),
        "confirm": "y",
        "name": "Pat Jones",
        "role": "Chief Executive",
        "password": PASSWORD,
    }
    with app.app_context(), tenant_scope(tenant("tunbridge-wells")):
        commitments.add_commitment("We will do something the chief executive never read.")
        db.session.commit()
    response = client.post(url, data=form)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "The return has changed since you opened this page" in body
    assert "something the chief executive never read" in body
    with app.app_context():
        ret, _ = _return("tunbridge-wells")
        assert ret.status == AWAITING_SIGN_OFF
    # Read again, it signs off.
    form["seen"] = _hidden(body, "seen")
    form["csrf_token"] = _hidden(body, "csrf_token")
    assert client.post(url, data=form).status_code == 302
    with app.app_context():
        ret, _ = _return("tunbridge-wells")
        assert ret.status == SIGNED_OFF


def test_a_sign_off_without_the_fingerprint_of_what_was_read_is_refused(client, login_as, app):
    login_as("ceo", "tunbridge-wells")
    url = TASKS.format(slug="tunbridge-wells") + "sign-off"
    response = client.post(
        url,
        data={
            "csrf_token": csrf_token(client, url),
            "confirm": "y",
            "name": "Pat Jones",
            "role": "Chief Executive",
            "password": PASSWORD,
        },
    )
    assert response.status_code == 200
    with app.app_context():
        ret, _ = _return("tunbridge-wells")
        assert ret.status == AWAITING_SIGN_OFF


def test_guessing_the_password_at_sign_off_locks_it_as_signing_in_does(client, login_as, app):
    # The password asked again at sign-off is a second door: wrong guesses there count
    # towards the same lock as at the sign-in page, or anybody at an unattended signed-in
    # desk could guess without limit.
    app.config["LOGIN_FAILURE_LIMIT"] = "3 per 15 minutes"
    login_as("ceo", "tunbridge-wells")
    url = TASKS.format(slug="tunbridge-wells") + "sign-off"
    page = client.get(url).get_data(as_text=True)
    form = {
        "csrf_token": _hidden(page, "csrf_token"),
        "seen": _hidden(page, "seen"),
        "confirm": "y",
        "name": "Pat Jones",
        "role": "Chief Executive",
    }
    for guess in ("guess-one", "guess-two"):
        response = client.post(url, data={**form, "password": guess})
        assert response.status_code == 200
        assert "The password is not right" in response.get_data(as_text=True)
    response = client.post(url, data={**form, "password": guess}, follow_redirects=True)
    assert "too many wrong passwords" in response.get_data(as_text=True)
    response = client.post(url, data={**form, "password": PASSWORD}, follow_redirects=True)
    assert "too many wrong passwords" in response.get_data(as_text=True)
    with app.app_context():
        ret, _ = _return("tunbridge-wells")
        assert ret.status == AWAITING_SIGN_OFF


# --- delivery -------------------------------------------------------------------------------


def test_a_chief_executives_home_shows_the_return_the_sign_off_and_published_reports(
    client, login_as
):
    """Issue 9's delivery: their return's status, what waits for their sign-off, and the
    partnership's published reports."""
    import html
    import re

    login_as("ceo", "tunbridge-wells")
    page = client.get("/t/tunbridge-wells/").get_data(as_text=True)
    text = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))
    assert "Sign off or send back the 2025-26 return to West Kent Equality Partnership" in text
    assert "Annual returns" in text
    assert "2025-26 return to West Kent Equality Partnership Awaiting sign-off" in text
    assert "Published joint reports" in text
    assert "joint annual report 2024-25" in text
    assert 'href="/public/p/west-kent/reports/2024-25/"' in page


def test_an_officers_home_says_their_return_is_not_started(client, login_as):
    login_as("officer", "west-kent-housing")
    text = client.get("/t/west-kent-housing/").get_data(as_text=True)
    assert "Not started" in text and "No activity yet" in text
