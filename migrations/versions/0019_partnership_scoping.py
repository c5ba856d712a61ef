"""Row-level security for partnership-owned tables.

Plan periods, partnership roles, their list items, joint aims, aim measures, period
statements, joint measure definitions and joint assessments belong to one partnership.
PostgreSQL now keeps them apart as it keeps tenants apart: SELECT sees the rows of the
partnerships in ``app.partnership_ids`` (set per transaction), INSERT, UPDATE and DELETE
reach only the partnership in ``app.partnership_id``. Built-in measure definitions (no
partnership) stay readable by everybody.

Measures' figures become exact: ``measure_value.value`` changes from a binary float to
NUMERIC(20, 4), so a count is held as the whole number it is.

Revision ID: 0019_partnership_scoping
Revises: 0018_reports
"""

import sqlalchemy as sa
from alembic import op

from portal.tenancy import (
    disable_partnership_row_level_security,
    enable_partnership_row_level_security,
    grant_app_role,
)

revision = "0019_partnership_scoping"
down_revision = '0018_reports'
branch_labels = None
depends_on = None

TABLES = (
    "plan_period",
    "partnership_role",
    "role_list_item",
    "joint_aim",
    "aim_measure",
    "period_statement",
    "joint_assessment",
)
SHARED_TABLES = ("measure_definition",)


def upgrade() -> None:
    for table in TABLES:
        enable_partnership_row_level_security(op, table)
    for table in SHARED_TABLES:
        enable_partnership_row_level_security(op, table, shared_rows=True)
    with op.batch_alter_table("measure_value") as batch_op:
        batch_op.alter_column(
            "value",
            existing_type=sa.Float(),
            type_=sa.Numeric(20, 4),
            existing_nullable=False,
            postgresql_using="round(value::numeric, 4)",
        )
    grant_app_role(op)


def downgrade() -> None:
    with op.batch_alter_table("measure_value") as batch_op:
        batch_op.alter_column(
            "value", existing_type=sa.Numeric(20, 4), type_=sa.Float(), existing_nullable=False
        )
    for table in (*TABLES, *SHARED_TABLES):
        disable_partnership_row_level_security(op, table)
