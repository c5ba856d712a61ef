"""dashboard speed: indexes for what the dashboards read

An organisation's home reads the person's actions due (by lead and target date), a year
of progress dates and the impact assessments due for review, each within the tenant:
each now a seek in an index rather than a pass over all the tenant's rows.

Revision ID: 0023_dashboard_speed
Revises: 0022_dashboard_indexes
Create Date: 2026-11-30 06:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0023_dashboard_speed'
down_revision = '0022_dashboard_indexes'
branch_labels = None
depends_on = None

INDEXES = (
    ('ix_action_tenant_lead_target', 'action', ['tenant_id', 'lead_user_id', 'target_date']),
    ('ix_progress_update_tenant_date', 'progress_update', ['tenant_id', 'date']),
    ('ix_impact_assessment_tenant_review', 'impact_assessment', ['tenant_id', 'review_on']),
)


def upgrade():
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade():
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
