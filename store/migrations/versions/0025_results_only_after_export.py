"""Payment results only for a list whose payment files were prepared.

A provider returns what it was sent. Results were accepted for an approved list that was
never exported: an officer could record households as paid (so no later list pays them)
without a file ever leaving Agam, and the list could then never be exported (0022 refuses
an export once results exist). The import and every result now need an exported list, in
the application (`allowances.payment_results.ACCEPTS_RESULTS`) and in the database.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07
"""

import importlib

from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

_0024 = importlib.import_module("store.migrations.versions.0024_guards_pin_search_path")
NO_LINE = (
    "a payment result names an included line of its exported list, with its household and amount"
)
NO_LIST = "a payment import is recorded only for a list whose payment files were prepared"


def _statements(status: str, no_line: str, no_list: str) -> tuple[list[str], list[str]]:
    """0024's triggers with `status` as the list status that pays (PostgreSQL, SQLite)."""
    paying = f"('{status}')" if status == "exported" else "('approved', 'exported')"
    swap = {_0024.PAYING: paying, _0024.NO_LINE: no_line, _0024.NO_LIST: no_list}

    def changed(statement: str) -> str:
        for old, new in swap.items():
            statement = statement.replace(old, new)
        return statement

    postgres = [changed(s).replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1)
                for s in _0024.POSTGRES if s.startswith("CREATE FUNCTION")]  # fmt: skip
    sqlite = [changed(s) for s in _0024.SQLITE if "_fit " in s]
    return postgres, sqlite


def _apply(status: str, no_line: str, no_list: str) -> None:
    postgres, sqlite = _statements(status, no_line, no_list)
    if op.get_bind().dialect.name == "postgresql":
        for statement in postgres:  # CREATE OR REPLACE drops the function's search_path
            op.execute(statement)
        _0024._pin_search_path()
        return
    for name in ("payment_results_fit", "payment_imports_fit"):
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    for statement in sqlite:
        op.execute(statement)


def upgrade() -> None:
    _apply("exported", NO_LINE, NO_LIST)


def downgrade() -> None:
    _apply("approved", _0024.NO_LINE, _0024.NO_LIST)
