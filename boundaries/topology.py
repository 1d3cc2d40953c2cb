"""The union layer as small TopoJSON files for the browser, built once per layer and cached.

`national.json`: every union, simplified once per shared arc (neighbours keep a common edge,
no gaps), quantized; each union carries its P-code (`c`), English and Bangla names (`n`,
`b`) and its upazila's P-code (`u`); a `names` member maps upazila, district and division
P-codes to [parent P-code, English, Bangla]. `district-<P-code>.json`: one district's unions
at full detail, fetched when a district is picked. Files are named by the layer fingerprint,
so a browser may cache them for good.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
from pathlib import Path
from typing import Any

import geopandas as gpd
from topojson.core.topology import Topology

log = logging.getLogger(__name__)

ASSET_SCHEMA = "1"  # bump when the file layout changes, so cached files are rebuilt
NATIONAL = "national.json"
DISTRICT_FILE = re.compile(r"^district-(BD\d{4})\.json$")


def _text(value: Any) -> str:
    return "" if value is None or (isinstance(value, float) and value != value) else str(value)


def _properties(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    out = gpd.GeoDataFrame(
        {
            "c": frame["adm4_pcode"].astype(str),
            "n": frame["adm4_en"].map(_text),
            "b": frame["adm4_bn"].map(_text),
            "u": frame["adm3_pcode"].astype(str),
        },
        geometry=frame.geometry.to_numpy(),
        crs=frame.crs,
    )
    return out.sort_values("c").reset_index(drop=True)


def parent_names(frame: gpd.GeoDataFrame) -> dict[str, list[str]]:
    """P-code -> [parent P-code, English name, Bangla name] for upazilas, districts and
    divisions (the browser builds tooltips from these)."""
    out: dict[str, list[str]] = {}
    for level, parent in (("adm3", "adm2"), ("adm2", "adm1"), ("adm1", None)):
        table = frame.drop_duplicates(f"{level}_pcode")
        for row in table.itertuples():
            code = str(getattr(row, f"{level}_pcode"))
            up = str(getattr(row, f"{parent}_pcode")) if parent else ""
            out[code] = [up, _text(getattr(row, f"{level}_en")), _text(getattr(row, f"{level}_bn"))]
    return dict(sorted(out.items()))


def union_topology(
    frame: gpd.GeoDataFrame, tolerance_deg: float, quantize: float, with_names: bool
) -> dict[str, Any]:
    """A TopoJSON Topology of the unions (object `unions`), simplified per shared arc."""
    topo = Topology(
        _properties(frame),
        prequantize=quantize,
        toposimplify=tolerance_deg if tolerance_deg > 0 else False,
        object_name="unions",
    )
    text = topo.to_json()
    assert text is not None  # to_json() returns None only when writing to a file
    doc: dict[str, Any] = json.loads(text)
    if with_names:
        doc["names"] = parent_names(frame)
    doc["agam"] = {"schema": ASSET_SCHEMA, "features": len(frame)}
    return doc


# Built documents by folder key and file name: a process builds each file once even when
# several data directories (tests, replays) share one layer.
_BUILT: dict[tuple[str, str], bytes] = {}


def _write_atomic(path: Path, body: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "wb") as handle:
        handle.write(body)
    os.replace(tmp, path)


def _encode(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def asset_folder(cache_dir: Path, fingerprint: str, tolerance_deg: float) -> Path:
    """Where a layer's files live; the key covers the layer, the simplification and schema."""
    key = f"{fingerprint[:24]}{ASSET_SCHEMA}{round(tolerance_deg * 1e6):x}"
    return cache_dir / "geo" / key


def ensure_national(
    frame: gpd.GeoDataFrame, folder: Path, tolerance_deg: float, quantize: float = 1e5
) -> Path:
    path = folder / NATIONAL
    if not path.exists():
        key = (folder.name, NATIONAL)
        if key not in _BUILT:
            log.info("building the national union TopoJSON for %s", folder)
            _BUILT[key] = _encode(union_topology(frame, tolerance_deg, quantize, with_names=True))
        _write_atomic(path, _BUILT[key])
    return path


def ensure_district(frame: gpd.GeoDataFrame, folder: Path, district_pcode: str) -> Path | None:
    """One district's unions at full detail (None for an unknown P-code)."""
    name = f"district-{district_pcode}.json"
    if DISTRICT_FILE.match(name) is None:
        return None
    path = folder / name
    if not path.exists():
        part = frame[frame["adm2_pcode"] == district_pcode]
        if part.empty:
            return None
        _write_atomic(path, _encode(union_topology(part, 0.0, 1e6, with_names=False)))
    return path
