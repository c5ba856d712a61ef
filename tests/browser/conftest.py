"""Fixtures for the browser tests: a live portal with demonstration data, and Chromium.

Everything here is self-contained: it does not use the fixtures of ``tests/conftest.py``,
and its fixture names (``live_server``, ``chromium_browser``, ``browser_page`` …) do not
clash with the root ``app``, ``client``, ``db`` and ``login_as``.

One server and one browser serve the whole session; every test gets a fresh browser
context, so no cookie or session leaks from one test into the next.
"""

from __future__ import annotations

import os
import re
import secrets
import threading
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from playwright.sync_api import expect

from .support import assert_accessible, install_axe

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DEMO_PASSWORD = "partnership-demo-2026"
# Generous waits: a busy two-core CI machine can be slow, and a passing check returns at once.
TIMEOUT_MS = 10_000
expect.set_options(timeout=TIMEOUT_MS)


@dataclass
class LiveServer:
    """The running portal: where it listens, its app and its instance folder."""

    url: str
    app: object
    instance_path: Path

    def outbox(self) -> list[EmailMessage]:
        """Every message the portal has 'sent' (written to ``<instance>/outbox``), oldest first."""
        folder = self.instance_path / "outbox"
        return [
            message_from_bytes(path.read_bytes(), policy=policy.default)
            for path in sorted(folder.glob("*.eml"))
        ]

    def message_to(self, address: str) -> EmailMessage:
        """The newest message sent to ``address``; fails if there is none."""
        found = [m for m in self.outbox() if m["To"] == address]
        assert found, f"no email to {address} in {self.instance_path / 'outbox'}"
        return found[-1]

    @staticmethod
    def link_in(message: EmailMessage) -> str:
        """The first web address in a plain-text message."""
        body = message.get_body(preferencelist=("plain",)).get_content()
        match = re.search(r"https?://\S+", body)
        assert match, f"no link in the message:\n{body}"
        return match.group(0)


@pytest.fixture(scope="session")
def demo_password() -> str:
    return DEMO_PASSWORD


@pytest.fixture(scope="session")
def live_server(tmp_path_factory, demo_password):
    """The portal, migrated and loaded with demonstration data, served on a free port."""
    instance = tmp_path_factory.mktemp("portal-instance")
    import flask_migrate
    from werkzeug.serving import make_server

    import portal
    from portal import demo

    app = portal.create_app(
        {
            "INSTANCE_PATH": str(instance),
            "TESTING": False,
            "DEBUG": False,
            "SECRET_KEY": "browser-tests-" + "k" * 40,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'portal.sqlite3'}",
            "MIGRATION_DATABASE_URI": None,
            "DATABASE_APP_ROLE": None,
            "SESSION_COOKIE_SECURE": False,
            "RATELIMIT_STORAGE_URI": "memory://",
            "REDIS_URL": None,
            "JOBS_BROKER_URL": None,
            "MAIL_SERVER": None,
            "PORTAL_BASE_URL": None,
            "PORTAL_DEVELOPMENT": True,
            "PORTAL_DEMO_PASSWORD": demo_password,
            "ARGON2_TIME_COST": 2,
            "ARGON2_MEMORY_COST": 19456,
            "ARGON2_PARALLELISM": 1,
        }
    )
    assert Path(app.instance_path) == instance
    with app.app_context():
        try:
            flask_migrate.upgrade(revision="heads")
        except SystemExit as exc:  # Flask-Migrate logs an Alembic error, then exits
            pytest.fail(f"the migrations did not run (exit {exc.code}): see the log", pytrace=False)
        list(demo.load(demo_password))

    server = make_server("127.0.0.1", 0, app, threaded=True)
    # Emailed links come from the configured address, never from a request.
    app.config["PORTAL_BASE_URL"] = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, name="live-portal", daemon=True)
    thread.start()
    try:
        yield LiveServer(
            url=f"http://127.0.0.1:{server.server_port}", app=app, instance_path=instance
        )
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        with app.app_context():
            from portal.extensions import db

            db.engine.dispose()


@pytest.fixture(scope="session")
def chromium_browser(live_server):
    """Debian's Chromium, driven by Playwright. Never downloads a browser.

    It starts after the portal: Playwright runs an event loop in this thread, and the
    demonstration data's report build (kaleido, through asyncio.run) needs none running.
    """
    if not CHROMIUM.exists() or not os.access(CHROMIUM, os.X_OK):
        if os.environ.get("CI"):
            pytest.fail(
                f"{CHROMIUM} is missing, and CI is set: the browser tests must run", pytrace=False
            )
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    # Keep each phase's report on the test, so fixtures can tell whether the test passed.
    report = yield
    item.stash.setdefault(_REPORTS, {})[report.when] = report
    return report


_REPORTS = pytest.StashKey[dict]()


@pytest.fixture
def browser_page(request, chromium_browser, live_server):
    """A page in a fresh browser context (no cookies), with relative URLs on the live portal.

    At the end of a passing test it checks that every document the browser loaded was
    checked with axe, so a new step in a journey cannot skip the check unnoticed, and that
    the browser met no script error and no missing resource.
    """
    context = chromium_browser.new_context(base_url=live_server.url, locale="en-GB")
    context.set_default_timeout(TIMEOUT_MS)
    install_axe(context)
    page = context.new_page()
    # Every document the page loads, in order, and which of them axe has checked
    # (support.assert_accessible adds the number of the document it checked).
    page.axe_documents = []
    page.axe_checked = set()
    page.on("domcontentloaded", lambda p: p.axe_documents.append(p.url))
    errors: list[str] = []

    def on_console(msg):
        # A failed load is reported below, with its address; a 404 page is one on purpose.
        if msg.type == "error" and not msg.text.startswith("Failed to load resource"):
            errors.append(msg.text)

    def on_response(response):
        if response.status >= 400 and response.request.resource_type != "document":
            errors.append(f"{response.status} for {response.url}")

    page.on("pageerror", lambda exc: errors.append(f"script error: {exc}"))
    page.on("console", on_console)
    page.on("response", on_response)
    try:
        yield page
        call = request.node.stash.get(_REPORTS, {}).get("call")
        if call is None or not call.passed:
            return  # the test's own failure says more than a missed check would
        page.evaluate("0")  # let Playwright deliver any events still in flight
        unchecked = [
            url
            for number, url in enumerate(page.axe_documents, start=1)
            if number not in page.axe_checked
        ]
        assert not unchecked, f"pages loaded but not checked with axe: {unchecked}"
        assert not errors, f"errors in the browser: {errors}"
    finally:
        context.close()


@pytest.fixture
def sign_in(browser_page, demo_password):
    """Sign in through the form as ``email``; returns the page where the portal lands."""

    def _sign_in(email: str, password: str | None = None):
        page = browser_page
        page.goto("/login")
        expect(page.get_by_role("heading", name="Sign in", level=1)).to_be_visible()
        assert_accessible(page)
        page.get_by_label("Email address").fill(email)
        page.get_by_label("Password", exact=True).fill(password or demo_password)
        page.get_by_role("button", name="Sign in").click()
        expect(page).not_to_have_url(re.compile(r"/login"))
        return page

    return _sign_in


@pytest.fixture
def unique_email():
    """A fresh address each call, so tests that invite people do not depend on each other."""

    def _make(prefix: str = "person") -> str:
        return f"{prefix}-{secrets.token_hex(4)}@example.org"

    return _make
