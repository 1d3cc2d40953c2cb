"""Every file in tests/fixtures/hostile/ is refused cleanly or parsed into finite values.

cases.toml (written with the files by make_hostile.py) says which, and what the refusal must
name. Refused: one FeedError naming the file and the field, never a "parser fault" (the guard's
net for what validation missed). Parsed: a forecast whose JSON is strict (no NaN/Infinity).
The same corpus goes through `agam feeds parse NAME FILE --json`: in-process for every file,
and as a real subprocess for one file per parser (AGAM_HOSTILE_ALL=1: every file).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
import tracemalloc
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from agam.cli.main import app
from agam.core.errors import FeedError
from hazard_feeds.guard import OUTPUT_CHECK, PARSER_FAULT, check_forecast, json_ready
from hazard_feeds.registry import parse_file

HOSTILE = Path(__file__).resolve().parents[1] / "fixtures" / "hostile"
CASES: list[dict[str, str]] = tomllib.loads((HOSTILE / "cases.toml").read_text())["case"]
OWN_FILES = {"cases.toml", "make_hostile.py", "PROVENANCE.md"}  # and the builders/ package


def _no_constants(name: str) -> Any:
    raise AssertionError(f"{name} in JSON output")


def strict_json(text: str) -> Any:
    return json.loads(text, parse_constant=_no_constants)


def test_the_corpus_and_its_cases_agree() -> None:
    listed = [c["file"] for c in CASES]
    on_disk = sorted(
        str(p.relative_to(HOSTILE))
        for p in HOSTILE.rglob("*")
        if p.is_file() and p.name not in OWN_FILES and "builders" not in p.parts
    )
    assert sorted(listed) == on_disk
    assert len(set(listed)) == len(listed)
    per_feed = Counter(c["feed"] for c in CASES)
    assert set(per_feed) == {"gdacs", "glofas", "ffwc", "ffwc_logsheet", "bmd", "raster", "atcf"}
    assert min(per_feed.values()) >= 8
    assert sum(per_feed.values()) >= 70
    assert {c["expect"] for c in CASES} == {"refused", "parsed"}


@pytest.mark.parametrize("case", CASES, ids=[c["file"] for c in CASES])
def test_refused_cleanly_or_parsed_finite(case: dict[str, str]) -> None:
    path = HOSTILE / case["file"]
    if case["expect"] == "refused":
        with pytest.raises(FeedError) as caught:
            parse_file(case["feed"], path, None)
        message = str(caught.value)
        assert message.startswith(f"{case['feed']}: {path.resolve().as_uri()}: "), message
        assert case["field"] in message
        assert PARSER_FAULT not in message
        assert OUTPUT_CHECK not in message
        assert "\n" not in message
        return
    forecast, feed = parse_file(case["feed"], path, None)
    check_forecast(forecast)
    if forecast.data is not None:
        for name in [*forecast.data.data_vars, *forecast.data.coords]:
            values = np.asarray(forecast.data[name].values)
            if values.dtype.kind == "f":
                assert not np.isinf(values).any(), name
    text = json.dumps(json_ready(feed.to_json(forecast)), allow_nan=False)
    assert "Infinity" not in text
    assert case["field"] in " ".join(q.message for q in forecast.quality)


@pytest.mark.parametrize("case", CASES, ids=[c["file"] for c in CASES])
def test_feeds_parse_cli_never_shows_a_traceback(config_path: Path, case: dict[str, str]) -> None:
    result = CliRunner().invoke(
        app, ["feeds", "parse", case["feed"], str(HOSTILE / case["file"]), "--json"]
    )
    assert result.exception is None or isinstance(result.exception, SystemExit)  # no crash
    assert "Traceback" not in result.stdout + result.stderr
    if case["expect"] == "refused":
        assert result.exit_code == 5, result.stdout
        [line] = result.stderr.strip().splitlines()
        assert line.startswith(f"error: {case['feed']}: file://")
        assert case["field"] in line
    else:
        assert result.exit_code == 0, result.stderr
        out = strict_json(result.stdout)
        assert out["feed"] == case["feed"]


def _subprocess_sample() -> list[dict[str, str]]:
    if os.environ.get("AGAM_HOSTILE_ALL"):
        return CASES
    wanted = {
        "raster/width_470000_height_620000.tif",
        "bmd/csv_index_9999999999.csv",
        "gdacs/empty_linestring.json",
        "glofas/truncated.nc",
        "ffwc/bahadurabad_404_goalundo_ok.json",
        "ffwc_logsheet/level_inf.csv",
        "atcf/lat_999N.dat",
    }
    return [c for c in CASES if c["file"] in wanted]


@pytest.mark.slow
def test_feeds_parse_as_a_subprocess(config_path: Path) -> None:
    """The real command, two at a time: exit 5 and one error line for refusals, strict JSON
    otherwise."""
    sample = _subprocess_sample()
    assert len(sample) >= 7  # one file per parser
    command = [sys.executable, "-m", "agam.cli.main", "feeds", "parse"]
    env = os.environ | {"PYTHONWARNINGS": "ignore"}
    for pair in range(0, len(sample), 2):
        running = [
            (
                c,
                subprocess.Popen(
                    [*command, c["feed"], str(HOSTILE / c["file"]), "--json"],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                    env=env,
                ),
            )
            for c in sample[pair : pair + 2]
        ]
        for c, proc in running:
            stdout, stderr = proc.communicate(timeout=300)
            assert "Traceback" not in stdout + stderr, c["file"]
            if c["expect"] == "refused":
                assert proc.returncode == 5, (c["file"], stderr)
                lines = stderr.strip().splitlines()  # log lines (e.g. GDAL's) may come first
                assert lines[-1].startswith(f"error: {c['feed']}: file://"), stderr
                assert c["field"] in lines[-1]
                assert sum(line.startswith("error:") for line in lines) == 1
            else:
                assert proc.returncode == 0, (c["file"], stderr)
                strict_json(stdout)


@pytest.mark.parametrize(
    "name", ["bmd/csv_index_9999999999.csv", "gdacs/nesting_100000.json", "glofas/members_1000.nc"]
)
def test_bombs_are_refused_before_allocating(name: str) -> None:
    """Refused from the header or the first offending key: Python never holds more than a few
    MB (the BMD index once built a 4 GB list over 104 s)."""
    case = next(c for c in CASES if c["file"] == name)
    tracemalloc.start()
    try:
        with pytest.raises(FeedError):
            parse_file(case["feed"], HOSTILE / name, None)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20 * 1024 * 1024
