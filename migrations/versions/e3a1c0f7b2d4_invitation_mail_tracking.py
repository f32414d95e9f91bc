"""invitation e-mail tracking and the unsubscribe list

Revision ID: e3a1c0f7b2d4
Revises: a3c520280a55
Create Date: 2026-11-30 03:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'e3a1c0f7b2d4'
down_revision = 'a3c520280a55'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('email_opt_out',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_email_opt_out')),
    sa.UniqueConstraint('email', name=op.f('uq_email_opt_out_email'))
    )
    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mail_claimed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('send_attempts', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('bounced_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('mail_error', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('opened_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('reminders_claimed', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('reminders_sent', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('last_reminder_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('unsubscribed_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('invitation', schema=None) as batch_op:
        for column in ('unsubscribed_at', 'last_reminder_at', 'reminders_sent', 'reminders_claimed',
                       'opened_at', 'mail_error', 'bounced_at', 'sent_at', 'send_attempts',
                       'mail_claimed_at'):
            batch_op.drop_column(column)
    op.drop_table('email_opt_out')
