"""`agam serve`: refuses a data dir without a store; on a store, builds the map geometry and
becomes the dashboard server with the port and address asked for."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from agam.cli import serve_cmd
from agam.cli.main import app
from agam.core.settings import load_settings
from agam.pipeline.context import AppContext

runner = CliRunner()


class Became(Exception):
    """Raised instead of exec'ing the server."""


def test_serve_refuses_a_data_dir_without_a_store(config_path: Path) -> None:
    result = runner.invoke(app, ["serve"])
    assert result.exit_code == 8
    assert "no Agam store" in result.stderr
    assert "agam demo" in result.stderr
    assert not (config_path.parent / "data" / "agam.sqlite3").exists()  # nothing created


def test_serve_runs_the_dashboard_server(
    config_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = load_settings(config_path)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    AppContext(settings).store.upgrade()
    seen: dict[str, object] = {}

    def fake_exec(path: str, argv: list[str], env: dict[str, str]) -> None:
        seen.update(path=path, argv=argv, env=env)
        raise Became

    monkeypatch.setattr(serve_cmd.os, "execve", fake_exec)
    result = runner.invoke(app, ["serve", "--port", "8765", "--address", "0.0.0.0"])
    assert isinstance(result.exception, Became), result.output
    argv = seen["argv"]
    assert isinstance(argv, list)
    assert argv[argv.index("run") + 1].endswith("dashboard/server.py")
    assert argv[argv.index("--server.port") + 1] == "8765"
    assert argv[argv.index("--server.address") + 1] == "0.0.0.0"
    assert argv[argv.index("--server.enableWebsocketCompression") + 1] == "true"
    assert seen["env"]["AGAM_CONFIG"] == str(settings.config_path)  # type: ignore[index]
    assert "TLS reverse proxy" in result.stderr  # listening beyond this machine
    built = list((settings.cache_dir / "geo").glob("*/national.json"))
    assert len(built) == 1  # the first Map view does not wait for it
