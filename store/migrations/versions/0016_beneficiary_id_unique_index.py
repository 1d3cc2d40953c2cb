"""Beneficiary ids unique by a named index instead of a table constraint.

On SQLite a UNIQUE constraint is part of the table and cannot be dropped, so a first load
kept it in place and inserted every id into it one by one. With ids in file order that is
cheap; with ids in any other order (a real registry's MIS numbers) it was the largest part
of a 10 M-household load (write rows 55 s instead of 20 s). A unique index is the same
guarantee, and a first load drops and rebuilds it by one sort, like the table's other
indexes (the file check has already refused ids repeated in the file).

SQLite rebuilds the table: a copy of its rows, once (10 M households took 142 s here, and the
file keeps the old table's pages for reuse). PostgreSQL swaps the constraint for an index in
place.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05
"""

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

CONSTRAINT = "uq_beneficiaries_beneficiary_id"
INDEX = "ix_beneficiaries_beneficiary_id"


def upgrade() -> None:
    with op.batch_alter_table("beneficiaries", recreate="auto") as batch_op:
        batch_op.drop_constraint(CONSTRAINT, type_="unique")
        batch_op.create_index(INDEX, ["beneficiary_id"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("beneficiaries", recreate="auto") as batch_op:
        batch_op.drop_index(INDEX)
        batch_op.create_unique_constraint(CONSTRAINT, ["beneficiary_id"])
