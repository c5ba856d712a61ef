"""The rules for changing an organisation's commitments; every change is audited."""

from __future__ import annotations

from sqlalchemy import func, select

from portal import audit, clock, ordering
from portal.aims import services as aims
from portal.commitments.models import Commitment
from portal.editing import check_version, commit_edit
from portal.extensions import db


def commitments():
    """The current tenant's commitments in order, as a select()."""
    return select(Commitment).order_by(Commitment.position, Commitment.id)


def add_commitment(text: str, source: str = "", joint_aim_ids=None) -> Commitment:
    """Add a commitment at the end, linked to the joint aims it serves.

    Raises aims.LinkError (an ``Invalid``), saving nothing, if an aim is not one of the
    tenant's partnerships'.
    """
    aims.check_linkable(joint_aim_ids)
    position = (db.session.scalar(select(func.max(Commitment.position))) or 0) + 1
    now = clock.utcnow()
    row = Commitment(
        position=position, text=text.strip(), source=source.strip(), created_at=now, updated_at=now
    )
    db.session.add(row)
    db.session.flush()
    aims.set_commitment_aims(row, joint_aim_ids)
    audit.record("commitment.created", row, detail={"joint_aims": sorted(joint_aim_ids or [])})
    db.session.commit()
    return row


def update_commitment(
    row: Commitment, *, text: str, source: str, version: int, joint_aim_ids=None
) -> Commitment:
    """Save an edit made to ``version``; refuse it if somebody saved in between.

    ``joint_aim_ids`` (None leaves the links alone) are the joint aims it serves now.
    """
    submitted = {"text": text.strip(), "source": source.strip()}
    check_version(row, version, submitted)
    if joint_aim_ids is not None:
        aims.check_linkable(joint_aim_ids)
    changed = [k for k, v in submitted.items() if getattr(row, k) != v]
    # Links first: their queries would otherwise flush the row once more, counting twice.
    if joint_aim_ids is not None and aims.set_commitment_aims(row, joint_aim_ids):
        changed.append("joint_aims")
    for key in changed:
        if key in submitted:
            setattr(row, key, submitted[key])
    if not changed:
        return row
    row.updated_at = clock.utcnow()
    audit.record("commitment.updated", row, detail={"fields": changed})
    return commit_edit(row, submitted)


def delete_commitment(row: Commitment) -> None:
    audit.record("commitment.deleted", row, detail={"text": row.text[:200]})
    db.session.delete(row)
    db.session.flush()
    _renumber()
    db.session.commit()


def move_commitment(row: Commitment, direction: str) -> None:
    """Move a commitment up or down one place."""
    if not ordering.move(db.session.scalars(commitments()).all(), row, direction):
        return
    audit.record("commitment.moved", row, detail={"direction": direction})
    db.session.commit()


def _renumber() -> None:
    ordering.renumber(db.session.scalars(commitments()).all())
