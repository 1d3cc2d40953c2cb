"""The fused zonal kernel: stream the raster and the zone grid once, in order.

Each thread takes contiguous slices of cells and accumulates sum, count, max, min, cells above
the threshold and exposed weight per union; the slices are merged afterwards. Sequential reads
keep it near memory bandwidth. Compiled with numba when installed; the NumPy path in
boundaries.zonal gives the same results otherwise.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

try:  # numba is optional; results are the same either way
    import numba
    from numba import njit, prange

    HAVE_NUMBA = True
except ImportError:  # pragma: no cover - exercised where numba is absent
    HAVE_NUMBA = False
    prange = range  # type: ignore[assignment,misc]


def _stream(
    values: np.ndarray,
    zone: np.ndarray,
    n: int,
    nodata: float,
    use_nodata: bool,
    threshold: float,
    weights: np.ndarray,
    use_weights: bool,
    parts: int,
) -> tuple[np.ndarray, ...]:
    size = values.shape[0]
    total = np.zeros((parts, n + 1))
    count = np.zeros((parts, n + 1))
    above = np.zeros((parts, n + 1))
    exposed = np.zeros((parts, n + 1))
    vmax = np.full((parts, n + 1), -np.inf)
    vmin = np.full((parts, n + 1), np.inf)
    for p in prange(parts):
        for i in range(p * size // parts, (p + 1) * size // parts):
            z = zone[i]
            if z == 0:
                continue
            v = values[i]
            if np.isnan(v) or (use_nodata and v == nodata):
                continue
            total[p, z] += v
            count[p, z] += 1.0
            if v > vmax[p, z]:
                vmax[p, z] = v
            if v < vmin[p, z]:
                vmin[p, z] = v
            if v > threshold:
                above[p, z] += 1.0
                if use_weights:
                    exposed[p, z] += weights[i]
    return total, count, vmax, vmin, above, exposed


# cache=True: the compiled kernel is kept on disk (next to this file, or numba's user cache
# dir when that is read-only), so a new process does not pay the ~1.4 s compile again
fused = njit(parallel=True, nogil=True, cache=True)(_stream) if HAVE_NUMBA else None
# numba's default threading layer cannot be entered from two threads at once (Streamlit
# serves sessions on threads), so parallel calls are serialised.
_PARALLEL = threading.Lock()


def fused_stats(
    values: np.ndarray,
    zone: np.ndarray,
    n: int,
    nodata: float | None,
    threshold: float | None,
    weights: np.ndarray | None,
) -> tuple[Any, ...] | None:
    """Per-union sum, valid count, max, min, cells above threshold, exposed; None w/o numba."""
    if fused is None:
        return None
    flat = np.ascontiguousarray(values).ravel()
    w = (
        np.ascontiguousarray(weights, dtype=np.float64).ravel()
        if weights is not None
        else np.zeros(1)
    )
    use_nodata = nodata is not None and not np.isnan(nodata)
    fill = float(nodata) if (use_nodata and nodata is not None) else 0.0
    limit = float(threshold) if threshold is not None else np.inf
    parts = max(1, numba.get_num_threads()) * 4
    with _PARALLEL:
        total, count, vmax, vmin, above, exposed = fused(
            flat, zone, n, fill, use_nodata, limit, w, weights is not None, parts
        )
    # merge the per-slice accumulators; column 0 is "no union"
    return (
        total.sum(axis=0)[1:],
        count.sum(axis=0)[1:],
        vmax.max(axis=0)[1:],
        vmin.min(axis=0)[1:],
        above.sum(axis=0)[1:],
        exposed.sum(axis=0)[1:],
    )
