"""A job's page: the progress bar moves with JavaScript, and the page refreshes without it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .support import assert_accessible

pytestmark = pytest.mark.browser


def _job(live_server, title: str) -> int:
    from sqlalchemy import select

    from portal import clock
    from portal.auth.models import User
    from portal.extensions import db
    from portal.jobs.models import Job
    from portal.partners.models import Tenant
    from portal.tenancy import tenant_scope

    with live_server.app.app_context():
        sevenoaks = db.session.scalar(select(Tenant).where(Tenant.slug == "sevenoaks"))
        admin = db.session.scalar(select(User).where(User.email == "admin@sevenoaks.demo"))
        with tenant_scope(sevenoaks):
            job = Job(
                kind="browser",
                title=title,
                tenant_id=sevenoaks.id,
                requested_by_id=admin.id,
                steps_total=3,
                created_at=clock.utcnow(),
            )
            db.session.add(job)
            db.session.commit()
            return job.id


def _move(live_server, job_id: int, **values) -> None:
    from sqlalchemy import select

    from portal.extensions import db
    from portal.jobs.models import Job
    from portal.tenancy import tenant_scope

    with live_server.app.app_context():
        job = None
        from portal.partners.models import Tenant

        sevenoaks = db.session.scalar(select(Tenant).where(Tenant.slug == "sevenoaks"))
        with tenant_scope(sevenoaks):
            job = db.session.scalar(select(Job).where(Job.id == job_id))
            for name, value in values.items():
                setattr(job, name, value)
            db.session.commit()


def test_the_progress_bar_follows_the_job(sign_in, live_server):
    job_id = _job(live_server, "Importing the action plan")
    page = sign_in("admin@sevenoaks.demo")
    assert_accessible(page)
    page.goto(f"/t/sevenoaks/jobs/{job_id}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Importing the action plan")
    bar = page.get_by_role("progressbar")
    expect(bar).to_have_attribute("value", "0")
    assert_accessible(page)

    _move(live_server, job_id, state="running", steps_done=1, sentence="Read 200 of 600 rows")
    expect(page.get_by_role("status")).to_have_text("Read 200 of 600 rows")
    expect(bar).to_have_attribute("value", "33")
    expect(page.locator(".portal-job .govuk-tag")).to_have_text("In progress")

    _move(live_server, job_id, state="failed", failure="The file could not be read.")
    expect(page.get_by_role("alert")).to_contain_text("The file could not be read.")
    expect(page.locator(".portal-job .govuk-tag")).to_have_text("Failed")
    assert_accessible(page)
    # All of that happened in place: the page never reloaded (the fixture checks that
    # every document loaded was checked with axe, and only this one was).
    assert page.url.endswith(f"/t/sevenoaks/jobs/{job_id}")


def test_without_javascript_the_page_refreshes_itself(chromium_browser, live_server):
    job_id = _job(live_server, "Sending an invitation")
    context = chromium_browser.new_context(base_url=live_server.url, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto("/login")
        page.get_by_label("Email address").fill("admin@sevenoaks.demo")
        from .conftest import DEMO_PASSWORD

        page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page).not_to_have_url(re.compile(r"/login"))
        page.goto(f"/t/sevenoaks/jobs/{job_id}")
        expect(page.get_by_text("Waiting to start").first).to_be_visible()
        _move(live_server, job_id, state="done", steps_done=3, sentence="The email has been sent.")
        expect(page.get_by_text("The email has been sent.")).to_be_visible()
        expect(page.locator('meta[http-equiv="refresh"]')).to_have_count(0)
    finally:
        context.close()
