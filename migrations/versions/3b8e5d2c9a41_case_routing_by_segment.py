"""case routing by segment: round robin over owners per value of a segment variable

Revision ID: 3b8e5d2c9a41
Revises: 7daf7412ca58
Create Date: 2026-11-30 05:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3b8e5d2c9a41'
down_revision = '7daf7412ca58'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('case_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('routing', sa.JSON(), nullable=False, server_default='{}'))


def downgrade():
    with op.batch_alter_table('case_settings', schema=None) as batch_op:
        batch_op.drop_column('routing')
