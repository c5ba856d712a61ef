"""Command-line tasks, a module per group, all registered here:

``flask tenants sync``, ``flask users create|disable|enable``, ``flask demo load|scale``,
``flask audit verify``, ``flask incidents anonymise``, ``flask reports remind`` and
``flask monitoring load-profile``.
"""

from __future__ import annotations

from flask import Flask

from portal.commands.audit import audit_cli
from portal.commands.demo import demo_cli
from portal.commands.incidents import incidents_cli
from portal.commands.monitoring import monitoring_cli
from portal.commands.reports import reports_cli
from portal.commands.tenants import tenants_cli
from portal.commands.users import users_cli

GROUPS = (
    audit_cli,
    tenants_cli,
    users_cli,
    demo_cli,
    incidents_cli,
    reports_cli,
    monitoring_cli,
)


def init_app(app: Flask) -> None:
    """Register every command group on ``app``."""
    for group in GROUPS:
        app.cli.add_command(group)
