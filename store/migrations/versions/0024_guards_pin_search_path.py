"""The guards read only the store's own tables, and a payment result names a line it pays.

PostgreSQL looks a table name up along the session's `search_path`, and a session's temporary
schema comes first for tables unless the path names it. The app role may create temporary
tables (a registry import stages rows in one), so before this revision it could shadow
`allowance_lists` with a temporary copy saying "draft" and add lines and payees to an
approved list, shadow `payment_results` to export a paid list again, or `approval_policy` to
approve once where the store requires two: the guard functions read the copies. Now every
function in the schema searches the schema first and the temporary schema last
(`SET search_path = <schema>, pg_temp`); a table of the schema can no longer be shadowed.
`CREATE OR REPLACE FUNCTION` drops the setting: a migration that re-creates a function must
pin it again (tests/lists/test_guard_search_path.py checks every function at head).

Payment results and imports are checked by the database too, on SQLite and PostgreSQL alike:

- a payment import is written whole and never changed or deleted (the app role's grant was
  already insert-only; an import that set its summary afterwards failed on PostgreSQL);

- a payment import is recorded only for an approved or exported list (what the import
  accepts, allowances/payment_results.py);
- a payment result names an included line of its list, with that line's household and
  amount, on such a list; before, any row was accepted, and a forged "paid" result for a
  household on no list counted as paid in the activation (no second payment) and in the totals.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

PAYING = "('approved', 'exported')"
NO_LINE = (
    "a payment result names an included line of its approved or exported list, "
    "with its household and amount"
)
NO_LIST = "a payment import is recorded only for an approved or exported list"


def _fits(row: str, paying: str) -> str:
    return (
        "EXISTS (SELECT 1 FROM allowance_lines l JOIN allowance_lists s ON s.id = l.list_id "
        f"WHERE l.line_ref = {row}.line_ref AND l.list_id = {row}.list_id "
        f"AND l.household_id = {row}.household_id AND l.amount_bdt = {row}.amount_bdt "
        f"AND l.included AND s.status IN {paying})"
    )


def _paying(row: str, paying: str) -> str:
    return (
        f"EXISTS (SELECT 1 FROM allowance_lists s WHERE s.id = {row}.list_id "
        f"AND s.status IN {paying})"
    )


def check_functions(paying: str, no_line: str, no_list: str, create: str = "CREATE") -> list[str]:
    """PostgreSQL: the functions checking results and imports against lists in `paying`."""
    return [
        f"""{create} FUNCTION agam_payment_results_fit() RETURNS trigger AS $$
    BEGIN
      IF EXISTS (SELECT 1 FROM added a WHERE NOT {_fits("a", paying)}) THEN
        RAISE EXCEPTION '{no_line}';
      END IF;
      RETURN NULL;
    END; $$ LANGUAGE plpgsql""",
        f"""{create} FUNCTION agam_payment_import_fits() RETURNS trigger AS $$
    BEGIN
      IF NOT {_paying("NEW", paying)} THEN
        RAISE EXCEPTION '{no_list}';
      END IF;
      RETURN NEW;
    END; $$ LANGUAGE plpgsql""",
    ]


def check_triggers(paying: str, no_line: str, no_list: str) -> list[str]:
    """SQLite: the triggers checking results and imports against lists in `paying`."""
    return [
        f"""CREATE TRIGGER payment_results_fit BEFORE INSERT ON payment_results
    WHEN NOT {_fits("NEW", paying)}
    BEGIN SELECT RAISE(ABORT, '{no_line}'); END""",
        f"""CREATE TRIGGER payment_imports_fit BEFORE INSERT ON payment_imports
    WHEN NOT {_paying("NEW", paying)}
    BEGIN SELECT RAISE(ABORT, '{no_list}'); END""",
    ]


POSTGRES = [
    *check_functions(PAYING, NO_LINE, NO_LIST),
    "CREATE TRIGGER payment_results_fit AFTER INSERT ON payment_results "
    "REFERENCING NEW TABLE AS added FOR EACH STATEMENT "
    "EXECUTE FUNCTION agam_payment_results_fit()",
    "CREATE TRIGGER payment_imports_fit BEFORE INSERT ON payment_imports "
    "FOR EACH ROW EXECUTE FUNCTION agam_payment_import_fits()",
    "CREATE TRIGGER payment_imports_append_only BEFORE UPDATE OR DELETE ON payment_imports "
    "FOR EACH ROW EXECUTE FUNCTION agam_append_only()",
]
SQLITE = [
    *check_triggers(PAYING, NO_LINE, NO_LIST),
    *(
        f"""CREATE TRIGGER payment_imports_no_{verb.lower()} BEFORE {verb} ON payment_imports
        BEGIN SELECT RAISE(ABORT, 'payment_imports is append-only'); END"""
        for verb in ("UPDATE", "DELETE")
    ),
]
# Every PL/pgSQL function of the schema the migration runs in (the store's tables' schema).
SCHEMA_FUNCTIONS = sa.text(
    "SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_language g ON g.oid = p.prolang "
    "WHERE p.pronamespace = current_schema()::regnamespace AND g.lanname = 'plpgsql' "
    "ORDER BY 1"
)


def _functions() -> list[str]:
    return list(op.get_bind().execute(SCHEMA_FUNCTIONS).scalars())


def _pin_search_path() -> None:
    schema = op.get_bind().execute(sa.text("SELECT quote_ident(current_schema())")).scalar_one()
    for function in _functions():
        op.execute(f"ALTER FUNCTION {function} SET search_path = {schema}, pg_temp")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRES:
            op.execute(statement)
        _pin_search_path()
        return
    for statement in SQLITE:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS payment_imports_append_only ON payment_imports")
        op.execute("DROP TRIGGER IF EXISTS payment_imports_fit ON payment_imports")
        op.execute("DROP TRIGGER IF EXISTS payment_results_fit ON payment_results")
        op.execute("DROP FUNCTION IF EXISTS agam_payment_import_fits()")
        op.execute("DROP FUNCTION IF EXISTS agam_payment_results_fit()")
        for function in _functions():
            op.execute(f"ALTER FUNCTION {function} RESET search_path")
        return
    for name in ("fit", "no_update", "no_delete"):
        op.execute(f"DROP TRIGGER IF EXISTS payment_imports_{name}")
    op.execute("DROP TRIGGER IF EXISTS payment_results_fit")
