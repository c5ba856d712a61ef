"""A drop-down's blank option says what to choose, never a bare "None"."""

from __future__ import annotations

import html
import re

import pytest

from portal.forms import with_prompt


def _blank_options(page: str) -> dict[str, str]:
    """Each select's name and the words of its blank option."""
    out = {}
    for name, body in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', page, re.S):
        blank = re.search(r'<option value=""[^>]*>(.*?)</option>', body, re.S)
        if blank:
            out[name] = html.unescape(blank.group(1)).strip()
    return out


def _option_texts(page: str) -> list[str]:
    return [
        html.unescape(t).strip() for t in re.findall(r"<option[^>]*>(.*?)</option>", page, re.S)
    ]


def test_the_prompt_leads_the_choices():
    assert with_prompt("Choose a colour", [("r", "Red")]) == [("", "Choose a colour"), ("r", "Red")]


def test_the_objective_form_prompts_for_an_area_and_a_focus_point(client, login_as):
    login_as("officer", "thanet")
    page = client.get("/t/thanet/plan/objectives/new").get_data(as_text=True)
    blanks = _blank_options(page)
    assert blanks["area"] == "Choose a role or focus area"
    assert blanks["point"] == "Choose a focus point"


@pytest.mark.parametrize(
    ("who", "where", "url"),
    [
        ("officer", "thanet", "/t/thanet/plan/objectives/new"),
        ("officer", "sevenoaks", "/t/sevenoaks/plan/objectives/new"),
        ("officer", "sevenoaks", "/t/sevenoaks/plan/actions/new"),
        ("officer", "sevenoaks", "/t/sevenoaks/plan/actions"),
        ("officer", "sevenoaks", "/t/sevenoaks/monitoring/measures/new"),
    ],
)
def test_no_drop_down_offers_none(client, login_as, who, where, url):
    login_as(who, where)
    response = client.get(url)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<select" in page
    assert "None" not in _option_texts(page)
