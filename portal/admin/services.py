"""People, invitations and roles in one tenant: the rules, and their audit.

The rules that keep case records with caseworkers:

- nobody changes their own roles; another administrator of the tenant does;
- the portal administrator's account holds no tenant role at all;
- an invitation changes nothing until the invited person accepts it, and tells the
  inviter nothing about an account that may already exist at that address;
- inviting somebody who already works in the tenant never changes their roles: roles change
  only on the person's page, after a confirmation that shows them before and after;
- granting "caseworker" is shown to the tenant's other administrators (people page, person
  page, audit trail, and an email);
- a tenant administrator's actions reach only their tenant: suspending somebody ends their
  access here and leaves the account, which other organisations may rely on, alone.
"""

from __future__ import annotations

import hashlib
import secrets

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload, selectinload

from portal import audit, clock, mail
from portal.auth.models import (
    PARTNERSHIP_ROLES,
    TENANT_ROLES,
    Invitation,
    PartnershipGrant,
    TenantGrant,
    User,
)
from portal.auth.services import (
    AccountError,
    end_all_sessions,
    external_url,
    issue_token,
    normalise_email,
)
from portal.extensions import db
from portal.jobs.tasks import CASE_ACCESS_MAIL, INVITATION_MAIL
from portal.partners.models import Partnership, Tenant

CASE_ROLE = "caseworker"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _role_names(roles) -> str:
    order = list(TENANT_ROLES)
    return ", ".join(TENANT_ROLES[r] for r in sorted(roles, key=order.index)).lower() or "no role"


# --- invitations -------------------------------------------------------------------------


def invite(
    email: str,
    name: str,
    *,
    tenant: Tenant | None = None,
    roles: list[str] = (),
    partnership: Partnership | None = None,
    invited_by: User,
) -> Invitation:
    """Email an invitation to roles in ``tenant`` (or to lead ``partnership``).

    Nothing else changes until it is accepted. The answer is the same whether or not an
    account exists at the address, and whatever state it is in; the one exception is a
    person who already has a role in ``tenant``, whom the inviter can see on the people page
    anyway: their roles are changed on their page, never by an invitation.
    """
    email = normalise_email(email)
    if (tenant is None) == (partnership is None):
        raise ValueError("an invitation is to one tenant or one partnership")
    if tenant is not None:
        wanted = set(roles)
        if not wanted or wanted - set(TENANT_ROLES):
            raise AccountError(None, "Choose at least one role")
        roles = sorted(wanted, key=list(TENANT_ROLES).index)
    else:
        roles = ["lead"]
    if email == invited_by.email:
        raise AccountError(
            None, "You cannot invite yourself. Ask another administrator to invite you"
        )
    if tenant is not None:
        member = db.session.scalar(
            select(User)
            .join(TenantGrant, TenantGrant.user_id == User.id)
            .where(User.email == email, TenantGrant.tenant_id == tenant.id)
        )
        if member is not None:
            raise AccountError(
                None,
                f"{email} already has a role in {tenant.name}. "
                "Change their roles on their page in the list of people",
            )
    now = clock.utcnow()
    place_filter = (
        Invitation.tenant_id == tenant.id
        if tenant is not None
        else Invitation.partnership_id == partnership.id
    )
    # A second invitation to the same place replaces the first, whose link stops working.
    db.session.execute(
        update(Invitation)
        .where(
            Invitation.email == email,
            place_filter,
            Invitation.accepted_at.is_(None),
            Invitation.replaced_at.is_(None),
        )
        .values(replaced_at=now)
    )
    invitation = Invitation(
        # Replaced by the link's own token when the email is written (send_invitation), so
        # the secret lives only in the email; this one is never known to anybody.
        token_hash=_digest(secrets.token_urlsafe(32)),
        email=email,
        name=name.strip(),
        tenant=tenant,
        partnership=partnership,
        roles=",".join(roles),
        invited_by=invited_by,
        created_at=now,
        expires_at=now + current_app.config["INVITATION_LIFETIME"],
    )
    db.session.add(invitation)
    db.session.flush()
    audit.record(
        "user.invited",
        invitation,
        user=invited_by,
        tenant_id=tenant.id if tenant is not None else None,
        detail={
            "email": email,
            "roles": roles,
            **({"partnership": partnership.slug} if partnership is not None else {}),
        },
    )
    db.session.commit()
    _queue_mail(
        INVITATION_MAIL,
        f"Invitation email to {email}",
        tenant=tenant,
        requested_by=invited_by,
        invitation_id=invitation.id,
    )
    return invitation


def _queue_mail(task: str, title: str, *, tenant: Tenant | None, requested_by, **ids) -> int:
    """Queue a mail-sending job; its task gets only ids and looks the rest up itself.

    A slow or broken mail server never holds up or breaks the page, and the job's page says
    whether the email went.
    """
    from portal.jobs import services as jobs

    return jobs.enqueue(
        task,
        title=title,
        tenant_id=tenant.id if tenant is not None else None,
        requested_by=requested_by,
        **ids,
    )


def send_invitation(invitation_id: int) -> bool:
    """Write and send an invitation's email, with a fresh link. True if it was sent.

    Takes an id, not the invitation, so that it can run outside the request. An invitation
    replaced or accepted meanwhile sends nothing.
    """
    invitation = db.session.get(Invitation, invitation_id)
    if invitation is None or invitation.accepted_at or invitation.replaced_at:
        return False
    token = secrets.token_urlsafe(32)
    # Committed by the job with its success, after the email has been handed over: a
    # failed send leaves the earlier (unknown) token in place.
    invitation.token_hash = _digest(token)
    place = invitation.place.name
    what = (
        f"as {_role_names(invitation.role_list)}"
        if invitation.tenant is not None
        else f"as a {PARTNERSHIP_ROLES['lead'].lower()}"
    )
    inviter = invitation.invited_by.name if invitation.invited_by else "An administrator"
    days = current_app.config["INVITATION_LIFETIME"].days
    mail.send(
        invitation.email,
        f"You have been invited to the Equality Partnership Portal for {place}",
        f"Hello {invitation.name},\n\n"
        f"{inviter} has invited you to the Equality Partnership Portal for {place}, "
        f"{what}.\n\n"
        f"Accept the invitation with this link within {days} days. It works once. If you "
        "already use the portal, sign in as usual when the link asks you to; otherwise you "
        "will choose a password.\n\n"
        f"{external_url('auth.accept_invitation', token=token)}\n\n"
        "If you were not expecting this, you can ignore this email: nothing changes until "
        "you accept.\n",
    )
    return True


def find_invitation(token: str) -> Invitation | None:
    """A usable invitation: not accepted, not replaced, not expired."""
    row = db.session.scalar(select(Invitation).where(Invitation.token_hash == _digest(token or "")))
    if row is None or row.accepted_at is not None or row.replaced_at is not None:
        return None
    if row.expires_at <= clock.utcnow():
        return None
    return row


def account_for(invitation: Invitation) -> User | None:
    return db.session.scalar(select(User).where(User.email == invitation.email))


def accept(invitation: Invitation, user: User) -> None:
    """Give ``user`` what ``invitation`` offers; the invitation is then used up.

    The caller has checked that ``user`` is the person at the invited address (signed in
    as that account, or the account was just made with a password they chose).
    """
    if user.email != invitation.email:
        raise AccountError(None, "This invitation was sent to another email address")
    if not user.is_active:
        raise AccountError(None, "This invitation cannot be accepted with a disabled account")
    if invitation.tenant is not None:
        if user.is_portal_admin:
            raise AccountError(
                None,
                "The portal administrator's account cannot hold roles in an organisation. "
                "Ask for the invitation to be sent to another email address",
            )
        held = user.held_roles_in(invitation.tenant)
        _add_roles(
            user,
            invitation.tenant,
            set(invitation.role_list) - held,
            by=invitation.invited_by,
            suspended=user.is_suspended_in(invitation.tenant),
        )
    else:
        grant_partnership_lead(user, invitation.partnership)
    invitation.accepted_at = clock.utcnow()
    audit.record(
        "user.invitation_accepted",
        user,
        user=user,
        tenant_id=invitation.tenant_id,
        detail={"roles": invitation.role_list},
    )
    db.session.commit()
    if invitation.tenant is not None and CASE_ROLE in invitation.role_list:
        _queue_mail(
            CASE_ACCESS_MAIL,
            f"Case access news to the administrators of {invitation.tenant.name}",
            tenant=invitation.tenant,
            requested_by=user,
            user_id=user.id,
            by_id=invitation.invited_by_id,
        )


def pending_invitations(tenant: Tenant):
    """Invitations to ``tenant`` waiting to be accepted, newest first, as a select()."""
    return (
        select(Invitation)
        .where(
            Invitation.tenant_id == tenant.id,
            Invitation.accepted_at.is_(None),
            Invitation.replaced_at.is_(None),
            Invitation.expires_at > clock.utcnow(),
        )
        .order_by(Invitation.created_at.desc(), Invitation.id.desc())
        .options(joinedload(Invitation.invited_by))
    )


# --- roles -------------------------------------------------------------------------------


def _add_roles(
    user: User, tenant: Tenant, roles: set[str], *, by: User | None, suspended: bool = False
) -> None:
    if roles and user.is_portal_admin:
        raise AccountError(
            None, "The portal administrator's account cannot hold roles in an organisation"
        )
    now = clock.utcnow()
    for role in sorted(roles, key=list(TENANT_ROLES).index):
        user.tenant_grants.append(
            TenantGrant(
                tenant=tenant,
                role=role,
                granted_at=now,
                granted_by=by,
                # A new role of somebody whose access is suspended waits like the others.
                suspended_at=now if suspended else None,
            )
        )
        audit.record("grant.added", user, tenant_id=tenant.id, detail={"role": role})


def _remove_roles(user: User, tenant: Tenant, roles: set[str]) -> None:
    for role in sorted(roles, key=list(TENANT_ROLES).index):
        user.tenant_grants.remove(user.grant_in(tenant, role))
        audit.record("grant.removed", user, tenant_id=tenant.id, detail={"role": role})


def check_roles_change(user: User, tenant: Tenant, roles: list[str], *, changed_by: User) -> set:
    """The roles ``user`` would hold after the change, or AccountError in the user's words."""
    if user.id == changed_by.id:
        raise AccountError(
            None,
            "You cannot change your own roles. "
            f"Another organisation administrator of {tenant.name} can",
        )
    wanted = set(roles)
    if wanted - set(TENANT_ROLES):
        raise AccountError(None, "Choose roles from the list")
    if not wanted:
        raise AccountError(
            None, "Choose at least one role. To stop somebody working here, remove them instead"
        )
    if wanted and user.is_portal_admin:
        raise AccountError(
            None, "The portal administrator's account cannot hold roles in an organisation"
        )
    return wanted


def set_roles(user: User, tenant: Tenant, roles: list[str], *, changed_by: User) -> bool:
    """Replace a person's roles in one tenant, after the confirmation. True if any changed.

    Nobody changes their own roles. Granting "caseworker" is emailed to the tenant's other
    administrators.
    """
    wanted = check_roles_change(user, tenant, roles, changed_by=changed_by)
    held = user.held_roles_in(tenant)
    if wanted == held:
        return False
    _add_roles(user, tenant, wanted - held, by=changed_by, suspended=user.is_suspended_in(tenant))
    _remove_roles(user, tenant, held - wanted)
    db.session.commit()
    if CASE_ROLE in wanted - held:
        _queue_mail(
            CASE_ACCESS_MAIL,
            f"Case access news to the administrators of {tenant.name}",
            tenant=tenant,
            requested_by=changed_by,
            user_id=user.id,
            by_id=changed_by.id,
        )
    return True


def tell_other_admins_about_case_access(user_id: int, tenant_id: int, by_id: int | None) -> int:
    """Email every administrator of a tenant, other than the one who granted it, that a
    person was given the caseworker role there. Returns how many were told."""
    user, tenant = db.session.get(User, user_id), db.session.get(Tenant, tenant_id)
    by = db.session.get(User, by_id) if by_id is not None else None
    told = 0
    admins = db.session.scalars(
        select(User)
        .join(TenantGrant, TenantGrant.user_id == User.id)
        .where(
            TenantGrant.tenant_id == tenant.id,
            TenantGrant.role == "admin",
            TenantGrant.suspended_at.is_(None),
            User.disabled_at.is_(None),
        )
        .order_by(User.id)
    ).all()
    who = f"{by.name} ({by.email})" if by is not None else "An administrator"
    for admin in admins:
        if by is not None and admin.id == by.id:
            continue
        told += 1
        mail.send(
            admin.email,
            f"{tenant.name}: somebody can now open hate-incident case records",
            f"Hello {admin.name},\n\n"
            f"{who} has given {user.name} ({user.email}) the caseworker role in "
            f"{tenant.name}. Caseworkers can open every hate-incident case record.\n\n"
            "You are told because you are one of the organisation administrators. If this "
            "was not agreed, change their roles on the people page:\n\n"
            f"{external_url('tenant_admin.people', tenant_slug=tenant.slug)}\n",
        )
    return told


def case_access(tenant: Tenant) -> list[TenantGrant]:
    """Who holds "caseworker" in ``tenant``, with who granted it and when."""
    return list(
        db.session.scalars(
            select(TenantGrant)
            .where(TenantGrant.tenant_id == tenant.id, TenantGrant.role == CASE_ROLE)
            .order_by(TenantGrant.granted_at.desc(), TenantGrant.id.desc())
            .options(joinedload(TenantGrant.user), joinedload(TenantGrant.granted_by))
        )
    )


def grant_partnership_lead(user: User, partnership: Partnership) -> None:
    if not user.leads(partnership):
        user.partnership_grants.append(PartnershipGrant(partnership=partnership, role="lead"))
        audit.record(
            "grant.added",
            user,
            detail={"role": PARTNERSHIP_ROLES["lead"], "partnership": partnership.slug},
        )


def grant_directly(
    user: User,
    *,
    tenant: Tenant | None = None,
    roles: list[str] = (),
    partnership: Partnership | None = None,
) -> None:
    """Add roles at once, for the command line (run by whoever runs the portal)."""
    if tenant is not None:
        if set(roles) - set(TENANT_ROLES) or not roles:
            raise AccountError(None, "Choose at least one role")
        _add_roles(
            user,
            tenant,
            set(roles) - user.held_roles_in(tenant),
            by=None,
            suspended=user.is_suspended_in(tenant),
        )
    if partnership is not None:
        grant_partnership_lead(user, partnership)


def send_password_link(user: User, place: Tenant | Partnership) -> None:
    """Email a person added on the command line a link to choose their password."""
    token = issue_token(user, "invite")
    db.session.commit()
    days = current_app.config["INVITATION_LIFETIME"].days
    mail.send(
        user.email,
        f"You have been invited to the Equality Partnership Portal for {place.name}",
        f"Hello {user.name},\n\n"
        f"You have been given access to the Equality Partnership Portal for {place.name}.\n\n"
        f"Choose your password with this link within {days} days. It works once.\n\n"
        f"{external_url('auth.accept_invitation', token=token)}\n",
    )


# --- access to the tenant ----------------------------------------------------------------


def suspend(user: User, tenant: Tenant, *, by: User) -> None:
    """End ``user``'s access to ``tenant`` now, keeping their roles to restore later.

    Only this tenant is touched: the account, which other organisations and partnerships may
    rely on, keeps working there.
    """
    if user.id == by.id:
        raise AccountError(None, "You cannot suspend your own access")
    now = clock.utcnow()
    changed = False
    for grant in user.tenant_grants:
        if grant.tenant_id == tenant.id and grant.suspended_at is None:
            grant.suspended_at = now
            changed = True
    if changed:
        audit.record("user.suspended", user, tenant_id=tenant.id)
    db.session.commit()


def restore(user: User, tenant: Tenant, *, by: User) -> None:
    """Give back ``user``'s access to ``tenant`` with the roles they held."""
    if user.id == by.id:
        raise AccountError(None, "You cannot restore your own access")
    changed = False
    for grant in user.tenant_grants:
        if grant.tenant_id == tenant.id and grant.suspended_at is not None:
            grant.suspended_at = None
            changed = True
    if changed:
        audit.record("user.restored", user, tenant_id=tenant.id)
    db.session.commit()


def works_elsewhere(user: User, tenant: Tenant) -> bool:
    """True if the person has roles outside ``tenant`` (another organisation or a
    partnership), so removing them here leaves their account working."""
    return any(g.tenant_id != tenant.id for g in user.tenant_grants) or bool(
        user.partnership_grants
    )


def remove_from_tenant(user: User, tenant: Tenant, *, by: User) -> None:
    """Take away every role a person holds in ``tenant``; their access there ends now.

    A person left with no roles anywhere is also disabled, so the account cannot sign in
    to an empty portal.
    """
    if user.id == by.id:
        raise AccountError(None, "You cannot remove yourself")
    _remove_roles(user, tenant, user.held_roles_in(tenant))
    if not user.tenant_grants and not user.partnership_grants and not user.is_portal_admin:
        if user.disabled_at is None:
            user.disabled_at = clock.utcnow()
            end_all_sessions(user, "removed from every organisation")
            audit.record("user.disabled", user, tenant_id=tenant.id)
    audit.record("user.removed", user, tenant_id=tenant.id)
    db.session.commit()


def people_of(tenant: Tenant):
    """Everybody holding a role in ``tenant``, as a select() ordered by name, with their
    grants (the people page shows each person's roles there)."""
    return (
        select(User)
        .where(User.id.in_(select(TenantGrant.user_id).where(TenantGrant.tenant_id == tenant.id)))
        .order_by(User.name, User.email)
        .options(selectinload(User.tenant_grants))
    )


def accept_with_password(invitation: Invitation, account: User | None, password: str) -> User:
    """Accept an invitation to a new address (or an account never set up) by choosing a
    password. The account is made now, not when the invitation was sent."""
    from portal.auth.services import check_password_rules, hash_password

    if account is not None and account.password_hash:
        raise AccountError(None, "Sign in to accept this invitation")
    if account is None:
        account = User(email=invitation.email, name=invitation.name)
        check_password_rules(password, account)
        db.session.add(account)
        db.session.flush()
    else:
        check_password_rules(password, account)
    account.password_hash = hash_password(password)
    audit.record("auth.password_set", account, user=account, detail={"via": "invite"})
    accept(invitation, account)
    return account
