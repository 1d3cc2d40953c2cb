"""Property-based fuzzing of every parser (issue 12, point 7), starting from the real fixtures.

Hypothesis drops keys, swaps types, injects NaN / inf / huge numbers and impossible times,
deepens nesting and truncates bytes. Whatever comes out must be either a FeedError naming the
file (never the guard's "parser fault" net, which would mean validation missed something) or a
forecast whose numbers are finite and inside their bounds, printable as strict JSON.
Examples are bounded and derandomised so the suite stays fast and stable.
"""

from __future__ import annotations

import copy
import hashlib
import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import xarray as xr
from affine import Affine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agam.core.errors import FeedError
from hazard_feeds.contract import RawArtifact
from hazard_feeds.guard import OUTPUT_CHECK, PARSER_FAULT, check_forecast, json_ready
from hazard_feeds.registry import OFFLINE_PARSERS, build_feed

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
HOSTILE = FIXTURES / "hostile"
FETCHED = datetime(2026, 7, 28, 6, 0, tzinfo=UTC)
FUZZ = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SLOW_FUZZ = settings(FUZZ, max_examples=20)

HOSTILE_VALUES: list[Any] = [
    None,
    [],
    {},
    "",
    "x",
    True,
    False,
    0,
    -1,
    3,
    10**30,
    -(10**30),
    1e308,
    -1e308,
    float("nan"),
    float("inf"),
    float("-inf"),
    "NaN",
    "inf",
    "1e400",
    "-500000",
    "17.2",
    "9999-12-31T23:59:59-05:00",
    "0001-01-01T00:00:00",
    "2020-13-45T99:99:99",
    "02290000",
    [[[[[]]]]],
    {"type": "Circle"},
    [1, 2, 3, 4],
    "Point_Polygon_Point_0",
]


def check_outcome(feed_name: str, content: bytes) -> None:
    """The property: a clean refusal naming the file, or finite, bounded, printable values."""
    uri = f"file:///fuzz/{feed_name}.input"
    raw = RawArtifact(feed_name, uri, content, hashlib.sha256(content).hexdigest(), FETCHED)
    feed = OFFLINE_PARSERS[feed_name]() if feed_name in OFFLINE_PARSERS else _feed(feed_name)
    try:
        forecast = feed.parse(raw)
    except FeedError as exc:
        message = str(exc)
        assert message.startswith(f"{feed_name}: {uri}"), message
        assert PARSER_FAULT not in message, message
        assert OUTPUT_CHECK not in message, message
        return
    check_forecast(forecast)
    json.dumps(json_ready(feed.to_json(forecast)), allow_nan=False)


def _feed(name: str) -> Any:
    if name not in _FEEDS:
        _FEEDS[name] = build_feed(name, None)
    return _FEEDS[name]


_FEEDS: dict[str, Any] = {}


# --- JSON mutations --------------------------------------------------------------------------


def _paths(doc: Any, limit: int = 4000) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    stack: list[tuple[Any, tuple[Any, ...]]] = [(doc, ())]
    while stack and len(out) < limit:
        node, path = stack.pop()
        out.append(path)
        if isinstance(node, dict):
            stack.extend((v, (*path, k)) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend((v, (*path, i)) for i, v in enumerate(node))
    return out


def _deep(levels: int) -> str:
    """A placeholder json.dumps can write; replaced by `levels` nested lists afterwards."""
    return f"__DEEP_{levels}__"


def _undeep(body: str) -> str:
    for levels in (70, 2000):
        body = body.replace(f'"{_deep(levels)}"', "[" * levels + "0" + "]" * levels)
    return body


@st.composite
def mutated_json(draw: st.DrawFn, doc: Any) -> bytes:
    doc = copy.deepcopy(doc)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(doc)))
        if not path:
            doc = draw(st.sampled_from(HOSTILE_VALUES))
            continue
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        key = path[-1]
        action = draw(st.sampled_from(["replace", "replace", "delete", "wrap", "deepen"]))
        if action == "delete":
            del parent[key]
        elif action == "wrap":
            parent[key] = [parent[key]] if draw(st.booleans()) else {"value": parent[key]}
        elif action == "deepen":
            parent[key] = _deep(draw(st.sampled_from([70, 2000])))
        else:
            parent[key] = draw(st.sampled_from(HOSTILE_VALUES))
    body = _undeep(json.dumps(doc)).encode()  # NaN/Infinity become non-standard literals
    return _maybe_truncate(draw, body)


def _maybe_truncate(draw: st.DrawFn, body: bytes) -> bytes:
    if draw(st.integers(0, 5)) == 0:
        return body[: draw(st.integers(0, len(body)))]
    return body


def _bundle(feed: str, parts: list[tuple[str, str, str]]) -> bytes:
    return json.dumps(
        {
            "format": "agam-bundle/1",
            "feed": feed,
            "parts": [{"name": n, "url": u, "body": b} for n, u, b in parts],
        }
    ).encode()


GDACS_GEOMETRY = json.loads((HOSTILE / "gdacs" / "geometry_trimmed_control.json").read_text())
GDACS_BUNDLE = json.loads((HOSTILE / "gdacs" / "bundle_control.json").read_text())


@FUZZ
@given(mutated_json(GDACS_GEOMETRY))
def test_gdacs_geometry(content: bytes) -> None:
    check_outcome("gdacs", content)


@FUZZ
@given(st.data())
def test_gdacs_bundle(data: st.DataObject) -> None:
    parts = copy.deepcopy(GDACS_BUNDLE["parts"])
    index = data.draw(st.integers(0, len(parts) - 1))
    body = data.draw(mutated_json(json.loads(parts[index]["body"])))
    parts[index]["body"] = body.decode("utf-8", errors="replace")
    check_outcome("gdacs", _bundle("gdacs", [(p["name"], p["url"], p["body"]) for p in parts]))


FFWC_BUNDLE = json.loads((FIXTURES / "feeds" / "ffwc" / "bundle-20200607.json").read_text())


@FUZZ
@given(st.data())
def test_ffwc_bundle(data: st.DataObject) -> None:
    parts = copy.deepcopy(FFWC_BUNDLE["parts"])
    index = data.draw(st.integers(0, len(parts) - 1))
    body = data.draw(mutated_json(json.loads(parts[index]["body"])))
    parts[index]["body"] = body.decode("utf-8", errors="replace")
    content = _bundle("ffwc", [(p["name"], p["url"], p["body"]) for p in parts])
    check_outcome("ffwc", data.draw(st.just(content)))


@FUZZ
@given(mutated_json(FFWC_BUNDLE))
def test_ffwc_bundle_envelope(content: bytes) -> None:
    check_outcome("ffwc", content)


BMD_JSON = json.loads((FIXTURES / "feeds" / "bmd" / "bulletin_remal_like.json").read_text())
BMD_CSV = (FIXTURES / "feeds" / "bmd" / "bulletin_remal_like.csv").read_text()


@FUZZ
@given(mutated_json(BMD_JSON))
def test_bmd_json(content: bytes) -> None:
    check_outcome("bmd", content)


# --- text mutations (CSV, b-deck) -------------------------------------------------------------

TEXT_VALUES = [
    "",
    "nan",
    "NaN",
    "inf",
    "-inf",
    "1e308",
    "-500000",
    "1e400",
    "x",
    "9" * 30,
    "99/99/9999 99:99",
    "01/01/0001 00:00",
    "29/02/2021 06:00",
    '"',
    "\x00",
    "a,b",
    "\n",
    "model_winds.9999999999.model",
    "system.type.x",
    "a.b.c.d.e.f.g",
    "port_signals.X",
    "999N",
    "1999E",
    "9999",
    "2020133106",
    "CARQ",
    "-5",
]


@st.composite
def mutated_lines(draw: st.DrawFn, text: str, sep: str = ",") -> bytes:
    lines = text.splitlines()
    for _ in range(draw(st.integers(1, 4))):
        row = draw(st.integers(0, len(lines) - 1))
        cells = lines[row].split(sep)
        action = draw(st.sampled_from(["cell", "cell", "cell", "drop_row", "drop_cell", "dup"]))
        if action == "cell":
            cells[draw(st.integers(0, len(cells) - 1))] = draw(st.sampled_from(TEXT_VALUES))
            lines[row] = sep.join(cells)
        elif action == "drop_row" and len(lines) > 1:
            del lines[row]
        elif action == "drop_cell" and len(cells) > 1:
            del cells[draw(st.integers(0, len(cells) - 1))]
            lines[row] = sep.join(cells)
        else:
            lines.insert(row, lines[row])
    return _maybe_truncate(draw, ("\n".join(lines) + "\n").encode())


@FUZZ
@given(mutated_lines(BMD_CSV))
def test_bmd_csv(content: bytes) -> None:
    check_outcome("bmd", content)


LOGSHEET = (HOSTILE / "ffwc_logsheet" / "control.csv").read_text()


@FUZZ
@given(mutated_lines(LOGSHEET))
def test_ffwc_logsheet(content: bytes) -> None:
    check_outcome("ffwc_logsheet", content)


BDECK = (HOSTILE / "atcf" / "control.dat").read_text()


@FUZZ
@given(mutated_lines(BDECK))
def test_atcf(content: bytes) -> None:
    check_outcome("atcf", content)


# --- binary formats: GloFAS netCDF and GeoTIFF rasters ----------------------------------------

FLOATS = st.sampled_from(
    [np.nan, np.inf, -np.inf, -500_000.0, 1e30, -0.0, 0.0, 5e6, 86_000.0, 3.4e38]
)


def _glofas() -> xr.Dataset:
    with xr.open_dataset(HOSTILE / "glofas" / "control.nc", decode_timedelta=False) as ds:
        return ds.load()


GLOFAS = _glofas()


def _netcdf(ds: xr.Dataset) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "x.nc"
        ds.to_netcdf(target, engine="netcdf4")
        return target.read_bytes()


@SLOW_FUZZ
@given(st.data())
def test_glofas_netcdf(data: st.DataObject) -> None:
    ds = GLOFAS.copy(deep=True)
    for _ in range(data.draw(st.integers(1, 3))):
        target = data.draw(st.sampled_from(["dis24", "dis24", "latitude", "longitude", "lead"]))
        value = data.draw(FLOATS)
        if target == "dis24":
            dim = data.draw(st.sampled_from(["number", "forecast_period", "latitude"]))
            index = data.draw(st.integers(0, ds.sizes[dim] - 1))
            ds["dis24"][{dim: index}] = value
        elif target == "lead":
            hours = ds["forecast_period"].values.astype("float64")
            hours[data.draw(st.integers(0, len(hours) - 1))] = value
            ds = ds.assign_coords(forecast_period=hours)
        else:
            axis = ds[target].values.copy()
            axis[data.draw(st.integers(0, len(axis) - 1))] = value
            ds = ds.assign_coords({target: axis})
    content = _netcdf(ds)
    if data.draw(st.integers(0, 4)) == 0:
        content = content[: data.draw(st.integers(0, len(content)))]
    check_outcome("glofas", content)


@SLOW_FUZZ
@given(
    st.integers(1, 40),
    st.integers(1, 40),
    st.lists(FLOATS, min_size=1, max_size=6),
    st.sampled_from([None, -9999.0, 0.0, float("nan")]),
    st.sampled_from(["float32", "float64", "int16", "uint8"]),
    st.sampled_from([1.0, 25_000.0, 1e-9, 1e12]),
    st.integers(0, 3),
)
def test_raster_geotiff(
    rows: int,
    cols: int,
    values: list[float],
    nodata: float | None,
    dtype: str,
    cell: float,
    cut: int,
) -> None:
    grid = np.resize(np.asarray(values, dtype="float64"), rows * cols).reshape(rows, cols)
    if dtype in ("int16", "uint8"):
        grid = np.nan_to_num(grid, nan=0, posinf=100, neginf=0).clip(0, 100)
        nodata = None if nodata is None or np.isnan(nodata) else 0.0
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "x.tif"
        with rasterio.open(
            path,
            "w",
            driver="GTiff",
            height=rows,
            width=cols,
            count=1,
            dtype=dtype,
            crs="EPSG:32646",
            nodata=nodata,
            transform=Affine(cell, 0, 100_000, 0, -cell, 2_980_000),
        ) as dst:
            dst.write(grid.astype(dtype), 1)
        content = path.read_bytes()
    if cut == 0:
        content = content[: len(content) // 2]
    check_outcome("raster", content)
