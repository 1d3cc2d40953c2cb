"""The printable-ASCII fast path finds exactly the cells Arrow's Unicode kernels find."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from allowances import cell_hygiene
from allowances.cell_hygiene import unsafe_cells

ALPHABET = [" ", " ", "=", "+", "-", "@", "a", "Z", "0", "7", ".", "(", "~"]
ODD = ["\t", "\x7f", "\x00", "\u00a0", "ব", "\u202e", "\u2003", "\r"]


def _cells(rng: np.random.Generator, n: int, alphabet: list[str]) -> list[str | None]:
    cells: list[str | None] = []
    for _ in range(n):
        if rng.random() < 0.1:
            cells.append(None)
            continue
        size = int(rng.integers(0, 6))
        cells.append("".join(rng.choice(alphabet, size)))
    return cells


@pytest.mark.parametrize("seed", range(6))
def test_the_fast_path_agrees_with_the_unicode_kernels(seed: int) -> None:
    rng = np.random.default_rng(seed)
    cells = pa.array(_cells(rng, 5_000, ALPHABET), pa.string())
    for arr in (cells, cells.slice(37, 3_000)):  # offsets into a shared buffer too
        fast = cell_hygiene._ascii_unsafe(arr)
        assert fast is not None
        reference = cell_hygiene._unicode_unsafe(arr)
        assert (fast[0] == reference[0]).all()
        assert (fast[1] == reference[1]).all()
        assert fast[1].any()  # the sample has formulas to find


@pytest.mark.parametrize("odd", ODD)
def test_a_column_with_any_other_character_takes_the_unicode_path(odd: str) -> None:
    rng = np.random.default_rng(len(odd))
    cells = _cells(rng, 200, ALPHABET)
    cells[17] = f"{odd}=1+1"
    arr = pa.array(cells, pa.string())
    assert cell_hygiene._ascii_unsafe(arr) is None
    control, formula = unsafe_cells(arr)
    reference = cell_hygiene._unicode_unsafe(arr)
    assert (control == reference[0]).all()
    assert (formula == reference[1]).all()


def test_cells_that_must_be_refused() -> None:
    arr = pa.array(["=SUM(A1)", "  +88017", "a-b", None, "", "   ", "@x", "ok", " -1"])
    control, formula = unsafe_cells(arr)
    assert not control.any()
    assert formula.tolist() == [True, True, False, False, False, False, True, False, True]
    _, phone = unsafe_cells(arr, phone=True)  # a wallet number may start with +
    assert phone.tolist() == [True, False, False, False, False, False, True, False, True]


def test_invisible_marks_and_separators_are_control_characters_bangla_joiners_are_not() -> None:
    from agam.core.typed_text import hidden_characters

    cells = ["a\u2028b", "a\u200eb", "\u061cx", "x\U000e0041", "র\u200dযাব", "a\u200cb", "ok"]
    control, _ = unsafe_cells(pa.array(cells))
    assert control.tolist() == [True, True, True, True, False, False, False]
    assert [hidden_characters(c) for c in cells] == control.tolist()
