"""Never fail silently: the notification outbox, the scheduler heartbeat, one open alert.

- notification_outbox: notifications written with the alert in one transaction and sent
  after the commit, with bounded retries and a recorded outcome;
- scheduler_heartbeat: the active scheduler's beat (monitoring, "not running since ...");
- uq_alerts_one_open: at most one open alert per (rule set, district), a partial unique
  index on SQLite and PostgreSQL. Older duplicates (possible before, with two evaluations
  running at once) are closed first, naming why.

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

import store.types

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

CLOSE_DUPLICATES = """
UPDATE alerts SET status = 'closed', closed_by = 'system',
  closed_reason = 'duplicate open alert closed by migration 0006 (newest kept)'
WHERE status = 'open' AND EXISTS (
  SELECT 1 FROM alerts AS newer
  WHERE newer.status = 'open' AND newer.rule_set_id = alerts.rule_set_id
    AND newer.district_pcode = alerts.district_pcode AND newer.id > alerts.id)
"""


def upgrade() -> None:
    op.create_table(
        "notification_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("recipient", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=True),
        sa.Column("created_at", store.types.UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", store.types.UTCDateTime(), nullable=True),
        sa.Column("claimed_at", store.types.UTCDateTime(), nullable=True),
        sa.Column("finished_at", store.types.UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending','sending','sent','failed','not_configured')",
            name=op.f("ck_notification_outbox_status_known"),
        ),
        sa.CheckConstraint(
            "channel IN ('email','sms')", name=op.f("ck_notification_outbox_channel_known")
        ),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["alerts.id"], name=op.f("fk_notification_outbox_alert_id_alerts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_outbox")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_notification_outbox_dedupe_key")),
    )
    op.create_index(
        "ix_notification_outbox_due", "notification_outbox", ["status", "next_attempt_at"]
    )
    op.create_index(
        op.f("ix_notification_outbox_alert_id"), "notification_outbox", ["alert_id"]
    )
    op.create_table(
        "scheduler_heartbeat",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("holder", sa.String(length=255), nullable=False),
        sa.Column("started_at", store.types.UTCDateTime(), nullable=False),
        sa.Column("beat_at", store.types.UTCDateTime(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("jobs", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_scheduler_heartbeat")),
    )
    op.execute(CLOSE_DUPLICATES)
    open_only = sa.text("status = 'open'")
    op.create_index(
        "uq_alerts_one_open",
        "alerts",
        ["rule_set_id", "district_pcode"],
        unique=True,
        sqlite_where=open_only,
        postgresql_where=open_only,
    )


def downgrade() -> None:
    op.drop_index("uq_alerts_one_open", table_name="alerts")
    op.drop_table("scheduler_heartbeat")
    op.drop_index(op.f("ix_notification_outbox_alert_id"), table_name="notification_outbox")
    op.drop_index("ix_notification_outbox_due", table_name="notification_outbox")
    op.drop_table("notification_outbox")
