"""Crafted requests get a page in plain words, never a server error."""

from __future__ import annotations

import pytest

from tests.helpers import csrf_token


@pytest.mark.parametrize(
    "date_parts",
    [["1"], ["1", "2", "2024", "9"], [], ["x", "y", "z"]],
    ids=["one-part", "four-parts", "no-parts", "words"],
)
def test_date_fields_with_the_wrong_number_of_parts(login_as, client, date_parts):
    login_as("officer", "sevenoaks")
    url = "/t/sevenoaks/eqia/new"
    token = csrf_token(client, url)
    response = client.post(url, data={"csrf_token": token, "assessed_on": date_parts})
    assert response.status_code == 200
    assert "There is a problem" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "path",
    [
        "/t/sevenoaks/plan/actions/99999999999999999999",
        "/t/sevenoaks/plan/actions?page=99999999999999999999",
        "/t/sevenoaks/plan/actions?owner=%C2%B2",
        "/t/sevenoaks/plan/actions?owner=99999999999999999999",
        "/t/sevenoaks/plan/actions?area=%C2%B2&aim=%C2%B2",
        "/t/sevenoaks/plan/actions?_method=POST&_external=1&tenant_slug=thanet",
        "/t/sevenoaks/admin/people?page=-4",
    ],
)
def test_crafted_addresses_never_500(login_as, client, path):
    login_as("admin", "sevenoaks")
    response = client.get(path)
    assert response.status_code in (200, 404), path
    if response.status_code == 200:
        page = response.get_data(as_text=True)
        assert "http://localhost/t/" not in page and "/t/thanet/" not in page


def test_huge_joint_aim_id_on_a_commitment_is_refused_in_words(login_as, client, app):
    login_as("officer", "sevenoaks")
    url = "/t/sevenoaks/plan/commitments/new"
    token = csrf_token(client, url)
    response = client.post(
        url,
        data={
            "csrf_token": token,
            "text": "We will listen.",
            "joint_aims": ["99999999999999999999"],
        },
    )
    assert response.status_code == 200
    assert "There is a problem" in response.get_data(as_text=True)
