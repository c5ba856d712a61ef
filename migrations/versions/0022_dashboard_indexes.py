"""dashboards: objectives published on the public page, aggregate reads for partnerships

An objective is shown on its organisation's public equality page only once published.
The partnership dashboard counts members' actions against joint aims, and reads their
community profiles, in one grouped query each (portal.tenancy.aggregate_across_tenants);
on PostgreSQL a SELECT-only policy lets that one statement through. Releases are read by
member and measure for all periods at once, so they get an index in that order.

Revision ID: 0022_dashboard_indexes
Revises: 0021_import_vocabulary
Create Date: 2026-11-30 05:10:00

"""
from alembic import op
import sqlalchemy as sa

from portal.tenancy import disable_aggregate_reads, enable_aggregate_reads, grant_app_role


# revision identifiers, used by Alembic.
revision = '0022_dashboard_indexes'
down_revision = '0021_import_vocabulary'
branch_labels = None
depends_on = None

AGGREGATED = ('action', 'action_joint_aim', 'population_figure')


def upgrade():
    # Plain ALTER TABLE (SQLite 3.35+ drops columns too): copying the table, as a batch
    # would, is refused while actions refer to it.
    op.add_column(
        'objective',
        sa.Column('is_published', sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column('objective', sa.Column('published_on', sa.Date(), nullable=True))
    op.create_index(
        'ix_figure_release_definition_tenant',
        'figure_release',
        ['definition_id', 'tenant_id', 'period', 'version'],
    )
    op.create_index('ix_objective_tenant_published', 'objective', ['tenant_id', 'is_published'])
    for table in AGGREGATED:
        enable_aggregate_reads(op, table)
    grant_app_role(op)


def downgrade():
    for table in AGGREGATED:
        disable_aggregate_reads(op, table)
    op.drop_index('ix_objective_tenant_published', table_name='objective')
    op.drop_index('ix_figure_release_definition_tenant', table_name='figure_release')
    op.drop_column('objective', 'published_on')
    op.drop_column('objective', 'is_published')
