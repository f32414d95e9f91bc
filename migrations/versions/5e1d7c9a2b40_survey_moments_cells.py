"""survey_moments and moment_applied: the dashboard's sufficient statistics per survey version and cell

Revision ID: 5e1d7c9a2b40
Revises: 5b8e2d1c9a47
Create Date: 2026-11-30 05:40:00

Existing responses are counted by ``flask moments rebuild`` (every survey);
the upgrade only creates the tables (the cells, and ``moment_applied``: which
response is counted how, for the queue task that keeps the cells current), so a large database is not rebuilt
inside a schema migration. Until the rebuild, the dashboard reads an empty
cell set as "no moments yet" and computes from the rows (docs in
services/moment_store.py).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5e1d7c9a2b40'
down_revision = '5b8e2d1c9a47'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'survey_moments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('survey_id', sa.Integer(), nullable=False),
        sa.Column('version_id', sa.Integer(), nullable=False),
        sa.Column('cell', sa.String(length=128), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.Column('revision', sa.Integer(), server_default='1', nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['survey_id'], ['survey.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['version_id'], ['survey_version.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('survey_id', 'version_id', 'cell', name='uq_survey_moments_cell'),
    )
    with op.batch_alter_table('survey_moments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_moments_version_id'), ['version_id'], unique=False)
    op.create_table(
        'moment_applied',
        sa.Column('response_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('survey_id', sa.Integer(), nullable=False),
        sa.Column('version_id', sa.Integer(), nullable=False),
        sa.Column('counted', sa.String(length=16), nullable=False),
        sa.Column('revision', sa.Integer(), nullable=False),
        sa.Column('response_updated_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('day', sa.String(length=10), nullable=True),
        sa.Column('duration_seconds', sa.Float(), nullable=True),
        sa.Column('kept', sa.Boolean(), nullable=True),
        sa.Column('segments', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['response_id'], ['response.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['survey_id'], ['survey.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['version_id'], ['survey_version.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('response_id'),
    )
    with op.batch_alter_table('moment_applied', schema=None) as batch_op:
        batch_op.create_index('ix_moment_applied_updated', ['survey_id', 'response_updated_at'], unique=False)
        batch_op.create_index('ix_moment_applied_duration', ['survey_id', 'counted', 'duration_seconds', 'version_id'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('moment_applied', schema=None) as batch_op:
        batch_op.drop_index('ix_moment_applied_duration')
        batch_op.drop_index('ix_moment_applied_updated')
    op.drop_table('moment_applied')
    with op.batch_alter_table('survey_moments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_survey_moments_version_id'))
    op.drop_table('survey_moments')
