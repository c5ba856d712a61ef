"""Running numbers per tenant: addresses and pages name records by them, never by ids.

Database ids come from sequences every tenant shares, so an id in an address told how
busy the other organisations were (Sevenoaks' seventh incident was id 31).
"""

from __future__ import annotations

import re
import threading
import time
from html import unescape
from urllib.parse import urlsplit

from sqlalchemy import func, select

from portal import clock
from portal.actions.models import Action, Objective, ProgressUpdate
from portal.commitments.models import Commitment
from portal.eqia.models import ImpactAssessment
from portal.extensions import db
from portal.incidents.models import HateIncident, Ward
from portal.monitoring.models import Measure
from portal.returns.models import CaseStudy
from portal.tenancy import tenant_scope
from tests.helpers import csrf_token, tenant
from tests.test_incidents import form_data, ward

MODELS = {
    "incident_number": HateIncident,
    "ward_number": Ward,
    "objective_number": Objective,
    "action_number": Action,
    "update_number": ProgressUpdate,
    "commitment_number": Commitment,
    "measure_number": Measure,
    "assessment_number": ImpactAssessment,
    "case_study_number": CaseStudy,
}

# Tenant addresses that still carry a database id, and why that id is not a tenant's.
STILL_IDS = {
    "user_id": "people belong to the portal, not to one tenant",
    "job_id": "a job belongs to whoever asked for it",
    "joint_aim_id": "a joint aim belongs to a partnership, not to a tenant",
    "joint_id": "a joint impact assessment belongs to a partnership, not to a tenant",
    "joint_measure_id": "a joint measure belongs to a partnership, not to a tenant",
    "chart_id": "a chart's name on its page, such as actions-by-objective, not a record",
}


def _incident_numbers(slug: str) -> list[tuple[int, int]]:
    with tenant_scope(tenant(slug)):
        return list(
            db.session.execute(
                select(HateIncident.id, HateIncident.number).order_by(HateIncident.id)
            ).tuples()
        )


def test_an_organisations_first_incident_is_number_1(app, login_as, client):
    with app.app_context():
        assert not _incident_numbers("gentoo")
        others = sum(len(_incident_numbers(s)) for s in ("sevenoaks", "thanet", "maidstone"))
        assert others > 0  # other tenants' incidents took ids from the shared sequence
    town = ward(app, "gentoo", "Town")
    login_as("caseworker", "gentoo")
    token = csrf_token(client, "/t/gentoo/incidents/new")
    first = client.post("/t/gentoo/incidents/new", data=form_data(token, ward_id=str(town)))
    second = client.post("/t/gentoo/incidents/new", data=form_data(token, ward_id=str(town)))
    assert urlsplit(first.headers["Location"]).path == "/t/gentoo/incidents/1"
    assert urlsplit(second.headers["Location"]).path == "/t/gentoo/incidents/2"
    page = client.get("/t/gentoo/incidents/1").get_data(as_text=True)
    assert "HI-0001" in page
    with app.app_context():
        (first_id, number), _ = _incident_numbers("gentoo")
    assert number == 1 and first_id > 1
    assert f"/incidents/{first_id}" not in client.get("/t/gentoo/incidents/").get_data(as_text=True)


def test_sevenoaks_incident_addresses_carry_its_own_numbers(app, login_as, client):
    with app.app_context():
        rows = _incident_numbers("sevenoaks")
    # Numbered 1, 2, 3 … in the order they were recorded, whatever their ids.
    assert [n for _, n in rows] == list(range(1, len(rows) + 1))
    assert any(i != n for i, n in rows)
    login_as("caseworker", "sevenoaks")
    page = client.get("/t/sevenoaks/incidents/?per_page=100").get_data(as_text=True)
    linked = {int(n) for n in re.findall(r'/t/sevenoaks/incidents/(\d+)"', page)}
    assert linked and linked <= {n for _, n in rows}
    row_id, number = next((i, n) for i, n in rows if i != n)
    case = client.get(f"/t/sevenoaks/incidents/{number}").get_data(as_text=True)
    assert f"HI-{number:04d}" in case
    # The database id names another case of Sevenoaks' (or none), not this one.
    other = client.get(f"/t/sevenoaks/incidents/{row_id}")
    assert f"HI-{number:04d}" not in other.get_data(as_text=True)


def _commitment(text: str) -> Commitment:
    now = clock.utcnow()
    return Commitment(position=99, text=text, created_at=now, updated_at=now)


def test_records_added_together_get_consecutive_numbers(app):
    with app.app_context(), tenant_scope(tenant("sevenoaks")):
        highest = db.session.scalar(select(func.max(Commitment.number))) or 0
        rows = [_commitment(f"Together {i}") for i in range(3)]
        db.session.add_all(rows)
        db.session.commit()
        assert sorted(r.number for r in rows) == [highest + 1, highest + 2, highest + 3]
        assert [r.reference for r in rows][0].startswith("C-")


def test_two_transactions_numbering_at_once_get_different_numbers(app):
    """The second transaction waits for the first, then counts its row."""
    flushed, release = threading.Event(), threading.Event()
    numbers, errors, waited = {}, [], {}
    sevenoaks = None
    with app.app_context():
        sevenoaks = tenant("sevenoaks").id

    def first():
        try:
            with app.app_context(), tenant_scope(sevenoaks):
                row = _commitment("First at once")
                db.session.add(row)
                db.session.flush()
                flushed.set()
                release.wait(10)
                db.session.commit()
                numbers["first"] = row.number
        except Exception as exc:  # reported below
            errors.append(exc)
            flushed.set()

    def second():
        try:
            flushed.wait(10)
            with app.app_context(), tenant_scope(sevenoaks):
                row = _commitment("Second at once")
                db.session.add(row)
                started = time.monotonic()
                db.session.flush()
                waited["second"] = time.monotonic() - started
                db.session.commit()
                numbers["second"] = row.number
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    flushed.wait(10)
    time.sleep(0.5)  # the second is now waiting for the first's lock
    release.set()
    for thread in threads:
        thread.join(20)
    assert not errors, errors
    assert numbers["second"] == numbers["first"] + 1
    assert waited["second"] >= 0.3


def _tenant_rules(app):
    """(regex, argument) for every tenant and public address that names one record."""
    rules = []
    for rule in app.url_map.iter_rules():
        args = [a for a in rule.arguments if a.endswith(("_number", "_id"))]
        if not args or not rule.rule.startswith(("/t/", "/public/")):
            continue
        pattern = ""
        for part in re.split(r"(<[^>]+>)", rule.rule):
            if part in ("<tenant_slug>", "<org_slug>"):
                pattern += "[^/]+"
            elif part.startswith("<int:"):
                pattern += rf"(?P<{part[5:-1]}>\d+)"
            else:
                pattern += re.escape(part)
        rules.append((re.compile(f"^{pattern}$"), args[0]))
    return rules


def test_no_tenant_address_in_the_demonstration_carries_a_database_id(app, login_as, auth):
    """Visit the demonstration's pages as each role and check every number in every
    tenant address names a record by its running number."""
    client = auth.client
    rules = _tenant_rules(app)
    for arg in {a for _, a in rules}:
        assert arg in MODELS or arg in STILL_IDS, f"{arg} in a tenant address"
    seen: dict[str, set[int]] = {}
    skip = ("/export", "/evidence/", "/logout", "format=", "/progress/export", "/jobs/")
    for role in ("officer", "caseworker", "admin"):
        login_as(role, "sevenoaks")
        queue, visited = ["/t/sevenoaks/", "/public/sevenoaks/eqia/"], set()
        while queue and len(visited) < 80:
            url = queue.pop(0)
            if url in visited:
                continue
            visited.add(url)
            response = client.get(url)
            if response.status_code != 200 or "html" not in response.content_type:
                continue
            for href in re.findall(r'href="([^"]+)"', response.get_data(as_text=True)):
                path = urlsplit(unescape(href)).path
                if not path.startswith(("/t/sevenoaks/", "/public/sevenoaks/")):
                    continue
                for regex, arg in rules:
                    match = regex.match(path)
                    if match and arg in MODELS:
                        seen.setdefault(arg, set()).add(int(match.group(arg)))
                if not any(s in href for s in skip) and path not in visited:
                    queue.append(unescape(href).split("#")[0])
        auth.logout()
    assert {"incident_number", "action_number", "measure_number"} <= set(seen)
    with app.app_context(), tenant_scope(tenant("sevenoaks")):
        for arg, numbers in seen.items():
            model = MODELS[arg]
            rows = db.session.execute(select(model.id, model.number)).tuples().all()
            known = {n for _, n in rows}
            assert numbers <= known, f"{arg}: {sorted(numbers - known)} are not numbers"
            if arg == "incident_number":
                # Ids would not have passed: some are beyond Sevenoaks' numbers.
                assert any(i not in known for i, _ in rows)
