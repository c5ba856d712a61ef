"""wards: each organisation's list, replacing free-text wards on incidents; sign-in locks

Revision ID: 0013_wards_lockouts
Revises: 0012_audit_chain
Create Date: 2026-11-30 02:00:00

"""
from datetime import datetime

from alembic import op
import sqlalchemy as sa

from portal.tenancy import disable_row_level_security, enable_row_level_security, grant_app_role


# revision identifiers, used by Alembic.
revision = '0013_wards_lockouts'
down_revision = '0012_audit_chain'
branch_labels = None
depends_on = None


def _postgres() -> bool:
    return op.get_bind().dialect.name == 'postgresql'


def upgrade():
    op.create_table('ward',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('retired_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_ward_tenant_id_tenant'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ward')),
    sa.UniqueConstraint('tenant_id', 'name', name=op.f('uq_ward_tenant_id'))
    )
    with op.batch_alter_table('ward', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ward_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('sign_in_lock',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('locked_until', sa.DateTime(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_lock'))
    )
    with op.batch_alter_table('sign_in_lock', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sign_in_lock_email'), ['email'], unique=False)

    # Every organisation's free-text wards become its list, and each incident points at
    # its entry. The schema owner is bound by forced row-level security too, so it is
    # lifted on hate_incident while every tenant's rows are moved.
    if _postgres():
        op.execute('ALTER TABLE hate_incident NO FORCE ROW LEVEL SECURITY')
    now = datetime.utcnow().replace(microsecond=0)
    op.execute(
        sa.text(
            'INSERT INTO ward (tenant_id, name, created_at) '
            'SELECT DISTINCT tenant_id, TRIM(ward), :now FROM hate_incident'
        ).bindparams(now=now)
    )
    with op.batch_alter_table('hate_incident', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ward_id', sa.Integer(), nullable=True))
    op.execute(
        'UPDATE hate_incident SET ward_id = (SELECT ward.id FROM ward '
        'WHERE ward.tenant_id = hate_incident.tenant_id AND ward.name = TRIM(hate_incident.ward))'
    )
    with op.batch_alter_table('hate_incident', schema=None) as batch_op:
        batch_op.alter_column('ward_id', existing_type=sa.Integer(), nullable=False)
        batch_op.create_index(batch_op.f('ix_hate_incident_ward_id'), ['ward_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_hate_incident_ward_id_ward'), 'ward', ['ward_id'], ['id'], ondelete='RESTRICT')
        batch_op.drop_column('ward')
    if _postgres():
        op.execute('ALTER TABLE hate_incident FORCE ROW LEVEL SECURITY')
    enable_row_level_security(op, 'ward')

    grant_app_role(op)


def downgrade():
    disable_row_level_security(op, 'ward')
    if _postgres():
        op.execute('ALTER TABLE hate_incident NO FORCE ROW LEVEL SECURITY')
    with op.batch_alter_table('hate_incident', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ward', sa.String(length=120), nullable=True))
    op.execute(
        'UPDATE hate_incident SET ward = (SELECT ward.name FROM ward WHERE ward.id = hate_incident.ward_id)'
    )
    with op.batch_alter_table('hate_incident', schema=None) as batch_op:
        batch_op.alter_column('ward', existing_type=sa.String(length=120), nullable=False)
        batch_op.drop_constraint(batch_op.f('fk_hate_incident_ward_id_ward'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_hate_incident_ward_id'))
        batch_op.drop_column('ward_id')
    if _postgres():
        op.execute('ALTER TABLE hate_incident FORCE ROW LEVEL SECURITY')

    with op.batch_alter_table('sign_in_lock', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sign_in_lock_email'))
    op.drop_table('sign_in_lock')

    with op.batch_alter_table('ward', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ward_tenant_id'))
    op.drop_table('ward')
