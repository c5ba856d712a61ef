"""Pagination of select() queries, with the GOV.UK pagination component's data."""

from __future__ import annotations

from flask import current_app, request, url_for

from portal.extensions import db


def paginate(query, per_page: int | None = None):
    """Paginate a select() by the ``page`` query argument; a bad page number is page 1."""
    try:
        page = min(max(1, int(request.args.get("page", 1))), 100_000)
    except ValueError:
        page = 1
    return db.paginate(
        query,
        page=page,
        per_page=per_page or current_app.config["PAGE_SIZE"],
        error_out=False,
    )


def pagination_params(page) -> dict:
    """Parameters for govukPagination from a Flask-SQLAlchemy page."""
    # Only the page's own filters go into the links: never url_for's own options
    # (_external, _method …) or a value that would replace the address's tenant.
    # Every value of each filter is kept: a date filter sends day, month and year under
    # one name.
    args = {
        k: v
        for k, v in request.args.lists()
        if k != "page"
        and not k.startswith("_")
        and k not in (request.view_args or {})
        and k not in {"tenant_slug", "partnership_slug", "org_slug"}
    }
    params: dict = {"items": []}
    if page.has_prev:
        params["previous"] = {
            "href": url_for(request.endpoint, **request.view_args, **args, page=page.prev_num)
        }
    if page.has_next:
        params["next"] = {
            "href": url_for(request.endpoint, **request.view_args, **args, page=page.next_num)
        }
    for number in page.iter_pages(left_edge=1, right_edge=1, left_current=1, right_current=1):
        if number is None:
            params["items"].append({"ellipsis": True})
        else:
            params["items"].append(
                {
                    "number": number,
                    "href": url_for(request.endpoint, **request.view_args, **args, page=number),
                    "current": number == page.page,
                }
            )
    return params
