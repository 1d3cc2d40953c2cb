"""A forecast re-published at the same issue time with other content is kept as a newer version.

Forecast runs were unique on (feed, issue time): a bulletin or event list published again at
the same issue time with other content was taken for the stored one, its run said "success"
and the first content went on being judged. GDACS does exactly this when a cyclone enters the
Bay of Bengal: the list's newest advisory time stays the same (advisories come at the same
synoptic hours), so the forecast that found the cyclone carried the issue time of the stored
"no relevant cyclone" forecast and was dropped until the next advisory, hours later.

Now a forecast run is unique on (feed, issue time, raw content hash): the same content stored
twice is still one run (two processes racing), other content is a new run, and the newest
fetched run of an issue time is the one judged.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06
"""

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

OLD = "feed_issued"
NEW = "feed_issued_content"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # the rebuilt table replaces the one feed runs and statuses refer to (same ids): the
        # references are checked at commit, not while the old table is dropped
        op.execute("PRAGMA defer_foreign_keys = ON")
    with op.batch_alter_table("forecast_runs", recreate="auto") as batch_op:
        batch_op.drop_constraint(OLD, type_="unique")
        batch_op.create_unique_constraint(NEW, ["feed_id", "issued_at", "raw_sha256"])


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("PRAGMA defer_foreign_keys = ON")
    with op.batch_alter_table("forecast_runs", recreate="auto") as batch_op:
        batch_op.drop_constraint(NEW, type_="unique")
        batch_op.create_unique_constraint(OLD, ["feed_id", "issued_at"])
