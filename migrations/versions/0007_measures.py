"""measures: versions for edit conflicts, and joint measures' plan years, aim and base

Revision ID: 0007_measures
Revises: 0006_registers
Create Date: 2026-11-24 08:00:00

"""
from alembic import op
import sqlalchemy as sa

from portal.tenancy import grant_app_role


# revision identifiers, used by Alembic.
revision = '0007_measures'
down_revision = '0006_registers'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('measure', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), nullable=False, server_default='1'))

    with op.batch_alter_table('measure_definition', schema=None) as batch_op:
        batch_op.add_column(sa.Column('first_year', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('last_year', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('aim_measure_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('base_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('version', sa.Integer(), nullable=False, server_default='1'))
        batch_op.create_index(batch_op.f('ix_measure_definition_aim_measure_id'), ['aim_measure_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_measure_definition_base_id'), ['base_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_measure_definition_aim_measure_id_aim_measure'), 'aim_measure', ['aim_measure_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key(batch_op.f('fk_measure_definition_base_id_measure_definition'), 'measure_definition', ['base_id'], ['id'], ondelete='SET NULL')

    grant_app_role(op)


def downgrade():
    with op.batch_alter_table('measure_definition', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_measure_definition_base_id_measure_definition'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_measure_definition_aim_measure_id_aim_measure'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_measure_definition_base_id'))
        batch_op.drop_index(batch_op.f('ix_measure_definition_aim_measure_id'))
        batch_op.drop_column('version')
        batch_op.drop_column('base_id')
        batch_op.drop_column('aim_measure_id')
        batch_op.drop_column('last_year')
        batch_op.drop_column('first_year')

    with op.batch_alter_table('measure', schema=None) as batch_op:
        batch_op.drop_column('version')
