"""A small file for one-shot point lookups (`agam boundaries find`): each union's bounding
box, its geometry as WKB and its names, in one uncompressed NumPy archive written beside the
prepared layer cache. A lookup loads it with NumPy, keeps the boxes holding the point and
tests only those geometries: no pyarrow, no tree over 5,160 polygons."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import shapely

INDEX_SUFFIX = ".points.npz"


def index_path(data: Path) -> Path:
    return data.with_name(data.stem + INDEX_SUFFIX)


def write_point_index(path: Path, wkb: list[bytes], records: list[dict[str, Any]]) -> None:
    """Boxes, WKB and records (one per union, in the cache's row order), written atomically."""
    geometry = shapely.from_wkb(wkb)
    offsets = np.zeros(len(wkb) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(w) for w in wkb])
    arrays = {
        "bounds": shapely.bounds(geometry),
        "offsets": offsets,
        "wkb": np.frombuffer(b"".join(wkb), dtype=np.uint8),
        "records": np.frombuffer(json.dumps(records, ensure_ascii=False).encode(), np.uint8),
    }
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            np.savez(handle, **arrays)
        os.replace(name, path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise


def find_in_point_index(path: Path, lon: float, lat: float) -> dict[str, Any] | None:
    """The record of the union whose geometry intersects the point (the first in row order
    when it lies on a shared boundary), or None."""
    with np.load(path, allow_pickle=False) as archive:
        bounds = archive["bounds"]
        inside = (
            (bounds[:, 0] <= lon)
            & (lon <= bounds[:, 2])
            & (bounds[:, 1] <= lat)
            & (lat <= bounds[:, 3])
        )
        candidates = np.flatnonzero(inside)
        if len(candidates) == 0:
            return None
        offsets, wkb = archive["offsets"], archive["wkb"]
        shapes = shapely.from_wkb([wkb[offsets[i] : offsets[i + 1]].tobytes() for i in candidates])
        hits = candidates[shapely.intersects(shapes, shapely.Point(lon, lat))]
        if len(hits) == 0:
            return None
        records: list[dict[str, Any]] = json.loads(archive["records"].tobytes())
    return records[int(hits.min())]
