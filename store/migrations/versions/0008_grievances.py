"""The grievance register and its append-only history, guarded by the database:

- status moves only open -> in_progress -> resolved / referred / rejected (the table in
  allowances/grievances.py); a closed grievance is frozen; grievances are never deleted;
- closing needs a time and a reason; a complainant phone is 11 digits or nothing;
- grievance_events refuses UPDATE and DELETE.

Revision ID: 0008
Revises: 0004
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

import store.types

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

STATUSES = "('open','in_progress','resolved','referred','rejected')"
CLOSED = "('resolved','referred','rejected')"
CATEGORIES = (
    "('exclusion','inclusion_error','non_payment','wrong_amount','data_correction',"
    "'conduct','other')"
)
CHANNELS = "('hotline','union_digital_centre','civil_society','office','other')"
# The allowed status moves (old -> new); staying in the same open status is always fine.
MOVE_OK = (
    "(OLD.status = NEW.status AND OLD.status IN ('open','in_progress')) "
    "OR (OLD.status = 'open' AND NEW.status = 'in_progress') "
    f"OR (OLD.status = 'in_progress' AND NEW.status IN {CLOSED})"
)

SQLITE = [
    f"""CREATE TRIGGER grievances_status_move BEFORE UPDATE ON grievances
    WHEN NOT ({MOVE_OK})
    BEGIN SELECT RAISE(ABORT, 'grievance status change not allowed (closed grievances are frozen)'); END""",
    """CREATE TRIGGER grievances_no_delete BEFORE DELETE ON grievances
    BEGIN SELECT RAISE(ABORT, 'grievances are never deleted'); END""",
    """CREATE TRIGGER grievance_events_no_update BEFORE UPDATE ON grievance_events
    BEGIN SELECT RAISE(ABORT, 'grievance_events is append-only'); END""",
    """CREATE TRIGGER grievance_events_no_delete BEFORE DELETE ON grievance_events
    BEGIN SELECT RAISE(ABORT, 'grievance_events is append-only'); END""",
]
SQLITE_NAMES = [
    "grievances_status_move",
    "grievances_no_delete",
    "grievance_events_no_update",
    "grievance_events_no_delete",
]
POSTGRES = [
    f"""CREATE FUNCTION agam_grievance_guard() RETURNS trigger AS $$
    BEGIN
      IF TG_OP = 'DELETE' THEN RAISE EXCEPTION 'grievances are never deleted'; END IF;
      IF NOT ({MOVE_OK}) THEN
        RAISE EXCEPTION 'grievance status change not allowed (closed grievances are frozen)';
      END IF;
      RETURN NEW;
    END; $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER grievances_guard BEFORE UPDATE OR DELETE ON grievances
    FOR EACH ROW EXECUTE FUNCTION agam_grievance_guard()""",
    """CREATE TRIGGER grievance_events_append_only BEFORE UPDATE OR DELETE ON grievance_events
    FOR EACH ROW EXECUTE FUNCTION agam_append_only()""",
]


def upgrade() -> None:
    op.create_table(
        "grievances",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("received_at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("partner", sa.String(length=128), nullable=True),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("district_pcode", sa.String(length=16), nullable=False),
        sa.Column("adm4_pcode", sa.String(length=16), nullable=False),
        sa.Column("household_id", sa.String(length=64), nullable=True),
        sa.Column("alert_id", sa.Integer(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("complainant_name", sa.String(length=128), nullable=True),
        sa.Column("complainant_phone", sa.String(length=11), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("assigned_to", sa.String(length=64), nullable=True),
        sa.Column("sla_hours", sa.Integer(), nullable=False),
        sa.Column("due_at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closing_reason", sa.Text(), nullable=True),
        sa.Column("updated_at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(f"status IN {STATUSES}", name=op.f("ck_grievances_status_known")),
        sa.CheckConstraint(
            f"category IN {CATEGORIES}", name=op.f("ck_grievances_category_known")
        ),
        sa.CheckConstraint(f"channel IN {CHANNELS}", name=op.f("ck_grievances_channel_known")),
        sa.CheckConstraint(
            "status IN ('open','in_progress') OR (closed_at IS NOT NULL AND "
            "closing_reason IS NOT NULL AND length(closing_reason) > 0)",
            name=op.f("ck_grievances_closed_with_reason"),
        ),
        sa.CheckConstraint(
            "complainant_phone IS NULL OR length(complainant_phone) = 11",
            name=op.f("ck_grievances_phone_11_digits"),
        ),
        sa.CheckConstraint("sla_hours > 0", name=op.f("ck_grievances_sla_positive")),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["alerts.id"], name=op.f("fk_grievances_alert_id_alerts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grievances")),
    )
    with op.batch_alter_table("grievances", schema=None) as batch_op:
        batch_op.create_index(
            "ix_grievances_district_status", ["district_pcode", "status"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_grievances_household_id"), ["household_id"], unique=False
        )
    op.create_table(
        "grievance_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("grievance_id", sa.Integer(), nullable=False),
        sa.Column("at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("assigned_to", sa.String(length=64), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["grievance_id"],
            ["grievances.id"],
            name=op.f("fk_grievance_events_grievance_id_grievances"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grievance_events")),
    )
    with op.batch_alter_table("grievance_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_grievance_events_grievance_id"), ["grievance_id"], unique=False
        )
    statements = POSTGRES if op.get_bind().dialect.name == "postgresql" else SQLITE
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS grievance_events_append_only ON grievance_events")
        op.execute("DROP TRIGGER IF EXISTS grievances_guard ON grievances")
        op.execute("DROP FUNCTION IF EXISTS agam_grievance_guard()")
    else:
        for name in SQLITE_NAMES:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_table("grievance_events")
    op.drop_table("grievances")
