"""returns: the lead's list of returns read in one grouped query

The lead's list of members' returns (and the partnership dashboard's returns status)
reads every member's return state at once through
portal.tenancy.aggregate_across_tenants: the stored status, whether anything has been
written, and when. On PostgreSQL a SELECT-only policy lets that one statement through
the drafts' tables; it never lets their content out, since only grouped aggregates run
there.

Revision ID: 0026_report_images
Revises: 0025_home_speed
"""

from alembic import op

from portal.tenancy import disable_aggregate_reads, enable_aggregate_reads, grant_app_role

revision = "0026_report_images"
down_revision = "0025_home_speed"
branch_labels = None
depends_on = None

AGGREGATED = ("annual_return", "return_section", "case_study")


def upgrade() -> None:
    for table in AGGREGATED:
        enable_aggregate_reads(op, table)
    grant_app_role(op)


def downgrade() -> None:
    for table in AGGREGATED:
        disable_aggregate_reads(op, table)
