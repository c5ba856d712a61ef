"""The ORM layer of partnership isolation: the scope of visible partnerships, the flush
guard, and the loud failure with no scope (row-level security: tests/test_postgres_rls.py)."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, func, select, update

from portal import clock
from portal.aims.models import JointAim, PeriodStatement, PlanPeriod
from portal.eqia.models import JointAssessment
from portal.monitoring.models import MeasureDefinition
from portal.tenancy import (
    CrossPartnershipRead,
    CrossPartnershipWrite,
    PartnershipNotSet,
    partnership_scope,
    tenant_scope,
    visible_partnership_ids,
)
from tests.helpers import partnership, tenant


def _joint(db, title: str) -> JointAssessment:
    row = JointAssessment(title=title, subject="s", lead_officer="l", created_at=clock.utcnow())
    db.session.add(row)
    db.session.commit()
    return row


def _titles(db) -> set[str]:
    """The titles of the joint assessments in scope, leaving out the demonstration ones."""
    return set(
        db.session.scalars(select(JointAssessment.title).where(JointAssessment.is_demo.is_(False)))
    )


def test_a_partnership_sees_only_its_own_rows(db):
    with partnership_scope(partnership("west-kent")):
        _joint(db, "West Kent's")
    with partnership_scope(partnership("kent-network")):
        _joint(db, "Kent's")
        assert _titles(db) == {"Kent's"}
        # Through a Core table too, and in a subquery.
        table = JointAssessment.__table__
        titles = select(table.c.title).where(table.c.is_demo.is_(False))
        assert set(db.session.scalars(titles)) == {"Kent's"}
        inner = select(table.c.id).where(table.c.is_demo.is_(False)).scalar_subquery()
        assert db.session.scalar(select(func.count()).where(table.c.id.in_(inner))) == 1
    with partnership_scope(partnership("west-kent")):
        assert _titles(db) == {"West Kent's"}


def test_with_no_scope_partnership_rows_fail_loudly(db):
    with pytest.raises(PartnershipNotSet):
        db.session.scalars(select(PlanPeriod)).all()
    with pytest.raises(PartnershipNotSet):
        db.session.scalar(select(func.count()).select_from(JointAim.__table__))
    with pytest.raises(PartnershipNotSet):
        _joint(db, "nobody's")
    db.session.rollback()


def test_built_in_definitions_are_shared_by_every_scope(db):
    built_in = db.session.scalar(
        select(func.count(MeasureDefinition.id)).where(MeasureDefinition.partnership_id.is_(None))
    )
    assert built_in > 0
    with partnership_scope(partnership("west-kent")):
        # The built-in ones and West Kent's own (the demonstration has joint measures).
        own = db.session.scalar(select(func.count(MeasureDefinition.id))) - built_in
        row = MeasureDefinition(name="West Kent joint", unit="count", period_type="year")
        db.session.add(row)
        db.session.commit()
        assert row.partnership_id == partnership("west-kent").id
        assert db.session.scalar(select(func.count(MeasureDefinition.id))) == built_in + own + 1
    # With no partnership in scope: the built-in ones only. In another partnership: the
    # built-in ones and its own joint measures (the demonstration has one), none of West
    # Kent's.
    assert db.session.scalar(select(func.count(MeasureDefinition.id))) == built_in
    with partnership_scope(partnership("kent-network")):
        owners = set(db.session.scalars(select(MeasureDefinition.partnership_id)))
        assert owners == {None, partnership("kent-network").id}


def test_a_partnerships_page_may_not_change_a_built_in_definition(db):
    definition = db.session.scalar(
        select(MeasureDefinition).where(MeasureDefinition.key.is_not(None))
    )
    with partnership_scope(partnership("west-kent")):
        definition.name = "Renamed by a lead"
        with pytest.raises(CrossPartnershipWrite):
            db.session.flush()
        db.session.rollback()


def test_a_tenant_reads_the_rows_of_its_partnerships_and_no_other(db):
    with partnership_scope(partnership("west-kent")):
        _joint(db, "West Kent's")
    with partnership_scope(partnership("kent-network")):
        _joint(db, "Kent's")
    with tenant_scope(tenant("sevenoaks")):  # West Kent only
        assert visible_partnership_ids() == {partnership("west-kent").id}
        assert _titles(db) == {"West Kent's"}
    with tenant_scope(tenant("tonbridge-malling")):  # a member of both
        assert _titles(db) == {"West Kent's", "Kent's"}
    with tenant_scope(tenant("gentoo")):  # no partnership
        assert visible_partnership_ids() == frozenset()
        assert _titles(db) == set()
        assert db.session.scalar(select(func.count(MeasureDefinition.id))) > 0  # built-ins


def test_a_tenant_writes_no_partnership_row(db):
    with partnership_scope(partnership("west-kent")):
        joint_id = _joint(db, "West Kent's").id
    with tenant_scope(tenant("sevenoaks")):
        row = db.session.get(JointAssessment, joint_id)
        row.title = "Changed by a member"
        with pytest.raises(CrossPartnershipWrite):
            db.session.flush()
        db.session.rollback()
        with pytest.raises(PartnershipNotSet):
            _joint(db, "a member's")
        db.session.rollback()


def test_writing_another_partnerships_row_is_refused(db):
    west, kent = partnership("west-kent"), partnership("kent-network")
    with partnership_scope(kent):
        db.session.add(
            JointAssessment(
                partnership_id=west.id,
                title="planted",
                subject="s",
                lead_officer="l",
                created_at=clock.utcnow(),
            )
        )
        with pytest.raises(CrossPartnershipWrite):
            db.session.flush()
        db.session.rollback()


def test_bulk_update_and_delete_reach_only_the_partnership_in_scope(db):
    with partnership_scope(partnership("west-kent")):
        _joint(db, "keep me")
    with partnership_scope(partnership("kent-network")):
        _joint(db, "Kent's")
        db.session.execute(update(JointAssessment).values(subject="changed"))
        db.session.execute(delete(PeriodStatement))
        db.session.commit()
    with partnership_scope(partnership("west-kent")):
        subjects = select(JointAssessment.subject).where(JointAssessment.is_demo.is_(False))
        assert set(db.session.scalars(subjects)) == {"s"}
        assert db.session.scalar(select(func.count(PeriodStatement.id))) > 0


def test_changing_the_scope_leaves_no_other_partnerships_row_in_the_session(db):
    with partnership_scope(partnership("west-kent")):
        period = db.session.scalar(select(PlanPeriod))
        period_id, aim_id = period.id, period.roles[0].aims[0].id
        assert db.session.get(JointAim, aim_id) is not None
    with partnership_scope(partnership("kent-network")):
        # Session.get would answer from the identity map; the scope change emptied it.
        assert db.session.get(PlanPeriod, period_id) is None
        assert db.session.get(JointAim, aim_id) is None
        # And a lazy load through a visible row never reaches an invisible one.
        assert all(
            aim.partnership_id == partnership("kent-network").id
            for aim in db.session.scalars(select(JointAim))
        )


def test_a_row_loaded_outside_its_scope_is_refused(db):
    with partnership_scope(partnership("west-kent")):
        joint = _joint(db, "West Kent's")
    with partnership_scope(partnership("kent-network")):
        with pytest.raises(CrossPartnershipRead):
            db.session.add(joint)
        db.session.rollback()


def test_a_partnership_scope_stays_while_its_members_are_visited(db):
    """A partnership's page reading members' figures: the tenant changes, the
    partnership scope does not widen to the member's other partnerships."""
    west = partnership("west-kent")
    with partnership_scope(west):
        with tenant_scope(tenant("tonbridge-malling")):  # also in Kent Equality Network
            assert visible_partnership_ids() == {west.id}
        assert visible_partnership_ids() == {west.id}
    assert visible_partnership_ids() is None
