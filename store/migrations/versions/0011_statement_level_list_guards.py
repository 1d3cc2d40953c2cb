"""PostgreSQL: the guards that freeze the lines and payees of a submitted or decided list
check each statement once instead of each row.

The row-level BEFORE triggers of 0002 and 0005 ran a PL/pgSQL function and a query for every
line: about 6 µs a row, 1.1 s of a 175,000-household proposal's payee snapshot alone. The
statement-level AFTER triggers here see all the rows a statement touched (a transition table)
and refuse the whole statement if any of them belongs to a list that is not a draft. What is
refused is unchanged: inserting, updating or deleting lines or payees of such a list (an
update is judged by the list the row was in). SQLite keeps its row triggers (it has no
statement-level ones).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

GUARDED = {"allowance_lines": "lines", "allowance_payees": "payees"}
EVENTS = {"insert": "NEW", "update": "OLD", "delete": "OLD"}

FUNCTION = """CREATE FUNCTION agam_rows_frozen() RETURNS trigger AS $$
    BEGIN
      IF EXISTS (SELECT 1 FROM changed c JOIN allowance_lists l ON l.id = c.list_id
                 WHERE l.status <> 'draft') THEN
        RAISE EXCEPTION '% of a submitted or decided list are frozen', TG_ARGV[0];
      END IF;
      RETURN NULL;
    END; $$ LANGUAGE plpgsql"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(FUNCTION)
    for table, what in GUARDED.items():
        op.execute(f"DROP TRIGGER IF EXISTS {table}_guard ON {table}")
        for event, side in EVENTS.items():
            op.execute(
                f"CREATE TRIGGER {table}_frozen_{event} AFTER {event.upper()} ON {table} "
                f"REFERENCING {side} TABLE AS changed FOR EACH STATEMENT "
                f"EXECUTE FUNCTION agam_rows_frozen('{what}')"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in GUARDED:
        for event in EVENTS:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_frozen_{event} ON {table}")
        op.execute(
            f"CREATE TRIGGER {table}_guard BEFORE INSERT OR UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION agam_line_guard()"
        )
    op.execute("DROP FUNCTION IF EXISTS agam_rows_frozen()")
