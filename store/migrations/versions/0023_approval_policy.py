"""How many administrators approve a list is kept in the store, and the database holds to it.

`[allowances] second_approval` was read from the config of whoever ran the command, so a
lone district administrator could approve with a config that said one approval while the
deployment's said two. Now the store holds the number (`approval_policy`, one row, 1 or 2):
a config that says two raises it on its first decision, only an admin lowers it
(`agam lists approvals one`, audited), and an approval that would make a list approved
without a first approval by another administrator is refused by the database when the
store says two. The row is never deleted.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import store.types

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

TWO_NEEDED = "decision: this store requires two approvals; a list needs a first approval first"
KEPT = "the approval policy row is never deleted"
NEEDS_FIRST = (
    "NEW.action = 'approve' "
    "AND (SELECT approvals_required FROM approval_policy WHERE id = 1) = 2 "
    "AND (SELECT approved_by FROM allowance_lists WHERE id = NEW.list_id) IS NULL"
)

POSTGRES = [
    f"""CREATE FUNCTION agam_decision_approvals() RETURNS trigger AS $$
    BEGIN
      IF {NEEDS_FIRST} THEN
        RAISE EXCEPTION '{TWO_NEEDED}';
      END IF;
      RETURN NEW;
    END; $$ LANGUAGE plpgsql""",
    "CREATE TRIGGER decisions_approvals BEFORE INSERT ON decisions "
    "FOR EACH ROW EXECUTE FUNCTION agam_decision_approvals()",
    f"""CREATE FUNCTION agam_approval_policy_kept() RETURNS trigger AS $$
    BEGIN
      RAISE EXCEPTION '{KEPT}';
    END; $$ LANGUAGE plpgsql""",
    "CREATE TRIGGER approval_policy_kept BEFORE DELETE ON approval_policy "
    "FOR EACH ROW EXECUTE FUNCTION agam_approval_policy_kept()",
]
SQLITE = [
    f"""CREATE TRIGGER decisions_approvals BEFORE INSERT ON decisions
    WHEN {NEEDS_FIRST}
    BEGIN SELECT RAISE(ABORT, '{TWO_NEEDED}'); END""",
    f"""CREATE TRIGGER approval_policy_kept BEFORE DELETE ON approval_policy
    BEGIN SELECT RAISE(ABORT, '{KEPT}'); END""",
]


def upgrade() -> None:
    table = op.create_table(
        "approval_policy",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("approvals_required", sa.Integer(), nullable=False),
        sa.Column("set_by", sa.String(length=64), nullable=False),
        sa.Column("set_at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_approval_policy_one_row")),
        sa.CheckConstraint(
            "approvals_required IN (1, 2)", name=op.f("ck_approval_policy_one_or_two")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approval_policy")),
    )
    op.bulk_insert(
        table,
        [{"id": 1, "approvals_required": 1, "set_by": "migration", "set_at": datetime.now(UTC)}],
    )
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in POSTGRES if postgres else SQLITE:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS decisions_approvals ON decisions")
        op.execute("DROP FUNCTION IF EXISTS agam_decision_approvals()")
        op.execute("DROP TRIGGER IF EXISTS approval_policy_kept ON approval_policy")
        op.execute("DROP FUNCTION IF EXISTS agam_approval_policy_kept()")
    else:
        op.execute("DROP TRIGGER IF EXISTS decisions_approvals")
    op.drop_table("approval_policy")
