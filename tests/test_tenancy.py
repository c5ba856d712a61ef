"""The ORM layer of isolation: scoping, the flush guard and the loud failure."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm.exc import ObjectDeletedError

from portal import clock
from portal.plans.models import Commitment
from portal.tenancy import CrossTenantWrite, TenantNotSet, across_tenants, tenant_scope
from tests.helpers import tenant


def add(db, text: str) -> Commitment:
    now = clock.utcnow()
    row = Commitment(position=99, text=text, created_at=now, updated_at=now)
    db.session.add(row)
    db.session.commit()
    return row


def test_queries_see_only_the_current_tenant(db):
    with tenant_scope(tenant("sevenoaks")):
        add(db, "Sevenoaks only")
    with tenant_scope(tenant("thanet")):
        add(db, "Thanet only")
        texts = db.session.scalars(select(Commitment.text)).all()
        assert texts == ["Thanet only"]
    with tenant_scope(tenant("sevenoaks")):
        assert db.session.scalars(select(Commitment.text)).all() == ["Sevenoaks only"]


def test_query_with_no_tenant_fails_loudly(db):
    with pytest.raises(TenantNotSet):
        db.session.scalars(select(Commitment)).all()
    with pytest.raises(TenantNotSet):
        db.session.scalar(select(func.count(Commitment.id)))


def test_bulk_update_and_delete_are_scoped(db):
    with tenant_scope(tenant("sevenoaks")):
        add(db, "keep me")
    with tenant_scope(tenant("thanet")):
        add(db, "thanet's")
        db.session.execute(update(Commitment).values(text="changed"))
        db.session.execute(delete(Commitment).where(Commitment.text == "keep me"))
        db.session.commit()
    with tenant_scope(tenant("sevenoaks")):
        assert db.session.scalars(select(Commitment.text)).all() == ["keep me"]
    with tenant_scope(tenant("thanet")):
        assert db.session.scalars(select(Commitment.text)).all() == ["changed"]


def test_insert_takes_the_current_tenant(db):
    sevenoaks = tenant("sevenoaks")
    with tenant_scope(sevenoaks):
        row = add(db, "new")
        assert row.tenant_id == sevenoaks.id


def test_insert_for_another_tenant_is_refused(db):
    thanet = tenant("thanet")
    with tenant_scope(tenant("sevenoaks")):
        now = clock.utcnow()
        db.session.add(
            Commitment(tenant_id=thanet.id, position=1, text="x", created_at=now, updated_at=now)
        )
        with pytest.raises(CrossTenantWrite):
            db.session.flush()
        db.session.rollback()


def test_insert_with_no_tenant_is_refused(db):
    now = clock.utcnow()
    db.session.add(Commitment(position=1, text="x", created_at=now, updated_at=now))
    with pytest.raises(TenantNotSet):
        db.session.flush()
    db.session.rollback()


def test_moving_a_row_to_another_tenant_is_refused(db):
    with tenant_scope(tenant("sevenoaks")):
        row = add(db, "mine")
        row.tenant_id = tenant("thanet").id
        with pytest.raises(CrossTenantWrite):
            db.session.flush()
        db.session.rollback()


def test_object_loaded_under_one_tenant_cannot_be_changed_under_another(db):
    with tenant_scope(tenant("sevenoaks")):
        row = add(db, "mine")
    with tenant_scope(tenant("thanet")):
        row.text = "stolen"
        # Refused either by the flush guard or, on PostgreSQL, earlier: the expired row
        # cannot even be reloaded under the other tenant.
        with pytest.raises((CrossTenantWrite, ObjectDeletedError)):
            db.session.flush()
        db.session.rollback()


def test_across_tenants_visits_each_under_its_own_scope_and_is_audited(app, db):
    from tests.helpers import audit_events

    for slug in ("sevenoaks", "thanet", "maidstone"):
        with tenant_scope(tenant(slug)):
            add(db, f"{slug} commitment")
    counts = {}
    for t in across_tenants([tenant("sevenoaks"), tenant("thanet")], purpose="test"):
        counts[t.slug] = db.session.scalars(select(Commitment.text)).all()
    assert counts == {
        "sevenoaks": ["sevenoaks commitment"],
        "thanet": ["thanet commitment"],
    }
    db.session.commit()
    events = audit_events(app, action="cross_tenant.read")
    assert sorted(e.tenant_id for e in events) == sorted(
        [tenant("sevenoaks").id, tenant("thanet").id]
    )
    assert all(e.detail == {"purpose": "test", "tenants": ["sevenoaks", "thanet"]} for e in events)


def test_tenant_scope_does_not_leak_between_requests(app, login_as, client):
    login_as("officer", "sevenoaks")
    assert client.get("/t/sevenoaks/plan/commitments").status_code == 200
    from portal.tenancy import current_tenant_id

    assert current_tenant_id() is None
