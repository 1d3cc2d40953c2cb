"""Drop two indexes that only duplicated a unique constraint's leading column:

- ix_allowance_lines_list_id: one_payment_per_hh is UNIQUE (list_id, household_id);
- ix_allowance_payees_list_id: one_payee_per_line is UNIQUE (list_id, rank).

Every lookup by list_id uses the unique index; the extra B-tree only cost each proposed line
an index insert (about 0.6 s of a 175,000-household list on SQLite).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

REDUNDANT = (
    ("ix_allowance_lines_list_id", "allowance_lines"),
    ("ix_allowance_payees_list_id", "allowance_payees"),
)


def upgrade() -> None:
    for name, table in REDUNDANT:
        op.drop_index(name, table_name=table)


def downgrade() -> None:
    for name, table in REDUNDANT:
        op.create_index(name, table, ["list_id"])
