"""Cells that must not enter or leave the system as they are: control characters and
formula-like text (CSV injection), found vectorised over a whole column.

A column whose bytes are all printable ASCII (most of a registry: ids, digits, codes) is
checked on its UTF-8 buffer with NumPy: no control character can be in it, and a formula
is a cell whose first non-space byte is = + - or @. Other columns go through Arrow's Unicode
kernels. Both give the same masks (tests compare them cell by cell).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from agam.core.arrow_bytes import utf8_arrays
from agam.core.typed_text import CONTROL_RE2
from allowances import normalise as nz

# Cells refused in every column whatever follows (CSV injection): = + - @ first, after any
# white space (a leading tab or CR is a control character, below). A wallet number may start
# with + when only a phone number follows.
FORMULA_STARTS = pa.array(["=", "+", "-", "@"])
LEADING_SPACES = (
    "\t\n\x0b\x0c\r \u00a0"
    + "".join(map(chr, range(0x2000, 0x200C)))
    + ("\u202f\u205f\u3000\ufeff")
)
PHONE_LIKE = rf"^[{nz.SPACES}]*\+[0-9{nz.BANGLA_DIGITS}{nz.SPACES}\-().]*$"
# a count or a year written negative: no spreadsheet runs it, and its own check names it
NEGATIVE_NUMBER = rf"^[{nz.SPACES}]*-[0-9{nz.BANGLA_DIGITS}]+[{nz.SPACES}]*$"

_FORMULA_BYTE = np.zeros(256, dtype=bool)
_FORMULA_BYTE[[ord(c) for c in FORMULA_STARTS.to_pylist()]] = True


def unsafe_cells(
    arr: pa.Array, phone: bool = False, number: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """(control-character mask, formula-like mask) of raw text cells; nulls are neither.
    Cheap checks first, the regular expressions only on the few cells they leave. `phone`:
    +8801… is not a formula; `number`: -3 is not one either."""
    masks = _ascii_unsafe(arr)
    control, formula = _unicode_unsafe(arr) if masks is None else masks
    if phone:
        formula &= ~matched_where(arr, formula, PHONE_LIKE)
    if number:
        formula &= ~matched_where(arr, formula, NEGATIVE_NUMBER)
    return control, formula


def matched_where(arr: pa.Array, candidates: np.ndarray, pattern: str) -> np.ndarray:
    """`pattern` matched on the candidate cells only (the rest are False)."""
    out = np.zeros(len(arr), dtype=bool)
    if candidates.any():
        idx = np.flatnonzero(candidates)
        out[idx] = nz.to_mask(pc.match_substring_regex(arr.take(pa.array(idx)), pattern))
    return out


def _unicode_unsafe(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    printable = nz.to_mask(pc.fill_null(pc.utf8_is_printable(arr), True))
    control = matched_where(arr, ~printable, CONTROL_RE2)
    return control, _formula_after_spaces(arr)


def _formula_after_spaces(arr: pa.Array) -> np.ndarray:
    """Arrow's Unicode kernels: is the first character after any leading white space a
    formula start?"""
    first = pc.utf8_slice_codeunits(pc.utf8_ltrim(arr, characters=LEADING_SPACES), 0, 1)
    return nz.to_mask(pc.is_in(first, value_set=FORMULA_STARTS))


def _ascii_unsafe(arr: pa.Array) -> tuple[np.ndarray, np.ndarray] | None:
    """The masks of a column whose buffer is printable ASCII only, else None. Only a space
    can lead such a cell, so its first other byte decides."""
    n = len(arr)
    if n == 0:
        return np.zeros(0, dtype=bool), np.zeros(0, dtype=bool)
    offsets, data = utf8_arrays(arr)
    if not nz.printable_ascii(data):
        return None
    formula = np.zeros(n, dtype=bool)
    if _FORMULA_BYTE[data].any():  # then some cell may be one
        starts, ends = offsets[:-1], offsets[1:]
        filled = np.flatnonzero(ends > starts)
        first = data[starts[filled]]  # each non-empty cell's first byte
        formula[filled] = _FORMULA_BYTE[first]
        spaced = filled[first == ord(" ")]  # rare: its first other byte decides
        if len(spaced):
            formula[spaced] = _formula_after_spaces(arr.take(pa.array(spaced)))
        formula &= nz.present(arr)
    return np.zeros(n, dtype=bool), formula
