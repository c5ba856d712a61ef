"""Who may see what: the tenant and partnership in the URL, roles, and load-or-404.

A tenant page's tenant comes from ``/t/<tenant_slug>/`` and nowhere else. A user with no
grant there gets a 404, exactly as if the tenant did not exist, so that nobody learns
which other organisations use the portal.
"""

from __future__ import annotations

from functools import wraps

from flask import Blueprint, abort, g
from flask.ctx import _AppCtxGlobals
from flask_login import current_user
from sqlalchemy import select

from portal import tenancy
from portal.extensions import db, login_manager
from portal.partners.models import Partnership, Tenant

READ_ROLES = ("officer", "caseworker", "viewer", "admin", "ceo")

# What each tenant role may do, by name. Routes declare the permission they need
# (``@requires("edit_plan")``) and templates ask the same question (``can("edit_plan")``),
# so a page never offers what its route would refuse. The role matrix test
# (tests/test_role_matrix.py) reads these from every route.
PERMISSIONS: dict[str, tuple[str, ...]] = {
    "read": READ_ROLES,
    "edit_plan": ("officer",),
    "work_cases": ("caseworker",),
    "manage_people": ("admin",),
    "set_retention": ("admin",),
    "keep_wards": ("caseworker", "admin"),
    "sign_off": ("ceo",),
}


def roles_for(*names: str) -> frozenset[str]:
    """The tenant roles that ``names`` (permissions or roles) allow."""
    roles: set[str] = set()
    for name in names:
        if name in PERMISSIONS:
            roles.update(PERMISSIONS[name])
        elif name in READ_ROLES:
            roles.add(name)
        else:
            raise ValueError(f"unknown permission or role {name!r}")
    return frozenset(roles)


class Globals(_AppCtxGlobals):
    """Flask's ``g``, where ``g.tenant``, the organisation in the URL as an ORM row, is
    loaded the first time a request asks for it.

    The session read what every tenant page needs of it (``g.place``: its id, slug, name,
    data version and partnerships, see portal/auth/principal.py), which is all a kept page
    uses; a page that shows or changes more asks for ``g.tenant``."""

    def __getattr__(self, name: str):
        if name == "tenant" and "place" in self.__dict__:
            return self._tenant()
        return super().__getattr__(name)

    def __contains__(self, item: str) -> bool:
        return super().__contains__(item) or (item == "tenant" and "place" in self.__dict__)

    def get(self, name: str, default=None):
        if name == "tenant" and name not in self.__dict__ and "place" in self.__dict__:
            return self._tenant()
        return super().get(name, default)

    def pop(self, name: str, *default):
        if name == "tenant":
            self.__dict__.pop("place", None)
        return super().pop(name, *default)

    def _tenant(self) -> Tenant:
        tenant = db.session.get(Tenant, self.__dict__["place"].id)
        if tenant is None:
            abort(404)
        self.__dict__["tenant"] = tenant
        return tenant


def can(permission: str) -> bool:
    """True if the signed-in user holds ``permission`` in the current tenant."""
    if "place" not in g or not current_user.is_authenticated:
        return False
    return current_user.has_role(g.place, *roles_for(permission))


def _pull_tenant(endpoint: str | None, values: dict | None) -> None:
    slug = (values or {}).pop("tenant_slug", None)
    if slug is None:
        return
    if not current_user.is_authenticated:
        g.login_required = True
        return
    # The user's grants came with the session, with their organisations: a slug the user
    # holds no grant for is a 404 without asking the database.
    place = current_user.tenant_for(slug)
    if place is None or not current_user.roles_in(place):
        abort(404)
    g.pop("tenant", None)  # never one kept from an earlier request of the same context
    g.place = place  # g.tenant, the ORM row, is loaded when a page asks for it
    if isinstance(place, Tenant):
        g.tenant = place
    tenancy.set_tenant(place)


def _pull_partnership(endpoint: str | None, values: dict | None) -> None:
    slug = (values or {}).pop("partnership_slug", None)
    if slug is None:
        return
    if not current_user.is_authenticated:
        g.login_required = True
        return
    partnership = db.session.scalar(select(Partnership).where(Partnership.slug == slug))
    if partnership is None or not current_user.leads(partnership):
        abort(404)
    g.partnership = partnership
    tenancy.set_partnership(partnership)


def _require_login() -> None:
    if g.get("login_required"):
        return login_manager.unauthorized()
    return None


def _add_slugs(endpoint: str, values: dict) -> None:
    if "place" in g and "tenant_slug" not in values:
        values["tenant_slug"] = g.place.slug
    if "partnership" in g and "partnership_slug" not in values:
        values["partnership_slug"] = g.partnership.slug


def tenant_blueprint(name: str, import_name: str, url_prefix: str = "") -> Blueprint:
    """A blueprint whose pages live under ``/t/<tenant_slug>``, for that tenant's users."""
    bp = Blueprint(name, import_name, url_prefix=f"/t/<tenant_slug>{url_prefix}")
    bp.url_value_preprocessor(_pull_tenant)
    bp.before_request(_require_login)
    bp.url_defaults(_add_slugs)
    return bp


def partnership_blueprint(name: str, import_name: str, url_prefix: str = "") -> Blueprint:
    """A blueprint whose pages live under ``/p/<partnership_slug>``, for its leads."""
    bp = Blueprint(name, import_name, url_prefix=f"/p/<partnership_slug>{url_prefix}")
    bp.url_value_preprocessor(_pull_partnership)
    bp.before_request(_require_login)
    bp.url_defaults(_add_slugs)
    return bp


def _pull_public_tenant(endpoint: str | None, values: dict | None) -> None:
    slug = (values or {}).pop("org_slug", None)
    if slug is None:
        return
    tenant = db.session.scalar(select(Tenant).where(Tenant.slug == slug))
    if tenant is None:
        abort(404)
    g.public_tenant = tenant
    tenancy.set_tenant(tenant)


def _add_public_slug(endpoint: str, values: dict) -> None:
    if "public_tenant" in g and "org_slug" not in values:
        values["org_slug"] = g.public_tenant.slug


def public_blueprint(name: str, import_name: str, url_prefix: str = "") -> Blueprint:
    """A blueprint of public pages (no sign-in) under ``/public/<org_slug>``.

    The organisation is in scope, so its tenant-owned rows can be read; each view must
    still show only what that organisation has published.
    """
    bp = Blueprint(name, import_name, url_prefix=f"/public/<org_slug>{url_prefix}")
    bp.url_value_preprocessor(_pull_public_tenant)
    bp.url_defaults(_add_public_slug)
    return bp


def requires(*names: str):
    """Allow a tenant page only to holders of a permission (or role) in the URL's tenant.

    The roles allowed are kept on the view as ``required_roles``, so that tests can check
    every route against the roles that may use it.
    """
    roles = roles_for(*names)

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.has_role(g.place, *roles):
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_roles = roles
        return wrapped

    return decorator


def requires_portal_admin(view):
    """Allow a page only to the portal administrator; anybody else is not found."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if not current_user.is_portal_admin:
            abort(404)
        return view(*args, **kwargs)

    wrapped.portal_admin_only = True
    return wrapped


def get_or_404(model, object_id):
    """Load a tenant-owned row of the current tenant, or answer 404.

    The tenancy criterion makes another tenant's row invisible, so it is "not found"
    exactly like a row that never existed.
    """
    # A select (not Session.get) so that the tenancy criterion always applies, even to a
    # row already in the identity map.
    obj = db.session.scalar(select(model).where(model.id == object_id))
    if obj is None:
        abort(404)
    return obj


def get_partnership_owned_or_404(model, object_id, *conditions, options=()):
    """Load a partnership-owned row visible in the current scope, or answer 404.

    On a partnership's page that is the partnership's own row; on a tenant's page a row
    of one of the tenant's partnerships. Another partnership's row is invisible to the
    scope, so it is "not found" exactly like a row that never existed. ``conditions``
    narrow it further (a published period, a joint rather than built-in measure);
    ``options`` load what the page shows with it.
    """
    query = select(model).where(model.id == object_id, *conditions).options(*options)
    obj = db.session.scalar(query)
    if obj is None:
        abort(404)
    return obj
