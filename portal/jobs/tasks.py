"""The portal's background tasks. Each does its work through a feature's services."""

from __future__ import annotations

from celery import shared_task

from portal.jobs import services as jobs
from portal.jobs.models import Job
from portal.jobs.services import JobFailed, job_task

PASSWORD_RESET_MAIL = "portal.jobs.password_reset_mail"  # noqa: S105 - a task name
INVITATION_MAIL = "portal.jobs.invitation_mail"
CASE_ACCESS_MAIL = "portal.jobs.case_access_mail"
ACTION_IMPORT = "portal.jobs.action_import"
UNLOCK_MAIL = "portal.jobs.unlock_mail"


@job_task(PASSWORD_RESET_MAIL)
def password_reset_mail(job: Job, *, email: str) -> str:
    """Email a reset link if the address has an active account; otherwise do nothing.

    The request that queued this job did the same for every address; only here, out of
    sight of whoever asked, does it matter whether the account exists.
    """
    from portal.auth import services

    services.send_password_reset(email)
    return "Done"


@job_task(UNLOCK_MAIL)
def unlock_mail(job: Job, *, email: str) -> str:
    """Email the owner of a just-locked account its unlock link, if there is an owner."""
    from portal.auth import lockout

    lockout.send_unlock(email)
    return "Done"


@job_task(INVITATION_MAIL)
def invitation_mail(job: Job, *, invitation_id: int) -> str:
    """Email an invitation with a fresh link, unless it was replaced or accepted meanwhile."""
    from portal.admin import services

    if services.send_invitation(invitation_id):
        return "The email has been sent."
    return "Nothing to send: the invitation was replaced or accepted meanwhile."


@job_task(CASE_ACCESS_MAIL)
def case_access_mail(job: Job, *, user_id: int, by_id: int | None) -> str:
    """Tell the job's tenant's other administrators that somebody was given case access."""
    from portal.admin import services

    told = services.tell_other_admins_about_case_access(user_id, job.tenant_id, by_id)
    return f"{told} administrator{'' if told == 1 else 's'} told."


@job_task(ACTION_IMPORT)
def action_import(job: Job, *, upload_token: str) -> str:
    """Import a large action plan that has been checked and confirmed, in one transaction."""
    from portal.actions import importing
    from portal.actions import services as actions

    upload = importing.find_upload(upload_token, user_id=job.requested_by_id)
    if upload is None:
        raise JobFailed("The uploaded file is no longer here. Upload it again.")
    jobs.progress(job, 1, f"Checking and adding the rows of {upload.filename}")
    try:
        counts = importing.import_upload(upload)
    except importing.ImportProblem as exc:
        raise JobFailed(str(exc)) from exc
    except actions.ValidationError as exc:
        raise JobFailed(next(iter(exc.errors.values()))) from exc
    message = f"{counts.added} action{'' if counts.added == 1 else 's'} imported"
    if counts.already:
        message += f"; {counts.already} already in the plan, left as they were"
    return message + "."


RETURN_MAIL = "portal.jobs.return_mail"


@job_task(RETURN_MAIL)
def return_mail(job: Job, *, reporting_year_id: int, kind: str, detail: str = "") -> str:
    """Email the job's organisation's officers or chief executive about its annual return."""
    from portal.returns import mail

    told = mail.send_about_return(job.tenant_id, reporting_year_id, kind, detail)
    return f"{told} {'person' if told == 1 else 'people'} emailed."


RETURN_REMINDERS = "portal.returns.send_reminders"


@shared_task(name=RETURN_REMINDERS)
def return_reminders() -> int:
    """The reminders of ``flask reports remind``, for Celery beat; how many were sent."""
    from portal.returns import reminders

    return len(reminders.send_reminders().sent)


# The report's build and delivery tasks live with the report's rules.
from portal.reports import services as _reports  # noqa: E402, F401
