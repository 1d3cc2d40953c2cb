"""The typed sections of config.toml. Every table is frozen and refuses unknown keys; the
loader validates them strictly (no "no" for a boolean, no "abc" for a port).

Relative paths are resolved against the folder of config.toml through the validation
context key `config_dir`; the feed tables' common keys live here (the scheduler and the
health report read them), each feed's own keys in its model in hazard_feeds.

Beyond types, a value that could never work is refused too: NaN or infinity for any number
(TOML has both), a feed that is always stale, two schedules for one feed, a feed URL no fetch
can read, map tiles that are not a tile template, no rule set at all.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal, Self
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticKnownError

DATABASE_BACKENDS = ("sqlite", "postgresql")
HOSTNAME = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
WEB_URL = re.compile(r"^https?://[^\s/?#]+([/?#]\S*)?$")
# Map tiles: "" (offline basemap), a name dashboard.map_widget knows, or an https template
# with Leaflet's placeholders (any other {name} makes Leaflet throw in the browser).
TILE_NAMES = ("", "OpenStreetMap")
TILE_TEMPLATE = re.compile(r"^https://[^\s/?#]+/\S*$")
TILE_NEEDED = {"{z}", "{x}", "{y}"}
TILE_PLACEHOLDERS = TILE_NEEDED | {"{s}", "{r}", "{-y}"}
MAX_AGE_HOURS = 1_000_000  # ~114 years: replaying a recorded season ages its data by years


def is_web_url(value: str) -> bool:
    """An http:// or https:// URL with a host and no white space (what the feeds' HTTP
    session can fetch: it mounts only those two schemes)."""
    if not WEB_URL.match(value):
        return False
    try:
        return bool(urlsplit(value).hostname)
    except ValueError:  # e.g. an unclosed [IPv6 address
        return False


def resolve_path(value: Path, info: ValidationInfo) -> Path:
    """A relative path is relative to config.toml's folder (context `config_dir`)."""
    base = (info.context or {}).get("config_dir")
    if base is not None and not value.is_absolute():
        return Path(base) / value
    return value


ConfigPath = Annotated[Path, AfterValidator(resolve_path)]


class Section(BaseModel):
    # TOML has nan and inf: no setting means either (settings._line: "not a finite number").
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


def config_path_field(default: str) -> Any:
    """A path field whose default, too, is resolved against config.toml's folder."""
    return Field(default=default, validate_default=True)


class AppSettings(Section):
    data_dir: ConfigPath = config_path_field("var")
    display_timezone: Literal["Asia/Dhaka"] = "Asia/Dhaka"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


class DatabaseSettings(Section):
    # Empty means SQLite (WAL) at <data_dir>/agam.sqlite3; otherwise a SQLAlchemy URL of a
    # supported backend, e.g. postgresql+psycopg://agam@db/agam.
    url: str = ""
    busy_timeout_ms: int = Field(default=5000, ge=0, le=600_000)
    # How long an evaluation waits for another one to finish before giving up (one writer).
    lock_timeout_s: float = Field(default=600.0, gt=0, le=86_400)

    @field_validator("url")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        if not value:
            return value
        # imported here: SQLAlchemy costs ~0.5 s and commands such as `--help` never need it
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            backend = make_url(value).get_backend_name()
        except ArgumentError:
            raise ValueError(
                "not a database URL (e.g. postgresql+psycopg://user@host/db)"
            ) from None
        if backend not in DATABASE_BACKENDS:
            raise ValueError(f"unknown database scheme {backend!r}; use sqlite or postgresql")
        return value


class BoundarySettings(Section):
    # "embedded" = the union layer shipped in the package; "cod-ab" = an official file at `path`.
    source: Literal["embedded", "cod-ab"] = "embedded"
    path: ConfigPath | None = Field(default=None, validate_default=True)
    layer: str | None = None
    # Overlap tolerance when checking each unit lies inside its parent (share of its area).
    parent_containment_min_share: float = Field(default=0.5, gt=0, le=1)
    # Invalid polygons are an error by default; true repairs them with make_valid and reports.
    repair_invalid: bool = False

    @field_validator("path", "layer", mode="before")
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        return None if value == "" else value

    @field_validator("path")
    @classmethod
    def _path_for_cod_ab(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        if value is None and info.data.get("source") == "cod-ab":
            raise ValueError("required when source = 'cod-ab'")
        return value


class DashboardSettings(Section):
    port: int = Field(default=8501, ge=1, le=65535)
    address: str = "127.0.0.1"
    simplify_tolerance_deg: float = Field(default=0.006, ge=0, le=1)
    coordinate_decimals: int = Field(default=4, ge=3, le=7)
    # Online basemap tiles: "" = the offline basemap shipped with Agam (no internet needed);
    # "OpenStreetMap" or a URL template "https://…/{z}/{x}/{y}.png" for online tiles.
    tiles: str = ""
    # Ignored (kept so older config files still load): the map always uses the Leaflet copy
    # shipped in dashboard/static, so it works without internet.
    asset_base_url: str = "/app/static"

    @field_validator("tiles")
    @classmethod
    def _tile_template(cls, value: str) -> str:
        if value in TILE_NAMES:
            return value
        placeholders = set(re.findall(r"\{[^{}]*\}", value))
        if not (TILE_TEMPLATE.match(value) and TILE_NEEDED <= placeholders <= TILE_PLACEHOLDERS):
            raise ValueError(
                'not "", "OpenStreetMap" or an https:// tile template with {z}, {x} and {y} '
                "(e.g. https://…/{z}/{x}/{y}.png)"
            )
        return value


class NotificationSettings(Section):
    """E-mail (SMTP) and SMS. Messages go through the outbox: written with the alert, sent
    after the commit with bounded retries. The SMTP password comes from AGAM_SMTP_PASSWORD."""

    enabled: bool = False
    smtp_host: str = "localhost"
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_starttls: bool = True
    smtp_username: str | None = None
    from_address: str = "agam@localhost"
    timeout_s: float = Field(default=10.0, gt=0, le=300)
    dashboard_url: str = "http://localhost:8501"
    sms_enabled: bool = False
    # Delivery: a failed message is tried again on later ticks, at most max_attempts times,
    # waiting retry_backoff_s x 2^(attempt-1) between attempts.
    max_attempts: int = Field(default=5, ge=1, le=20)
    retry_backoff_s: float = Field(default=60.0, ge=0, le=86_400)

    @field_validator("smtp_host")
    @classmethod
    def _hostname(cls, value: str) -> str:
        if not HOSTNAME.match(value):
            raise ValueError(f"{value!r} is not a host name or IP address")
        return value

    @field_validator("from_address")
    @classmethod
    def _address(cls, value: str) -> str:
        if not EMAIL.match(value):
            raise ValueError(f"{value!r} is not an e-mail address")
        return value

    @field_validator("dashboard_url")
    @classmethod
    def _web_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^\s/]+", value):
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value


class TriggerSettings(Section):
    # None: each shipped rule set by its enabled_by_default; else exactly these ids.
    enabled_rule_sets: tuple[str, ...] | None = None
    # Extra rule-set TOML files or folders (relative to config.toml); newest version wins.
    rule_set_files: tuple[ConfigPath, ...] = ()

    @field_validator("enabled_rule_sets")
    @classmethod
    def _some_each_once(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is None:
            return value
        if not value:
            raise ValueError(
                "no rule set enabled: no alert would ever be raised "
                "(leave the key out for the shipped defaults)"
            )
        seen: set[str] = set()
        for rule_set_id in value:
            if rule_set_id in seen:
                raise ValueError(f"rule set {rule_set_id!r} listed twice")
            seen.add(rule_set_id)
        return value


class AllowanceSettings(Section):
    # true: a list needs two different district administrators of its district.
    second_approval: bool = False


class SchedulerSettings(Section):
    """The running scheduler writes a heartbeat; older than stale_after_s means "not running"."""

    heartbeat_interval_s: float = Field(default=30.0, gt=0, le=3600)
    stale_after_s: float = Field(default=180.0, gt=0, le=86_400)
    # A standby scheduler (another process on the same store) retries the lock this often.
    standby_poll_s: float = Field(default=5.0, gt=0, le=600)
    # A feed job that finds the store locked by another writer runs again this many times,
    # waiting locked_retry_wait_s between tries, before it gives up until its next run.
    locked_retries: int = Field(default=3, ge=0, le=20)
    locked_retry_wait_s: float = Field(default=5.0, ge=0, le=300)

    @model_validator(mode="after")
    def _stale_after_beats(self) -> Self:
        if self.stale_after_s <= self.heartbeat_interval_s:
            raise ValueError("stale_after_s must be longer than heartbeat_interval_s")
        return self


class FeedSettings(Section):
    """Keys every [feeds.<name>] table shares: schedule (UTC cron or interval) and freshness.
    Each feed's model in hazard_feeds extends this with its upstream and HTTP keys.

    The validators below also check keys the feed models define (`base_url`, `mirror_url`)
    or redefine with their own default (`max_age_hours`, which drops the Field bounds here):
    a validator is inherited by every subclass, a Field constraint is not."""

    enabled: bool = True
    cron: str | None = None  # UTC crontab, e.g. "15 */6 * * *"
    interval_minutes: int | None = Field(default=None, gt=0, le=7 * 24 * 60)  # whole minutes
    interval_seconds: float | None = Field(default=None, gt=0, le=7 * 24 * 3600)  # tests, demos
    misfire_grace_s: int = Field(default=3600, ge=1, le=7 * 24 * 3600)
    max_age_hours: float = Field(default=36.0, gt=0, le=MAX_AGE_HOURS)

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, value: str | None) -> str | None:
        if value:
            from apscheduler.triggers.cron import CronTrigger  # only configs with a cron

            try:
                CronTrigger.from_crontab(value, timezone=UTC)
            except ValueError as exc:
                raise ValueError(f"not a valid cron expression {value!r}: {exc}") from None
        return value

    @field_validator("interval_minutes", "interval_seconds")
    @classmethod
    def _not_with_cron(cls, value: float | None, info: ValidationInfo) -> float | None:
        # the scheduler would use the cron and silently ignore the interval
        if value is not None and info.data.get("cron"):
            raise ValueError(f"give cron or {info.field_name}, not both")
        return value

    @field_validator("max_age_hours")
    @classmethod
    def _max_age_bounds(cls, value: float) -> float:
        # <= 0: always stale; the feed models redefine the field, so the bounds are kept here
        if not value > 0:
            raise PydanticKnownError("greater_than", {"gt": 0})
        if value > MAX_AGE_HOURS:
            raise PydanticKnownError("less_than_equal", {"le": MAX_AGE_HOURS})
        return value

    @field_validator("base_url", check_fields=False)
    @classmethod
    def _web_url(cls, value: str) -> str:
        # "" for feeds that fetch nothing over HTTP (drop folders, local files)
        if value and not is_web_url(value):
            raise ValueError("not an http(s) URL with a host (e.g. https://host/path/)")
        return value

    @field_validator("mirror_url", check_fields=False)
    @classmethod
    def _mirror_url(cls, value: str) -> str:
        """GloFAS: "" (EWDS), an http(s) URL or a file:/// URL (an agency share mounted
        locally), with {date:…} filled in with the run's day."""
        if not value:
            return value
        try:
            url = value.format(date=datetime(2000, 1, 1, tzinfo=UTC))
        except (KeyError, IndexError, ValueError, AttributeError, TypeError):
            raise ValueError(
                "not a URL template: only {date:…} may be filled in, e.g. {date:%Y%m%d}"
            ) from None
        if not (is_web_url(url) or _is_file_url(url)):
            raise ValueError("not an http(s) or file:/// URL")
        return value

    @model_validator(mode="after")
    def _one_schedule(self) -> Self:
        if self.enabled and not (self.cron or self.interval_minutes or self.interval_seconds):
            raise ValueError("needs cron, interval_minutes or interval_seconds")
        return self

    @property
    def interval_s(self) -> float:
        return float(self.interval_seconds or 0) + 60 * float(self.interval_minutes or 0)


def _is_file_url(value: str) -> bool:
    """file:///absolute/path (or file://localhost/…), as hazard_feeds.glofas reads it."""
    if not value.startswith("file://"):
        return False
    parts = urlsplit(value)
    return parts.netloc in ("", "localhost") and parts.path.startswith("/") and parts.path != "/"


# Feed name -> its config model; filled by hazard_feeds.registry when it is imported.
FEED_MODELS: dict[str, type[FeedSettings]] = {}


def register_feed_model(name: str, model: type[FeedSettings]) -> None:
    if FEED_MODELS.get(name, model) is not model:
        raise ValueError(f"feed {name!r} already has a config model")
    FEED_MODELS[name] = model


# A service-level target: at least one hour, at most a year.
SlaHours = Annotated[int, Field(ge=1, le=24 * 366)]


class GrievanceSlaHours(Section):
    """Service-level target per grievance category: hours from receipt to a closing decision
    (resolved, referred or rejected). Payment problems come first in an activation."""

    exclusion: SlaHours = 15 * 24
    inclusion_error: SlaHours = 30 * 24
    non_payment: SlaHours = 72
    wrong_amount: SlaHours = 72
    data_correction: SlaHours = 15 * 24
    conduct: SlaHours = 7 * 24
    other: SlaHours = 30 * 24


class GrievanceSettings(Section):
    sla_hours: GrievanceSlaHours = GrievanceSlaHours()
    # "Due soon" warning: a grievance still open after this share of its target is flagged.
    due_soon_share: float = Field(default=0.8, gt=0, lt=1)


class CapSettings(Section):
    """Common Alerting Protocol 1.2 export of alert changes (docs/cap-alerts.md)."""

    # CAP <sender>: globally unique, no spaces, commas, '<' or '&' (e.g. a domain address).
    # Each installation sets its own; the defaults say plainly that they are not configured.
    sender: str = Field(default="agam@localhost", pattern=r"^[^\s,<&]{3,128}$")
    sender_name: str = Field(default="Agam (sender not configured)", min_length=1, max_length=200)
    sender_name_bn: str = Field(default="আগাম (প্রেরক ঠিক করা হয়নি)", min_length=1, max_length=200)
    # Prefix of every message identifier; one per installation so identifiers never collide.
    identifier_prefix: str = Field(default="BD-AGAM", pattern=r"^[A-Za-z0-9._-]{1,40}$")
    # <web> and the feed's links: where people read more (the public information page).
    web: str = Field(default="http://localhost:8501/", pattern=r"^https?://\S+$")
    # Absolute URL where the data dir's cap/ folder is served ("" = links relative to the feed).
    feed_base_url: str = Field(default="", pattern=r"^(|https?://\S+/)$")
    # Polygons: at most this many vertices each (gateways and cell broadcast limit them).
    max_polygon_vertices: int = Field(default=100, ge=4, le=1000)
    # Ended alerts stay in the Atom feed this long, so gateways see the all-clear / cancel.
    keep_ended_hours: int = Field(default=48, ge=0, le=24 * 30)
