"""Template globals and filters shared by every page."""

from __future__ import annotations

import re
from collections import ChainMap
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask import Flask, current_app, g, request, url_for
from flask.templating import Environment as FlaskEnvironment
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from govuk_frontend_wtf.main import wtforms_errors
from markupsafe import Markup

from portal.access import can
from portal.pagination import pagination_params
from portal.security import csp_nonce


class _Globals(ChainMap):
    """A template's globals, whose keys are a real set.

    Jinja subtracts an imported template's global names from the importing context's on
    every ``{% from … import … %}``; against a ChainMap's keys view that runs in Python, a
    lookup through both maps for each name, and a page imports GOV.UK macros from some
    twenty templates. A set is subtracted in C.
    """

    def keys(self):  # type: ignore[override]
        return set().union(*self.maps)


class Environment(FlaskEnvironment):
    """Flask's template environment, with globals whose names subtract quickly."""

    def make_globals(self, d):
        return _Globals({} if d is None else d, self.globals)


# What the frame of every page draws the same way on every request, built once per process
# (each store cleared when it holds this many, so odd addresses cannot grow it for ever).
KEPT_PER_STORE = 10_000


def _kept(store: dict, key: tuple, make: Callable[[], Any]) -> Any:
    value = store.get(key)
    if value is None:
        if len(store) >= KEPT_PER_STORE:
            store.clear()
        value = store[key] = make()
    return value


# Each navigation link's address, by where the app is mounted, the page's tenant or
# partnership and the endpoint.
_HREFS: dict[tuple, str] = {}


def _href(endpoint: str) -> str:
    scope = g.place.slug if "place" in g else g.partnership.slug if "partnership" in g else ""
    return _kept(_HREFS, (request.script_root, scope, endpoint), lambda: url_for(endpoint))


# The service navigation as drawn, by everything it shows: a person sees the same few
# menus on every page, and GOV.UK's macro is the costliest part of a page's frame.
_MENUS: dict[tuple, Markup] = {}
SERVICE_NAVIGATION = "govuk_frontend_jinja/components/service-navigation/macro.html"


def service_navigation(params: dict) -> Markup:
    """GOV.UK's service navigation for ``params`` (as the macro takes them), drawn once per
    process for each menu."""
    # Every field of the menu and of each link is in the key: none is drawn for another.
    items = tuple(tuple(sorted(i.items())) for i in params.get("navigation", ()))
    key = (tuple(sorted((k, v) for k, v in params.items() if k != "navigation")), items)

    def draw() -> Markup:
        macro = current_app.jinja_env.get_template(SERVICE_NAVIGATION).module
        # GOV.UK's macro escapes what it is given, and returns markup.
        return Markup(macro.govukServiceNavigation(params))  # noqa: S704

    return _kept(_MENUS, key, draw)


# --- a whole page kept, but for what each request carries of its own ---------------------

# What a page shows of the request that draws it, by name, and how to get it for another.
_REQUEST_OWN: dict[str, Callable[[], str]] = {"nonce": csp_nonce, "csrf": generate_csrf}


@dataclass(frozen=True)
class Stencil:
    """A page as drawn, cut wherever it shows its request's CSP nonce or CSRF token.

    Kept, it holds nothing of the request that drew it; :meth:`fill` gives the page for
    the request at hand, with that request's own nonce and token in the holes. The cuts
    are made at the values themselves (random, and read from this request only), so the
    page's text around them is never searched for a marker that its content could hold.
    """

    parts: tuple[str, ...]  # the page's text, with the name of a hole at every odd place

    @classmethod
    def cut(cls, page: str) -> Stencil:
        own = {csp_nonce(): "nonce"}
        # Drawn on this page if Flask-WTF keeps one for the request, under its field's name.
        token = g.get(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"))
        if token:
            own[token] = "csrf"
        pattern = "|".join(re.escape(value) for value in own)
        pieces = re.split(f"({pattern})", page)
        return cls(tuple(p if i % 2 == 0 else own[p] for i, p in enumerate(pieces)))

    def fill(self) -> str:
        values = {name: make() for name, make in _REQUEST_OWN.items() if name in self.parts[1::2]}
        return "".join(p if i % 2 == 0 else values[p] for i, p in enumerate(self.parts))


def _navigation() -> list[dict]:
    """The service navigation for where the user is: their tenant or partnership."""
    items: list[dict] = []
    if not current_user.is_authenticated:
        return items

    def item(text: str, endpoint: str) -> dict:
        href = _href(endpoint)
        return {"text": text, "href": href, "current": request.path == href}

    if "tenant" in g:
        items.append(item("Home", "home.tenant_home"))
        items.append(item("Commitments", "commitments.commitments"))
        items.append(item("Action plan", "actions.objectives"))
        items.append(item("Measures", "monitoring.measures"))
        items.append(item("Impact assessments", "eqia.register"))
        if can("work_cases"):
            items.append(item("Hate incidents", "incidents.register"))
        items.append(item("Incident statistics", "incidents.statistics"))
        items.append(item("Joint aims", "tenant_aims.tenant_index"))
        items.append(item("Annual returns", "returns.tenant_index"))
        if can("manage_people"):
            items.append(item("People", "tenant_admin.people"))
            items.append(item("Audit trail", "tenant_admin.audit_trail"))
    elif "partnership" in g:
        items.append(item("Home", "partners.partnership_home"))
        items.append(item("Joint assessments", "joint_eqia.joint_assessments"))
        items.append(item("Joint aims", "aims.index"))
        items.append(item("Members' figures", "partner_monitoring.partnership_measures"))
        items.append(item("Reporting years", "reports.index"))
    if current_user.is_portal_admin:
        items.append(item("Portal administration", "portal_admin.index"))
    # The section a page belongs to stays highlighted on its inner pages: the longest
    # link that the address starts with (home links only on themselves).
    sections = [i for i in items if request.path.startswith(i["href"]) and i["href"].count("/") > 3]
    best = max(sections, key=lambda i: len(i["href"]), default=None)
    for i in items:
        i["active"] = i["current"] or i is best
    return items


def _format_date(value: date | datetime | None, with_time: bool = False) -> str:
    if value is None:
        return ""
    if with_time and isinstance(value, datetime):
        return value.strftime("%-d %B %Y at %H:%M UTC")
    return value.strftime("%-d %B %Y")


def _role_labels(roles) -> str:
    from portal.auth.models import TENANT_ROLES

    order = list(TENANT_ROLES)
    return ", ".join(TENANT_ROLES[r] for r in sorted(roles, key=order.index))


def _error_summary(form, params=None) -> dict:
    """The error summary of a form; a problem with no field of its own (``Invalid`` with no
    field) links to the form's first field, where the reader starts putting it right."""
    summary = wtforms_errors(form, params or {})
    first = next(
        (f.id for f in form if f.type not in ("CSRFTokenField", "HiddenField")), "main-content"
    )
    for item in summary["errorList"]:
        if item.get("href") in ("#", "#None"):
            item["href"] = f"#{first}"
    return summary


def init_app(app: Flask) -> None:
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    app.jinja_env.filters["govdate"] = _format_date
    app.jinja_env.filters["role_labels"] = _role_labels
    app.jinja_env.globals["pagination_params"] = pagination_params
    app.jinja_env.globals["can"] = can
    app.jinja_env.globals["service_navigation"] = service_navigation
    app.jinja_env.globals["wtforms_errors"] = _error_summary

    @app.context_processor
    def _layout():
        return {
            "portal_name": app.config["PORTAL_NAME"],
            # As read with the session: showing it loads nothing (portal/auth/principal.py).
            "current_tenant": g.get("place"),
            "current_partnership": g.get("partnership"),
            "navigation": _navigation(),
        }
