"""The cross-tenant matrix: another tenant's object is a 404 on every route and method.

The matrix is built from ``app.url_map``. Every route whose URL names an object must be
either in the matrix (its arguments have a maker below) or in the commented allow-list;
a new route in neither fails :func:`test_every_object_route_is_covered`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from portal import clock
from portal.auth.models import TENANT_ROLES, TenantGrant, User
from portal.extensions import db
from portal.tenancy import partnership_scope, tenant_scope
from tests.conftest import PASSWORD
from tests.helpers import csrf_token, tenant

SCOPE_ARGS = {"tenant_slug", "partnership_slug", "org_slug"}
SKIPPED_METHODS = {"HEAD", "OPTIONS"}

# Whose object is tried, and by whom, for each kind of route: an organisation's pages
# (/t/<tenant_slug>/), a partnership's (/p/<partnership_slug>/) and public pages
# (/public/<org_slug>/, no sign-in). Thanet and Kent Equality Network share nothing with
# Sevenoaks and West Kent.
VICTIM = {"tenant": "sevenoaks", "partnership": "west-kent", "public": "sevenoaks"}
ACTOR = {"tenant": "thanet", "partnership": "kent-network", "public": "thanet"}

# Routes whose arguments are not objects of a tenant, and why they stay out of the matrix.
ALLOW_LIST = {
    "static": "the portal's own stylesheet and scripts; no tenant data",
    "home.dashboard_csv": "a chart's name, not an object; built from the tenant in the address",
    "charts.plotly_js": "the pinned plotly.js bundle, by its version; no tenant data",
    "dashboards.chart_csv": "a chart of the lead's own partnership's dashboard, by its name; "
    "the partnership is checked as for the page (tests/test_dashboards.py)",
    "public_partnership.public_chart_csv": "a chart of a partnership's public page, by its "
    "name; released figures only (tests/test_dashboards.py)",
    "auth.reset_password": "a secret single-use token, not an object id (tests/test_auth.py)",
    "auth.accept_invitation": "a secret single-use token, not an object id (tests/test_auth.py)",
    "auth.unlock_account": "a secret single-use token, not an object id (tests/test_lockout.py)",
    "jobs.show": "a tenant-less job, shown only to whoever asked for it (tests/test_jobs.py)",
    "jobs.progress": "a tenant-less job, shown only to whoever asked for it (tests/test_jobs.py)",
    # A published joint report is public by definition (tests/test_reports.py).
    "public_reports.latest": "a published report, public to everybody",
    "public_reports.version": "a published report's version, public to everybody",
    "public_reports.download": "a published report's file, public to everybody",
    "public_joint_eqia.register": "public: a partnership's published joint assessments only "
    "(tests/test_joint_assessments.py)",
    "public_joint_eqia.assessment": "public: a published joint assessment of that partnership "
    "only, as kept when published (tests/test_joint_assessments.py)",
}


@dataclass
class ObjectMaker:
    """Makes (or finds) an object and reports its state, to see it unchanged afterwards.

    ``make(owner)`` gets the slug of the owner for the kind of route: the tenant for
    /t/ routes and /public/ routes (where it must make a *published* object), the
    partnership for /p/ routes. It returns what the route's address carries: the running
    number within the tenant for a tenant's records (``…_number``), else the id.
    """

    make: Callable[[str], int]
    state: Callable[[str, int], object]


def by_number(model, number: int, *, fresh: bool = False):
    """The record of ``model`` with this running number in the tenant in scope, read
    afresh from the database when ``fresh``."""
    query = select(model).where(model.number == number)
    if fresh:
        query = query.execution_options(populate_existing=True)
    return db.session.scalar(query)


def _person(slug: str) -> int:
    return db.session.scalar(select(User.id).where(User.email == f"viewer@{slug}.demo"))


def _person_state(slug: str, user_id: int):
    user = db.session.get(User, user_id)
    return user.disabled_at, sorted(
        (g.tenant_id, g.role, g.suspended_at is not None) for g in user.tenant_grants
    )


def _commitment(slug: str) -> int:
    from portal.commitments.models import Commitment

    with tenant_scope(tenant(slug)):
        now = clock.utcnow()
        row = Commitment(position=1, text=f"{slug} will", created_at=now, updated_at=now)
        db.session.add(row)
        db.session.commit()
        return row.number


def _commitment_state(slug: str, object_id: int):
    from portal.commitments.models import Commitment

    with tenant_scope(tenant(slug)):
        row = by_number(Commitment, object_id)
        return row and (row.text, row.position, row.version)


def owner_partnership(slug: str):
    """The partnership ``slug`` or, for a tenant slug, the tenant's first partnership
    (sevenoaks: west-kent; thanet: kent-network)."""
    from portal.partners.models import Partnership

    partnership = db.session.scalar(select(Partnership).where(Partnership.slug == slug))
    return partnership if partnership is not None else tenant(slug).partnerships[0]


def as_owner(slug: str):
    """The partnership scope of the owner of a partnership-owned object made for ``slug``."""
    return partnership_scope(owner_partnership(slug))


def _aims_framework(slug: str):
    """A published plan period with one of everything, in the partnership ``slug`` or, for
    a tenant slug, in a partnership of that tenant (sevenoaks: west-kent; thanet:
    kent-network). The caller holds that partnership's scope."""
    from portal.aims.models import (
        AimMeasure,
        JointAim,
        PartnershipRole,
        PeriodStatement,
        PlanPeriod,
        RoleListItem,
    )

    pid, now = owner_partnership(slug).id, clock.utcnow()
    start = 2030 + (db.session.scalar(select(db.func.count(PlanPeriod.id))) or 0)
    period = PlanPeriod(
        partnership_id=pid,
        title=f"{slug} aims",
        start_year=start,
        end_year=start + 4,
        created_at=now,
        updated_at=now,
    )
    role = PartnershipRole(partnership_id=pid, position=1, name=f"As {slug} we will:")
    role.items = [RoleListItem(partnership_id=pid, position=1, text=f"{slug} item")]
    aim = JointAim(partnership_id=pid, position=1, text=f"{slug} aim")
    aim.measures = [AimMeasure(partnership_id=pid, position=1, text=f"{slug} measure")]
    role.aims = [aim]
    period.roles = [role]
    period.statements = [
        PeriodStatement(partnership_id=pid, section="rights", position=1, text=f"{slug} says")
    ]
    db.session.add(period)
    db.session.commit()
    return period


def _aims_maker(pick):
    def make(slug: str) -> int:
        with as_owner(slug):
            return pick(_aims_framework(slug)).id

    return make


def _aims_state(model_name: str):
    def state(slug: str, object_id: int):
        from portal.aims import models

        with as_owner(slug):
            row = db.session.get(getattr(models, model_name), object_id, populate_existing=True)
            if row is None:
                return None
            return tuple(
                getattr(row, f, None)
                for f in ("version", "position", "text", "name", "title", "is_draft")
            )

    return state


def _assessment(slug: str) -> int:
    """A *published* impact assessment, so that the public pages find our own."""
    from portal.eqia.models import CHARACTERISTICS, CharacteristicImpact, ImpactAssessment

    with tenant_scope(tenant(slug)):
        now = clock.utcnow()
        row = ImpactAssessment(
            title=f"{slug} assessment",
            subject="A service",
            kind="screening",
            lead_officer="An officer",
            assessed_on=now.date(),
            is_published=True,
            published_on=now.date(),
            created_at=now,
            updated_at=now,
        )
        row.impacts = [
            CharacteristicImpact(characteristic=k, impact="neutral") for k in CHARACTERISTICS
        ]
        db.session.add(row)
        db.session.commit()
        return row.number


def _assessment_state(slug: str, object_id: int):
    from portal.eqia.models import ImpactAssessment

    with tenant_scope(tenant(slug)):
        row = by_number(ImpactAssessment, object_id, fresh=True)
        return row and (
            row.title,
            row.version,
            sorted((i.characteristic, i.impact) for i in row.impacts),
        )


def _joint_assessment(slug: str) -> int:
    """A joint assessment of the partnership ``slug``, or of a tenant's partnership."""
    from portal.eqia.models import JointAssessment

    with as_owner(slug):
        row = JointAssessment(
            title=f"{slug} joint assessment",
            subject="A shared service",
            lead_officer="A lead",
            created_at=clock.utcnow(),
        )
        db.session.add(row)
        db.session.commit()
        return row.id


def _joint_assessment_state(slug: str, object_id: int):
    from portal.eqia.models import JointAssessment

    with as_owner(slug):
        row = db.session.get(JointAssessment, object_id, populate_existing=True)
        return row and (row.title, row.subject, row.brief)


def _ward(slug: str) -> int:
    from portal.incidents.models import Ward

    with tenant_scope(tenant(slug)):
        # Several objects may be made for one tenant; ward names are unique within it.
        row = Ward(name=f"{slug} ward {uuid.uuid4().hex[:8]}", created_at=clock.utcnow())
        db.session.add(row)
        db.session.commit()
        return row.number


def _ward_state(slug: str, object_id: int):
    from portal.incidents.models import Ward

    with tenant_scope(tenant(slug)):
        row = by_number(Ward, object_id, fresh=True)
        return row and (row.name, row.retired_at)


def _incident(slug: str) -> int:
    from portal.incidents.models import HateIncident, Ward

    ward_number = _ward(slug)
    with tenant_scope(tenant(slug)):
        ward_id = by_number(Ward, ward_number).id
        now = clock.utcnow()
        row = HateIncident(
            occurred_on=now.date(),
            motivations=["race"],
            incident_type="verbal",
            ward_id=ward_id,
            description=f"{slug} case",
            created_at=now,
            updated_at=now,
        )
        db.session.add(row)
        db.session.commit()
        return row.number


def _incident_state(slug: str, object_id: int):
    from portal.incidents.models import HateIncident

    with tenant_scope(tenant(slug)):
        row = by_number(HateIncident, object_id, fresh=True)
        return row and (row.description, row.status, row.version, row.anonymised_at)


def _objective(slug: str) -> int:
    from portal.actions.models import Objective

    with tenant_scope(tenant(slug)):
        now = clock.utcnow()
        row = Objective(position=99, title=f"{slug} objective", created_at=now, updated_at=now)
        db.session.add(row)
        db.session.commit()
        return row.number


def _objective_state(slug: str, object_id: int):
    from portal.actions.models import Objective

    with tenant_scope(tenant(slug)):
        row = by_number(Objective, object_id, fresh=True)
        return row and (row.title, row.focus_area_id, row.version)


def _action(slug: str) -> int:
    from portal.actions.models import Action, Objective

    objective_number = _objective(slug)
    with tenant_scope(tenant(slug)):
        objective_id = by_number(Objective, objective_number).id
        now = clock.utcnow()
        row = Action(
            objective_id=objective_id,
            position=1,
            task=f"{slug} task",
            created_at=now,
            updated_at=now,
        )
        db.session.add(row)
        db.session.commit()
        return row.number


def _action_state(slug: str, object_id: int):
    from portal.actions.models import Action

    with tenant_scope(tenant(slug)):
        row = by_number(Action, object_id, fresh=True)
        return row and (row.task, row.status, row.version, len(row.updates))


def _progress_update(slug: str) -> int:
    """A progress update with an evidence file, so the evidence route finds our own."""
    from portal.actions import services
    from portal.actions.models import Action, ProgressUpdate

    action_number = _action(slug)
    with tenant_scope(tenant(slug)):
        action_id = by_number(Action, action_number).id
        content = f"{slug} evidence".encode()
        update = ProgressUpdate(
            action_id=action_id,
            date=clock.utcnow().date(),
            narrative=f"{slug} progress",
            status="on-target",
            evidence_name="evidence.txt",
            evidence_type="text/plain",
            evidence_size=len(content),
            created_at=clock.utcnow(),
        )
        db.session.add(update)
        db.session.flush()
        services.store_evidence(update, content)
        db.session.commit()
        return update.number


def _progress_update_state(slug: str, object_id: int):
    from portal.actions import services
    from portal.actions.models import ProgressUpdate

    with tenant_scope(tenant(slug)):
        row = by_number(ProgressUpdate, object_id, fresh=True)
        return row and (row.narrative, row.status, services.evidence_content(row))


def _action_upload(slug: str) -> str:
    """A spreadsheet waiting to be imported; its random token is what the routes take."""
    from portal.actions import importing

    officer = _officer(slug)
    with tenant_scope(tenant(slug)):
        content = f"Action\n{slug} task\n".encode()
        return importing.store_upload("plan.csv", content, user_id=officer).token


def _action_upload_state(slug: str, token: str):
    from portal.actions import importing

    officer = _officer(slug)
    with tenant_scope(tenant(slug)):
        upload = importing.find_upload(token, user_id=officer)
        return upload and (upload.rows, upload.mapping, upload.default_objective)


def _officer(slug: str) -> int:
    """Who uploads: an upload belongs to its uploader, so in the actor's tenant it is the
    signed-in actor (the control must find it), elsewhere the tenant's officer."""
    for email in (f"matrix@{slug}.demo", f"officer@{slug}.demo"):
        user_id = db.session.scalar(select(User.id).where(User.email == email))
        if user_id is not None:
            return user_id
    raise LookupError(slug)


def _measure(slug: str) -> int:
    """A count measure taken up from a definition, with 2019 released: its released
    figures and their correction have pages of their own."""
    from portal.monitoring import figures, measures, releases
    from portal.monitoring.models import MeasureDefinition

    definition = MeasureDefinition(
        name=f"{slug} measure", unit="count", period_type="year", breakdown="sex"
    )
    db.session.add(definition)
    db.session.commit()
    with tenant_scope(tenant(slug)):
        row = measures.add_measure(definition=definition, first_year=2019, last_year=2020)
        figures.save_values(row, [figures.Cell("2019", "", "20", "total")], via="matrix")
        row_number = row.number
    releases.release_member_figures(tenant(slug), definition, "2019")
    return row_number


def _measure_state(slug: str, object_id: int):
    from portal.monitoring import measures, releases
    from portal.monitoring.models import Measure

    with tenant_scope(tenant(slug)):
        row = by_number(Measure, object_id)
        history = row and row.definition and releases.releases_for(tenant(slug), row.definition)
        return row and (
            row.name,
            row.first_year,
            measures.stored_values(row),
            [(r.period, r.version, r.tables) for r in history or []],
        )


def _joint_measure(partnership_slug: str) -> int:
    """A joint measure of a partnership (built-in ones belong to no partnership)."""
    from portal.monitoring.models import MeasureDefinition

    with as_owner(partnership_slug):
        row = MeasureDefinition(
            name=f"{partnership_slug} joint count", unit="count", period_type="year", breakdown=""
        )
        db.session.add(row)
        db.session.commit()
        return row.id


def _joint_measure_state(partnership_slug: str, object_id: int):
    from portal.monitoring.models import MeasureDefinition

    with as_owner(partnership_slug):
        row = db.session.get(MeasureDefinition, object_id, populate_existing=True)
        return row and (row.name, row.partnership_id)


def _job(slug: str) -> int:
    from portal.jobs.models import Job

    owner = tenant(slug)
    with tenant_scope(owner):
        row = Job(kind="matrix", title=f"{slug} job", tenant_id=owner.id, created_at=clock.utcnow())
        db.session.add(row)
        db.session.commit()
        return row.id


def _job_state(slug: str, object_id: int):
    from portal.jobs.models import Job

    with tenant_scope(tenant(slug)):
        row = db.session.get(Job, object_id, populate_existing=True)
        return row and (row.title, row.state, row.sentence, row.tenant_id)


def _reporting_partnership(slug: str):
    """The partnership ``slug``, or the first partnership of the tenant ``slug``."""
    from portal.partners.models import Partnership

    found = db.session.scalar(select(Partnership).where(Partnership.slug == slug))
    return found or sorted(tenant(slug).partnerships, key=lambda p: p.id)[0]


def _reporting_year(slug: str) -> str:
    """A reporting year of the partnership (or the tenant's partnership) that no other
    partnership has: its label names nothing elsewhere."""
    from datetime import date

    from portal.returns import services

    partnership = _reporting_partnership(slug)
    start = 2050 + partnership.id
    # Reporting years are partnership-owned: opened inside the partnership's scope.
    with partnership_scope(partnership):
        year = services.find_year(partnership, f"{start}-{(start + 1) % 100:02d}")
        if year is None:
            year = services.open_year(
                partnership,
                start_year=start,
                deadline=date(start + 1, 5, 31),
                publication_target=date(start + 1, 9, 30),
                notify=False,
            )
        return year.label


def _reporting_year_state(slug: str, label: str):
    from portal.returns import services
    from portal.returns.models import DeadlineExtension

    partnership = _reporting_partnership(slug)
    with partnership_scope(partnership):
        year = services.find_year(partnership, label)
        extensions = db.session.scalar(
            select(func.count(DeadlineExtension.id)).where(
                DeadlineExtension.reporting_year_id == year.id
            )
        )
        state = (year.deadline, year.version, extensions)
        if tenant(slug) is not None:
            with tenant_scope(tenant(slug)):
                ret = services.return_for(year)
                sections = ret and [(s.key, s.version) for s in ret.sections]
                state += (ret and (ret.status, ret.version, sections),)
    return state


def _case_study(slug: str) -> int:
    from portal.returns import case_studies, services

    label = _reporting_year(slug)
    with tenant_scope(tenant(slug)):
        # The member's page sees its partnerships' reporting years, read only.
        year = services.find_year(_reporting_partnership(slug), label)
        ret = services.start_return(year)
        row = case_studies.save_case_study(
            ret,
            None,
            title=f"{slug} case study",
            text="What happened.",
            image=b"\x89PNG\r\n\x1a\n" + bytes(32),
            image_alt="A picture of what happened",
        )
        return row.number


def _case_study_state(slug: str, number: int):
    from portal.returns.models import CaseStudy

    with tenant_scope(tenant(slug)):
        row = db.session.scalar(
            select(CaseStudy)
            .where(CaseStudy.number == number)
            .execution_options(populate_existing=True)
        )
        return row and (row.title, row.text, row.version)


def _member_state(slug: str, member: str):
    from portal.returns.models import DeadlineExtension, ReturnSnapshot

    owner = tenant(member)
    return (
        db.session.scalar(
            select(func.count(DeadlineExtension.id)).where(DeadlineExtension.tenant_id == owner.id)
        ),
        db.session.scalar(
            select(func.count(ReturnSnapshot.id)).where(ReturnSnapshot.tenant_id == owner.id)
        ),
    )


OBJECTS = {
    "user_id": ObjectMaker(_person, _person_state),
    "commitment_number": ObjectMaker(_commitment, _commitment_state),
    "objective_number": ObjectMaker(_objective, _objective_state),
    "action_number": ObjectMaker(_action, _action_state),
    "update_number": ObjectMaker(_progress_update, _progress_update_state),
    # Not a database id: the random name of an uploaded spreadsheet awaiting import.
    "upload_token": ObjectMaker(_action_upload, _action_upload_state),
    "assessment_number": ObjectMaker(_assessment, _assessment_state),
    "joint_id": ObjectMaker(_joint_assessment, _joint_assessment_state),
    "incident_number": ObjectMaker(_incident, _incident_state),
    "ward_number": ObjectMaker(_ward, _ward_state),
    "plan_period_id": ObjectMaker(_aims_maker(lambda p: p), _aims_state("PlanPeriod")),
    "partnership_role_id": ObjectMaker(
        _aims_maker(lambda p: p.roles[0]), _aims_state("PartnershipRole")
    ),
    "role_list_item_id": ObjectMaker(
        _aims_maker(lambda p: p.roles[0].items[0]), _aims_state("RoleListItem")
    ),
    "joint_aim_id": ObjectMaker(_aims_maker(lambda p: p.roles[0].aims[0]), _aims_state("JointAim")),
    "aim_measure_id": ObjectMaker(
        _aims_maker(lambda p: p.roles[0].aims[0].measures[0]), _aims_state("AimMeasure")
    ),
    "period_statement_id": ObjectMaker(
        _aims_maker(lambda p: p.statements[0]), _aims_state("PeriodStatement")
    ),
    "measure_number": ObjectMaker(_measure, _measure_state),
    "job_id": ObjectMaker(_job, _job_state),
    "definition_id": ObjectMaker(_joint_measure, _joint_measure_state),
    # A joint measure of the tenant's partnership, taken up from the tenant's pages.
    "joint_measure_id": ObjectMaker(
        lambda slug: _joint_measure(tenant(slug).partnerships[0].slug), _joint_measure_state
    ),
    # Annual returns: a member's return is addressed by its partnership and year; a
    # partnership's reporting year by its label; the lead reads a member by its slug.
    "partnership": ObjectMaker(
        lambda slug: _reporting_partnership(slug).slug, lambda slug, value: value
    ),
    "year": ObjectMaker(_reporting_year, _reporting_year_state),
    "section": ObjectMaker(lambda slug: "priorities", lambda slug, value: value),
    "member": ObjectMaker(
        lambda slug: sorted(t.slug for t in _reporting_partnership(slug).members)[0],
        _member_state,
    ),
    "case_study_number": ObjectMaker(_case_study, _case_study_state),
}

# Portal administration: the ids name organisations and partnerships themselves. A
# tenant's user (even its administrator) must get 404, as for any page they may not see.
PORTAL_ADMIN_ARGS = {"tenant_id", "partnership_id"}


def _rules():
    from portal import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x", "TESTING": True})
    return [r for r in app.url_map.iter_rules() if set(r.arguments) - SCOPE_ARGS]


RULES = _rules()


def kind_of(rule) -> str:
    if rule.endpoint.startswith("portal_admin."):
        return "admin"
    if "<partnership_slug>" in rule.rule:
        return "partnership"
    if "<org_slug>" in rule.rule:
        return "public"
    return "tenant"


def _cases(kinds: set[str]):
    for rule in RULES:
        if rule.endpoint in ALLOW_LIST or kind_of(rule) not in kinds:
            continue
        for method in sorted(rule.methods - SKIPPED_METHODS):
            yield pytest.param(rule.rule, kind_of(rule), method, id=f"{rule.endpoint}-{method}")


def test_every_object_route_is_covered():
    missing = []
    for rule in RULES:
        args = set(rule.arguments) - SCOPE_ARGS
        if rule.endpoint in ALLOW_LIST:
            continue
        if rule.endpoint.startswith("portal_admin."):
            unknown = args - PORTAL_ADMIN_ARGS
        else:
            unknown = args - set(OBJECTS)
        if unknown:
            missing.append(f"{rule.rule} ({rule.endpoint}): {sorted(unknown)}")
    assert not missing, "Routes missing from the cross-tenant matrix:\n" + "\n".join(missing)


@pytest.fixture
def actor(app):
    """A person holding every role in the actor tenant, signed in."""
    with app.app_context():
        from portal.auth.services import hash_password

        person = User(
            email="matrix@thanet.demo", name="Matrix", password_hash=hash_password(PASSWORD)
        )
        for role in TENANT_ROLES:
            person.tenant_grants.append(TenantGrant(tenant=tenant(ACTOR["tenant"]), role=role))
        db.session.add(person)
        db.session.commit()
    client = app.test_client()
    token = csrf_token(client, "/login")
    response = client.post(
        "/login", data={"email": "matrix@thanet.demo", "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
    return client, csrf_token(client, "/account")


def _url(template: str, slug: str, ids: dict) -> str:
    url = template
    for scope in SCOPE_ARGS:
        url = url.replace(f"<{scope}>", slug)
    for name, value in ids.items():
        url = url.replace(f"<int:{name}>", str(value)).replace(f"<{name}>", str(value))
    return url


@pytest.fixture
def lead(app):
    """The lead of the actor partnership, signed in."""
    client = app.test_client()
    token = csrf_token(client, "/login")
    response = client.post(
        "/login",
        data={
            "email": f"lead@{ACTOR['partnership']}.demo",
            "password": PASSWORD,
            "csrf_token": token,
        },
    )
    assert response.status_code == 302
    return client, csrf_token(client, "/account")


@pytest.mark.parametrize(
    ("rule", "kind", "method"), list(_cases({"tenant", "partnership", "public"}))
)
def test_another_tenants_object_is_not_found(app, actor, lead, rule, kind, method):
    client, token = {"tenant": actor, "partnership": lead, "public": (app.test_client(), "")}[kind]
    victim, own = VICTIM[kind], ACTOR[kind]
    args = [a for a in OBJECTS if f"<int:{a}>" in rule or f"<{a}>" in rule]
    with app.app_context():
        theirs = {a: OBJECTS[a].make(victim) for a in args}
        before = {a: OBJECTS[a].state(victim, theirs[a]) for a in args}
    data = {"csrf_token": token} if token else {}

    # Their object, under our own address: not found. A running number names a record of
    # the tenant in the address, so their number there is our own record of that number
    # (or nothing): never theirs.
    response = client.open(_url(rule, own, theirs), method=method, data=data)
    numbered = any(a.endswith("_number") for a in args)
    if not numbered:
        assert response.status_code == 404, f"{method} {rule} with {victim}'s object"
    body = response.get_data(as_text=True)
    assert "Sevenoaks" not in body and f"{victim} " not in body, f"{method} {rule}: theirs shown"
    if kind != "public":
        # Their object under their address: we hold no grant there, so not found either.
        response = client.open(_url(rule, victim, theirs), method=method, data=data)
        assert response.status_code == 404, f"{method} {rule} under {victim}'s address"
    with app.app_context():
        after = {a: OBJECTS[a].state(victim, theirs[a]) for a in args}
    assert after == before, "another tenant's object was changed"

    # Control: our own object at the same route is found, so the 404s above mean something.
    with app.app_context():
        ours = {a: OBJECTS[a].make(own) for a in args}
    response = client.open(_url(rule, own, ours), method=method, data=data)
    assert response.status_code != 404, f"{method} {rule} with our own object"


NUMBERED = [a for a in OBJECTS if a.endswith("_number")]


@pytest.mark.parametrize("arg", NUMBERED)
def test_their_number_under_our_address_is_ours_or_nothing(app, actor, arg):
    """The victim's running number in the actor's address: the actor's own record of that
    number when there is one, a 404 when there is none, never the victim's."""
    client, _ = actor
    rule = next(
        r.rule
        for r in RULES
        if f"<int:{arg}>" in r.rule and kind_of(r) == "tenant" and "GET" in r.methods
    )
    with app.app_context():
        theirs = OBJECTS[arg].make(VICTIM["tenant"])
        ours = OBJECTS[arg].make(ACTOR["tenant"])
    # A number the actor's tenant has not reached: not found.
    beyond = {arg: max(theirs, ours) + 1000}
    assert client.get(_url(rule, ACTOR["tenant"], beyond), buffered=True).status_code == 404
    # The actor's own number: the actor's own record.
    page = client.get(_url(rule, ACTOR["tenant"], {arg: ours}), buffered=True)
    assert page.status_code == 200
    # The victim's number: the actor's record of that number, or nothing.
    response = client.get(_url(rule, ACTOR["tenant"], {arg: theirs}), buffered=True)
    assert response.status_code == (200 if theirs <= ours else 404)
    assert f"{VICTIM['tenant']} " not in response.get_data(as_text=True)


ADMIN_CASES = list(_cases({"admin"}))


def test_portal_administration_routes_are_in_the_matrix():
    assert len(ADMIN_CASES) >= 4


@pytest.mark.parametrize(("rule", "kind", "method"), ADMIN_CASES)
def test_portal_administration_is_not_found_for_tenant_users(app, actor, rule, kind, method):
    client, token = actor
    with app.app_context():
        ids = {"tenant_id": tenant(VICTIM["tenant"]).id}
        from portal.partners.models import Partnership

        ids["partnership_id"] = db.session.scalar(
            select(Partnership.id).where(Partnership.slug == "west-kent")
        )
    url = _url(rule, "", ids)
    response = client.open(url, method=method, data={"csrf_token": token})
    assert response.status_code == 404
    # Control: the portal administrator reaches it.
    admin = app.test_client()
    admin_token = csrf_token(admin, "/login")
    admin.post(
        "/login",
        data={"email": "admin@portal.demo", "password": PASSWORD, "csrf_token": admin_token},
    )
    assert admin.get(url).status_code == 200
