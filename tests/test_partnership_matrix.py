"""The partnership matrix: on a partnership's pages, another partnership's object is a 404.

Built from ``app.url_map``: every route under ``/p/<partnership_slug>/`` is tried with
every method. The person trying leads *both* partnerships, so nothing but the scope set
from the address keeps West Kent's objects off Kent Equality Network's pages: not a
missing grant. A route that names an object must have a maker for it below; a route
that names none is read for any sign of the other partnership's rows. A new route that
is neither fails :func:`test_every_partnership_route_is_covered`.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.auth.models import PartnershipGrant, User
from portal.extensions import db
from tests.conftest import PASSWORD
from tests.helpers import csrf_token, partnership
from tests.test_cross_tenant_matrix import (
    OBJECTS,
    SCOPE_ARGS,
    SKIPPED_METHODS,
    ObjectMaker,
    _url,
)

VICTIM, OWN = "west-kent", "kent-network"

# The partnership-owned objects a partnership's address may name (all made by the
# cross-tenant matrix's makers, in the partnership given).
PARTNERSHIP_OBJECTS = {
    "plan_period_id",
    "partnership_role_id",
    "role_list_item_id",
    "joint_aim_id",
    "aim_measure_id",
    "period_statement_id",
    "joint_id",
    "definition_id",
    # Reporting years by their label (one no other partnership has), and a member of the
    # partnership, on the lead's returns and report pages.
    "year",
    "member",
}

# Arguments that name no partnership-owned row: a chart of the page's own dashboard, by
# its name (tests/test_dashboards.py checks the partnership as for the page).
NOT_OBJECTS = {"chart_id"}

# Words only the victim's rows carry (the makers put the partnership's slug in every
# text), looked for on the pages that name no object.
MARKERS = (f"{VICTIM} aim", f"{VICTIM} joint", f"{VICTIM} item", f"{VICTIM} says")


def _all_rules():
    from portal import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x", "TESTING": True})
    return list(app.url_map.iter_rules())


ALL_RULES = [
    r for r in _all_rules() if "<partnership_slug>" in r.rule and not NOT_OBJECTS & r.arguments
]
OBJECT_RULES = [r for r in ALL_RULES if set(r.arguments) - SCOPE_ARGS]


def _public_report(slug: str) -> str:
    """A reporting year of the partnership with a published joint report (version 1, its
    web page kept), that no other partnership has; its label."""
    from portal import clock
    from portal.reports import content as report_content
    from portal.reports import services as reports
    from portal.reports.demo import sample_submissions
    from portal.reports.models import JointReportFile, JointReportVersion
    from portal.tenancy import partnership_scope

    label = OBJECTS["year"].make(slug)
    owner = partnership(slug)
    with partnership_scope(owner):
        report = reports.report_for(owner, label)
        if not report.versions:
            content = report_content.build(
                partnership_name=owner.name,
                partnership_slug=owner.slug,
                year=label,
                foreword=f"{slug} says",
                summary=f"{slug} says",
                members=[(m.slug, m.name) for m in owner.members],
                submissions=sample_submissions(3, label),
                rule=owner.disclosure_rule,
            )
            version = JointReportVersion(
                report=report,
                number=1,
                published_at=clock.utcnow(),
                content=content,
                sha256=report_content.content_hash(content),
                returns=[],
            )
            db.session.add(version)
            db.session.add(
                JointReportFile(
                    report_version=version,
                    format="html",
                    filename=f"{slug}-{label}.html",
                    media_type="text/html; charset=utf-8",
                    data=b"<!doctype html><title>Report</title>",
                    sha256="0" * 64,
                )
            )
            db.session.commit()
    return label


def _public_report_state(slug: str, label: str):
    from portal.reports.models import JointReportVersion
    from portal.tenancy import partnership_scope

    with partnership_scope(partnership(slug)):
        return db.session.scalar(
            select(func.count(JointReportVersion.id)).where(
                JointReportVersion.superseded.is_(False)
            )
        )


def _published_joint_assessment(slug: str) -> int:
    """A joint assessment of the partnership, concluded and published (the public page
    shows only those)."""
    from portal import clock
    from portal.eqia import services as eqia
    from portal.eqia.models import JointAssessment
    from portal.tenancy import partnership_scope

    joint_id = OBJECTS["joint_id"].make(slug)
    owner = partnership(slug)
    with partnership_scope(owner):
        joint = db.session.get(JointAssessment, joint_id)
        joint.conclusion, joint.concluded_at = f"{slug} says", clock.utcnow()
        joint.published_content = eqia.joint_content(joint, owner)
        joint.published_at = clock.utcnow()
        db.session.commit()
    return joint_id


# The public pages name published rows only.
PUBLIC_OBJECTS = {
    "/reports/": {
        "year": ObjectMaker(_public_report, _public_report_state),
        "number": ObjectMaker(lambda slug: 1, lambda slug, value: value),
        "fmt": ObjectMaker(lambda slug: "html", lambda slug, value: value),
    },
    "/eqia/": {"joint_id": ObjectMaker(_published_joint_assessment, OBJECTS["joint_id"].state)},
}


def _makers(rule: str) -> dict:
    if rule.startswith("/public/p/"):
        for part, makers in PUBLIC_OBJECTS.items():
            if part in rule:
                return OBJECTS | makers
    return OBJECTS


PLAIN_RULES = [r for r in ALL_RULES if not set(r.arguments) - SCOPE_ARGS]


def _cases(rules, methods=None):
    for rule in rules:
        for method in sorted(rule.methods - SKIPPED_METHODS):
            if methods is None or method in methods:
                yield pytest.param(rule.rule, method, id=f"{rule.endpoint}-{method}")


def test_every_partnership_route_is_covered():
    missing = []
    for rule in OBJECT_RULES:
        unknown = set(rule.arguments) - SCOPE_ARGS - PARTNERSHIP_OBJECTS - set(_makers(rule.rule))
        if unknown:
            missing.append(f"{rule.rule} ({rule.endpoint}): {sorted(unknown)}")
    assert not missing, "Routes missing from the partnership matrix:\n" + "\n".join(missing)
    # The matrix reaches every kind of partnership-owned object, and pages of each module.
    assert PARTNERSHIP_OBJECTS <= {a for r in OBJECT_RULES for a in r.arguments}
    assert len(OBJECT_RULES) >= 20 and len(PLAIN_RULES) >= 5


@pytest.fixture
def both_leads(app):
    """A lead of both partnerships, signed in: only the address separates them."""
    with app.app_context():
        from portal.auth.services import hash_password

        person = User(
            email="both@partnerships.demo", name="Both", password_hash=hash_password(PASSWORD)
        )
        for slug in (VICTIM, OWN):
            person.partnership_grants.append(
                PartnershipGrant(partnership=partnership(slug), role="lead")
            )
        db.session.add(person)
        db.session.commit()
    client = app.test_client()
    token = csrf_token(client, "/login")
    response = client.post(
        "/login",
        data={"email": "both@partnerships.demo", "password": PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302
    return client, csrf_token(client, "/account")


@pytest.mark.parametrize(("rule", "method"), list(_cases(OBJECT_RULES)))
def test_another_partnerships_object_is_not_found(app, both_leads, rule, method):
    client, token = both_leads
    makers = _makers(rule)
    named = PARTNERSHIP_OBJECTS | set(makers) - set(OBJECTS)
    args = [a for a in named if f"<int:{a}>" in rule or f"<{a}>" in rule]
    with app.app_context():
        theirs = {a: makers[a].make(VICTIM) for a in args}
        before = {a: makers[a].state(VICTIM, theirs[a]) for a in args}
    data = {"csrf_token": token}

    response = client.open(_url(rule, OWN, theirs), method=method, data=data)
    assert response.status_code == 404, f"{method} {rule} with {VICTIM}'s object"
    body = response.get_data(as_text=True)
    assert not any(marker in body for marker in MARKERS), f"{method} {rule}: theirs shown"
    with app.app_context():
        after = {a: makers[a].state(VICTIM, theirs[a]) for a in args}
    assert after == before, "another partnership's object was changed"

    # Control: the same object under its own partnership's address is found, so the 404
    # above came from the scope and not from a missing grant or a broken route.
    response = client.open(_url(rule, VICTIM, theirs), method=method, data=data)
    assert response.status_code != 404, f"{method} {rule} under {VICTIM}'s own address"


def _readable(response) -> str:
    """What a page or download says: a workbook's cells, or the text of anything else."""
    if response.mimetype.endswith("spreadsheetml.sheet"):
        import io

        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(response.get_data()))
        return "\n".join(
            str(value)
            for sheet in book.worksheets
            for row in sheet.iter_rows(values_only=True)
            for value in row
            if value is not None
        )
    return response.get_data(as_text=True)


@pytest.mark.parametrize(("rule", "method"), list(_cases(PLAIN_RULES, {"GET"})))
def test_pages_that_name_no_object_show_none_of_another_partnerships_rows(
    app, both_leads, rule, method
):
    client, _ = both_leads
    with app.app_context():
        for arg in ("period_statement_id", "joint_id", "definition_id"):
            OBJECTS[arg].make(VICTIM)
    theirs = client.get(_url(rule, VICTIM, {}))
    assert theirs.status_code == 200
    ours = client.get(_url(rule, OWN, {}))
    assert ours.status_code == 200
    body = _readable(ours)
    assert not any(marker in body for marker in MARKERS), f"GET {rule}: {VICTIM}'s rows shown"


def test_their_own_pages_do_show_their_rows(app, both_leads):
    """The markers are real: the victim's own pages show them, so their absence above
    means the rows were kept out."""
    client, _ = both_leads
    with app.app_context():
        for arg in ("period_statement_id", "joint_id", "definition_id"):
            OBJECTS[arg].make(VICTIM)
    for page in ("aims/", "eqia/joint", "monitoring/measures", "monitoring/joint-measures/new"):
        body = client.get(f"/p/{VICTIM}/{page}").get_data(as_text=True)
        assert any(marker in body for marker in MARKERS), page


def test_the_leads_grants_are_not_the_scope(app, both_leads):
    """A row of the other partnership cannot be had by id even through a loader that
    ignores the address: the criterion, not the route, hides it."""
    from werkzeug.exceptions import NotFound

    from portal.access import get_partnership_owned_or_404
    from portal.aims.models import PlanPeriod
    from portal.tenancy import partnership_scope

    with app.app_context():
        theirs = OBJECTS["plan_period_id"].make(VICTIM)
        with partnership_scope(partnership(OWN)):
            with pytest.raises(NotFound):
                get_partnership_owned_or_404(PlanPeriod, theirs)
            assert db.session.scalar(select(PlanPeriod).where(PlanPeriod.id == theirs)) is None
        with partnership_scope(partnership(VICTIM)):
            assert get_partnership_owned_or_404(PlanPeriod, theirs).id == theirs
