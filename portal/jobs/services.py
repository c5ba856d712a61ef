"""Queueing jobs, running them with retries, and recording their progress.

A job is a row in ``job`` (see :class:`~portal.jobs.models.Job`) plus a Celery task that
does the work. :func:`enqueue` writes the row and sends the task; :func:`job_task` turns
a plain function into a task that keeps the row up to date, retries with backoff when the
failure may pass (a mail server or database that is away), and records a failure in plain
words when it will not. A handler's writes are committed together with the job's "done",
so a failed attempt leaves nothing half-written.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Callable

from celery import shared_task
from flask import current_app, has_request_context
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from portal import clock, tenancy
from portal.extensions import db
from portal.jobs.models import DONE, FAILED, QUEUED, RETRYING, RUNNING, Job

log = logging.getLogger(__name__)

# Failures that may pass by themselves: worth another try after a pause.
RETRYABLE = (OSError, smtplib.SMTPException, OperationalError)
MAX_RETRIES = 4

GENERIC_FAILURE = "Something went wrong on our side. Nothing was saved; try again later."
NOT_QUEUED = "The job could not be started because the job queue is not available."


class JobFailed(Exception):
    """A job that cannot succeed however often it is tried, with the reason in plain words."""


def plain_failure(exc: BaseException) -> str:
    """What went wrong, in words for the person who asked."""
    if isinstance(exc, JobFailed):
        return str(exc)
    if isinstance(exc, smtplib.SMTPException | OSError):
        return "The email could not be sent because the mail server did not answer."
    if isinstance(exc, OperationalError):
        return "The database was not available. Nothing was saved; try again later."
    return GENERIC_FAILURE


def enqueue(
    task_name: str,
    *,
    title: str,
    tenant_id: int | None = None,
    requested_by=None,
    steps_total: int = 1,
    result_path: str | None = None,
    **payload,
) -> int:
    """Record a job and send its task. Returns the job's id.

    ``result_path`` is where the job's page leads once the job is done.

    Never raises for a queue that is away: the job is then recorded as failed, and the
    caller answers the person exactly as it would otherwise.
    """
    with tenancy.tenant_scope(tenant_id):
        job = Job(
            kind=task_name.rsplit(".", 1)[-1],
            title=title[:200],
            tenant_id=tenant_id,
            requested_by_id=getattr(requested_by, "id", None),
            steps_total=steps_total,
            result_path=result_path,
            state=QUEUED,
            created_at=clock.utcnow(),
        )
        db.session.add(job)
        db.session.commit()
        job_id = job.id
    try:
        _dispatch(task_name, job_id, tenant_id, payload)
    except Exception:
        log.exception("job %s (%s) could not be queued", job_id, task_name)
        _record_failure(job_id, tenant_id, NOT_QUEUED)
    return job_id


def _dispatch(task_name: str, job_id: int, tenant_id: int | None, payload: dict) -> None:
    """Hand the job to Celery: to the broker, or run here and now in eager mode."""
    celery_app = current_app.extensions["celery"]
    celery_app.tasks[task_name].apply_async(args=(job_id, tenant_id), kwargs=payload)


def _load(job_id: int) -> Job | None:
    return db.session.scalar(select(Job).where(Job.id == job_id))


def progress(job: Job, steps_done: int, sentence: str) -> None:
    """Record how far a job has got. Commits: call it only between finished steps."""
    job.steps_done = min(steps_done, job.steps_total)
    job.sentence = sentence[:300]
    db.session.commit()


def _record_failure(job_id: int, tenant_id: int | None, message: str) -> None:
    try:
        with tenancy.tenant_scope(tenant_id):
            job = _load(job_id)
            if job is None or job.state == DONE:
                return
            job.state = FAILED
            job.failure = message[:300]
            job.sentence = "Stopped"
            job.finished_at = clock.utcnow()
            db.session.commit()
    except Exception:
        db.session.rollback()
        log.exception("job %s: the failure could not be recorded", job_id)


def job_task(name: str) -> Callable:
    """Make ``handler(job, **payload) -> sentence`` a Celery task with a progress record.

    The task is idempotent: a job already finished is left alone, so a message delivered
    twice does the work once. Failures in :data:`RETRYABLE` are retried with exponential
    backoff (Celery's ``autoretry_for`` and ``retry_backoff``); any other failure, or the
    last retry, marks the job failed in plain words and rolls back the handler's writes.
    """

    def decorator(handler: Callable[..., str]):
        @shared_task(
            bind=True,
            name=name,
            autoretry_for=RETRYABLE,
            retry_backoff=2,
            retry_backoff_max=300,
            retry_jitter=True,
            max_retries=MAX_RETRIES,
        )
        def task(self, job_id: int, tenant_id: int | None, **payload):
            with tenancy.tenant_scope(tenant_id):
                job = _load(job_id)
                if job is None or job.finished:
                    return None
                job.state = RUNNING
                job.attempts = self.request.retries + 1
                job.started_at = job.started_at or clock.utcnow()
                job.sentence = "Started"
                db.session.commit()
                try:
                    sentence = handler(job, **payload)
                    job.state = DONE
                    job.steps_done = job.steps_total
                    job.sentence = (sentence or "Done")[:300]
                    job.failure = None
                    job.finished_at = clock.utcnow()
                    db.session.commit()
                except RETRYABLE as exc:
                    db.session.rollback()
                    if self.request.retries >= self.max_retries:
                        log.warning("job %s failed for good: %r", job_id, exc)
                        _record_failure(job_id, tenant_id, plain_failure(exc))
                        return None
                    _note_retry(job_id, exc)
                    raise
                except Exception as exc:
                    db.session.rollback()
                    if not isinstance(exc, JobFailed):
                        log.exception("job %s failed", job_id)
                    _record_failure(job_id, tenant_id, plain_failure(exc))
                    return None
            return job_id

        return task

    return decorator


def _note_retry(job_id: int, exc: BaseException) -> None:
    try:
        job = _load(job_id)
        if job is not None:
            job.state = RETRYING
            job.sentence = f"{plain_failure(exc)} Trying again shortly."[:300]
            db.session.commit()
    except Exception:
        db.session.rollback()
        log.exception("job %s: the retry could not be recorded", job_id)


def visible_job(job_id: int) -> Job | None:
    """A job the signed-in person may see, or None.

    Under a tenant: that tenant's job, if they asked for it or administer the tenant.
    Outside any tenant: a tenant-less job they asked for themselves.
    """
    if not (has_request_context() and current_user.is_authenticated):
        return None
    tenant_id = tenancy.current_tenant_id()
    query = select(Job).where(Job.id == job_id)
    if tenant_id is None:
        query = query.where(Job.tenant_id.is_(None), Job.requested_by_id == current_user.id)
        return db.session.scalar(query)
    job = db.session.scalar(query.where(Job.tenant_id == tenant_id))
    if job is None:
        return None
    from flask import g

    if job.requested_by_id == current_user.id or current_user.has_role(g.tenant, "admin"):
        return job
    return None
