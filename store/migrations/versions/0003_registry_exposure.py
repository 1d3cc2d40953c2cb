"""Registry quarantine and union exposure.

- registry_quarantine: rows left out of a quarantine-mode registry import (file row, field,
  reason; never the values);
- union_exposure: households / beneficiaries per union and programme with vulnerability-flag
  household counts, recomputed after every import.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

import store.types

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "registry_quarantine",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["registry_imports.id"],
            name=op.f("fk_registry_quarantine_import_id_registry_imports"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_quarantine")),
    )
    with op.batch_alter_table("registry_quarantine", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_registry_quarantine_import_id"), ["import_id"], unique=False
        )

    op.create_table(
        "union_exposure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("adm4_pcode", sa.String(length=16), nullable=False),
        sa.Column("programme", sa.String(length=32), nullable=False),
        sa.Column("households", sa.Integer(), nullable=False),
        sa.Column("beneficiaries", sa.Integer(), nullable=False),
        sa.Column("households_female_headed", sa.Integer(), nullable=False),
        sa.Column("households_disability", sa.Integer(), nullable=False),
        sa.Column("households_elderly", sa.Integer(), nullable=False),
        sa.Column("households_pregnant_lactating", sa.Integer(), nullable=False),
        sa.Column("households_children_under5", sa.Integer(), nullable=False),
        sa.Column("households_char_resident", sa.Integer(), nullable=False),
        sa.Column("as_of_year", sa.Integer(), nullable=False),
        sa.Column("computed_at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("source_import_ids", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_union_exposure")),
        sa.UniqueConstraint("adm4_pcode", "programme", name="union_programme"),
    )
    with op.batch_alter_table("union_exposure", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_union_exposure_adm4_pcode"), ["adm4_pcode"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("union_exposure", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_union_exposure_adm4_pcode"))
    op.drop_table("union_exposure")
    with op.batch_alter_table("registry_quarantine", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_registry_quarantine_import_id"))
    op.drop_table("registry_quarantine")
