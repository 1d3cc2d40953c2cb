"""The optional second approver: an active district administrator of the list's district,
not the first approver and not the submitter.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

SQLITE = """CREATE TRIGGER allowance_lists_second_approver BEFORE UPDATE OF second_approved_by
ON allowance_lists
WHEN NEW.second_approved_by IS NOT NULL AND NEW.second_approved_by IS NOT OLD.second_approved_by
AND (NEW.second_approved_by = NEW.approved_by OR NEW.second_approved_by = NEW.submitted_by
     OR NOT EXISTS (SELECT 1 FROM users AS u, json_each(u.districts) AS d
                    WHERE u.username = NEW.second_approved_by AND u.role = 'district_admin'
                      AND u.disabled = 0 AND d.value = NEW.district_pcode))
BEGIN SELECT RAISE(ABORT, 'second approver must be another administrator of this district'); END"""

POSTGRES = [
    """CREATE FUNCTION agam_second_approver() RETURNS trigger AS $$
    BEGIN
      IF NEW.second_approved_by IS NOT NULL
         AND NEW.second_approved_by IS DISTINCT FROM OLD.second_approved_by
         AND (NEW.second_approved_by = NEW.approved_by
              OR NEW.second_approved_by IS NOT DISTINCT FROM NEW.submitted_by
              OR NOT EXISTS (SELECT 1 FROM users u WHERE u.username = NEW.second_approved_by
                             AND u.role = 'district_admin' AND NOT u.disabled
                             AND u.districts::jsonb ? NEW.district_pcode)) THEN
        RAISE EXCEPTION 'second approver must be another administrator of this district';
      END IF;
      RETURN NEW;
    END; $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER allowance_lists_second_approver BEFORE UPDATE ON allowance_lists
    FOR EACH ROW EXECUTE FUNCTION agam_second_approver()""",
]


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRES:
            op.execute(statement)
    else:
        op.execute(SQLITE)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS allowance_lists_second_approver ON allowance_lists")
        op.execute("DROP FUNCTION IF EXISTS agam_second_approver()")
    else:
        op.execute("DROP TRIGGER IF EXISTS allowance_lists_second_approver")
