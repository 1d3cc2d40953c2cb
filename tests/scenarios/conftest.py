"""The flood scenario played once per test session into a temporary site (small SYNTHETIC
registry), through the real fetch -> parse -> evaluate -> propose path."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from agam.core.settings import load_settings
from agam.pipeline.context import AppContext
from agam.pipeline.demo import ensure_synthetic_registry
from agam.scenarios.player import play


def write_site(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "config.toml"
    path.write_text(
        '[app]\ndata_dir = "data"\nlog_level = "WARNING"\n\n[dashboard]\ntiles = ""\n',
        encoding="utf-8",
    )
    return path


def played_site(folder: Path, name: str) -> SimpleNamespace:
    config = write_site(folder)
    settings = load_settings(config)
    ctx = AppContext(settings)
    ctx.prepare()
    ensure_synthetic_registry(ctx, 4000, seed=7)
    steps: list = []
    result = play(settings, name, progress=steps.append)
    return SimpleNamespace(config=config, settings=settings, ctx=ctx, result=result, steps=steps)


@pytest.fixture(scope="session")
def flood_site(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    return played_site(tmp_path_factory.mktemp("flood-site"), "flood")


@pytest.fixture(scope="session")
def cyclone_site(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    return played_site(tmp_path_factory.mktemp("cyclone-site"), "cyclone")
