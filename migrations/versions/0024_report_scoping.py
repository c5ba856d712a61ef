"""Row-level security for reporting years and the joint report.

Reporting years, joint reports, their published versions and built files belong to one
partnership. PostgreSQL now keeps them apart as it keeps the partnership's plan: SELECT
sees the rows of the partnerships in ``app.partnership_ids`` (a member's pages read the
reporting years of its partnerships), INSERT, UPDATE and DELETE reach only the
partnership in ``app.partnership_id`` (its own lead's pages, commands and jobs run in its
scope). Annual returns and signed-off snapshots keep their tenant walls.

Revision ID: 0024_report_scoping
Revises: 0023_dashboard_speed
"""

from alembic import op

from portal.tenancy import (
    disable_partnership_row_level_security,
    enable_partnership_row_level_security,
    grant_app_role,
)

revision = "0024_report_scoping"
down_revision = '0023_dashboard_speed'
branch_labels = None
depends_on = None

TABLES = ("reporting_year", "joint_report", "joint_report_version", "joint_report_file")


def upgrade() -> None:
    for table in TABLES:
        enable_partnership_row_level_security(op, table)
    grant_app_role(op)


def downgrade() -> None:
    for table in TABLES:
        disable_partnership_row_level_security(op, table)
