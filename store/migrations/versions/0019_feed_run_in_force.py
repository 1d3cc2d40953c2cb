"""A feed run records whether it put its forecast in force.

GDACS's event list is a snapshot feed: the list fetched last is current. A lagging mirror or
cache that serves an older list after a newer one made the older list current until the next
fetch, its cyclone track rolled back by one or more advisories. Where both lists carry the
same cyclone, its episode going backwards tells which is older: such a run now stores the
list (or finds it stored) and records `in_force = false`, and `feed_repo.latest_forecast`,
replays and backtests pass over it. Of issue-time feeds, a forecast issued before the one in
force ("stored, not used") is recorded the same way.

Existing runs were all put in force, except those whose note says "stored, not used". Runs
are now looked up by the forecast they stored (an index on `forecast_run_id`).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # in place on both back ends (SQLite adds a NOT NULL column with a default)
    op.add_column(
        "feed_runs", sa.Column("in_force", sa.Boolean(), nullable=False, server_default=sa.true())
    )
    op.create_index("ix_feed_runs_forecast_run_id", "feed_runs", ["forecast_run_id"])
    op.execute(
        sa.text("UPDATE feed_runs SET in_force = :no WHERE error LIKE :note").bindparams(
            no=False, note="%stored, not used%"
        )
    )


def downgrade() -> None:
    with op.batch_alter_table("feed_runs") as batch_op:
        batch_op.drop_index("ix_feed_runs_forecast_run_id")
        batch_op.drop_column("in_force")
