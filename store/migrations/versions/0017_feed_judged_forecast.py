"""Each feed records the forecast its newest evaluation judged.

A forecast was judged only by the evaluation right after the feed run that stored it. When
that evaluation failed (the store locked, the process stopped), or the forecast was fetched by
`agam feeds fetch`, which does not judge, the next run of the feed found the same forecast
("unchanged" or "not modified") and judged nothing: its alerts waited for the next new forecast.
Now an evaluation records, per feed, the forecast run it judged; a feed whose newest forecast
is not the one recorded is judged by the scheduler's catch-up job and by the next feed run.

Existing feeds start with nothing recorded: after the upgrade the scheduler judges each feed's
newest forecast once (re-judging the same inputs changes nothing).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

import store.types

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

FOREIGN_KEY = "fk_feed_status_judged_forecast_run_id_forecast_runs"


def upgrade() -> None:
    with op.batch_alter_table("feed_status") as batch_op:
        batch_op.add_column(sa.Column("judged_forecast_run_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("judged_at", store.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_foreign_key(
            FOREIGN_KEY, "forecast_runs", ["judged_forecast_run_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("feed_status") as batch_op:
        batch_op.drop_constraint(FOREIGN_KEY, type_="foreignkey")
        batch_op.drop_column("judged_at")
        batch_op.drop_column("judged_forecast_run_id")
