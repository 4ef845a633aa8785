"""eID: server sessions, card links, attributes with provenance

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

import broker.db


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('eid_server_session',
    sa.Column('session_identifier', sa.String(length=64), nullable=False),
    sa.Column('token_reference_hash', sa.String(length=64), nullable=False),
    sa.Column('reference_hash', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('expires_at', broker.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sealed', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('session_identifier', name=op.f('pk_eid_server_session')),
    sa.UniqueConstraint('reference_hash', name=op.f('uq_eid_server_session_reference_hash')),
    sa.UniqueConstraint('token_reference_hash', name=op.f('uq_eid_server_session_token_reference_hash'))
    )
    with op.batch_alter_table('eid_server_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_eid_server_session_expires_at'), ['expires_at'], unique=False)

    op.create_table('account_attribute',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('value', sa.String(length=512), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('level', sa.Integer(), nullable=True),
    sa.Column('verified_at', broker.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_account_attribute_account_id_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account_attribute')),
    sa.UniqueConstraint('account_id', 'name', 'source', name=op.f('uq_account_attribute_account_id'))
    )
    with op.batch_alter_table('account_attribute', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_account_attribute_account_id'), ['account_id'], unique=False)

    op.create_table('eid_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('sector', sa.String(length=64), nullable=False),
    sa.Column('pseudonym', sa.String(length=256), nullable=False),
    sa.Column('linked_at', broker.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', broker.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_eid_link_account_id_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_eid_link')),
    sa.UniqueConstraint('account_id', name=op.f('uq_eid_link_account_id')),
    sa.UniqueConstraint('sector', 'pseudonym', name=op.f('uq_eid_link_sector'))
    )


def downgrade() -> None:
    op.drop_table('eid_link')
    with op.batch_alter_table('account_attribute', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_account_attribute_account_id'))

    op.drop_table('account_attribute')
    with op.batch_alter_table('eid_server_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_eid_server_session_expires_at'))

    op.drop_table('eid_server_session')
