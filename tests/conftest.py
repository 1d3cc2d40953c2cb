"""Shared fixtures: an isolated config + data dir per test, the embedded union layer once."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest

from agam.core.settings import Settings, load_settings
from boundaries.layer import UnionLayer, load_union_layer

FIXTURES = Path(__file__).resolve().parent / "fixtures"
PASSWORD = "a long test password"


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2 at its cheapest in this process (the shipped parameters cost ~0.1-1 s a hash);
    subprocesses (CLI, dashboard server) keep the real ones."""
    from argon2 import PasswordHasher, profiles

    from store import user_repo

    cheap = PasswordHasher.from_parameters(profiles.CHEAPEST)
    monkeypatch.setattr(user_repo, "_hasher", cheap)
    monkeypatch.setattr(user_repo, "_DUMMY", cheap.hash("agam-timing-equaliser"))


@pytest.fixture
def principal_for() -> Callable[..., Any]:
    """principal_for(store, "dc.kurigram"[, password]): a principal by password sign-in."""
    from datetime import UTC, datetime

    from store.user_repo import authenticate

    def sign_in(store: Any, username: str, password: str = PASSWORD) -> Any:
        with store.session() as session:
            result = authenticate(session, username, password, datetime.now(UTC), "test")
        assert result.principal is not None, result.message
        return result.principal

    return sign_in


def write_remal_bulletin(folder: Path) -> Path:
    """A drop folder holding the Remal-like BMD bulletin moved into 2025 with five model
    winds of 150 km/h 27 h ahead: the 2025 cyclone framework's action stage in six
    districts when judged at 2025-05-25 12:00 UTC (fetched 09:30 UTC)."""
    folder.mkdir(parents=True, exist_ok=True)
    doc = json.loads((FIXTURES / "feeds" / "bmd" / "bulletin_remal_like.json").read_text())
    doc["issued_at"] = "2025-05-25T15:00:00+06:00"
    doc["landfall"]["time"] = "2025-05-26T21:00:00+06:00"
    doc["system"]["type"] = "depression"
    for wind in doc["model_winds"]:
        wind["max_wind_kmh"] = 150
        wind["valid_time"] = "2025-05-26T18:00:00+06:00"  # 27 h after issue: action lead
    (folder / "remal.json").write_text(json.dumps(doc), encoding="utf-8")
    return folder


@pytest.fixture
def remal_drop(tmp_path: Path) -> Path:
    return write_remal_bulletin(tmp_path / "bulletins")


@pytest.fixture
def remal_site(
    config_path: Path, database_url: str, remal_drop: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., Any]]:
    """remal_site(clock, extra_config="") -> an AppContext on a store (SQLite or PostgreSQL)
    whose bmd feed reads the Remal-like bulletin (12 h max age), disposed afterwards."""
    from agam.pipeline.context import AppContext

    monkeypatch.setenv("AGAM_DATABASE_URL", database_url)
    made: list[Any] = []

    def make(clock: Callable[[], Any], extra_config: str = "") -> Any:
        config_path.write_text(
            config_path.read_text()
            + extra_config
            + "\n[feeds.bmd]\ninterval_minutes = 600\nmax_age_hours = 12\n"
            + f"drop_folder = '{remal_drop}'\n",
            encoding="utf-8",
        )
        ctx = AppContext(load_settings(config_path), clock=clock)
        ctx.store.upgrade()
        made.append(ctx)
        return ctx

    yield make
    for ctx in made:
        ctx.store.dispose()


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


def postgres_admin_url() -> str:
    """AGAM_TEST_POSTGRES_URL (scripts/pg_test_cluster.sh); CI sets it, so there a missing
    server fails instead of skipping."""
    admin_url = os.environ.get("AGAM_TEST_POSTGRES_URL")
    if not admin_url:
        if os.environ.get("CI"):
            pytest.fail("AGAM_TEST_POSTGRES_URL is not set: .ci/run must start PostgreSQL")
        pytest.skip("no PostgreSQL (set AGAM_TEST_POSTGRES_URL, see scripts/pg_test_cluster.sh)")
    return admin_url


@contextmanager
def fresh_postgres_database(admin_url: str) -> Iterator[str]:
    """A new, empty database on the test cluster, dropped afterwards."""
    import sqlalchemy as sa

    name = f"agam_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The same store test on SQLite and on a real PostgreSQL (fresh database per test)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'agam.sqlite3'}"
        return
    with fresh_postgres_database(postgres_admin_url()) as url:
        yield url


@pytest.fixture
def another_postgres_database() -> Iterator[Callable[[], str]]:
    """Makes more fresh PostgreSQL databases (e.g. a restore target), dropped afterwards."""
    with ExitStack() as stack:
        yield lambda: stack.enter_context(fresh_postgres_database(postgres_admin_url()))
