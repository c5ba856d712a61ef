"""import vocabulary: an organisation's status words, and the sheets of an uploaded workbook

Revision ID: 0021_import_vocabulary
Revises: 0020_newuser
Create Date: 2026-11-30 05:00:00

"""
from alembic import op
import sqlalchemy as sa

from portal.tenancy import disable_row_level_security, enable_row_level_security, grant_app_role


# revision identifiers, used by Alembic.
revision = '0021_import_vocabulary'
down_revision = '0020_newuser'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('import_status_word',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('word', sa.String(length=100), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_import_status_word_tenant_id_tenant'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_status_word')),
    sa.UniqueConstraint('tenant_id', 'word', name=op.f('uq_import_status_word_tenant_id'))
    )
    with op.batch_alter_table('import_status_word', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_import_status_word_tenant_id'), ['tenant_id'], unique=False)
    with op.batch_alter_table('pending_import', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sheets', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('sheet', sa.String(length=100), nullable=False, server_default=''))

    enable_row_level_security(op, 'import_status_word')
    grant_app_role(op)


def downgrade():
    disable_row_level_security(op, 'import_status_word')
    with op.batch_alter_table('pending_import', schema=None) as batch_op:
        batch_op.drop_column('sheet')
        batch_op.drop_column('sheets')
    with op.batch_alter_table('import_status_word', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_import_status_word_tenant_id'))
    op.drop_table('import_status_word')
