"""Tenant administrators (people, roles, audit trail) and portal administrators."""

from __future__ import annotations

from sqlalchemy import select

from portal.auth.models import User
from tests.conftest import PASSWORD
from tests.helpers import audit_events, csrf_token, links_in_mail, user


def test_admin_invites_a_person_who_sets_a_password_and_signs_in(
    login_as, client, app, outbox, auth
):
    login_as("admin", "sevenoaks")
    token = csrf_token(client, "/t/sevenoaks/admin/people/invite")
    response = client.post(
        "/t/sevenoaks/admin/people/invite",
        data={
            "name": "Asha Patel",
            "email": "Asha.Patel@Sevenoaks.example",
            "roles": ["officer", "viewer"],
            "csrf_token": token,
        },
    )
    assert response.status_code == 302
    with app.app_context():
        [message] = outbox()
        person = user("asha.patel@sevenoaks.example")
        assert person.password_hash is None
        from tests.helpers import tenant

        assert person.roles_in(tenant("sevenoaks")) == {"officer", "viewer"}
    assert message["To"] == "asha.patel@sevenoaks.example"
    assert "Sevenoaks District Council" in message["Subject"]
    auth.logout()
    path = links_in_mail(message)[0].split("localhost", 1)[1]
    token = csrf_token(client, path)
    client.post(
        path,
        data={
            "password": "a long chosen phrase",
            "confirm": "a long chosen phrase",
            "csrf_token": token,
        },
    )
    assert (
        auth.login("asha.patel@sevenoaks.example", "a long chosen phrase").headers["Location"]
        == "/t/sevenoaks/"
    )
    actions = [e.action for e in audit_events(app, object_id=str(person.id))]
    assert "user.invited" in actions and actions.count("grant.added") == 2


def test_invite_form_explains_every_problem(login_as, client):
    login_as("admin", "sevenoaks")
    token = csrf_token(client, "/t/sevenoaks/admin/people/invite")
    page = client.post(
        "/t/sevenoaks/admin/people/invite", data={"email": "not an email", "csrf_token": token}
    ).get_data(as_text=True)
    assert "Enter the person&#39;s full name" in page or "Enter the person's full name" in page
    assert "Enter an email address in the right format" in page
    assert "Choose at least one role" in page


def test_admin_changes_roles(login_as, client, app):
    login_as("admin", "sevenoaks")
    with app.app_context():
        viewer_id = user("viewer@sevenoaks.demo").id
    url = f"/t/sevenoaks/admin/people/{viewer_id}"
    token = csrf_token(client, url)
    assert (
        client.post(url, data={"roles": ["viewer", "officer"], "csrf_token": token}).status_code
        == 302
    )
    with app.app_context():
        from tests.helpers import tenant

        assert user("viewer@sevenoaks.demo").roles_in(tenant("sevenoaks")) == {"viewer", "officer"}
    events = audit_events(app, action="grant.added", object_id=str(viewer_id))
    assert events and events[-1].detail == {"role": "officer"}


def test_admin_cannot_remove_own_admin_role_or_disable_self(login_as, client, app):
    login_as("admin", "sevenoaks")
    with app.app_context():
        admin_id = user("admin@sevenoaks.demo").id
    url = f"/t/sevenoaks/admin/people/{admin_id}"
    token = csrf_token(client, url)
    page = client.post(url, data={"roles": ["viewer"], "csrf_token": token}).get_data(as_text=True)
    assert "You cannot remove your own administrator role" in page
    client.post(f"{url}/disable", data={"csrf_token": token})
    with app.app_context():
        assert user("admin@sevenoaks.demo").is_active


def test_admin_disables_and_enables_an_account(login_as, client, app, auth):
    viewer = app.test_client()
    from tests.conftest import AuthActions

    AuthActions(viewer).login("viewer@sevenoaks.demo")
    assert viewer.get("/t/sevenoaks/").status_code == 200
    login_as("admin", "sevenoaks")
    with app.app_context():
        viewer_id = user("viewer@sevenoaks.demo").id
    token = csrf_token(client, f"/t/sevenoaks/admin/people/{viewer_id}")
    client.post(f"/t/sevenoaks/admin/people/{viewer_id}/disable", data={"csrf_token": token})
    assert viewer.get("/t/sevenoaks/").status_code == 302  # signed out at once
    page = client.get("/t/sevenoaks/admin/people").get_data(as_text=True)
    assert "Disabled" in page
    client.post(f"/t/sevenoaks/admin/people/{viewer_id}/enable", data={"csrf_token": token})
    assert AuthActions(app.test_client()).login("viewer@sevenoaks.demo").status_code == 302
    actions = [e.action for e in audit_events(app, object_id=str(viewer_id))]
    assert "user.disabled" in actions and "user.enabled" in actions


def test_account_used_elsewhere_is_not_disabled_by_one_tenant(login_as, client, app):
    with app.app_context():
        from portal.auth.models import TenantGrant
        from portal.extensions import db
        from tests.helpers import tenant

        person = user("viewer@sevenoaks.demo")
        db.session.add(TenantGrant(user=person, tenant=tenant("tonbridge-malling"), role="viewer"))
        db.session.commit()
        person_id = person.id
    login_as("admin", "sevenoaks")
    token = csrf_token(client, f"/t/sevenoaks/admin/people/{person_id}")
    response = client.post(
        f"/t/sevenoaks/admin/people/{person_id}/disable",
        data={"csrf_token": token},
        follow_redirects=True,
    )
    assert "also works with other organisations" in response.get_data(as_text=True)
    assert "Tonbridge" not in response.get_data(as_text=True)
    with app.app_context():
        assert user("viewer@sevenoaks.demo").is_active


def test_admin_removes_a_person_who_also_works_elsewhere(login_as, client, app):
    with app.app_context():
        from portal.auth.models import TenantGrant
        from portal.extensions import db
        from tests.helpers import tenant

        person = user("officer@thanet.demo")
        db.session.add(TenantGrant(user=person, tenant=tenant("maidstone"), role="officer"))
        db.session.commit()
        person_id = person.id
    login_as("admin", "thanet")
    url = f"/t/thanet/admin/people/{person_id}"
    token = csrf_token(client, url)
    response = client.post(f"{url}/remove", data={"csrf_token": token}, follow_redirects=True)
    assert "no longer has any role in Thanet District Council" in response.get_data(as_text=True)
    with app.app_context():
        from tests.helpers import tenant

        removed = user("officer@thanet.demo")
        assert removed.roles_in(tenant("thanet")) == set()
        assert removed.roles_in(tenant("maidstone")) == {"officer"}
        assert removed.is_active
    # Gone from this organisation's list, and its pages are now a 404 for them.
    assert client.get(url).status_code == 404
    from tests.conftest import AuthActions

    other = app.test_client()
    AuthActions(other).login("officer@thanet.demo")
    assert other.get("/t/thanet/").status_code == 404
    assert other.get("/t/maidstone/").status_code == 200
    # Enabling or disabling a shared account is not one organisation's call.
    assert [e.action for e in audit_events(app, object_id=str(person_id))].count(
        "user.removed"
    ) == 1


def test_removing_the_last_roles_disables_the_account(login_as, client, app):
    with app.app_context():
        viewer_id = user("viewer@thanet.demo").id
    login_as("admin", "thanet")
    token = csrf_token(client, f"/t/thanet/admin/people/{viewer_id}")
    client.post(f"/t/thanet/admin/people/{viewer_id}/remove", data={"csrf_token": token})
    with app.app_context():
        assert not user("viewer@thanet.demo").is_active


def test_people_list_shows_only_this_tenants_people(login_as, client):
    login_as("admin", "sevenoaks")
    page = client.get("/t/sevenoaks/admin/people").get_data(as_text=True)
    assert "officer@sevenoaks.demo" in page
    assert "thanet" not in page


def test_audit_trail_shows_this_tenants_events_only(login_as, client, app):
    login_as("admin", "sevenoaks")
    with app.app_context():
        viewer_id = user("viewer@sevenoaks.demo").id
    token = csrf_token(client, f"/t/sevenoaks/admin/people/{viewer_id}")
    client.post(
        f"/t/sevenoaks/admin/people/{viewer_id}",
        data={"roles": ["viewer", "ceo"], "csrf_token": token},
    )
    thanet = app.test_client()
    from tests.conftest import AuthActions

    AuthActions(thanet).login("admin@thanet.demo")
    page = client.get("/t/sevenoaks/admin/audit").get_data(as_text=True)
    assert "Role granted" in page
    assert "admin@sevenoaks.demo" in page
    assert "admin@thanet.demo" not in page


def test_portal_admin_creates_an_organisation_and_invites_its_admin(login_as, client, app, outbox):
    login_as("portal-admin")
    with app.app_context():
        from portal.extensions import db
        from portal.partners.models import Partnership

        kent = db.session.scalar(select(Partnership.id).where(Partnership.slug == "kent-network"))
    token = csrf_token(client, "/admin/organisations/new")
    page = client.post("/admin/organisations/new", data={"csrf_token": token}).get_data(
        as_text=True
    )
    assert "Enter the organisation" in page and "Choose what kind of organisation it is" in page
    response = client.post(
        "/admin/organisations/new",
        data={
            "name": "Dover District Council",
            "slug": "dover",
            "kind": "district-council",
            "partnerships": [kent],
            "csrf_token": token,
        },
    )
    assert response.status_code == 302
    location = response.headers["Location"]
    duplicate = client.post(
        "/admin/organisations/new",
        data={
            "name": "Dover again",
            "slug": "dover",
            "kind": "district-council",
            "csrf_token": token,
        },
    ).get_data(as_text=True)
    assert "An organisation with that short name already exists" in duplicate
    client.post(
        location, data={"name": "Dee Admin", "email": "dee@dover.example", "csrf_token": token}
    )
    with app.app_context():
        [message] = outbox()
        from tests.helpers import tenant

        assert user("dee@dover.example").roles_in(tenant("dover")) == {"admin"}
    assert "Dover District Council" in message["Subject"]


def test_portal_admin_sees_no_tenant_content(login_as, client):
    login_as("portal-admin")
    assert client.get("/t/sevenoaks/").status_code == 404
    assert client.get("/t/sevenoaks/plan/commitments").status_code == 404


def test_users_create_command(app):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "users",
            "create",
            "new@sevenoaks.example",
            "--name",
            "New Person",
            "--tenant",
            "sevenoaks",
            "--role",
            "officer",
            "--password",
            PASSWORD,
        ]
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        args=[
            "users",
            "create",
            "x@y.example",
            "--name",
            "X",
            "--tenant",
            "nowhere",
            "--role",
            "officer",
        ]
    )
    assert result.exit_code != 0 and "no organisation 'nowhere'" in result.output
    with app.app_context():
        from portal.extensions import db

        assert db.session.scalar(
            select(User).where(User.email == "new@sevenoaks.example")
        ).password_hash


def test_users_disable_and_enable_commands(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "disable", "lead@west-kent.demo"])
    assert result.exit_code == 0 and "disabled" in result.output
    with app.app_context():
        assert not user("lead@west-kent.demo").is_active
    result = runner.invoke(args=["users", "enable", "lead@west-kent.demo"])
    assert result.exit_code == 0
    with app.app_context():
        assert user("lead@west-kent.demo").is_active
    result = runner.invoke(args=["users", "disable", "nobody@example.org"])
    assert result.exit_code != 0 and "no account for nobody@example.org" in result.output
    assert [e.action for e in audit_events(app, actor_email=None, action="user.disabled")]


def test_users_create_can_prompt_for_the_password(app):
    result = app.test_cli_runner().invoke(
        args=[
            "users",
            "create",
            "p@sevenoaks.example",
            "--name",
            "P",
            "--portal-admin",
            "--set-password",
        ],
        input="a long typed password\na long typed password\n",
    )
    assert result.exit_code == 0, result.output
    assert "a long typed password" not in result.output
    with app.app_context():
        assert user("p@sevenoaks.example").is_portal_admin
    actions = [e.action for e in audit_events(app, actor_email=None)]
    assert "auth.password_set" in actions and "grant.added" in actions
