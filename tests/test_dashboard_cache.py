"""The organisation's dashboard is kept between views (portal/cache.py) under the
organisation's data version: an edit shows on the next view, a view writes nothing that
moves the version, and no viewer is ever shown a dashboard kept for another."""

from __future__ import annotations

import re

from sqlalchemy import select

from portal.extensions import db
from portal.tenancy import tenant_scope
from tests.helpers import as_partnership, audit_events, tenant, user
from tests.test_dashboard import _chart_rows, _measure_with_target
from tests.test_dashboard_queries import _counting


def _version(app, slug: str = "sevenoaks") -> int:
    with app.app_context():
        return tenant(slug).data_version


def _home(client) -> str:
    response = client.get("/t/sevenoaks/")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_a_second_view_reads_the_kept_dashboard_and_still_records_the_view(app, client, login_as):
    login_as("viewer", "sevenoaks")
    first = _home(client)
    version = _version(app)
    before = len(audit_events(app, action="incident.statistics_viewed"))
    with app.app_context():
        engine = db.engine
    with _counting(engine) as statements:
        second = _home(client)
    # The session, and the view in the audit trail: none of the dashboard's own reads.
    assert len(statements) <= 6, statements
    assert not any("FROM action" in s for s in statements)
    assert _chart_rows(second, "incident-trend") == _chart_rows(first, "incident-trend")
    assert len(audit_events(app, action="incident.statistics_viewed")) == before + 1
    # Recording the view (and the session's touch) is not a change to the data.
    assert _version(app) == version


def test_an_edit_to_the_organisations_rows_shows_on_the_next_view(app, client, login_as):
    from portal.actions.models import Action

    login_as("officer", "sevenoaks")
    page = _home(client)
    assert "Residents satisfied with services" not in page
    before = _chart_rows(page, "actions-by-objective")
    version = _version(app)

    with app.app_context():
        _measure_with_target(None, "sevenoaks", {"2023": 70, "2024": 80})
    assert _version(app) > version
    page = _home(client)
    measures = page[page.index("Measures with targets") : page.index("against the community")]
    assert "Residents satisfied with services" in measures and "Green: target met" in measures

    with app.app_context(), tenant_scope(tenant("sevenoaks")):
        action = db.session.scalars(
            select(Action).where(Action.status != "complete").order_by(Action.id)
        ).first()
        action.status = "complete"
        db.session.commit()
    after = _chart_rows(_home(client), "actions-by-objective")
    assert after != before
    complete = after[0].index("Complete")
    assert sum(int(row[complete]) for row in after[1:]) == 1 + sum(
        int(row[before[0].index("Complete")]) for row in before[1:] if "Complete" in before[0]
    )


def test_an_edit_to_a_partnerships_joint_aim_shows_on_its_members_next_view(app, client, login_as):
    from portal.aims.models import JointAim

    login_as("officer", "sevenoaks")
    page = _home(client)
    labels = [row[0] for row in _chart_rows(page, "actions-by-aim")[1:]]
    assert labels, "the demonstration actions are linked to joint aims"
    version = _version(app)
    with app.app_context(), as_partnership("west-kent"):
        # The same aim may stand in several plan periods: rename each copy.
        for number, aim in enumerate(db.session.scalars(select(JointAim)), start=1):
            if aim.text.startswith(labels[0][:30]):
                aim.text = f"Renamed joint aim {number}"
        db.session.commit()
    assert _version(app) > version
    labels = [row[0] for row in _chart_rows(_home(client), "actions-by-aim")[1:]]
    assert any(label.startswith("Renamed joint aim") for label in labels), labels


def test_a_kept_dashboard_is_never_shown_to_a_viewer_who_may_see_less(app, client, auth, login_as):
    """A caseworker's exact incident figures, kept first, are not what a viewer gets, and
    the viewer's released figures are not what the caseworker gets next."""
    login_as("caseworker", "sevenoaks")
    exact = _chart_rows(_home(client), "incident-trend")
    auth.logout()
    login_as("viewer", "sevenoaks")
    released = _chart_rows(_home(client), "incident-trend")
    auth.logout()
    login_as("caseworker", "sevenoaks")
    again = _chart_rows(_home(client), "incident-trend")
    assert exact[0] == again[0] == ["Month", "Hate incidents"]
    assert released[0] == ["Month", "Hate incidents (as released)"]
    assert exact == again and released != exact


def test_a_kept_dashboard_is_the_persons_own(app, client, auth, login_as):
    """My actions are mine: an officer's kept list is not another person's."""
    from datetime import date

    from portal.actions.models import Action
    from portal.auth.models import User

    with app.app_context(), tenant_scope(tenant("sevenoaks")):
        officer = db.session.scalar(select(User).where(User.email == "officer@sevenoaks.demo"))
        action = db.session.scalars(select(Action).order_by(Action.id)).first()
        action.lead_user_id, action.status = officer.id, "at-risk"
        action.target_date = date(2020, 1, 31)
        db.session.commit()
        reference = action.reference
    login_as("officer", "sevenoaks")
    mine = _home(client)
    assert reference in mine[mine.index('id="my-actions"') : mine.index("All my actions")]
    auth.logout()
    login_as("viewer", "sevenoaks")
    theirs = _home(client)
    assert reference not in theirs[theirs.index('id="my-actions"') : theirs.index("All my actions")]


PLANTED_RAN: list[str] = []


def _planted_code(word: str) -> str:
    PLANTED_RAN.append(word)
    return word


class _Planted:
    """A pickle that runs code as it is unpickled: what anybody who can write to the
    cache's Redis could plant there."""

    def __reduce__(self):
        return (_planted_code, ("the planted code ran",))


class _Store:
    """Redis's get and set, as the portal's RedisCache calls them, for one test."""

    def __init__(self):
        self.entries: dict[str, bytes] = {}

    def get(self, key: str) -> bytes | None:
        return self.entries.get(key)

    def set(self, key: str, value: bytes, ex: int | None = None) -> None:
        self.entries[key] = value


def test_an_entry_the_portal_did_not_sign_is_a_miss_and_never_unpickled(
    app, client, login_as, caplog
):
    import pickle

    from portal import cache

    shared = cache.RedisCache("redis://127.0.0.1:1/0")
    shared.client = _Store()
    app.extensions["portal_cache"] = shared
    login_as("viewer", "sevenoaks")
    first = _home(client)
    with app.app_context():
        keys = [k for k in shared.client.entries if ":tenant-dashboard:" in k]
        assert len(keys) == 1
        kept = shared.client.get(keys[0])
        signature = kept[: cache.SIGNATURE_BYTES]
        planted = pickle.dumps(_Planted())
        forgeries = (
            planted,  # no signature at all
            signature + planted,  # the genuine entry's signature on other bytes
            bytes(cache.SIGNATURE_BYTES) + planted,  # a made-up one
        )
        for forged in forgeries:
            shared.client.set(keys[0], forged)
            caplog.clear()
            assert cache.get(keys[0]) is None
            assert "signature does not match" in caplog.text
        # A genuine entry moved to another key is refused too: the key is signed with it.
        shared.client.set(keys[0] + "-moved", kept)
        assert cache.get(keys[0] + "-moved") is None
        shared.client.set(keys[0], planted)
        engine = db.engine
    # The page works its dashboard out again, and keeps a signed one in its place.
    with _counting(engine) as statements:
        again = _home(client)
    assert any("FROM action" in s for s in statements)
    assert _chart_rows(again, "incident-trend") == _chart_rows(first, "incident-trend")
    assert PLANTED_RAN == []
    with app.app_context():
        assert cache.get(keys[0]) is not None


def test_another_release_of_the_templates_or_code_never_reads_what_this_one_drew(tmp_path):
    from portal.cache import release_mark

    (tmp_path / "templates" / "home").mkdir(parents=True)
    (tmp_path / "portal").mkdir()
    page = tmp_path / "templates" / "home" / "_dashboard.html"
    page.write_text("<h2>Measures</h2>")
    (tmp_path / "portal" / "routes.py").write_text("RULE = 1\n")
    first = release_mark(tmp_path)
    release_mark.cache_clear()
    assert release_mark(tmp_path) == first
    page.write_text("<h2>Measures with targets</h2>")
    release_mark.cache_clear()
    assert release_mark(tmp_path) != first


# --- the page around the dashboard: kept with it, but for what each request carries ----


def _nonce_and_token(response) -> tuple[str, str]:
    policy = response.headers["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", policy).group(1)
    page = response.get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    return nonce, token


def test_a_kept_page_carries_its_own_requests_nonce_and_a_token_that_works(app, client, login_as):
    from portal import cache

    login_as("officer", "sevenoaks")
    first = client.get("/t/sevenoaks/")
    first_nonce, first_token = _nonce_and_token(first)
    with app.app_context():
        (kept,) = [v for k, v in cache.backend()._entries.items() if ":tenant-dashboard:" in k]
    # What is kept holds nothing of the request that drew it.
    kept_text = "".join(kept.stencil.parts)
    assert first_nonce not in kept_text and first_token not in kept_text

    again = client.get("/t/sevenoaks/")
    nonce, token = _nonce_and_token(again)
    page = again.get_data(as_text=True)
    assert nonce != first_nonce
    assert set(re.findall(r'nonce="([^"]+)"', page)) == {nonce}
    assert first_nonce not in page

    # The same person signed in elsewhere (another session, so another CSRF secret) is
    # shown the same kept page, and its sign-out button works there: the token is that
    # session's own, not one kept from the session that drew the page.
    from tests.conftest import AuthActions

    elsewhere = app.test_client()
    AuthActions(elsewhere).login("officer@sevenoaks.demo")
    with app.app_context():
        engine = db.engine
    with _counting(engine) as statements:
        there = elsewhere.get("/t/sevenoaks/").get_data(as_text=True)
    assert not any("FROM action" in s for s in statements)  # the kept page
    there_token = re.search(r'name="csrf_token" value="([^"]+)"', there).group(1)
    assert there_token not in (token, first_token)
    assert elsewhere.post("/logout", data={"csrf_token": there_token}).status_code == 302
    assert elsewhere.get("/t/sevenoaks/").status_code == 302
    # ... and this session is still signed in.
    assert client.get("/t/sevenoaks/").status_code == 200


def test_a_message_waiting_is_shown_once_and_not_kept(app, client, login_as):
    login_as("officer", "sevenoaks")
    _home(client)
    with client.session_transaction() as session:
        session["_flashes"] = [("success", "Your progress update is saved")]
    assert "Your progress update is saved" in _home(client)
    assert "Your progress update is saved" not in _home(client)


def test_a_persons_new_name_shows_on_their_next_view(app, client, login_as):
    login_as("officer", "sevenoaks")
    version = _version(app)
    with app.app_context():
        name = user("officer@sevenoaks.demo").name
    assert name in _home(client)
    with app.app_context():
        user("officer@sevenoaks.demo").name = "Priya Kaur-Renamed"
        db.session.commit()
    # A person is not the organisation's data: the version stays, the page still changes.
    assert _version(app) == version
    page = _home(client)
    assert "Priya Kaur-Renamed" in page and name not in page


def test_a_message_shown_by_the_page_itself_is_not_kept(app, client, login_as, monkeypatch):
    """A page is not kept if it showed a message, even one that left the session before
    the page was asked for (read by something earlier in the request)."""
    from portal.home import routes

    login_as("officer", "sevenoaks")
    _home(client)
    drawn = routes._draw_home

    def draw_with_message(board, roles):
        from flask import flash

        flash("Your return is signed off", "success")
        return drawn(board, roles)

    monkeypatch.setattr(routes, "_draw_home", draw_with_message)
    with app.app_context():
        _measure_with_target(None, "sevenoaks", {"2023": 70})  # a new version: drawn again
    assert "Your return is signed off" in _home(client)
    monkeypatch.setattr(routes, "_draw_home", drawn)
    assert "Your return is signed off" not in _home(client)


def test_becoming_a_portal_administrator_shows_on_the_next_view(app, client, login_as):
    login_as("officer", "sevenoaks")
    assert "Portal administration" not in _home(client)
    with app.app_context():
        user("officer@sevenoaks.demo").is_portal_admin = True
        db.session.commit()
    assert "Portal administration" in _home(client)


def test_an_upgrade_of_a_package_the_portal_runs_on_never_reads_what_the_old_one_drew(
    app, monkeypatch
):
    """A kept page holds markup from GOV.UK's macros and plotly.js's versioned address."""
    import importlib.metadata

    from portal import cache

    class Installed:
        def __init__(self, name: str, version: str) -> None:
            self.metadata, self.version = {"Name": name}, version

    def marks_with(version: str) -> tuple[bytes, str]:
        monkeypatch.setattr(
            importlib.metadata, "distributions", lambda: [Installed("plotly", version)]
        )
        cache.packages_mark.cache_clear()
        cache.init_app(app)
        return cache.packages_mark(), app.extensions["portal_cache_namespace"]

    try:
        first, first_namespace = marks_with("6.3.0")
        assert marks_with("6.3.0") == (first, first_namespace)
        upgraded, upgraded_namespace = marks_with("6.3.1")
        assert upgraded != first and upgraded_namespace != first_namespace
    finally:
        monkeypatch.undo()
        cache.packages_mark.cache_clear()
        cache.init_app(app)
