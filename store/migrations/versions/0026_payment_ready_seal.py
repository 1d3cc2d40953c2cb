"""The approval records the bytes it sealed; a list records the registry it pinned from.

- `decisions.sealed_sha256`: the sha256 of a payment-ready snapshot's parts, in part order,
  set by the approval that seals one (`store.payment_snapshot`). The export checks the stored
  parts against it instead of re-hashing every line (the approval hashed the same columns).
  NULL for a snapshot in rank order, which the export re-hashes as before.
- `registry_edits`: one row counting changes to beneficiaries made outside an import (an
  UPDATE that leaves `import_id` as it was, or a DELETE; imports insert, or update with their
  own id, and never delete), kept by triggers, so the registry version moves with them too.
  The count only goes up, by one at a time.
- `list_registry_pins`: the registry version (`frames.registry_version`: imports, newest
  import, outside edits) a list's payees were pinned at. An export of a list whose registry
  has not moved since skips the comparison of every pinned payee with the registry. Rows are
  written with the list and never changed.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07
"""

import importlib

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

_0024 = importlib.import_module("store.migrations.versions.0024_guards_pin_search_path")
PINNED = "the registry pin of a list is never changed or deleted"
FORWARD = "registry_edits has one row, counted up by one by the triggers on beneficiaries"
OUTSIDE_IMPORT = "NEW.import_id IS NOT DISTINCT FROM OLD.import_id"
COUNT = "UPDATE registry_edits SET edits = edits + 1 WHERE id = 1"
NOT_FORWARD = "NEW.id <> OLD.id OR NEW.edits <> OLD.edits + 1"

POSTGRES = [
    f"""CREATE FUNCTION agam_registry_edited() RETURNS trigger AS $$
    BEGIN
      {COUNT};
      RETURN NULL;
    END; $$ LANGUAGE plpgsql""",
    "CREATE TRIGGER beneficiaries_edited AFTER UPDATE ON beneficiaries FOR EACH ROW "
    f"WHEN ({OUTSIDE_IMPORT}) EXECUTE FUNCTION agam_registry_edited()",
    "CREATE TRIGGER beneficiaries_deleted AFTER DELETE OR TRUNCATE ON beneficiaries "
    "FOR EACH STATEMENT EXECUTE FUNCTION agam_registry_edited()",
    f"""CREATE FUNCTION agam_registry_edits_forward() RETURNS trigger AS $$
    BEGIN
      IF TG_OP <> 'UPDATE' OR {NOT_FORWARD} THEN
        RAISE EXCEPTION '{FORWARD}';
      END IF;
      RETURN NEW;
    END; $$ LANGUAGE plpgsql""",
    "CREATE TRIGGER registry_edits_forward BEFORE UPDATE OR DELETE ON registry_edits "
    "FOR EACH ROW EXECUTE FUNCTION agam_registry_edits_forward()",
    f"""CREATE FUNCTION agam_registry_pin_frozen() RETURNS trigger AS $$
    BEGIN
      RAISE EXCEPTION '{PINNED}';
    END; $$ LANGUAGE plpgsql""",
    "CREATE TRIGGER list_registry_pins_frozen BEFORE UPDATE OR DELETE ON list_registry_pins "
    "FOR EACH ROW EXECUTE FUNCTION agam_registry_pin_frozen()",
]
SQLITE = [
    f"""CREATE TRIGGER beneficiaries_edited AFTER UPDATE ON beneficiaries
    WHEN NEW.import_id IS OLD.import_id BEGIN {COUNT}; END""",
    f"CREATE TRIGGER beneficiaries_deleted AFTER DELETE ON beneficiaries BEGIN {COUNT}; END",
    f"""CREATE TRIGGER registry_edits_forward BEFORE UPDATE ON registry_edits
    WHEN NEW.id IS NOT OLD.id OR NEW.edits IS NOT OLD.edits + 1
    BEGIN SELECT RAISE(ABORT, '{FORWARD}'); END""",
    f"""CREATE TRIGGER registry_edits_kept BEFORE DELETE ON registry_edits
    BEGIN SELECT RAISE(ABORT, '{FORWARD}'); END""",
    f"""CREATE TRIGGER list_registry_pins_no_update BEFORE UPDATE ON list_registry_pins
    BEGIN SELECT RAISE(ABORT, '{PINNED}'); END""",
    f"""CREATE TRIGGER list_registry_pins_no_delete BEFORE DELETE ON list_registry_pins
    BEGIN SELECT RAISE(ABORT, '{PINNED}'); END""",
]


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.add_column(
        "decisions",
        sa.Column("sealed_sha256", sa.String(64), nullable=True, server_default=sa.text("NULL")),
    )
    op.create_table(
        "registry_edits",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("edits", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_registry_edits_one_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_edits")),
    )
    op.execute("INSERT INTO registry_edits (id, edits) VALUES (1, 0)")
    op.create_table(
        "list_registry_pins",
        sa.Column("list_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("registry_imports", sa.Integer(), nullable=False),
        sa.Column("newest_import_id", sa.Integer(), nullable=False),
        sa.Column("registry_edits", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["list_id"],
            ["allowance_lists.id"],
            name=op.f("fk_list_registry_pins_list_id_allowance_lists"),
        ),
        sa.PrimaryKeyConstraint("list_id", name=op.f("pk_list_registry_pins")),
    )
    for statement in POSTGRES if postgres else SQLITE:
        op.execute(statement)
    if postgres:
        _0024._pin_search_path()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS beneficiaries_edited ON beneficiaries")
        op.execute("DROP TRIGGER IF EXISTS beneficiaries_deleted ON beneficiaries")
        op.execute("DROP FUNCTION IF EXISTS agam_registry_edited()")
        op.execute("DROP TRIGGER IF EXISTS registry_edits_forward ON registry_edits")
        op.execute("DROP FUNCTION IF EXISTS agam_registry_edits_forward()")
        op.execute("DROP TRIGGER IF EXISTS list_registry_pins_frozen ON list_registry_pins")
        op.execute("DROP FUNCTION IF EXISTS agam_registry_pin_frozen()")
    else:
        op.execute("DROP TRIGGER IF EXISTS beneficiaries_edited")
        op.execute("DROP TRIGGER IF EXISTS beneficiaries_deleted")
    op.drop_table("list_registry_pins")
    op.drop_table("registry_edits")
    op.drop_column("decisions", "sealed_sha256")
