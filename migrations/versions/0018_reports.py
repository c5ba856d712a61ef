"""reports: the joint annual report, its published versions and their built files

Revision ID: 0018_reports
Revises: 0017_measure_targets
Create Date: 2026-11-30 05:00:00

"""
from alembic import op
import sqlalchemy as sa

from portal.tenancy import grant_app_role


# revision identifiers, used by Alembic.
revision = '0018_reports'
down_revision = '0017_measure_targets'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('joint_report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partnership_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.String(length=7), nullable=False),
    sa.Column('foreword', sa.Text(), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('is_demo', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['partnership_id'], ['partnership.id'], name=op.f('fk_joint_report_partnership_id_partnership'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['user.id'], name=op.f('fk_joint_report_updated_by_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_joint_report')),
    sa.UniqueConstraint('partnership_id', 'year', name=op.f('uq_joint_report_partnership_id'))
    )
    with op.batch_alter_table('joint_report', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_joint_report_partnership_id'), ['partnership_id'], unique=False)

    op.create_table('joint_report_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partnership_id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('published_at', sa.DateTime(), nullable=False),
    sa.Column('published_by_id', sa.Integer(), nullable=True),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('returns', sa.JSON(), nullable=False),
    sa.Column('correction_note', sa.Text(), nullable=False),
    sa.Column('superseded', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['partnership_id'], ['partnership.id'], name=op.f('fk_joint_report_version_partnership_id_partnership'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['published_by_id'], ['user.id'], name=op.f('fk_joint_report_version_published_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['report_id'], ['joint_report.id'], name=op.f('fk_joint_report_version_report_id_joint_report'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_joint_report_version')),
    sa.UniqueConstraint('report_id', 'number', name=op.f('uq_joint_report_version_report_id'))
    )
    with op.batch_alter_table('joint_report_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_joint_report_version_partnership_id'), ['partnership_id'], unique=False)

    op.create_table('joint_report_file',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partnership_id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('format', sa.String(length=20), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('media_type', sa.String(length=120), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['partnership_id'], ['partnership.id'], name=op.f('fk_joint_report_file_partnership_id_partnership'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['version_id'], ['joint_report_version.id'], name=op.f('fk_joint_report_file_version_id_joint_report_version'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_joint_report_file')),
    sa.UniqueConstraint('version_id', 'format', name=op.f('uq_joint_report_file_version_id'))
    )
    with op.batch_alter_table('joint_report_file', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_joint_report_file_partnership_id'), ['partnership_id'], unique=False)

    grant_app_role(op)


def downgrade():
    op.drop_table('joint_report_file')
    op.drop_table('joint_report_version')
    op.drop_table('joint_report')
