"""The UTF-8 bytes of an Arrow string array, straight from its buffers (no Python string per
value): for hashing rows, or all of them at once."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def utf8_buffers(array: pa.Array | pa.ChunkedArray) -> tuple[memoryview, memoryview]:
    """(offsets, data) of a non-empty string (or binary) array: value i is
    data[offsets[i]:offsets[i+1]] (offsets as 64-bit integers, len(array) + 1 of them)."""
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    binary = pa.types.is_binary(array.type) or pa.types.is_large_binary(array.type)
    large = array.cast(pa.large_binary() if binary else pa.large_string())
    _, offsets_buf, data_buf = large.buffers()
    offsets = memoryview(offsets_buf).cast("q")[large.offset : large.offset + len(large) + 1]
    data = memoryview(data_buf) if data_buf is not None else memoryview(b"")
    return offsets, data


def utf8_arrays(array: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """(offsets, data) of a non-empty string array as NumPy arrays, offsets rebased so value i
    is data[offsets[i]:offsets[i+1]] (no copy of the text)."""
    offsets_view, data_view = utf8_buffers(array)
    offsets = np.frombuffer(offsets_view, dtype=np.int64)
    data = np.frombuffer(data_view, dtype=np.uint8)[offsets[0] : offsets[-1]]
    return offsets - offsets[0], data


HASH_MULTIPLIER = 0x9E3779B97F4A7C15  # odd, so invertible modulo 2**64
LENGTH_MIX = 0xC2B2AE3D27D4EB4F
_POWER_TABLES: list[tuple[np.ndarray, np.ndarray]] = []  # the longest (P**i, P**-i) kept
KEPT_POWERS = 1 << 22  # 64 MiB for both tables; longer buffers compute their own


def _powers(n: int) -> tuple[np.ndarray, np.ndarray]:
    """P**i and P**-i modulo 2**64 for i < n, computed once (a million at least) and kept
    for later calls up to KEPT_POWERS; read-only, so threads may share them."""
    if _POWER_TABLES and len(_POWER_TABLES[-1][0]) >= n:
        powers, inverse = _POWER_TABLES[-1]
        return powers[:n], inverse[:n]
    size = max(n, 1 << 20)
    with np.errstate(over="ignore"):
        powers = np.full(size, HASH_MULTIPLIER, dtype=np.uint64)
        powers[0] = 1
        powers = np.cumprod(powers, dtype=np.uint64)
        inverse = np.full(size, pow(HASH_MULTIPLIER, -1, 2**64), dtype=np.uint64)
        inverse[0] = 1
        inverse = np.cumprod(inverse, dtype=np.uint64)
    powers.flags.writeable = False
    inverse.flags.writeable = False
    if size <= KEPT_POWERS:
        _POWER_TABLES[:] = [(powers, inverse)]
    return powers[:n], inverse[:n]


def string_hashes(array: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A 64-bit hash per string (nulls hash as empty), vectorised over the UTF-8 buffer with
    prefix sums: equal strings always get equal hashes; different strings rarely do (a
    polynomial hash modulo 2**64, not for adversaries: callers confirm a match exactly)."""
    if len(array) == 0:
        return np.zeros(0, dtype=np.uint64)
    offsets, data = utf8_arrays(pc.fill_null(array, ""))
    powers, inverse = _powers(len(data) + 1)
    with np.errstate(over="ignore"):
        prefix = np.zeros(len(data) + 1, dtype=np.uint64)
        np.cumsum((data.astype(np.uint64) + np.uint64(1)) * powers[:-1], out=prefix[1:])
        starts, ends = offsets[:-1], offsets[1:]
        hashed = (prefix[ends] - prefix[starts]) * inverse[starts]
        lengths = (ends - starts).astype(np.uint64)
        return np.asarray(hashed ^ (lengths * np.uint64(LENGTH_MIX)), dtype=np.uint64)
