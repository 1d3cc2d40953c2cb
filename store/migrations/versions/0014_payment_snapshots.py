"""Payment snapshots: an approved list's lines and pinned payees, sealed at approval.

The approval reads every line with its payee once, checks the content hash, and stores the
same text columns as Arrow IPC parts in `payment_snapshots`, in its own transaction. The
export then reads these parts instead of joining a million lines to their payees again, and
re-computes the content hash from them. The guards, on SQLite and PostgreSQL alike:

- a part is written only while its list is approved, naming the list's approved hash;
- a part is never changed or deleted.

A part added later while the list is still approved changes the hash the export re-computes,
and the export refuses. Lists approved before this revision have no snapshot; they are
exported from their lines as before.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

import store.types

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

NOT_SEALABLE = "a payment snapshot is sealed only for an approved list, with its approved hash"
SEALED = "payment snapshots are never changed or deleted"
SEALABLE = (
    "EXISTS (SELECT 1 FROM allowance_lists l WHERE l.id = NEW.list_id "
    "AND l.status = 'approved' AND l.content_sha256 = NEW.content_sha256)"
)
POSTGRES = [
    f"""CREATE FUNCTION agam_payment_snapshot_guard() RETURNS trigger AS $$
    BEGIN
      IF TG_OP <> 'INSERT' THEN
        RAISE EXCEPTION '{SEALED}';
      END IF;
      IF NOT {SEALABLE} THEN
        RAISE EXCEPTION '{NOT_SEALABLE}';
      END IF;
      RETURN NEW;
    END; $$ LANGUAGE plpgsql""",
    "CREATE TRIGGER payment_snapshots_guard BEFORE INSERT OR UPDATE OR DELETE "
    "ON payment_snapshots FOR EACH ROW EXECUTE FUNCTION agam_payment_snapshot_guard()",
]
SQLITE = [
    f"""CREATE TRIGGER payment_snapshots_sealable BEFORE INSERT ON payment_snapshots
    WHEN NOT {SEALABLE}
    BEGIN SELECT RAISE(ABORT, '{NOT_SEALABLE}'); END""",
    f"""CREATE TRIGGER payment_snapshots_no_update BEFORE UPDATE ON payment_snapshots
    BEGIN SELECT RAISE(ABORT, '{SEALED}'); END""",
    f"""CREATE TRIGGER payment_snapshots_no_delete BEFORE DELETE ON payment_snapshots
    BEGIN SELECT RAISE(ABORT, '{SEALED}'); END""",
]


def upgrade() -> None:
    op.create_table(
        "payment_snapshots",
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("part", sa.Integer(), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("line_rows", sa.Integer(), nullable=False),
        sa.Column("arrow_ipc", sa.LargeBinary(), nullable=False),
        sa.Column("sealed_at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("list_id", "part", name=op.f("pk_payment_snapshots")),
    )
    statements = POSTGRES if op.get_bind().dialect.name == "postgresql" else SQLITE
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS payment_snapshots_guard ON payment_snapshots")
        op.execute("DROP FUNCTION IF EXISTS agam_payment_snapshot_guard()")
    op.drop_table("payment_snapshots")
