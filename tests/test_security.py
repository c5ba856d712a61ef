"""Headers on every response, error pages, health check."""

from __future__ import annotations

import re

import pytest


@pytest.mark.parametrize("path", ["/", "/login", "/healthz", "/nope", "/static/portal.js"])
def test_security_headers_on_every_response(client, path):
    headers = client.get(path).headers
    csp = headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert re.search(r"script-src 'self' 'nonce-[\w-]+'", csp)
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert headers["Strict-Transport-Security"].startswith("max-age=")


def test_inline_script_carries_this_responses_nonce(client):
    response = client.get("/login")
    nonce = re.search(r"'nonce-([\w-]+)'", response.headers["Content-Security-Policy"]).group(1)
    scripts = re.findall(r"<script([^>]*)>", response.get_data(as_text=True))
    assert scripts and all(f'nonce="{nonce}"' in attrs for attrs in scripts)
    assert (
        client.get("/login").headers["Content-Security-Policy"]
        != response.headers["Content-Security-Policy"]
    )


def test_no_hsts_in_debug(databases, tmp_path):
    from portal import create_app
    from tests.conftest import base_config

    config = {**base_config(tmp_path), **databases.fresh(), "DEBUG": True}
    app = create_app(config)
    try:
        assert "Strict-Transport-Security" not in app.test_client().get("/").headers
    finally:
        with app.app_context():
            from portal.extensions import db

            db.engine.dispose()
        databases.drop(config)


def test_pages_are_not_cached(client):
    assert client.get("/login").headers["Cache-Control"] == "no-store"


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_not_found_page(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)


def test_unknown_tenant_and_foreign_tenant_look_the_same(login_as, client):
    login_as("officer", "sevenoaks")
    foreign = client.get("/t/thanet/")
    missing = client.get("/t/no-such-council/")
    assert foreign.status_code == missing.status_code == 404
    assert "Thanet" not in foreign.get_data(as_text=True)


def test_role_without_permission_is_403_in_own_tenant(login_as, client):
    login_as("viewer", "sevenoaks")
    response = client.get("/t/sevenoaks/admin/people")
    assert response.status_code == 403
    assert "You do not have permission" in response.get_data(as_text=True)


def test_server_error_page_leaks_nothing(app, login_as, client, monkeypatch):
    from portal.commitments import services

    def broken():
        raise RuntimeError("secret stack detail")

    monkeypatch.setattr(services, "commitments", broken)
    login_as("officer", "sevenoaks")
    response = client.get("/t/sevenoaks/plan/commitments")
    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Sorry, there is a problem with the service" in page
    assert "secret stack detail" not in page and "Traceback" not in page


def test_accessibility_privacy_and_cookies_pages(client):
    for path, heading in [
        ("/accessibility", "Accessibility statement"),
        ("/privacy", "Privacy notice"),
        ("/cookies", "Cookies"),
    ]:
        page = client.get(path).get_data(as_text=True)
        assert f">{heading}</h1>" in page


def test_layout_is_unbranded(client):
    page = client.get("/").get_data(as_text=True)
    assert "Equality Partnership Portal" in page
    assert "govuk-header__logo" not in page and "Crown copyright" not in page
    css = client.get("/static/govuk/portal.css").get_data(as_text=True)
    assert "GDS Transport" not in css


def test_skip_link_on_every_page(client):
    assert 'href="#main-content"' in client.get("/login").get_data(as_text=True)


def test_a_save_racing_another_is_explained_and_saves_nothing(app, login_as, client, monkeypatch):
    from sqlalchemy.orm.exc import StaleDataError

    from portal.commitments import services

    def racing(row, direction):
        raise StaleDataError("UPDATE statement on table 'commitment' expected to update 1 row")

    monkeypatch.setattr(services, "move_commitment", racing)
    login_as("officer", "west-kent-housing")
    base = "/t/west-kent-housing/plan/commitments"
    page = client.get(base).get_data(as_text=True)
    import re

    from tests.helpers import csrf_token

    commitment_id = re.search(r"/plan/commitments/(\d+)/move", page).group(1)
    response = client.post(
        f"{base}/{commitment_id}/move",
        data={"direction": "down", "csrf_token": csrf_token(client, base)},
    )
    assert response.status_code == 409
    assert "Somebody else changed this at the same time" in response.get_data(as_text=True)
