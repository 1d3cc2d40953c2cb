"""The compiled row hasher gives hashlib's digests for every length, every byte and every
offset layout, refuses offsets outside its data, and falls back to hashlib where OpenSSL's
functions cannot be loaded."""

from __future__ import annotations

import hashlib

import numpy as np
import pyarrow as pa
import pytest

from agam.core import row_sha256
from agam.core.arrow_bytes import utf8_buffers
from agam.core.row_sha256 import COMPILED_FROM_ROWS, hex_sha256


def _expected(values: list[bytes]) -> bytes:
    return b"".join(hashlib.sha256(v).hexdigest().encode() for v in values)


def _values(rows: int, seed: int) -> list[bytes]:
    """Lengths around SHA-256's block edges (55, 56, 63, 64, 65, 119, 120, 128) and empty
    values among random ones, random bytes (0x00 and 0xff included)."""
    rng = np.random.default_rng(seed)
    edges = [0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 1000]
    lengths = np.concatenate([edges, rng.integers(0, 300, rows - len(edges))])
    return [rng.integers(0, 256, int(n), dtype=np.uint8).tobytes() for n in lengths]


def _buffers(values: list[bytes], lead: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Offsets into one byte buffer that starts with `lead` bytes no value uses."""
    data = b"\xaa" * lead + b"".join(values)
    ends = np.cumsum([0, *map(len, values)]).astype(np.int64) + lead
    return ends, np.frombuffer(data, dtype=np.uint8)


def test_the_compiled_path_gives_hashlibs_digests() -> None:
    assert row_sha256._compiled() is not None, "OpenSSL's SHA-256 and numba load here"
    values = _values(COMPILED_FROM_ROWS + 5, seed=3)
    offsets, data = _buffers(values, lead=7)
    assert hex_sha256(offsets, data) == _expected(values)


def test_small_inputs_go_through_hashlib_with_the_same_digests(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    values = _values(50, seed=4)
    offsets, data = _buffers(values)
    monkeypatch.setattr(row_sha256, "_compiled", lambda: pytest.fail("compiled for 50 rows"))
    assert hex_sha256(offsets, data) == _expected(values)


def test_without_openssls_functions_hashlib_hashes_every_row(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(row_sha256, "_kernel", [None])  # as when the library did not load
    values = _values(COMPILED_FROM_ROWS + 1, seed=5)
    offsets, data = _buffers(values)
    assert hex_sha256(offsets, data) == _expected(values)


def test_an_arrow_string_slice_hashes_its_own_utf8_bytes() -> None:
    """The registry's way in: the offsets of a sliced Arrow array do not start at 0."""
    texts = [f"রহিম খাতুন\x1f{i}\x1f" + "x" * (i % 90) for i in range(COMPILED_FROM_ROWS + 9)]
    sliced = pa.array(texts).slice(4, COMPILED_FROM_ROWS + 3)
    ends, data = utf8_buffers(sliced)
    got = hex_sha256(np.frombuffer(ends, dtype=np.int64), data)
    assert got == _expected([t.encode() for t in texts[4 : 4 + COMPILED_FROM_ROWS + 3]])


@pytest.mark.parametrize("where", ["past the end", "before the start", "backwards"])
def test_offsets_outside_the_data_are_refused_before_any_byte_is_read(where: str) -> None:
    values = _values(COMPILED_FROM_ROWS, seed=6)
    offsets, data = _buffers(values)
    bad = offsets.copy()
    if where == "past the end":
        bad[-1] = len(data) + 1
    elif where == "before the start":
        bad[0] = -1
    else:
        bad[10], bad[11] = bad[11], bad[10]
    with pytest.raises(ValueError, match="outside the data"):
        hex_sha256(bad, data)


def test_no_values_no_bytes() -> None:
    assert hex_sha256(np.zeros(1, np.int64), np.zeros(0, np.uint8)) == b""
