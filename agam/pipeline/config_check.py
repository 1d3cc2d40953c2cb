"""`agam config check`: beyond the typed model, resolve what would otherwise fail later.

Loading already refuses unknown keys, wrong types, impossible crons and unknown database
schemes. This adds the checks that need the machine: the data dir is writable, the database
driver is installed, the rule-set files load and read known, enabled feeds, no rule set or
policy version differs from what the store recorded at its first use, the boundary file
exists, secrets the settings name are present. Every problem is one line naming the
file and the key; warnings say what will silently not work (e.g. a rule reading a disabled
feed stays "unknown").
"""

from __future__ import annotations

import importlib.util
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from agam.core.errors import AgamError
from agam.core.settings import Settings
from agam.pipeline.notify import SMTP_PASSWORD_ENV
from agam.pipeline.versions_in_use import fingerprints
from store import config_versions
from store.db import sqlite_path
from triggers.engine import builtin_rule_set_dir, load_rule_sets, newest_versions
from triggers.model import RuleSet, walk


@dataclass
class ConfigReport:
    config_path: Path
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def error(self, key: str, message: str) -> None:
        self.errors.append(f"{self.config_path}: [{key}] {message}")

    def warn(self, key: str, message: str) -> None:
        self.warnings.append(f"{self.config_path}: [{key}] {message}")

    @property
    def ok(self) -> bool:
        return not self.errors


def check_config(settings: Settings) -> ConfigReport:
    report = ConfigReport(settings.config_path)
    _data_dir(settings, report)
    _database(settings, report)
    _boundaries(settings, report)
    rule_sets = _rule_sets(settings, report)
    _versions_in_store(settings, rule_sets, report)
    _feeds_read(settings, rule_sets, report)
    _feeds(settings, report)
    _notifications(settings, report)
    return report


def writable_folder(folder: Path) -> str | None:
    """Why `folder` cannot be created or written, or None: tries a real temporary file."""
    existing = folder
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    if not existing.is_dir():
        return f"{existing} is not a folder"
    try:
        with tempfile.NamedTemporaryFile(dir=existing, prefix=".agam-check-"):
            pass
    except OSError as exc:
        return f"{existing} is not writable ({exc.strerror})"
    return None


def _data_dir(settings: Settings, report: ConfigReport) -> None:
    problem = writable_folder(settings.data_dir)
    if problem:
        report.error("app.data_dir", problem)


def _database(settings: Settings, report: ConfigReport) -> None:
    url = make_url(settings.database_url)  # the scheme was checked when loading
    try:
        url.get_dialect().import_dbapi()
    except ImportError as exc:
        hint = " (use postgresql+psycopg:// and pip install 'agam[postgres]')"
        extra = hint if url.get_backend_name() == "postgresql" else ""
        report.error("database.url", f"driver for {url.drivername} not installed: {exc}{extra}")


def _boundaries(settings: Settings, report: ConfigReport) -> None:
    path = settings.boundaries.path
    if settings.boundaries.source == "cod-ab" and path is not None and not path.exists():
        report.error("boundaries.path", f"{path} does not exist")


def _versions_in_store(settings: Settings, rule_sets: list[RuleSet], report: ConfigReport) -> None:
    """A loaded rule set or the policy whose version the store knows with other content (the
    scheduler would refuse to start). A store not made yet has nothing to compare."""
    path = sqlite_path(settings.database_url)
    if any("[database" in e for e in report.errors) or (path is not None and not path.is_file()):
        return
    url = make_url(settings.database_url)
    timeout = {"connect_timeout": 5} if url.get_backend_name() == "postgresql" else {}
    engine = create_engine(url, connect_args=timeout, hide_parameters=True)
    try:
        prints = fingerprints(rule_sets)
        with Session(engine) as session:
            problems = config_versions.conflicts(session, prints)
    except (AgamError, SQLAlchemyError) as exc:
        why = " ".join(str(exc).split())[:200]
        report.warn("database", f"rule set and policy versions not compared with the store: {why}")
        return
    finally:
        engine.dispose()
    for problem in problems:
        report.error("triggers", problem)


def _rule_sets(settings: Settings, report: ConfigReport) -> list[RuleSet]:
    """Every rule-set file on its own, so each bad file is reported."""
    loaded: list[RuleSet] = []
    for item in (builtin_rule_set_dir(), *settings.triggers.rule_set_files):
        try:
            loaded += load_rule_sets([item])
        except AgamError as exc:
            key = "triggers.rule_set_files" if item != builtin_rule_set_dir() else "triggers"
            report.error(key, str(exc))
    known = {s.id for s in loaded}
    enabled = settings.triggers.enabled_rule_sets
    for rule_set_id in enabled or ():
        if rule_set_id not in known:
            choices = ", ".join(sorted(known))
            report.error(
                "triggers.enabled_rule_sets", f"unknown rule set {rule_set_id!r}; known: {choices}"
            )
    newest = newest_versions(loaded)
    return [s for s in newest if (s.id in enabled if enabled is not None else s.enabled_by_default)]


def feeds_read(rule_set: RuleSet) -> set[str]:
    """The feeds a rule set's rules (and their trend conditions) read."""
    names: set[str] = set()
    for stage in rule_set.stages:
        for root in (stage.rule, stage.targeting):
            for rule in walk(root) if root is not None else ():
                names.add(str(getattr(rule, "feed", "")))
                trend = getattr(rule, "trend", None)
                if trend is not None:
                    names.add(trend.feed)
    return names - {""}


def _feeds_read(settings: Settings, rule_sets: list[RuleSet], report: ConfigReport) -> None:
    enabled = set(settings.enabled_feeds())
    for rule_set in rule_sets:
        for feed in sorted(feeds_read(rule_set) - enabled):
            report.warn(
                f"feeds.{feed}",
                f"rule set {rule_set.id} reads feed {feed!r}, which is not enabled: the "
                "stages that need it stay 'unknown'",
            )


def _feeds(settings: Settings, report: ConfigReport) -> None:
    feeds = settings.enabled_feeds()
    if not feeds:
        report.warn("feeds", "no enabled feed: `agam scheduler` has nothing to schedule")
    glofas: Any = feeds.get("glofas")
    if glofas is not None and not getattr(glofas, "mirror_url", ""):
        if importlib.util.find_spec("cdsapi") is None:
            report.error("feeds.glofas", "EWDS needs the `glofas` extra (pip install cdsapi)")
        if not os.environ.get("CDSAPI_KEY") and not (Path.home() / ".cdsapirc").exists():
            report.error("feeds.glofas", "EWDS needs CDSAPI_KEY in the environment")
    bmd: Any = feeds.get("bmd")
    folder = getattr(bmd, "drop_folder", None)
    if isinstance(folder, Path):
        problem = writable_folder(folder)
        if problem:
            report.error("feeds.bmd.drop_folder", problem)


def _notifications(settings: Settings, report: ConfigReport) -> None:
    n = settings.notifications
    if n.enabled and n.smtp_username and not os.environ.get(SMTP_PASSWORD_ENV):
        report.error(
            "notifications.smtp_username", f"set, but {SMTP_PASSWORD_ENV} is not in the environment"
        )
    if n.sms_enabled:
        report.warn(
            "notifications.sms_enabled",
            "no SMS gateway is configured: text messages are recorded as 'not sent: no gateway'",
        )
