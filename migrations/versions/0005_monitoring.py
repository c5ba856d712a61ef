"""monitoring

Revision ID: 0005_monitoring
Revises: 0004_actions
Create Date: 2026-11-24 07:23:07.617326

"""
from alembic import op
import sqlalchemy as sa

from portal.tenancy import disable_row_level_security, enable_row_level_security, grant_app_role

TENANT_TABLES = ('measure', 'measure_value', 'community_profile', 'population_figure')

# The built-in measures as they stood when this revision was written, written out in full
# so that later changes to the catalogue do not change what this migration does.
BUILT_IN_0005 = [
    {
        'key': 'hate-incidents-reported',
        'name': 'Hate incidents reported',
        'unit': 'count',
        'period_type': 'quarter',
        'breakdown': '',
        'allows_negative': False,
        'description': '',
        'source': 'West Kent Equality Partnership, Aims 2012–16, “How will we measure our results?”: “We will make data on reported cases available”',
        'partnership_id': None,
    },
    {
        'key': 'attendance-events-services',
        'name': 'Attendance at events and services',
        'unit': 'count',
        'period_type': 'year',
        'breakdown': '*',
        'allows_negative': False,
        'description': '',
        'source': "West Kent Equality Partnership, Aims 2012–16, “How will we measure our results?”: “We will review access to and attendance at events and services, including Kent County Council's Integrated Youth Service.”",
        'partnership_id': None,
    },
    {
        'key': 'consultation-responses-seldom-heard',
        'name': 'Consultation responses from seldom-heard groups',
        'unit': 'count',
        'period_type': 'year',
        'breakdown': '*',
        'allows_negative': False,
        'description': '',
        'source': 'Maidstone Borough Council, Equalities Policy and Objectives 2017–21: “Increased number of consultation responses from seldom heard groups”',
        'partnership_id': None,
    },
    {
        'key': 'customer-satisfaction-star',
        'name': 'Customer satisfaction (STAR survey)',
        'unit': 'percentage',
        'period_type': 'year',
        'breakdown': '*',
        'allows_negative': False,
        'description': '',
        'source': 'Gentoo, Diversity and Inclusion in Service Provision, 9.3 key performance indicators: “STAR data in respect of customer satisfaction with our service provision, disaggregated by core protected characteristics”',
        'partnership_id': None,
    },
    {
        'key': 'complaints',
        'name': 'Complaints received',
        'unit': 'count',
        'period_type': 'quarter',
        'breakdown': '*',
        'allows_negative': False,
        'description': '',
        'source': 'Gentoo, Diversity and Inclusion in Service Provision, 9.3 key performance indicators: “Complaints data, disaggregated by core protected characteristics”',
        'partnership_id': None,
    },
    {
        'key': 'workforce-profile',
        'name': 'Workforce profile (number of employees)',
        'unit': 'count',
        'period_type': 'year',
        'breakdown': '*',
        'allows_negative': False,
        'description': '',
        'source': 'West Kent Housing Association, Equality and Diversity Policy, 3. Commitments: “Profile our customers, employees and board and how far these reflect the communities we work in”',
        'partnership_id': None,
    },
    {
        'key': 'gender-pay-gap-mean',
        'name': 'Mean gender pay gap',
        'unit': 'percentage',
        'period_type': 'year',
        'breakdown': '',
        'allows_negative': True,
        'description': "Men's mean hourly pay less women's, as a percentage of men's. Below zero when women are paid more.",
        'source': 'West Kent Equality Partnership, Aims 2012–16, “How will we measure our results?”: “We will establish the extent and nature of any issues about equal pay.”',
        'partnership_id': None,
    },
    {
        'key': 'gender-pay-gap-median',
        'name': 'Median gender pay gap',
        'unit': 'percentage',
        'period_type': 'year',
        'breakdown': '',
        'allows_negative': True,
        'description': "Men's median hourly pay less women's, as a percentage of men's. Below zero when women are paid more.",
        'source': 'West Kent Equality Partnership, Aims 2012–16, “How will we measure our results?”: “We will establish the extent and nature of any issues about equal pay.”',
        'partnership_id': None,
    },
    {
        'key': 'flexible-working',
        'name': 'Employees working flexibly (including home working)',
        'unit': 'count',
        'period_type': 'year',
        'breakdown': '*',
        'allows_negative': False,
        'description': '',
        'source': 'West Kent Equality Partnership, Aims 2012–16, “How will we measure our results?”: “We will publish details of patterns of home working and flexible retirement”',
        'partnership_id': None,
    },
    {
        'key': 'flexible-retirement',
        'name': 'Employees taking flexible retirement',
        'unit': 'count',
        'period_type': 'year',
        'breakdown': '*',
        'allows_negative': False,
        'description': '',
        'source': 'West Kent Equality Partnership, Aims 2012–16, “How will we measure our results?”: “We will publish details of patterns of home working and flexible retirement”',
        'partnership_id': None,
    },
    {
        'key': 'eqias-completed',
        'name': 'Equality impact assessments completed',
        'unit': 'count',
        'period_type': 'year',
        'breakdown': '',
        'allows_negative': False,
        'description': '',
        'source': "Maidstone Borough Council, Equalities Policy and Objectives 2017–21: “Increase in the number and quality of EqIA's completed.”",
        'partnership_id': None,
    },
    {
        'key': 'eqias-published',
        'name': 'Equality impact assessments published',
        'unit': 'count',
        'period_type': 'year',
        'breakdown': '',
        'allows_negative': False,
        'description': '',
        'source': 'Maidstone Borough Council, Equalities Policy and Objectives 2017–21: “All EqIAs to be published on the website.”',
        'partnership_id': None,
    },
]


# revision identifiers, used by Alembic.
revision = '0005_monitoring'
down_revision = '0004_actions'
branch_labels = None
depends_on = None


def upgrade():
    # ### commands auto generated by Alembic - please adjust! ###
    op.create_table('community_profile',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('file_name', sa.String(length=200), nullable=False),
    sa.Column('area', sa.String(length=200), nullable=False),
    sa.Column('loaded_at', sa.DateTime(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_community_profile_tenant_id_tenant'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_community_profile'))
    )
    with op.batch_alter_table('community_profile', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_community_profile_tenant_id'), ['tenant_id'], unique=False)

    definitions = op.create_table('measure_definition',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=60), nullable=True),
    sa.Column('partnership_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('unit', sa.String(length=20), nullable=False),
    sa.Column('period_type', sa.String(length=10), nullable=False),
    sa.Column('breakdown', sa.String(length=40), nullable=False),
    sa.Column('allows_negative', sa.Boolean(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['partnership_id'], ['partnership.id'], name=op.f('fk_measure_definition_partnership_id_partnership'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_measure_definition')),
    sa.UniqueConstraint('key', name=op.f('uq_measure_definition_key'))
    )
    with op.batch_alter_table('measure_definition', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_measure_definition_partnership_id'), ['partnership_id'], unique=False)

    op.create_table('measure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('definition_id', sa.Integer(), nullable=True),
    sa.Column('first_year', sa.Integer(), nullable=False),
    sa.Column('last_year', sa.Integer(), nullable=False),
    sa.Column('is_demo', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('unit', sa.String(length=20), nullable=False),
    sa.Column('period_type', sa.String(length=10), nullable=False),
    sa.Column('breakdown', sa.String(length=40), nullable=False),
    sa.Column('allows_negative', sa.Boolean(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['definition_id'], ['measure_definition.id'], name=op.f('fk_measure_definition_id_measure_definition'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_measure_tenant_id_tenant'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_measure'))
    )
    with op.batch_alter_table('measure', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_measure_definition_id'), ['definition_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_measure_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('population_figure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('profile_id', sa.Integer(), nullable=False),
    sa.Column('characteristic', sa.String(length=40), nullable=False),
    sa.Column('category', sa.String(length=200), nullable=False),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['profile_id'], ['community_profile.id'], name=op.f('fk_population_figure_profile_id_community_profile'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_population_figure_tenant_id_tenant'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_population_figure'))
    )
    with op.batch_alter_table('population_figure', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_population_figure_profile_id'), ['profile_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_population_figure_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('measure_value',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('measure_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=10), nullable=False),
    sa.Column('category', sa.String(length=200), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('is_demo', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['measure_id'], ['measure.id'], name=op.f('fk_measure_value_measure_id_measure'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_measure_value_tenant_id_tenant'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_measure_value')),
    sa.UniqueConstraint('measure_id', 'period', 'category', name=op.f('uq_measure_value_measure_id'))
    )
    with op.batch_alter_table('measure_value', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_measure_value_measure_id'), ['measure_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_measure_value_tenant_id'), ['tenant_id'], unique=False)

    with op.batch_alter_table('partnership', schema=None) as batch_op:
        batch_op.add_column(sa.Column('disclosure_threshold', sa.Integer(), server_default='8', nullable=False))
        batch_op.add_column(sa.Column('disclosure_rounding', sa.Integer(), server_default='5', nullable=False))

    # ### end Alembic commands ###
    op.bulk_insert(definitions, BUILT_IN_0005)
    for table in TENANT_TABLES:
        enable_row_level_security(op, table)
    grant_app_role(op)


def downgrade():
    for table in TENANT_TABLES:
        disable_row_level_security(op, table)
    # ### commands auto generated by Alembic - please adjust! ###
    with op.batch_alter_table('partnership', schema=None) as batch_op:
        batch_op.drop_column('disclosure_rounding')
        batch_op.drop_column('disclosure_threshold')

    with op.batch_alter_table('measure_value', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_measure_value_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_measure_value_measure_id'))

    op.drop_table('measure_value')
    with op.batch_alter_table('population_figure', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_population_figure_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_population_figure_profile_id'))

    op.drop_table('population_figure')
    with op.batch_alter_table('measure', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_measure_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_measure_definition_id'))

    op.drop_table('measure')
    with op.batch_alter_table('measure_definition', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_measure_definition_partnership_id'))

    op.drop_table('measure_definition')
    with op.batch_alter_table('community_profile', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_community_profile_tenant_id'))

    op.drop_table('community_profile')
    # ### end Alembic commands ###
