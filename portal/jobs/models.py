"""A job's progress, as people see it: what it is, how far it has got, what went wrong."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.auth.models import User
from portal.extensions import db

QUEUED, RUNNING, RETRYING, DONE, FAILED = "queued", "running", "retrying", "done", "failed"
STATES = {
    QUEUED: "Waiting to start",
    RUNNING: "In progress",
    RETRYING: "Trying again",
    DONE: "Finished",
    FAILED: "Failed",
}
FINISHED = {DONE, FAILED}


class Job(db.Model):
    """One piece of background work and how far it has got.

    A job belongs to one tenant or to none (a password reset, an invitation to lead a
    partnership). It is not :class:`~portal.tenancy.TenantOwned`, because tenant-less
    jobs must be written with no tenant in scope; instead every read goes through
    :func:`portal.jobs.services.visible_job`, and on PostgreSQL row-level security lets a
    transaction see only tenant-less jobs and those of the tenant in scope.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int | None] = mapped_column(
        ForeignKey("tenant.id", ondelete="RESTRICT"), index=True
    )
    kind: Mapped[str] = mapped_column(String(60))
    title: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(16), default=QUEUED)
    steps_done: Mapped[int] = mapped_column(default=0)
    steps_total: Mapped[int] = mapped_column(default=1)
    sentence: Mapped[str] = mapped_column(String(300), default="Waiting to start")
    failure: Mapped[str | None] = mapped_column(String(300))
    attempts: Mapped[int] = mapped_column(default=0)
    # Where to go once the job is done (a path in the portal), if anywhere.
    result_path: Mapped[str | None] = mapped_column(String(300))
    requested_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    requested_by: Mapped[User | None] = relationship()

    @property
    def finished(self) -> bool:
        return self.state in FINISHED

    @property
    def percent(self) -> int:
        if self.state == DONE:
            return 100
        if not self.steps_total:
            return 0
        return max(0, min(100, self.steps_done * 100 // self.steps_total))

    @property
    def state_label(self) -> str:
        return STATES.get(self.state, self.state)
