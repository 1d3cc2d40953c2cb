"""Rule set and allowance policy versions are recorded as first used, and never reused.

An evaluation named its rule set's id and version, a list its policy's, but nothing held
what that version said. A threshold edited without a new version (by mistake, or to make a
district's trigger fire) was judged, and shown to reviewers, as the version before it. Now
the first evaluation that uses a rule set version, and the first proposal that uses a policy
version, stores its content (the loaded file as canonical JSON, shared thresholds resolved)
and its sha256 in `config_versions`, in the same transaction; a version loaded later with
other content is refused, and the scheduler refuses to start with it. The guards, on SQLite
and PostgreSQL alike: a row is never changed or deleted.

Versions used before this revision are recorded at their next use.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

import store.types

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

KEPT = "a rule set or policy version, once used, is never changed or deleted"
POSTGRES = [
    f"""CREATE FUNCTION agam_config_version_guard() RETURNS trigger AS $$
    BEGIN
      RAISE EXCEPTION '{KEPT}';
    END; $$ LANGUAGE plpgsql""",
    "CREATE TRIGGER config_versions_guard BEFORE UPDATE OR DELETE ON config_versions "
    "FOR EACH ROW EXECUTE FUNCTION agam_config_version_guard()",
]
SQLITE = [
    f"""CREATE TRIGGER config_versions_no_update BEFORE UPDATE ON config_versions
    BEGIN SELECT RAISE(ABORT, '{KEPT}'); END""",
    f"""CREATE TRIGGER config_versions_no_delete BEFORE DELETE ON config_versions
    BEGIN SELECT RAISE(ABORT, '{KEPT}'); END""",
]


def upgrade() -> None:
    op.create_table(
        "config_versions",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("config_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.String(length=32), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("first_used_at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("kind", "config_id", "version", name=op.f("pk_config_versions")),
    )
    statements = POSTGRES if op.get_bind().dialect.name == "postgresql" else SQLITE
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS config_versions_guard ON config_versions")
        op.execute("DROP FUNCTION IF EXISTS agam_config_version_guard()")
    op.drop_table("config_versions")
