"""share roles: viewer, analyst or editor per survey share

Existing shares keep what they could do before (surveyapp.access): a share
held by a researcher (or an admin) opened the builder, invitations, exports
and the API data, so it becomes ``editor``; a share held by a manager opened
the dashboard, follow-up and cases (the web exports were researcher-only), so
it becomes ``viewer``. What a share no longer allows is re-sharing, and a
manager's raw responses through the API (both were the holes of issue 16).

Revision ID: 5b8e2d1c9a47
Revises: 0a565b0bc888
Create Date: 2026-11-30 05:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = '5b8e2d1c9a47'
down_revision = '0a565b0bc888'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('survey_share', schema=None) as batch_op:
        batch_op.add_column(sa.Column('role', sa.String(length=16), server_default='viewer',
                                      nullable=False))
    share = sa.table('survey_share', sa.column('user_id', sa.Integer), sa.column('role', sa.String))
    user = sa.table('user', sa.column('id', sa.Integer), sa.column('role', sa.String))
    editors = sa.select(user.c.id).where(user.c.role.in_(['researcher', 'admin']))
    op.execute(share.update().where(share.c.user_id.in_(editors)).values(role='editor'))
    with op.batch_alter_table('survey_share', schema=None) as batch_op:
        batch_op.create_check_constraint('share_role', "role IN ('viewer', 'analyst', 'editor')")


def downgrade():
    with op.batch_alter_table('survey_share', schema=None) as batch_op:
        batch_op.drop_constraint('share_role', type_='check')
        batch_op.drop_column('role')
