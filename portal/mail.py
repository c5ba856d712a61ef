"""Outgoing mail, through one function.

By default messages are written to ``instance/outbox/`` as ``.eml`` files, so that
invitations and password resets can be read in development and tests. With
``MAIL_SERVER`` set they go out over SMTP. Pages never call :func:`send` themselves: mail
leaves through the job queue (``portal/jobs/``), which retries a mail server that is away.
"""

from __future__ import annotations

import smtplib
import time
import uuid
from email.message import EmailMessage
from pathlib import Path

from flask import current_app


def outbox_path() -> Path:
    return Path(current_app.instance_path) / "outbox"


def send(to: str, subject: str, body: str) -> EmailMessage:
    """Send a plain-text message to one address."""
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_SENDER"]
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    server = current_app.config.get("MAIL_SERVER")
    timeout = current_app.config.get("MAIL_TIMEOUT", 10)
    if server:
        with smtplib.SMTP(server, current_app.config["MAIL_PORT"], timeout=timeout) as smtp:
            if current_app.config["MAIL_USE_TLS"]:
                smtp.starttls()
            if current_app.config.get("MAIL_USERNAME"):
                smtp.login(current_app.config["MAIL_USERNAME"], current_app.config["MAIL_PASSWORD"])
            smtp.send_message(message)
    else:
        folder = outbox_path()
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}.eml"
        (folder / name).write_bytes(bytes(message))
    return message


def read_outbox() -> list[EmailMessage]:
    """Messages in the file outbox, oldest first."""
    from email import message_from_bytes, policy

    folder = outbox_path()
    if not folder.exists():
        return []
    return [
        message_from_bytes(path.read_bytes(), policy=policy.default)
        for path in sorted(folder.glob("*.eml"))
    ]
