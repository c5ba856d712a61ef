"""Background jobs: Celery for the queue, the database for what each job has done.

With a broker (``REDIS_URL``, or ``JOBS_BROKER_URL``) jobs are sent to Redis and run by
``celery -A portal.jobs.worker worker`` beside the web servers. Without one they run in
the process that asks for them (Celery's eager mode), so a laptop needs nothing more than
``make run``. The task code, its retries and its progress records are the same either way.
"""

from __future__ import annotations

from celery import Celery, Task
from flask import Flask


def init_app(app: Flask) -> Celery:
    """Make the Celery app for ``app``; tasks run inside an application context."""

    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    broker = app.config.get("JOBS_BROKER_URL")
    celery_app = Celery(app.import_name, task_cls=FlaskTask)
    celery_app.conf.update(
        broker_url=broker or "memory://localhost/",
        task_always_eager=not broker,
        # In eager mode a task that fails for good is recorded on its job; it must never
        # turn into an error page (or a different answer) for the person who asked.
        task_eager_propagates=False,
        task_store_eager_result=False,
        task_ignore_result=True,
        task_default_queue=app.config["JOBS_QUEUE"],
        # Tasks are idempotent, so a message is acknowledged only once its task has run:
        # a worker that dies mid-task leaves the message for another worker.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        # Sending must not hold a web request for long when Redis is away.
        task_publish_retry_policy={
            "max_retries": 2,
            "interval_start": 0,
            "interval_step": 0.2,
            "interval_max": 0.5,
        },
        broker_transport_options={"socket_connect_timeout": 2, "socket_timeout": 5},
        worker_hijack_root_logger=False,
    )
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    # The tasks register themselves with every Celery app made after their import.
    from portal.jobs import tasks  # noqa: F401

    return celery_app
