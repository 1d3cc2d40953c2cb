"""Drop the index on beneficiaries.programme: no query looks rows up by programme.

Targeting reads by union, exposure groups the unions an import touched (through the union
index), duplicates look up NIDs and wallets. The count per programme of `agam registry stats`
now sums `union_exposure`, which the import keeps in its own transaction. The index only cost
every import: a sort of all rows when a first load rebuilds it (0.5 s of 1 M rows on SQLite)
and an insert per new row after.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_beneficiaries_programme", table_name="beneficiaries")


def downgrade() -> None:
    op.create_index("ix_beneficiaries_programme", "beneficiaries", ["programme"])
