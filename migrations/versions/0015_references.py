"""references: a running number per tenant for every record a tenant address names

Database ids come from sequences shared by every tenant; addresses and pages now carry a
number that runs within each tenant instead. Existing rows are numbered per tenant in the
order they were created (by id).

Revision ID: 0015_references
Revises: 0014_files
Create Date: 2026-11-30 03:10:00

"""
from alembic import op
import sqlalchemy as sa

from portal.tenancy import SETTING, grant_app_role


# revision identifiers, used by Alembic.
revision = '0015_references'
down_revision = '0014_files'
branch_labels = None
depends_on = None

TABLES = (
    'hate_incident',
    'ward',
    'objective',
    'action',
    'progress_update',
    'commitment',
    'measure',
    'impact_assessment',
)


def _set_tenant(bind, tenant_id):
    if bind.dialect.name == 'postgresql':
        bind.execute(
            sa.text('SELECT set_config(:name, :value, true)'),
            {'name': SETTING, 'value': '' if tenant_id is None else str(tenant_id)},
        )


def upgrade():
    bind = op.get_bind()
    for table in TABLES:
        # NOT NULL from the start (SQLite cannot tighten a column without rebuilding the
        # table, and rebuilding a parent table breaks its children's foreign keys); the
        # placeholder 0 is replaced below, and the portal always writes a number.
        op.add_column(
            table, sa.Column('number', sa.Integer(), nullable=False, server_default='0')
        )
    tenant_ids = bind.execute(sa.text('SELECT id FROM tenant ORDER BY id')).scalars().all()
    # Row-level security shows each tenant's rows only under that tenant's own scope.
    for tenant_id in tenant_ids:
        _set_tenant(bind, tenant_id)
        for table in TABLES:
            ids = bind.execute(
                sa.text(f'SELECT id FROM {table} WHERE tenant_id = :t ORDER BY id'),
                {'t': tenant_id},
            ).scalars().all()
            for number, row_id in enumerate(ids, start=1):
                bind.execute(
                    sa.text(f'UPDATE {table} SET number = :n WHERE id = :i'),
                    {'n': number, 'i': row_id},
                )
    _set_tenant(bind, None)
    for table in TABLES:
        if bind.dialect.name != 'sqlite':
            op.alter_column(table, 'number', existing_type=sa.Integer(), server_default=None)
        op.create_index(f'uq_{table}_number', table, ['tenant_id', 'number'], unique=True)
    grant_app_role(op)


def downgrade():
    bind = op.get_bind()
    for table in TABLES:
        op.drop_index(f'uq_{table}_number', table_name=table)
        if bind.dialect.name == 'sqlite':
            op.execute(f'ALTER TABLE {table} DROP COLUMN number')
        else:
            op.drop_column(table, 'number')
    grant_app_role(op)
