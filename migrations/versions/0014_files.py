"""files: evidence and pending imports in the database, not on an app server's disk

Evidence files already kept under instance/evidence/<tenant id>/ are copied into
evidence_chunk rows by this upgrade. The files on disk are left where they are (deleting
them cannot be undone if a later step of the upgrade fails); once the upgrade is done,
instance/evidence/ is no longer read and can be removed. Downgrading writes the files back
to disk. Pending imports are not carried over: they last a day and are uploaded again.

Revision ID: 0014_files
Revises: 0013_wards_lockouts
Create Date: 2026-11-30 01:40:00

"""
import logging
import secrets
from pathlib import Path

from alembic import op
import sqlalchemy as sa
from flask import current_app

from portal.tenancy import (
    SETTING,
    disable_row_level_security,
    enable_row_level_security,
    grant_app_role,
)


# revision identifiers, used by Alembic.
revision = '0014_files'
down_revision = '0013_wards_lockouts'
branch_labels = None
depends_on = None

CHUNK_BYTES = 256 * 1024
log = logging.getLogger('alembic.runtime.migration')


def _evidence_dir(tenant_id):
    return Path(current_app.instance_path) / 'evidence' / str(int(tenant_id))


def _tenants(bind):
    """Each tenant id with that tenant set for the transaction: row-level security is
    forced on progress_update, for its owner too."""
    for tenant_id in bind.execute(sa.text('SELECT id FROM tenant ORDER BY id')).scalars().all():
        if bind.dialect.name == 'postgresql':
            bind.execute(
                sa.text('SELECT set_config(:name, :value, true)'),
                {'name': SETTING, 'value': str(tenant_id)},
            )
        yield tenant_id
    if bind.dialect.name == 'postgresql':
        bind.execute(
            sa.text('SELECT set_config(:name, :value, true)'), {'name': SETTING, 'value': ''}
        )


def _evidence_on_disk(bind):
    """(tenant id, progress update id, file name on disk) of every evidence file."""
    found = []
    for tenant_id in _tenants(bind):
        rows = bind.execute(
            sa.text(
                "SELECT id, evidence_file FROM progress_update "
                "WHERE tenant_id = :t AND evidence_file != ''"
            ),
            {'t': tenant_id},
        ).all()
        found.extend((tenant_id, update_id, name) for update_id, name in rows)
    return found


def _move_evidence_into_database(bind, files):
    by_tenant = {}
    for tenant_id, update_id, name in files:
        by_tenant.setdefault(tenant_id, []).append((update_id, name))
    for tenant_id in _tenants(bind):
        for update_id, name in by_tenant.get(tenant_id, []):
            path = _evidence_dir(tenant_id) / Path(name).name
            try:
                content = path.read_bytes()
            except OSError:
                log.warning('Evidence of progress update %s is missing: %s', update_id, path)
                content = b''
            for position, start in enumerate(range(0, len(content), CHUNK_BYTES)):
                bind.execute(
                    sa.text(
                        'INSERT INTO evidence_chunk (progress_update_id, position, data, '
                        'tenant_id) VALUES (:u, :p, :d, :t)'
                    ),
                    {'u': update_id, 'p': position, 'd': content[start:start + CHUNK_BYTES],
                     't': tenant_id},
                )
            bind.execute(
                sa.text('UPDATE progress_update SET evidence_size = :s WHERE id = :u'),
                {'s': len(content), 'u': update_id},
            )


def _write_evidence_to_disk(bind):
    """Write every evidence file back under instance/evidence/; (tenant, update, name)."""
    written = []
    for tenant_id in _tenants(bind):
        rows = bind.execute(
            sa.text(
                'SELECT id, evidence_name FROM progress_update '
                'WHERE tenant_id = :t AND evidence_size > 0'
            ),
            {'t': tenant_id},
        ).all()
        for update_id, original in rows:
            original = original or ''
            extension = original.rsplit('.', 1)[-1].lower() if '.' in original else 'bin'
            name = f'{secrets.token_hex(16)}.{extension}'
            folder = _evidence_dir(tenant_id)
            folder.mkdir(parents=True, exist_ok=True)
            with open(folder / name, 'wb') as out:
                for (data,) in bind.execute(
                    sa.text(
                        'SELECT data FROM evidence_chunk WHERE progress_update_id = :u '
                        'ORDER BY position'
                    ),
                    {'u': update_id},
                ):
                    out.write(data)
            written.append((tenant_id, update_id, name))
    return written


def _name_evidence_files(bind, written):
    by_tenant = {}
    for tenant_id, update_id, name in written:
        by_tenant.setdefault(tenant_id, []).append((update_id, name))
    for tenant_id in _tenants(bind):
        for update_id, name in by_tenant.get(tenant_id, []):
            bind.execute(
                sa.text('UPDATE progress_update SET evidence_file = :f WHERE id = :u'),
                {'f': name, 'u': update_id},
            )


def upgrade():
    # The column goes before evidence_chunk exists: on SQLite, dropping a column rebuilds
    # the table, and dropping the old table would cascade to rows that refer to it.
    files = _evidence_on_disk(op.get_bind())
    with op.batch_alter_table('progress_update', schema=None) as batch_op:
        batch_op.drop_column('evidence_file')

    op.create_table('evidence_chunk',
    sa.Column('progress_update_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['progress_update_id'], ['progress_update.id'], name=op.f('fk_evidence_chunk_progress_update_id_progress_update'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_evidence_chunk_tenant_id_tenant'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('progress_update_id', 'position', name=op.f('pk_evidence_chunk'))
    )
    with op.batch_alter_table('evidence_chunk', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evidence_chunk_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('pending_import',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('headings', sa.JSON(), nullable=False),
    sa.Column('rows', sa.JSON(), nullable=False),
    sa.Column('mapping', sa.JSON(), nullable=True),
    sa.Column('default_objective', sa.String(length=20), nullable=False),
    sa.Column('new_objective', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_pending_import_tenant_id_tenant'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_pending_import_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pending_import')),
    sa.UniqueConstraint('token', name=op.f('uq_pending_import_token'))
    )
    with op.batch_alter_table('pending_import', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pending_import_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_pending_import_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pending_import_user_id'), ['user_id'], unique=False)

    _move_evidence_into_database(op.get_bind(), files)

    enable_row_level_security(op, 'evidence_chunk')
    enable_row_level_security(op, 'pending_import')
    grant_app_role(op)


def downgrade():
    disable_row_level_security(op, 'pending_import')
    disable_row_level_security(op, 'evidence_chunk')
    written = _write_evidence_to_disk(op.get_bind())

    with op.batch_alter_table('pending_import', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pending_import_user_id'))
        batch_op.drop_index(batch_op.f('ix_pending_import_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_pending_import_created_at'))

    op.drop_table('pending_import')
    with op.batch_alter_table('evidence_chunk', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evidence_chunk_tenant_id'))

    op.drop_table('evidence_chunk')

    with op.batch_alter_table('progress_update', schema=None) as batch_op:
        batch_op.add_column(sa.Column('evidence_file', sa.String(length=100), nullable=False, server_default=''))
    _name_evidence_files(op.get_bind(), written)
