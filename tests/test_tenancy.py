"""The ORM layer of isolation: scoping, the flush guard and the loud failure."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm.exc import ObjectDeletedError

from portal import clock
from portal.commitments.models import Commitment
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
        # The row left the session when the scope changed; if it were still there, the
        # flush guard (or, on PostgreSQL, the failed reload) would refuse the change.
        row.text = "stolen"
        try:
            db.session.commit()
        except (CrossTenantWrite, ObjectDeletedError):
            db.session.rollback()
    with tenant_scope(tenant("sevenoaks")):
        assert db.session.scalars(select(Commitment.text)).all() == ["mine"]


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


# --- statements that reach tenant-owned tables indirectly ----------------------------


def _indirect_statements():
    """Statements over Tenant that reach commitments only through a subquery, EXISTS, a
    Core table or a join: each gives every tenant's rows unless the check sees inside."""
    from sqlalchemy import exists

    from portal.partners.models import Tenant

    table = Commitment.__table__
    return {
        "ORM subquery": select(Tenant.slug).where(Tenant.id.in_(select(Commitment.tenant_id))),
        "exists()": select(Tenant.slug).where(exists().where(Commitment.tenant_id == Tenant.id)),
        "Core table": select(table.c.text),
        "Core subquery": select(Tenant.slug).where(Tenant.id.in_(select(table.c.tenant_id))),
        "Core count": select(func.count()).select_from(table),
        "Core join": select(Tenant.slug).join(table, table.c.tenant_id == Tenant.id),
        "ORM join": select(Tenant.slug).join(Commitment, Commitment.tenant_id == Tenant.id),
        "scalar subquery": select(
            Tenant.slug,
            select(func.count(Commitment.id))
            .where(Commitment.tenant_id == Tenant.id)
            .scalar_subquery(),
        ),
        "CTE": select(Tenant.slug).where(
            Tenant.id.in_(select(select(Commitment.tenant_id).cte().c.tenant_id))
        ),
    }


@pytest.mark.parametrize("name", list(_indirect_statements()))
def test_indirect_query_with_no_tenant_fails_loudly(db, name):
    with tenant_scope(tenant("sevenoaks")):
        add(db, "Sevenoaks only")
    with pytest.raises(TenantNotSet):
        db.session.execute(_indirect_statements()[name]).all()


def test_eager_load_of_tenant_rows_with_no_tenant_fails_loudly(db):
    from sqlalchemy.orm import joinedload

    from portal.actions.models import Action, Objective

    with pytest.raises(TenantNotSet):
        db.session.scalars(select(Objective.id).options(joinedload(Objective.actions))).all()
    with pytest.raises(TenantNotSet):
        db.session.scalars(select(Action.id)).all()


def test_core_update_and_delete_with_no_tenant_fail_loudly(db):
    table = Commitment.__table__
    with pytest.raises(TenantNotSet):
        db.session.execute(update(table).values(text="everybody's"))
    with pytest.raises(TenantNotSet):
        db.session.execute(delete(table))
    db.session.rollback()


@pytest.mark.parametrize("name", list(_indirect_statements()))
def test_indirect_query_sees_only_the_current_tenant(db, name):
    from portal.partners.models import Tenant

    with tenant_scope(tenant("sevenoaks")):
        add(db, "Sevenoaks only")
    with tenant_scope(tenant("thanet")):
        add(db, "Thanet only")
    with tenant_scope(tenant("sevenoaks")):
        rows = db.session.execute(_indirect_statements()[name]).all()
        own = db.session.scalar(select(func.count(Commitment.id)))
        slugs = set(db.session.scalars(select(Tenant.slug)))
    values = [row[0] for row in rows]
    if name == "Core count":
        assert values == [own]
    elif name == "scalar subquery":
        # Every tenant is listed; only Sevenoaks' own commitments are counted.
        assert {slug: count for slug, count in rows} == {
            slug: own if slug == "sevenoaks" else 0 for slug in slugs
        }
    else:
        assert "Thanet only" not in values
        assert "thanet" not in values
        assert values


def test_core_update_and_delete_touch_only_the_current_tenant(db):
    table = Commitment.__table__
    with tenant_scope(tenant("sevenoaks")):
        add(db, "keep me")
    with tenant_scope(tenant("thanet")):
        add(db, "thanet's")
        db.session.execute(update(table).values(text="changed"))
        db.session.execute(delete(table).where(table.c.text == "keep me"))
        db.session.commit()
    with tenant_scope(tenant("sevenoaks")):
        assert "keep me" in db.session.scalars(select(Commitment.text)).all()
        assert "changed" not in db.session.scalars(select(Commitment.text)).all()
    with tenant_scope(tenant("thanet")):
        assert set(db.session.scalars(select(Commitment.text)).all()) == {"changed"}


def test_outer_join_to_a_core_table_keeps_its_meaning(db):
    from portal.partners.models import Tenant

    table = Commitment.__table__
    with tenant_scope(tenant("thanet")):
        add(db, "Thanet only")
    with tenant_scope(tenant("maidstone")):
        rows = db.session.execute(
            select(Tenant.slug, table.c.text)
            .outerjoin(table, table.c.tenant_id == Tenant.id)
            .where(Tenant.slug.in_(["maidstone", "thanet"]))
            .order_by(Tenant.slug)
        ).all()
    # Every tenant is still listed; only Maidstone's own commitments are joined.
    assert {slug for slug, _ in rows} == {"maidstone", "thanet"}
    assert ("thanet", None) in rows
    assert all(text != "Thanet only" for _, text in rows)


# --- the identity map -----------------------------------------------------------------


def test_session_get_never_returns_another_tenants_object_from_the_identity_map(db):
    with tenant_scope(tenant("sevenoaks")):
        row = add(db, "Sevenoaks only")
        row_id = row.id
        assert db.session.get(Commitment, row_id) is row
    with tenant_scope(tenant("thanet")):
        assert db.session.get(Commitment, row_id) is None
    with pytest.raises(TenantNotSet):
        db.session.get(Commitment, row_id)
    with tenant_scope(tenant("sevenoaks")):
        again = db.session.get(Commitment, row_id)
        assert again is not None and again.text == "Sevenoaks only"


def test_set_tenant_and_across_tenants_leave_no_other_tenants_object_behind(db):
    from portal.tenancy import set_tenant

    sevenoaks, thanet = tenant("sevenoaks"), tenant("thanet")
    set_tenant(sevenoaks)
    row_id = add(db, "Sevenoaks only").id
    assert db.session.get(Commitment, row_id) is not None
    set_tenant(thanet)
    assert db.session.get(Commitment, row_id) is None
    set_tenant(None)
    seen = {}
    for t in across_tenants([sevenoaks, thanet], purpose="test"):
        seen[t.slug] = db.session.get(Commitment, row_id)
    assert seen["sevenoaks"] is not None and seen["thanet"] is None
    with pytest.raises(TenantNotSet):
        db.session.get(Commitment, row_id)


def test_changes_made_under_a_scope_are_written_under_it(db):
    with tenant_scope(tenant("sevenoaks")):
        row = add(db, "before")
        row.text = "after"
        with tenant_scope(tenant("thanet")):
            pass
        db.session.commit()
    with tenant_scope(tenant("sevenoaks")):
        assert db.session.scalars(select(Commitment.text)).all() == ["after"]


def test_another_tenants_object_cannot_be_put_back_into_the_session(db):
    with tenant_scope(tenant("sevenoaks")):
        row = add(db, "Sevenoaks only")
        db.session.refresh(row)
    with tenant_scope(tenant("thanet")):
        from portal.tenancy import CrossTenantRead

        with pytest.raises(CrossTenantRead):
            db.session.add(row)
        db.session.rollback()


def test_an_error_inside_a_scope_leaves_nothing_for_the_next_scope_to_write(db):
    class Stop(Exception):
        pass

    with tenant_scope(tenant("thanet")):
        with pytest.raises(Stop):
            with tenant_scope(tenant("sevenoaks")):
                now = clock.utcnow()
                db.session.add(
                    Commitment(position=1, text="half-made", created_at=now, updated_at=now)
                )
                raise Stop
        db.session.commit()
        assert db.session.scalars(select(Commitment.text)).all() == []
    with tenant_scope(tenant("sevenoaks")):
        assert "half-made" not in db.session.scalars(select(Commitment.text)).all()
