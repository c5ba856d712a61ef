"""home speed: each organisation's data version, which computed pages are kept under

Every change to an organisation's rows (or to its partnerships') moves the counter on in
the same transaction, so a dashboard kept under the counter's value is never shown after
the data it was computed from has changed (portal/cache.py).

Revision ID: 0025_home_speed
Revises: 0024_report_scoping
Create Date: 2026-11-30 09:00:00

"""
from alembic import op
import sqlalchemy as sa

from portal.tenancy import grant_app_role


# revision identifiers, used by Alembic.
revision = '0025_home_speed'
down_revision = '0024_report_scoping'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('tenant') as batch_op:
        batch_op.add_column(
            sa.Column('data_version', sa.Integer(), nullable=False, server_default='0')
        )
    grant_app_role(op)


def downgrade():
    # Plain DROP COLUMN (SQLite 3.35+): a batch copy would drop the tenant table, which
    # every tenant-owned table refers to.
    op.drop_column('tenant', 'data_version')
