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
        # Nobody is made until the invitation is accepted; it waits on the people page.
        assert user("asha.patel@sevenoaks.example") is None
    people = client.get("/t/sevenoaks/admin/people").get_data(as_text=True)
    assert "asha.patel@sevenoaks.example" in people and "Asha Patel" in people
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
    with app.app_context():
        from tests.helpers import tenant

        person = user("asha.patel@sevenoaks.example")
        assert person.roles_in(tenant("sevenoaks")) == {"officer", "viewer"}
    assert [e.action for e in audit_events(app, action="user.invited")][-1:] == ["user.invited"]
    actions = [e.action for e in audit_events(app, object_id=str(person.id))]
    assert "user.invitation_accepted" in actions and actions.count("grant.added") == 2


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
    response = client.post(
        url, data={"roles": ["viewer", "officer"], "confirmed": "yes", "csrf_token": token}
    )
    assert response.status_code == 302
    with app.app_context():
        from tests.helpers import tenant

        assert user("viewer@sevenoaks.demo").roles_in(tenant("sevenoaks")) == {"viewer", "officer"}
    events = audit_events(app, action="grant.added", object_id=str(viewer_id))
    assert events and events[-1].detail == {"role": "officer"}


def test_admin_cannot_suspend_or_remove_themselves(login_as, client, app):
    login_as("admin", "sevenoaks")
    with app.app_context():
        admin_id = user("admin@sevenoaks.demo").id
    url = f"/t/sevenoaks/admin/people/{admin_id}"
    token = csrf_token(client, url)
    client.post(f"{url}/disable", data={"csrf_token": token})
    client.post(f"{url}/remove", data={"csrf_token": token})
    with app.app_context():
        from tests.helpers import tenant

        assert user("admin@sevenoaks.demo").roles_in(tenant("sevenoaks")) == {"admin"}
    assert client.get("/t/sevenoaks/admin/people").status_code == 200


def test_admin_suspends_and_restores_access(login_as, client, app, auth):
    viewer = app.test_client()
    from tests.conftest import AuthActions

    AuthActions(viewer).login("viewer@sevenoaks.demo")
    assert viewer.get("/t/sevenoaks/").status_code == 200
    login_as("admin", "sevenoaks")
    with app.app_context():
        viewer_id = user("viewer@sevenoaks.demo").id
    token = csrf_token(client, f"/t/sevenoaks/admin/people/{viewer_id}")
    client.post(f"/t/sevenoaks/admin/people/{viewer_id}/disable", data={"csrf_token": token})
    assert viewer.get("/t/sevenoaks/").status_code == 404  # at once, in the same session
    page = client.get("/t/sevenoaks/admin/people").get_data(as_text=True)
    assert "Suspended" in page
    client.post(f"/t/sevenoaks/admin/people/{viewer_id}/enable", data={"csrf_token": token})
    assert viewer.get("/t/sevenoaks/").status_code == 200
    actions = [e.action for e in audit_events(app, object_id=str(viewer_id))]
    assert "user.suspended" in actions and "user.restored" in actions
    assert "user.disabled" not in actions


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
        data={"roles": ["viewer", "ceo"], "confirmed": "yes", "csrf_token": token},
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
    assert "Dover District Council" in message["Subject"]
    path = links_in_mail(message)[0].split("localhost", 1)[1]
    dee = app.test_client()
    dee.post(
        path,
        data={
            "password": "a long chosen phrase",
            "confirm": "a long chosen phrase",
            "csrf_token": csrf_token(dee, path),
        },
    )
    with app.app_context():
        from tests.helpers import tenant

        assert user("dee@dover.example").roles_in(tenant("dover")) == {"admin"}
        assert user("admin@portal.demo").held_roles_in(tenant("dover")) == set()


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


# --- invitations, self-service roles and case access ---------------------------------------


def _invite(client, url: str, email: str, roles=(), name: str = "Somebody Invited"):
    token = csrf_token(client, url)
    data = {"name": name, "email": email, "csrf_token": token}
    if roles:
        data["roles"] = list(roles)
    return client.post(url, data=data, follow_redirects=True)


def _accept(app, message, email: str, password: str = PASSWORD):
    """Follow an invitation link signed in as ``email``, and accept it."""
    from tests.conftest import AuthActions

    path = links_in_mail(message)[0].split("localhost", 1)[1]
    person = app.test_client()
    AuthActions(person).login(email, password)
    page = person.get(path)
    assert page.status_code == 200
    response = person.post(path, data={"csrf_token": csrf_token(person, path)})
    return person, response


def _tenant_id(app, slug: str) -> int:
    with app.app_context():
        from tests.helpers import tenant

        return tenant(slug).id


def test_portal_admin_cannot_invite_themselves_into_an_organisation(login_as, client, app, outbox):
    login_as("portal-admin")
    url = f"/admin/organisations/{_tenant_id(app, 'sevenoaks')}/invite"
    page = _invite(client, url, "Admin@Portal.demo").get_data(as_text=True)
    assert "You cannot invite yourself" in page
    with app.app_context():
        from tests.helpers import tenant

        assert user("admin@portal.demo").held_roles_in(tenant("sevenoaks")) == set()
        assert outbox() == []
    # Nor can the portal administrator sign in to Sevenoaks' people page.
    assert client.get("/t/sevenoaks/admin/people").status_code == 404


def test_portal_admin_account_cannot_accept_an_organisation_role(login_as, client, app, outbox):
    """Invited by somebody else, the portal administrator's account still holds no tenant
    roles: the invitation cannot be accepted with it."""
    login_as("admin", "sevenoaks")
    _invite(client, "/t/sevenoaks/admin/people/invite", "admin@portal.demo", ["admin"])
    with app.app_context():
        [message] = outbox()
    person, response = _accept(app, message, "admin@portal.demo")
    assert "cannot hold roles in an organisation" in response.get_data(as_text=True)
    with app.app_context():
        from tests.helpers import tenant

        assert user("admin@portal.demo").held_roles_in(tenant("sevenoaks")) == set()
    assert person.get("/t/sevenoaks/admin/people").status_code == 404


def test_inviting_a_first_administrator_never_adds_the_inviter(login_as, client, app, outbox):
    login_as("portal-admin")
    url = f"/admin/organisations/{_tenant_id(app, 'gentoo')}/invite"
    response = _invite(client, url, "first.admin@gentoo.example", name="First Admin")
    assert "Invitation sent to first.admin@gentoo.example" in response.get_data(as_text=True)
    with app.app_context():
        from tests.helpers import tenant

        gentoo = tenant("gentoo")
        assert user("admin@portal.demo").held_roles_in(gentoo) == set()
        # Nothing changes until the invitation is accepted.
        assert user("first.admin@gentoo.example") is None
        [message] = outbox()
    assert "organisation administrator" in message.get_content()


def test_inviting_an_existing_account_changes_nothing_until_accepted(login_as, client, app, outbox):
    login_as("admin", "sevenoaks")
    response = _invite(
        client, "/t/sevenoaks/admin/people/invite", "officer@thanet.demo", ["viewer"], "T Person"
    )
    page = response.get_data(as_text=True)
    assert "Invitation sent to officer@thanet.demo" in page
    with app.app_context():
        from tests.helpers import tenant

        real_name = user("officer@thanet.demo").name
        assert user("officer@thanet.demo").held_roles_in(tenant("sevenoaks")) == set()
        [message] = outbox()
    # The inviter learns nothing about the account: not its real name.
    assert real_name not in page
    assert real_name not in client.get("/t/sevenoaks/admin/people").get_data(as_text=True)
    assert "T Person" not in message.get_content() or real_name not in message.get_content()
    _accept(app, message, "officer@thanet.demo")
    with app.app_context():
        from tests.helpers import tenant

        assert user("officer@thanet.demo").roles_in(tenant("sevenoaks")) == {"viewer"}
        assert user("officer@thanet.demo").roles_in(tenant("thanet")) == {"officer"}


def test_inviting_a_disabled_account_reads_like_any_invitation(login_as, client, app, outbox):
    assert (
        app.test_cli_runner().invoke(args=["users", "disable", "viewer@thanet.demo"]).exit_code == 0
    )
    login_as("admin", "sevenoaks")
    disabled = _invite(client, "/t/sevenoaks/admin/people/invite", "viewer@thanet.demo", ["viewer"])
    fresh = _invite(client, "/t/sevenoaks/admin/people/invite", "new@example.org", ["viewer"])
    for response, email in ((disabled, "viewer@thanet.demo"), (fresh, "new@example.org")):
        page = response.get_data(as_text=True)
        assert response.status_code == 200
        assert f"Invitation sent to {email}" in page
        assert "disabled" not in page.lower()
    with app.app_context():
        from tests.helpers import tenant

        assert user("viewer@thanet.demo").held_roles_in(tenant("sevenoaks")) == set()
        subjects = {m["To"]: m["Subject"] for m in outbox()}
    assert subjects["viewer@thanet.demo"] == subjects["new@example.org"]


def test_inviting_a_member_never_changes_their_roles(login_as, client, app, outbox):
    login_as("admin", "tunbridge-wells")
    response = _invite(
        client, "/t/tunbridge-wells/admin/people/invite", "OFFICER@tunbridge-wells.demo", ["viewer"]
    )
    page = response.get_data(as_text=True)
    assert "already has a role in Tunbridge Wells Borough Council" in page
    with app.app_context():
        from tests.helpers import tenant

        officer = user("officer@tunbridge-wells.demo")
        assert officer.roles_in(tenant("tunbridge-wells")) == {"officer"}
        assert outbox() == []


def test_inviting_the_same_new_address_twice_replaces_the_first_link(login_as, client, app, outbox):
    login_as("admin", "sevenoaks")
    _invite(client, "/t/sevenoaks/admin/people/invite", "twice@example.org", ["viewer"])
    _invite(client, "/t/sevenoaks/admin/people/invite", "twice@example.org", ["officer"])
    with app.app_context():
        first, second = outbox()
    first_path = links_in_mail(first)[0].split("localhost", 1)[1]
    second_path = links_in_mail(second)[0].split("localhost", 1)[1]
    newcomer = app.test_client()
    assert newcomer.get(first_path).status_code == 404
    assert newcomer.get(second_path).status_code == 200
    newcomer.post(
        second_path,
        data={
            "password": "a long chosen phrase",
            "confirm": "a long chosen phrase",
            "csrf_token": csrf_token(newcomer, second_path),
        },
    )
    with app.app_context():
        from tests.helpers import tenant

        assert user("twice@example.org").roles_in(tenant("sevenoaks")) == {"officer"}
    # Only one invitation is waiting on the people page, then none.
    assert "twice@example.org" in client.get("/t/sevenoaks/admin/people").get_data(as_text=True)


def test_nobody_changes_their_own_roles(login_as, client, app):
    login_as("admin", "sevenoaks")
    with app.app_context():
        admin_id = user("admin@sevenoaks.demo").id
    url = f"/t/sevenoaks/admin/people/{admin_id}"
    page = client.get(url).get_data(as_text=True)
    assert "You cannot change your own roles" in page
    assert 'name="roles"' not in page
    token = csrf_token(client, "/t/sevenoaks/admin/people")
    for data in (
        {"roles": ["admin", "caseworker"], "csrf_token": token},
        {"roles": ["admin", "caseworker"], "confirmed": "yes", "csrf_token": token},
    ):
        response = client.post(url, data=data)
        assert "You cannot change your own roles" in response.get_data(as_text=True)
    with app.app_context():
        from tests.helpers import tenant

        assert user("admin@sevenoaks.demo").roles_in(tenant("sevenoaks")) == {"admin"}
    assert client.get("/t/sevenoaks/incidents/").status_code == 403


def test_role_change_is_confirmed_with_before_and_after(login_as, client, app):
    login_as("admin", "sevenoaks")
    with app.app_context():
        viewer_id = user("viewer@sevenoaks.demo").id
    url = f"/t/sevenoaks/admin/people/{viewer_id}"
    token = csrf_token(client, url)
    page = client.post(url, data={"roles": ["viewer", "officer"], "csrf_token": token})
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Before" in text and "After" in text and "Equality officer" in text
    with app.app_context():
        from tests.helpers import tenant

        assert user("viewer@sevenoaks.demo").roles_in(tenant("sevenoaks")) == {"viewer"}
    response = client.post(
        url, data={"roles": ["viewer", "officer"], "confirmed": "yes", "csrf_token": token}
    )
    assert response.status_code == 302
    with app.app_context():
        from tests.helpers import tenant

        assert user("viewer@sevenoaks.demo").roles_in(tenant("sevenoaks")) == {"viewer", "officer"}


def _second_admin(app, slug: str = "sevenoaks") -> str:
    """Another administrator of ``slug``; returns their email address."""
    email = f"second.admin@{slug}.example"
    with app.app_context():
        from portal.auth.models import TenantGrant
        from portal.auth.services import hash_password
        from portal.extensions import db
        from tests.helpers import tenant

        other = User(
            email=email,
            name="Second Administrator",
            password_hash=hash_password(PASSWORD),
        )
        other.tenant_grants.append(TenantGrant(tenant=tenant(slug), role="admin"))
        db.session.add(other)
        db.session.commit()
    return email


def test_granting_case_access_is_shown_to_the_other_administrators(login_as, client, app, outbox):
    second = _second_admin(app)
    login_as("admin", "sevenoaks")
    with app.app_context():
        viewer_id = user("viewer@sevenoaks.demo").id
    url = f"/t/sevenoaks/admin/people/{viewer_id}"
    token = csrf_token(client, url)
    client.post(
        url, data={"roles": ["viewer", "caseworker"], "confirmed": "yes", "csrf_token": token}
    )
    with app.app_context():
        messages = outbox()
        from tests.helpers import tenant

        grant = user("viewer@sevenoaks.demo").grant_in(tenant("sevenoaks"), "caseworker")
        assert grant.granted_by.email == "admin@sevenoaks.demo"
    notices = [m for m in messages if "hate-incident case records" in m["Subject"]]
    assert {m["To"] for m in notices} == {second}
    assert "admin@sevenoaks.demo" in notices[0].get_content()
    # Shown on the people page to every administrator, with who granted it.
    from tests.conftest import AuthActions

    other = app.test_client()
    AuthActions(other).login(second)
    people = other.get("/t/sevenoaks/admin/people").get_data(as_text=True)
    assert "Who can open hate-incident case records" in people
    with app.app_context():
        granter = user("admin@sevenoaks.demo").name
    assert f"granted by {granter}" in people
    events = audit_events(app, action="grant.added", object_id=str(viewer_id))
    assert events[-1].detail == {"role": "caseworker"}
    assert events[-1].actor_email == "admin@sevenoaks.demo"


def test_an_administrator_cannot_grant_themselves_case_access_through_a_colleague_invite(
    login_as, client, app
):
    """The attack: a tenant administrator gives themselves "caseworker" on their own page."""
    login_as("admin", "tunbridge-wells")
    with app.app_context():
        admin_id = user("admin@tunbridge-wells.demo").id
    url = f"/t/tunbridge-wells/admin/people/{admin_id}"
    token = csrf_token(client, "/t/tunbridge-wells/admin/people")
    client.post(
        url, data={"roles": ["admin", "caseworker"], "confirmed": "yes", "csrf_token": token}
    )
    assert client.get("/t/tunbridge-wells/incidents/").status_code == 403


def test_suspending_access_here_works_for_people_invited_elsewhere(login_as, client, app, outbox):
    """Being invited to another organisation never stops the home administrator."""
    from tests.conftest import AuthActions

    elsewhere = app.test_client()
    AuthActions(elsewhere).login("admin@tonbridge-malling.demo")
    _invite(
        elsewhere, "/t/tonbridge-malling/admin/people/invite", "viewer@sevenoaks.demo", ["viewer"]
    )
    with app.app_context():
        [message] = outbox()
    viewer, _ = _accept(app, message, "viewer@sevenoaks.demo")
    assert viewer.get("/t/tonbridge-malling/").status_code == 200

    login_as("admin", "sevenoaks")
    with app.app_context():
        viewer_id = user("viewer@sevenoaks.demo").id
    url = f"/t/sevenoaks/admin/people/{viewer_id}"
    response = client.post(
        f"{url}/disable", data={"csrf_token": csrf_token(client, url)}, follow_redirects=True
    )
    assert "no longer has access to Sevenoaks District Council" in response.get_data(as_text=True)
    assert viewer.get("/t/sevenoaks/").status_code == 404
    assert viewer.get("/t/tonbridge-malling/").status_code == 200
    with app.app_context():
        from tests.helpers import tenant

        person = user("viewer@sevenoaks.demo")
        assert person.is_active  # the account other organisations rely on stays
        assert person.held_roles_in(tenant("sevenoaks")) == {"viewer"}
    assert "Suspended" in client.get("/t/sevenoaks/admin/people").get_data(as_text=True)
    client.post(f"{url}/enable", data={"csrf_token": csrf_token(client, url)})
    assert viewer.get("/t/sevenoaks/").status_code == 200
    actions = [e.action for e in audit_events(app, object_id=str(viewer_id))]
    assert "user.suspended" in actions and "user.restored" in actions


def test_case_access_by_invitation_is_told_to_the_other_administrators_on_acceptance(
    login_as, client, app, outbox
):
    second = _second_admin(app)
    login_as("admin", "sevenoaks")
    _invite(client, "/t/sevenoaks/admin/people/invite", "officer@thanet.demo", ["caseworker"])
    with app.app_context():
        [invitation] = outbox()
        assert not [m for m in outbox() if m["To"] == second]
    _accept(app, invitation, "officer@thanet.demo")
    with app.app_context():
        from tests.helpers import tenant as tenant_row

        notices = [m for m in outbox() if "hate-incident case records" in m["Subject"]]
        grant = user("officer@thanet.demo").grant_in(tenant_row("sevenoaks"), "caseworker")
        assert grant.granted_by.email == "admin@sevenoaks.demo"
    # The inviter granted it, so the notice goes to the other administrator only.
    assert {m["To"] for m in notices} == {second}
