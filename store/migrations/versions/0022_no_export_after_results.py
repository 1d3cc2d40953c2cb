"""A list whose payment results the provider has returned is not exported again.

An exported list could be exported again at any time (a lost file is sent again with the same
batch id and dedup keys). After the provider has returned results, a second file of the
batch could pay the same households twice if the provider does not honour the dedup key;
failed lines are paid through a re-issue list instead. The export refuses this, and so does
the database: an `export` decision is not accepted for a list that has payment results.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07
"""

from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

REFUSED = "decision: the provider has returned results for this list; it is not exported again"
RETURNED = "EXISTS (SELECT 1 FROM payment_results r WHERE r.list_id = NEW.list_id)"

POSTGRES = [
    f"""CREATE FUNCTION agam_decision_not_after_results() RETURNS trigger AS $$
    BEGIN
      IF {RETURNED} THEN
        RAISE EXCEPTION '{REFUSED}';
      END IF;
      RETURN NEW;
    END; $$ LANGUAGE plpgsql""",
    "CREATE TRIGGER decisions_not_after_results BEFORE INSERT ON decisions "
    "FOR EACH ROW WHEN (NEW.action = 'export') "
    "EXECUTE FUNCTION agam_decision_not_after_results()",
]
SQLITE = [
    f"""CREATE TRIGGER decisions_not_after_results BEFORE INSERT ON decisions
    WHEN NEW.action = 'export' AND {RETURNED}
    BEGIN SELECT RAISE(ABORT, '{REFUSED}'); END""",
]


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in POSTGRES if postgres else SQLITE:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS decisions_not_after_results ON decisions")
        op.execute("DROP FUNCTION IF EXISTS agam_decision_not_after_results()")
    else:
        op.execute("DROP TRIGGER IF EXISTS decisions_not_after_results")
