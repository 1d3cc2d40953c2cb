"""Payment results from the providers' return files, guarded by the database:

- payment_results holds at most one result per payment line (unique line_ref);
- a result moves only failed -> paid (a re-try) or paid -> reversed (keeping the payment's
  time and transaction id); a line's list, reference, household and amount never change;
- results are never deleted.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

import store.types

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

FIXED = ("list_id", "line_ref", "household_id", "amount_bdt", "first_import_id")
MOVE_OK = (
    "((OLD.status = 'failed' AND NEW.status = 'paid') OR "
    "(OLD.status = 'paid' AND NEW.status = 'reversed' AND NEW.paid_at = OLD.paid_at "
    "AND NEW.provider_txn_id IS NOT DISTINCT FROM OLD.provider_txn_id))"
)
REFUSED = "payment result may only move failed -> paid or paid -> reversed"


def _same(pg: bool) -> str:
    op_ = "IS NOT DISTINCT FROM" if pg else "IS"
    return " AND ".join(f"NEW.{c} {op_} OLD.{c}" for c in FIXED)


def _move(pg: bool) -> str:
    return MOVE_OK if pg else MOVE_OK.replace("IS NOT DISTINCT FROM", "IS")


def upgrade() -> None:
    op.create_table(
        "payment_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("imported_by", sa.String(length=64), nullable=False),
        sa.Column("imported_at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("synthetic", sa.Boolean(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["list_id"], ["allowance_lists.id"], name=op.f("fk_payment_imports_list_id_allowance_lists")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_imports")),
    )
    with op.batch_alter_table("payment_imports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payment_imports_list_id"), ["list_id"], unique=False)
    op.create_table(
        "payment_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("line_ref", sa.String(length=32), nullable=False),
        sa.Column("household_id", sa.String(length=64), nullable=False),
        sa.Column("amount_bdt", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("provider_txn_id", sa.String(length=64), nullable=True),
        sa.Column("paid_at", store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("failure_reason", sa.String(length=255), nullable=True),
        sa.Column("first_import_id", sa.Integer(), nullable=False),
        sa.Column("last_import_id", sa.Integer(), nullable=False),
        sa.Column("updated_at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('paid', 'failed', 'reversed')", name=op.f("ck_payment_results_status_known")
        ),
        sa.CheckConstraint(
            "status = 'failed' OR paid_at IS NOT NULL",
            name=op.f("ck_payment_results_paid_has_time"),
        ),
        sa.CheckConstraint(
            "status = 'paid' OR (failure_reason IS NOT NULL AND length(failure_reason) > 0)",
            name=op.f("ck_payment_results_failure_has_reason"),
        ),
        sa.CheckConstraint("amount_bdt > 0", name=op.f("ck_payment_results_amount_positive")),
        sa.ForeignKeyConstraint(
            ["list_id"], ["allowance_lists.id"], name=op.f("fk_payment_results_list_id_allowance_lists")
        ),
        sa.ForeignKeyConstraint(
            ["first_import_id"],
            ["payment_imports.id"],
            name=op.f("fk_payment_results_first_import_id_payment_imports"),
        ),
        sa.ForeignKeyConstraint(
            ["last_import_id"],
            ["payment_imports.id"],
            name=op.f("fk_payment_results_last_import_id_payment_imports"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_results")),
        sa.UniqueConstraint("line_ref", name="one_result_per_line"),
    )
    with op.batch_alter_table("payment_results", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payment_results_list_id"), ["list_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_payment_results_household_id"), ["household_id"], unique=False
        )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION agam_payment_result_guard() RETURNS trigger AS $$ BEGIN "
            "IF TG_OP = 'DELETE' THEN RAISE EXCEPTION 'payment results are never deleted'; "
            "END IF; "
            f"IF NOT ({_same(True)} AND {_move(True)}) THEN RAISE EXCEPTION '{REFUSED}'; "
            "END IF; RETURN NEW; END; $$ LANGUAGE plpgsql"
        )
        op.execute(
            "CREATE TRIGGER payment_results_guard BEFORE UPDATE OR DELETE ON payment_results "
            "FOR EACH ROW EXECUTE FUNCTION agam_payment_result_guard()"
        )
        return
    op.execute(
        "CREATE TRIGGER payment_results_move BEFORE UPDATE ON payment_results "
        f"WHEN NOT ({_same(False)} AND {_move(False)}) "
        f"BEGIN SELECT RAISE(ABORT, '{REFUSED}'); END"
    )
    op.execute(
        "CREATE TRIGGER payment_results_no_delete BEFORE DELETE ON payment_results "
        "BEGIN SELECT RAISE(ABORT, 'payment results are never deleted'); END"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS payment_results_guard ON payment_results")
        op.execute("DROP FUNCTION IF EXISTS agam_payment_result_guard()")
    else:
        op.execute("DROP TRIGGER IF EXISTS payment_results_move")
        op.execute("DROP TRIGGER IF EXISTS payment_results_no_delete")
    op.drop_table("payment_results")
    op.drop_table("payment_imports")
