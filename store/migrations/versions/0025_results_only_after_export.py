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


def _apply(paying: str, no_line: str, no_list: str) -> None:
    """0024's checks of results and imports, with `paying` as the statuses that pay."""
    if op.get_bind().dialect.name == "postgresql":
        for statement in _0024.check_functions(paying, no_line, no_list, "CREATE OR REPLACE"):
            op.execute(statement)
        _0024._pin_search_path()  # CREATE OR REPLACE drops a function's search_path
        return
    for name in ("payment_results_fit", "payment_imports_fit"):
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    for statement in _0024.check_triggers(paying, no_line, no_list):
        op.execute(statement)


def upgrade() -> None:
    _apply("('exported')", NO_LINE, NO_LIST)


def downgrade() -> None:
    _apply(_0024.PAYING, _0024.NO_LINE, _0024.NO_LIST)
