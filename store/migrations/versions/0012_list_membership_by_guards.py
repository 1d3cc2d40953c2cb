"""Lines and payees belong to an existing list by the guards, not a foreign key; a line or
payee can no longer be moved into a frozen list.

A foreign key is checked row by row: on PostgreSQL one referential-integrity query per line
(about 1.5 s of a 175,000-household proposal's lines alone), on SQLite a lookup per row. The
guards already look up each row's list to refuse changes to a non-draft list, so they now
also refuse a row whose list does not exist:

- PostgreSQL: the statement-level triggers of 0011 check the rows a statement adds (insert,
  and the new side of an update) once per statement, and hold the lists they name with
  FOR SHARE until the transaction ends (as the foreign key held them, and so a list cannot
  be submitted while lines are still being added to it);
- SQLite: its row triggers (its only kind) check the same per row.

Before, an update was judged by the list the row was in, so a draft's line could be moved into
an approved list; now the list it moves to must be a draft too. A list that has lines or payees
cannot be deleted and no list's id can change (what the foreign key refused).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

GUARDED = {"allowance_lines": "lines", "allowance_payees": "payees"}
FOREIGN_KEYS = {table: f"fk_{table}_list_id_allowance_lists" for table in GUARDED}

POSTGRES_ROWS = """CREATE OR REPLACE FUNCTION agam_rows_frozen() RETURNS trigger AS $$
    DECLARE
      missing boolean;
      frozen boolean;
    BEGIN
      IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM 1 FROM allowance_lists WHERE id IN (SELECT list_id FROM added) FOR SHARE;
        SELECT bool_or(l.id IS NULL), bool_or(l.status <> 'draft') INTO missing, frozen
          FROM added a LEFT JOIN allowance_lists l ON l.id = a.list_id;
        IF missing THEN
          RAISE EXCEPTION '% must belong to an existing allowance list', TG_ARGV[0];
        END IF;
        IF frozen THEN
          RAISE EXCEPTION '% of a submitted or decided list are frozen', TG_ARGV[0];
        END IF;
      END IF;
      IF TG_OP IN ('UPDATE', 'DELETE') THEN
        IF EXISTS (SELECT 1 FROM removed r JOIN allowance_lists l ON l.id = r.list_id
                   WHERE l.status <> 'draft') THEN
          RAISE EXCEPTION '% of a submitted or decided list are frozen', TG_ARGV[0];
        END IF;
      END IF;
      RETURN NULL;
    END; $$ LANGUAGE plpgsql"""
POSTGRES_TRANSITIONS = {
    "insert": "NEW TABLE AS added",
    "update": "OLD TABLE AS removed NEW TABLE AS added",
    "delete": "OLD TABLE AS removed",
}
OLD_TRANSITIONS = {
    "insert": "NEW TABLE AS changed",
    "update": "OLD TABLE AS changed",
    "delete": "OLD TABLE AS changed",
}
OLD_FUNCTION = """CREATE OR REPLACE FUNCTION agam_rows_frozen() RETURNS trigger AS $$
    BEGIN
      IF EXISTS (SELECT 1 FROM changed c JOIN allowance_lists l ON l.id = c.list_id
                 WHERE l.status <> 'draft') THEN
        RAISE EXCEPTION '% of a submitted or decided list are frozen', TG_ARGV[0];
      END IF;
      RETURN NULL;
    END; $$ LANGUAGE plpgsql"""
POSTGRES_LISTS = [
    """CREATE FUNCTION agam_list_keeps_rows() RETURNS trigger AS $$
    BEGIN
      IF TG_OP = 'DELETE' THEN
        IF EXISTS (SELECT 1 FROM allowance_lines WHERE list_id = OLD.id)
           OR EXISTS (SELECT 1 FROM allowance_payees WHERE list_id = OLD.id) THEN
          RAISE EXCEPTION 'an allowance list with lines or payees cannot be deleted';
        END IF;
        RETURN OLD;
      END IF;
      IF NEW.id <> OLD.id THEN
        RAISE EXCEPTION 'an allowance list keeps its id';
      END IF;
      RETURN NEW;
    END; $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER allowance_lists_keep_rows BEFORE DELETE OR UPDATE OF id
    ON allowance_lists FOR EACH ROW EXECUTE FUNCTION agam_list_keeps_rows()""",
]


def _status(row: str) -> str:
    return f"(SELECT status FROM allowance_lists WHERE id = {row}.list_id)"


def _sqlite_rows(table: str, what: str) -> list[str]:
    """Insert: the new row's list exists and is a draft; update: the old and the new list
    are drafts; delete: the old list is. WHEN keeps the usual case to one lookup a row."""
    missing = f"SELECT RAISE(ABORT, '{what} must belong to an existing allowance list') "
    frozen = f"SELECT RAISE(ABORT, '{what} of a submitted or decided list are frozen');"
    return [
        f"""CREATE TRIGGER {table}_frozen_insert BEFORE INSERT ON {table}
    WHEN coalesce({_status("NEW")}, '') <> 'draft'
    BEGIN {missing}WHERE {_status("NEW")} IS NULL; {frozen} END""",
        f"""CREATE TRIGGER {table}_frozen_update BEFORE UPDATE ON {table}
    WHEN {_status("OLD")} <> 'draft' OR coalesce({_status("NEW")}, '') <> 'draft'
    BEGIN {missing}WHERE {_status("NEW")} IS NULL; {frozen} END""",
        f"""CREATE TRIGGER {table}_frozen_delete BEFORE DELETE ON {table}
    WHEN {_status("OLD")} <> 'draft'
    BEGIN {frozen} END""",
    ]


def _sqlite_old_rows(table: str, what: str) -> list[str]:
    frozen = f"SELECT RAISE(ABORT, '{what} of a submitted or decided list are frozen');"
    return [
        f"""CREATE TRIGGER {table}_frozen_{verb.lower()} BEFORE {verb} ON {table}
    WHEN {_status(row)} <> 'draft'
    BEGIN {frozen} END"""
        for verb, row in (("INSERT", "NEW"), ("UPDATE", "OLD"), ("DELETE", "OLD"))
    ]


SQLITE_LISTS = [
    """CREATE TRIGGER allowance_lists_keep_rows BEFORE DELETE ON allowance_lists
    WHEN EXISTS (SELECT 1 FROM allowance_lines WHERE list_id = OLD.id)
      OR EXISTS (SELECT 1 FROM allowance_payees WHERE list_id = OLD.id)
    BEGIN SELECT RAISE(ABORT, 'an allowance list with lines or payees cannot be deleted'); END""",
    """CREATE TRIGGER allowance_lists_same_id BEFORE UPDATE OF id ON allowance_lists
    WHEN NEW.id <> OLD.id
    BEGIN SELECT RAISE(ABORT, 'an allowance list keeps its id'); END""",
]


def _postgres_row_triggers(table: str, what: str, transitions: dict[str, str]) -> None:
    """The statement-level guards of `table`, one per event, seeing `transitions`."""
    for event, clause in transitions.items():
        op.execute(f"DROP TRIGGER IF EXISTS {table}_frozen_{event} ON {table}")
        op.execute(
            f"CREATE TRIGGER {table}_frozen_{event} AFTER {event.upper()} ON {table} "
            f"REFERENCING {clause} FOR EACH STATEMENT "
            f"EXECUTE FUNCTION agam_rows_frozen('{what}')"
        )


def _drop_sqlite_row_triggers(table: str) -> None:
    for event in ("insert", "update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS {table}_frozen_{event}")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table, name in FOREIGN_KEYS.items():
            op.drop_constraint(name, table, type_="foreignkey")
        op.execute(POSTGRES_ROWS)
        for table, what in GUARDED.items():
            _postgres_row_triggers(table, what, POSTGRES_TRANSITIONS)
        for statement in POSTGRES_LISTS:
            op.execute(statement)
        return
    for table, what in GUARDED.items():
        _drop_sqlite_row_triggers(table)
        # SQLite drops a foreign key only by copying the table (its triggers go with it).
        with op.batch_alter_table(table, recreate="always") as batch:
            batch.drop_constraint(FOREIGN_KEYS[table], type_="foreignkey")
        for statement in _sqlite_rows(table, what):
            op.execute(statement)
    for statement in SQLITE_LISTS:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS allowance_lists_keep_rows ON allowance_lists")
        op.execute("DROP FUNCTION IF EXISTS agam_list_keeps_rows()")
        op.execute(OLD_FUNCTION)
        for table, what in GUARDED.items():
            _postgres_row_triggers(table, what, OLD_TRANSITIONS)
            op.create_foreign_key(FOREIGN_KEYS[table], table, "allowance_lists", ["list_id"], ["id"])
        return
    op.execute("DROP TRIGGER IF EXISTS allowance_lists_keep_rows")
    op.execute("DROP TRIGGER IF EXISTS allowance_lists_same_id")
    for table, what in GUARDED.items():
        _drop_sqlite_row_triggers(table)
        with op.batch_alter_table(table, recreate="always") as batch:
            batch.create_foreign_key(FOREIGN_KEYS[table], "allowance_lists", ["list_id"], ["id"])
        for statement in _sqlite_old_rows(table, what):
            op.execute(statement)
