"""The one validated configuration: config.toml plus a few environment overrides.

Resolution: `--config PATH` > `AGAM_CONFIG` > `./config.toml`. `AGAM_DATA_DIR` overrides
`[app].data_dir` and `AGAM_DATABASE_URL` overrides `[database].url`, so several independent
stores can live side by side. Secrets never live here; they come from the environment.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agam.core.errors import ConfigError

DEFAULT_CONFIG_NAME = "config.toml"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class AppSettings(_Frozen):
    data_dir: Path = Path("./var")
    display_timezone: Literal["Asia/Dhaka"] = "Asia/Dhaka"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


class DatabaseSettings(_Frozen):
    # Empty means SQLite (WAL) at <data_dir>/agam.sqlite3; otherwise any SQLAlchemy URL.
    url: str = ""
    busy_timeout_ms: int = Field(default=5000, ge=0)


class BoundarySettings(_Frozen):
    # "embedded" = the union layer shipped in the package; "cod-ab" = an official file at `path`.
    source: Literal["embedded", "cod-ab"] = "embedded"
    path: Path | None = None
    layer: str | None = None
    # Overlap tolerance when checking each unit lies inside its parent (share of its area).
    parent_containment_min_share: float = Field(default=0.5, gt=0, le=1)
    # Invalid polygons are an error by default; true repairs them with make_valid and reports.
    repair_invalid: bool = False


class DashboardSettings(_Frozen):
    port: int = Field(default=8501, ge=1, le=65535)
    address: str = "127.0.0.1"
    simplify_tolerance_deg: float = Field(default=0.006, ge=0)
    coordinate_decimals: int = Field(default=4, ge=3, le=7)
    # Basemap tiles for folium; "" draws no basemap (offline sites).
    tiles: str = "OpenStreetMap"
    # Where the browser loads Leaflet from; "/app/static" = the copy shipped in dashboard/static.
    asset_base_url: str = "/app/static"


class _Strict(BaseModel):
    """A config table with strict types: no silent coercion of "72" to 72 or 1 to true."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


# A service-level target: at least one hour, at most a year.
SlaHours = Annotated[int, Field(ge=1, le=24 * 366)]


class GrievanceSlaHours(_Strict):
    """Service-level target per grievance category: hours from receipt to a closing decision
    (resolved, referred or rejected). Payment problems come first in an activation."""

    exclusion: SlaHours = 15 * 24
    inclusion_error: SlaHours = 30 * 24
    non_payment: SlaHours = 72
    wrong_amount: SlaHours = 72
    data_correction: SlaHours = 15 * 24
    conduct: SlaHours = 7 * 24
    other: SlaHours = 30 * 24


class GrievanceSettings(_Strict):
    sla_hours: GrievanceSlaHours = GrievanceSlaHours()
    # "Due soon" warning: a grievance still open after this share of its target is flagged.
    due_soon_share: float = Field(default=0.8, gt=0, lt=1)


class CapSettings(_Strict):
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


class Settings(_Frozen):
    config_path: Path
    app: AppSettings = AppSettings()
    database: DatabaseSettings = DatabaseSettings()
    boundaries: BoundarySettings = BoundarySettings()
    dashboard: DashboardSettings = DashboardSettings()
    # Per-feed tables are validated by the feed registry (hazard_feeds), not here.
    feeds: dict[str, dict[str, Any]] = Field(default_factory=dict)
    # Sections owned by later capabilities, validated by their own models.
    triggers: dict[str, Any] = Field(default_factory=dict)
    allowances: dict[str, Any] = Field(default_factory=dict)
    notifications: dict[str, Any] = Field(default_factory=dict)
    grievances: GrievanceSettings = GrievanceSettings()
    cap: CapSettings = CapSettings()

    @property
    def data_dir(self) -> Path:
        return self.app.data_dir

    @property
    def database_url(self) -> str:
        if self.database.url:
            return self.database.url
        return f"sqlite:///{(self.data_dir / 'agam.sqlite3').as_posix()}"

    @property
    def raw_dir(self) -> Path:
        return self.data_dir / "raw"

    @property
    def cache_dir(self) -> Path:
        return self.data_dir / "cache"


def resolve_config_path(explicit: Path | str | None = None) -> Path:
    if explicit:
        return Path(explicit)
    env = os.environ.get("AGAM_CONFIG")
    return Path(env) if env else Path(DEFAULT_CONFIG_NAME)


def load_settings(path: Path | str | None = None) -> Settings:
    """Read and validate config.toml; raise ConfigError naming the file and key."""
    config_path = resolve_config_path(path).resolve()
    if not config_path.is_file():
        raise ConfigError(f"{config_path}: configuration file not found")
    try:
        raw = tomllib.loads(config_path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{config_path}: not valid TOML ({exc})") from exc
    return settings_from_mapping(raw, config_path)


def settings_from_mapping(raw: dict[str, Any], config_path: Path) -> Settings:
    data = dict(raw)
    app = dict(data.get("app", {}))
    env_dir = os.environ.get("AGAM_DATA_DIR")
    if env_dir:
        app["data_dir"] = env_dir
    base = config_path.parent
    if "data_dir" in app and not Path(app["data_dir"]).is_absolute():
        app["data_dir"] = str(base / app["data_dir"])
    elif "data_dir" not in app:
        app["data_dir"] = str(base / "var")
    data["app"] = app
    database = dict(data.get("database", {}))
    env_url = os.environ.get("AGAM_DATABASE_URL")
    if env_url:
        database["url"] = env_url
    data["database"] = database
    bounds = dict(data.get("boundaries", {}))
    if bounds.get("path") and not Path(bounds["path"]).is_absolute():
        bounds["path"] = str(base / bounds["path"])
    for key in ("path", "layer"):
        if bounds.get(key) == "":
            bounds[key] = None
    data["boundaries"] = bounds
    feeds = {name: dict(table) for name, table in dict(data.get("feeds", {})).items()}
    for table in feeds.values():  # folder settings are relative to this file, like data_dir
        if table.get("drop_folder") and not Path(table["drop_folder"]).is_absolute():
            table["drop_folder"] = str(base / table["drop_folder"])
    data["feeds"] = feeds
    try:
        settings = Settings(config_path=config_path, **data)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"{config_path}: [{key}] {first['msg']}") from exc
    if settings.boundaries.source == "cod-ab" and settings.boundaries.path is None:
        raise ConfigError(f"{config_path}: [boundaries.path] required when source = 'cod-ab'")
    return settings
