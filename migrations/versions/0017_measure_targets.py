"""measure targets: a target, which way is better, and where amber turns red

Revision ID: 0017_measure_targets
Revises: 0016_returns
Create Date: 2026-11-30 05:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017_measure_targets'
down_revision = '0016_returns'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('measure') as batch:
        batch.add_column(sa.Column('target_value', sa.Numeric(20, 4), nullable=True))
        batch.add_column(
            sa.Column('target_direction', sa.String(10), nullable=False, server_default='')
        )
        batch.add_column(sa.Column('amber_threshold', sa.Numeric(20, 4), nullable=True))


def downgrade():
    # Plain DROP COLUMN (SQLite 3.35+): a batch copy would drop the old measure table, and
    # ON DELETE CASCADE would take every figure with it.
    op.drop_column('measure', 'amber_threshold')
    op.drop_column('measure', 'target_direction')
    op.drop_column('measure', 'target_value')
