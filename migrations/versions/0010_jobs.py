"""jobs: background work and its progress

Revision ID: 0010_jobs
Revises: 0009_invitations
Create Date: 2026-11-30 01:45:00

"""
from alembic import op
import sqlalchemy as sa

from portal.tenancy import grant_app_role


# revision identifiers, used by Alembic.
revision = '0010_jobs'
down_revision = '0009_invitations'
branch_labels = None
depends_on = None

# A job belongs to one tenant or to none. A transaction sees (and may write) the jobs of
# the tenant in scope and the tenant-less ones; never another tenant's.
_CURRENT = "NULLIF(current_setting('app.tenant_id', true), '')::integer"
_POLICY = f"(tenant_id IS NULL OR tenant_id = {_CURRENT})"


def upgrade():
    op.create_table('job',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=60), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('steps_done', sa.Integer(), nullable=False),
    sa.Column('steps_total', sa.Integer(), nullable=False),
    sa.Column('sentence', sa.String(length=300), nullable=False),
    sa.Column('failure', sa.String(length=300), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('result_path', sa.String(length=300), nullable=True),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=True),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['requested_by_id'], ['user.id'], name=op.f('fk_job_requested_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_job_tenant_id_tenant'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job'))
    )
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_job_requested_by_id'), ['requested_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_job_tenant_id'), ['tenant_id'], unique=False)

    if op.get_bind().dialect.name == 'postgresql':
        op.execute("ALTER TABLE job ENABLE ROW LEVEL SECURITY")
        op.execute("ALTER TABLE job FORCE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY tenant_isolation ON job USING {_POLICY} WITH CHECK {_POLICY}")

    grant_app_role(op)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP POLICY IF EXISTS tenant_isolation ON job")
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_job_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_job_requested_by_id'))

    op.drop_table('job')
