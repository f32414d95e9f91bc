"""survey_moments: the dashboard's sufficient statistics per survey version and cell

Revision ID: 5e1d7c9a2b40
Revises: 5b8e2d1c9a47
Create Date: 2026-11-30 05:40:00

Existing responses are counted by ``flask moments rebuild`` (every survey);
the upgrade only creates the table, so a large database is not rebuilt
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


def downgrade():
    with op.batch_alter_table('survey_moments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_survey_moments_version_id'))
    op.drop_table('survey_moments')
