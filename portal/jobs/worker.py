"""The Celery app for workers: ``celery -A portal.jobs.worker worker``.

It reads the same settings as the web app (``DATABASE_URL``, ``REDIS_URL``, ``MAIL_*``,
``PORTAL_BASE_URL`` …), so a worker started beside gunicorn with the same environment
works on the same database and queue.
"""

from portal import create_app

flask_app = create_app()
celery_app = flask_app.extensions["celery"]
app = celery_app
