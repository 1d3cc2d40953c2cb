"""ADM3 P-codes: BBS 2020 (`BD554909`, used by the frameworks) <-> COD-AB 2025 (`BD55490009`)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from agam.core.errors import BoundaryError

CROSSWALK_FILE = "adm3_crosswalk_2020_2025.csv"


@dataclass(frozen=True)
class CrosswalkRow:
    adm3_pcode_2020: str
    adm3_en_2020: str
    adm2_pcode: str
    adm3_pcode_2025: str
    adm3_en_2025: str
    match: str


@lru_cache(maxsize=1)
def crosswalk_rows() -> tuple[CrosswalkRow, ...]:
    text = resources.files("boundaries").joinpath("data", CROSSWALK_FILE).read_text("utf-8")
    return tuple(CrosswalkRow(**row) for row in csv.DictReader(text.splitlines()))


@lru_cache(maxsize=1)
def _maps() -> tuple[dict[str, str], dict[str, str]]:
    to_new = {r.adm3_pcode_2020: r.adm3_pcode_2025 for r in crosswalk_rows() if r.adm3_pcode_2025}
    to_old = {new: old for old, new in to_new.items()}
    return to_new, to_old


def to_2025(code_2020: str) -> str | None:
    return _maps()[0].get(code_2020)


def to_2020(code_2025: str) -> str | None:
    return _maps()[1].get(code_2025)


def adm3_to_2020(code: str) -> str:
    """Accept either scheme and return the BBS 2020 ADM3 code the union layer uses."""
    code = code.strip().upper()
    if len(code) == 8 and code in _maps()[0]:
        return code
    if len(code) == 10:
        old = to_2020(code)
        if old:
            return old
    known = {r.adm3_pcode_2020 for r in crosswalk_rows()}
    if code in known:
        return code
    raise BoundaryError(f"unknown ADM3 P-code {code!r} (neither BBS 2020 nor COD-AB 2025)")
