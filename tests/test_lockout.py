"""Wrong passwords lock sign-in per account and network address first, everywhere only when
they come from many addresses; the owner unlocks by an emailed single-use link."""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal import clock
from tests.conftest import AuthActions
from tests.helpers import audit_events, csrf_token, links_in_mail

OWNER = "officer@sevenoaks.demo"
LOCKED = "It is locked for 15 minutes"
WRONG = "The email address or password is not right"


@pytest.fixture
def frozen(monkeypatch):
    class Clock:
        now = clock.utcnow()

        def advance(self, **kwargs):
            self.now += timedelta(**kwargs)

    c = Clock()
    monkeypatch.setattr(clock, "utcnow", lambda: c.now)
    return c


def from_address(app, address: str) -> AuthActions:
    """Somebody signing in from ``address``."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return AuthActions(client)


def unlock_mails(outbox, app) -> list:
    with app.app_context():
        return [m for m in outbox() if "locked" in m["Subject"]]


def test_wrong_passwords_from_one_address_do_not_lock_the_owner_out(app, outbox):
    attacker = from_address(app, "198.51.100.7")
    for _ in range(10):
        attacker.login(OWNER, "wrong-password")
    assert LOCKED in attacker.login(OWNER).get_data(as_text=True)  # locked from there
    owner = from_address(app, "203.0.113.5")
    assert owner.login(OWNER).status_code == 302  # the owner signs in as usual
    [event] = audit_events(app, action="auth.account_locked")
    assert event.detail["from"] == "198.51.100.7"


def _spread_attack(app, email: str, addresses: int = 5, each: int = 2) -> None:
    for n in range(addresses):
        guesser = from_address(app, f"192.0.2.{n + 1}")
        for _ in range(each):
            page = guesser.login(email, "wrong-password").get_data(as_text=True)
            assert WRONG in page or LOCKED in page


def test_failures_from_many_addresses_lock_the_account_everywhere(app, outbox, monkeypatch):
    _spread_attack(app, OWNER)
    owner = from_address(app, "203.0.113.5")
    from argon2 import PasswordHasher

    calls = []
    original = PasswordHasher.verify
    monkeypatch.setattr(
        PasswordHasher, "verify", lambda self, *a: calls.append(1) or original(self, *a)
    )
    page = owner.login(OWNER).get_data(as_text=True)
    assert LOCKED in page
    assert calls == []  # refused before any password is hashed
    events = audit_events(app, action="auth.account_locked")
    assert [e.detail["from"] for e in events] == ["every address"]


def test_a_few_wrong_passwords_from_several_addresses_do_not_lock(app):
    _spread_attack(app, OWNER, addresses=4, each=2)
    assert from_address(app, "203.0.113.5").login(OWNER).status_code == 302
    assert not audit_events(app, action="auth.account_locked")


def test_owner_unlocks_by_the_emailed_single_use_link(app, outbox, frozen):
    _spread_attack(app, OWNER)
    _spread_attack(app, OWNER)  # locked again and again: still one email
    [message] = unlock_mails(outbox, app)
    assert message["To"] == OWNER
    [link] = [u for u in links_in_mail(message) if "/unlock/" in u]
    assert link.startswith("http://localhost/unlock/")
    path = link.split("localhost", 1)[1]
    owner = from_address(app, "203.0.113.5")
    assert LOCKED in owner.login(OWNER).get_data(as_text=True)
    page = owner.client.get(path).get_data(as_text=True)
    assert "Unlock your account" in page and OWNER in page
    response = owner.client.post(path, data={"csrf_token": csrf_token(owner.client, path)})
    assert response.status_code == 302
    assert owner.login(OWNER).status_code == 302
    assert owner.client.get(path).status_code == 404  # works once
    [event] = audit_events(app, action="auth.account_unlocked")
    assert event.actor_email == OWNER


def test_unlock_link_expires(app, outbox, frozen):
    _spread_attack(app, OWNER)
    [message] = unlock_mails(outbox, app)
    path = links_in_mail(message)[0].split("localhost", 1)[1]
    frozen.advance(hours=2, minutes=1)
    response = app.test_client().get(path)
    assert response.status_code == 404
    assert "unlock links last 2 hours" in response.get_data(as_text=True)


def test_a_lock_ends_after_15_minutes(app, frozen):
    _spread_attack(app, OWNER)
    owner = from_address(app, "203.0.113.5")
    frozen.advance(minutes=14)
    assert LOCKED in owner.login(OWNER).get_data(as_text=True)
    frozen.advance(minutes=2)
    assert owner.login(OWNER).status_code == 302


def test_an_address_with_no_account_reads_the_same_and_gets_no_mail(app, outbox):
    _spread_attack(app, "nobody@example.org")
    page = from_address(app, "203.0.113.5").login("nobody@example.org").get_data(as_text=True)
    assert LOCKED in page
    attacker = from_address(app, "198.51.100.7")
    for _ in range(10):
        attacker.login("somebody-else@example.org", "wrong-password")
    assert LOCKED in attacker.login("somebody-else@example.org").get_data(as_text=True)
    with app.app_context():
        assert outbox() == []


def test_resetting_the_password_ends_the_lock(app, outbox):
    _spread_attack(app, OWNER)
    owner = from_address(app, "203.0.113.5")
    token = csrf_token(owner.client, "/password/forgot")
    owner.client.post("/password/forgot", data={"email": OWNER, "csrf_token": token})
    with app.app_context():
        [reset] = [m for m in outbox() if "Reset" in m["Subject"]]
    path = links_in_mail(reset)[0].split("localhost", 1)[1]
    owner.client.post(
        path,
        data={
            "password": "a brand new passphrase",
            "confirm": "a brand new passphrase",
            "csrf_token": csrf_token(owner.client, path),
        },
    )
    assert owner.login(OWNER, "a brand new passphrase").status_code == 302


def test_a_lock_queues_the_same_job_whether_or_not_the_account_exists(app, outbox):
    """The unlock email leaves through the job queue, queued for every lock, so the request
    that locks does the same work for a real account and for an unknown address."""
    from sqlalchemy import select

    from portal.extensions import db
    from portal.jobs.models import Job

    for email, address in ((OWNER, "198.51.100.7"), ("nobody@example.org", "198.51.100.8")):
        guesser = from_address(app, address)
        for _ in range(10):
            guesser.login(email, "wrong-password")
    with app.app_context():
        jobs = db.session.scalars(select(Job).where(Job.kind == "unlock_mail")).all()
        assert [job.title for job in jobs] == ["Sign-in unlock email"] * 2
        assert len(unlock_mails(outbox, app)) == 1
