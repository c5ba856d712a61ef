"""Signing in and out, sessions, lockout, password resets and invitations."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal import clock
from portal.auth.models import UserSession
from tests.conftest import PASSWORD
from tests.helpers import audit_events, csrf_token, links_in_mail, user


@pytest.fixture
def frozen(monkeypatch):
    """A clock the test moves by hand."""

    class Clock:
        now = clock.utcnow()

        def advance(self, **kwargs):
            self.now += timedelta(**kwargs)

    c = Clock()
    monkeypatch.setattr(clock, "utcnow", lambda: c.now)
    return c


def audit_actions(app, email: str) -> list[str]:
    return [e.action for e in audit_events(app, actor_email=email)]


def test_officer_signs_in_and_lands_on_their_authority(auth, client):
    response = auth.login("officer@sevenoaks.demo")
    assert response.status_code == 302
    assert response.headers["Location"] == "/t/sevenoaks/"
    page = client.get("/t/sevenoaks/").get_data(as_text=True)
    assert "Sevenoaks District Council" in page


def test_partnership_lead_lands_on_partnership(auth):
    assert auth.login("lead@west-kent.demo").headers["Location"] == "/p/west-kent/"


def test_person_with_several_places_chooses(app, auth, client):
    with app.app_context():
        from portal.auth.models import TenantGrant
        from portal.extensions import db
        from tests.helpers import tenant

        person = user("officer@sevenoaks.demo")
        db.session.add(TenantGrant(user=person, tenant=tenant("thanet"), role="viewer"))
        db.session.commit()
    assert auth.login("officer@sevenoaks.demo").headers["Location"] == "/choose"
    page = client.get("/choose").get_data(as_text=True)
    assert "Sevenoaks District Council" in page and "Thanet District Council" in page


def test_wrong_password_is_refused_with_a_clear_message(auth, client, app):
    response = auth.login("officer@sevenoaks.demo", "not-the-password")
    assert response.status_code == 200
    assert "The email address or password is not right" in response.get_data(as_text=True)
    assert client.get("/t/sevenoaks/").status_code == 302
    assert "auth.login_failed" in audit_actions(app, "officer@sevenoaks.demo")


def test_unknown_account_gets_the_same_message(auth):
    response = auth.login("nobody@example.org", "whatever-password")
    assert "The email address or password is not right" in response.get_data(as_text=True)


def test_empty_form_lists_each_problem(client):
    token = csrf_token(client, "/login")
    page = client.post("/login", data={"csrf_token": token}).get_data(as_text=True)
    assert "There is a problem" in page
    assert "Enter your email address" in page and "Enter your password" in page


def test_login_without_csrf_token_is_refused(client):
    response = client.post("/login", data={"email": "officer@sevenoaks.demo", "password": PASSWORD})
    assert response.status_code == 400
    assert "Your form could not be sent" in response.get_data(as_text=True)


def test_sign_in_starts_a_new_server_session(auth, client, app):
    client.get("/login")
    before = client.get_cookie("portal_session")
    auth.login("officer@sevenoaks.demo")
    after = client.get_cookie("portal_session")
    assert after is not None and (before is None or before.value != after.value)
    with app.app_context():
        from portal.extensions import db

        assert db.session.scalar(select(func.count(UserSession.id))) == 1


def test_logout_ends_the_session_on_the_server(auth, client):
    auth.login("officer@sevenoaks.demo")
    old_cookie = client.get_cookie("portal_session").value
    assert auth.logout().status_code == 302
    client.set_cookie("portal_session", old_cookie)
    response = client.get("/t/sevenoaks/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_disabling_an_account_ends_its_sessions(auth, client, app):
    auth.login("viewer@sevenoaks.demo")
    assert client.get("/t/sevenoaks/").status_code == 200
    with app.app_context():
        from portal.auth import services

        services.disable(user("viewer@sevenoaks.demo"), by=user("admin@sevenoaks.demo"))
    assert client.get("/t/sevenoaks/").status_code == 302
    response = auth.login("viewer@sevenoaks.demo")
    assert "This account has been disabled" in response.get_data(as_text=True)


def test_idle_session_expires_after_30_minutes(auth, client, frozen):
    auth.login("officer@sevenoaks.demo")
    frozen.advance(minutes=29)
    assert client.get("/t/sevenoaks/").status_code == 200
    frozen.advance(minutes=29)
    assert client.get("/t/sevenoaks/").status_code == 200  # activity kept it alive
    frozen.advance(minutes=31)
    assert client.get("/t/sevenoaks/").status_code == 302


def test_session_ends_after_12_hours_however_active(auth, client, frozen):
    auth.login("officer@sevenoaks.demo")
    for _ in range(24):
        frozen.advance(minutes=29)
        assert client.get("/t/sevenoaks/").status_code == 200
    frozen.advance(minutes=29)  # 12 h 25 min after signing in
    assert client.get("/t/sevenoaks/").status_code == 302


def test_session_cookie_is_secure_outside_debug(databases, tmp_path):
    from portal import create_app
    from tests.conftest import base_config

    config = {**base_config(tmp_path), **databases.fresh()}
    config.pop("SESSION_COOKIE_SECURE")
    app = create_app(config)
    try:
        client = app.test_client()
        client.get("/login")
        header = client.post("/login").headers.getlist("Set-Cookie")
        assert app.config["SESSION_COOKIE_SECURE"] is True
        assert all("Secure" in h and "HttpOnly" in h for h in header), header
    finally:
        with app.app_context():
            from portal.extensions import db

            db.engine.dispose()
        databases.drop(config)


def test_ten_failures_lock_the_account_for_15_minutes(auth, app, frozen):
    for _ in range(9):
        page = auth.login("officer@sevenoaks.demo", "wrong-password").get_data(as_text=True)
        assert "The email address or password is not right" in page
    page = auth.login("officer@sevenoaks.demo", "wrong-password").get_data(as_text=True)
    assert "It is locked for 15 minutes" in page
    # The right password does not help while the lock lasts...
    page = auth.login("officer@sevenoaks.demo").get_data(as_text=True)
    assert "It is locked for 15 minutes" in page
    actions = audit_actions(app, "officer@sevenoaks.demo")
    assert actions.count("auth.account_locked") == 1
    assert "auth.login_refused" in actions
    # ...and after 15 minutes it does.
    frozen.advance(minutes=16)
    assert auth.login("officer@sevenoaks.demo").status_code == 302


def test_locked_account_is_refused_before_any_password_is_hashed(auth, app, monkeypatch):
    for _ in range(10):
        auth.login("officer@sevenoaks.demo", "wrong-password")
    from argon2 import PasswordHasher

    calls = []
    original = PasswordHasher.verify
    monkeypatch.setattr(
        PasswordHasher, "verify", lambda self, *a: calls.append(1) or original(self, *a)
    )
    auth.login("officer@sevenoaks.demo")
    assert calls == []


def test_too_many_attempts_from_one_address_are_limited(databases, tmp_path):
    from portal import create_app
    from tests.conftest import AuthActions, base_config

    config = {
        **base_config(tmp_path),
        **databases.fresh(),
        "LOGIN_ADDRESS_LIMIT": "3 per 15 minutes",
    }
    app = create_app(config)
    try:
        with app.app_context():
            from portal.extensions import limiter

            limiter.reset()
        auth = AuthActions(app.test_client())
        for n in range(3):
            assert auth.login(f"person{n}@example.org", "wrong-password").status_code == 200
        response = auth.login("officer@sevenoaks.demo")
        assert response.status_code == 429
        assert "too many attempts to sign in from your network" in response.get_data(as_text=True)
    finally:
        with app.app_context():
            from portal.extensions import db

            db.engine.dispose()
        databases.drop(config)


def test_passwords_are_argon2id_at_or_above_owasp_minimum(app):
    from portal import config as settings

    with app.app_context():
        app.config.update(
            {
                k: settings.DEFAULTS[k]
                for k in ("ARGON2_TIME_COST", "ARGON2_MEMORY_COST", "ARGON2_PARALLELISM")
            }
        )
        from portal.auth.services import hash_password

        encoded = hash_password("a long enough password")
    assert encoded.startswith("$argon2id$")
    params = dict(p.split("=") for p in encoded.split("$")[3].split(","))
    # OWASP: m=19 MiB with t=2, p=1 is the least acceptable.
    assert int(params["m"]) >= 19456 and int(params["t"]) >= 2 and int(params["p"]) >= 1


def test_next_only_follows_local_paths(auth, client):
    token = csrf_token(client, "/login")
    for target, expected in [
        ("/t/sevenoaks/admin/people", "/t/sevenoaks/admin/people"),
        ("https://evil.example/", "/t/sevenoaks/"),
        ("//evil.example/", "/t/sevenoaks/"),
    ]:
        response = client.post(
            f"/login?next={target}",
            data={"email": "admin@sevenoaks.demo", "password": PASSWORD, "csrf_token": token},
        )
        assert response.headers["Location"] == expected
        auth.logout()
        token = csrf_token(client, "/login")


def test_password_reset_by_emailed_single_use_link(auth, client, outbox, app):
    token = csrf_token(client, "/password/forgot")
    page = client.post(
        "/password/forgot", data={"email": "officer@sevenoaks.demo", "csrf_token": token}
    ).get_data(as_text=True)
    assert "Check your email" in page
    with app.app_context():
        messages = outbox()
    assert len(messages) == 1 and messages[0]["To"] == "officer@sevenoaks.demo"
    link = next(u for u in links_in_mail(messages[0]) if "/password/reset/" in u)
    path = link.split("localhost", 1)[1]
    token = csrf_token(client, path)
    response = client.post(
        path,
        data={
            "password": "a brand new passphrase",
            "confirm": "a brand new passphrase",
            "csrf_token": token,
        },
    )
    assert response.status_code == 302
    assert auth.login("officer@sevenoaks.demo").status_code == 200  # old password refused
    assert auth.login("officer@sevenoaks.demo", "a brand new passphrase").status_code == 302
    auth.logout()
    assert client.get(path).status_code == 404  # used once, never again


def test_reset_link_expires(client, outbox, app, frozen):
    token = csrf_token(client, "/password/forgot")
    client.post("/password/forgot", data={"email": "officer@sevenoaks.demo", "csrf_token": token})
    with app.app_context():
        link = links_in_mail(outbox()[0])[0]
    frozen.advance(hours=2, minutes=1)
    response = client.get(link.split("localhost", 1)[1])
    assert response.status_code == 404
    assert "This link does not work" in response.get_data(as_text=True)


def test_reset_for_unknown_address_says_the_same_and_sends_nothing(client, outbox, app):
    token = csrf_token(client, "/password/forgot")
    page = client.post(
        "/password/forgot", data={"email": "nobody@example.org", "csrf_token": token}
    ).get_data(as_text=True)
    assert "Check your email" in page
    with app.app_context():
        assert outbox() == []


def test_short_or_mismatched_new_passwords_are_explained(client, outbox, app):
    token = csrf_token(client, "/password/forgot")
    client.post("/password/forgot", data={"email": "officer@sevenoaks.demo", "csrf_token": token})
    with app.app_context():
        path = links_in_mail(outbox()[0])[0].split("localhost", 1)[1]
    token = csrf_token(client, path)
    page = client.post(
        path, data={"password": "short", "confirm": "other", "csrf_token": token}
    ).get_data(as_text=True)
    assert "Password must be at least 12 characters" in page
    assert "The passwords do not match" in page


def test_lockout_reads_the_same_for_an_address_with_no_account(auth):
    for _ in range(9):
        page = auth.login("nobody@example.org", "wrong-password").get_data(as_text=True)
        assert "The email address or password is not right" in page
    page = auth.login("nobody@example.org", "wrong-password").get_data(as_text=True)
    assert "It is locked for 15 minutes" in page
    page = auth.login("nobody@example.org", "wrong-password").get_data(as_text=True)
    assert "It is locked for 15 minutes" in page


# --- invitations -------------------------------------------------------------------------


def _invitation_path(app, auth, client, outbox, email: str, roles=("viewer",)) -> str:
    auth.login("admin@sevenoaks.demo")
    url = "/t/sevenoaks/admin/people/invite"
    client.post(
        url,
        data={
            "name": "Invited Person",
            "email": email,
            "roles": list(roles),
            "csrf_token": csrf_token(client, url),
        },
    )
    auth.logout()
    with app.app_context():
        message = outbox()[-1]
    assert message["To"] == email
    return links_in_mail(message)[0].split("localhost", 1)[1]


def test_an_existing_account_signs_in_to_accept_and_comes_back(app, auth, client, outbox):
    path = _invitation_path(app, auth, client, outbox, "ceo@thanet.demo")
    page = client.get(path).get_data(as_text=True)
    assert "Sign in to accept" in page and "Choose a password" not in page
    # Sign in through the link's own sign-in button, which brings the person back.
    response = client.post(
        f"/login?next={path}",
        data={
            "email": "ceo@thanet.demo",
            "password": PASSWORD,
            "csrf_token": csrf_token(client, "/login"),
        },
    )
    assert response.headers["Location"] == path
    assert "Accept invitation" in client.get(path).get_data(as_text=True)
    with app.app_context():
        from tests.helpers import tenant

        assert user("ceo@thanet.demo").roles_in(tenant("sevenoaks")) == set()
    response = client.post(path, data={"csrf_token": csrf_token(client, path)})
    assert response.status_code == 302
    assert client.get("/t/sevenoaks/").status_code == 200
    # Used once: the link no longer works.
    assert client.get(path).status_code == 404


def test_an_invitation_cannot_be_accepted_by_another_account(app, auth, client, outbox):
    path = _invitation_path(app, auth, client, outbox, "ceo@thanet.demo")
    auth.login("viewer@thanet.demo")
    page = client.get(path).get_data(as_text=True)
    assert "you are signed in with another account" in page
    assert "Accept invitation" not in page
    client.post(path, data={"csrf_token": csrf_token(client, "/account")})
    with app.app_context():
        from tests.helpers import tenant

        assert user("viewer@thanet.demo").roles_in(tenant("sevenoaks")) == set()
        assert user("ceo@thanet.demo").roles_in(tenant("sevenoaks")) == set()


def test_an_invitation_expires(app, auth, client, outbox, frozen):
    path = _invitation_path(app, auth, client, outbox, "late@example.org")
    frozen.advance(days=7, seconds=1)
    page = client.get(path)
    assert page.status_code == 404
    assert "This link does not work" in page.get_data(as_text=True)
