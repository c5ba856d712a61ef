"""A job's progress page, and the figures its script polls.

A tenant's jobs live under ``/t/<tenant_slug>/jobs/``; jobs that belong to no tenant (an
invitation to lead a partnership) under ``/jobs/``, for the person who asked only.
"""

from __future__ import annotations

from flask import Blueprint, abort, jsonify, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from portal.access import READ_ROLES, requires, tenant_blueprint
from portal.extensions import db
from portal.jobs import services
from portal.jobs.models import Job

bp = Blueprint("jobs", __name__, url_prefix="/jobs")
tenant_bp = tenant_blueprint("tenant_jobs", __name__, "/jobs")

REFRESH_SECONDS = 3


def _job_or_404(job_id: int) -> Job:
    job = services.visible_job(job_id)
    if job is None:
        abort(404)
    return job


def _figures(job: Job) -> dict:
    return {
        "state": job.state,
        "state_label": job.state_label,
        "steps_done": job.steps_done,
        "steps_total": job.steps_total,
        "percent": job.percent,
        "sentence": job.sentence,
        "failure": job.failure,
        "finished": job.finished,
    }


def _page(job: Job, progress_url: str):
    response = render_template(
        "jobs/job.html", job=job, progress_url=progress_url, refresh=REFRESH_SECONDS
    )
    return response, 200, {"Cache-Control": "no-store"}


def _progress(job: Job):
    response = jsonify(_figures(job))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/<int:job_id>")
@login_required
def show(job_id: int):
    job = _job_or_404(job_id)
    return _page(job, url_for("jobs.progress", job_id=job.id))


@bp.route("/<int:job_id>/progress")
@login_required
def progress(job_id: int):
    return _progress(_job_or_404(job_id))


@tenant_bp.route("/")
@requires(*READ_ROLES)
def index():
    """The tenant's recent jobs: all of them for administrators, one's own for others."""
    from flask import g

    query = select(Job).where(Job.tenant_id == g.tenant.id)
    if not current_user.has_role(g.tenant, "admin"):
        query = query.where(Job.requested_by_id == current_user.id)
    jobs = db.session.scalars(query.order_by(Job.id.desc()).limit(50)).all()
    return render_template("jobs/index.html", jobs=jobs)


@tenant_bp.route("/<int:job_id>")
@requires(*READ_ROLES)
def tenant_show(job_id: int):
    job = _job_or_404(job_id)
    return _page(job, url_for("tenant_jobs.tenant_progress", job_id=job.id))


@tenant_bp.route("/<int:job_id>/progress")
@requires(*READ_ROLES)
def tenant_progress(job_id: int):
    return _progress(_job_or_404(job_id))
