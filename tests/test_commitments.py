"""An organisation's commitments: reading, adding, changing, ordering, conflicts."""

from __future__ import annotations

import re

from sqlalchemy import select

from portal.commitments.models import Commitment
from portal.tenancy import tenant_scope
from tests.helpers import audit_events, csrf_token, tenant

BASE = "/t/west-kent-housing/plan/commitments"


def commitment_texts(app, slug="west-kent-housing") -> list[str]:
    with app.app_context():
        from portal.extensions import db

        with tenant_scope(tenant(slug)):
            return list(db.session.scalars(select(Commitment.text).order_by(Commitment.position)))


def commitment_numbers(app, slug="west-kent-housing") -> list[int]:
    with app.app_context():
        from portal.extensions import db

        with tenant_scope(tenant(slug)):
            return list(db.session.scalars(select(Commitment.number).order_by(Commitment.position)))


def test_seed_commitments_are_held_word_for_word(app):
    texts = commitment_texts(app)
    assert len(texts) == 11
    assert texts[0] == (
        "Take into account our customers diverse needs, views, preferences and aspirations "
        "when designing and delivering services, including information."
    )
    assert texts[3] == "Ensure work places are accessible."
    assert texts[10] == "Promote our commitment to equality and diversity."
    assert commitment_texts(app, "gentoo")[0] == "treat everyone fairly and with respect"


def test_viewer_reads_but_cannot_change(login_as, client):
    login_as("viewer", "west-kent-housing")
    page = client.get(BASE).get_data(as_text=True)
    assert "Ensure work places are accessible." in page
    assert "Add a commitment" not in page
    assert client.get(f"{BASE}/new").status_code == 403


def test_officer_adds_a_commitment(login_as, client, app):
    login_as("officer", "west-kent-housing")
    token = csrf_token(client, f"{BASE}/new")
    response = client.post(
        f"{BASE}/new", data={"text": "Publish our equality data every year.", "csrf_token": token}
    )
    assert response.status_code == 302
    assert commitment_texts(app)[-1] == "Publish our equality data every year."
    assert audit_events(app, action="commitment.created")


def test_empty_or_overlong_commitment_is_explained_and_nothing_saved(login_as, client, app):
    login_as("officer", "west-kent-housing")
    token = csrf_token(client, f"{BASE}/new")
    page = client.post(f"{BASE}/new", data={"text": "  ", "csrf_token": token}).get_data(
        as_text=True
    )
    assert "Enter the commitment" in page and "There is a problem" in page
    page = client.post(f"{BASE}/new", data={"text": "x" * 2001, "csrf_token": token}).get_data(
        as_text=True
    )
    assert "Commitment must be 2,000 characters or fewer" in page
    assert len(commitment_texts(app)) == 11


def test_second_save_of_the_same_commitment_is_refused_and_both_versions_shown(
    app, login_as, client
):
    first_number = commitment_numbers(app)[0]
    url = f"{BASE}/{first_number}"
    login_as("officer", "west-kent-housing")
    # Two people open the same commitment...
    page = client.get(url).get_data(as_text=True)
    version = re.search(r'name="version" type="hidden" value="(\d+)"', page) or re.search(
        r'name="version"[^>]*value="(\d+)"', page
    )
    version = version.group(1)
    token = csrf_token(client, url)
    # ...the first saves...
    assert (
        client.post(
            url, data={"text": "First person's words.", "version": version, "csrf_token": token}
        ).status_code
        == 302
    )
    # ...and the second, still holding the old version, is refused.
    response = client.post(
        url, data={"text": "Second person's words.", "version": version, "csrf_token": token}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Somebody else changed this commitment" in page
    assert "First person&#39;s words." in page and "Second person&#39;s words." in page
    assert commitment_texts(app)[0] == "First person's words."


def test_commitments_move_up_and_down(app, login_as, client):
    ids = commitment_numbers(app)
    login_as("officer", "west-kent-housing")
    token = csrf_token(client, BASE)
    client.post(f"{BASE}/{ids[1]}/move", data={"direction": "up", "csrf_token": token})
    assert commitment_numbers(app)[:2] == [ids[1], ids[0]]
    client.post(
        f"{BASE}/{ids[1]}/move", data={"direction": "up", "csrf_token": token}
    )  # already first
    assert commitment_numbers(app)[:2] == [ids[1], ids[0]]


def test_delete_asks_first_then_renumbers(app, login_as, client):
    ids = commitment_numbers(app)
    login_as("officer", "west-kent-housing")
    page = client.get(f"{BASE}/{ids[0]}/delete").get_data(as_text=True)
    assert "Are you sure you want to delete commitment 1?" in page
    token = csrf_token(client, f"{BASE}/{ids[0]}/delete")
    client.post(f"{BASE}/{ids[0]}/delete", data={"csrf_token": token})
    assert commitment_numbers(app) == ids[1:]
    with app.app_context():
        from portal.extensions import db

        with tenant_scope(tenant("west-kent-housing")):
            positions = db.session.scalars(
                select(Commitment.position).order_by(Commitment.position)
            ).all()
    assert positions == list(range(1, 11))
    assert audit_events(app, action="commitment.deleted")


def test_plain_language_check_advises_without_blocking(login_as, client, app):
    login_as("officer", "west-kent-housing")
    long_sentence = (
        " ".join(["We will consider the multifarious organisational implications"] * 5) + "."
    )
    token = csrf_token(client, f"{BASE}/new")
    page = client.post(
        f"{BASE}/new", data={"text": long_sentence, "source": "x" * 301, "csrf_token": token}
    ).get_data(as_text=True)
    assert "Plain-language check" in page
    assert "This sentence has 35 words" in page
    assert "Reading age about" in page
    response = client.post(f"{BASE}/new", data={"text": long_sentence, "csrf_token": token})
    assert response.status_code == 302  # advice never blocks a save


def test_readability_measures():
    from portal.readability import readability

    assert readability("") is None
    plain = readability("We will make sure our events are open to all. We will listen.")
    assert plain.long_sentences == [] and plain.advice == []
    dense = readability(
        "Implementation of these aims and commitments will be monitored by the Corporate "
        "Equalities Monitoring Groups at each Council, which will consider comprehensive "
        "organisational performance information and the recommendations arising therefrom."
    )
    assert dense.reading_age > 14 and len(dense.long_sentences) == 1


def test_commitments_export_as_csv_and_xlsx(login_as, client, app):
    import csv
    import io

    from openpyxl import load_workbook

    login_as("officer", "west-kent-housing")
    token = csrf_token(client, f"{BASE}/new")
    client.post(f"{BASE}/new", data={"text": '=HYPERLINK("x")', "csrf_token": token})
    response = client.get(f"{BASE}/export?format=csv")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:2] == ["Number", "Commitment"]
    assert rows[4][1] == "Ensure work places are accessible."
    assert rows[-1][1] == '\'=HYPERLINK("x")'
    workbook = load_workbook(io.BytesIO(client.get(f"{BASE}/export?format=xlsx").data))
    sheet = workbook.active
    assert sheet.cell(row=2, column=2).value.startswith("Take into account our customers")
    assert len(audit_events(app, action="export")) == 2
