"""Shared fixtures: an isolated config + data dir per test, the embedded union layer once."""

from __future__ import annotations

from pathlib import Path

import pytest

from agam.core.settings import Settings, load_settings
from boundaries.layer import UnionLayer, load_union_layer

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def write_config(folder: Path, extra: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "config.toml"
    path.write_text(
        '[app]\ndata_dir = "data"\nlog_level = "WARNING"\n\n[dashboard]\ntiles = ""\n' + extra,
        encoding="utf-8",
    )
    return path


@pytest.fixture
def config_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("AGAM_DATA_DIR", raising=False)
    monkeypatch.delenv("AGAM_DATABASE_URL", raising=False)
    path = write_config(tmp_path / "site")
    monkeypatch.setenv("AGAM_CONFIG", str(path))
    return path


@pytest.fixture
def settings(config_path: Path) -> Settings:
    return load_settings(config_path)


@pytest.fixture(scope="session")
def union_layer(tmp_path_factory: pytest.TempPathFactory) -> UnionLayer:
    return load_union_layer(cache_dir=tmp_path_factory.mktemp("layer-cache"))
