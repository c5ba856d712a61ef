"""The portal's background tasks. Each does its work through a feature's services."""

from __future__ import annotations

from portal.jobs.models import Job
from portal.jobs.services import job_task

PASSWORD_RESET_MAIL = "portal.jobs.password_reset_mail"  # noqa: S105 - a task name
INVITATION_MAIL = "portal.jobs.invitation_mail"


@job_task(PASSWORD_RESET_MAIL)
def password_reset_mail(job: Job, *, email: str) -> str:
    """Email a reset link if the address has an active account; otherwise do nothing.

    The request that queued this job did the same for every address; only here, out of
    sight of whoever asked, does it matter whether the account exists.
    """
    from portal.auth import services

    services.send_password_reset(email)
    return "Done"


@job_task(INVITATION_MAIL)
def invitation_mail(job: Job, *, user_id: int, place: str, inviter: str | None = None) -> str:
    """Email an invitation (or news of new access) to a person who has been invited."""
    from portal.auth import services

    services.send_invitation(user_id, place=place, inviter=inviter)
    return "The email has been sent."
