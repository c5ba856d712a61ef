"""invitations that wait for acceptance; who granted a role, and access suspended per tenant

Revision ID: 0009_invitations
Revises: 0008_releases
Create Date: 2026-11-30 02:00:00

"""
from alembic import op
import sqlalchemy as sa

from portal.tenancy import grant_app_role


# revision identifiers, used by Alembic.
revision = '0009_invitations'
down_revision = '0008_releases'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('invitation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=True),
    sa.Column('partnership_id', sa.Integer(), nullable=True),
    sa.Column('roles', sa.String(length=200), nullable=False),
    sa.Column('invited_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('accepted_at', sa.DateTime(), nullable=True),
    sa.Column('replaced_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['invited_by_id'], ['user.id'], name=op.f('fk_invitation_invited_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['partnership_id'], ['partnership.id'], name=op.f('fk_invitation_partnership_id_partnership'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_invitation_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invitation')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_invitation_token_hash'))
    )
    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invitation_email'), ['email'], unique=False)
        batch_op.create_index(batch_op.f('ix_invitation_partnership_id'), ['partnership_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_invitation_tenant_id'), ['tenant_id'], unique=False)

    with op.batch_alter_table('tenant_grant', schema=None) as batch_op:
        batch_op.add_column(sa.Column('granted_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('granted_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('suspended_at', sa.DateTime(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_tenant_grant_granted_by_id_user'), 'user', ['granted_by_id'], ['id'], ondelete='SET NULL')

    grant_app_role(op)


def downgrade():
    with op.batch_alter_table('tenant_grant', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_tenant_grant_granted_by_id_user'), type_='foreignkey')
        batch_op.drop_column('suspended_at')
        batch_op.drop_column('granted_by_id')
        batch_op.drop_column('granted_at')

    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invitation_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_invitation_partnership_id'))
        batch_op.drop_index(batch_op.f('ix_invitation_email'))

    op.drop_table('invitation')
