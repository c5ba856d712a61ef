"""audit chain: each event linked to its tenant's previous one by hash; events carry the
current tenant or none

Revision ID: 0012_audit_chain
Revises: 0010_jobs
Create Date: 2026-11-30 01:50:00

"""
from alembic import op
import sqlalchemy as sa

from portal.audit import GENESIS, event_hash
from portal.tenancy import grant_app_role

_TENANT = "NULLIF(current_setting('app.tenant_id', true), '')::integer"


# revision identifiers, used by Alembic.
revision = '0012_audit_chain'
down_revision = '0010_jobs'
branch_labels = None
depends_on = None

_events = sa.table(
    'audit_event',
    sa.column('id', sa.Integer),
    sa.column('at', sa.DateTime),
    sa.column('user_id', sa.Integer),
    sa.column('actor_email', sa.String),
    sa.column('tenant_id', sa.Integer),
    sa.column('action', sa.String),
    sa.column('object_type', sa.String),
    sa.column('object_id', sa.String),
    sa.column('detail', sa.JSON),
    sa.column('address', sa.String),
    sa.column('seq', sa.Integer),
    sa.column('prev_hash', sa.String),
    sa.column('hash', sa.String),
)


def upgrade():
    postgres = op.get_bind().dialect.name == 'postgresql'
    # Added with defaults so that existing rows are valid, then linked below.
    op.add_column('audit_event', sa.Column('seq', sa.Integer(), nullable=False, server_default='0'))
    op.add_column('audit_event', sa.Column('prev_hash', sa.String(length=64), nullable=False, server_default=''))
    op.add_column('audit_event', sa.Column('hash', sa.String(length=64), nullable=False, server_default=''))
    _link_existing_events(postgres)
    op.create_index('ix_audit_event_chain', 'audit_event', ['tenant_id', 'seq'], unique=True)
    if postgres:
        for column in ('seq', 'prev_hash', 'hash'):
            op.alter_column('audit_event', column, server_default=None)
        # An event carries the tenant in scope, or none when no tenant is in scope; the
        # events with no tenant are readable only with no tenant in scope.
        op.execute("DROP POLICY audit_read ON audit_event")
        op.execute("DROP POLICY audit_write ON audit_event")
        op.execute(
            "CREATE POLICY audit_read ON audit_event FOR SELECT "
            f"USING (tenant_id IS NOT DISTINCT FROM {_TENANT})"
        )
        op.execute(
            "CREATE POLICY audit_write ON audit_event FOR INSERT "
            f"WITH CHECK (tenant_id IS NOT DISTINCT FROM {_TENANT})"
        )
    grant_app_role(op)


def _link_existing_events(postgres):
    """Chain the events written before this revision, in the order they were written."""
    if postgres:
        # The owner must see every row (forced row-level security binds it too) and the
        # append-only trigger must let this one rewrite through.
        op.execute("ALTER TABLE audit_event NO FORCE ROW LEVEL SECURITY")
        op.execute("ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only")
    else:
        op.execute("DROP TRIGGER audit_event_no_update")
    bind = op.get_bind()
    heads = {}
    rows = bind.execute(sa.select(_events).order_by(_events.c.at, _events.c.id)).mappings().all()
    for row in rows:
        seq, prev = heads.get(row['tenant_id'], (0, GENESIS))
        values = dict(row, seq=seq + 1, prev_hash=prev)
        digest = event_hash(values)
        bind.execute(
            _events.update()
            .where(_events.c.id == row['id'])
            .values(seq=seq + 1, prev_hash=prev, hash=digest)
        )
        heads[row['tenant_id']] = (seq + 1, digest)
    if postgres:
        op.execute("ALTER TABLE audit_event ENABLE TRIGGER audit_event_append_only")
        op.execute("ALTER TABLE audit_event FORCE ROW LEVEL SECURITY")
    else:
        op.execute(
            "CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event "
            "BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END"
        )


def downgrade():
    postgres = op.get_bind().dialect.name == 'postgresql'
    if postgres:
        op.execute("DROP POLICY audit_read ON audit_event")
        op.execute("DROP POLICY audit_write ON audit_event")
        op.execute(f"CREATE POLICY audit_read ON audit_event FOR SELECT USING (tenant_id = {_TENANT})")
        op.execute(
            "CREATE POLICY audit_write ON audit_event FOR INSERT WITH CHECK "
            f"(tenant_id IS NULL OR {_TENANT} IS NULL OR tenant_id = {_TENANT})"
        )
    op.drop_index('ix_audit_event_chain', table_name='audit_event')
    if postgres:
        for column in ('hash', 'prev_hash', 'seq'):
            op.drop_column('audit_event', column)
    else:
        # SQLite rebuilds the table to drop columns, which drops its triggers: put them back.
        with op.batch_alter_table('audit_event', schema=None) as batch_op:
            for column in ('hash', 'prev_hash', 'seq'):
                batch_op.drop_column(column)
        for verb in ('UPDATE', 'DELETE'):
            op.execute(f"DROP TRIGGER IF EXISTS audit_event_no_{verb.lower()}")
            op.execute(
                f"CREATE TRIGGER audit_event_no_{verb.lower()} BEFORE {verb} ON audit_event "
                "BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END"
            )
