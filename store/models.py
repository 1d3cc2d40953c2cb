"""The schema. History is append-only; only status columns change, through transitions.

Changing this file means adding an alembic migration (store/migrations/versions/).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from store.types import UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON,
        list[Any]: JSON,
    }


Base.metadata.naming_convention = NAMING


class ForecastRun(Base):
    """One parsed upstream forecast; idempotent on (feed_id, issued_at)."""

    __tablename__ = "forecast_runs"
    __table_args__ = (UniqueConstraint("feed_id", "issued_at", name="feed_issued"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    feed_id: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    issued_at: Mapped[datetime]
    fetched_at: Mapped[datetime]
    source_uri: Mapped[str] = mapped_column(Text)
    raw_sha256: Mapped[str] = mapped_column(String(64), index=True)
    raw_path: Mapped[str] = mapped_column(Text)
    processed_path: Mapped[str | None] = mapped_column(Text)
    complete: Mapped[bool] = mapped_column(Boolean, default=True)
    quality: Mapped[list[Any]] = mapped_column(default=list)
    summary: Mapped[dict[str, Any]] = mapped_column(default=dict)


class FeedRun(Base):
    """Each scheduled or manual attempt, whatever its outcome."""

    __tablename__ = "feed_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    feed_id: Mapped[str] = mapped_column(String(64), index=True)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    outcome: Mapped[str] = mapped_column(String(16))  # success|unchanged|not_modified|failed
    error: Mapped[str | None] = mapped_column(Text)
    artifact_sha256: Mapped[str | None] = mapped_column(String(64))
    issued_at: Mapped[datetime | None]
    forecast_run_id: Mapped[int | None] = mapped_column(ForeignKey("forecast_runs.id"))
    trigger: Mapped[str] = mapped_column(String(16), default="scheduler")


class FeedStatus(Base):
    __tablename__ = "feed_status"

    feed_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_attempt_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    last_failure_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    latest_forecast_run_id: Mapped[int | None] = mapped_column(ForeignKey("forecast_runs.id"))
    latest_issued_at: Mapped[datetime | None]
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)


class Evaluation(Base):
    """A stage of a rule set judged on given inputs; idempotent on input_key."""

    __tablename__ = "evaluations"

    id: Mapped[int] = mapped_column(primary_key=True)
    input_key: Mapped[str] = mapped_column(String(64), unique=True)
    rule_set_id: Mapped[str] = mapped_column(String(64), index=True)
    rule_set_version: Mapped[str] = mapped_column(String(32))
    stage: Mapped[str] = mapped_column(String(32))
    as_of: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(16))  # met|not_met|unknown
    explanation: Mapped[str] = mapped_column(Text)
    observed: Mapped[dict[str, Any]] = mapped_column(default=dict)
    forecast_run_ids: Mapped[list[Any]] = mapped_column(default=list)
    affected_districts: Mapped[list[Any]] = mapped_column(default=list)
    affected_unions: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime]


OPEN_ALERT = text("status = 'open'")


class Activation(Base):
    """One hazard event (a cyclone, a flood season per basin) grouping its alerts: one payment
    per household per activation, across stage changes, stand-downs and re-raises."""

    __tablename__ = "activations"

    id: Mapped[int] = mapped_column(primary_key=True)
    hazard: Mapped[str] = mapped_column(String(16))  # flood | cyclone
    label: Mapped[str] = mapped_column(String(128))  # e.g. "AMPHAN-2026", "jamuna 2026"
    opened_at: Mapped[datetime]
    last_active_at: Mapped[datetime]  # the last evaluation that met a stage or had an alert open
    # rule set id -> stage ids met in this activation (the engine's `already_fired`)
    fired_stages: Mapped[dict[str, Any]] = mapped_column(default=dict)


class ActivationKey(Base):
    """An identity of the event (a GDACS event id, a storm name and year, a basin and season).
    Unique: the database will not let one event open two activations."""

    __tablename__ = "activation_keys"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    activation_id: Mapped[int] = mapped_column(ForeignKey("activations.id"), index=True)


class Alert(Base):
    """Per rule set and district: none -> readiness -> action (-> observational) -> closed.
    At most one open alert per rule set and district (a partial unique index)."""

    __tablename__ = "alerts"
    __table_args__ = (
        Index("ix_alerts_open", "rule_set_id", "district_pcode", "status"),
        Index(
            "uq_alerts_one_open",
            "rule_set_id",
            "district_pcode",
            unique=True,
            sqlite_where=OPEN_ALERT,
            postgresql_where=OPEN_ALERT,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_set_id: Mapped[str] = mapped_column(String(64))
    rule_set_version: Mapped[str] = mapped_column(String(32))
    district_pcode: Mapped[str] = mapped_column(String(16), index=True)
    stage: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))  # open|stood_down|closed
    opened_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    first_evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluations.id"))
    last_evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluations.id"))
    affected_unions: Mapped[list[Any]] = mapped_column(default=list)
    closed_reason: Mapped[str | None] = mapped_column(Text)
    closed_by: Mapped[str | None] = mapped_column(String(64))
    activation_id: Mapped[int | None] = mapped_column(ForeignKey("activations.id"), index=True)
    # When an open alert with nothing met stands down: the newest qualifying forecast's window
    # end (cyclone: forecast landfall) plus the rule set's stand-down hours.
    stand_down_at: Mapped[datetime | None]


class AlertEvent(Base):
    __tablename__ = "alert_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"), index=True)
    at: Mapped[datetime]
    from_stage: Mapped[str | None] = mapped_column(String(32))
    to_stage: Mapped[str] = mapped_column(String(32))
    evaluation_id: Mapped[int | None] = mapped_column(ForeignKey("evaluations.id"))
    explanation: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(64), default="system")


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(
            "role IN ('committee','officer','district_admin','admin')", name="role_known"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(32))
    districts: Mapped[list[Any]] = mapped_column(default=list)
    password_hash: Mapped[str | None] = mapped_column(Text)
    # OIDC: bound to the provider's subject at the first sign-in with the invited, verified
    # e-mail; later sign-ins match the subject only.
    oidc_subject: Mapped[str | None] = mapped_column(String(255), unique=True)
    oidc_issuer: Mapped[str | None] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(255))
    language: Mapped[str] = mapped_column(String(8), default="en")
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    created_by: Mapped[str | None] = mapped_column(String(64))
    invited_at: Mapped[datetime | None]
    linked_at: Mapped[datetime | None]
    password_changed_at: Mapped[datetime | None]


class ApiToken(Base):
    """A personal API token for scripts: only its sha256 is kept; shown once at creation."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]


class DashboardSession(Base):
    """A signed-in browser: the cookie holds a signed token naming this row; revoking the row
    (sign-out, account disabled, password reset) ends the session wherever the cookie is."""

    __tablename__ = "dashboard_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    secret_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    via: Mapped[str] = mapped_column(String(16))


class SignInAttempt(Base):
    """Failed (and successful) sign-ins for throttling. Keys are hashes: a password typed into
    the user-name field is never stored."""

    __tablename__ = "sign_in_attempts"
    __table_args__ = (Index("ix_sign_in_attempts_account_at", "account_key", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    account_key: Mapped[str] = mapped_column(String(64))
    client_key: Mapped[str] = mapped_column(String(64), index=True)
    ok: Mapped[bool] = mapped_column(Boolean)


class RegistryImport(Base):
    __tablename__ = "registry_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    file_name: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    rows_total: Mapped[int] = mapped_column(Integer)
    rows_imported: Mapped[int] = mapped_column(Integer)
    rows_quarantined: Mapped[int] = mapped_column(Integer, default=0)
    imported_at: Mapped[datetime]
    imported_by: Mapped[str] = mapped_column(String(64))
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    report: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Beneficiary(Base):
    """Current row per beneficiary id; older versions move to beneficiary_history."""

    __tablename__ = "beneficiaries"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    beneficiary_id: Mapped[str] = mapped_column(String(64), unique=True)
    programme: Mapped[str] = mapped_column(String(32), index=True)
    household_id: Mapped[str] = mapped_column(String(64), index=True)
    nid: Mapped[str | None] = mapped_column(String(17), index=True)
    birth_registration: Mapped[str | None] = mapped_column(String(17))
    name_en: Mapped[str | None] = mapped_column(String(128))
    name_bn: Mapped[str | None] = mapped_column(String(128))
    sex: Mapped[str] = mapped_column(String(8))
    birth_year: Mapped[int] = mapped_column(Integer)
    disability: Mapped[bool] = mapped_column(Boolean, default=False)
    female_headed: Mapped[bool] = mapped_column(Boolean, default=False)
    pregnant_lactating: Mapped[bool] = mapped_column(Boolean, default=False)
    children_under5: Mapped[int] = mapped_column(Integer, default=0)
    char_resident: Mapped[bool] = mapped_column(Boolean, default=False)
    adm4_pcode: Mapped[str] = mapped_column(String(16), index=True)
    ward: Mapped[str | None] = mapped_column(String(16))
    village: Mapped[str | None] = mapped_column(String(128))
    payment_channel: Mapped[str] = mapped_column(String(16))  # mfs|bank|post
    mfs_provider: Mapped[str | None] = mapped_column(String(16))
    wallet_number: Mapped[str | None] = mapped_column(String(11), index=True)
    bank_account: Mapped[str | None] = mapped_column(String(32))
    routing_number: Mapped[str | None] = mapped_column(String(9))
    post_office_code: Mapped[str | None] = mapped_column(String(16))
    import_id: Mapped[int] = mapped_column(ForeignKey("registry_imports.id"))
    row_sha256: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime]


class BeneficiaryHistory(Base):
    __tablename__ = "beneficiary_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    beneficiary_id: Mapped[str] = mapped_column(String(64), index=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("registry_imports.id"))
    superseded_at: Mapped[datetime]
    record: Mapped[dict[str, Any]] = mapped_column(default=dict)


class RegistryQuarantine(Base):
    """A row left out of a quarantine-mode import: where and why, never the row's values."""

    __tablename__ = "registry_quarantine"

    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("registry_imports.id"), index=True)
    row_number: Mapped[int] = mapped_column(Integer)
    field: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)


class UnionExposure(Base):
    """Households and beneficiaries per union and programme ('all' = any programme).

    Recomputed from beneficiaries after every registry import. Flag columns count households
    with at least one member having the flag; elderly means age >= 65 in `as_of_year`.
    """

    __tablename__ = "union_exposure"
    __table_args__ = (UniqueConstraint("adm4_pcode", "programme", name="union_programme"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    adm4_pcode: Mapped[str] = mapped_column(String(16), index=True)
    programme: Mapped[str] = mapped_column(String(32))
    households: Mapped[int] = mapped_column(Integer)
    beneficiaries: Mapped[int] = mapped_column(Integer)
    households_female_headed: Mapped[int] = mapped_column(Integer)
    households_disability: Mapped[int] = mapped_column(Integer)
    households_elderly: Mapped[int] = mapped_column(Integer)
    households_pregnant_lactating: Mapped[int] = mapped_column(Integer)
    households_children_under5: Mapped[int] = mapped_column(Integer)
    households_char_resident: Mapped[int] = mapped_column(Integer)
    as_of_year: Mapped[int] = mapped_column(Integer)
    computed_at: Mapped[datetime]
    source_import_ids: Mapped[list[Any]] = mapped_column(default=list)


class AllowanceList(Base):
    __tablename__ = "allowance_lists"
    __table_args__ = (
        UniqueConstraint("alert_id", "district_pcode", "revision", name="alert_district_rev"),
        CheckConstraint(
            "approved_by IS NULL OR submitted_by IS NULL OR approved_by <> submitted_by",
            name="four_eyes",
        ),
        CheckConstraint(
            "status IN ('draft','submitted','approved','rejected','superseded','exported')",
            name="status_known",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"), index=True)
    district_pcode: Mapped[str] = mapped_column(String(16), index=True)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(16))
    policy: Mapped[dict[str, Any]] = mapped_column(default=dict)
    amount_per_household_bdt: Mapped[int] = mapped_column(Integer)
    households: Mapped[int] = mapped_column(Integer, default=0)
    total_bdt: Mapped[int] = mapped_column(BigInteger, default=0)
    content_sha256: Mapped[str | None] = mapped_column(String(64))
    prepared_by: Mapped[str] = mapped_column(String(64))
    submitted_by: Mapped[str | None] = mapped_column(String(64))
    approved_by: Mapped[str | None] = mapped_column(String(64))
    second_approved_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("allowance_lists.id"))
    edit_reason: Mapped[str | None] = mapped_column(Text)
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    # "proposal" (from an alert) or "amendment" (payees changed after approval of amends_id).
    kind: Mapped[str] = mapped_column(String(16), default="proposal")
    amends_id: Mapped[int | None] = mapped_column(Integer)
    # 1: lines only (lists decided before payee pinning); 2: lines and their pinned payees.
    hash_version: Mapped[int] = mapped_column(Integer, default=2)
    # Every change of a list row is one decision: the database checks this is the newest one.
    last_decision_id: Mapped[int | None] = mapped_column(Integer)
    # The evaluation whose unions the list covers (the alert's evaluation when it was proposed).
    evaluation_id: Mapped[int | None] = mapped_column(ForeignKey("evaluations.id"))


class AllowanceLine(Base):
    __tablename__ = "allowance_lines"
    __table_args__ = (
        UniqueConstraint("list_id", "household_id", name="one_payment_per_hh"),
        Index("uq_allowance_lines_line_ref", "line_ref", unique=True),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    # looked up through one_payment_per_hh (its leading column); no index of its own
    list_id: Mapped[int] = mapped_column(ForeignKey("allowance_lists.id"))
    beneficiary_id: Mapped[str] = mapped_column(String(64))
    household_id: Mapped[str] = mapped_column(String(64))
    adm4_pcode: Mapped[str] = mapped_column(String(16))
    rank: Mapped[int] = mapped_column(Integer)
    priority_score: Mapped[float] = mapped_column(Float)
    reasons: Mapped[list[Any]] = mapped_column(default=list)
    amount_bdt: Mapped[int] = mapped_column(Integer)
    included: Mapped[bool] = mapped_column(Boolean, default=True)
    exclusion_reason: Mapped[str | None] = mapped_column(Text)
    # Stable reference a payment provider's return file quotes (L<list id>-<rank>).
    line_ref: Mapped[str | None] = mapped_column(String(32))
    # On an amendment: the approved line whose payee this line replaces.
    amends_line_ref: Mapped[str | None] = mapped_column(String(32))


class AllowancePayee(Base):
    """The payment identity of an included line, copied from the registry when the list is
    proposed. Covered by the list's content hash; payment files are written from here only."""

    __tablename__ = "allowance_payees"
    __table_args__ = (UniqueConstraint("list_id", "rank", name="one_payee_per_line"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("allowance_lists.id"))  # one_payee_per_line
    rank: Mapped[int] = mapped_column(Integer)
    beneficiary_id: Mapped[str] = mapped_column(String(64))
    programme: Mapped[str] = mapped_column(String(32))
    name_en: Mapped[str | None] = mapped_column(String(128))
    name_bn: Mapped[str | None] = mapped_column(String(128))
    nid: Mapped[str | None] = mapped_column(String(17))
    birth_registration: Mapped[str | None] = mapped_column(String(17))
    sex: Mapped[str] = mapped_column(String(8))
    birth_year: Mapped[int] = mapped_column(Integer)
    ward: Mapped[str | None] = mapped_column(String(16))
    village: Mapped[str | None] = mapped_column(String(128))
    payment_channel: Mapped[str] = mapped_column(String(16))
    mfs_provider: Mapped[str | None] = mapped_column(String(16))
    wallet_number: Mapped[str | None] = mapped_column(String(11))
    bank_account: Mapped[str | None] = mapped_column(String(32))
    routing_number: Mapped[str | None] = mapped_column(String(9))
    post_office_code: Mapped[str | None] = mapped_column(String(16))
    source_row_sha256: Mapped[str] = mapped_column(String(64))
    snapshot_at: Mapped[datetime]


class Decision(Base):
    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("allowance_lists.id"), index=True)
    action: Mapped[str] = mapped_column(String(16))  # a key of LIST_ACTION_ROLES
    username: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(Text)
    content_sha256: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime]
    # The step this decision takes (checked by the database against LIST_TRANSITIONS).
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    via: Mapped[str | None] = mapped_column(String(16))  # how the decider was verified


class AuditEntry(Base):
    """Append-only, hash-chained: entry_hash = sha256(prev_hash || canonical payload)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64), unique=True)


OUTBOX_STATUSES = ("pending", "sending", "sent", "failed", "not_configured")


class OutboxMessage(Base):
    """A notification to send after the transaction that decided it committed.

    Written in the same transaction as the alert (or other event) it reports; delivered by
    a separate step with bounded retries. `status`: pending -> sending (claimed) -> sent |
    failed (gave up, `last_error` says why) | not_configured (e.g. no SMS gateway)."""

    __tablename__ = "notification_outbox"
    __table_args__ = (
        CheckConstraint(
            "status IN ('pending','sending','sent','failed','not_configured')",
            name="status_known",
        ),
        CheckConstraint("channel IN ('email','sms')", name="channel_known"),
        Index("ix_notification_outbox_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(255), unique=True)
    kind: Mapped[str] = mapped_column(String(32))  # alert | scheduler
    channel: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(String(64))  # a username, never an address
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id"), index=True)
    created_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    claimed_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


class SchedulerHeartbeat(Base):
    """The active scheduler of a store beats here; an old beat means it is not running."""

    __tablename__ = "scheduler_heartbeat"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)  # "scheduler"
    holder: Mapped[str] = mapped_column(String(255))  # host:pid of the active scheduler
    started_at: Mapped[datetime]
    beat_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(16))  # running | stopped
    jobs: Mapped[list[Any]] = mapped_column(default=list)


GRIEVANCE_STATUSES = ("open", "in_progress", "resolved", "referred", "rejected")
GRIEVANCE_CATEGORIES = (
    "exclusion",
    "inclusion_error",
    "non_payment",
    "wrong_amount",
    "data_correction",
    "conduct",
    "other",
)
GRIEVANCE_CHANNELS = ("hotline", "union_digital_centre", "civil_society", "office", "other")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Grievance(Base):
    """One complaint in the register. Complainant details are optional, minimal (name, phone)
    and shown only to those who handle grievances of the district; status changes follow
    the table in allowances/grievances.py, which the database enforces as well."""

    __tablename__ = "grievances"
    __table_args__ = (
        CheckConstraint(_in("status", GRIEVANCE_STATUSES), name="status_known"),
        CheckConstraint(_in("category", GRIEVANCE_CATEGORIES), name="category_known"),
        CheckConstraint(_in("channel", GRIEVANCE_CHANNELS), name="channel_known"),
        CheckConstraint(
            "status IN ('open','in_progress') OR (closed_at IS NOT NULL AND "
            "closing_reason IS NOT NULL AND length(closing_reason) > 0)",
            name="closed_with_reason",
        ),
        CheckConstraint(
            "complainant_phone IS NULL OR length(complainant_phone) = 11", name="phone_11_digits"
        ),
        CheckConstraint("sla_hours > 0", name="sla_positive"),
        Index("ix_grievances_district_status", "district_pcode", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    received_at: Mapped[datetime]
    recorded_at: Mapped[datetime]
    recorded_by: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(32))
    partner: Mapped[str | None] = mapped_column(String(128))  # civil-society partner, UDC …
    category: Mapped[str] = mapped_column(String(32))
    district_pcode: Mapped[str] = mapped_column(String(16))
    adm4_pcode: Mapped[str] = mapped_column(String(16))
    household_id: Mapped[str | None] = mapped_column(String(64), index=True)
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id"))
    description: Mapped[str] = mapped_column(Text)
    complainant_name: Mapped[str | None] = mapped_column(String(128))
    complainant_phone: Mapped[str | None] = mapped_column(String(11))
    status: Mapped[str] = mapped_column(String(16))
    assigned_to: Mapped[str | None] = mapped_column(String(64))
    sla_hours: Mapped[int] = mapped_column(Integer)  # the target in force when received
    due_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    closing_reason: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime]


class GrievanceEvent(Base):
    """Append-only history of a grievance: who did what, when, from which status to which."""

    __tablename__ = "grievance_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    grievance_id: Mapped[int] = mapped_column(ForeignKey("grievances.id"), index=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(16))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    assigned_to: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)


PAYMENT_STATUSES = ("paid", "failed", "reversed")


class PaymentImport(Base):
    """One provider return file applied to a list: who, when, which file (its sha256) and
    what it changed. Re-importing the same file is recognised by its hash."""

    __tablename__ = "payment_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("allowance_lists.id"), index=True)
    file_name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    imported_by: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[datetime]
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    summary: Mapped[dict[str, Any]] = mapped_column(default=dict)


class PaymentResult(Base):
    """The provider's outcome of one payment line, at most one per line (a unique line_ref).
    It moves only failed -> paid (a re-try) or paid -> reversed, never back, and is never
    deleted: the database refuses anything else (migration 0009)."""

    __tablename__ = "payment_results"
    __table_args__ = (
        CheckConstraint(_in("status", PAYMENT_STATUSES), name="status_known"),
        CheckConstraint("status = 'failed' OR paid_at IS NOT NULL", name="paid_has_time"),
        CheckConstraint(
            "status = 'paid' OR (failure_reason IS NOT NULL AND length(failure_reason) > 0)",
            name="failure_has_reason",
        ),
        CheckConstraint("amount_bdt > 0", name="amount_positive"),
        UniqueConstraint("line_ref", name="one_result_per_line"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("allowance_lists.id"), index=True)
    line_ref: Mapped[str] = mapped_column(String(32))
    household_id: Mapped[str] = mapped_column(String(64), index=True)
    amount_bdt: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    provider_txn_id: Mapped[str | None] = mapped_column(String(64))
    # When the money reached the payee (kept when a payment is later reversed).
    paid_at: Mapped[datetime | None]
    failure_reason: Mapped[str | None] = mapped_column(String(255))
    first_import_id: Mapped[int] = mapped_column(ForeignKey("payment_imports.id"))
    last_import_id: Mapped[int] = mapped_column(ForeignKey("payment_imports.id"))
    updated_at: Mapped[datetime]
