"""releases: members' figures, released once, append-only and readable by partnerships

Revision ID: 0008_releases
Revises: 0007_measures
Create Date: 2026-11-30 01:36:00.151697

"""
from alembic import op
import sqlalchemy as sa

from portal.tenancy import SETTING, grant_app_role


# revision identifiers, used by Alembic.
revision = '0008_releases'
down_revision = '0007_measures'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('figure_release',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('definition_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=10), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('threshold', sa.Integer(), nullable=False),
    sa.Column('rounding', sa.Integer(), nullable=False),
    sa.Column('released_at', sa.DateTime(), nullable=False),
    sa.Column('trigger', sa.String(length=40), nullable=False),
    sa.Column('trigger_detail', sa.String(length=200), nullable=False),
    sa.Column('released_by_id', sa.Integer(), nullable=True),
    sa.Column('tables', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['definition_id'], ['measure_definition.id'], name=op.f('fk_figure_release_definition_id_measure_definition'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['released_by_id'], ['user.id'], name=op.f('fk_figure_release_released_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_figure_release_tenant_id_tenant'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_figure_release')),
    sa.UniqueConstraint('tenant_id', 'definition_id', 'period', 'version', name=op.f('uq_figure_release_tenant_id'))
    )
    with op.batch_alter_table('figure_release', schema=None) as batch_op:
        batch_op.create_index('ix_figure_release_definition_period', ['definition_id', 'period'], unique=False)
        batch_op.create_index(batch_op.f('ix_figure_release_tenant_id'), ['tenant_id'], unique=False)

    if op.get_bind().dialect.name == 'postgresql':
        # Released figures may be read by anyone (partnership pages read many members'
        # in one query); only the tenant in scope may add one; nobody may change or
        # remove one, as there is no UPDATE or DELETE policy.
        tenant = f"NULLIF(current_setting('{SETTING}', true), '')::integer"
        op.execute("ALTER TABLE figure_release ENABLE ROW LEVEL SECURITY")
        op.execute("ALTER TABLE figure_release FORCE ROW LEVEL SECURITY")
        op.execute("CREATE POLICY release_read ON figure_release FOR SELECT USING (true)")
        op.execute(
            "CREATE POLICY release_insert ON figure_release FOR INSERT "
            f"WITH CHECK (tenant_id = {tenant})"
        )
    grant_app_role(op)



def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP POLICY IF EXISTS release_insert ON figure_release")
        op.execute("DROP POLICY IF EXISTS release_read ON figure_release")
    with op.batch_alter_table('figure_release', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_figure_release_tenant_id'))
        batch_op.drop_index('ix_figure_release_definition_period')

    op.drop_table('figure_release')
