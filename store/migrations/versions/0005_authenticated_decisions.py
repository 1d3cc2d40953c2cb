"""Authenticated decisions, pinned payees, steps the database enforces.

- users: OIDC binding by issuer + subject after an invitation; password throttling moves to
  sign_in_attempts (no lock-out columns any more); api_tokens and dashboard_sessions;
- allowance_payees: the payment identity of each included line, copied at proposal; lists gain
  kind/amends_id (amendments), hash_version (1 = decided before pinning) and last_decision_id;
  lines gain a stable line_ref; decisions record the step they take and how the decider was
  verified;
- guards generated from agam.core.transitions (store/list_guards.py): decisions only by an
  active account of the right role and district along the transition table, list rows change
  only with their newest decision; payees frozen like lines; new lists hash version 2.

Existing lists keep working: their payees are copied from the registry as it is now and lists
that had left draft keep hash version 1 (their approval never covered payees).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from alembic import op
import sqlalchemy as sa

import store.types
from store import list_guards

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

PAYEE_FIELDS = (
    "beneficiary_id", "programme", "name_en", "name_bn", "nid", "birth_registration", "sex",
    "birth_year", "ward", "village", "payment_channel", "mfs_provider", "wallet_number",
    "bank_account", "routing_number", "post_office_code",
)
SQLITE_LINE_UPDATE = """CREATE TRIGGER allowance_lines_frozen_update BEFORE UPDATE ON allowance_lines
    WHEN (SELECT status FROM allowance_lists WHERE id = OLD.list_id) <> 'draft'
    BEGIN SELECT RAISE(ABORT, 'lines of a submitted or decided list are frozen'); END"""
SQLITE_PAYEES = [
    f"""CREATE TRIGGER allowance_payees_frozen_{verb.lower()} BEFORE {verb} ON allowance_payees
    WHEN (SELECT status FROM allowance_lists WHERE id = {row}.list_id) <> 'draft'
    BEGIN SELECT RAISE(ABORT, 'payees of a submitted or decided list are frozen'); END"""
    for verb, row in (("INSERT", "NEW"), ("UPDATE", "OLD"), ("DELETE", "OLD"))
]
SQLITE_NEW_LISTS = """CREATE TRIGGER allowance_lists_hash_version BEFORE INSERT ON allowance_lists
    WHEN NEW.hash_version <> 2 OR NEW.status <> 'draft' OR NEW.last_decision_id IS NOT NULL
    BEGIN SELECT RAISE(ABORT, 'a new allowance list starts as a draft, hash version 2'); END"""
POSTGRES_NEW_LISTS = [
    """CREATE FUNCTION agam_new_list() RETURNS trigger AS $$
    BEGIN
      IF NEW.hash_version <> 2 OR NEW.status <> 'draft' OR NEW.last_decision_id IS NOT NULL THEN
        RAISE EXCEPTION 'a new allowance list starts as a draft, hash version 2'; END IF;
      RETURN NEW;
    END; $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER allowance_lists_hash_version BEFORE INSERT ON allowance_lists
    FOR EACH ROW EXECUTE FUNCTION agam_new_list()""",
    """CREATE TRIGGER allowance_payees_guard BEFORE INSERT OR UPDATE OR DELETE ON allowance_payees
    FOR EACH ROW EXECUTE FUNCTION agam_line_guard()""",
]


def _tables() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("created_at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", store.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_api_tokens_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_sha256", name=op.f("uq_api_tokens_token_sha256")),
    )
    op.create_index(op.f("ix_api_tokens_user_id"), "api_tokens", ["user_id"])
    op.create_table(
        "dashboard_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("secret_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("via", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_dashboard_sessions_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dashboard_sessions")),
        sa.UniqueConstraint("secret_sha256", name=op.f("uq_dashboard_sessions_secret_sha256")),
    )
    op.create_index(op.f("ix_dashboard_sessions_user_id"), "dashboard_sessions", ["user_id"])
    op.create_table(
        "sign_in_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("account_key", sa.String(length=64), nullable=False),
        sa.Column("client_key", sa.String(length=64), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in_attempts")),
    )
    op.create_index("ix_sign_in_attempts_account_at", "sign_in_attempts", ["account_key", "at"])
    op.create_index(op.f("ix_sign_in_attempts_client_key"), "sign_in_attempts", ["client_key"])
    op.create_table(
        "allowance_payees",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("beneficiary_id", sa.String(length=64), nullable=False),
        sa.Column("programme", sa.String(length=32), nullable=False),
        sa.Column("name_en", sa.String(length=128), nullable=True),
        sa.Column("name_bn", sa.String(length=128), nullable=True),
        sa.Column("nid", sa.String(length=17), nullable=True),
        sa.Column("birth_registration", sa.String(length=17), nullable=True),
        sa.Column("sex", sa.String(length=8), nullable=False),
        sa.Column("birth_year", sa.Integer(), nullable=False),
        sa.Column("ward", sa.String(length=16), nullable=True),
        sa.Column("village", sa.String(length=128), nullable=True),
        sa.Column("payment_channel", sa.String(length=16), nullable=False),
        sa.Column("mfs_provider", sa.String(length=16), nullable=True),
        sa.Column("wallet_number", sa.String(length=11), nullable=True),
        sa.Column("bank_account", sa.String(length=32), nullable=True),
        sa.Column("routing_number", sa.String(length=9), nullable=True),
        sa.Column("post_office_code", sa.String(length=16), nullable=True),
        sa.Column("source_row_sha256", sa.String(length=64), nullable=False),
        sa.Column("snapshot_at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["list_id"], ["allowance_lists.id"], name=op.f("fk_allowance_payees_list_id_allowance_lists")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_allowance_payees")),
        sa.UniqueConstraint("list_id", "rank", name="one_payee_per_line"),
    )
    op.create_index(op.f("ix_allowance_payees_list_id"), "allowance_payees", ["list_id"])


def _columns() -> None:
    for name, kind in (
        ("oidc_issuer", sa.String(length=255)),
        ("created_by", sa.String(length=64)),
        ("invited_at", store.types.UTCDateTime(timezone=True)),
        ("linked_at", store.types.UTCDateTime(timezone=True)),
        ("password_changed_at", store.types.UTCDateTime(timezone=True)),
    ):
        op.add_column("users", sa.Column(name, kind, nullable=True))
    op.execute("ALTER TABLE users DROP COLUMN failed_logins")
    op.execute("ALTER TABLE users DROP COLUMN locked_until")
    op.add_column(
        "allowance_lists",
        sa.Column("kind", sa.String(length=16), nullable=False, server_default="proposal"),
    )
    op.add_column("allowance_lists", sa.Column("amends_id", sa.Integer(), nullable=True))
    # Rows that exist now are version 1; the model writes 2 and a trigger refuses anything else.
    op.add_column(
        "allowance_lists",
        sa.Column("hash_version", sa.Integer(), nullable=False, server_default="1"),
    )
    op.add_column("allowance_lists", sa.Column("last_decision_id", sa.Integer(), nullable=True))
    op.add_column("allowance_lines", sa.Column("line_ref", sa.String(length=32), nullable=True))
    op.add_column(
        "allowance_lines", sa.Column("amends_line_ref", sa.String(length=32), nullable=True)
    )
    for name in ("from_status", "to_status", "via"):
        op.add_column("decisions", sa.Column(name, sa.String(length=16), nullable=True))


def _backfill(postgres: bool) -> None:
    """Line references and payee copies for lines that exist (their triggers paused)."""
    ref = "'L' || CAST(list_id AS TEXT) || '-' || CAST(rank AS TEXT)"
    if postgres:
        op.execute("ALTER TABLE allowance_lines DISABLE TRIGGER allowance_lines_guard")
        op.execute(f"UPDATE allowance_lines SET line_ref = {ref}")
        op.execute("ALTER TABLE allowance_lines ENABLE TRIGGER allowance_lines_guard")
    else:
        op.execute("DROP TRIGGER allowance_lines_frozen_update")
        op.execute(f"UPDATE allowance_lines SET line_ref = {ref}")
        op.execute(SQLITE_LINE_UPDATE)
    op.create_index("uq_allowance_lines_line_ref", "allowance_lines", ["line_ref"], unique=True)
    fields = ", ".join(PAYEE_FIELDS[1:])
    op.execute(
        f"INSERT INTO allowance_payees (list_id, rank, beneficiary_id, {fields}, "
        "source_row_sha256, snapshot_at) "
        f"SELECT l.list_id, l.rank, l.beneficiary_id, "
        + ", ".join(f"b.{f}" for f in PAYEE_FIELDS[1:])
        + ", b.row_sha256, CURRENT_TIMESTAMP FROM allowance_lines l "
        "JOIN beneficiaries b ON b.beneficiary_id = l.beneficiary_id WHERE l.included"
    )
    op.execute("UPDATE allowance_lists SET hash_version = 2 WHERE status = 'draft'")


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    _tables()
    _columns()
    _backfill(postgres)
    if postgres:
        for statement in POSTGRES_NEW_LISTS:
            op.execute(statement)
    else:
        for statement in (*SQLITE_PAYEES, SQLITE_NEW_LISTS):
            op.execute(statement)
    for statement in list_guards.install_statements("postgresql" if postgres else "sqlite"):
        op.execute(statement)


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in list_guards.drop_statements("postgresql" if postgres else "sqlite"):
        op.execute(statement)
    if postgres:
        op.execute("DROP TRIGGER IF EXISTS allowance_payees_guard ON allowance_payees")
        op.execute("DROP TRIGGER IF EXISTS allowance_lists_hash_version ON allowance_lists")
        op.execute("DROP FUNCTION IF EXISTS agam_new_list()")
    else:
        for name in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS allowance_payees_frozen_{name}")
        op.execute("DROP TRIGGER IF EXISTS allowance_lists_hash_version")
    op.drop_index("uq_allowance_lines_line_ref", table_name="allowance_lines")
    for table, name in (
        ("decisions", "via"), ("decisions", "to_status"), ("decisions", "from_status"),
        ("allowance_lines", "amends_line_ref"), ("allowance_lines", "line_ref"),
        ("allowance_lists", "last_decision_id"), ("allowance_lists", "hash_version"),
        ("allowance_lists", "amends_id"), ("allowance_lists", "kind"),
        ("users", "password_changed_at"), ("users", "linked_at"), ("users", "invited_at"),
        ("users", "created_by"), ("users", "oidc_issuer"),
    ):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {name}")
    op.add_column("users", sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("users", sa.Column("locked_until", store.types.UTCDateTime(timezone=True)))
    for table in ("allowance_payees", "sign_in_attempts", "dashboard_sessions", "api_tokens"):
        op.drop_table(table)
