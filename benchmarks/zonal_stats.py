"""Zonal statistics of a flood-depth raster over all 5,160 unions: Agam vs exactextract and
rasterstats, in the same run.

The raster is SYNTHETIC (smooth field + noise, 0 to about 3 m, 0.5 % nodata) on the 3-arcsecond
(~90 m) grid over Bangladesh (88-93 E, 20.5-26.7 N: 7,440 x 6,000 cells); the unions are the
real embedded layer, float64 with NaN for nodata as the raster feed delivers it. Statistics:
mean, max and the share of cells deeper than a threshold (0.5 m, and 1.5 / 2.5 m where most
unions are partly above). exactextract is timed on one prepared raster (mean, max); Agam's
time includes the share above as well. "cold" is a new process with the zone index and the
numba kernel cached on disk.

    python -m benchmarks.zonal_stats [--resolution 90m|250m|1km] [--repeat 3] [--skip-rasterstats]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from affine import Affine

from boundaries.layer import load_union_layer
from boundaries.zonal import build_zone_index, zonal_stats

GRIDS = {"90m": 3 / 3600, "250m": 7.5 / 3600, "1km": 30 / 3600}
WEST, EAST, SOUTH, NORTH = 88.0, 93.0, 20.5, 26.7
THRESHOLD_M = 0.5
THRESHOLDS_M = (0.5, 1.5, 2.5)  # 1.5 and 2.5 leave most unions partly above, partly below


def synthetic_depth(step: float, seed: int = 42) -> tuple[np.ndarray, Affine]:
    rows, cols = round((NORTH - SOUTH) / step), round((EAST - WEST) / step)
    rng = np.random.default_rng(seed)
    y = np.linspace(0, 1, rows)[:, None]
    x = np.linspace(0, 1, cols)[None, :]
    field = 1.5 + np.sin(6 * x + 1) * np.cos(5 * y) + 0.6 * np.sin(17 * x * y)
    depth = np.clip(field + rng.normal(0, 0.15, size=(rows, cols)), 0, None)
    depth[rng.random((rows, cols)) < 0.005] = np.nan  # float64 + NaN, as the raster feed gives
    return depth, Affine(step, 0, WEST, 0, -step, NORTH)


def timed(func: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def exactextract_source(depth: np.ndarray, transform: Affine, name: str) -> Any:
    from exactextract.raster import NumPyRasterSource

    rows, cols = depth.shape
    bounds = (WEST, NORTH + transform.e * rows, WEST + transform.a * cols, NORTH)
    return NumPyRasterSource(depth, *bounds, name=name, nodata=np.nan)


def exactextract_stats(unions: Any, source: Any, ops: list[str]) -> pd.DataFrame:
    """exactextract over one prepared raster source (preparation is not timed)."""
    from exactextract import exact_extract

    out = exact_extract(
        source,
        unions,
        ops,
        include_cols=["adm4_pcode"],
        output="pandas",
        strategy="raster-sequential",
    )
    return out.set_index("adm4_pcode")


def rasterstats_stats(unions: Any, depth: np.ndarray, transform: Affine) -> pd.DataFrame:
    from rasterstats import zonal_stats as rs_zonal

    def frac(values: np.ma.MaskedArray) -> float:
        valid = values.compressed()
        valid = valid[~np.isnan(valid)]
        return float((valid > THRESHOLD_M).mean()) if valid.size else np.nan

    out = rs_zonal(
        unions.geometry,
        depth,
        affine=transform,
        nodata=np.nan,
        stats=["mean", "max"],
        add_stats={"frac_above": frac},
    )
    return pd.DataFrame(out, index=unions["adm4_pcode"].to_numpy())


def p95_diff(ours: pd.DataFrame, other: pd.DataFrame, column: str) -> float:
    both = pd.concat([ours[column], other[column]], axis=1, keys=["a", "b"]).dropna()
    return float(np.percentile((both["a"] - both["b"]).abs(), 95))


COLD_PROBE = """
import sys, time
from pathlib import Path
start = time.perf_counter()
import numpy as np
from affine import Affine
from boundaries.layer import load_union_layer
from boundaries.zonal import build_zone_index, zonal_stats
imported = time.perf_counter()
unions = load_union_layer().frame
shape, transform = tuple(map(int, sys.argv[1:3])), Affine(*map(float, sys.argv[3:9]))
depth = np.load(sys.argv[10])
loaded = time.perf_counter()
index = build_zone_index(unions, shape, transform, "EPSG:4326", Path(sys.argv[9]))
zonal_stats(index, depth, threshold=0.5)
done = time.perf_counter()
print(f"{imported - start:.3f} {loaded - imported:.3f} {done - loaded:.3f}")
"""


def cold_process(cache: Path, depth: np.ndarray, transform: Affine) -> tuple[float, ...]:
    """A new process with the zone index and the numba kernel cached on disk: seconds for
    imports, loading layer + raster, and index load + first zonal stats."""
    raster = cache / "depth.npy"
    np.save(raster, depth)
    argv = [*map(str, depth.shape), *map(str, tuple(transform)[:6]), str(cache), str(raster)]
    done = subprocess.run(
        [sys.executable, "-c", COLD_PROBE, *argv], capture_output=True, text=True, check=True
    )
    return tuple(float(v) for v in done.stdout.split())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--resolution", choices=sorted(GRIDS), default="90m")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-rasterstats", action="store_true")
    args = parser.parse_args(argv)
    print(f"load average at start: {os.getloadavg()[0]:.2f} (2 cores)")
    unions = load_union_layer().frame
    depth, transform = synthetic_depth(GRIDS[args.resolution])
    print(
        f"grid {args.resolution}: {depth.shape[1]:,} x {depth.shape[0]:,} cells "
        f"({depth.size / 1e6:.1f} M, SYNTHETIC float64 depth, NaN = nodata), "
        f"{len(unions):,} real unions"
    )
    with tempfile.TemporaryDirectory() as folder:
        cache = Path(folder)
        build, index = timed(
            lambda: build_zone_index(unions, depth.shape, transform, "EPSG:4326", cache), 1
        )
        load, _ = timed(
            lambda: build_zone_index(unions, depth.shape, transform, "EPSG:4326", cache), 1
        )
        zonal_stats(index, depth, threshold=THRESHOLD_M)  # compile (or load) the kernel
        cold = cold_process(cache, depth, transform)
    warm, ours = timed(lambda: zonal_stats(index, depth, threshold=THRESHOLD_M), args.repeat)
    numpy_warm, _ = timed(
        lambda: zonal_stats(index, depth, threshold=THRESHOLD_M, engine="numpy"), args.repeat
    )
    shapes = unions[["adm4_pcode", "geometry"]]
    source = exactextract_source(depth, transform, "depth")  # preparation, not timed
    ee_time, ee = timed(lambda: exactextract_stats(shapes, source, ["mean", "max"]), args.repeat)
    rows = [
        ("agam: build zone index (once per grid)", build),
        ("agam: load cached zone index", load),
        ("agam: cold new process: imports", cold[0]),
        ("agam: cold new process: load layer + raster", cold[1]),
        ("agam: cold new process: cached index + first stats", cold[2]),
        ("agam: zonal stats, warm (numba fused; mean max frac)", warm),
        ("agam: zonal stats, warm (numpy reduceat)", numpy_warm),
        ("exactextract (one raster, mean max, source prepared)", ee_time),
    ]
    rs_time = None
    if not args.skip_rasterstats:
        rs_time, _ = timed(lambda: rasterstats_stats(unions, depth, transform), 1)
        rows.append(("rasterstats (ndarray + affine)", rs_time))
    width = max(len(r[0]) for r in rows)
    for name, seconds in rows:
        print(f"  {name:<{width}}  {seconds:8.3f} s")
    print(f"ratio exactextract / agam warm: {ee_time / warm:6.1f}x")
    print(f"ratio exactextract / agam cold (index + first stats): {ee_time / cold[2]:6.1f}x")
    if rs_time is not None:
        print(f"ratio rasterstats  / agam warm: {rs_time / warm:6.1f}x")
    ee = ee.rename(columns={"depth_mean": "mean", "depth_max": "max", "mean": "mean"})
    for column in ("mean", "max"):
        print(f"p95 |agam - exactextract| {column:<4}: {p95_diff(ours, ee, column):.4f} m")
    for threshold in THRESHOLDS_M:
        flag = np.where(np.isnan(depth), np.nan, (depth > threshold).astype(np.float64))
        theirs = exactextract_stats(shapes, exactextract_source(flag, transform, "flag"), ["mean"])
        theirs = theirs.rename(columns={theirs.columns[-1]: "frac_above"})
        mine = zonal_stats(index, depth, threshold=threshold)
        split = float(((mine["frac_above"] > 0) & (mine["frac_above"] < 1)).mean())
        print(
            f"frac_above > {threshold} m: {split:.1%} of unions partly above; p95 |agam - "
            f"exactextract| {p95_diff(mine, theirs, 'frac_above'):.4f}"
        )
    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
