"""A NUL character from a browser never reaches the database: PostgreSQL's text refuses
it, so a NUL pasted into a field or put in an address was a failed request there."""

from __future__ import annotations

import io

from werkzeug.datastructures import FileStorage

from portal.incoming import TextWithoutNul
from tests.helpers import csrf_token


def test_a_nul_typed_into_a_field_is_taken_out_and_the_rest_is_saved(login_as, client):
    base = "/t/gentoo/plan"
    login_as("officer", "gentoo")
    token = csrf_token(client, f"{base}/objectives/new")
    response = client.post(
        f"{base}/objectives/new",
        data={
            "title": "Know our\x00 tenants",
            "area": "role:service-provider",
            "csrf_token": token,
        },
    )
    assert response.status_code == 302
    page = client.get(f"{base}/objectives").get_data(as_text=True)
    assert "Know our tenants" in page


def test_every_request_reads_its_fields_and_parameters_without_nuls(app):
    from flask import request

    with app.test_request_context("/?section=de%00livering", method="POST", data={"t": "a\x00b"}):
        assert request.args["section"] == "delivering"
        assert request.form["t"] == "ab"


def test_signing_in_with_a_nul_in_the_address_is_refused_in_words(client):
    token = csrf_token(client, "/login")
    response = client.post(
        "/login", data={"email": "officer@gentoo.demo\x00", "password": "x", "csrf_token": token}
    )
    assert response.status_code == 200
    assert "govuk-error-summary" in response.get_data(as_text=True)


def test_an_address_holding_a_nul_is_not_found(client, login_as):
    assert client.get("/public/seven\x00oaks/").status_code == 404
    login_as("officer", "gentoo")
    assert client.get("/t/gen\x00too/").status_code == 404


def test_names_values_and_file_names_lose_their_nuls():
    upload = FileStorage(io.BytesIO(b"x"), filename="plan\x00.csv")
    fields = TextWithoutNul([("ti\x00tle", "a\x00b"), ("title", "c"), ("file", upload)])
    assert fields.getlist("title") == ["ab", "c"]
    assert fields["file"].filename == "plan.csv"
    assert TextWithoutNul() == {}
