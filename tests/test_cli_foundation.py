"""`agam` CLI: config, db, boundaries info / find / export / crosswalk, error exits."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pytest
from typer.testing import CliRunner

from agam.cli.main import app

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_config_check(config_path: Path) -> None:
    code, out, _ = run("config", "check", "--json")
    assert code == 0
    assert json.loads(out)["data_dir"] == str(config_path.parent / "data")


def test_config_check_names_the_bad_key(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[dashboard]\nport = "eighty"\n', encoding="utf-8")
    code, _, err = run("config", "check", "--config", str(bad))
    assert code == 3
    assert "[dashboard.port]" in err
    assert len(err.strip().splitlines()) == 1


def test_missing_config_is_one_line(tmp_path: Path) -> None:
    code, _, err = run("boundaries", "info", "--config", str(tmp_path / "nope.toml"))
    assert code == 3
    assert "configuration file not found" in err


def test_boundaries_info_json(config_path: Path) -> None:
    code, out, _ = run("boundaries", "info", "--json")
    assert code == 0
    info = json.loads(out)
    assert info["counts"]["union"] >= 5000
    assert info["counts"]["upazila"] >= 507
    assert info["counts"]["district"] == 64
    assert info["counts"]["division"] == 8
    assert info["adm4_with_all_parents"] == info["counts"]["union"]
    assert info["source"]["version"].startswith("BBS 2020")


def test_find_jamalpur(config_path: Path) -> None:
    code, out, _ = run("boundaries", "find", "89.67", "25.11", "--json")
    assert code == 0
    hit = json.loads(out)
    assert hit["adm2"]["name_en"] == "Jamalpur"
    assert {"adm1", "adm2", "adm3", "adm4"} <= hit.keys()


def test_find_outside_exits_1(config_path: Path) -> None:
    code, out, err = run("boundaries", "find", "90.0", "21.0")
    assert code == 1
    assert out == ""
    assert "no union at lon 90.0, lat 21.0" in err


@pytest.mark.parametrize(
    ("level", "fmt", "count"), [(1, "geojson", 8), (2, "gpkg", 64), (4, "parquet", 5160)]
)
def test_export_round_trip(
    config_path: Path, tmp_path: Path, level: int, fmt: str, count: int
) -> None:
    out = tmp_path / "out" / f"adm{level}.{fmt}"
    code, _, err = run("boundaries", "export", "--level", str(level), "--format", fmt, str(out))
    assert code == 0, err
    back = gpd.read_parquet(out) if fmt == "parquet" else gpd.read_file(out)
    assert len(back) == count
    assert back[f"adm{level}_pcode"].is_unique
    assert back.crs.to_epsg() == 4326
    assert not list(out.parent.glob(".*tmp*"))


def test_crosswalk_cli() -> None:
    code, out, _ = run("boundaries", "crosswalk", "BD554909", "--json")
    assert code == 0
    assert json.loads(out)[0]["adm3_pcode_2025"] == "BD55490009"
    code, _, _err = run("boundaries", "crosswalk", "BD000000")
    assert code == 1


def test_db_upgrade_and_status(config_path: Path) -> None:
    assert run("db", "upgrade")[0] == 0
    code, out, _ = run("db", "status", "--json")
    status = json.loads(out)
    assert code == 0
    assert status["revision"] == status["head"]
    assert "audit_log" in status["tables"]


def test_data_dir_override_keeps_stores_apart(
    config_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGAM_DATA_DIR", str(tmp_path / "other"))
    assert run("db", "upgrade")[0] == 0
    assert (tmp_path / "other" / "agam.sqlite3").exists()
    assert not (config_path.parent / "data" / "agam.sqlite3").exists()


def test_json_output_writes_a_missing_number_as_null(capsys: pytest.CaptureFixture[str]) -> None:
    """JSON has no NaN: a frame's missing value is null, so strict readers can parse it."""
    from agam.cli.common import emit_json

    emit_json({"score": float("nan"), "lines": [{"bdt": 5000, "rate": float("inf")}]})
    out = json.loads(capsys.readouterr().out, parse_constant=lambda c: pytest.fail(c))
    assert out == {"score": None, "lines": [{"bdt": 5000, "rate": None}]}


def test_find_names_swapped_coordinates(config_path: Path) -> None:
    """Latitude first, as map apps give it: the error says where the swapped point is."""
    code, out, err = run("boundaries", "find", "25.11", "89.67")
    assert code == 1
    assert out == ""
    assert "swapped, lon 89.67, lat 25.11 is in Belgachha, Jamalpur (give lon first)" in err


@pytest.mark.parametrize(
    ("lon", "lat", "name"),
    [("nan", "23", "lon"), ("90", "inf", "lat"), ("90.4", "1e308", "lat"), ("-181", "0", "lon")],
)
def test_find_refuses_what_is_not_degrees(config_path: Path, lon: str, lat: str, name: str) -> None:
    code, out, err = run("boundaries", "find", "--", lon, lat)
    assert code == 2
    assert out == ""
    assert f"Invalid value for {name}" in err


def test_text_from_files_cannot_drive_the_terminal() -> None:
    from agam.cli.common import shown

    assert shown("n\x1b]0;pwned\x07ote") == "n\\x1b]0;pwned\\x07ote"
    assert shown("L5-\u202e1") == "L5-\\u202e1"
    assert shown("রহিমা\u200dখাতুন") == "রহিমা\u200dখাতুন"  # ZWJ stays


def test_an_output_path_is_checked_before_anything_is_written(tmp_path: Path) -> None:
    import typer

    from agam.cli.common import output_file

    kept = tmp_path / "kept.xml"
    kept.write_text("earlier", encoding="utf-8")
    for path, why in (
        (tmp_path, "is a folder"),
        (tmp_path / "nowhere" / "x.xml", "does not exist"),
        (kept, "exists; not replaced"),
    ):
        with pytest.raises(typer.BadParameter, match=why):
            output_file(path)
    assert output_file(kept, force=True) == kept
    assert kept.read_text(encoding="utf-8") == "earlier"


def test_boundaries_export_into_a_folder_is_one_line(config_path: Path, tmp_path: Path) -> None:
    code, _, err = run("boundaries", "export", str(tmp_path))
    assert code == 2
    assert "is a folder" in err


def test_registry_import_of_what_is_not_a_file_is_refused_at_once(tmp_path: Path) -> None:
    from agam.core.errors import RegistryError
    from allowances.registry_import import import_registry

    for path in (tmp_path, tmp_path / "missing.csv", Path("/dev/zero")):
        with pytest.raises(RegistryError, match="no such file"):
            import_registry(None, path, None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (("evaluate", "--as-of", "yesterday"), "--as-of"),
        (("report", "season", "--from", "2026-01-01", "--to", "2026-13-01"), "--to"),
        (("grievances", "summary", "--from", "last week", "--to", "2026-01-01"), "--from"),
        (
            (
                "grievances", "add", "--channel", "office", "--category", "other",
                "--description", "x", "--received", "yesterday",
            ),
            "--received",
        ),
    ],
)  # fmt: skip
def test_a_time_that_is_not_iso_names_the_option_and_an_example(
    config_path: Path, args: tuple[str, ...], option: str
) -> None:
    """Refused before any sign-in or store work, with what to type instead."""
    code, out, err = run(*args)
    assert code == 2
    assert out == ""
    assert f"Invalid value for {option}" in err
    assert "2026-07-03T16:00+06:00" in " ".join(err.split())
    assert "Traceback" not in err
    assert "password" not in err
