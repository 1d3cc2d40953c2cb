"""Plain-ASCII columns skip NFC and the white-space regex: the cleaned text is exactly what
the Unicode path gives, for every cell (fuzzed, with offsets into shared buffers)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from allowances import normalise as nz

PLAIN = [" ", " ", "a", "Z", "0", "9", "-", ".", "="]
UNICODE = ["\t", "\u00a0", "\u2003", "e\u0301", "৭", "\ufeff", "ক", "\n"]


def _unicode_clean_text(arr: pa.Array) -> pa.Array:
    arr = pc.utf8_normalize(arr, form="NFC")
    arr = pc.replace_substring_regex(arr, f"[{nz.SPACES}]+", " ")
    return nz.null_if_empty(pc.utf8_trim_whitespace(arr))


def _unicode_ascii_digits(arr: pa.Array) -> pa.Array:
    for value, digit in enumerate(nz.BANGLA_DIGITS):
        arr = pc.replace_substring(arr, digit, str(value))
    return arr


def _column(seed: int, alphabet: list[str]) -> pa.Array:
    rng = np.random.default_rng(seed)
    cells = [
        None if rng.random() < 0.1 else "".join(rng.choice(alphabet, int(rng.integers(0, 7))))
        for _ in range(3_000)
    ]
    return pa.array(cells, pa.string())


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("extra", [[], ["e\u0301"], ["\t"], ["৭"], ["\u00a0"]])
def test_cleaning_is_the_same_on_either_path(seed: int, extra: list[str]) -> None:
    column = _column(seed, PLAIN + extra)
    for arr in (column, column.slice(11, 2_000)):
        assert nz.clean_text(arr).equals(_unicode_clean_text(arr))
        assert nz.ascii_digits(arr).equals(_unicode_ascii_digits(arr))


def test_only_plain_single_spaced_ascii_takes_the_fast_path() -> None:
    assert nz._plain_ascii(pa.array(["a b", None, ""]), single_spaced=True)
    assert not nz._plain_ascii(pa.array(["a  b"]), single_spaced=True)
    assert nz._plain_ascii(pa.array(["a  b"]))
    for odd in UNICODE:
        assert not nz._plain_ascii(pa.array(["ok", f"x{odd}y"]))
