"""The one validated configuration: config.toml plus a few environment overrides.

Resolution: `--config PATH` > `AGAM_CONFIG` > `./config.toml`. `AGAM_DATA_DIR` overrides
`[app].data_dir` and `AGAM_DATABASE_URL` overrides `[database].url`, so several independent
stores can live side by side. Secrets never live here; they come from the environment.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

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
    # Online basemap tiles: "" = the offline basemap shipped with Agam (no internet needed);
    # "OpenStreetMap" or a URL template "https://…/{z}/{x}/{y}.png" for online tiles.
    tiles: str = ""
    # Ignored (kept so older config files still load): the map always uses the Leaflet copy
    # shipped in dashboard/static, so it works without internet.
    asset_base_url: str = "/app/static"


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
