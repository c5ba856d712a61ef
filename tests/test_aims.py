"""The partnership's joint aims: the seed held word for word, leads' edits, members' reading,
copying a plan period, edit conflicts, and commitments linked to joint aims."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal.aims import services
from portal.aims.models import (
    DELIVERING,
    RIGHTS,
    AimMeasure,
    CommitmentJointAim,
    JointAim,
    PartnershipRole,
    PeriodStatement,
    PlanPeriod,
    RoleListItem,
)
from portal.commitments.models import Commitment
from portal.partners.models import Partnership
from portal.tenancy import tenant_scope
from tests.helpers import as_partnership, audit_events, csrf_token, scoped, tenant

SEED = (
    Path(__file__).resolve().parents[2]
    / "shared/seeds/west-kent-equality-partnership-aims-2012-16.txt"
)
if not SEED.exists():
    SEED = Path("/work/shared/seeds/west-kent-equality-partnership-aims-2012-16.txt")


def parse_seed() -> dict:
    """The seed document's framework, read straight from the text file."""
    lines = [line.strip() for line in SEED.read_text().splitlines()]
    roles, aims, statements, section = [], [], {DELIVERING: [], RIGHTS: []}, None
    for i, line in enumerate(lines):
        if re.match(r"^As an? .* we will:$", line):
            lead_in = next(x for x in lines[i + 1 :] if x)
            roles.append({"name": line, "lead_in": lead_in, "items": []})
            section = "role"
        elif line == "Delivering our commitments":
            section = DELIVERING
        elif line == "Rights and Responsibilities":
            section = RIGHTS
        elif "\t<ul" in line:
            aim, cell = line.split("\t")
            measures = [m.strip() for m in re.sub(r"<ul[^>]*>", "", cell).split("- ") if m.strip()]
            aims.append((aim, measures))
        elif line.startswith("- "):
            if section == "role":
                roles[-1]["items"].append(line[2:])
            else:
                statements[section].append(line[2:])
    return {"roles": roles, "aims": aims, "statements": statements}


@pytest.fixture
def db(ctx):
    """The database, with West Kent's framework in scope as on its lead's pages."""
    from portal.extensions import db as database

    with as_partnership("west-kent"):
        yield database


def west_kent_period(db) -> PlanPeriod:
    return db.session.scalar(
        select(PlanPeriod)
        .join(Partnership, Partnership.id == PlanPeriod.partnership_id)
        .where(Partnership.slug == "west-kent", PlanPeriod.start_year == 2012)
    )


def aim_ids(app, slug="west-kent") -> list[int]:
    with scoped(app, slug):
        from portal.extensions import db

        return list(
            db.session.scalars(
                select(JointAim.id)
                .join(Partnership, Partnership.id == JointAim.partnership_id)
                .join(JointAim.role)
                .where(Partnership.slug == slug)
                .order_by(PartnershipRole.period_id, PartnershipRole.position, JointAim.position)
            )
        )


def framework_ids(app) -> dict:
    """Ids and versions in West Kent's 2012–16 framework, read in a context of their own
    (a test that holds an app context across requests shares ``g``, and with it the CSRF
    token, between sessions)."""
    with scoped(app):
        from portal.extensions import db

        period = west_kent_period(db)
        aim = period.roles[1].aims[0]
        return {
            "period": period.id,
            "role": period.roles[0].id,
            "first_aim": period.roles[0].aims[0].id,
            "first_aim_version": period.roles[0].aims[0].version,
            "aim": aim.id,
            "aim_version": aim.version,
        }


def page_text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


# --- the seed, word for word -------------------------------------------------------------


def test_seed_framework_is_held_word_for_word(db):
    seed = parse_seed()
    assert len(seed["aims"]) == 7 and sum(len(m) for _, m in seed["aims"]) == 10
    period = west_kent_period(db)
    assert period.title == "Our Aims and Commitments for 2012-16"
    assert period.label == "2012–16" and not period.is_draft and not period.is_demo
    assert len(period.paragraphs) == 3
    assert period.paragraphs[0].startswith("This document sets out the aims and commitments")
    assert [r.name for r in period.roles] == [r["name"] for r in seed["roles"]]
    assert [r.name for r in period.roles] == [
        "As a Community Leader we will:",
        "As a Service provider we will:",
        "As an employer we will:",
    ]
    for role, expected in zip(period.roles, seed["roles"], strict=True):
        assert role.lead_in == expected["lead_in"]
        assert [i.text for i in role.items] == expected["items"]
    held = [(a.text, [m.text for m in a.measures]) for r in period.roles for a in r.aims]
    assert held == seed["aims"]
    assert [s.text for s in period.statements_in(DELIVERING)] == seed["statements"][DELIVERING]
    assert [s.text for s in period.statements_in(RIGHTS)] == seed["statements"][RIGHTS]
    assert len(period.statements_in(RIGHTS)) == 4
    assert "(phone numbers for each authority to be added)" in period.alternative_formats


def test_loading_the_demonstration_twice_changes_nothing(db):
    from portal.aims import demo

    models = (PlanPeriod, PartnershipRole, RoleListItem, JointAim, AimMeasure, PeriodStatement)
    before = [db.session.scalar(select(func.count()).select_from(m)) for m in models]
    lines = list(demo.load_demo())
    assert all("already has" in line for line in lines)
    after = [db.session.scalar(select(func.count()).select_from(m)) for m in models]
    assert before == after


# --- the lead's pages --------------------------------------------------------------------


def test_lead_sees_every_aim_and_measure(app, login_as, client):
    period_id = framework_ids(app)["period"]
    login_as("lead", partnership="west-kent")
    index = page_text(client.get("/p/west-kent/aims/"))
    assert "Our Aims and Commitments for 2012-16" in index and "Shown to members" in index
    page = page_text(client.get(f"/p/west-kent/aims/{period_id}"))
    for aim, measures in parse_seed()["aims"]:
        assert aim in page
        for measure in measures:
            assert measure in page
    assert "How will we measure our results?" in page
    assert "Rights and Responsibilities" in page and "Change" in page


def test_pages_of_another_partnership_are_not_found(app, login_as, client):
    period_id = framework_ids(app)["period"]
    login_as("lead", partnership="kent-network")
    assert client.get(f"/p/kent-network/aims/{period_id}").status_code == 404
    assert client.get(f"/p/west-kent/aims/{period_id}").status_code == 404
    aim = aim_ids(client.application)[0]
    assert client.get(f"/p/kent-network/aims/joint-aims/{aim}/edit").status_code == 404


def test_tenant_users_never_reach_the_leads_pages(app, login_as, client):
    period_id = framework_ids(app)["period"]
    login_as("officer", "sevenoaks")
    assert client.get("/p/west-kent/aims/").status_code == 404
    assert client.get(f"/p/west-kent/aims/{period_id}/edit").status_code == 404


def test_lead_adds_changes_moves_and_deletes_an_aim_and_its_measures(app, login_as, client):
    with scoped(app):
        from portal.extensions import db

        role_id = west_kent_period(db).roles[1].id
    login_as("lead", partnership="west-kent")
    url = f"/p/west-kent/aims/roles/{role_id}/joint-aims/new"
    token = csrf_token(client, url)
    response = client.post(url, data={"text": "We will test our forms.", "csrf_token": token})
    assert response.status_code == 302
    new_id = aim_ids(app)[5]  # the fourth aim of the second role, after the first role's two
    murl = f"/p/west-kent/aims/joint-aims/{new_id}/measures/new"
    client.post(murl, data={"text": "We will publish the results.", "csrf_token": token})
    client.post(murl, data={"text": "We will act on them.", "csrf_token": token})
    with scoped(app):
        from portal.extensions import db

        aim = db.session.get(JointAim, new_id)
        assert aim.text == "We will test our forms." and aim.position == 4
        assert [m.text for m in aim.measures] == [
            "We will publish the results.",
            "We will act on them.",
        ]
        second_measure = aim.measures[1].id
    client.post(
        f"/p/west-kent/aims/measures/{second_measure}/move",
        data={"direction": "up", "csrf_token": token},
    )
    client.post(
        f"/p/west-kent/aims/joint-aims/{new_id}/move", data={"direction": "up", "csrf_token": token}
    )
    with scoped(app):
        from portal.extensions import db

        aim = db.session.get(JointAim, new_id)
        assert [m.text for m in aim.measures][0] == "We will act on them."
        assert aim.position == 3
        assert [a.position for a in aim.role.aims] == [1, 2, 3, 4]
    page = page_text(client.get(f"/p/west-kent/aims/joint-aims/{new_id}/delete"))
    assert "Are you sure you want to delete this joint aim?" in page
    client.post(f"/p/west-kent/aims/joint-aims/{new_id}/delete", data={"csrf_token": token})
    with scoped(app):
        from portal.extensions import db

        assert db.session.get(JointAim, new_id) is None
        role = db.session.get(PartnershipRole, role_id)
        assert [a.position for a in role.aims] == [1, 2, 3]
        # West Kent's own, in both its plan periods: the new aim's measures went with it.
        assert db.session.scalar(select(func.count(AimMeasure.id))) == 2 * 10
    for action in ("joint_aim.created", "aim_measure.moved", "joint_aim.deleted"):
        assert audit_events(app, action=action), action


def test_lead_edits_roles_items_and_statements(app, login_as, client):
    with scoped(app):
        from portal.extensions import db

        period = west_kent_period(db)
        role, item = period.roles[0], period.roles[0].items[0]
        statement = period.statements_in(DELIVERING)[0]
        ids = (period.id, role.id, item.id, statement.id, role.version, item.version)
    period_id, role_id, item_id, statement_id, role_version, item_version = ids
    login_as("lead", partnership="west-kent")
    token = csrf_token(client, f"/p/west-kent/aims/roles/{role_id}/edit")
    client.post(
        f"/p/west-kent/aims/roles/{role_id}/edit",
        data={
            "name": "As a Community Leader we will:",
            "lead_in": "Work together by:",
            "version": role_version,
            "csrf_token": token,
        },
    )
    client.post(
        f"/p/west-kent/aims/list-items/{item_id}/edit",
        data={"text": "Taking decisions openly;", "version": item_version, "csrf_token": token},
    )
    client.post(
        f"/p/west-kent/aims/{period_id}/statements/new?section=rights",
        data={"text": "Everyone may ask how we are doing.", "csrf_token": token},
    )
    client.post(f"/p/west-kent/aims/statements/{statement_id}/delete", data={"csrf_token": token})
    with scoped(app):
        from portal.extensions import db

        period = db.session.get(PlanPeriod, period_id)
        assert period.roles[0].lead_in == "Work together by:"
        assert period.roles[0].items[0].text == "Taking decisions openly;"
        assert period.statements_in(RIGHTS)[-1].text == "Everyone may ask how we are doing."
        assert [s.position for s in period.statements_in(RIGHTS)] == [1, 2, 3, 4, 5]
        assert len(period.statements_in(DELIVERING)) == 2
        assert [s.position for s in period.statements_in(DELIVERING)] == [1, 2]


def test_empty_or_bad_input_is_explained_and_nothing_saved(app, login_as, client):
    ids = framework_ids(app)
    role_id, aim_id, aim_version = ids["role"], ids["first_aim"], ids["first_aim_version"]
    login_as("lead", partnership="west-kent")
    token = csrf_token(client, "/p/west-kent/aims/new")
    page = page_text(
        client.post(
            f"/p/west-kent/aims/roles/{role_id}/joint-aims/new",
            data={"text": "   ", "csrf_token": token},
        )
    )
    assert "There is a problem" in page and "Enter the joint aim" in page
    page = page_text(
        client.post(
            f"/p/west-kent/aims/joint-aims/{aim_id}/edit",
            data={"text": "x" * 2001, "version": aim_version, "csrf_token": token},
        )
    )
    assert "Joint aim must be 2,000 characters or fewer" in page
    page = page_text(
        client.post(
            "/p/west-kent/aims/new",
            data={"title": "", "start_year": "20x6", "end_year": "2020", "csrf_token": token},
        )
    )
    assert "Enter the title" in page
    assert "Enter the start year as 4 digits, for example 2012" in page
    page = page_text(
        client.post(
            "/p/west-kent/aims/new",
            data={"title": "Later", "start_year": "2020", "end_year": "2019", "csrf_token": token},
        )
    )
    assert "End year must be after the start year" in page
    page = page_text(
        client.post(
            "/p/west-kent/aims/new",
            data={"title": "Again", "start_year": "2012", "end_year": "2016", "csrf_token": token},
        )
    )
    assert "There is already a plan period for 2012 to 2016" in page
    with scoped(app):
        from portal.extensions import db

        assert db.session.scalar(select(func.count(PlanPeriod.id))) == 2  # West Kent's
        assert len(db.session.get(PartnershipRole, role_id).aims) == 2
        assert db.session.get(JointAim, aim_id).text.startswith("We will make sure our events")


def test_second_save_of_the_same_aim_is_refused_and_both_versions_shown(app, login_as, client):
    ids = framework_ids(app)
    aim_id, version = ids["aim"], ids["aim_version"]
    url = f"/p/west-kent/aims/joint-aims/{aim_id}/edit"
    login_as("lead", partnership="west-kent")
    page = client.get(url).get_data(as_text=True)
    assert f'value="{version}"' in page
    token = csrf_token(client, url)
    first = client.post(
        url, data={"text": "First lead's words.", "version": version, "csrf_token": token}
    )
    assert first.status_code == 302
    response = client.post(
        url, data={"text": "Second lead's words.", "version": version, "csrf_token": token}
    )
    page = page_text(response)
    assert response.status_code == 200
    assert "Somebody else changed this" in page
    assert "First lead's words." in page and "Second lead's words." in page
    with scoped(app):
        from portal.extensions import db

        assert db.session.get(JointAim, aim_id).text == "First lead's words."


def test_period_edit_conflict_is_refused(db):
    period = west_kent_period(db)
    version = period.version
    services.update_period(
        period,
        version=version,
        title="Changed",
        start_year=2012,
        end_year=2016,
        introduction=period.introduction,
        alternative_formats=period.alternative_formats,
    )
    with pytest.raises(services.EditConflict) as caught:
        services.update_period(
            period,
            version=version,
            title="Stale",
            start_year=2012,
            end_year=2016,
            introduction="",
            alternative_formats="",
        )
    assert caught.value.current.title == "Changed"
    assert caught.value.submitted["title"] == "Stale"


# --- copying a plan period ---------------------------------------------------------------


def test_copy_a_period_into_the_next_as_a_draft(app, login_as, client):
    with scoped(app):
        from portal.extensions import db

        period_id = west_kent_period(db).id
    login_as("lead", partnership="west-kent")
    form = page_text(client.get(f"/p/west-kent/aims/{period_id}/copy"))
    assert 'value="Our Aims and Commitments for 2016-20"' in form
    assert 'value="2016"' in form and 'value="2020"' in form
    token = csrf_token(client, f"/p/west-kent/aims/{period_id}/copy")
    response = client.post(
        f"/p/west-kent/aims/{period_id}/copy",
        data={
            "title": "Our Aims and Commitments for 2016-20",
            "start_year": "2016",
            "end_year": "2020",
            "csrf_token": token,
        },
    )
    assert response.status_code == 302
    copy_id = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    with scoped(app):
        from portal.extensions import db

        original, copy = db.session.get(PlanPeriod, period_id), db.session.get(PlanPeriod, copy_id)
        assert copy.is_draft and copy.label == "2016–20"
        assert [r.name for r in copy.roles] == [r.name for r in original.roles]
        assert [[i.text for i in r.items] for r in copy.roles] == [
            [i.text for i in r.items] for r in original.roles
        ]
        structure = lambda p: [  # noqa: E731
            (a.text, [m.text for m in a.measures]) for r in p.roles for a in r.aims
        ]
        assert structure(copy) == structure(original)
        assert {a.id for r in copy.roles for a in r.aims}.isdisjoint(
            {a.id for r in original.roles for a in r.aims}
        )
        assert [s.text for s in copy.statements] == [s.text for s in original.statements]
    assert audit_events(app, action="plan_period.copied")
    # The same years again are refused, in words.
    page = page_text(
        client.post(
            f"/p/west-kent/aims/{period_id}/copy",
            data={"title": "x", "start_year": "2016", "end_year": "2020", "csrf_token": token},
        )
    )
    assert "There is already a plan period for 2016 to 2020" in page


def test_members_see_a_copied_period_only_once_it_is_shown(app, login_as, client, auth):
    with scoped(app):
        from portal.extensions import db

        copy = services.copy_period(
            west_kent_period(db),
            title="Our Aims and Commitments for 2016-20",
            start_year=2016,
            end_year=2020,
        )
        copy_id, copied_aim = copy.id, copy.roles[0].aims[0].id
    login_as("viewer", "sevenoaks")
    assert "2016-20" not in page_text(client.get("/t/sevenoaks/aims/"))
    assert client.get(f"/t/sevenoaks/aims/{copied_aim}").status_code == 404
    auth.logout()
    login_as("lead", partnership="west-kent")
    token = csrf_token(client, f"/p/west-kent/aims/{copy_id}")
    client.post(f"/p/west-kent/aims/{copy_id}/publish", data={"csrf_token": token})
    auth.logout()
    login_as("viewer", "sevenoaks")
    assert "Our Aims and Commitments for 2016-20" in page_text(client.get("/t/sevenoaks/aims/"))
    assert client.get(f"/t/sevenoaks/aims/{copied_aim}").status_code == 200
    assert audit_events(app, action="plan_period.published")


# --- members read it --------------------------------------------------------------------


def test_member_reads_the_framework_without_controls(login_as, client):
    login_as("viewer", "sevenoaks")
    page = page_text(client.get("/t/sevenoaks/aims/"))
    assert "West Kent Equality Partnership" in page
    for aim, measures in parse_seed()["aims"]:
        assert aim in page and all(m in page for m in measures)
    assert "Delivering our commitments" in page
    assert "Change" not in page and "Add a joint aim" not in page
    assert "Kent Equality Network" not in page


def test_member_of_two_partnerships_sees_both(login_as, client):
    login_as("officer", "tonbridge-malling")
    page = page_text(client.get("/t/tonbridge-malling/aims/"))
    assert "West Kent Equality Partnership" in page and "Kent Equality Network" in page
    assert "Demonstration data" in page


def test_organisation_in_no_partnership_is_told_so(login_as, client):
    login_as("officer", "gentoo")
    page = page_text(client.get("/t/gentoo/aims/"))
    assert "is not in a partnership on this portal, so it has no joint aims" in page


def test_an_aim_of_another_partnership_is_not_found_for_a_tenant(app, login_as, client):
    west_kent_aim = aim_ids(app)[0]
    login_as("viewer", "thanet")
    assert client.get(f"/t/thanet/aims/{west_kent_aim}").status_code == 404
    assert client.get(f"/t/thanet/aims/{aim_ids(app, 'kent-network')[0]}").status_code == 200


# --- commitments serve joint aims --------------------------------------------------------


def first_commitment(app, slug="west-kent-housing") -> tuple[int, int]:
    with scoped(app):
        from portal.extensions import db

        with tenant_scope(tenant(slug)):
            row = db.session.scalar(select(Commitment).order_by(Commitment.position))
            return row.number, row.version


def links(app, slug="west-kent-housing") -> list[tuple[int, int]]:
    with scoped(app):
        from portal.extensions import db

        with tenant_scope(tenant(slug)):
            return list(
                db.session.execute(
                    select(Commitment.number, CommitmentJointAim.joint_aim_id).join(
                        Commitment, Commitment.id == CommitmentJointAim.commitment_id
                    )
                ).tuples()
            )


def test_officer_links_a_commitment_to_joint_aims(app, login_as, client):
    commitment_number, version = first_commitment(app)
    west_kent = aim_ids(app)
    url = f"/t/west-kent-housing/plan/commitments/{commitment_number}"
    login_as("officer", "west-kent-housing")
    form = page_text(client.get(url))
    assert "Joint aims this commitment serves (optional)" in form
    assert "We will improve the way we give information." in form
    assert "We will make our information easy to find and understand." not in form
    token = csrf_token(client, url)
    response = client.post(
        url,
        data={
            "text": "Take into account our customers diverse needs, views, preferences and "
            "aspirations when designing and delivering services, including information.",
            "joint_aims": [str(west_kent[2]), str(west_kent[3])],
            "version": version,
            "csrf_token": token,
        },
    )
    assert response.status_code == 302
    assert sorted(links(app)) == [
        (commitment_number, west_kent[2]),
        (commitment_number, west_kent[3]),
    ]
    listing = page_text(client.get("/t/west-kent-housing/plan/commitments"))
    assert "Serves joint aims:" in listing
    assert "We will identify and deal with physical barriers to our services." in listing
    aim_page = page_text(client.get(f"/t/west-kent-housing/aims/{west_kent[2]}"))
    assert "Take into account our customers diverse needs" in aim_page
    events = audit_events(app, action="commitment.updated")
    assert events and "joint_aims" in events[-1].detail["fields"]
    # Unticking everything removes the links.
    _, saved_version = first_commitment(app)
    assert saved_version == version + 1  # an edit others must see, counted once
    response = client.post(
        url, data={"text": "Changed.", "version": saved_version, "csrf_token": token}
    )
    assert response.status_code == 302, page_text(response)
    assert links(app) == []


def test_an_aim_of_another_partnership_is_refused_and_nothing_saved(app, login_as, client):
    commitment_number, version = first_commitment(app)
    other = aim_ids(app, "kent-network")[0]
    url = f"/t/west-kent-housing/plan/commitments/{commitment_number}"
    login_as("officer", "west-kent-housing")
    token = csrf_token(client, url)
    response = client.post(
        url,
        data={
            "text": "New words.",
            "joint_aims": [str(other)],
            "version": version,
            "csrf_token": token,
        },
    )
    assert response.status_code == 200
    assert "Choose only joint aims of your own partnerships" in page_text(response)
    assert links(app) == []
    assert first_commitment(app) == (commitment_number, version)
    new = "/t/west-kent-housing/plan/commitments/new"
    response = client.post(
        new, data={"text": "Another.", "joint_aims": ["999999"], "csrf_token": token}
    )
    assert "Choose only joint aims of your own partnerships" in page_text(response)
    with scoped(app):
        from portal.extensions import db

        with tenant_scope(tenant("west-kent-housing")):
            assert db.session.scalar(select(func.count(Commitment.id))) == 11


def test_new_commitment_linked_to_an_aim(app, login_as, client):
    aim = aim_ids(app)[0]
    login_as("officer", "west-kent-housing")
    new = "/t/west-kent-housing/plan/commitments/new"
    token = csrf_token(client, new)
    response = client.post(
        new, data={"text": "Open our events to all.", "joint_aims": [str(aim)], "csrf_token": token}
    )
    assert response.status_code == 302
    assert [a for _, a in links(app)] == [aim]


def test_link_rules_in_the_service(app, ctx):
    from portal.extensions import db

    west_kent, kent_network = aim_ids(app), aim_ids(app, "kent-network")
    with as_partnership("west-kent"):
        period = west_kent_period(db)
        draft = services.copy_period(period, title="Next", start_year=2016, end_year=2020)
        draft_aim = draft.roles[0].aims[0].id
    with tenant_scope(tenant("tonbridge-malling")):
        assert services.check_linkable([west_kent[0], kent_network[0]]) == {
            west_kent[0],
            kent_network[0],
        }
        with pytest.raises(services.LinkError):
            services.check_linkable([draft_aim])
    with tenant_scope(tenant("gentoo")):
        with pytest.raises(services.LinkError):
            services.check_linkable([west_kent[0]])
        assert services.published_frameworks() == []


def test_deleting_an_aim_removes_the_links_to_it(app, db):
    aim_id = aim_ids(app)[0]
    with tenant_scope(tenant("west-kent-housing")):
        commitment = db.session.scalar(select(Commitment).order_by(Commitment.position))
        services.set_commitment_aims(commitment, [aim_id])
        db.session.commit()
    services.delete_part(db.session.get(JointAim, aim_id))
    assert links(app) == []
    with tenant_scope(tenant("west-kent-housing")):
        assert db.session.scalar(select(func.count(Commitment.id))) == 11


def test_after_a_change_the_lead_lands_back_at_the_same_place(app, login_as, client):
    with scoped(app):
        from portal.extensions import db

        west_kent = db.session.scalar(select(Partnership).where(Partnership.slug == "west-kent"))
        measure = db.session.scalars(
            select(AimMeasure).where(AimMeasure.partnership_id == west_kent.id)
        ).first()
        measure_id, aim_id = measure.id, measure.aim_id
    login_as("lead", partnership="west-kent")
    from tests.helpers import csrf_token

    token = csrf_token(client, "/account")
    response = client.post(
        f"/p/west-kent/aims/measures/{measure_id}/move",
        data={"direction": "down", "csrf_token": token},
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"#aim-{aim_id}")
