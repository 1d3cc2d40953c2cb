"""A registry import's errors in bounded memory: the first ones held, all counted, all kept for
a quarantine; ragged lines and repeated ids among them."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select

from allowances import registry_check
from allowances.registry_errors import FIELD_ORDER, ErrorLog, Ragged
from allowances.registry_import import import_registry
from allowances.registry_staging import Staging
from boundaries.layer import UnionLayer
from store.db import Store
from store.models import Beneficiary, RegistryQuarantine

from .test_registry_import import T1

FIELDS = ["beneficiary_id", "programme", "nid", "sex", "adm4_pcode", "wallet_number"]


def _reference(errors: list[tuple[int, str, str]], ragged: Ragged, rows: Callable) -> pd.DataFrame:
    """Every error with its row, by row then field: what the log must agree with."""
    frame = pd.DataFrame(errors, columns=["_index", "field", "reason"])
    frame["row"] = rows(frame["_index"].to_numpy(np.int64))
    frame = pd.concat([frame.drop(columns="_index"), ragged.frame()], ignore_index=True)
    frame["_order"] = frame["field"].map(FIELD_ORDER).fillna(-1)
    frame = frame.sort_values(["row", "_order"]).drop(columns="_order")
    return frame[["row", "field", "reason"]].reset_index(drop=True)


def _triples(frame: pd.DataFrame) -> list[tuple[int, str, str]]:
    return [
        (int(r), str(f), str(m))
        for r, f, m in zip(frame["row"], frame["field"], frame["reason"], strict=True)
    ]


def _random_file(seed: int) -> tuple[list[list[tuple[int, str, str]]], Ragged, Callable]:
    """Chunks of errors in file order (positions random within each chunk, fields in any
    order), repeated-id errors anywhere at the end, ragged lines between the records."""
    rng = np.random.default_rng(seed)
    records, chunk = 400, 37
    chunks: list[list[tuple[int, str, str]]] = []
    for start in range(0, records, chunk):
        errors = []
        for field in rng.permutation(FIELDS[1:]):
            bad = rng.choice(np.arange(start, min(start + chunk, records)), rng.integers(0, 9))
            errors += [(int(i), str(field), f"{field} wrong at {i}") for i in np.unique(bad)]
        chunks.append(errors)
    later = np.unique(rng.integers(0, records, 30))
    chunks.append([(int(i), "beneficiary_id", f"same as {i // 2}") for i in later])
    lines = np.unique(rng.integers(2, records + 40, 25))
    skip = lines - 2 - np.arange(len(lines))

    def rows(index: np.ndarray) -> np.ndarray:
        return index + 2 + np.searchsorted(skip, index, side="right")

    return chunks, Ragged(lines, rng.integers(1, 30, len(lines)), 23), rows


def _add(log: ErrorLog, chunks: list[list[tuple[int, str, str]]]) -> None:
    for errors in chunks:
        frame = pd.DataFrame(errors, columns=["_index", "field", "reason"])
        for field, part in frame.groupby("field", sort=False):
            log.add(part["_index"].to_numpy(), str(field), part["reason"].tolist())


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("keep", [0, 1, 7, 40, 10_000])
def test_the_log_holds_exactly_the_first_errors_and_counts_them_all(seed: int, keep: int) -> None:
    chunks, ragged, rows = _random_file(seed)
    log = ErrorLog(keep)
    _add(log, chunks)
    every = [e for errors in chunks for e in errors]
    expected = _reference(every, ragged, rows)
    assert _triples(log.head(rows, ragged)) == _triples(expected.head(keep))
    assert log.total == len(every)
    assert log.bad.count == len({i for i, _, _ in every})
    marked = log.bad.of(np.arange(500))
    assert set(np.flatnonzero(marked)) == {i for i, _, _ in every}


def test_a_quarantine_log_gives_back_every_error(tmp_path: Path) -> None:
    chunks, ragged, rows = _random_file(4)
    with Staging(tmp_path) as staging:
        log = ErrorLog(3, staging.spill())
        _add(log, chunks)
        every = pd.concat(list(log.every(rows, ragged)), ignore_index=True)
    expected = _reference([e for errors in chunks for e in errors], ragged, rows)
    assert sorted(_triples(every)) == sorted(_triples(expected))
    with pytest.raises(ValueError, match="no spill"):
        next(ErrorLog(3).every(rows, ragged))


@pytest.fixture
def messy_csv(write_csv: Callable[[str, list[str]], Path], make_row: Callable[..., str]) -> Path:
    """60 rows: every third bad in two fields, every fifth a ragged line, ids repeated."""
    lines = []
    for i in range(60):
        fields = {"beneficiary_id": f"M{i % 45:03d}", "household_id": f"H{i:03d}"}
        if i % 3 == 0:
            fields |= {"programme": "wdow", "nid": "12ab"}
        line = make_row(**fields, wallet_number=f"017110{i:05d}")
        lines.append(line + ",extra" if i % 5 == 1 else line)
    return write_csv("messy.csv", lines)


def test_a_small_error_limit_keeps_the_first_errors_and_the_whole_count(
    store: Store, union_layer: UnionLayer, messy_csv: Path
) -> None:
    full = import_registry(store, messy_csv, union_layer, at=T1)
    first = import_registry(store, messy_csv, union_layer, at=T1, error_limit=4)
    assert full.status == first.status == "rejected"
    assert first.errors_total == full.errors_total == len(full.errors)
    assert first.errors == full.errors[:4]
    rows = [e.row for e in full.errors]
    assert rows == sorted(rows)
    kinds = {(e.field, e.reason.split(" as ")[0]) for e in full.errors}
    assert ("row", "24 fields, expected 23") in kinds
    assert ("beneficiary_id", "same beneficiary_id") in kinds


def test_a_quarantine_records_every_error_whatever_the_limit(
    store: Store, union_layer: UnionLayer, messy_csv: Path, tmp_path: Path
) -> None:
    whole = Store(f"sqlite:///{tmp_path / 'whole.sqlite3'}")
    whole.upgrade()
    held = {}
    for target, limit in ((store, 2), (whole, 100_000)):
        report = import_registry(
            target, messy_csv, union_layer, quarantine=True, at=T1, error_limit=limit
        )
        assert len(report.errors) == min(limit, report.errors_total)
        with target.session() as session:
            quarantined = session.scalars(select(RegistryQuarantine)).all()
            held[limit] = sorted((q.row_number, q.field, q.reason) for q in quarantined)
            imported = set(session.scalars(select(Beneficiary.beneficiary_id)))
        assert len(held[limit]) == report.errors_total
        assert report.quarantined == len({row for row, _, _ in held[limit]})
        assert report.inserted == len(imported) == report.total - report.quarantined
    assert held[2] == held[100_000]


def test_repeated_ids_read_back_a_few_hashes_at_a_time_give_the_same_errors(
    store: Store,
    union_layer: UnionLayer,
    messy_csv: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    at_once = import_registry(store, messy_csv, union_layer, at=T1)
    monkeypatch.setattr(registry_check, "REPEATS_AT_ONCE", 1)
    one_by_one = import_registry(store, messy_csv, union_layer, at=T1)
    assert one_by_one.errors == at_once.errors
    repeats = [e for e in at_once.errors if e.field == "beneficiary_id"]
    assert len(repeats) > 5


def test_a_file_of_bad_rows_holds_the_first_errors_not_all_of_them() -> None:
    """Two million errors (every row of a national file bad in a field) with 1,000 kept: what
    the log allocates stays near one chunk's worth; holding them all took 16 bytes an error
    for the positions alone, and a Python reference per reason beside them."""
    chunk, chunks = 20_000, 100
    log = ErrorLog(1_000)
    reasons = ["unknown union code"] * chunk
    tracemalloc.start()
    try:
        for start in range(0, chunk * chunks, chunk):
            log.add(np.arange(start, start + chunk), "adm4_pcode", reasons)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert log.total == log.bad.count == chunk * chunks
    assert peak < 6 * 2**20  # the bitmap (2 MB) and a chunk or two; all of them: 18 MB
