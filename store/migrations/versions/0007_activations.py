"""Activations: one hazard event grouping its alerts (one payment per household per event).

- activations: the event, when it opened and was last active, the stages fired per rule set;
- activation_keys: the event's identities (GDACS event, storm name and year, basin season),
  unique, so one event cannot open two activations;
- alerts.activation_id, alerts.stand_down_at (when an open alert with nothing met stands down);
- allowance_lists.evaluation_id (the evaluation whose unions a list covers).

Columns are added with a plain ADD COLUMN, never a batch table copy: SQLite would drop the
integrity triggers of allowance_lists. SQLite takes the foreign key inline and cannot drop
such a column again without that copy, so its downgrade leaves the two nullable columns and
the activations table they reference in place (and upgrade then skips what exists).

Revision ID: 0007
Revises: 0004
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

import store.types
from store import list_guards

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

FOREIGN_KEYS = (
    ("alerts", "activation_id", "activations"),
    ("allowance_lists", "evaluation_id", "evaluations"),
)


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    present = sa.inspect(op.get_bind())
    if not present.has_table("activations"):
        op.create_table(
            "activations",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("hazard", sa.String(length=16), nullable=False),
            sa.Column("label", sa.String(length=128), nullable=False),
            sa.Column("opened_at", store.types.UTCDateTime(timezone=True), nullable=False),
            sa.Column("last_active_at", store.types.UTCDateTime(timezone=True), nullable=False),
            sa.Column("fired_stages", sa.JSON(), nullable=False),
            sa.PrimaryKeyConstraint("id", name=op.f("pk_activations")),
        )
    op.create_table(
        "activation_keys",
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("activation_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["activation_id"],
            ["activations.id"],
            name=op.f("fk_activation_keys_activation_id_activations"),
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_activation_keys")),
    )
    op.create_index(
        op.f("ix_activation_keys_activation_id"), "activation_keys", ["activation_id"]
    )
    for table, column, target in FOREIGN_KEYS:
        if column in {c["name"] for c in present.get_columns(table)}:
            continue
        if _postgres():
            op.add_column(table, sa.Column(column, sa.Integer(), nullable=True))
            op.create_foreign_key(
                op.f(f"fk_{table}_{column}_{target}"), table, target, [column], ["id"]
            )
        else:
            op.execute(f"ALTER TABLE {table} ADD COLUMN {column} INTEGER REFERENCES {target} (id)")
    op.add_column(
        "alerts",
        sa.Column("stand_down_at", store.types.UTCDateTime(timezone=True), nullable=True),
    )
    op.create_index(op.f("ix_alerts_activation_id"), "alerts", ["activation_id"])
    _reinstall_list_guards()  # the transition table gained the system's "withdraw" step


def _reinstall_list_guards() -> None:
    dialect = "postgresql" if _postgres() else "sqlite"
    for statement in (*list_guards.drop_statements(dialect), *list_guards.install_statements(dialect)):
        op.execute(statement)


def downgrade() -> None:
    _reinstall_list_guards()
    op.drop_index(op.f("ix_alerts_activation_id"), table_name="alerts")
    op.drop_column("alerts", "stand_down_at")
    if _postgres():
        for table, column, target in FOREIGN_KEYS:
            op.drop_constraint(op.f(f"fk_{table}_{column}_{target}"), table, "foreignkey")
            op.drop_column(table, column)
    op.drop_index(op.f("ix_activation_keys_activation_id"), table_name="activation_keys")
    op.drop_table("activation_keys")
    if _postgres():
        op.drop_table("activations")
