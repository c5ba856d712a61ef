"""``flask audit verify``: that no event of the audit trail has been changed, removed or
inserted."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask.cli import AppGroup

audit_cli = AppGroup("audit", help="The audit trail.")


@audit_cli.command("verify")
@click.option(
    "--checkpoint",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Compare with the checkpoint in this file (if it exists) and, when the trail "
    "holds, write the new checkpoint there. Keep it where the database owner cannot write.",
)
def audit_verify(checkpoint: Path | None) -> None:
    """Check that no audit event has been changed, removed or inserted."""
    from portal import audit

    saved = None
    if checkpoint is not None and checkpoint.exists():
        try:
            saved = json.loads(checkpoint.read_text())
        except (OSError, ValueError) as exc:
            raise click.ClickException(f"cannot read the checkpoint {checkpoint}: {exc}") from None
    states, breaks = audit.verify(saved)
    for state in states:
        click.echo(f"{state.name}: {state.count} events, newest hash {state.head}")
    if saved is not None:
        click.echo(f"Compared with the checkpoint of {saved.get('at', 'an unknown time')}.")
    if breaks:
        click.echo(f"{len(breaks)} break(s) in the audit trail:", err=True)
        for item in breaks:
            click.echo(f"  {item}", err=True)
        sys.exit(1)
    click.echo("The audit trail holds: no event has been changed, removed or inserted.")
    if checkpoint is not None:
        checkpoint.write_text(json.dumps(audit.checkpoint_of(states), indent=2) + "\n")
        click.echo(f"Checkpoint written to {checkpoint}.")
