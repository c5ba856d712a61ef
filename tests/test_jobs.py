"""The job queue: mail leaves through it, every job records its progress, and a failure is
told in plain words and leaves nothing half-written.

Most tests run jobs eagerly (in-process, the embedded default). With ``TEST_CELERY_BROKER``
set (CI's PostgreSQL run sets a Redis URL), the last tests start a real ``celery worker``
and wait for its progress records in the database.
"""

from __future__ import annotations

import hashlib
import os
import re
import socket
import subprocess
import sys
import time
import uuid

import pytest
from sqlalchemy import func, select

from portal.auth.models import AuthToken
from portal.jobs import services as jobs
from portal.jobs.models import DONE, FAILED, QUEUED, RETRYING, Job
from portal.jobs.tasks import INVITATION_MAIL, PASSWORD_RESET_MAIL
from tests.conftest import base_config
from tests.helpers import csrf_token, links_in_mail, tenant, user

REAL, UNKNOWN = "officer@sevenoaks.demo", "nobody@sevenoaks.demo"


def _ask_for_reset(client, email: str):
    token = csrf_token(client, "/password/forgot")
    return client.post("/password/forgot", data={"email": email, "csrf_token": token})


def _normalised(response, email: str) -> str:
    """The page with the address typed and the per-response nonce taken out."""
    body = response.get_data(as_text=True).replace(email, "EMAIL")
    return re.sub(r'nonce="[^"]+"', 'nonce=""', body)


@pytest.fixture(autouse=True)
def _demonstration_jobs(app):
    _remember_demonstration_jobs(app)


def _remember_demonstration_jobs(app) -> None:
    """The demonstration data publishes reports and sends mail through jobs of its own;
    these tests look only at the jobs made after it."""
    from sqlalchemy import func

    from portal.extensions import db
    from portal.tenancy import tenant_scope

    with app.app_context():
        latest = db.session.scalar(select(func.max(Job.id))) or 0
        with tenant_scope(tenant("sevenoaks")):
            latest = max(latest, db.session.scalar(select(func.max(Job.id))) or 0)
        db.session.remove()
    app.extensions["demonstration_jobs_up_to"] = latest


def _new(app, statement):
    return statement.where(Job.id > app.extensions["demonstration_jobs_up_to"])


def _all_jobs(app) -> list[Job]:
    from portal.extensions import db

    with app.app_context():
        rows = db.session.scalars(
            _new(app, select(Job)).where(Job.tenant_id.is_(None)).order_by(Job.id)
        ).all()
        db.session.expunge_all()
        return rows


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def held(monkeypatch):
    """Jobs are queued but not run, as when a worker has not picked them up yet."""
    queued: list[tuple] = []
    real = jobs._dispatch
    monkeypatch.setattr(jobs, "_dispatch", lambda *args: queued.append(args))

    def run_all():
        while queued:
            real(*queued.pop(0))

    run_all.queued = queued
    return run_all


# --- password reset: the same answer and the same work, whatever the account ------------


def test_reset_answers_alike_and_sends_no_mail_inside_the_request(client, app, outbox, held):
    real = _ask_for_reset(client, REAL)
    unknown = _ask_for_reset(client, UNKNOWN)

    assert real.status_code == unknown.status_code == 200
    assert _normalised(real, REAL) == _normalised(unknown, UNKNOWN)
    with app.app_context():
        assert outbox() == [], "a request sent mail itself"
    # Each request queued the same job, with the address as its only detail.
    assert [(name, sorted(payload)) for name, _, _, payload in held.queued] == [
        (PASSWORD_RESET_MAIL, ["email"]),
        (PASSWORD_RESET_MAIL, ["email"]),
    ]
    assert [(j.kind, j.title, j.state) for j in _all_jobs(app)] == [
        ("password_reset_mail", "Password reset email", QUEUED)
    ] * 2

    with app.app_context():
        held()
        [message] = outbox()
    assert message["To"] == REAL
    assert {j.state for j in _all_jobs(app)} == {DONE}


def test_reset_with_the_mail_server_down_is_no_error_and_no_different(client, app, outbox):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=_closed_port(), MAIL_USE_TLS=False)

    real = _ask_for_reset(client, REAL)
    unknown = _ask_for_reset(client, UNKNOWN)

    assert real.status_code == unknown.status_code == 200
    assert _normalised(real, REAL) == _normalised(unknown, UNKNOWN)
    real_job, unknown_job = _all_jobs(app)
    assert real_job.state == FAILED
    assert real_job.attempts == jobs.MAX_RETRIES + 1
    assert real_job.failure == "The email could not be sent because the mail server did not answer."
    assert unknown_job.state == DONE
    from portal.extensions import db

    with app.app_context():
        # No reset link was left behind for a message that never went.
        assert db.session.scalar(select(func.count(AuthToken.id))) == 0


# --- invitations -------------------------------------------------------------------------


def _invite(client, email: str):
    token = csrf_token(client, "/t/sevenoaks/admin/people/invite")
    return client.post(
        "/t/sevenoaks/admin/people/invite",
        data={"name": "Asha Patel", "email": email, "roles": ["viewer"], "csrf_token": token},
    )


def test_an_invitation_is_a_tenant_job_with_a_progress_page(login_as, client, app, outbox, held):
    login_as("admin", "sevenoaks")
    assert _invite(client, "asha@sevenoaks.example").status_code == 302
    with app.app_context():
        assert outbox() == []
        from portal.extensions import db
        from portal.tenancy import tenant_scope

        sevenoaks = tenant("sevenoaks")
        with tenant_scope(sevenoaks):
            job = db.session.scalar(_new(app, select(Job)))
            assert (job.kind, job.tenant_id) == ("invitation_mail", sevenoaks.id)
            assert job.requested_by.email == "admin@sevenoaks.demo"
            job_id = job.id

    page = client.get(f"/t/sevenoaks/jobs/{job_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert '<meta http-equiv="refresh"' in html  # refreshes itself without JavaScript
    assert f'data-job-progress="/t/sevenoaks/jobs/{job_id}/progress"' in html
    assert 'value="0"' in html and "Waiting to start" in html
    assert client.get(f"/t/sevenoaks/jobs/{job_id}/progress").get_json()["state"] == QUEUED

    with app.app_context():
        held()
        [message] = outbox()
    assert message["To"] == "asha@sevenoaks.example"
    figures = client.get(f"/t/sevenoaks/jobs/{job_id}/progress").get_json()
    assert figures | {"sentence": None} == {
        "state": DONE,
        "state_label": "Finished",
        "steps_done": 1,
        "steps_total": 1,
        "percent": 100,
        "sentence": None,
        "failure": None,
        "finished": True,
    }
    html = client.get(f"/t/sevenoaks/jobs/{job_id}").get_data(as_text=True)
    assert '<meta http-equiv="refresh"' not in html
    assert 'value="100"' in html
    assert "asha@sevenoaks.example" in client.get("/t/sevenoaks/jobs/").get_data(as_text=True)


def test_a_members_job_is_hidden_from_other_members(login_as, client, app, auth, held):
    login_as("admin", "sevenoaks")
    _invite(client, "asha@sevenoaks.example")
    auth.logout()
    [job] = _sevenoaks_jobs(app)
    login_as("viewer", "sevenoaks")
    assert client.get(f"/t/sevenoaks/jobs/{job.id}").status_code == 404
    assert client.get(f"/t/sevenoaks/jobs/{job.id}/progress").status_code == 404
    assert "asha@" not in client.get("/t/sevenoaks/jobs/").get_data(as_text=True)


def _sevenoaks_jobs(app) -> list[Job]:
    from portal.extensions import db
    from portal.tenancy import tenant_scope

    with app.app_context(), tenant_scope(tenant("sevenoaks")):
        rows = db.session.scalars(_new(app, select(Job)).order_by(Job.id)).all()
        db.session.expunge_all()
        return rows


def test_a_tenantless_job_is_seen_only_by_whoever_asked(login_as, client, app, auth):
    from portal import clock
    from portal.extensions import db

    with app.app_context():
        job = Job(
            kind="test",
            title="Lead invitation",
            requested_by_id=user("lead@west-kent.demo").id,
            created_at=clock.utcnow(),
        )
        db.session.add(job)
        db.session.commit()
        job_id = job.id
    login_as("lead", partnership="west-kent")
    assert client.get(f"/jobs/{job_id}").status_code == 200
    assert client.get(f"/jobs/{job_id}/progress").get_json()["state"] == QUEUED
    auth.logout()
    login_as("lead", partnership="kent-network")
    assert client.get(f"/jobs/{job_id}").status_code == 404
    assert client.get(f"/jobs/{job_id}/progress").status_code == 404
    auth.logout()
    assert client.get(f"/jobs/{job_id}").status_code == 302  # sign in first


# --- retries, idempotence, failures ------------------------------------------------------


def _queue_invitation(app, email: str = "asha@sevenoaks.example") -> int:
    from portal.admin import services as people

    with app.test_request_context():
        people.invite(
            email,
            "Asha Patel",
            tenant=tenant("sevenoaks"),
            roles=["viewer"],
            invited_by=user("admin@sevenoaks.demo"),
        )
    return _sevenoaks_jobs(app)[-1].id


def _invitation_token_hash(app) -> str:
    from portal.auth.models import Invitation
    from portal.extensions import db

    with app.app_context():
        return db.session.scalar(select(Invitation.token_hash))


def test_a_passing_failure_is_retried_with_backoff(app, outbox, monkeypatch):
    from portal import mail

    seen: list[str] = []
    send = mail.send

    def flaky(*args, **kwargs):
        seen.append("try")
        if len(seen) == 1:
            raise ConnectionRefusedError("mail server restarting")
        return send(*args, **kwargs)

    monkeypatch.setattr(mail, "send", flaky)
    job_id = _queue_invitation(app)
    [job] = [j for j in _sevenoaks_jobs(app) if j.id == job_id]
    assert (job.state, job.attempts, job.failure) == (DONE, 2, None)
    with app.app_context():
        [message] = outbox()
    # The link in the one email that went is the invitation's link now.
    [link] = [u for u in links_in_mail(message) if "/invitation/" in u]
    token = link.rstrip("/").rsplit("/", 1)[-1]
    assert _invitation_token_hash(app) == hashlib.sha256(token.encode()).hexdigest()
    task = app.extensions["celery"].tasks[INVITATION_MAIL]
    assert task.autoretry_for == jobs.RETRYABLE
    assert task.retry_backoff and task.max_retries == jobs.MAX_RETRIES


def test_a_job_run_twice_does_its_work_once(app, outbox):
    job_id = _queue_invitation(app)
    with app.test_request_context():
        jobs._dispatch(INVITATION_MAIL, job_id, tenant("sevenoaks").id, {"invitation_id": 0})
        assert len(outbox()) == 1


def test_a_failure_is_told_in_plain_words_and_leaves_nothing_half_written(app, monkeypatch):
    from portal import mail
    from portal.admin import services as people

    # The invitation is made with a placeholder token; the email's own link token would
    # replace it, but only together with the job's success.
    tokens = iter(["placeholder-token", "link-token"])
    monkeypatch.setattr(people.secrets, "token_urlsafe", lambda n: next(tokens))

    def broken(*args, **kwargs):
        raise ValueError("a bug")

    monkeypatch.setattr(mail, "send", broken)
    job_id = _queue_invitation(app)
    [job] = [j for j in _sevenoaks_jobs(app) if j.id == job_id]
    assert (job.state, job.attempts, job.failure) == (FAILED, 1, jobs.GENERIC_FAILURE)
    assert next(tokens, None) is None  # the job did make a link token ...
    # ... and it was never stored: the unsent link cannot work.
    assert _invitation_token_hash(app) == hashlib.sha256(b"placeholder-token").hexdigest()


def test_a_retry_is_shown_on_the_job(app, monkeypatch):
    from portal import mail

    def down(*args, **kwargs):
        raise TimeoutError

    shown: list[tuple] = []
    note_retry = jobs._note_retry

    def spy(job_id, exc):
        note_retry(job_id, exc)
        [job] = _sevenoaks_jobs(app)
        shown.append((job.state, job.sentence))

    monkeypatch.setattr(mail, "send", down)
    monkeypatch.setattr(jobs, "_note_retry", spy)
    _queue_invitation(app)
    assert (
        shown
        == [
            (
                RETRYING,
                "The email could not be sent because the mail server did not answer. "
                "Trying again shortly.",
            )
        ]
        * jobs.MAX_RETRIES
    )
    [job] = _sevenoaks_jobs(app)
    assert job.state == FAILED and job.attempts == jobs.MAX_RETRIES + 1


def test_a_queue_that_is_away_changes_nothing_for_the_person(databases, tmp_path):
    from portal import create_app

    config = {
        **base_config(tmp_path),
        **databases.fresh(),
        "JOBS_BROKER_URL": f"redis://127.0.0.1:{_closed_port()}/0",
    }
    app = create_app(config)
    try:
        _remember_demonstration_jobs(app)
        client = app.test_client()
        real = _ask_for_reset(client, REAL)
        unknown = _ask_for_reset(client, UNKNOWN)
        assert real.status_code == unknown.status_code == 200
        assert _normalised(real, REAL) == _normalised(unknown, UNKNOWN)
        assert [(j.state, j.failure) for j in _all_jobs(app)] == [(FAILED, jobs.NOT_QUEUED)] * 2
    finally:
        from portal.extensions import db

        with app.app_context():
            db.engine.dispose()
        databases.drop(config)


# --- through a real worker and broker ----------------------------------------------------

BROKER = os.environ.get("TEST_CELERY_BROKER")
WORKER_START_LIMIT = 60  # seconds for a worker to start and run a job


@pytest.fixture
def worker_app(databases, tmp_path):
    """An app that sends jobs to the broker, and a real ``celery worker`` on its database."""
    if not BROKER:
        pytest.skip("TEST_CELERY_BROKER is not set")
    from portal import create_app
    from portal.extensions import db

    queue = f"portal-test-{uuid.uuid4().hex[:12]}"
    config = {
        **base_config(tmp_path),
        **databases.fresh(),
        "JOBS_BROKER_URL": BROKER,
        "JOBS_QUEUE": queue,
        "PORTAL_BASE_URL": "http://localhost",
    }
    app = create_app(config)
    _remember_demonstration_jobs(app)
    env = {
        **os.environ,
        # The worker reads the same settings as any app server: this test's own database,
        # as the application's role, and a queue of its own.
        "DATABASE_URL": config["SQLALCHEMY_DATABASE_URI"],
        "JOBS_BROKER_URL": BROKER,
        "JOBS_QUEUE": queue,
        "PORTAL_INSTANCE_PATH": str(tmp_path),
        "PORTAL_BASE_URL": "http://localhost",
        "SECRET_KEY": "test-secret-key",
        "PORTAL_DEVELOPMENT": "1",
    }
    for name in ("MAIL_SERVER", "REDIS_URL", "FLASK_APP"):
        env.pop(name, None)
    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "portal.jobs.worker",
            "worker",
            "--pool=solo",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel=INFO",
            "-Q",
            queue,
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    app.worker = worker
    app.worker_log = tmp_path / "worker.log"
    try:
        yield app
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(timeout=5)
        log.close()
        with app.app_context():
            with app.extensions["celery"].connection_for_write() as connection:
                connection.default_channel.queue_delete(queue)
            db.engine.dispose()
        databases.drop(config)


def _wait_for_jobs(app, count: int) -> list[Job]:
    """Poll the progress records until ``count`` jobs have finished, within a limit."""
    deadline = time.monotonic() + WORKER_START_LIMIT
    while True:
        rows = _all_jobs(app)
        if len([j for j in rows if j.finished]) >= count:
            return rows
        if app.worker.poll() is not None or time.monotonic() > deadline:
            pytest.fail("the worker did not finish the jobs:\n" + app.worker_log.read_text())
        time.sleep(0.2)


def test_a_real_worker_sends_reset_mail_from_the_queue(worker_app):
    from portal import mail

    app = worker_app
    client = app.test_client()
    real = _ask_for_reset(client, REAL)
    unknown = _ask_for_reset(client, UNKNOWN)
    assert _normalised(real, REAL) == _normalised(unknown, UNKNOWN)

    rows = _wait_for_jobs(app, 2)
    assert [(j.state, j.attempts) for j in rows] == [(DONE, 1), (DONE, 1)]
    with app.app_context():
        [message] = mail.read_outbox()
    assert message["To"] == REAL
    # The link the worker built works in the web app.
    link = next(u for u in links_in_mail(message) if "/password/reset/" in u)
    assert client.get(link.removeprefix("http://localhost")).status_code == 200


# --- large action-plan imports -------------------------------------------------------------


def test_a_large_action_plan_is_imported_by_a_job(login_as, client, app):
    from portal.actions.import_routes import LARGE_IMPORT_ROWS
    from portal.actions.models import Action
    from portal.extensions import db
    from portal.tenancy import tenant_scope
    from tests.test_actions_import import _go, _import

    rows = LARGE_IMPORT_ROWS + 1
    plan = "Objective,Action\n" + "".join(f"Big plan,Action number {n}\n" for n in range(rows))
    login_as("officer", "maidstone")
    token, page = _go(client, "big.csv", plan.encode())
    assert f"{rows} rows: {rows} new" in page
    response = _import(client, token)

    match = re.fullmatch(r"/t/maidstone/jobs/(\d+)", response.headers["Location"])
    assert response.status_code == 302 and match
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Importing big.csv" in html and f"{rows} actions imported." in html
    assert 'value="100"' in html and 'href="/t/maidstone/plan/objectives"' in html
    with app.app_context(), tenant_scope(tenant("maidstone")):
        job = db.session.get(Job, int(match.group(1)))
        assert (job.state, job.steps_done, job.steps_total) == (DONE, 2, 2)
        assert job.requested_by.email == "officer@maidstone.demo"
        added = db.session.scalar(
            select(func.count(Action.id)).where(Action.task.like("Action number %"))
        )
        assert added == rows


def test_a_small_action_plan_is_still_imported_at_once(login_as, client):
    from tests.test_actions_import import _go, _import

    login_as("officer", "maidstone")
    token, _ = _go(client, "small.csv", b"Objective,Action\nSmall plan,One action\n")
    assert _import(client, token).headers["Location"] == "/t/maidstone/plan/objectives"
