"""``flask reports remind``: the reporting cycle's reminders, run daily from cron or beat."""

from __future__ import annotations

from datetime import date

import click
from flask.cli import AppGroup

from portal.returns import reminders

reports_cli = AppGroup("reports", help="Reporting years, returns and the joint report.")


@reports_cli.command("remind")
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Act as if it were this day (YYYY-MM-DD); for checking what would be sent.",
)
def remind(today) -> None:
    """Remind members 14 and 3 days before their deadline; escalate overdue returns to
    the chief executive. Each reminder is sent once, however often this runs."""
    day: date | None = today.date() if today else None
    report = reminders.send_reminders(day)
    for partnership, member, kind in report.sent:
        click.echo(f"{partnership}: {member}: {kind}")
    click.echo(f"{len(report.sent)} reminder{'' if len(report.sent) == 1 else 's'} sent.")
