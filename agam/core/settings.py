"""The one validated configuration: config.toml plus a few environment overrides.

Resolution: `--config PATH` > `AGAM_CONFIG` > `./config.toml`. `AGAM_DATA_DIR` overrides
`[app].data_dir` and `AGAM_DATABASE_URL` overrides `[database].url`, so several independent
stores can live side by side. Secrets never live here; they come from the environment.

Every section is typed and validated strictly (TOML types are taken as they are: `"no"` is
not a boolean, `"abc"` not a port). All problems are reported at once, one line each,
naming the file and the key (`config.toml: [notifications.smtp_port] …`).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, Field, ValidationError

from agam.core.config_sections import (
    FEED_MODELS,
    AllowanceSettings,
    AppSettings,
    BoundarySettings,
    CapSettings,
    DashboardSettings,
    DatabaseSettings,
    FeedSettings,
    GrievanceSettings,
    NotificationSettings,
    SchedulerSettings,
    Section,
    TriggerSettings,
)
from agam.core.errors import ConfigError
from agam.core.strict import validate_strict

__all__ = [
    "AllowanceSettings",
    "AppSettings",
    "BoundarySettings",
    "CapSettings",
    "DashboardSettings",
    "DatabaseSettings",
    "FeedSettings",
    "GrievanceSettings",
    "NotificationSettings",
    "SchedulerSettings",
    "Settings",
    "TriggerSettings",
    "load_settings",
    "resolve_config_path",
    "validate_feed_table",
]

M = TypeVar("M", bound=BaseModel)
DEFAULT_CONFIG_NAME = "config.toml"
SECTIONS = (
    "app",
    "database",
    "boundaries",
    "dashboard",
    "notifications",
    "triggers",
    "allowances",
    "scheduler",
    "grievances",
    "cap",
)
ENV_OVERRIDES = {("app", "data_dir"): "AGAM_DATA_DIR", ("database", "url"): "AGAM_DATABASE_URL"}


class Settings(Section):
    config_path: Path
    app: AppSettings = AppSettings()
    database: DatabaseSettings = DatabaseSettings()
    boundaries: BoundarySettings = BoundarySettings()
    dashboard: DashboardSettings = DashboardSettings()
    notifications: NotificationSettings = NotificationSettings()
    triggers: TriggerSettings = TriggerSettings()
    allowances: AllowanceSettings = AllowanceSettings()
    scheduler: SchedulerSettings = SchedulerSettings()
    # [feeds.<name>]: each validated by its feed's model (hazard_feeds), typed by name.
    feeds: dict[str, FeedSettings] = Field(default_factory=dict)
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

    def enabled_feeds(self) -> dict[str, FeedSettings]:
        return {name: table for name, table in sorted(self.feeds.items()) if table.enabled}

    def with_feed_tables(self, tables: Mapping[str, Mapping[str, Any]]) -> Settings:
        """These settings with [feeds.*] replaced by `tables` (validated like the file's)."""
        feeds, problems = _feeds(dict(tables), self.config_path.parent)
        if problems:
            raise ConfigError("\n".join(f"{self.config_path}: {p}" for p in problems))
        return self.model_copy(update={"feeds": feeds})


def resolve_config_path(explicit: Path | str | None = None) -> Path:
    if explicit:
        return Path(explicit)
    env = os.environ.get("AGAM_CONFIG")
    return Path(env) if env else Path(DEFAULT_CONFIG_NAME)


def load_settings(path: Path | str | None = None) -> Settings:
    """Read and validate config.toml; ConfigError lists every problem, one line each."""
    config_path = resolve_config_path(path).resolve()
    if not config_path.is_file():
        raise ConfigError(f"{config_path}: configuration file not found")
    try:
        # utf-8-sig: Windows editors (Notepad) start a saved file with a byte-order mark
        raw = tomllib.loads(config_path.read_text(encoding="utf-8-sig"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{config_path}: not valid TOML ({exc})") from exc
    except RecursionError:
        raise ConfigError(f"{config_path}: not valid TOML (nested too deep)") from None
    except OSError as exc:
        raise ConfigError(f"{config_path}: cannot be read ({exc.strerror})") from None
    return settings_from_mapping(raw, config_path)


def settings_from_mapping(raw: dict[str, Any], config_path: Path) -> Settings:
    data = {k: (dict(v) if isinstance(v, dict) else v) for k, v in raw.items()}
    sources: dict[str, str] = {}
    for (section, key), variable in ENV_OVERRIDES.items():
        value = os.environ.get(variable)
        if value and isinstance(data.setdefault(section, {}), dict):
            data[section][key] = value
            sources[f"{section}.{key}"] = variable
    for section in SECTIONS:  # absent tables still get their paths resolved
        data.setdefault(section, {})
    feeds_raw = data.pop("feeds", {})
    problems: list[str] = []
    settings: Settings | None = None
    try:
        settings = strict_validate(
            Settings, data | {"config_path": str(config_path)}, config_path.parent
        )
    except ValidationError as exc:
        problems += [_line(e, sources) for e in exc.errors()]
    if not isinstance(feeds_raw, dict):
        problems.append("[feeds] must be a table of [feeds.<name>] tables")
        feeds_raw = {}
    feeds, feed_problems = _feeds(feeds_raw, config_path.parent)
    problems += feed_problems
    if problems or settings is None:
        raise ConfigError("\n".join(f"{config_path}: {p}" for p in problems))
    return settings.model_copy(update={"feeds": feeds})


def validate_feed_table(name: str, table: Mapping[str, Any] | None, config_dir: Path) -> Any:
    """One [feeds.<name>] table through its feed's model; an absent table means "known but
    not scheduled". Raises ValidationError (locations relative to the table)."""
    return strict_validate(FEED_MODELS[name], dict(table or {"enabled": False}), config_dir)


def strict_validate(model: type[M], data: Any, config_dir: Path) -> M:
    """TOML data through `model`, strictly; relative paths resolved against `config_dir`."""
    return validate_strict(model, data, {"config_dir": config_dir})


def _feeds(tables: dict[str, Any], config_dir: Path) -> tuple[dict[str, FeedSettings], list[str]]:
    if tables and not FEED_MODELS:
        # hazard_feeds.registry registers the models; without it nothing could be checked.
        raise ConfigError("no feed models registered: import hazard_feeds.registry first")
    feeds: dict[str, FeedSettings] = {}
    problems: list[str] = []
    for name, table in tables.items():
        if name not in FEED_MODELS:
            known = ", ".join(sorted(FEED_MODELS))
            problems.append(f"[feeds.{name}] unknown feed; known: {known}")
            continue
        if not isinstance(table, dict):
            problems.append(f"[feeds.{name}] must be a table")
            continue
        try:
            feeds[name] = validate_feed_table(name, table, config_dir)
        except ValidationError as exc:
            problems += [_line(e, {}, prefix=("feeds", name)) for e in exc.errors()]
    return feeds, problems


def _line(error: Any, sources: dict[str, str], prefix: tuple[str, ...] = ()) -> str:
    loc = [str(p) for p in (*prefix, *error["loc"])]
    key = ".".join(loc) or "(top level)"
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "unknown key (misspelled?)"
    elif error["type"] == "missing":
        message = "required key missing"
    elif error["type"] == "finite_number":  # nan or inf, which TOML can write
        message = "not a finite number"
    origin = f" (from {sources[key]})" if key in sources else ""
    return f"[{key}]{origin} {message}"
