"""config.toml resolution and overrides."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agam.core.errors import ConfigError
from agam.core.settings import load_settings
from hazard_feeds import registry as _feed_models  # noqa: F401  (registers the feed tables)

ROOT = Path(__file__).resolve().parents[1]


def test_shipped_config_is_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AGAM_DATA_DIR", raising=False)
    settings = load_settings(ROOT / "config.toml")
    assert settings.boundaries.source == "embedded"
    assert settings.data_dir == ROOT / "var"
    assert settings.database_url.endswith("/var/agam.sqlite3")


def test_environment_overrides(
    config_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGAM_DATA_DIR", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("AGAM_DATABASE_URL", "postgresql+psycopg://agam@db/agam")
    settings = load_settings()  # AGAM_CONFIG from the fixture
    assert settings.config_path == config_path.resolve()
    assert settings.data_dir == tmp_path / "elsewhere"
    assert settings.database_url == "postgresql+psycopg://agam@db/agam"


def test_unknown_key_is_named(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[boundaries]\nsorce = 'embedded'\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"c\.toml: \[boundaries\.sorce\]"):
        load_settings(path)


def test_cod_ab_needs_a_path(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[boundaries]\nsource = 'cod-ab'\npath = ''\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[boundaries\.path\] required"):
        load_settings(path)


def test_broken_toml(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[app\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(path)


def test_a_config_nested_too_deep_or_unreadable_is_one_line(tmp_path: Path) -> None:
    """Python's TOML reader recurses: a config nested thousands deep was a traceback."""
    path = tmp_path / "c.toml"
    path.write_text("a = " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"c\.toml: not valid TOML \(nested too deep\)"):
        load_settings(path)
    path.write_text("[app]\n", encoding="utf-8")
    path.chmod(0)
    if os.access(path, os.R_OK):  # root reads anything: nothing to show
        return
    with pytest.raises(ConfigError, match=r"c\.toml: cannot be read"):
        load_settings(path)
