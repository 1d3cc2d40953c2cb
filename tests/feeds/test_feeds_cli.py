"""`agam feeds parse NAME FILE --json` prints the normalised forecast with the agreed fields."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agam.cli import feeds_cmd
from agam.cli.main import app

FEEDS = Path(__file__).resolve().parents[1] / "fixtures" / "feeds"
runner = CliRunner()


def parse(name: str, path: Path) -> dict[str, object]:
    result = runner.invoke(app, ["feeds", "parse", name, str(path), "--json"])
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_gdacs_fields(config_path: Path) -> None:
    out = parse("gdacs", FEEDS / "gdacs" / "geometry-TC.json")
    assert {"event_id", "name", "issued_at", "track", "wind_bands"} <= out.keys()
    assert set(out["track"][0]) >= {"valid_time", "lat", "lon", "max_wind_kmh"}
    assert set(out["wind_bands"][0]) >= {"wind_kmh", "valid_time", "geometry"}
    assert out["issued_at"].endswith("Z")


def test_glofas_fields(config_path: Path) -> None:
    out = parse("glofas", FEEDS / "glofas" / "glofas_fc_20200625.nc")
    station = out["stations"]["Bahadurabad"]
    assert len(station["valid_time"]) == len(station["discharge_m3s"]) == 15
    assert len(station["discharge_m3s"][0]) == 51


def test_ffwc_fields(config_path: Path) -> None:
    out = parse("ffwc", FEEDS / "ffwc" / "bundle-20200607.json")
    station = out["stations"]["SW46.9L"]
    assert {"name", "danger_level_m", "observed", "forecast"} <= station.keys()
    assert set(station["forecast"][0]) == {"valid_time", "water_level_m"}


def test_bmd_fields(config_path: Path) -> None:
    out = parse("bmd", FEEDS / "bmd" / "bulletin_remal_like.json")
    assert out["system"]["type"] == "severe_cyclonic_storm"
    assert {w["model"] for w in out["model_winds"]} == {"BMD", "IMD", "ECMWF", "GFS", "JTWC"}


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("gdacs", b"not json", "not valid JSON"),
        ("glofas", b"GARBAGE", "not a readable netCDF"),
        ("nosuch", b"{}", "unknown feed 'nosuch'"),
    ],
)
def test_bad_input_is_one_line(
    config_path: Path, tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    path = tmp_path / "raw.bin"
    path.write_bytes(content)
    result = runner.invoke(app, ["feeds", "parse", name, str(path)])
    assert result.exit_code == 5
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_file_issued_after_now_is_refused_as_ingest_refuses_it(
    config_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Parsing on a clock a day before the bulletin's issue time: one line, exit 5, naming the
    file, the field and both times (ingest would not store it either)."""
    path = FEEDS / "bmd" / "bulletin_remal_like.json"
    issued = datetime.fromisoformat(parse("bmd", path)["issued_at"].replace("Z", "+00:00"))
    monkeypatch.setattr(feeds_cmd, "utc_now", lambda: issued - timedelta(days=1))
    result = runner.invoke(app, ["feeds", "parse", "bmd", str(path)])
    assert result.exit_code == 5
    line = result.stderr.strip()
    assert len(line.splitlines()) == 1
    assert "bulletin_remal_like.json" in line
    assert "issued_at" in line
    assert "24.0 h after it was fetched" in line
    assert result.stdout == ""
