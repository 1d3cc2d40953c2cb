"""Database guards for allowance-list decisions, generated from the pure tables in
agam.core.transitions so the store's checks and the database's cannot drift apart.

Two rules, on SQLite and PostgreSQL alike:
- a decision row is accepted only for a step the transition table allows from the list's
  current status, taken by an active account whose role may take it, in the list's district
  (admins are national), never by the list's preparer or submitter for a four-eyes action, and
  naming the hash the list was submitted with;
- a list row changes only together with its newest decision: `last_decision_id` must name a
  decision newer than the one it named before, taking exactly this status step, and only the
  columns that decision may change (who submitted, who approved, the submitted hash) change.

So `UPDATE allowance_lists SET status = 'approved'` is refused however it is sent. The
migration that installs these (0005) calls the functions below; a change of the tables needs a
new migration that re-installs them.
"""

# The SQL below is built from the constant tables in agam.core.transitions, never from input.
# ruff: noqa: S608

from __future__ import annotations

from agam.core.transitions import (
    FOUR_EYES_ACTIONS,
    LIST_ACTION_ROLES,
    LIST_TRANSITIONS,
    NATIONAL_ROLES,
    SYSTEM_ACTIONS,
    SYSTEM_ACTOR,
)

SQLITE_TRIGGERS = ("decisions_authority", "allowance_lists_step")
FIXED_COLUMNS = (
    "alert_id",
    "district_pcode",
    "revision",
    "households",
    "total_bdt",
    "amount_per_household_bdt",
    "prepared_by",
    "kind",
    "amends_id",
    "hash_version",
    "synthetic",
    "supersedes_id",
)
STEP_REFUSED = "allowance list status may only move along the transition table"
NO_DECISION = "an allowance list changes only through its newest decision"
BAD_STEP = "decision: not a step the list's status allows"
BAD_DECIDER = "decision: not an active account whose role and district may take it"
SAME_PERSON = "decision: the person who prepared or submitted a list cannot decide it"
BAD_HASH = "decision: content hash differs from the submitted list"
BAD_SYSTEM_STEP = "decision: the system may only withdraw its own draft nobody has decided on"


def _quote(values: tuple[str, ...] | list[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)


class _Dialect:
    def __init__(self, name: str) -> None:
        self.pg = name == "postgresql"

    def same(self, a: str, b: str) -> str:
        return f"{a} IS NOT DISTINCT FROM {b}" if self.pg else f"{a} IS {b}"

    def active(self, alias: str) -> str:
        return f"NOT {alias}.disabled" if self.pg else f"{alias}.disabled = 0"

    def covers(self, user: str, district: str) -> str:
        if self.pg:
            return f"{user}.districts::jsonb ? {district}"
        return (
            f"EXISTS (SELECT 1 FROM json_each({user}.districts) AS dd WHERE dd.value = {district})"
        )

    def text(self, message: str) -> str:
        return message.replace("'", "''")


def _transition_ok(f: str, a: str, t: str) -> str:
    pairs = [
        f"({f} = '{src}' AND {a} = '{action}' AND {t} = '{dst}')"
        for (src, action), dst in LIST_TRANSITIONS.items()
    ]
    return "(" + " OR ".join(pairs) + ")"


def _status_pair_ok(old: str, new: str) -> str:
    pairs = sorted({(src, dst) for (src, _), dst in LIST_TRANSITIONS.items()})
    return "(" + " OR ".join(f"({old} = '{s}' AND {new} = '{d}')" for s, d in pairs) + ")"


def _role_ok(action: str, role: str) -> str:
    parts = [
        f"({action} = '{a}' AND {role} IN ({_quote(roles)}))"
        for a, roles in LIST_ACTION_ROLES.items()
    ]
    return "(" + " OR ".join(parts) + ")"


def decision_conditions(dialect: str) -> list[tuple[str, str]]:
    """(refusal condition over NEW, message) for a decision row about to be inserted."""
    d = _Dialect(dialect)
    four_eyes = _quote(FOUR_EYES_ACTIONS)
    system = _quote(SYSTEM_ACTIONS)
    return [
        (
            f"NOT {_transition_ok('NEW.from_status', 'NEW.action', 'NEW.to_status')} "
            "OR NOT EXISTS (SELECT 1 FROM allowance_lists l "
            "WHERE l.id = NEW.list_id AND l.status = NEW.from_status)",
            BAD_STEP,
        ),
        (
            f"NEW.action IN ({system}) AND (NEW.username <> '{SYSTEM_ACTOR}' "
            f"OR NEW.role <> '{SYSTEM_ACTOR}' OR NOT EXISTS (SELECT 1 FROM allowance_lists l "
            f"WHERE l.id = NEW.list_id AND l.prepared_by = '{SYSTEM_ACTOR}' "
            "AND l.last_decision_id IS NULL))",
            BAD_SYSTEM_STEP,
        ),
        (
            f"NEW.action NOT IN ({system}) AND "
            "NOT EXISTS (SELECT 1 FROM users u, allowance_lists l "
            "WHERE u.username = NEW.username AND l.id = NEW.list_id "
            f"AND {d.active('u')} AND u.role = NEW.role "
            f"AND {_role_ok('NEW.action', 'u.role')} "
            f"AND (u.role IN ({_quote(NATIONAL_ROLES)}) OR {d.covers('u', 'l.district_pcode')}))",
            BAD_DECIDER,
        ),
        (
            f"NEW.action IN ({four_eyes}) AND EXISTS (SELECT 1 FROM allowance_lists l "
            "WHERE l.id = NEW.list_id AND (NEW.username = l.prepared_by "
            f"OR {d.same('NEW.username', 'l.submitted_by')} "
            "OR (NEW.action = 'approve' AND NEW.username = l.approved_by)))",
            SAME_PERSON,
        ),
        (
            "(NEW.action = 'submit' AND NEW.content_sha256 IS NULL) OR "
            f"(NEW.action NOT IN ('submit', 'edit', {system}) AND NOT EXISTS (SELECT 1 FROM "
            "allowance_lists l WHERE l.id = NEW.list_id "
            "AND l.content_sha256 = NEW.content_sha256))",
            BAD_HASH,
        ),
    ]


def _who_columns(d: _Dialect) -> str:
    """Which of submitted_by, content_sha256, approved_by, second_approved_by the decision
    `d` (aliased dd) may change, and to what."""
    same = d.same
    submit = (
        "(dd.action = 'submit' AND NEW.submitted_by = dd.username "
        "AND NEW.content_sha256 = dd.content_sha256)"
    )
    keep_submit = (
        f"(dd.action <> 'submit' AND {same('NEW.submitted_by', 'OLD.submitted_by')} "
        f"AND {same('NEW.content_sha256', 'OLD.content_sha256')})"
    )
    keep_approvers = (
        f"{same('NEW.approved_by', 'OLD.approved_by')} "
        f"AND {same('NEW.second_approved_by', 'OLD.second_approved_by')}"
    )
    approvers = " OR ".join(
        [
            "(dd.action = 'approve_first' AND OLD.approved_by IS NULL "
            "AND NEW.approved_by = dd.username AND NEW.second_approved_by IS NULL)",
            "(dd.action = 'approve' AND OLD.approved_by IS NULL "
            "AND NEW.approved_by = dd.username AND NEW.second_approved_by IS NULL)",
            "(dd.action = 'approve' AND OLD.approved_by IS NOT NULL "
            f"AND {same('NEW.approved_by', 'OLD.approved_by')} "
            "AND NEW.second_approved_by = dd.username)",
            f"(dd.action = 'reject' AND ({same('NEW.approved_by', 'OLD.approved_by')} "
            "OR NEW.approved_by IS NULL) "
            f"AND {same('NEW.second_approved_by', 'OLD.second_approved_by')})",
            f"(dd.action NOT IN ('approve', 'approve_first', 'reject') AND {keep_approvers})",
        ]
    )
    return f"({submit} OR {keep_submit}) AND ({approvers})"


def step_conditions(dialect: str) -> list[tuple[str, str]]:
    """(refusal condition over OLD/NEW, message) for an allowance_lists row being updated."""
    d = _Dialect(dialect)
    fixed = " AND ".join(d.same(f"NEW.{c}", f"OLD.{c}") for c in FIXED_COLUMNS)
    newest = (
        "NOT EXISTS (SELECT 1 FROM decisions dd "
        "WHERE dd.id = NEW.last_decision_id AND dd.list_id = NEW.id "
        "AND dd.id = (SELECT max(x.id) FROM decisions x WHERE x.list_id = NEW.id) "
        "AND (OLD.last_decision_id IS NULL OR dd.id > OLD.last_decision_id) "
        "AND dd.from_status = OLD.status AND dd.to_status = NEW.status "
        f"AND {fixed} AND {_who_columns(d)})"
    )
    return [
        (
            f"NEW.status <> OLD.status AND NOT {_status_pair_ok('OLD.status', 'NEW.status')}",
            STEP_REFUSED,
        ),
        (newest, NO_DECISION),
    ]


def sqlite_statements() -> list[str]:
    d = _Dialect("sqlite")

    def body(conditions: list[tuple[str, str]]) -> str:
        return "\n".join(
            f"  SELECT RAISE(ABORT, '{d.text(msg)}') WHERE {cond};" for cond, msg in conditions
        )

    return [
        "CREATE TRIGGER decisions_authority BEFORE INSERT ON decisions\nBEGIN\n"
        + body(decision_conditions("sqlite"))
        + "\nEND",
        "CREATE TRIGGER allowance_lists_step BEFORE UPDATE ON allowance_lists\nBEGIN\n"
        + body(step_conditions("sqlite"))
        + "\nEND",
    ]


def postgres_statements() -> list[str]:
    d = _Dialect("postgresql")

    def function(name: str, conditions: list[tuple[str, str]]) -> str:
        checks = "\n".join(
            f"  IF {cond} THEN RAISE EXCEPTION '{d.text(msg)}'; END IF;" for cond, msg in conditions
        )
        return (
            f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $$\nBEGIN\n{checks}\n"
            "  RETURN NEW;\nEND; $$ LANGUAGE plpgsql"
        )

    return [
        function("agam_decision_authority", decision_conditions("postgresql")),
        "CREATE TRIGGER decisions_authority BEFORE INSERT ON decisions "
        "FOR EACH ROW EXECUTE FUNCTION agam_decision_authority()",
        function("agam_list_step", step_conditions("postgresql")),
        "CREATE TRIGGER allowance_lists_step BEFORE UPDATE ON allowance_lists "
        "FOR EACH ROW EXECUTE FUNCTION agam_list_step()",
    ]


def drop_statements(dialect: str) -> list[str]:
    if dialect == "postgresql":
        return [
            "DROP TRIGGER IF EXISTS allowance_lists_step ON allowance_lists",
            "DROP TRIGGER IF EXISTS decisions_authority ON decisions",
            "DROP FUNCTION IF EXISTS agam_list_step()",
            "DROP FUNCTION IF EXISTS agam_decision_authority()",
        ]
    return [f"DROP TRIGGER IF EXISTS {name}" for name in SQLITE_TRIGGERS]


def install_statements(dialect: str) -> list[str]:
    return postgres_statements() if dialect == "postgresql" else sqlite_statements()
