"""newuser: one-time tokens of create forms, corrected or withdrawn progress updates, and
concluded and published joint assessments

A create form's token is kept with the record it made, so the same form sent twice lands
on that record. A corrected progress update is a new update that replaces the earlier
one, which stays, with its text and evidence, as history; a withdrawn update stays too.

Revision ID: 0020_newuser
Revises: 0019_partnership_scoping
Create Date: 2026-11-30 05:00:00

"""
from alembic import op
import sqlalchemy as sa

from portal.tenancy import grant_app_role


# revision identifiers, used by Alembic.
revision = '0020_newuser'
down_revision = '0019_partnership_scoping'
branch_labels = None
depends_on = None

PROGRESS_COLUMNS = (
    sa.Column('replaces_id', sa.Integer(), nullable=True),
    sa.Column('superseded_at', sa.DateTime(), nullable=True),
    sa.Column('withdrawn_at', sa.DateTime(), nullable=True),
    sa.Column('change_reason', sa.Text(), nullable=False, server_default=''),
)
JOINT_COLUMNS = (
    sa.Column('conclusion', sa.Text(), nullable=False, server_default=''),
    sa.Column('concluded_at', sa.DateTime(), nullable=True),
    sa.Column('published_at', sa.DateTime(), nullable=True),
    sa.Column('published_content', sa.JSON(), nullable=True),
)


def upgrade():
    op.create_table(
        'form_submission',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('endpoint', sa.String(length=120), nullable=False),
        sa.Column('location', sa.String(length=500), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ['user_id'], ['user.id'],
            name=op.f('fk_form_submission_user_id_user'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_form_submission')),
        sa.UniqueConstraint('token', name=op.f('uq_form_submission_token')),
    )
    op.create_index(
        op.f('ix_form_submission_user_id'), 'form_submission', ['user_id'], unique=False
    )
    op.create_index(
        op.f('ix_form_submission_created_at'), 'form_submission', ['created_at'], unique=False
    )
    # Plain columns (no new foreign key): adding one would rebuild the table on SQLite,
    # which breaks its evidence's foreign keys.
    for column in PROGRESS_COLUMNS:
        op.add_column('progress_update', column)
    op.create_index(
        op.f('ix_progress_update_replaces_id'), 'progress_update', ['replaces_id'], unique=False
    )
    for column in JOINT_COLUMNS:
        op.add_column('joint_assessment', column)
    grant_app_role(op)


def downgrade():
    # Plain ALTER TABLE … DROP COLUMN (SQLite 3.35+): a batch copy of these tables would
    # drop the old ones, and the ON DELETE CASCADE of their children (evidence pieces,
    # members' contributions) would empty those.
    for column in reversed(JOINT_COLUMNS):
        op.drop_column('joint_assessment', column.name)
    op.drop_index(op.f('ix_progress_update_replaces_id'), table_name='progress_update')
    for column in reversed(PROGRESS_COLUMNS):
        op.drop_column('progress_update', column.name)
    op.drop_index(op.f('ix_form_submission_created_at'), table_name='form_submission')
    op.drop_index(op.f('ix_form_submission_user_id'), table_name='form_submission')
    op.drop_table('form_submission')
