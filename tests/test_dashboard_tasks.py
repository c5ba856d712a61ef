"""What a chief executive and an officer must do first, on their organisation's home, and
the published joint reports on the public pages."""

from __future__ import annotations

import html
import re


def page_text(response) -> str:
    """The page's words, without tags, on one line."""
    body = response.get_data(as_text=True)
    body = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", body, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body)))


def test_a_chief_executive_sees_the_return_waiting_for_their_sign_off_first(login_as, client):
    login_as("ceo", "tunbridge-wells")
    page = page_text(client.get("/t/tunbridge-wells/"))
    assert "For you to do first" in page
    assert "Sign off or send back the 2025-26 return to West Kent" in page
    assert page.index("For you to do first") < page.index("My actions due or overdue")


def test_a_chief_executive_with_nothing_to_sign_sees_no_task(login_as, client):
    login_as("ceo", "sevenoaks")  # Sevenoaks' 2025-26 return is signed off
    page = page_text(client.get("/t/sevenoaks/"))
    assert "Sign off or send back" not in page


def test_officers_see_the_returns_they_must_start_or_complete_with_the_deadline(login_as, client):
    login_as("officer", "tonbridge-malling")  # in draft
    page = page_text(client.get("/t/tonbridge-malling/"))
    assert "Complete and send the 2025-26 annual return to West Kent" in page
    client.post("/logout", data={"csrf_token": _token(client)})
    login_as("officer", "west-kent-housing")  # not started
    page = page_text(client.get("/t/west-kent-housing/"))
    assert "Start the 2025-26 annual return to West Kent" in page
    assert ", by " in page


def test_a_signed_off_return_is_no_task_for_the_officer(login_as, client):
    login_as("officer", "sevenoaks")
    page = page_text(client.get("/t/sevenoaks/"))
    assert "2025-26 annual return to West Kent" not in page


def test_viewers_have_no_return_tasks(login_as, client):
    login_as("viewer", "tonbridge-malling")
    page = page_text(client.get("/t/tonbridge-malling/"))
    assert "annual return to" not in page


def test_public_pages_list_the_published_joint_reports(client):
    page = page_text(client.get("/public/p/west-kent/"))
    assert "2024-25" in page and "version 1" in page
    body = client.get("/public/p/west-kent/").get_data(as_text=True)
    assert 'href="/public/p/west-kent/reports/2024-25/' in body
    page = page_text(client.get("/public/sevenoaks/"))
    assert "West Kent" in page and "version 1" in page
    # Gentoo is in no partnership: no report lists it.
    assert "version 1" not in page_text(client.get("/public/gentoo/"))


def _token(client) -> str:
    from tests.helpers import csrf_token

    return csrf_token(client, "/account")
