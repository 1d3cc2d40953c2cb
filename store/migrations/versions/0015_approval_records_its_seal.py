"""The approval records how many payment-snapshot parts it sealed.

Before this revision an export that found no snapshot parts took the list's lines instead,
as for a list approved before snapshots existed, so a snapshot deleted behind the guards went
unnoticed (the lines were still hash-checked, but the store could not say a seal was due).
Now:

- `decisions.sealed_parts` is set by, and only by, the decision that makes a list approved
  (a new insert guard refuses an approval without it and any other decision with it);
- a snapshot part is accepted only for the approval the list names as its newest decision,
  numbered below that approval's `sealed_parts`;
- the export refuses a list whose parts are not exactly the recorded number, and a list with
  parts its approval did not record.

Approvals of 0014 (they sealed but could not record it) are back-filled from their parts.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

NOT_RECORDED = "decision: an approval records its sealed parts, and no other decision does"
OLD_NOT_SEALABLE = "a payment snapshot is sealed only for an approved list, with its approved hash"
NOT_SEALABLE = f"{OLD_NOT_SEALABLE}, in the parts its approval recorded"
SEALED = "payment snapshots are never changed or deleted"
APPROVAL = "coalesce(NEW.action = 'approve' AND NEW.to_status = 'approved', FALSE)"
RECORDED = "coalesce(NEW.sealed_parts >= 1, FALSE)"
OLD_SEALABLE = (
    "EXISTS (SELECT 1 FROM allowance_lists l WHERE l.id = NEW.list_id "
    "AND l.status = 'approved' AND l.content_sha256 = NEW.content_sha256)"
)
SEALABLE = (
    "EXISTS (SELECT 1 FROM allowance_lists l JOIN decisions d ON d.id = l.last_decision_id "
    "WHERE l.id = NEW.list_id AND l.status = 'approved' "
    "AND l.content_sha256 = NEW.content_sha256 AND d.content_sha256 = NEW.content_sha256 "
    "AND NEW.part >= 0 AND NEW.part < d.sealed_parts)"
)
BACKFILL = """UPDATE decisions SET sealed_parts = (
      SELECT count(*) FROM payment_snapshots p
      WHERE p.list_id = decisions.list_id AND p.content_sha256 = decisions.content_sha256)
    WHERE action = 'approve' AND to_status = 'approved' AND EXISTS (
      SELECT 1 FROM payment_snapshots p
      WHERE p.list_id = decisions.list_id AND p.content_sha256 = decisions.content_sha256)"""


def _postgres_snapshot_guard(sealable: str, refusal: str = NOT_SEALABLE) -> str:
    return f"""CREATE OR REPLACE FUNCTION agam_payment_snapshot_guard() RETURNS trigger AS $$
    BEGIN
      IF TG_OP <> 'INSERT' THEN
        RAISE EXCEPTION '{SEALED}';
      END IF;
      IF NOT {sealable} THEN
        RAISE EXCEPTION '{refusal}';
      END IF;
      RETURN NEW;
    END; $$ LANGUAGE plpgsql"""


def _sqlite_snapshot_guard(sealable: str, refusal: str = NOT_SEALABLE) -> list[str]:
    return [
        "DROP TRIGGER IF EXISTS payment_snapshots_sealable",
        f"""CREATE TRIGGER payment_snapshots_sealable BEFORE INSERT ON payment_snapshots
        WHEN NOT {sealable}
        BEGIN SELECT RAISE(ABORT, '{refusal}'); END""",
    ]


POSTGRES = [
    f"""CREATE FUNCTION agam_decision_seal_recorded() RETURNS trigger AS $$
    BEGIN
      IF {APPROVAL} <> {RECORDED} THEN
        RAISE EXCEPTION '{NOT_RECORDED}';
      END IF;
      RETURN NEW;
    END; $$ LANGUAGE plpgsql""",
    "CREATE TRIGGER decisions_seal_recorded BEFORE INSERT ON decisions "
    "FOR EACH ROW EXECUTE FUNCTION agam_decision_seal_recorded()",
    _postgres_snapshot_guard(SEALABLE),
]
SQLITE = [
    f"""CREATE TRIGGER decisions_seal_recorded BEFORE INSERT ON decisions
    WHEN {APPROVAL} <> {RECORDED}
    BEGIN SELECT RAISE(ABORT, '{NOT_RECORDED}'); END""",
    *_sqlite_snapshot_guard(SEALABLE),
]


def _backfill(postgres: bool) -> None:
    """Record the parts of the approvals 0014 sealed (decisions are append-only: the guard is
    lifted for this one statement, in the migration's transaction)."""
    if postgres:
        op.execute("ALTER TABLE decisions DISABLE TRIGGER decisions_append_only")
        op.execute(BACKFILL)
        op.execute("ALTER TABLE decisions ENABLE TRIGGER decisions_append_only")
        return
    bind = op.get_bind()
    guard = bind.execute(
        sa.text("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = :n"),
        {"n": "decisions_no_update"},
    ).scalar_one()
    op.execute("DROP TRIGGER decisions_no_update")
    op.execute(BACKFILL)
    op.execute(guard)


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.add_column(
        "decisions",
        sa.Column("sealed_parts", sa.Integer(), nullable=True, server_default=sa.text("NULL")),
    )
    _backfill(postgres)
    for statement in POSTGRES if postgres else SQLITE:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS decisions_seal_recorded ON decisions")
        op.execute("DROP FUNCTION IF EXISTS agam_decision_seal_recorded()")
        op.execute(_postgres_snapshot_guard(OLD_SEALABLE, OLD_NOT_SEALABLE))
    else:
        op.execute("DROP TRIGGER IF EXISTS decisions_seal_recorded")
        for statement in _sqlite_snapshot_guard(OLD_SEALABLE, OLD_NOT_SEALABLE):
            op.execute(statement)
    op.drop_column("decisions", "sealed_parts")
