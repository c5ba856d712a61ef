"""The demonstration plans hold the seed documents' objectives and actions word for word."""

from __future__ import annotations

import html
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal.actions import demo, services
from portal.actions.models import Action, FocusArea, FocusPoint, Objective
from portal.extensions import db as database
from portal.tenancy import tenant_scope
from tests.helpers import tenant

SEEDS = Path(__file__).resolve().parent.parent.parent / "shared" / "seeds"
if not SEEDS.is_dir():  # the seeds sit beside the project, at ../shared/seeds
    SEEDS = Path("/work/shared/seeds")
THANET_SEED = SEEDS / "thanet-equality-objectives-action-plan.txt"
MAIDSTONE_SEED = SEEDS / "maidstone-equalities-policy-and-objectives-2017-21.txt"


def _plan(db, slug):
    with tenant_scope(tenant(slug)):
        objectives = db.session.scalars(services.objectives()).all()
        actions = db.session.scalars(services.actions()).all()
        areas = db.session.scalars(services.focus_areas()).all()
        points = db.session.scalars(select(FocusPoint).order_by(FocusPoint.id)).all()
        return objectives, actions, areas, points


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_maidstone_holds_every_objective_and_action(db):
    objectives, actions, areas, _ = _plan(db, "maidstone")
    assert [a.label for a in areas] == [
        "Role 1: As a Community Leader",
        "Role 2: As a Service Provider",
        "Role 3: As an employer",
    ]
    assert areas[0].description == "We will engage with residents in an open and meaningful way."
    assert len(objectives) == 11
    assert len(actions) == 19  # one per bullet of the "Actions" column
    assert objectives[0].title == (
        "Increase understanding of Maidstone's residents through analysis of demographic "
        "information."
    )
    assert objectives[-1].title == (
        "To develop and support member engagement with hard to reach groups in the community."
    )
    first, last = actions[0], actions[-1]
    assert first.lead_officer == "Policy and Information team – Data Intelligence Officer"
    assert first.measures == (
        "Report to be produced for every ward member following annual Resident's Survey"
    )
    assert first.target_text == "November 2017" and first.target_date.isoformat() == "2017-11-30"
    assert last.task == (
        "Signpost members to appropriate bodies, forums and groups within the community"
    )
    assert last.lead_officer == "Democratic Services & Policy and Information"
    assert last.target_text == "May 2018"
    contracts = next(a for a in actions if a.task == "Review existing contracts")
    assert contracts.lead_officer == "Procurement"
    assert contracts.target_text == "Review by March 2018" and contracts.target_date is None
    assert not any(a.is_demo for a in actions)


def _pieces_in(text: str, seed: str) -> int:
    """How many pieces ``text`` falls into, each found in ``seed`` (a page break in the
    source splits a cell; the plan joins it again)."""
    words, pieces = _flat(text).split(), 0
    while words:
        size = len(words)
        while size and " ".join(words[:size]) not in seed:
            size -= 1
        assert size, f"{' '.join(words)!r} is not in the seed"
        words, pieces = words[size:], pieces + 1
    return pieces


def test_every_maidstone_text_is_in_the_seed(db):
    seed = _flat(MAIDSTONE_SEED.read_text(encoding="utf-8"))
    objectives, actions, areas, _ = _plan(db, "maidstone")
    for objective in objectives:
        assert _pieces_in(objective.title, seed) <= 2, objective.title
    for action in actions:
        for text in (action.task, action.lead_officer, *action.measures.split("\n")):
            assert _pieces_in(text, seed) <= 2, text
        assert _pieces_in(action.target_text, seed) <= 2, action.target_text


def test_thanet_holds_its_performance_areas_focus_points_and_action_plan(db):
    objectives, actions, areas, points = _plan(db, "thanet")
    with tenant_scope(tenant("thanet")):
        per_area = [len(a.points) for a in areas]
    assert [a.label for a in areas] == [
        "1. Knowing Our Community and Understanding its Needs",
        "2. Leadership, Partnership and Organisational Commitment",
        "3. Community Engagement and Satisfaction",
        "4. Responsive Services and Customer Care",
        "5. A Skilled and Committed Workforce",
    ]
    numbers = [p.number for p in points]
    assert len(points) == 29 and numbers[0] == "1.1" and numbers[-1] == "5.10"
    assert per_area == [3, 9, 2, 5, 10]
    assert points[0].title == "Collecting information"
    assert points[-1].description.startswith("Developing our approach to assessing the training")
    assert len(actions) == 15
    assert actions[0].task == (
        "Develop equality/service user impact analysis approach to enhance other service "
        "planning & design processes"
    )
    assert actions[-1].task == "Updating of State of the District Report/demographic data"
    assert actions[-1].lead_officer == "Steve Tebbett"
    consultation = actions[2]
    assert consultation.target_text == "2 – 30 April 2013"
    assert consultation.status == "on-target"
    assert consultation.arising_from == "Service Plan activity"
    assert consultation.directorate == "Corporate Services & Transformation"
    assert consultation.section == "Business Services"
    assert consultation.corporate_priority == "All"
    assert consultation.eflg_criteria == "To be mapped"
    assert consultation.psed_aims == ["eliminate", "advance", "foster"]
    assert consultation.characteristics == ["all"]
    statutory = actions[10]
    assert statutory.target_text == "31 st January (annually)"
    assert statutory.corporate_priority == "n/a" and statutory.psed_aims == []
    assert actions[12].lead_officer == "Cllrs Fenner & Worrow"
    assert actions[12].directorate == "N/A"
    assert actions[3].status is None and actions[3].target_text == "2013/14"


def test_thanet_seed_tables_are_copied_line_for_line():
    seed_lines = set(THANET_SEED.read_text(encoding="utf-8").splitlines())
    plan = (demo.SEED_DATA / "thanet-action-plan.tsv").read_text(encoding="utf-8").splitlines()
    assert len(plan) == 16  # heading and 15 rows
    assert all(line in seed_lines for line in plan)
    seed_text = THANET_SEED.read_text(encoding="utf-8")
    for number, title, description in demo.thanet_points():
        assert f"- {number} {title}** " in seed_text
        assert description in seed_text


def test_west_kent_councils_have_a_handful_of_demonstration_actions(db):
    for slug in ("sevenoaks", "tonbridge-malling", "tunbridge-wells"):
        objectives, actions, areas, _ = _plan(db, slug)
        assert 3 <= len(actions) <= 5, slug
        assert all(a.is_demo for a in actions) and all(o.is_demo for o in objectives)
        assert all(a.role for a in areas)


def test_loading_twice_changes_nothing(db):
    def counts():
        result = {}
        for slug in demo.LOADERS:
            with tenant_scope(tenant(slug)):
                result[slug] = tuple(
                    db.session.scalar(select(func.count(model.id)))
                    for model in (FocusArea, FocusPoint, Objective, Action)
                )
        return result

    before = counts()
    lines = list(demo.load_demo())
    assert all("already has objectives" in line for line in lines)
    assert counts() == before


# --- "My actions" for the demonstration people ------------------------------------------


@pytest.mark.parametrize(
    ("slug", "person", "task", "lead_officer"),
    [
        (
            "maidstone",
            "officer",
            "To complete an annual equality data audit with Service Managers.",
            "Policy and Information team - Equalities and Corporate Policy Officer & Data "
            "Intelligence Officer Unit Managers",
        ),
        ("thanet", "officer", None, "Claire Grant"),
        (
            "sevenoaks",
            "officer",
            "Carry out access checks at every council-run community event",
            "Communities Manager",
        ),
        ("tonbridge-malling", "officer", None, "Policy Officer"),
        ("tunbridge-wells", "officer", None, "Customer Services Manager"),
        (
            "tunbridge-wells",
            "caseworker",
            "Agree a shared hate incident reporting form with the West Kent partners",
            "Community Safety Manager",
        ),
    ],
)
def test_demonstration_people_find_their_actions_under_my_actions(
    app, client, login_as, slug, person, task, lead_officer
):
    from portal.actions.models import Action
    from tests.helpers import user

    with app.app_context(), tenant_scope(tenant(slug)):
        mine = database.session.scalars(
            select(Action).where(Action.lead_user_id == user(f"{person}@{slug}.demo").id)
        ).all()
        assert mine
        # The plan's own words for the lead officer stay as written.
        assert any(a.lead_officer == lead_officer for a in mine)
        tasks = [a.task for a in mine]
    login_as(person, slug)
    page = client.get(f"/t/{slug}/plan/my-actions").get_data(as_text=True)
    for shown in [task] if task else tasks[:1]:
        assert html.escape(shown, quote=True).replace("&#x27;", "&#39;") in page
        if task:
            assert task in tasks


def test_an_action_nobody_in_the_demonstration_stands_for_has_no_lead_person(ctx):
    from portal.actions.models import Action

    with tenant_scope(tenant("thanet")):
        tbc = database.session.scalar(select(Action).where(Action.lead_officer == "TBC"))
        assert tbc.lead_user_id is None
