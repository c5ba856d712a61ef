"""The role matrix: every route, every method, every role; nobody does what they may not.

Beside the cross-tenant matrix (another organisation's object is a 404), this one holds
the other wall: inside one organisation, a role without the permission gets 403 or 404 and
never a page or a changed record; an anonymous visitor is sent to sign in.

:data:`ROUTES` says who may use each route, by the permission names that routes declare
(``@requires("edit_plan")``, read back from the view as ``required_roles``) and templates
ask about (``can("edit_plan")``). A route missing from the table, or a table entry that
disagrees with the route's own declaration, fails :func:`test_every_route_is_in_the_table`.

One app, one database and one sign-in per role serve every case, so the matrix costs
seconds, not minutes.
"""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from portal.access import PERMISSIONS, READ_ROLES, roles_for
from tests.conftest import PASSWORD, base_config
from tests.helpers import csrf_token

SKIPPED_METHODS = {"HEAD", "OPTIONS"}

# Who may use a route. A permission name (portal/access.py PERMISSIONS) for an
# organisation's page, or a dict of method -> permission where a route allows more to read
# than to change; "member" for an organisation's page open to all of its people; "lead"
# for a partnership's pages; "portal admin"; "signed in"; "anyone" for public pages.
ROUTES: dict[str, str | dict[str, str]] = {
    # Public, or reached by a secret emailed token: nobody is refused.
    "static": "anyone",
    "site.index": "anyone",
    "site.accessibility": "anyone",
    "site.cookies": "anyone",
    "site.privacy": "anyone",
    "site.healthz": "anyone",
    "charts.plotly_js": "anyone",
    "auth.login": "anyone",
    "auth.logout": "anyone",
    "auth.forgot_password": "anyone",
    "auth.reset_password": "anyone",
    "auth.accept_invitation": "anyone",
    "auth.unlock_account": "anyone",
    "public_eqia.public_register": "anyone",
    "public_eqia.public_assessment": "anyone",
    "public_reports.latest": "anyone",
    "public_reports.version": "anyone",
    "public_reports.download": "anyone",
    "public_pages.tenant_page": "anyone",
    "public_partnership.partnership_page": "anyone",
    "public_partnership.public_chart_csv": "anyone",
    "public_joint_eqia.register": "anyone",
    "public_joint_eqia.assessment": "anyone",
    # Anybody signed in.
    "site.choose": "signed in",
    "auth.account": "signed in",
    # A job with no organisation: only whoever asked for it sees it (tests/test_jobs.py).
    "jobs.show": "signed in",
    "jobs.progress": "signed in",
    # The portal administrator only.
    "portal_admin.index": "portal admin",
    "portal_admin.new_tenant": "portal admin",
    "portal_admin.invite_tenant_admin": "portal admin",
    "portal_admin.new_partnership": "portal admin",
    "portal_admin.invite_partnership_lead": "portal admin",
    "portal_admin.audit_trail": "portal admin",
    # An organisation's pages.
    "home.tenant_home": "member",
    "home.dashboard_csv": "member",
    "tenant_admin.people": "manage_people",
    "tenant_admin.invite": "manage_people",
    "tenant_admin.person": "manage_people",
    "tenant_admin.disable": "manage_people",
    "tenant_admin.enable": "manage_people",
    "tenant_admin.remove": "manage_people",
    "tenant_admin.audit_trail": "manage_people",
    "tenant_aims.tenant_index": "read",
    "tenant_aims.tenant_aim": "read",
    "eqia.register": "read",
    "eqia.assessment": "read",
    "eqia.joint_list": "read",
    # Everybody reads a joint assessment's contribution; only officers write it.
    "eqia.contribution": {"GET": "read", "POST": "edit_plan"},
    "eqia.new_assessment": "edit_plan",
    "eqia.edit_assessment": "edit_plan",
    "incidents.register": "work_cases",
    "incidents.incident": "work_cases",
    "incidents.new_incident": "work_cases",
    "incidents.edit_incident": "work_cases",
    "incidents.statistics": "read",
    "incidents.retention": "set_retention",
    "incidents.export_register": "work_cases",
    "incidents.wards": "keep_wards",
    "incidents.edit_ward": "keep_wards",
    "incidents.retire_ward": "keep_wards",
    "tenant_jobs.index": "read",
    "tenant_jobs.tenant_show": "read",
    "tenant_jobs.tenant_progress": "read",
    "monitoring.community": "read",
    "monitoring.measures": "read",
    "monitoring.measure": "read",
    "monitoring.compare": "read",
    "monitoring.new_measure": "edit_plan",
    "monitoring.edit_measure": "edit_plan",
    "monitoring.delete_measure": "edit_plan",
    "monitoring.figures": "edit_plan",
    "monitoring.import_figures": "edit_plan",
    "monitoring.start_joint": "edit_plan",
    "monitoring.releases": "read",
    "monitoring.correct_release": "edit_plan",
    "commitments.commitments": "read",
    "commitments.export_commitments": "read",
    "commitments.new_commitment": "edit_plan",
    "commitments.edit_commitment": "edit_plan",
    "commitments.delete_commitment": "edit_plan",
    "commitments.move_commitment": "edit_plan",
    "actions.objectives": "read",
    "actions.actions": "read",
    "actions.action": "read",
    "actions.my_actions": "read",
    "actions.export_actions": "read",
    "actions.export_my_actions": "read",
    "actions.export_progress": "read",
    "actions.evidence": "read",
    "actions.new_objective": "edit_plan",
    "actions.edit_objective": "edit_plan",
    "actions.delete_objective": "edit_plan",
    "actions.objective_publication": "edit_plan",
    "actions.new_action": "edit_plan",
    "actions.edit_action": "edit_plan",
    "actions.delete_action": "edit_plan",
    "actions.add_progress": "edit_plan",
    "actions.correct_progress": "edit_plan",
    "actions.withdraw_progress": "edit_plan",
    "actions.progress_history": "read",
    "actions_import.upload": "edit_plan",
    "actions_import.columns": "edit_plan",
    "actions_import.preview": "edit_plan",
    "actions_import.statuses": "edit_plan",
    # Annual returns: everybody in the organisation reads its return; officers write it;
    # only the chief executive signs it off or sends it back.
    "returns.tenant_index": "read",
    "returns.task_list": "read",
    "returns.preview": "read",
    "returns.case_study_image": "read",
    "returns.section": "edit_plan",
    "returns.new_case_study": "edit_plan",
    "returns.case_study": "edit_plan",
    "returns.delete_case_study": "edit_plan",
    "returns.send": "edit_plan",
    "returns.sign_off": "sign_off",
    "returns.send_back": "sign_off",
}
# Pages of one person's own object (a job is shown to whoever asked for it and to the
# organisation's administrators): a role allowed the page may still get a 404 for somebody
# else's object, so the control accepts it; refusals are checked as for every route.
OWN_OBJECTS = {
    "jobs.show",
    "jobs.progress",
    "tenant_jobs.tenant_show",
    "tenant_jobs.tenant_progress",
}

# Every partnership page is for that partnership's leads.
PARTNERSHIP_PREFIXES = (
    "partners.",
    "aims.",
    "joint_eqia.",
    "partner_monitoring.",
    "reports.",
    "joint_report.",
    "dashboards.",
)

# Who signs in for each role: one organisation (Sevenoaks) and its partnership (West Kent).
TENANT, PARTNERSHIP = "sevenoaks", "west-kent"
PEOPLE = {
    "officer": f"officer@{TENANT}.demo",
    "caseworker": f"caseworker@{TENANT}.demo",
    "viewer": f"viewer@{TENANT}.demo",
    "admin": f"admin@{TENANT}.demo",
    "ceo": f"ceo@{TENANT}.demo",
    "lead": f"lead@{PARTNERSHIP}.demo",
    "portal admin": "admin@portal.demo",
    "anonymous": None,
}

# Records a refused request may write: its own audit event and the session's last-seen
# time. Anything else written during a refused request fails the matrix.
BOOKKEEPING = {"AuditEvent", "UserSession"}


def _app_rules():
    from portal import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x", "TESTING": True})
    return app, list(app.url_map.iter_rules())


_APP, RULES = _app_rules()


def requirement(endpoint: str, method: str) -> str:
    """Who may use ``endpoint`` with ``method``, from the table."""
    if endpoint.startswith(PARTNERSHIP_PREFIXES):
        return "lead"
    entry = ROUTES[endpoint]
    return entry[method] if isinstance(entry, dict) else entry


def allowed(who: str, role: str) -> bool:
    if who == "anyone":
        return True
    if who == "signed in":
        return role != "anonymous"
    if who in ("portal admin", "lead"):
        return role == who
    if who == "member":
        return role in READ_ROLES
    return role in PERMISSIONS[who]


def test_every_route_is_in_the_table():
    """A new route must say who may use it; the table must agree with the route."""
    problems = []
    for rule in RULES:
        endpoint = rule.endpoint
        view = _APP.view_functions[endpoint]
        declared = getattr(view, "required_roles", None)
        if endpoint.startswith(PARTNERSHIP_PREFIXES):
            if "<partnership_slug>" not in rule.rule or declared is not None:
                problems.append(f"{endpoint}: expected a partnership page")
            continue
        if endpoint not in ROUTES:
            problems.append(f"{rule.rule} ({endpoint}): not in the role matrix")
            continue
        methods = sorted(rule.methods - SKIPPED_METHODS)
        whos = {requirement(endpoint, m) for m in methods}
        if "<tenant_slug>" in rule.rule:
            gate = set(declared) if declared is not None else set(READ_ROLES)
            table = set().union(
                *(set(READ_ROLES) if w == "member" else set(roles_for(w)) for w in whos)
            )
            if table != gate:
                problems.append(f"{endpoint}: table allows {sorted(table)}, route {sorted(gate)}")
        elif whos == {"portal admin"}:
            if not getattr(view, "portal_admin_only", False):
                problems.append(f"{endpoint}: not marked for the portal administrator")
        elif declared is not None:
            problems.append(f"{endpoint}: declares roles outside an organisation's pages")
    assert not problems, "Role matrix out of date:\n" + "\n".join(problems)


def test_permissions_name_only_real_roles():
    for name, roles in PERMISSIONS.items():
        assert roles and set(roles) <= set(READ_ROLES), name


@pytest.fixture(scope="module")
def world(databases, tmp_path_factory):
    """One app and database, the objects every route needs, and one client per role."""
    from portal import create_app, mail
    from portal.extensions import db, limiter
    from portal.partners.models import Partnership
    from tests.helpers import tenant

    config = {**base_config(tmp_path_factory.mktemp("roles")), **databases.fresh()}
    app = create_app(config)
    from tests.test_cross_tenant_matrix import OBJECTS

    with app.app_context():
        limiter.reset()
        ids = {}
        for rule in RULES:
            for arg in rule.arguments:
                if arg in OBJECTS and arg not in ids:
                    owner = (
                        PARTNERSHIP if rule.endpoint.startswith(PARTNERSHIP_PREFIXES) else TENANT
                    )
                    ids[arg] = (OBJECTS[arg].make(owner), OBJECTS[arg])
        ids["tenant_id"] = (tenant(TENANT).id, None)
        ids["chart_id"] = ("eqia-pipeline", None)  # a dashboard chart, by its name
        ids["partnership_id"] = (
            db.session.scalar(db.select(Partnership.id).where(Partnership.slug == PARTNERSHIP)),
            None,
        )
        db.session.remove()
    clients = {}
    for role, email in PEOPLE.items():
        client = app.test_client()
        if email:
            response = client.post(
                "/login",
                data={
                    "email": email,
                    "password": PASSWORD,
                    "csrf_token": csrf_token(client, "/login"),
                },
            )
            assert response.status_code == 302, f"could not sign in as {email}"
            token = csrf_token(client, "/account")
        else:
            token = csrf_token(client, "/login")
        clients[role] = (client, token)
    yield app, ids, clients, mail
    with app.app_context():
        db.engine.dispose()
    databases.drop(config)


@contextmanager
def writes_watched():
    """Collect what the ORM writes (flushes and bulk statements) inside the block."""
    written: list[str] = []

    def on_flush(session, flush_context, instances):
        for obj in [*session.new, *session.dirty, *session.deleted]:
            if session.is_modified(obj) or obj in session.new or obj in session.deleted:
                written.append(type(obj).__name__)

    def on_execute(state):
        if state.is_update or state.is_delete:
            mapper = state.bind_mapper
            written.append(mapper.class_.__name__ if mapper else str(state.statement)[:60])

    event.listen(Session, "before_flush", on_flush)
    event.listen(Session, "do_orm_execute", on_execute)
    try:
        yield written
    finally:
        event.remove(Session, "before_flush", on_flush)
        event.remove(Session, "do_orm_execute", on_execute)


# A chart every page of its kind draws: the organisation's and the partnership's dashboards
# name their charts differently.
CHARTS = {"dashboards.chart_csv": "aims", "public_partnership.public_chart_csv": "over-time-1"}


def _url(rule, ids: dict) -> str:
    scopes = {"tenant_slug": TENANT, "partnership_slug": PARTNERSHIP, "org_slug": TENANT}
    values = {}
    for arg in rule.arguments:
        values[arg] = scopes[arg] if arg in scopes else ids[arg][0]
    if rule.endpoint in CHARTS:
        values["chart_id"] = CHARTS[rule.endpoint]
    return _APP.url_map.bind("localhost").build(rule.endpoint, values, method=None)


def _cases():
    for rule in RULES:
        if rule.endpoint not in ROUTES and not rule.endpoint.startswith(PARTNERSHIP_PREFIXES):
            continue  # reported by test_every_route_is_in_the_table
        for method in sorted(rule.methods - SKIPPED_METHODS):
            if requirement(rule.endpoint, method) == "anyone":
                continue
            yield pytest.param(rule, method, id=f"{rule.endpoint}-{method}")


@pytest.mark.parametrize(("rule", "method"), list(_cases()))
def test_roles_without_the_permission_are_refused(world, rule, method):
    app, ids, clients, mail = world
    who = requirement(rule.endpoint, method)
    url = _url(rule, ids)
    with app.app_context():
        outbox_before = len(mail.read_outbox())
    for role, (client, token) in clients.items():
        if allowed(who, role):
            if method == "GET":
                # Control: the roles that may use the page get it, so refusals mean something.
                # (A redirect is a step of a journey, such as a published plan period sending
                # an edit back to its page; never to sign in.)
                response = client.get(url)
                response.close()  # a streamed download holds its context until closed
                expected = (200, 302, 404) if rule.endpoint in OWN_OBJECTS else (200, 302)
                assert response.status_code in expected, f"{role} GET {url}: {response.status}"
                assert "/login" not in response.headers.get("Location", ""), f"{role} GET {url}"
            continue
        with writes_watched() as written:
            response = client.open(url, method=method, data={"csrf_token": token})
        status = response.status_code
        if role == "anonymous":
            assert status == 302 and "/login" in response.headers["Location"], (
                f"anonymous {method} {url}: {response.status}"
            )
        else:
            assert status in (403, 404), f"{role} {method} {url}: {response.status}"
        changed = [name for name in written if name not in BOOKKEEPING]
        assert not changed, f"{role} {method} {url} changed {changed}"
    with app.app_context():
        assert len(mail.read_outbox()) == outbox_before, f"{method} {url} sent mail"


def test_the_write_watch_sees_writes(world):
    """The check for changed records can fail: an ORM change and a bulk update are seen."""
    app, ids, clients, mail = world
    from sqlalchemy import update

    from portal.auth.models import User
    from portal.extensions import db

    with app.app_context():
        with writes_watched() as written:
            person = db.session.get(User, ids["user_id"][0])
            person.name = person.name + " (changed)"
            db.session.flush()
            db.session.execute(update(User).where(User.id == -1).values(name="x"))
            db.session.rollback()
    assert written == ["User", "User"]


def test_templates_ask_for_permissions_not_roles():
    """Pages decide what to offer with can("permission"), the question routes ask too."""
    import re
    from pathlib import Path

    from portal.config import PROJECT_ROOT

    role = "|".join(READ_ROLES)
    pattern = re.compile(
        rf"has_role\(|role_keys|['\"]({role})['\"]\s+(not\s+)?in\b|==\s*['\"]({role})['\"]"
    )
    offenders = [
        f"{path.relative_to(PROJECT_ROOT)}:{number}: {line.strip()}"
        for path in sorted(Path(PROJECT_ROOT, "templates").rglob("*.html"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line)
    ]
    assert not offenders, "Templates comparing role names:\n" + "\n".join(offenders)
    for name in re.findall(
        r"can\(['\"](\w+)['\"]\)",
        "".join(p.read_text() for p in Path(PROJECT_ROOT, "templates").rglob("*.html")),
    ):
        assert name in PERMISSIONS, f"can({name!r}) names no permission"
