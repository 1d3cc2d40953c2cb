"""Allowance-list integrity enforced by the database.

- an approved or exported list is immutable (only approved -> exported may change its status);
- its lines cannot be inserted, changed or deleted once the list left draft;
- only an active district administrator of the list's own district can be its approver;
- decided lists and decisions cannot be deleted; decisions are append-only.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SQLITE = [
    """CREATE TRIGGER allowance_lists_frozen BEFORE UPDATE ON allowance_lists
    WHEN OLD.status IN ('approved', 'exported') AND NOT (
        NEW.status = 'exported' AND OLD.content_sha256 IS NEW.content_sha256
        AND OLD.approved_by IS NEW.approved_by AND OLD.households = NEW.households
        AND OLD.total_bdt = NEW.total_bdt AND OLD.district_pcode = NEW.district_pcode
        AND OLD.revision = NEW.revision AND OLD.alert_id = NEW.alert_id)
    BEGIN SELECT RAISE(ABORT, 'approved allowance list is immutable'); END""",
    """CREATE TRIGGER allowance_lists_no_delete BEFORE DELETE ON allowance_lists
    WHEN OLD.status <> 'draft'
    BEGIN SELECT RAISE(ABORT, 'a decided allowance list cannot be deleted'); END""",
    """CREATE TRIGGER allowance_lists_approver_scope BEFORE UPDATE OF approved_by ON allowance_lists
    WHEN NEW.approved_by IS NOT NULL AND NEW.approved_by IS NOT OLD.approved_by AND NOT EXISTS (
        SELECT 1 FROM users AS u, json_each(u.districts) AS d
        WHERE u.username = NEW.approved_by AND u.role = 'district_admin' AND u.disabled = 0
          AND d.value = NEW.district_pcode)
    BEGIN SELECT RAISE(ABORT, 'approver is not a district administrator of this district'); END""",
    """CREATE TRIGGER allowance_lines_frozen_insert BEFORE INSERT ON allowance_lines
    WHEN (SELECT status FROM allowance_lists WHERE id = NEW.list_id) <> 'draft'
    BEGIN SELECT RAISE(ABORT, 'lines of a submitted or decided list are frozen'); END""",
    """CREATE TRIGGER allowance_lines_frozen_update BEFORE UPDATE ON allowance_lines
    WHEN (SELECT status FROM allowance_lists WHERE id = OLD.list_id) <> 'draft'
    BEGIN SELECT RAISE(ABORT, 'lines of a submitted or decided list are frozen'); END""",
    """CREATE TRIGGER allowance_lines_frozen_delete BEFORE DELETE ON allowance_lines
    WHEN (SELECT status FROM allowance_lists WHERE id = OLD.list_id) <> 'draft'
    BEGIN SELECT RAISE(ABORT, 'lines of a submitted or decided list are frozen'); END""",
    """CREATE TRIGGER decisions_no_update BEFORE UPDATE ON decisions
    BEGIN SELECT RAISE(ABORT, 'decisions are append-only'); END""",
    """CREATE TRIGGER decisions_no_delete BEFORE DELETE ON decisions
    BEGIN SELECT RAISE(ABORT, 'decisions are append-only'); END""",
]
SQLITE_NAMES = [
    "allowance_lists_frozen",
    "allowance_lists_no_delete",
    "allowance_lists_approver_scope",
    "allowance_lines_frozen_insert",
    "allowance_lines_frozen_update",
    "allowance_lines_frozen_delete",
    "decisions_no_update",
    "decisions_no_delete",
]

POSTGRES = [
    """CREATE FUNCTION agam_list_guard() RETURNS trigger AS $$
    BEGIN
      IF TG_OP = 'DELETE' THEN
        IF OLD.status <> 'draft' THEN
          RAISE EXCEPTION 'a decided allowance list cannot be deleted'; END IF;
        RETURN OLD;
      END IF;
      IF OLD.status IN ('approved', 'exported') AND NOT (
          NEW.status = 'exported' AND OLD.content_sha256 IS NOT DISTINCT FROM NEW.content_sha256
          AND OLD.approved_by IS NOT DISTINCT FROM NEW.approved_by
          AND OLD.households = NEW.households AND OLD.total_bdt = NEW.total_bdt
          AND OLD.district_pcode = NEW.district_pcode AND OLD.revision = NEW.revision
          AND OLD.alert_id = NEW.alert_id) THEN
        RAISE EXCEPTION 'approved allowance list is immutable';
      END IF;
      IF NEW.approved_by IS NOT NULL AND NEW.approved_by IS DISTINCT FROM OLD.approved_by
         AND NOT EXISTS (SELECT 1 FROM users u WHERE u.username = NEW.approved_by
             AND u.role = 'district_admin' AND NOT u.disabled
             AND u.districts::jsonb ? NEW.district_pcode) THEN
        RAISE EXCEPTION 'approver is not a district administrator of this district';
      END IF;
      RETURN NEW;
    END; $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER allowance_lists_guard BEFORE UPDATE OR DELETE ON allowance_lists
    FOR EACH ROW EXECUTE FUNCTION agam_list_guard()""",
    """CREATE FUNCTION agam_line_guard() RETURNS trigger AS $$
    DECLARE parent text;
    BEGIN
      SELECT status INTO parent FROM allowance_lists
        WHERE id = CASE WHEN TG_OP = 'INSERT' THEN NEW.list_id ELSE OLD.list_id END;
      IF parent <> 'draft' THEN
        RAISE EXCEPTION 'lines of a submitted or decided list are frozen'; END IF;
      IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
      RETURN NEW;
    END; $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER allowance_lines_guard BEFORE INSERT OR UPDATE OR DELETE ON allowance_lines
    FOR EACH ROW EXECUTE FUNCTION agam_line_guard()""",
    """CREATE TRIGGER decisions_append_only BEFORE UPDATE OR DELETE ON decisions
    FOR EACH ROW EXECUTE FUNCTION agam_append_only()""",
]


def upgrade() -> None:
    statements = POSTGRES if op.get_bind().dialect.name == "postgresql" else SQLITE
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS decisions_append_only ON decisions")
        op.execute("DROP TRIGGER IF EXISTS allowance_lines_guard ON allowance_lines")
        op.execute("DROP TRIGGER IF EXISTS allowance_lists_guard ON allowance_lists")
        op.execute("DROP FUNCTION IF EXISTS agam_line_guard()")
        op.execute("DROP FUNCTION IF EXISTS agam_list_guard()")
        return
    for name in SQLITE_NAMES:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
